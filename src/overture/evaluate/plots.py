"""The report's figures, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from overture.evaluate.metrics import MELODY_METRICS, Notes, melody_metrics
from overture.evaluate.mgeval import FeatureComparison, gaussian_kde
from overture.theory import Key

COLOURS = {"generated": "#1f77b4", "human": "#2ca02c", "random": "#7f7f7f", "markov": "#ff7f0e"}
LABELS = {"generated": "Overture", "human": "human", "random": "random", "markov": "Markov"}
PIANO_ROLL_BARS = 16


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _piano_roll(ax: Any, notes: Notes, title: str, colour: str) -> None:
    bpb = notes.beats_per_bar
    bars = min(PIANO_ROLL_BARS, max(4, math.ceil(notes.end / bpb)))
    limit = bars * bpb
    shown = [
        (p, o, d)
        for p, o, d in zip(notes.pitches, notes.onsets, notes.durations, strict=True)
        if o < limit
    ]
    for p, o, d in shown:
        ax.add_patch(_rect((o, p - 0.4), min(d, limit - o), 0.8, colour))
    pitches = [p for p, _, _ in shown] or [60]
    ax.set_xlim(0, limit)
    ax.set_ylim(min(pitches) - 1.5, max(pitches) + 1.5)
    for bar in range(bars + 1):
        ax.axvline(bar * bpb, color="#cccccc", lw=0.6, zorder=0)
    # Ticks on the tonic and the fifth, spelled for the key; a faint line on each tonic.
    key = _key(notes)
    anchors = {key.tonic, (key.tonic + 7) % 12}
    lo, hi = min(pitches) - 1, max(pitches) + 1
    ticks = [p for p in range(lo, hi + 1) if p % 12 in anchors]
    ax.set_yticks(ticks, [f"{key.note_name(p)}{p // 12 - 1}" for p in ticks])
    for p in ticks:
        if p % 12 == key.tonic:
            ax.axhline(p, color="#eeeeee", lw=0.8, zorder=0)
    ax.set_title(title, fontsize=9, loc="left")
    ax.tick_params(labelsize=7)


def _key(notes: Notes) -> Key:
    """The melody's stated key (C major when it has none)."""
    if notes.tonic is None:
        return Key(0, "major")
    return Key(notes.tonic % 12, "minor" if notes.mode == "minor" else "major")


def _key_name(notes: Notes) -> str:
    return _key(notes).name if notes.tonic is not None else "no key"


def _rect(xy: tuple[float, float], w: float, h: float, colour: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=colour, edgecolor="black", lw=0.3)


def piano_rolls(
    path: Path, rendered: list[tuple[str, Notes]], sets: dict[str, list[Notes]]
) -> None:
    """First bars of a few rendered songs' leads beside a few human melodies."""
    plt = _pyplot()
    ids = [pid for pid, _ in rendered[:4]]
    leads = [n for _, n in rendered[:4]]
    human = sets.get("human", [])
    pick = [human[i] for i in np.linspace(0, len(human) - 1, 4).astype(int)] if human else []
    rows = max(len(leads), len(pick), 1)
    fig, axes = plt.subplots(rows, 2, figsize=(13, 2.2 * rows), squeeze=False)
    for i in range(rows):
        for j, (items, kind) in enumerate(((leads, "generated"), (pick, "human"))):
            ax = axes[i][j]
            if i < len(items):
                n = items[i]
                name = f"Overture, prompt {ids[i]}" if kind == "generated" else "human, held out"
                _piano_roll(ax, n, f"{name}: {_key_name(n)}, {len(n)} notes", COLOURS[kind])
            else:
                ax.axis("off")
    for j in range(2):
        axes[-1][j].set_xlabel("quarter notes (grey lines: bar lines)", fontsize=8)
    fig.suptitle(
        f"Lead melodies, first {PIANO_ROLL_BARS} bars at most: Overture (left), human (right)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def metric_violins(path: Path, values: dict[str, list[dict[str, float]]]) -> None:
    """One violin plot per melody metric, one violin per set (``values``: per set, the
    :func:`~overture.evaluate.metrics.melody_metrics` of each melody)."""
    plt = _pyplot()
    names = [k for k in ("generated", "human", "random", "markov") if values.get(k)]
    metrics = list(MELODY_METRICS)
    cols = 4
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(14, 2.8 * rows), squeeze=False)
    for idx, metric in enumerate(metrics):
        ax = axes[idx // cols][idx % cols]
        data, labels, colours = [], [], []
        for k in names:
            v = np.asarray([m[metric] for m in values[k]], float)
            v = v[np.isfinite(v)]
            if len(v):
                data.append(v)
                labels.append(LABELS[k])
                colours.append(COLOURS[k])
        if not data:
            ax.axis("off")
            continue
        positions = list(range(1, len(data) + 1))
        if all(np.ptp(d) > 0 for d in data):
            parts = ax.violinplot(data, positions=positions, showmedians=True)
            for body, c in zip(parts["bodies"], colours, strict=True):
                body.set_facecolor(c)
                body.set_alpha(0.6)
        else:  # a constant sample has no density: show a box plot instead
            box = ax.boxplot(data, positions=positions, patch_artist=True)
            for patch, c in zip(box["boxes"], colours, strict=True):
                patch.set_facecolor(c)
        ax.set_xticks(positions, labels, fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    for idx in range(len(metrics), rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    fig.suptitle("Melody metrics: Overture vs human vs baselines")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def mgeval_densities(path: Path, mg: dict[str, dict[str, FeatureComparison]]) -> None:
    """Per feature: density of human intra-set distances and of each set's inter-set ones."""
    plt = _pyplot()
    if not mg:
        return
    features = list(next(iter(mg.values())))
    cols = 4
    rows = math.ceil(len(features) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(14, 3.0 * rows), squeeze=False)
    for idx, feature in enumerate(features):
        ax = axes[idx // cols][idx % cols]
        first = next(iter(mg.values()))[feature]
        samples = [first.intra_reference] + [mg[k][feature].inter for k in mg]
        samples = [s for s in samples if len(s)]
        if not samples:
            ax.axis("off")
            continue
        lo = min(float(s.min()) for s in samples)
        hi = max(float(s.max()) for s in samples)
        grid = np.linspace(lo, hi if hi > lo else lo + 1.0, 400)
        ax.fill_between(
            grid,
            gaussian_kde(first.intra_reference, grid),
            color=COLOURS["human"],
            alpha=0.35,
            label="human intra-set",
        )
        for k, res in mg.items():
            c = res[feature]
            if len(c.inter):
                ax.plot(
                    grid,
                    gaussian_kde(c.inter, grid),
                    color=COLOURS[k],
                    lw=1.5,
                    label=f"{LABELS[k]} ↔ human (OA {c.oa:.2f})",
                )
        ax.set_title(feature, fontsize=9)
        ax.set_xlabel("distance", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    for idx in range(len(features), rows * cols):
        axes[idx // cols][idx % cols].axis("off")
    fig.suptitle("MGEval: distance densities (more overlap with the green area is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def frechet_bars(path: Path, report: dict[str, Any]) -> None:
    """Fréchet distance of each set to the human melodies."""
    plt = _pyplot()
    fd = report["frechet"]
    names = [k for k in ("generated", "random", "markov") if k in fd]
    values = [fd[k] for k in names]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.bar(
        [LABELS[k] for k in names],
        [v if v is not None and math.isfinite(v) else 0 for v in values],
        color=[COLOURS[k] for k in names],
    )
    for b, v in zip(bars, values, strict=True):
        if v is not None and math.isfinite(v):
            ax.annotate(
                f"{v:.2f}",
                (b.get_x() + b.get_width() / 2, b.get_height()),
                ha="center",
                va="bottom",
                fontsize=9,
            )
    ax.set_ylabel("Fréchet distance (human-sd units²)")
    ax.set_title("Fréchet distance to held-out human melodies (lower is better)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tempo_scatter(path: Path, report: dict[str, Any]) -> None:
    """Measured / stated tempo for every stated tempo, with the 2 % band and half/double."""
    plt = _pyplot()
    pts = [
        (r["checks"]["tempo"]["stated"], r["checks"]["tempo"]["estimate"], r["id"])
        for r in report["prompts"]
        if "tempo" in r["checks"]
    ]
    pts = [(s, e, pid) for s, e, pid in pts if e is not None and math.isfinite(e) and e > 0]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.axhspan(0.98, 1.02, color="#2ca02c", alpha=0.3, label="within 2 %")
    for level in (0.5, 2.0):
        ax.axhline(level, ls=":", color="#999999")
    ax.set_yscale("log")
    ratios = [e / s for s, e, _ in pts]
    low = min([0.45, *ratios]) * 0.9
    high = max([2.2, *ratios]) * 1.1
    ax.set_ylim(low, high)
    ax.set_yticks([0.5, 1.0, 2.0], ["½× (half)", "1× (stated)", "2× (double)"])
    ax.minorticks_off()
    for (stated, est, pid), ratio in zip(pts, ratios, strict=True):
        ok = abs(ratio - 1) <= 0.02
        ax.plot(stated, ratio, "o", color="#1f77b4" if ok else "#d62728")
        if not ok:
            ax.annotate(
                f"{pid}: {est:.0f}",
                (stated, ratio),
                fontsize=8,
                xytext=(4, 3),
                textcoords="offset points",
            )
    ax.set_xlabel("stated tempo (BPM)")
    ax.set_ylabel("measured / stated tempo")
    ok_count = sum(abs(r - 1) <= 0.02 for r in ratios)
    ax.set_title(
        f"Tempo by beat tracking: {ok_count} of {len(ratios)} measured songs within 2 %",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(
    folder: Path,
    report: dict[str, Any],
    sets: dict[str, list[Notes]],
    mg: dict[str, dict[str, FeatureComparison]],
    rendered: list[tuple[str, Notes]],
    metric_values: dict[str, list[dict[str, float]]] | None = None,
) -> list[str]:
    """Write every figure into ``folder``; returns their paths relative to the report."""
    folder.mkdir(parents=True, exist_ok=True)
    values = metric_values or {k: [melody_metrics(m) for m in v] for k, v in sets.items()}
    written = []
    jobs = [
        ("piano_rolls.png", lambda p: piano_rolls(p, rendered, sets)),
        ("melody_metrics.png", lambda p: metric_violins(p, values)),
        ("mgeval_distances.png", lambda p: mgeval_densities(p, mg)),
        ("frechet.png", lambda p: frechet_bars(p, report)),
        ("tempo.png", lambda p: tempo_scatter(p, report)),
    ]
    for name, job in jobs:
        job(folder / name)
        if (folder / name).exists():
            written.append(f"{folder.name}/{name}")
    return written
