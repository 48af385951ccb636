"""Symbolic metrics on a plain note list, with the published definitions.

The first group follows MusPy's ``muspy/metrics/metrics.py`` exactly (Dong, Chen, Dubnov,
McAuley and Berg-Kirkpatrick, "MusPy: A Toolkit for Symbolic Music Generation", ISMIR 2020):
time is quantised to integer time steps (``resolution`` steps per quarter note, MusPy's default
24), a note covers the steps ``[start, start + duration)``, and the same edge cases return NaN.
Two MusPy details are kept on purpose because they are the definition:

* ``polyphony_rate`` counts time steps with *more than* ``threshold`` (default 2) pitches on;
* ``empty_beat_rate`` marks every beat from ``start // resolution`` to ``end // resolution``
  *inclusive*, so a note ending exactly on a beat boundary also fills the next beat.

The second group follows "The Jazz Transformer on the Front Line: Exploring the Shortcomings of
AI-composed Music through Quantitative Measures" (Wu and Yang, ISMIR 2020) and its reference
code: windowed pitch-class histogram entropy ``H1``/``H4`` and grooving pattern similarity
``GS``. A note belongs to the bar of its onset; bars run from bar 0 to the bar of the last onset.
``GS`` averages over *all* pairs of bars (the reference samples at most 1,000 pairs at random;
the exact mean over all pairs is what that sample estimates).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

RESOLUTION = 24  # MusPy's default time steps per quarter note
GROOVE_POSITIONS = 64  # the Jazz Transformer's onset positions per bar

# MusPy's scale masks for root C (natural minor).
_MAJOR_MASK = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], bool)
_MINOR_MASK = np.array([1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0], bool)


@dataclass(frozen=True, slots=True)
class Notes:
    """One line of music: pitches (MIDI), onsets and durations in quarter-note beats.

    ``beats_per_bar`` (quarter notes per bar) places the bar lines; ``tonic`` (pitch class)
    and ``mode`` (``"major"``/``"minor"``) are the stated key when there is one.
    """

    pitches: tuple[int, ...]
    onsets: tuple[float, ...]
    durations: tuple[float, ...]
    beats_per_bar: float = 4.0
    tonic: int | None = None
    mode: str | None = None

    def __post_init__(self) -> None:
        if not len(self.pitches) == len(self.onsets) == len(self.durations):
            raise ValueError("pitches, onsets and durations must have the same length")
        if self.beats_per_bar <= 0:
            raise ValueError("beats_per_bar must be positive")

    @classmethod
    def make(
        cls,
        pitches: Iterable[int],
        onsets: Iterable[float],
        durations: Iterable[float],
        *,
        beats_per_bar: float = 4.0,
        tonic: int | None = None,
        mode: str | None = None,
    ) -> Notes:
        """Build from any iterables, sorted by onset then pitch."""
        rows = sorted(
            zip(
                (int(p) for p in pitches),
                (float(o) for o in onsets),
                (float(d) for d in durations),
                strict=True,
            ),
            key=lambda r: (r[1], r[0]),
        )
        return cls(
            tuple(r[0] for r in rows),
            tuple(r[1] for r in rows),
            tuple(r[2] for r in rows),
            float(beats_per_bar),
            tonic,
            mode,
        )

    @classmethod
    def from_sequence(
        cls,
        pitches: Sequence[int],
        durations: Sequence[float],
        *,
        beats_per_bar: float = 4.0,
        tonic: int | None = None,
        mode: str | None = None,
    ) -> Notes:
        """A monophonic line without rests: each note starts where the previous one ends."""
        onsets = np.concatenate([[0.0], np.cumsum(np.asarray(durations, float))[:-1]])
        return cls.make(
            pitches,
            onsets[: len(pitches)],
            durations,
            beats_per_bar=beats_per_bar,
            tonic=tonic,
            mode=mode,
        )

    @classmethod
    def from_score_notes(
        cls,
        notes: Iterable[Any],
        *,
        beats_per_bar: float,
        tonic: int | None = None,
        mode: str | None = None,
        trim_to_bar: bool = True,
    ) -> Notes:
        """From ``overture.score.Note`` values; ``trim_to_bar`` drops whole empty bars before
        the first note (a lead that enters after the intro starts in its own bar 0)."""
        items = list(notes)
        shift = 0.0
        if trim_to_bar and items:
            first = min(n.start for n in items)
            shift = math.floor(first / beats_per_bar + 1e-9) * beats_per_bar
        return cls.make(
            [n.pitch for n in items],
            [n.start - shift for n in items],
            [n.duration for n in items],
            beats_per_bar=beats_per_bar,
            tonic=tonic,
            mode=mode,
        )

    def __len__(self) -> int:
        return len(self.pitches)

    @property
    def end(self) -> float:
        """Where the last note ends, in beats (0 for no notes)."""
        if not self.pitches:
            return 0.0
        return float(max(o + d for o, d in zip(self.onsets, self.durations, strict=True)))

    @property
    def n_bars(self) -> int:
        """Bars from bar 0 to the bar of the last onset (0 for no notes)."""
        if not self.pitches:
            return 0
        return math.floor(max(self.onsets) / self.beats_per_bar + 1e-9) + 1


# --- time steps, as MusPy's integer timing ---------------------------------------------------


def _steps(notes: Notes, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) of every note in integer time steps."""
    start = np.rint(np.asarray(notes.onsets, float) * resolution).astype(np.int64)
    length = np.rint(np.asarray(notes.durations, float) * resolution).astype(np.int64)
    return start, start + np.maximum(length, 0)


def _pianoroll(notes: Notes, resolution: int) -> np.ndarray:
    """Binary (time steps, 128) pianoroll, as MusPy's ``_get_pianoroll``."""
    start, end = _steps(notes, resolution)
    length = int(end.max()) if len(end) else 0
    roll = np.zeros((length, 128), bool)
    for s, e, p in zip(start, end, notes.pitches, strict=True):
        roll[s:e, p] = True
    return roll


# --- MusPy metrics ---------------------------------------------------------------------------


def pitch_range(notes: Notes) -> int:
    """Highest minus lowest pitch in semitones; 0 when there are no notes."""
    if not notes.pitches:
        return 0
    return max(notes.pitches) - min(notes.pitches)


def n_pitches_used(notes: Notes) -> int:
    """Number of distinct pitches."""
    return len(set(notes.pitches))


def n_pitch_classes_used(notes: Notes) -> int:
    """Number of distinct pitch classes."""
    return len({p % 12 for p in notes.pitches})


def polyphony(notes: Notes, resolution: int = RESOLUTION) -> float:
    """Mean number of pitches on, over the time steps where at least one is on (NaN: none)."""
    roll = _pianoroll(notes, resolution)
    denominator = np.count_nonzero(roll.sum(1) > 0)
    if denominator < 1:
        return math.nan
    return float(roll.sum() / denominator)


def polyphony_rate(notes: Notes, threshold: int = 2, resolution: int = RESOLUTION) -> float:
    """Share of time steps with more than ``threshold`` pitches on (NaN for zero length)."""
    roll = _pianoroll(notes, resolution)
    if len(roll) < 1:
        return math.nan
    return float(np.count_nonzero(roll.sum(1) > threshold) / len(roll))


def scale_mask(root: int, mode: str) -> np.ndarray:
    """Boolean pitch-class mask of the major or natural-minor scale on ``root``."""
    if mode == "major":
        base = _MAJOR_MASK
    elif mode == "minor":
        base = _MINOR_MASK
    else:
        raise ValueError("mode must be 'major' or 'minor'")
    return np.roll(base, root)


def pitch_in_scale_rate(notes: Notes, root: int, mode: str) -> float:
    """Share of notes whose pitch class is in the scale (NaN: no notes)."""
    if not notes.pitches:
        return math.nan
    mask = scale_mask(root, mode.lower())
    pcs = np.asarray(notes.pitches) % 12
    return float(np.count_nonzero(mask[pcs]) / len(pcs))


def scale_consistency(notes: Notes) -> float:
    """Largest pitch-in-scale rate over the 24 major and minor scales (NaN: no notes)."""
    if not notes.pitches:
        return math.nan
    return max(pitch_in_scale_rate(notes, r, m) for m in ("major", "minor") for r in range(12))


def _entropy(counts: np.ndarray) -> float:
    total = counts.sum()
    if total <= 0:
        return math.nan
    prob = counts[counts > 0] / total
    return float(-(prob * np.log2(prob)).sum())


def pitch_entropy(notes: Notes) -> float:
    """Shannon entropy (bits) of the note-count pitch histogram (NaN: no notes)."""
    return _entropy(np.bincount(np.asarray(notes.pitches, int), minlength=128).astype(float))


def pitch_class_entropy(notes: Notes) -> float:
    """Shannon entropy (bits) of the note-count pitch-class histogram (NaN: no notes)."""
    pcs = np.asarray(notes.pitches, int) % 12
    return _entropy(np.bincount(pcs, minlength=12).astype(float))


def empty_beat_rate(notes: Notes, resolution: int = RESOLUTION) -> float:
    """Share of beats (quarter notes) where no note sounds (NaN for zero length)."""
    start, end = _steps(notes, resolution)
    length = int(end.max()) if len(end) else 0
    if length < 1:
        return math.nan
    n_beats = length // resolution + 1
    filled = np.zeros(n_beats, bool)
    for s, e in zip(start // resolution, end // resolution, strict=True):
        filled[s : e + 1] = True
    return float(1 - np.count_nonzero(filled) / n_beats)


def groove_consistency(notes: Notes, measure_resolution: int | None = None) -> float:
    """1 - mean Hamming distance of the onset patterns of neighbouring bars, per position.

    ``measure_resolution`` is time steps per bar (default: ``beats_per_bar`` at 24 steps per
    quarter note). NaN with fewer than two bars.
    """
    if measure_resolution is None:
        measure_resolution = round(notes.beats_per_bar * RESOLUTION)
    if measure_resolution < 1:
        raise ValueError("measure_resolution must be a positive integer")
    resolution = measure_resolution / notes.beats_per_bar
    start = np.rint(np.asarray(notes.onsets, float) * resolution).astype(np.int64)
    end = start + np.rint(np.asarray(notes.durations, float) * resolution).astype(np.int64)
    length = int(end.max()) if len(end) else 0
    n_measures = length // measure_resolution + 1
    if n_measures < 2:
        return math.nan
    patterns = np.zeros((n_measures, measure_resolution), bool)
    measure, position = np.divmod(start, measure_resolution)
    patterns[measure, position] = True
    hamming = np.count_nonzero(patterns[:-1] != patterns[1:])
    return float(1 - hamming / (measure_resolution * (n_measures - 1)))


def drum_pattern(resolution: int, meter: str) -> np.ndarray:
    """MusPy's in-pattern positions within one beat for a duple or triple meter."""
    pattern = np.zeros(resolution, bool)
    pattern[0] = True
    if meter == "duple":
        if resolution % 4 == 0:
            pattern[:: resolution // 4] = True
        if resolution % 2 == 0:
            pattern[:: resolution // 2] = True
    elif meter == "triple":
        if resolution % 3 == 0:
            pattern[:: resolution // 3] = True
    else:
        raise ValueError("meter must be 'duple' or 'triple'")
    return pattern


def drum_in_pattern_rate(drums: Notes, meter: str, resolution: int = RESOLUTION) -> float:
    """Share of drum onsets on the meter's grid within the beat (NaN: no drum notes)."""
    if not drums.pitches:
        return math.nan
    pattern = drum_pattern(resolution, meter.lower())
    start, _ = _steps(drums, resolution)
    return float(np.count_nonzero(pattern[start % resolution]) / len(start))


# --- The Jazz Transformer's metrics ----------------------------------------------------------


def _bar_index(notes: Notes) -> np.ndarray:
    return np.floor(np.asarray(notes.onsets, float) / notes.beats_per_bar + 1e-9).astype(int)


def pitch_class_histogram_entropy(notes: Notes, window: int) -> float:
    """Mean entropy (bits) of the note-count pitch-class histogram over every window of
    ``window`` consecutive bars (``H1``: 1 bar, ``H4``: 4 bars).

    Windows slide by one bar; a window longer than the piece is cut to the piece; windows
    without notes are skipped. NaN when there are no notes.
    """
    if window < 1:
        raise ValueError("window must be at least 1 bar")
    n_bars = notes.n_bars
    if n_bars == 0:
        return math.nan
    window = min(window, n_bars)
    bars = _bar_index(notes)
    pcs = np.asarray(notes.pitches, int) % 12
    per_bar = np.zeros((n_bars, 12))
    np.add.at(per_bar, (bars, pcs), 1.0)
    values = []
    for first in range(n_bars - window + 1):
        h = per_bar[first : first + window].sum(0)
        if h.sum() > 0:
            values.append(_entropy(h))
    return float(np.mean(values)) if values else math.nan


def h1(notes: Notes) -> float:
    """1-bar pitch-class histogram entropy."""
    return pitch_class_histogram_entropy(notes, 1)


def h4(notes: Notes) -> float:
    """4-bar pitch-class histogram entropy."""
    return pitch_class_histogram_entropy(notes, 4)


def onset_patterns(notes: Notes, positions: int = GROOVE_POSITIONS) -> np.ndarray:
    """Binary (bars, positions) onset grid; an onset snaps to the nearest position."""
    n_bars = notes.n_bars
    grid = np.zeros((n_bars, positions), bool)
    if n_bars == 0:
        return grid
    idx = np.rint(np.asarray(notes.onsets, float) / notes.beats_per_bar * positions)
    bar, pos = np.divmod(idx.astype(np.int64), positions)
    keep = bar < n_bars  # an onset rounding up to the next bar line beyond the last bar
    grid[bar[keep], pos[keep]] = True
    return grid


def grooving_similarity(notes: Notes, positions: int = GROOVE_POSITIONS) -> float:
    """Mean over all pairs of bars of ``1 - XOR(g_a, g_b) / positions`` (NaN: < 2 bars)."""
    grid = onset_patterns(notes, positions).astype(np.int64)
    n = len(grid)
    if n < 2:
        return math.nan
    counts = grid.sum(1)
    xor = counts[:, None] + counts[None, :] - 2 * (grid @ grid.T)
    iu = np.triu_indices(n, k=1)
    return float(np.mean(1.0 - xor[iu] / positions))


# --- the melody metric set used by the report ------------------------------------------------

# name -> what it measures; :func:`melody_metrics` computes them all for one melody.
MELODY_METRICS: dict[str, str] = {
    "pitch_range": "highest - lowest pitch (semitones)",
    "n_pitches_used": "distinct pitches",
    "n_pitch_classes_used": "distinct pitch classes",
    "polyphony": "mean pitches on when any is on",
    "polyphony_rate": "share of steps with > 2 pitches on",
    "pitch_in_scale_rate": "share of notes in the stated key's scale",
    "scale_consistency": "best in-scale rate over 24 keys",
    "pitch_entropy": "pitch histogram entropy (bits)",
    "pitch_class_entropy": "pitch-class histogram entropy (bits)",
    "empty_beat_rate": "share of silent beats",
    "groove_consistency": "1 - Hamming distance of neighbouring bars' onsets",
    "H1": "1-bar pitch-class entropy (bits)",
    "H4": "4-bar pitch-class entropy (bits)",
    "GS": "grooving similarity over all bar pairs",
}


def melody_metrics(notes: Notes) -> dict[str, float]:
    """Every metric of :data:`MELODY_METRICS` for one melody (NaN where undefined)."""
    in_scale = (
        pitch_in_scale_rate(notes, notes.tonic, notes.mode)
        if notes.tonic is not None and notes.mode in ("major", "minor")
        else math.nan
    )
    return {
        "pitch_range": float(pitch_range(notes)),
        "n_pitches_used": float(n_pitches_used(notes)),
        "n_pitch_classes_used": float(n_pitch_classes_used(notes)),
        "polyphony": polyphony(notes),
        "polyphony_rate": polyphony_rate(notes),
        "pitch_in_scale_rate": in_scale,
        "scale_consistency": scale_consistency(notes),
        "pitch_entropy": pitch_entropy(notes),
        "pitch_class_entropy": pitch_class_entropy(notes),
        "empty_beat_rate": empty_beat_rate(notes),
        "groove_consistency": groove_consistency(notes),
        "H1": h1(notes),
        "H4": h4(notes),
        "GS": grooving_similarity(notes),
    }
