"""Melody quality without audio: the evaluation's symbolic half, in about a minute.

Generates the tune (see ``overture.evaluate.report.tune_notes``) of every development prompt
for a few seeds, and prints, against the held-out human melodies: the Fréchet distance (and
the first-order Markov and random baselines'), MGEval overlapping areas per feature, the
feature shifts that drive the distance, and the human band of the key metrics.

    .venv/bin/python bench/melody_quality.py [PROMPTS.json] [--seeds N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from overture.evaluate.baselines import MarkovBaseline, Target, random_in_key, rng_for
from overture.evaluate.frechet import FEATURE_NAMES, feature_table, frechet_features, mean_shift
from overture.evaluate.metrics import melody_metrics
from overture.evaluate.mgeval import compare_sets
from overture.evaluate.report import _lead, load_human
from overture.learn.melody_model import MelodyModel
from overture.pipeline import generate

DEFAULT_PROMPTS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "prompts.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prompts", nargs="?", default=str(DEFAULT_PROMPTS))
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    prompts = json.loads(Path(args.prompts).read_text(encoding="utf-8"))["prompts"]
    human, _ = load_human()
    markov = MarkovBaseline.from_model(MelodyModel.load())
    sets: dict[str, list] = {"generated": [], "markov": [], "random": []}
    t0 = time.perf_counter()
    for p in prompts:
        for seed in range(args.seeds):
            lead = _lead(generate(p["prompt"], seed=seed))
            if lead is None:
                continue
            target = Target.like(lead)
            sets["generated"].append(lead)
            sets["markov"].append(markov.generate(target, rng_for("markov", seed, p["id"])))
            sets["random"].append(random_in_key(target, rng_for("random", seed, p["id"])))
    seconds = time.perf_counter() - t0
    n = len(sets["generated"])
    print(f"{n} tunes from {len(prompts)} prompts in {seconds:.1f} s; {len(human)} human")
    hf = feature_table(human)
    for name, ms in sets.items():
        fd = frechet_features(feature_table(ms), hf)
        oa = {f: c.oa for f, c in compare_sets(ms, human).items()}
        low = min(oa, key=lambda f: oa[f] if oa[f] is not None else -1)
        print(f"{name:9s} FD {fd:7.2f}   lowest OA {low} {oa[low]:.3f}")
    print("\nMGEval OA (generated):")
    for f, c in compare_sets(sets["generated"], human).items():
        print(f"  {f:28s} {c.oa:.3f}")
    print("\nfeature shift of generated tunes, in human sd:")
    z = mean_shift(feature_table(sets["generated"]), hf)
    for f, v in sorted(zip(FEATURE_NAMES, z, strict=True), key=lambda x: -abs(x[1])):
        print(f"  {f:24s} {v:+.2f}")
    print("\nmetric          generated          human band")
    gm = [melody_metrics(m) for m in sets["generated"]]
    hm = [melody_metrics(m) for m in human]
    for key in ("pitch_class_entropy", "scale_consistency", "groove_consistency"):
        # NaN where a metric is undefined (groove consistency of a one-bar jingle).
        g = np.array([m[key] for m in gm])
        h = np.array([m[key] for m in hm])
        g_mean, g_sd, h_mean, h_sd = np.nanmean(g), np.nanstd(g), np.nanmean(h), np.nanstd(h)
        inside = abs(g_mean - h_mean) <= h_sd
        print(
            f"  {key:22s} {g_mean:.3f} ± {g_sd:.3f}   {h_mean:.3f} ± {h_sd:.3f}"
            f"   {'inside' if inside else 'OUTSIDE'}"
        )


if __name__ == "__main__":
    main()
