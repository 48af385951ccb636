"""Bass lines on the chords: roots on strong beats, with each genre's idiom."""

from __future__ import annotations

import random

from overture.instruments import INSTRUMENTS
from overture.plan import Plan
from overture.score import Note
from overture.theory import Chord


def _root(chord: Chord, low: int, high: int) -> int:
    n = low + ((chord.root - low) % 12)
    return n if n <= high else n - 12


def bass_part(plan: Plan, rng: random.Random) -> list[Note]:
    inst = INSTRUMENTS[plan.parts["bass"]]
    low = max(inst.low, 28)
    high = low + 14
    bpb = plan.time_signature.beats_per_bar
    idiom = plan.style.bass
    swing = plan.style.feel in {"swing", "shuffle"}
    off = 2 / 3 if swing else 0.5
    notes: list[Note] = []
    for bar, chord in enumerate(plan.chords):
        section = plan.section_at(bar)
        if "bass" not in section.parts:
            continue
        start = bar * bpb
        root = _root(chord, low, high)
        fifth = root + 7 if root + 7 <= high + 5 else root - 5
        vel = int(70 + 35 * section.energy)
        nxt = plan.chords[bar + 1] if bar + 1 < len(plan.chords) else chord
        if bar == plan.bars - 1:
            notes.append(Note(root, start, plan.end_beat - start, vel))
            continue
        beats = max(1, int(bpb))
        pattern: list[tuple[float, int, float, int]]  # (offset, pitch, length, velocity)
        if idiom == "whole":
            pattern = [(0, root, bpb * 0.98, vel)]
        elif idiom == "eighths":
            pattern = [
                (i * 0.5, root, 0.45, vel - (0 if i % 2 == 0 else 10)) for i in range(int(bpb * 2))
            ]
        elif idiom == "walking":
            pcs = sorted(set(chord.pitch_classes))
            tones = [root] + [root + ((pc - chord.root) % 12) for pc in pcs if pc != chord.root]
            target = _root(nxt, low, high)
            walk = [tones[i % len(tones)] for i in range(beats - 1)]
            approach = target - 1 if rng.random() < 0.5 else target + 1
            pattern = [(b, p, 0.95, vel - 5) for b, p in enumerate([*walk, approach])]
        elif idiom in {"offbeat", "reggae"}:
            pattern = [(b + off, root, 0.4, vel) for b in range(beats)]
            if idiom == "reggae":
                pattern = [(0, root, 0.9, vel), (1.5, fifth, 0.4, vel - 10), (2.5, root, 0.9, vel)][
                    : 3 if bpb >= 4 else 1
                ]
        elif idiom == "octaves":
            pattern = [
                (i * 0.5, root + (12 if i % 2 else 0), 0.4, vel) for i in range(int(bpb * 2))
            ]
        elif idiom in {"funk", "tumbao"}:
            pattern = [
                (0, root, 0.4, vel),
                (0.75, root + 12, 0.2, vel - 15),
                (1.5, fifth, 0.4, vel - 5),
                (2.5, root, 0.3, vel - 10),
                (3.0, root + 10, 0.3, vel - 10),
                (3.5, fifth, 0.4, vel - 5),
            ]
        elif idiom == "808":
            pattern = [(0, root, 1.4, vel), (1.5, root, 0.9, vel - 10), (2.5, root, 1.4, vel)]
        elif idiom in {"bossa", "twostep", "tango"}:
            pattern = [
                (b, root if b % 2 == 0 else fifth, 0.9, vel - (b % 2) * 8) for b in range(beats)
            ]
            if idiom == "bossa":
                pattern = [
                    (0, root, 1.4, vel),
                    (1.5, fifth, 0.4, vel - 8),
                    (2, fifth, 1.4, vel),
                    (3.5, root, 0.4, vel - 8),
                ]
        elif idiom == "sparse":
            pattern = [(0, root, 1.4, vel), (2.5 if bpb >= 4 else 1.5, root, 0.9, vel - 12)]
        else:  # root: on beat one and the middle of the bar
            half = bpb / 2 if bpb >= 4 else bpb
            pattern = [(0, root, half * 0.95, vel)]
            if half < bpb:
                pattern.append((half, fifth if rng.random() < 0.3 else root, half * 0.95, vel - 8))
        for offset, pitch, length, v in pattern:
            if offset < bpb:
                length = min(length, bpb - offset)
                notes.append(Note(pitch, start + offset, length, max(1, min(127, v))))
    return notes
