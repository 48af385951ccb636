"""How much of a melody is a copy of a corpus tune: the longest run shared with any of them.

A run of ``n`` consecutive notes matches when its ``n - 1`` melodic intervals are equal and its
``n`` durations are equal up to one common factor, i.e. the ``n - 1`` ratios of each duration
to the previous one are equal. So a copy is found transposed, augmented or diminished. The
comparison is exact (intervals in semitones, duration ratios as reduced fractions), against every
shipped corpus melody, training and held-out alike.

The index is built once per process from ``melodies.npz``: each note-to-note step becomes a token
(interval, duration ratio), tokens get dense ids (about a thousand distinct ones, 10 bits), and
every corpus position is sorted by the tokens that start there, as many as fit in one 64-bit key
(six), so that any run of up to six steps is a range of that order, found by binary search, and
longer runs are checked by extending the candidates of their first six.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np

from overture.learn.corpus import load_arrays, melodies_path

_NUM_BITS = 21


@dataclass(frozen=True, slots=True)
class Match:
    """The longest shared run: ``notes`` long, in corpus ``piece`` from its note ``offset``
    (``piece`` is ``None`` when no two notes match), starting at note ``query_offset`` of the
    melody that was checked."""

    notes: int
    piece: str | None
    offset: int
    query_offset: int = 0


def _step_key(interval: np.ndarray, num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return ((interval + 256) << (2 * _NUM_BITS)) | (num << _NUM_BITS) | den


class OriginalityIndex:
    """The corpus melodies as step tokens, sorted for exact longest-run queries."""

    def __init__(self, path: Path | None = None) -> None:
        arr = load_arrays(path)
        offsets = arr.offsets
        pitch = arr.pitch.astype(np.int64)
        dur = arr.dur_ticks.astype(np.int64)
        n = len(pitch)
        # Step s (from note s to note s + 1, global numbering) ends at note s + 1.
        first = np.zeros(n, dtype=bool)
        first[offsets[:-1][np.diff(offsets) > 0]] = True
        interval = np.diff(pitch)
        g = np.gcd(dur[1:], dur[:-1])
        keys = _step_key(interval, dur[1:] // g, dur[:-1] // g)
        keys[first[1:]] = -1  # separator: no run crosses a piece boundary
        self.step_piece = np.searchsorted(offsets, np.arange(1, n), side="right") - 1
        self.step_note = np.arange(n - 1) - offsets[self.step_piece]  # run's first note
        self.ids_of, inverse = np.unique(keys, return_inverse=True)
        ids = inverse.astype(np.int64) + 1
        if len(self.ids_of) and self.ids_of[0] == -1:
            ids -= 1  # the separator becomes id 0, real steps 1..
            self.ids_of = self.ids_of[1:]
        else:
            ids[keys < 0] = 0
        self.bits = max(1, len(self.ids_of).bit_length())
        self.pack = max(1, 64 // self.bits)
        # pad so that position + k stays in range; id 0 never matches a query step
        self.ids = np.concatenate([ids, np.zeros(self.pack + 1, dtype=np.int64)])
        packed = np.zeros(len(ids), dtype=np.uint64)
        for k in range(self.pack):
            shift = np.uint64(self.bits * (self.pack - 1 - k))
            packed |= self.ids[k : k + len(ids)].astype(np.uint64) << shift
        packed[ids == 0] = 0
        self.order = np.argsort(packed)
        self.packed = packed[self.order]
        self.piece_ids = arr.ids

    def _query_ids(self, pitches: Sequence[int], durations: Sequence[float]) -> np.ndarray:
        """Dense ids of the melody's steps; -1 for a step no corpus melody has."""
        m = len(pitches) - 1
        if m <= 0:
            return np.zeros(0, dtype=np.int64)
        # Exact durations as integers over a common denominator.
        exact = {d: Fraction(float(d)).limit_denominator(10_000) for d in set(durations)}
        if any(f <= 0 for f in exact.values()):
            bad = np.asarray([exact[d] <= 0 for d in durations])
        else:
            bad = None
        common = 1
        for f in exact.values():
            common = common * f.denominator // gcd(common, f.denominator)
        ticks = np.asarray(
            [exact[d].numerator * (common // exact[d].denominator) for d in durations]
        )
        if ticks.size and (np.abs(ticks).max() >= 2**62 or common >= 2**40):
            return np.full(m, -1, dtype=np.int64)  # absurd note values: nothing can match
        ticks = np.maximum(ticks, 1)
        g = np.gcd(ticks[1:], ticks[:-1])
        num, den = ticks[1:] // g, ticks[:-1] // g
        p = np.asarray(pitches, dtype=np.int64)
        keys = _step_key(np.diff(p), num, den)
        ok = (num < 2**_NUM_BITS) & (den < 2**_NUM_BITS) & (np.abs(np.diff(p)) < 256)
        if bad is not None:
            ok &= ~(bad[1:] | bad[:-1])
        i = np.minimum(np.searchsorted(self.ids_of, keys), max(len(self.ids_of) - 1, 0))
        found = ok & (self.ids_of[i] == keys) if len(self.ids_of) else np.zeros(m, dtype=bool)
        return np.where(found, i + 1, -1)

    def longest_match(self, pitches: Sequence[int], durations: Sequence[float]) -> Match:
        """The longest run of the melody (``pitches``, ``durations`` in any unit) equal to a
        run of a corpus melody up to transposition and a uniform scaling of note values."""
        if len(pitches) != len(durations):
            raise ValueError("pitches and durations differ in length")
        if len(pitches) == 0:
            return Match(0, None, 0)
        q = self._query_ids(pitches, durations)
        m = len(q)
        if m == 0:
            return Match(1, None, 0)
        pack, bits = self.pack, self.bits
        best, best_at, best_q = 0, -1, 0
        # Prefix ranges for runs of 1..pack steps from every query position, all at once.
        key = np.zeros(m, dtype=np.uint64)
        valid = np.ones(m, dtype=bool)
        lo = hi = np.zeros(m, dtype=np.int64)
        for k in range(pack):
            shifted = np.full(m, -1, dtype=np.int64)
            shifted[: m - k] = q[k:]
            valid &= shifted > 0
            if not valid.any():
                break
            shift = np.uint64(bits * (pack - 1 - k))
            key = key | (np.where(valid, shifted, 0).astype(np.uint64) << shift)
            span = (np.uint64(1) << shift) - np.uint64(1)
            lo = np.searchsorted(self.packed, key, side="left")
            hi = np.searchsorted(self.packed, key | span, side="right")
            hit = valid & (hi > lo)
            if not hit.any():
                break
            i = int(np.argmax(hit))
            best, best_at, best_q = k + 1, int(self.order[lo[i] : hi[i]].min()), i
            if k == pack - 1:
                valid = hit
        if best < pack:
            return self._match(best, best_at, best_q)
        # Runs longer than `pack` steps: extend the candidates of each full-prefix hit.
        ids = self.ids
        failed: set[bytes] = set()  # query windows known to have no longer match
        for i in np.flatnonzero(valid).tolist():
            if i + best + 1 > m:
                break  # positions only get closer to the end
            window = q[i : i + best + 1].tobytes()
            if window in failed:
                continue
            pos = self.order[lo[i] : hi[i]]
            # To beat `best` a run must match the step at offset `best`: a cheap first filter.
            pos = pos[ids[pos + best] == q[i + best]]
            if len(pos) and best > pack:
                cols = np.arange(pack, best)
                pos = pos[(ids[pos[:, None] + cols] == q[i + cols]).all(axis=1)]
            if len(pos) == 0:
                failed.add(window)
                continue
            length = best + 1
            while i + length < m:
                nxt = pos[ids[pos + length] == q[i + length]]
                if len(nxt) == 0:
                    break
                pos = nxt
                length += 1
            best, best_at, best_q = length, int(pos.min()), i
            failed.clear()
        return self._match(best, best_at, best_q)

    def _match(self, steps: int, at: int, query_offset: int) -> Match:
        if steps == 0:
            return Match(1, None, 0)
        piece = int(self.step_piece[at])
        return Match(steps + 1, self.piece_ids[piece], int(self.step_note[at]), query_offset)


@lru_cache(maxsize=4)
def _index(path: Path) -> OriginalityIndex:
    return OriginalityIndex(path)


def load_index(path: Path | None = None) -> OriginalityIndex:
    """The index of the shipped melodies (built once per process)."""
    return _index(melodies_path(path).resolve())


def longest_match(
    pitches: Sequence[int], durations: Sequence[float], *, path: Path | None = None
) -> Match:
    """The longest run of consecutive notes shared with any corpus melody (see the module doc).

    ``notes`` counts notes: a run of 8 notes is 7 equal intervals and duration ratios.
    """
    return load_index(path).longest_match(pitches, durations)
