"""Drum grooves per genre, on a sixteenth-note grid, with fills into section changes."""

from __future__ import annotations

import random

from overture.plan import Plan, PlanSection
from overture.score import Note

# General MIDI percussion keys.
KICK, SNARE, RIM, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 38, 37, 39, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, RIDE_BELL, TAMB, SHAKER = 45, 47, 50, 49, 51, 53, 54, 70
COWBELL, CLAVES, HI_BONGO, LO_CONGA, TIMPANI_LIKE = 56, 75, 60, 64, 41

# Grooves for 4/4 as 16-step strings per instrument: "x" loud, "o" soft, "." rest.
GROOVES_44: dict[str, dict[int, str]] = {
    "backbeat": {
        KICK: "x.....x.x.......",
        SNARE: "....x.......x...",
        CLOSED_HAT: "x.o.x.o.x.o.x.o.",
    },
    "rock": {KICK: "x.....x.x.x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "metal": {KICK: "xxxxxxxxxxxxxxxx", SNARE: "....x.......x...", CRASH: "x.......x......."},
    "four": {
        KICK: "x...x...x...x...",
        CLAP: "....x.......x...",
        OPEN_HAT: "..x...x...x...x.",
        CLOSED_HAT: "x.o.x.o.x.o.x.o.",
    },
    "dnb": {KICK: "x.........x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.xxx.xxx.xxx.xx"},
    "boombap": {
        KICK: "x......x..x.....",
        SNARE: "....x.......x...",
        CLOSED_HAT: "x.x.x.x.x.x.x.x.",
    },
    "trap": {KICK: "x.....x...x.....", SNARE: "........x.......", CLOSED_HAT: "xoxoxoxoxxxxxoxo"},
    "ballad": {KICK: "x.......x.......", RIM: "....x.......x...", CLOSED_HAT: "x...x...x...x..."},
    "jazz": {RIDE: "x..ox..ox..ox..o", PEDAL_HAT: "....x.......x...", KICK: "o..............."},
    "shuffle": {
        KICK: "x.......x.......",
        SNARE: "....x.......x...",
        CLOSED_HAT: "x..ox..ox..ox..o",
    },
    "funk": {KICK: "x..x..x...x..x..", SNARE: "....x..o.o..x..o", CLOSED_HAT: "xxxxxxxxxxxxxxxx"},
    "rnb": {KICK: "x......x..x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.xxx.x.x.xxx.x."},
    "train": {KICK: "x.......x.......", SNARE: "o.xoo.xoo.xoo.xo", CLOSED_HAT: "x...x...x...x..."},
    "folk": {KICK: "x.......x.......", TAMB: "....x.......x...", SHAKER: "x.x.x.x.x.x.x.x."},
    "onedrop": {KICK: "........x.......", RIM: "........x.......", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "latin": {
        CLAVES: "x..x..x...x.x...",
        LO_CONGA: "..x..x.x..x..x.x",
        COWBELL: "x.x.x.x.x.x.x.x.",
        KICK: "...x.......x....",
    },
    "bossa": {RIM: "x..x..x...x..x..", KICK: "x..xx..xx..xx..x", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "tango": {KICK: "x...x...x...x...", SNARE: "x..x....x...x..."},
    "epic": {KICK: "x.....x.x.......", TIMPANI_LIKE: "x.......x.x.x...", CRASH: "x..............."},
    "chip": {KICK: "x.......x.x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "chinese": {
        LO_CONGA: "x.....x.x.......",
        HI_BONGO: "....x.......x.x.",
        TAMB: "x...x...x...x...",
    },
}


def _generic(steps: int, compound: bool) -> dict[int, str]:
    """A groove for meters other than 4/4: kick on the downbeat, backbeat on the next pulse."""
    pulse = 6 if compound else 4
    kick = "".join("x" if i == 0 else "." for i in range(steps))
    snare = "".join(
        "x" if i % pulse == 0 and i > 0 and (i // pulse) % 2 == 1 else "." for i in range(steps)
    )
    if not compound and steps == 12:  # waltz: oom-pah-pah
        snare = "....o...o..."
    hat = "".join("x" if i % 2 == 0 else "." for i in range(steps))
    return {KICK: kick, SNARE: snare, CLOSED_HAT: hat}


def drum_part(plan: Plan, rng: random.Random) -> list[Note]:
    groove_name = plan.style.groove
    if groove_name == "none":
        return []
    ts = plan.time_signature
    steps = round(ts.beats_per_bar * 4)
    if steps == 16 and groove_name in GROOVES_44:
        groove = GROOVES_44[groove_name]
    else:
        groove = _generic(steps, ts.is_compound)
    swing = plan.style.feel in {"swing", "shuffle"}
    notes: list[Note] = []
    for s in plan.sections:
        if "drums" not in s.parts:
            continue
        for bar in range(s.start_bar, s.end_bar):
            last_in_section = bar == s.end_bar - 1
            final_bar = bar == plan.bars - 1
            fill = last_in_section and not final_bar and s.bars >= 4
            notes.extend(_bar(plan, s, bar, groove, steps, swing, fill, rng))
            if bar == s.start_bar and s.energy >= 0.5:
                notes.append(Note(CRASH, plan.time_signature.beats_per_bar * bar, 1.0, 100))
    # The song ends on one hit with the final chord.
    end_bar_beat = (plan.bars - 1) * ts.beats_per_bar
    notes = [n for n in notes if n.start < end_bar_beat or plan.bars == 1]
    if plan.sections[-1].parts and "drums" in plan.sections[-1].parts and plan.bars > 1:
        notes += [Note(KICK, end_bar_beat, 1.0, 105), Note(CRASH, end_bar_beat, 2.0, 100)]
    return notes


def _bar(
    plan: Plan,
    section: PlanSection,
    bar: int,
    groove: dict[int, str],
    steps: int,
    swing: bool,
    fill: bool,
    rng: random.Random,
) -> list[Note]:
    start = bar * plan.time_signature.beats_per_bar
    level = 0.65 + 0.35 * section.energy
    out = []
    fill_from = steps - 4 if fill else steps
    for key, pattern in groove.items():
        for i, ch in enumerate(pattern[:steps]):
            if ch == "." or i >= fill_from:
                continue
            if section.energy < 0.5 and key in {CLOSED_HAT, OPEN_HAT} and i % 4 != 0:
                continue  # quieter sections thin the hats out
            vel = (100 if ch == "x" else 70) * level + rng.uniform(-6, 6)
            out.append(Note(key, start + _swung(i, swing), 0.25, _vel(vel)))
    if fill:
        toms = [HIGH_TOM, HIGH_TOM, MID_TOM, LOW_TOM] if rng.random() < 0.5 else [SNARE] * 4
        for j, key in enumerate(toms):
            i = fill_from + j
            out.append(Note(key, start + _swung(i, swing), 0.25, _vel(85 + 8 * j)))
    return out


def _swung(step: int, swing: bool) -> float:
    """Beat offset of a sixteenth step; swing delays the off-beat eighth to a triplet."""
    beat, sub = divmod(step, 4)
    if swing and sub == 2:
        return beat + 2 / 3
    if swing and sub in (1, 3):
        return beat + (1 / 3 if sub == 1 else 5 / 6)
    return step / 4


def _vel(v: float) -> int:
    return max(1, min(127, round(v)))
