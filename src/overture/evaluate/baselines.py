"""Two reference melody generators that a real model has to beat.

Both make a melody for the same key, length (number of notes), range (lowest..highest pitch)
and metre as the engine's lead for a prompt, and are deterministic for a seed.

* :func:`random_in_key`: every pitch drawn uniformly from the scale's pitches in the range,
  every duration uniformly from :data:`RANDOM_DURATIONS`; no rests.
* First-order Markov: :class:`MarkovBaseline`. When the trained melody model
  (``overture.learn.melody_model``) is installed, its ``generate(..., max_order=1)`` is used;
  otherwise :meth:`MarkovBaseline.fit` counts first-order transitions on the training split
  of the corpus itself: one chain over pitch relative to the tonic (in semitones, so it keeps
  register and contour) and one over durations, separately for major and minor.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from overture.evaluate.metrics import Notes, scale_mask

RANDOM_DURATIONS = (0.5, 1.0, 1.5, 2.0)


class MelodyLike(Protocol):
    """What the baselines read from a corpus melody (``overture.learn.corpus.Melody``)."""

    pitches: Sequence[int]
    durations: Sequence[float]
    tonic: int
    mode: str


@dataclass(frozen=True, slots=True)
class Target:
    """What a baseline melody must match: key, note count, range and metre."""

    tonic: int
    mode: str
    n_notes: int
    low: int
    high: int
    beats_per_bar: float = 4.0

    @classmethod
    def like(cls, notes: Notes) -> Target:
        """The target of an existing melody (which must have a key and notes)."""
        if notes.tonic is None or notes.mode is None or not notes.pitches:
            raise ValueError("the melody needs notes, a tonic and a mode")
        return cls(
            tonic=notes.tonic,
            mode=notes.mode,
            n_notes=len(notes),
            low=min(notes.pitches),
            high=max(notes.pitches),
            beats_per_bar=notes.beats_per_bar,
        )


def rng_for(*parts: object) -> np.random.Generator:
    """A numpy generator seeded by a stable hash of ``parts`` (same parts, same numbers)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def scale_pitches(tonic: int, mode: str, low: int, high: int) -> list[int]:
    """MIDI pitches of the major / natural-minor scale on ``tonic`` within ``[low, high]``."""
    mask = scale_mask(tonic % 12, mode)
    return [p for p in range(low, high + 1) if mask[p % 12]]


def random_in_key(target: Target, rng: np.random.Generator) -> Notes:
    """Uniformly random scale pitches in the range with durations from a small set."""
    pool = scale_pitches(target.tonic, target.mode, target.low, target.high) or [target.low]
    pitches = rng.choice(pool, size=target.n_notes).tolist()
    durations = rng.choice(RANDOM_DURATIONS, size=target.n_notes).tolist()
    return Notes.from_sequence(
        pitches,
        durations,
        beats_per_bar=target.beats_per_bar,
        tonic=target.tonic,
        mode=target.mode,
    )


def fit_to_range(pitches: Sequence[int], low: int, high: int) -> list[int]:
    """Shift a line by whole octaves to sit best in ``[low, high]``, then fold stragglers."""
    p = np.asarray(pitches, int)
    if len(p) == 0:
        return []
    best = min(
        range(-6, 7),
        key=lambda k: (int(np.sum((p + 12 * k < low) | (p + 12 * k > high))), abs(k)),
    )
    p = p + 12 * best
    if high - low >= 11:
        while (p < low).any() or (p > high).any():
            p = np.where(p < low, p + 12, np.where(p > high, p - 12, p))
    return p.tolist()


def _sample_chain(
    start: dict[Any, float],
    table: dict[Any, dict[Any, float]],
    n: int,
    rng: np.random.Generator,
) -> list[Any]:
    def draw(weights: dict[Any, float]) -> Any:
        keys = list(weights)
        w = np.asarray([weights[k] for k in keys], float)
        return keys[int(rng.choice(len(keys), p=w / w.sum()))]

    out: list[Any] = []
    state = draw(start)
    for _ in range(n):
        out.append(state)
        nxt = table.get(state)
        state = draw(nxt) if nxt else draw(start)
    return out


@dataclass(slots=True)
class MarkovBaseline:
    """First-order Markov chains (relative pitch; duration), one pair per mode."""

    # mode -> (start weights, transitions) for relative pitch and for duration
    pitch: dict[str, tuple[dict[int, float], dict[int, dict[int, float]]]] = field(
        default_factory=dict
    )
    duration: dict[str, tuple[dict[float, float], dict[float, dict[float, float]]]] = field(
        default_factory=dict
    )
    n_melodies: int = 0
    model: Any = None  # the trained melody model, when it is used instead of the counts

    @property
    def source(self) -> str:
        if self.model is not None:
            return "overture.learn.melody_model (max_order=1)"
        return f"first-order counts over {self.n_melodies} training melodies"

    @classmethod
    def fit(cls, melodies: Sequence[MelodyLike]) -> MarkovBaseline:
        """Count transitions in ``melodies`` (pitch relative to the tonic, and duration)."""
        out = cls(n_melodies=len(melodies))
        for mode in ("major", "minor", "any"):
            chosen = [m for m in melodies if mode == "any" or m.mode == mode]
            if not chosen:
                continue
            rel = [np.asarray(m.pitches, int) - (m.tonic % 12) - 60 for m in chosen]
            dur = [np.round(np.asarray(m.durations, float), 4) for m in chosen]
            out.pitch[mode] = _count(rel)
            out.duration[mode] = _count(dur)
        if not out.pitch:
            raise ValueError("no training melodies for the Markov baseline")
        return out

    @classmethod
    def from_model(cls, model: Any) -> MarkovBaseline:
        """Use a trained model with ``generate(n, *, tonic, mode, rng, low, high, max_order)``."""
        return cls(model=model)

    def generate(self, target: Target, rng: np.random.Generator) -> Notes:
        """A melody for ``target``."""
        if self.model is not None:
            # The trained model draws from a ``random.Random``; seed one from ``rng``.
            pitches, durations = self.model.generate(
                target.n_notes,
                tonic=target.tonic,
                mode=target.mode,
                rng=random.Random(int(rng.integers(2**63))),
                low=target.low,
                high=target.high,
                max_order=1,
            )
            pitches = list(pitches)
        else:
            mode = target.mode if target.mode in self.pitch else "any"
            rel = _sample_chain(*self.pitch[mode], target.n_notes, rng)
            durations = _sample_chain(*self.duration[mode], target.n_notes, rng)
            pitches = fit_to_range(
                [60 + target.tonic % 12 + r for r in rel], target.low, target.high
            )
        return Notes.from_sequence(
            pitches,
            [float(d) for d in durations],
            beats_per_bar=target.beats_per_bar,
            tonic=target.tonic,
            mode=target.mode,
        )


def _count(
    sequences: Sequence[Sequence[Any]],
) -> tuple[dict[Any, float], dict[Any, dict[Any, float]]]:
    """(first-state counts, transition counts) over ``sequences`` of numbers."""
    seqs = [np.asarray(q, float) for q in sequences if len(q)]
    if not seqs:
        return {}, {}
    values, index = np.unique(np.concatenate(seqs), return_inverse=True)
    bounds = np.cumsum([0] + [len(q) for q in seqs])
    firsts, first_counts = np.unique(index[bounds[:-1]], return_counts=True)
    within = np.ones(len(index), bool)
    within[bounds[:-1]] = False  # a pair never spans two sequences
    k = len(values)
    keys, counts = np.unique(index[:-1][within[1:]] * k + index[1:][within[1:]], return_counts=True)
    table: dict[Any, dict[Any, float]] = {}
    for key, c in zip(keys.tolist(), counts.tolist(), strict=True):
        a, b = divmod(key, k)
        table.setdefault(_plain(values[a]), {})[_plain(values[b])] = float(c)
    start = {
        _plain(values[i]): float(c)
        for i, c in zip(firsts.tolist(), first_counts.tolist(), strict=True)
    }
    return start, table


def _plain(x: float) -> int | float:
    """Whole numbers as ``int`` (relative pitches), others as they are (durations)."""
    return int(x) if float(x).is_integer() else float(x)
