"""``overture train``: rebuild the shipped models from music21's corpus."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from overture.learn import MODELS_DIR


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _progress(enabled: bool) -> Callable[[str, float], None]:
    """Progress on stderr: a line per stage and per tenth of it."""
    state = {"stage": "", "tenth": -1}

    def report(stage: str, fraction: float) -> None:
        tenth = int(10 * min(1.0, max(0.0, fraction)))
        if not enabled or (stage == state["stage"] and tenth == state["tenth"]):
            return
        state.update(stage=stage, tenth=tenth)
        click.echo(f"  {stage}: {10 * tenth}%", err=True)

    return report


def summary_lines(manifest: dict) -> list[str]:
    """The manifest's headline numbers, one per line."""
    corpus = manifest["corpus"]
    melody = manifest["heldout"]["melody"]
    harmony = manifest["heldout"]["harmony"]
    totals = {s: c["train"] + c["heldout"] for s, c in corpus["per_source"].items()}
    sources = ", ".join(f"{s} {n}" for s, n in totals.items() if n)
    orders = "  ".join(
        f"{k}: {v['pitch']:.2f}/{v['duration']:.2f}" for k, v in melody["ltm_by_order"].items()
    )
    full = melody["full"]
    lines = [
        f"corpus: {corpus['melodies']} melodies, {corpus['notes']} notes ({sources}); "
        f"train {corpus['split']['train']}, held out {corpus['split']['heldout']}",
        f"held-out melody cross-entropy, bits/note pitch/duration, corpus model by order: {orders}",
        f"held-out melody cross-entropy with the short-term model (order {full['order']}): "
        f"pitch {full['pitch']:.2f}, duration {full['duration']:.2f}, joint {full['joint']:.2f}",
        f"held-out harmony log-loss: {harmony['bits_per_chord']:.2f} bits/chord "
        f"({harmony['chorales']} chorales, {harmony['symbols']} chords)",
    ]
    timings = manifest.get("timings")
    if timings:
        lines.append(
            f"time: extract {timings['extract_s']:.0f} s, train {timings['train_s']:.0f} s, "
            f"evaluate {timings['evaluate_s']:.0f} s"
        )
    return lines


@click.command("train")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=MODELS_DIR,
    show_default=True,
    help="Folder for melodies.npz, the models and manifest.json.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the held-out split.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Use only N pieces (a quick slice)."
)
@click.option(
    "--workers", type=click.IntRange(min=1, max=64), default=2, show_default=True,
    help="Processes for parsing and scoring.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def train_command(out: Path, seed: int, limit: int | None, workers: int, quiet: bool) -> None:
    """Learn the melody and harmony models from music21's bundled corpus."""
    from overture.learn.train import train

    try:
        manifest = train(
            out, seed=seed, limit=limit, workers=workers, progress=_progress(not quiet)
        )
    except (OSError, RuntimeError, ValueError) as exc:
        _fail(str(exc))
        return
    for line in summary_lines(manifest):
        click.echo(line)
    click.echo(f"wrote {Path(out) / 'manifest.json'} and the models beside it")


train = train_command
