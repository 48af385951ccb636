"""Chord voicings with voice leading, and the comping patterns that play them."""

from __future__ import annotations

import random

from overture.plan import Plan
from overture.score import Note
from overture.theory import Chord

VOICING_LOW, VOICING_HIGH = 50, 74  # around middle C, under the melody


def part_voicing(chord: Chord, previous: list[int] | None, part: str) -> list[int]:
    """Voicing for the ``chords`` part, or the ``pad``, which sits a little higher."""
    low = 55 if part == "pad" else VOICING_LOW
    return voicing(chord, previous, low=low, high=low + 26)


def voicing(
    chord: Chord, previous: list[int] | None, *, low: int = VOICING_LOW, high: int = VOICING_HIGH
) -> list[int]:
    """Close-position voicing of ``chord`` nearest to ``previous`` (smooth voice leading)."""
    pcs = list(chord.pitch_classes)[:4]
    candidates: list[list[int]] = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base_octave in range(3, 7):
            notes, last = [], -1
            for pc in order:
                n = base_octave * 12 + pc
                while n <= last:
                    n += 12
                notes.append(n)
                last = n
            if notes[0] >= low and notes[-1] <= high:
                candidates.append(notes)
    if not candidates:
        return [60 + pc for pc in pcs]
    if previous is None:
        centre = (low + high) / 2
        return min(candidates, key=lambda v: (abs(sum(v) / len(v) - centre), v))
    prev_centre = sum(previous) / len(previous)
    return min(candidates, key=lambda v: (abs(sum(v) / len(v) - prev_centre), v))


def chord_part(plan: Plan, rng: random.Random, *, part: str = "chords") -> list[Note]:
    bpb = plan.time_signature.beats_per_bar
    style = plan.style.comping if part == "chords" else "pad"
    notes: list[Note] = []
    prev: list[int] | None = None
    for bar, chord in enumerate(plan.chords):
        section = plan.section_at(bar)
        if part not in section.parts:
            prev = None
            continue
        start = bar * bpb
        is_last = bar == plan.bars - 1
        v = part_voicing(chord, prev, part)
        prev = v
        vel = int(55 + 40 * section.energy) - (12 if part == "pad" else 0)
        if is_last:
            # The final chord rings until the song's end.
            notes += [Note(p, start, plan.end_beat - start, vel) for p in v]
            continue
        notes += _comp(style, v, start, bpb, vel, plan, rng, chord)
    return notes


def _comp(
    style: str,
    v: list[int],
    start: float,
    bpb: float,
    vel: int,
    plan: Plan,
    rng: random.Random,
    chord: Chord,
) -> list[Note]:
    swing = plan.style.feel in {"swing", "shuffle"}
    off = 2 / 3 if swing else 0.5
    beats = int(bpb) if bpb == int(bpb) else int(bpb * 2) // 2
    if style == "pad":
        return [Note(p, start, bpb, vel) for p in v]
    if style == "arpeggio":
        seq = v + v[1:-1][::-1] if len(v) > 2 else v
        n = int(bpb * 2)
        return [Note(seq[i % len(seq)], start + i * 0.5, 0.5, vel - 5) for i in range(n)]
    if style == "strum":
        out = []
        for b in range(beats):
            for j, p in enumerate(v):
                out.append(Note(p, start + b + j * 0.02, 0.9, vel - (0 if b == 0 else 10)))
        return out
    if style in {"stab", "offbeat"}:
        return [Note(p, start + b + off, 0.25, vel) for b in range(beats) for p in v]
    if style == "power":
        root = v[0] - 12 if v[0] - 12 >= 40 else v[0]
        power = [root, root + 7, root + 12]
        return [Note(p, start + i * 0.5, 0.45, vel) for i in range(int(bpb * 2)) for p in power]
    if style in {"jazz", "bossa", "montuno"}:
        hits = [0, 1.5, 2.5] if bpb >= 4 else [0, 1.5]
        if style == "jazz" and swing:
            hits = [0, 1 + 2 / 3, 3] if bpb >= 4 else [0, 1 + 2 / 3]
        return [Note(p, start + h, 0.9, vel - (0 if h == 0 else 8)) for h in hits for p in v]
    # block: one chord per beat-pair, accent on the downbeat
    step = 2.0 if bpb >= 4 else bpb
    out = []
    t = 0.0
    while t < bpb - 1e-9:
        length = min(step, bpb - t)
        out += [Note(p, start + t, length * 0.95, vel - (0 if t == 0 else 8)) for p in v]
        t += step
    return out
