"""The lead melody: motifs per section, chord tones on strong beats, steps in between.

A section's melody is written once per section type and length, so a chorus returns as itself.
"""

from __future__ import annotations

import random

from overture.instruments import INSTRUMENTS
from overture.plan import Plan, PlanSection
from overture.score import Note
from overture.theory import Chord

# Rhythm cells for one beat: (onset, length) pairs within the beat.
_CELLS = [
    [(0.0, 1.0)],
    [(0.0, 0.5), (0.5, 0.5)],
    [(0.0, 0.75), (0.75, 0.25)],
    [(0.0, 0.5), (0.5, 0.25), (0.75, 0.25)],
    [(0.0, 1.0)],
]


def _scale_pitches(plan: Plan, low: int, high: int) -> list[int]:
    pcs = set(plan.key.pentatonic if plan.style.pentatonic else plan.key.scale)
    return [p for p in range(low, high + 1) if p % 12 in pcs]


def lead_part(plan: Plan, seed: int) -> list[Note]:
    inst = INSTRUMENTS[plan.parts["lead"]]
    low = max(inst.low, 62)  # above the chord voicings (50-74), so the tune stands out
    high = min(inst.high, low + 19)
    scale = _scale_pitches(plan, low, high)
    bpb = plan.time_signature.beats_per_bar
    cache: dict[tuple[str, int], list[Note]] = {}
    notes: list[Note] = []
    for s in plan.sections:
        if "lead" not in s.parts:
            continue
        k = (s.kind, s.bars)
        if k not in cache:
            rng = random.Random(f"melody:{seed}:{s.kind}:{s.bars}")
            cache[k] = _section_melody(plan, s, scale, rng)
        offset = s.start_bar * bpb
        notes += [Note(n.pitch, n.start + offset, n.duration, n.velocity) for n in cache[k]]
    return _finish(plan, notes, scale)


def _section_melody(plan: Plan, s: PlanSection, scale: list[int], rng: random.Random) -> list[Note]:
    """Notes relative to the section start."""
    bpb = plan.time_signature.beats_per_bar
    beats = max(1, int(bpb))
    # Choruses sit higher and move more; verses lower and sparser.
    register = {"chorus": 0.65, "variation": 0.6, "bridge": 0.55}.get(s.kind, 0.4)
    density = 0.5 + 0.5 * s.energy
    motif = [rng.choice(_CELLS[: 2 + int(3 * density)]) for _ in range(beats)]
    answer = [rng.choice(_CELLS[:3]) for _ in range(beats)]
    out: list[Note] = []
    idx = int(register * (len(scale) - 1))
    vel = int(70 + 30 * s.energy)
    for b in range(s.bars):
        bar_in_phrase = b % 4
        chord = plan.chords[s.start_bar + b]
        tones = set(chord.pitch_classes)
        cadence = bar_in_phrase == 3 or b == s.bars - 1
        if cadence:
            rhythm = [(0.0, 0.5), (0.5, 0.5), (1.0, bpb - 1.0 - 0.5)] if bpb > 2 else [(0.0, bpb)]
        else:
            cells = motif if bar_in_phrase in (0, 2) else answer
            rhythm = [(beat + o, d) for beat, cell in enumerate(cells) for o, d in cell]
        for onset, length in rhythm:
            strong = onset == int(onset) and (onset == 0 or onset == bpb // 2)
            if strong or (cadence and onset >= 1.0):
                idx = _nearest_tone(scale, idx, tones, rng)
            else:
                step = rng.choice([-1, -1, 1, 1, 2, -2, 0])
                target = register * (len(scale) - 1)
                if idx > target + 3:
                    step = -abs(step)
                elif idx < target - 3:
                    step = abs(step)
                idx = max(0, min(len(scale) - 1, idx + step))
            if length <= 0:
                continue
            accent = 8 if onset == 0 else 0
            out.append(Note(scale[idx], b * bpb + onset, length * 0.95, vel + accent))
    return out


def _nearest_tone(scale: list[int], idx: int, tones: set[int], rng: random.Random) -> int:
    options = [i for i, p in enumerate(scale) if p % 12 in tones]
    if not options:
        return idx
    best = min(abs(i - idx) for i in options)
    near = [i for i in options if abs(i - idx) <= best + 1]
    return rng.choice(near)


def _finish(plan: Plan, notes: list[Note], scale: list[int]) -> list[Note]:
    """End the song on the tonic, held until the final chord stops ringing."""
    bpb = plan.time_signature.beats_per_bar
    last_bar = (plan.bars - 1) * bpb
    notes = [n for n in notes if n.start < last_bar]
    if "lead" in plan.sections[-1].parts:
        tonics = [p for p in scale if p % 12 == plan.key.tonic]
        prev = notes[-1].pitch if notes else tonics[len(tonics) // 2]
        tonic = min(tonics, key=lambda p: abs(p - prev))
        notes.append(Note(tonic, last_bar, plan.end_beat - last_bar, 90))
    return notes


def jingle(plan: Plan, chord: Chord) -> list[Note]:
    """A short gesture: a rising arpeggio landing on the tonic."""
    inst = INSTRUMENTS[plan.parts["lead"]]
    base = max(inst.low, 60)
    tonic = base + (plan.key.tonic - base) % 12
    steps = [0, 4 if plan.key.mode == "major" else 3, 7, 12]
    gap = min(0.5, plan.end_beat / 8)
    out = [Note(tonic + s, i * gap, gap * 0.95, 85 + 5 * i) for i, s in enumerate(steps[:-1])]
    t = gap * (len(steps) - 1)
    out.append(Note(tonic + 12, t, max(gap, plan.end_beat - t), 100))
    return out
