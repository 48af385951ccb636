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

``--plot FILE`` draws the curves, ``--json FILE`` keeps the table.

    .venv/bin/python bench/thinking.py [PROMPTS.json] [--seeds N] [--budgets 1,2,4,8,16]
        [--audio] [--plot out.png] [--json out.json]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts", nargs="?", default=str(DEFAULT_PROMPTS))
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--budgets", default="1,2,4,8,16")
    ap.add_argument("--audio", action="store_true", help="render, and check the audio")
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
    print(
        f"{'think':>6} {'budget':>6} {'score':>6} {'retract%':>8} {'s/song':>7} "
        f"{'FD':>6} {'minOA':>6} {'band dist':>9}" + ("  adherence" if args.audio else "")
    )
    for budget in budgets:
        scores, tunes, retracted, sections, seconds = [], [], 0, 0, 0.0
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
        fd = frechet_features(feature_table(tunes), hf)
        oa = min(c.oa for c in compare_sets(tunes, human).values())
        gm = [melody_metrics(m) for m in tunes]
        dist = np.mean(
            [abs(np.nanmean([m[k] for m in gm]) - band[k][0]) / band[k][1] for k in BAND_METRICS]
        )
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
        }
        if args.audio:
            row["adherence"] = met / max(1, made)
        rows.append(row)
        print(
            f"{row['think']:>6} {budget:>6} {row['score']:6.3f} {100 * row['retracted']:7.1f}% "
            f"{row['seconds']:7.2f} {row['fd']:6.2f} {row['min_oa']:6.3f} {dist:9.3f}"
            + (f"  {met}/{made}" if args.audio else ""),
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 3, figsize=(12, 3.5))
        b = [r["budget"] for r in rows]
        ax[0].plot(b, [r["score"] for r in rows], "o-")
        ax[0].set(xscale="log", xlabel="drafts per section", ylabel="combined critic score")
        ax[1].plot(b, [r["fd"] for r in rows], "o-", color="C1")
        ax[1].set(xscale="log", xlabel="drafts per section", ylabel="FD to human (lower better)")
        ax[2].plot(b, [r["seconds"] for r in rows], "o-", color="C2")
        ax[2].set(xscale="log", xlabel="drafts per section", ylabel="seconds per song")
        for a in ax:
            a.set_xticks(b, [str(x) for x in b])
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
