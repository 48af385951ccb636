"""Does more thinking give better songs? The combined critic score and the evaluation's own,
independent measures, per thinking budget, over the development prompts.

For each budget (1, 2, 4, 8 and 16 drafts per section; none, low, medium and high name the
first four) every development prompt is composed for a few seeds, and the bench prints per
budget:

* ``score``: the mean combined critic score of the answer (the loop's own critics);
* ``retract%``: how often a section had a round of drafts retracted;
* ``s/song``: wall time per song (compose only; with ``--audio``, the whole song folder);
* the independent measures of ``overture eval`` on the tunes, which the loop never sees: the
  Fréchet distance to held-out human melodies (lower is better), the lowest MGEval
  overlapping area, the mean distance (in human sd) of pitch-class entropy, scale and groove
  consistency from the human mean;
* with ``--audio``: each song is rendered and its audio checked against what the prompt
  stated (tempo within 2 %, key exact or relative, duration), the share of checks met.

Every budget composes the same prompts with the same seeds, so its independent measures are
also compared with the first budget's pair by pair: ``--bootstrap N`` (default 1000)
resamples the (prompt, seed) pairs and prints the 90 % interval of the difference in FD and
in band distance. A difference whose interval holds 0 is noise at that many seeds.

``--plot FILE`` draws the curves (the bars on FD and band distance: where the first budget's
value would lie, moved by each budget's 90 % interval of change), ``--json FILE`` keeps the
table.

    .venv/bin/python bench/thinking.py [PROMPTS.json] [--seeds N] [--budgets 1,2,4,8,16]
        [--audio] [--bootstrap N] [--plot out.png] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from overture.evaluate.frechet import feature_table, frechet_features
from overture.evaluate.metrics import melody_metrics
from overture.evaluate.mgeval import compare_sets
from overture.evaluate.prompts import load_prompts
from overture.evaluate.report import _lead, adherence_checks, load_human
from overture.pipeline import generate
from overture.think import THINK_LEVELS

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "prompts.json"
BAND_METRICS = ("pitch_class_entropy", "scale_consistency", "groove_consistency")
NAMES = {budget: level for level, budget in THINK_LEVELS.items()}


def _adherence(p: Any, song: Any, out: Path) -> tuple[int, int]:
    """(checks met, checks made) of one rendered song's audio against its prompt."""
    from overture.evaluate.audio import analyse_audio

    checks = adherence_checks(p, song, analyse_audio(out / "song.flac"))
    made = [c for name, c in checks.items() if name in {"tempo", "duration", "key"}]
    return sum(bool(c["ok"]) for c in made), len(made)


def band_z(
    metrics: list[dict[str, float]], band: dict[str, tuple[float, float]]
) -> dict[str, float]:
    """Each band metric's mean, as its distance (in human sd, signed) from the human mean."""
    return {
        k: float((np.nanmean([m[k] for m in metrics]) - band[k][0]) / band[k][1])
        for k in BAND_METRICS
    }


def band_distance(metrics: list[dict[str, float]], band: dict[str, tuple[float, float]]) -> float:
    """Mean distance (in human sd) of the band metrics' means from the human means."""
    return float(np.mean([abs(z) for z in band_z(metrics, band).values()]))


def paired_interval(
    first: dict[Any, Any],
    other: dict[Any, Any],
    measure: Any,
    rounds: int,
    seed: int = 0,
) -> tuple[float, float]:
    """The 90 % bootstrap interval of ``measure(other) - measure(first)`` over the keys (a
    prompt and a seed) both have, resampled together so that each song meets its own pair."""
    keys = sorted(set(first) & set(other))
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(rounds):
        pick = [keys[i] for i in rng.integers(0, len(keys), len(keys))]
        diffs.append(measure([other[k] for k in pick]) - measure([first[k] for k in pick]))
    lo, hi = np.percentile(diffs, [5, 95])
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts", nargs="?", default=str(DEFAULT_PROMPTS))
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--budgets", default="1,2,4,8,16")
    ap.add_argument("--audio", action="store_true", help="render, and check the audio")
    ap.add_argument("--bootstrap", type=int, default=1000, help="rounds (0: none)")
    ap.add_argument("--plot", default=None, help="write the curves to this PNG")
    ap.add_argument("--json", default=None, help="write the table to this JSON file")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    _, prompts = load_prompts(args.prompts)
    human, _ = load_human()
    hf = feature_table(human)
    hm = [melody_metrics(m) for m in human]
    band = {
        k: (np.nanmean([m[k] for m in hm]), np.nanstd([m[k] for m in hm])) for k in BAND_METRICS
    }
    rows = []
    by_budget: dict[int, dict[tuple[str, int], Any]] = {}
    print(
        f"{'think':>6} {'budget':>6} {'score':>6} {'retract%':>8} {'s/song':>7} "
        f"{'FD':>6} {'minOA':>6} {'band dist':>9} {'z pce/scale/groove':>18}"
        + ("  adherence" if args.audio else "")
    )
    for budget in budgets:
        scores, tunes, retracted, sections, seconds = [], [], 0, 0, 0.0
        keyed: dict[tuple[str, int], Any] = {}
        met = made = 0
        for p in prompts:
            for seed in range(args.seeds):
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / "song" if args.audio else None
                    t = time.perf_counter()
                    song = generate(p.prompt, seed=seed, budget=budget, out=out)
                    seconds += time.perf_counter() - t
                    if out is not None:
                        m, n = _adherence(p, song, out)
                        met, made = met + m, made + n
                scores.append(song.critique["score"])
                drafts = song.trace.drafts if song.trace is not None else []
                sections += len({d.section for d in drafts})
                retracted += len({d.section for d in drafts if d.status == "retracted"})
                lead = _lead(song)
                if lead is not None:
                    tunes.append(lead)
                    keyed[(p.id, seed)] = (feature_table([lead])[0], melody_metrics(lead))
        by_budget[budget] = keyed
        fd = frechet_features(feature_table(tunes), hf)
        oa = min(c.oa for c in compare_sets(tunes, human).values())
        metrics = [m for _, m in keyed.values()]
        dist = band_distance(metrics, band)
        row = {
            "think": NAMES.get(budget, ""),
            "budget": budget,
            "songs": len(scores),
            "score": float(np.mean(scores)),
            "retracted": retracted / max(1, sections),
            "seconds": seconds / max(1, len(scores)),
            "fd": float(fd),
            "min_oa": float(oa),
            "band_distance": float(dist),
            "band_z": band_z(metrics, band),
        }
        if args.audio:
            row["adherence"] = met / max(1, made)
        rows.append(row)
        print(
            f"{row['think']:>6} {budget:>6} {row['score']:6.3f} {100 * row['retracted']:7.1f}% "
            f"{row['seconds']:7.2f} {row['fd']:6.2f} {row['min_oa']:6.3f} {dist:9.3f} "
            + "/".join(f"{z:+.2f}" for z in row["band_z"].values())
            + (f"  {met}/{made}" if args.audio else ""),
            flush=True,
        )
    if args.bootstrap and len(budgets) > 1:
        first = budgets[0]

        def fd_of(pairs: list[Any]) -> float:
            return float(frechet_features(np.vstack([f for f, _ in pairs]), hf))

        def band_of(pairs: list[Any]) -> float:
            return band_distance([m for _, m in pairs], band)

        print(f"\nagainst budget {first}, pair by pair (90 % bootstrap interval of the change):")
        for row in rows[1:]:
            b = row["budget"]
            for name, fn in (("fd", fd_of), ("band_distance", band_of)):
                lo, hi = paired_interval(by_budget[first], by_budget[b], fn, args.bootstrap)
                row[f"{name}_change_90"] = [lo, hi]
            f_lo, f_hi = row["fd_change_90"]
            b_lo, b_hi = row["band_distance_change_90"]
            print(
                f"  budget {b:>2}: FD {row['fd'] - rows[0]['fd']:+.2f} [{f_lo:+.2f}, {f_hi:+.2f}]"
                f"   band distance {row['band_distance'] - rows[0]['band_distance']:+.3f} "
                f"[{b_lo:+.3f}, {b_hi:+.3f}]"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 4, figsize=(15, 3.5))
        b = [r["budget"] for r in rows]
        ax[0].plot(b, [r["score"] for r in rows], "o-")
        ax[0].set(xscale="log", xlabel="drafts per section", ylabel="combined critic score")
        for a, name, label, colour in (
            (ax[1], "fd", "FD to human (lower better)", "C1"),
            (ax[2], "band_distance", "band distance (lower better)", "C3"),
        ):
            a.plot(b, [r[name] for r in rows], "o-", color=colour)
            # The first budget's value plus each budget's 90 % interval of its change.
            spans = [r.get(f"{name}_change_90") for r in rows[1:]]
            if all(spans):
                base = rows[0][name]
                a.vlines(
                    b[1:],
                    [base + lo for lo, _ in spans],
                    [base + hi for _, hi in spans],
                    color=colour,
                    alpha=0.35,
                    linewidth=6,
                )
            a.set(xscale="log", xlabel="drafts per section", ylabel=label)
        ax[3].plot(b, [r["seconds"] for r in rows], "o-", color="C2")
        ax[3].set(xscale="log", xlabel="drafts per section", ylabel="seconds per song")
        for a in ax:
            a.set_xticks(b, [str(x) for x in b])
            a.minorticks_off()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
