"""One number from several critics, standardised so that no single critic can be gamed.

Raw critic scores live on different scales: a theory score of 0.9 is ordinary, a likelihood
score of 0.9 is excellent. Each raw score is therefore turned into a z-score against that
critic's reference mean and spread over many drafts or songs (``calibration.json``, built by
``python -m overture.critique.calibrate``), clipped to ±3 so that one critic's outlier cannot
carry the total, weighted (equal weights by default), averaged, and mapped back into [0, 1]
by the standard normal CDF. A combined 0.5 is an ordinary draft; all critics one standard
deviation better than usual give 0.84. One critic at its best with the others ordinary moves
the average by at most 3 / n standard deviations, so it can never lift the total near 1.

Every critic's raw score, z-score, weight and contribution (its share of the averaged z) is
reported, so the loop can say why one draft beat another.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from overture.critique.reference import reference
from overture.critique.verdict import Verdict

Z_CLIP = 3.0


@dataclass(frozen=True, slots=True)
class Combined:
    score: float  # in [0, 1]
    # Per critic: {"score": raw, "z": standardised, "weight": w, "contribution": w * z / sum w,
    # "mean": reference mean, "sd": reference sd}
    contributions: dict[str, dict[str, float]]


def standardise(v: Verdict) -> float:
    """``v``'s z-score against its critic's reference for its scope, clipped to ±3."""
    mean, sd = reference(v.scope, v.critic)
    return max(-Z_CLIP, min(Z_CLIP, (v.score - mean) / sd))


def normal_cdf(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def combine(
    verdicts: Mapping[str, Verdict], weights: Mapping[str, float] | None = None
) -> Combined:
    """The weighted mean of the critics' standardised scores, as a probability in [0, 1].

    ``weights`` maps a critic name (the key of ``verdicts``) to a non-negative weight; critics
    it leaves out weigh 1. With no verdicts (or all weights zero) the answer is 0.5.
    """
    rows: dict[str, dict[str, float]] = {}
    total_w = 0.0
    for name, v in verdicts.items():
        w = 1.0 if weights is None else float(weights.get(name, 1.0))
        if w < 0 or not math.isfinite(w):
            raise ValueError(f"weight of {name!r} must be a finite non-negative number, not {w}")
        mean, sd = reference(v.scope, v.critic)
        rows[name] = {"score": float(v.score), "z": standardise(v), "weight": w}
        rows[name].update(mean=mean, sd=sd)
        total_w += w
    z_mean = 0.0
    for row in rows.values():
        row["contribution"] = row["weight"] * row["z"] / total_w if total_w > 0 else 0.0
        z_mean += row["contribution"]
    return Combined(score=normal_cdf(z_mean), contributions=rows)
