"""The composer: turns a ``Plan`` into a ``Score``, one part at a time."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from overture.compose.bass import bass_part
from overture.compose.drums import drum_part
from overture.compose.harmony import chord_part, part_voicing
from overture.compose.melody import jingle, lead_part
from overture.instruments import INSTRUMENTS
from overture.plan import Plan
from overture.score import Note, Part, Score, SectionMark

if TYPE_CHECKING:
    from overture.think import Thinker

# Mix defaults per part: (volume CC7, pan CC10, reverb CC91).
_MIX = {
    "drums": (110, 64, 20),
    "bass": (105, 64, 10),
    "chords": (88, 44, 45),
    "pad": (72, 84, 70),
    "lead": (100, 70, 50),
    "vocals": (100, 64, 60),
}


def compose(
    plan: Plan,
    *,
    thinker: Thinker | None = None,
    fresh: Mapping[str, int] | None = None,
) -> Score:
    """Write every part of ``plan``; deterministic for the plan's seed (and budget).

    With a ``thinker`` the lead's (or the sung line's) sections go through the reasoning loop
    (drafts, critics, retractions; ``overture.think``); without one, one draft per section is
    judged by the melody model alone. ``fresh`` (section id -> salt) asks for a fresh set of
    the lead's drafts for those sections.
    """
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
        elif name == "vocals":
            from overture.compose.setting import vocal_part

            notes = vocal_part(plan, seed, thinker=thinker)
        else:
            notes = lead_part(plan, seed, thinker=thinker, fresh=fresh)
        if name == "vocals":  # sung: the setting placed every syllable where it belongs
            notes = _clip(notes, plan.end_beat)
        else:
            notes = _humanise(
                _clip(notes, plan.end_beat), rng, drums=inst.is_drums, plan=plan, part=name
            )
        parts.append(part_of(name, inst_name, notes))
    return score_of(plan, parts)


def part_of(name: str, instrument: str, notes: list[Note]) -> Part:
    """The part ``name`` played by ``instrument``: its program and mix defaults, and
    ``notes`` in time order."""
    inst = INSTRUMENTS[instrument]
    volume, pan, reverb = _MIX.get(name, _MIX["lead"])
    return Part(
        name=name,
        instrument=instrument,
        program=inst.program,
        is_drums=inst.is_drums,
        bank=128 if inst.is_drums else 0,
        volume=volume,
        pan=pan,
        reverb=reverb,
        notes=sorted(notes, key=lambda n: (n.start, n.pitch)),
    )


def score_of(plan: Plan, parts: list[Part]) -> Score:
    """The score of ``plan`` (its tempo, metre, key, form and chords) holding ``parts``."""
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
        loop=plan.spec.loop,
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
        out.append(n if n.end <= end_beat else replace(n, duration=end_beat - n.start))
    return out


def _humanise(
    notes: list[Note],
    rng: random.Random,
    *,
    drums: bool,
    plan: Plan | None = None,
    part: str = "",
) -> list[Note]:
    """Human feel, seeded: a small velocity variation so repeated notes do not sound
    machine-stamped, and, with a ``plan``, timing offsets in the genre's feel (``Style.timing``:
    none for machine genres, a few milliseconds either way, or lazily behind the beat for lo-fi
    and neo-soul). A chord's notes move together; the drums' cymbals keep the time while the
    drums around them move; the lead keeps the melody writer's timing. No note moves out of its
    bar (so never before beat 0: a downbeat may come late, never early) or past the plan's
    ``end_beat``, and the downbeat of the song's final chord stays exact. A note still sounding
    when its key is struck again (in the bass, when the next note comes) is released there, so
    that no pitch overlaps itself."""
    tight = plan is not None and plan.style.timing == "tight"
    spread = (2 if tight else 4) if drums else (3 if tight else 6)
    out = [
        Note(
            n.pitch,
            n.start,
            n.duration,
            max(1, min(127, n.velocity + rng.randint(-spread, spread))),
        )
        for n in notes
    ]
    if plan is None or part == "lead":
        return out
    return _release_repeats(_human_timing(out, rng, plan, part=part, drums=drums), part=part)


def _human_timing(
    notes: list[Note], rng: random.Random, plan: Plan, *, part: str, drums: bool
) -> list[Note]:
    """Move notes by the genre's timing feel, converted from milliseconds to beats."""
    from overture.compose.drums import BACKBEAT, TIMEKEEPERS
    from overture.styles import TIMING

    spread_ms, drag_ms = TIMING.get(plan.style.timing, TIMING["natural"])
    if not spread_ms and not drag_ms:
        return notes
    per_ms = plan.tempo / 60_000.0  # beats per millisecond
    # The bass sits between the drums and the keys; of the drums only the backbeat lags.
    drag = drag_ms * {"bass": 0.5, "drums": 0.0}.get(part, 1.0)
    loop = bool(getattr(plan.spec, "loop", False))
    bpb = plan.time_signature.beats_per_bar
    final = None if loop else (plan.bars - 1) * bpb
    order = sorted(range(len(notes)), key=lambda i: (notes[i].start, notes[i].pitch))
    offsets = [0.0] * len(notes)
    cluster_start, cluster_offset = None, 0.0
    for i in order:
        n = notes[i]
        if drums:
            if n.pitch in TIMEKEEPERS:
                continue
            lag = drag_ms if n.pitch in BACKBEAT else 0.0
            offsets[i] = (lag + rng.uniform(-spread_ms, spread_ms)) * per_ms
            continue
        # Notes struck together (a chord, a strum, a roll) move as one.
        if cluster_start is None or n.start - cluster_start > 0.1:
            cluster_start = n.start
            cluster_offset = (drag + rng.uniform(-spread_ms, spread_ms)) * per_ms
        offsets[i] = cluster_offset
    out = []
    for n, off in zip(notes, offsets, strict=True):
        if off == 0.0 or (final is not None and abs(n.start - final) < 1e-6):
            out.append(n)  # on the grid; the final chord lands exactly on its downbeat
            continue
        bar_start = (n.start + 1e-9) // bpb * bpb
        start = max(bar_start, n.start + off)
        # A note ringing to the end still does; none rings past it.
        end = plan.end_beat if n.end >= plan.end_beat - 1e-6 else min(n.end + off, plan.end_beat)
        if start >= plan.end_beat - 1e-6 or end - start <= 1e-6:
            out.append(n)
        else:
            out.append(Note(n.pitch, start, end - start, n.velocity))
    return out


def _release_repeats(notes: list[Note], *, part: str) -> list[Note]:
    """End each note where its pitch (in the bass, any note) is struck again; of two notes of
    one pitch struck together, keep the louder."""
    import itertools

    order = sorted(range(len(notes)), key=lambda i: (notes[i].start, notes[i].pitch))
    lines: dict[int, list[int]] = {}
    for i in order:
        lines.setdefault(0 if part == "bass" else notes[i].pitch, []).append(i)
    out: list[Note | None] = list(notes)
    for line in lines.values():
        for a, b in itertools.pairwise(line):
            n, nxt = out[a], out[b]
            if n is None or nxt is None or n.end <= nxt.start + 1e-9:
                continue
            if nxt.start - n.start > 1e-6:
                out[a] = Note(n.pitch, n.start, nxt.start - n.start, n.velocity)
            elif n.pitch == nxt.pitch:  # a doubled note: one key, struck once
                keep = max(n, nxt, key=lambda x: (x.velocity, x.duration))
                out[a], out[b] = None, keep
    return [n for n in out if n is not None]
