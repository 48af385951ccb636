"""The ``overture eval`` command (registered on the main ``overture`` group)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from overture.errors import OvertureError


class _Line:
    """One rich progress line on stderr when it is a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.progress: Any = None
        self.task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description:<40}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> _Line:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("starting", total=1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, stage: str, fraction: float) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=stage[:40], completed=min(1.0, fraction))


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
        with _Line(sys.stderr.isatty()) as line:
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
