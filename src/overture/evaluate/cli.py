"""The ``overture eval`` command (registered on the main ``overture`` group)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from overture.errors import OvertureError
from overture.progress import ProgressBar


@click.command("eval")
@click.argument("prompts", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out/eval"),
    show_default=True,
    help="Folder for report.md, report.json, plots/ and songs/.",
)
@click.option("--limit", type=int, help="Evaluate only the first N prompts.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--soundfont",
    type=click.Path(path_type=Path),
    help="SF2/SF3 soundfont (default: $OVERTURE_SOUNDFONT or MuseScore General).",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
def eval_command(
    prompts: Path,
    out: Path,
    limit: int | None,
    seed: int,
    soundfont: Path | None,
    force: bool,
) -> None:
    """Generate every prompt of the PROMPTS file (JSON) and write a quality report.

    Measures adherence (tempo, duration, key, time signature) on the rendered songs, melody
    metrics against held-out human melodies and two baselines, MGEval overlap, and a Fréchet
    distance. Writes OUT/report.md, OUT/report.json, OUT/plots/ and OUT/songs/.
    """
    from overture.evaluate.markdown import headline
    from overture.evaluate.report import run_eval

    try:
        with ProgressBar(sys.stderr.isatty(), width=40) as line:
            report = run_eval(
                prompts,
                out,
                limit=limit,
                seed=seed,
                soundfont=soundfont,
                force=force,
                progress=line,
            )
    except OvertureError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    click.echo(headline(report))
    click.echo(f"report: {out / 'report.md'} ({report['run']['seconds']:.0f} s)")
