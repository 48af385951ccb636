"""The composer: turns a ``Plan`` into a ``Score``, one part at a time."""

from __future__ import annotations

import random

from overture.compose.bass import bass_part
from overture.compose.drums import drum_part
from overture.compose.harmony import chord_part, part_voicing
from overture.compose.melody import jingle, lead_part
from overture.instruments import INSTRUMENTS
from overture.plan import Plan
from overture.score import Note, Part, Score, SectionMark

# Mix defaults per part: (volume CC7, pan CC10, reverb CC91).
_MIX = {
    "drums": (110, 64, 20),
    "bass": (105, 64, 10),
    "chords": (88, 44, 45),
    "pad": (72, 84, 70),
    "lead": (100, 70, 50),
}


def compose(plan: Plan) -> Score:
    """Write every part of ``plan``; deterministic for the plan's seed."""
    seed = plan.spec.seed
    parts: list[Part] = []
    for name, inst_name in plan.parts.items():
        rng = random.Random(f"compose:{seed}:{name}")
        inst = INSTRUMENTS[inst_name]
        if plan.bars <= 3 and plan.sections[0].kind == "jingle":
            notes = _jingle_part(plan, name, rng)
        elif name == "drums":
            notes = drum_part(plan, rng)
        elif name == "bass":
            notes = bass_part(plan, rng)
        elif name in {"chords", "pad"}:
            notes = chord_part(plan, rng, part=name)
        else:
            notes = lead_part(plan, seed)
        notes = _humanise(_clip(notes, plan.end_beat), rng, drums=inst.is_drums)
        volume, pan, reverb = _MIX[name]
        parts.append(
            Part(
                name=name,
                instrument=inst_name,
                program=inst.program,
                is_drums=inst.is_drums,
                bank=128 if inst.is_drums else 0,
                volume=volume,
                pan=pan,
                reverb=reverb,
                notes=sorted(notes, key=lambda n: (n.start, n.pitch)),
            )
        )
    return Score(
        tempo=plan.tempo,
        time_signature=plan.time_signature,
        key=plan.key,
        bars=plan.bars,
        end_beat=plan.end_beat,
        duration=plan.duration,
        sections=[SectionMark(s.id, s.kind, s.start_bar, s.end_bar) for s in plan.sections],
        chords=[c.symbol(plan.key) for c in plan.chords],
        parts=parts,
    )


def _jingle_part(plan: Plan, name: str, rng: random.Random) -> list[Note]:
    chord = plan.chords[-1]
    if name == "lead":
        return jingle(plan, chord)
    if name in {"chords", "pad"}:
        start = min(plan.end_beat * 0.4, 1.5)
        return [Note(p, start, plan.end_beat - start, 80) for p in part_voicing(chord, None, name)]
    if name == "bass":
        return [Note(36 + (plan.key.tonic % 12), 0.0, plan.end_beat, 85)]
    return []


def _clip(notes: list[Note], end_beat: float) -> list[Note]:
    """Nothing sounds past the final chord: the release tail stays within the duration."""
    out = []
    for n in notes:
        if n.start >= end_beat - 1e-9:
            continue
        out.append(
            n if n.end <= end_beat else Note(n.pitch, n.start, end_beat - n.start, n.velocity)
        )
    return out


def _humanise(notes: list[Note], rng: random.Random, *, drums: bool) -> list[Note]:
    """Small, seeded velocity variation so repeated notes do not sound machine-stamped."""
    spread = 4 if drums else 6
    return [
        Note(
            n.pitch,
            n.start,
            n.duration,
            max(1, min(127, n.velocity + rng.randint(-spread, spread))),
        )
        for n in notes
    ]
