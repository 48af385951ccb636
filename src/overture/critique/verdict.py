"""What every critic returns, and the small helpers they share.

A critic is a pure function of the engine's values (``Plan``, notes, ``Score``, audio) that
answers a ``Verdict``: a score in [0, 1] (higher is better), the reasons a person would give,
and the sub-measures behind the score so that the loop (and a reader) can see why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from overture.score import Note
from overture.theory import Key

# A sub-score is floored before the geometric mean so that one hopeless aspect pulls the
# critic down hard without making every other aspect irrelevant.
_FLOOR = 0.02


@dataclass(frozen=True, slots=True)
class Verdict:
    """One critic's judgement.

    ``scope`` says what was judged (``"section"``: one drafted lead section, ``"score"``: the
    whole score, ``"audio"``: the rendered song); the combination standardises each critic
    with the reference statistics of its scope, because a theory score of a section and of a
    whole score are not drawn from the same distribution.
    """

    critic: str  # "theory", "likelihood", "structure", "adherence", "mix"
    score: float  # in [0, 1], higher is better
    reasons: tuple[str, ...]  # short, specific, human-readable
    details: dict[str, float] = field(default_factory=dict)  # sub-measures (JSON-safe floats)
    scope: str = "section"


def clamp01(x: float) -> float:
    """``x`` within [0, 1]; NaN counts as 0 (a measure that failed is no evidence of quality)."""
    if not math.isfinite(x):
        return 0.0 if math.isnan(x) or x < 0 else 1.0
    return min(1.0, max(0.0, x))


def weighted_geomean(parts: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted geometric mean of the sub-scores present in ``parts`` (floored at 2 %).

    Geometric rather than arithmetic: a melody that is perfect in range but full of wrong
    notes must not pass because four of its five aspects are fine.
    """
    total = sum(weights[k] for k in parts)
    if total <= 0:
        return 1.0
    log = sum(weights[k] * math.log(max(_FLOOR, clamp01(v))) for k, v in parts.items())
    return clamp01(math.exp(log / total))


def json_safe(details: Mapping[str, float]) -> dict[str, float]:
    """Plain rounded floats; non-finite values (a silent track's -inf dB) become bounded."""
    out: dict[str, float] = {}
    for k, v in details.items():
        x = float(v)
        if math.isnan(x):
            x = 0.0
        elif math.isinf(x):
            x = -999.0 if x < 0 else 999.0
        out[k] = round(x, 4)
    return out


def make_verdict(
    critic: str,
    scope: str,
    parts: Mapping[str, float],
    weights: Mapping[str, float],
    reasons: Sequence[str],
    extra: Mapping[str, float] | None = None,
) -> Verdict:
    """A verdict whose score is the weighted geometric mean of ``parts``; ``details`` holds
    every sub-score and the ``extra`` raw measurements."""
    details = {**dict(parts), **dict(extra or {})}
    return Verdict(
        critic=critic,
        score=round(weighted_geomean(parts, weights), 6),
        reasons=tuple(reasons),
        details=json_safe(details),
        scope=scope,
    )


def pitch_name(pitch: int, key: Key) -> str:
    """``"F#4"``: spelled as ``key`` spells it, scientific octave (middle C is C4)."""
    return f"{key.note_name(pitch % 12)}{pitch // 12 - 1}"


def bar_of(beat: float, beats_per_bar: float) -> int:
    """0-based bar of a beat, robust to float error at bar lines."""
    return int(beat // beats_per_bar + 1e-9) if beat >= 0 else 0


def ordered(notes: Sequence[Note]) -> list[Note]:
    """A monophonic reading of a line: sorted by onset, the highest of simultaneous notes."""
    out: list[Note] = []
    for n in sorted(notes, key=lambda n: (n.start, -n.pitch)):
        if out and abs(n.start - out[-1].start) < 1e-6:
            continue
        out.append(n)
    return out
