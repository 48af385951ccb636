"""Drum grooves per genre, shaped by each section's energy, with fills into section changes.

A groove is written out bar by bar for 4/4 where the idiom lives in its exact rhythm (a clave, a
breakbeat, a one drop) and generated from its rules for every other metre: where the kick falls
(the strong pulses; every pulse for four-on-the-floor; the middle of the bar for a one drop),
where the backbeat falls, and how densely the timekeeper (hats, ride, shaker, bell) subdivides
the pulse. Swung genres put their off-beats on the third triplet of the beat; compound metres
(6/8, 9/8, 12/8) are felt in dotted quarters.

Each bar is then shaped by its section: at rest (intros, outros, breakdowns) a half-time skeleton
with the timekeeper on the pulse; the verse plays the groove; a chorus adds what the genre adds
(denser hats, a ride, a clap, double kick) and a crash on its downbeat; the last chorus is the
biggest; a bridge departs (toms, half time, a breakdown). The last bar before a new section
carries a fill, longer and denser the livelier the coming section.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from overture.plan import Plan
from overture.score import Note
from overture.styles import (
    CHORUS,
    PEAK,
    REST,
    VERSE,
    energy_level,
    loudness,
    next_section,
    pulses,
    strong_pulses,
    swell,
    vel,
)
from overture.theory import Chord, TimeSignature

# General MIDI percussion keys.
KICK, SNARE, RIM, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 38, 37, 39, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, RIDE_BELL, TAMB, SHAKER = 45, 47, 50, 49, 51, 53, 54, 70
COWBELL, CLAVES, HI_BONGO, LO_CONGA, TIMPANI_LIKE = 56, 75, 60, 64, 41
FLOOR_TOM, HIGH_FLOOR_TOM, HI_MID_TOM, CHINA, SPLASH, CRASH2 = 41, 43, 48, 52, 55, 57
MUTE_CONGA, OPEN_CONGA, HI_TIMBALE, LO_TIMBALE = 62, 63, 65, 66
WOODBLOCK_HI, WOODBLOCK_LO = 76, 77
# In the orchestra kit (bank 128, program 48) keys 41-53 are timpani tuned F2..F3: a pattern
# that names TIMPANI is played on the root of the bar's chord.
TIMPANI = TIMPANI_LIKE

# Cymbals and shakers keep the time: the human-feel pass leaves them on the grid, so the other
# voices move around a steady reference.
TIMEKEEPERS = frozenset(
    {CLOSED_HAT, PEDAL_HAT, OPEN_HAT, RIDE, RIDE_BELL, SHAKER, COWBELL, CLAVES, WOODBLOCK_HI}
)
_KICKS = frozenset({35, KICK})
BACKBEAT = frozenset({SNARE, RIM, CLAP, 40})  # lags a little in a laid-back feel
_HATS = frozenset({CLOSED_HAT, PEDAL_HAT, OPEN_HAT, RIDE, SHAKER})
_STRENGTH = {"X": 1.15, "x": 1.0, "o": 0.72, "g": 0.42}
# Voices a chorus can layer on the backbeat.
_LAYERS = {"clap": CLAP, "backbeat": SNARE, "splash": SPLASH, "tamb": TAMB}

Hit = tuple[float, int, float]  # (beats into the bar, GM key, strength: 1.0 a normal hit)
Bar44 = dict[int, str]  # key -> 16 steps (sixteenths) or 12 (triplet eighths) of a 4/4 bar


@dataclass(frozen=True, slots=True)
class Groove:
    """A genre's drum idiom. Patterns use ``x`` (hit), ``X`` (accent), ``o`` (soft), ``g``
    (ghost) and ``.`` (rest)."""

    bars44: tuple[Bar44, ...] = ()  # written-out 4/4 bars (one, or two for a clave)
    kick: str = "strong"  # generated kick: strong | every | drop | double | feather | none
    back: str = "back"  # generated backbeat: back | drop | train | none
    # The generated timekeeper: pulses | eighths | sixteenths | ride | shuffle | none.
    time: str = "eighths"
    kick_key: int = KICK
    back_key: int = SNARE
    time_key: int = CLOSED_HAT
    off_key: int | None = None  # a voice on every off-beat (house open hat, conga tones)
    core: frozenset[int] = frozenset()  # voices that keep playing at rest, as written
    lift: tuple[str, ...] = ("dense",)  # what a chorus adds, see _lift
    bridge: str = "toms"  # how a bridge departs: toms | half | breakdown | two | four | ride
    fill: str = "toms"  # toms | snare | build | roll | jazz | timbales | timpani
    crash: int = CRASH
    toms: tuple[int, ...] = (HIGH_TOM, HI_MID_TOM, MID_TOM, LOW_TOM, HIGH_FLOOR_TOM, FLOOR_TOM)
    chatter: float = 0.0  # chance per pulse of a ghosted snare comment (jazz comping)
    rolls: bool = False  # trap hi-hat rolls in triplet sixteenths and thirty-seconds
    timpani: bool = False  # orchestra kit: toms are timpani tuned to the chord

    def role(self, key: int) -> str:
        """``kick``, ``back``, ``time`` or ``perc``: what a voice does in the groove."""
        if key == self.kick_key or key in _KICKS:
            return "kick"
        if key == self.back_key or key in BACKBEAT:
            return "back"
        if key == self.time_key or key in _HATS:
            return "time"
        return "perc"


_ORCH_TOMS = (TIMPANI, TIMPANI, TIMPANI, TIMPANI)

GROOVES: dict[str, Groove] = {
    "backbeat": Groove(
        ({KICK: "x.....x.x.......", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        lift=("hats16", "clap"),
    ),
    "rock": Groove(
        ({KICK: "x.....x.x.x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        lift=("ride", "open"),
    ),
    "metal": Groove(
        ({KICK: "x.x.x.x.x.x.x.x.", SNARE: "....X.......X...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        kick="double",
        lift=("kick16", "crash4"),
        bridge="half",
    ),
    "four": Groove(
        (
            {
                KICK: "x...x...x...x...",
                CLAP: "....x.......x...",
                OPEN_HAT: "..o...o...o...o.",
                CLOSED_HAT: "o...o...o...o...",
            },
        ),
        kick="every",
        back_key=CLAP,
        off_key=OPEN_HAT,
        core=frozenset({KICK}),
        lift=("hats16",),
        bridge="breakdown",
        fill="build",
    ),
    "dnb": Groove(
        ({KICK: "x.........x.....", SNARE: "....x..g.g..x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        lift=("hats16", "ride"),
        bridge="half",
        fill="build",
    ),
    "synthwave": Groove(
        ({KICK: "x.......x.......", SNARE: "....X.......X...", CLOSED_HAT: "x.o.x.o.x.o.x.o."},),
        lift=("four", "hats16"),
    ),
    "boombap": Groove(
        ({KICK: "x......x..x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        lift=("open", "dense"),
        bridge="breakdown",
        fill="snare",
    ),
    "trap": Groove(
        ({KICK: "x.....x...x.....", SNARE: "........X.......", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        back="drop",
        rolls=True,
        lift=("hats16", "clap"),
        bridge="breakdown",
        fill="snare",
    ),
    "ballad": Groove(
        ({KICK: "x.......x.......", RIM: "....x.......x...", CLOSED_HAT: "x.o.x.o.x.o.x.o."},),
        back_key=RIM,
        lift=("snare", "ride"),
    ),
    "jazz": Groove(
        ({RIDE: "x..x.xx..x.x", PEDAL_HAT: "...x.....x..", KICK: "g..g..g..g.."},),
        kick="feather",
        back_key=PEDAL_HAT,
        time="ride",
        time_key=RIDE,
        core=frozenset({RIDE, PEDAL_HAT}),
        lift=("chatter",),
        chatter=0.12,
        bridge="two",
        fill="jazz",
    ),
    "shuffle": Groove(
        ({KICK: "x.....x.....", SNARE: "...x.....x..", CLOSED_HAT: "x.ox.ox.ox.o"},),
        time="shuffle",
        lift=("ride",),
    ),
    "funk": Groove(
        ({KICK: "x..x..x...x..x..", SNARE: "....x..g.g..x..g", CLOSED_HAT: "xoxoxoxoxoxoxoxo"},),
        time="sixteenths",
        lift=("open", "tamb"),
        bridge="ride",
        fill="snare",
    ),
    "rnb": Groove(
        ({KICK: "x......x..x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.oox.o.x.oox.o."},),
        lift=("clap", "dense"),
        bridge="half",
        fill="snare",
    ),
    "train": Groove(
        ({KICK: "x.......x.......", SNARE: "gogoxogogogoxogo", CLOSED_HAT: "x...x...x...x..."},),
        back="train",
        time="pulses",
        lift=("ride", "dense"),
        bridge="two",
        fill="snare",
    ),
    "folk": Groove(
        ({KICK: "x.......x.......", TAMB: "....x.......x...", SHAKER: "x.o.x.o.x.o.x.o."},),
        back_key=TAMB,
        time_key=SHAKER,
        core=frozenset({SHAKER}),
        lift=("backbeat",),
    ),
    "onedrop": Groove(
        ({KICK: "........x.......", RIM: "........x.......", CLOSED_HAT: "x.o.x.o.x.o.x.o."},),
        kick="drop",
        back="drop",
        back_key=RIM,
        core=frozenset({KICK, RIM}),
        lift=("snare", "open"),
        bridge="four",
    ),
    "latin": Groove(
        (  # son clave 3-2 over two bars, cowbell on the beat, the congas' tumbao
            {
                CLAVES: "x.....x.....x...",
                COWBELL: "x...o...x...o...",
                MUTE_CONGA: "o...x...o...x...",
                OPEN_CONGA: "............x.x.",
                KICK: "......o.....o...",
            },
            {
                CLAVES: "....x...x.......",
                COWBELL: "x...o...x...o...",
                MUTE_CONGA: "o...x...o...x...",
                OPEN_CONGA: "............x.x.",
                KICK: "......o.....o...",
            },
        ),
        back_key=MUTE_CONGA,
        time="pulses",
        time_key=COWBELL,
        off_key=OPEN_CONGA,
        core=frozenset({CLAVES, MUTE_CONGA, OPEN_CONGA}),
        lift=("dense",),
        bridge="breakdown",
        fill="timbales",
    ),
    "bossa": Groove(
        (  # the bossa clave on the rim, the kick with the surdo
            {RIM: "x.....x.....x...", KICK: "x.....o.x.....o.", CLOSED_HAT: "x.o.x.o.x.o.x.o."},
            {RIM: "....x.....x.....", KICK: "x.....o.x.....o.", CLOSED_HAT: "x.o.x.o.x.o.x.o."},
        ),
        back_key=RIM,
        core=frozenset({RIM, CLOSED_HAT}),
        lift=("ride",),
        bridge="two",
        fill="snare",
    ),
    "tango": Groove(
        ({KICK: "x...o...x...o...", SNARE: "......o.......o."},),
        kick="every",
        back="none",
        time="none",
        lift=("backbeat",),
        bridge="half",
        fill="snare",
        crash=CRASH2,
        toms=_ORCH_TOMS,
        timpani=True,
    ),
    "epic": Groove(
        # Timpani on every beat, tuned to the chord's root, the bass drum on the downbeat: a
        # film cue's pulse, with nothing between the beats, so that a slow tempo is heard as
        # written and not at double speed (the dotted trailer figure x.....x.x..... has no beat
        # 2 or 4 and is heard in eighths). The concert bass drum is pitched (around F/F#) and
        # hit on every beat would colour the key; the tuned timpani carry the pulse instead.
        ({KICK: "x...............", TIMPANI: "x...x...x...x..."},),
        back="none",
        time="pulses",
        time_key=TIMPANI,
        core=frozenset({KICK, TIMPANI}),
        lift=("ostinato",),
        fill="timpani",
        crash=CRASH2,
        toms=_ORCH_TOMS,
        timpani=True,
    ),
    "chip": Groove(
        ({KICK: "x.......x.x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},),
        lift=("hats16",),
        bridge="half",
        fill="snare",
    ),
    "chinese": Groove(
        (  # tanggu (floor tom), bangzi (wood blocks)
            {
                FLOOR_TOM: "x.....x.x.......",
                WOODBLOCK_HI: "x.o.x.o.x.o.x.o.",
                WOODBLOCK_LO: "....x.......x...",
            },
        ),
        kick_key=FLOOR_TOM,
        back_key=WOODBLOCK_LO,
        time_key=WOODBLOCK_HI,
        core=frozenset({WOODBLOCK_HI}),
        lift=("dense", "splash"),
        fill="roll",
        crash=CHINA,
        toms=(HIGH_TOM, MID_TOM, LOW_TOM, FLOOR_TOM),
    ),
}


@dataclass(frozen=True, slots=True)
class Meter:
    """Where a bar's pulses fall, and which of them take the kick and the backbeat."""

    beats: float  # bar length in quarter notes
    grid: int  # steps per quarter note: 4 (sixteenths), or 3 (triplets) when swung
    pulses: tuple[float, ...]  # pulse onsets in beats
    strong: tuple[int, ...]  # pulse indices for the kick
    back: tuple[int, ...]  # pulse indices for the backbeat
    mid: int  # the pulse in the middle of the bar (half-time snare, one drop)
    waltz: bool  # three beats: the backbeat is light (oom-pah-pah)

    def pulse_length(self, i: int) -> float:
        end = self.pulses[i + 1] if i + 1 < len(self.pulses) else self.beats
        return end - self.pulses[i]

    def on_pulse(self, t: float) -> bool:
        return any(abs(t - p) < 1e-6 for p in self.pulses)

    def snap(self, t: float) -> float:
        return math.floor(t * self.grid + 0.5) / self.grid


def meter(ts: TimeSignature, swing: bool) -> Meter:
    """The drummer's view of ``ts``; swing puts the simple metres on a triplet grid."""
    ps = pulses(ts)
    n = len(ps)
    grid = 3 if swing and ts.denominator == 4 else 4
    strong = strong_pulses(ts)
    back = tuple(i for i in range(1, n) if i not in strong)
    if n == 4:
        back = (1, 3)
    elif n == 5:
        back = (2, 4)
    mid = n // 2 + n % 2 if n > 1 else 0
    return Meter(ts.beats_per_bar, grid, ps, strong, back, mid, waltz=n == 3 and len(back) == 2)


def drum_part(plan: Plan, rng: random.Random) -> list[Note]:
    """The drum part: the genre's groove bar by bar, shaped by each section's energy."""
    groove = GROOVES.get(plan.style.groove)
    if groove is None:
        return []
    swing = plan.style.swing
    m = meter(plan.time_signature, swing)
    bpb = m.beats
    written = _written(groove, plan.time_signature, swing)
    # A song ends on one hit with its final chord; a loop's last bar grooves back into its first.
    loop = bool(getattr(plan.spec, "loop", False))
    ending = plan.bars > 1 and not loop
    notes: list[Note] = []
    for s in plan.sections:
        if "drums" not in s.parts:
            continue
        level = energy_level(s.energy)
        nxt = next_section(plan, s) or (plan.sections[0] if loop else None)
        for bar in range(s.start_bar, s.end_bar):
            if ending and bar == plan.bars - 1:
                continue  # the final chord: one hit, below
            n = bar - s.start_bar
            hits = list(written[n % len(written)]) if written else _generated(groove, m)
            hits = _shape(hits, groove, m, level)
            if s.kind == "bridge":
                hits = _depart(hits, groove, m, groove.bridge)
            hits += _comments(groove, m, level, rng)
            if groove.rolls and level >= VERSE:
                hits = _rolls(hits, m, level, rng)
            # A fill into the next section, or into the song's final chord.
            coming = nxt if bar == s.end_bar - 1 else None
            if ending and bar == plan.bars - 2 and s.end_bar == plan.bars:
                coming = s
            if coming is not None and "drums" in coming.parts and s.bars >= 2:
                hits = _fill(hits, groove, m, coming.energy)
            if (n == 0 and level >= CHORUS) or (level == PEAK and n % 4 == 0):
                hits = _crash(hits, groove)
            hits = _dedupe(hits)
            chord = plan.chords[bar]
            start = bar * bpb
            base = 100 * loudness(s.energy)
            for t, key, strength in hits:
                weight = _metric(t, m) if groove.role(key) == "time" else 1.0
                v = base * strength * weight * swell(plan, bar, t) + rng.uniform(-3, 3)
                length = 1.0 if key in {groove.crash, CRASH, CHINA} else 0.25
                notes.append(Note(_tune(key, groove, chord), start + t, length, vel(v)))
    end_bar_beat = (plan.bars - 1) * bpb
    last = plan.sections[-1]
    if ending and "drums" in last.parts:
        chord = plan.chords[-1]
        v = 100 * loudness(last.energy)
        notes.append(Note(_tune(groove.kick_key, groove, chord), end_bar_beat, 1.0, vel(v * 1.05)))
        notes.append(Note(groove.crash, end_bar_beat, 2.0, vel(v)))
        if groove.timpani:
            notes.append(Note(_tune(TIMPANI, groove, chord), end_bar_beat, 2.0, vel(v)))
    return notes


# --- the groove of one bar -------------------------------------------------------------------


def _written(groove: Groove, ts: TimeSignature, swing: bool) -> list[list[Hit]]:
    """The written-out 4/4 bars as hits, or nothing for other metres (the groove is generated)."""
    if str(ts) != "4/4" or not groove.bars44:
        return []
    out = []
    for bar in groove.bars44:
        hits: list[Hit] = []
        for key, pattern in bar.items():
            grid = len(pattern) // 4
            for i, ch in enumerate(pattern):
                if ch != ".":
                    t = _swung(i, swing) if grid == 4 else i / grid
                    hits.append((t, key, _STRENGTH[ch]))
        out.append(hits)
    return out


def _generated(groove: Groove, m: Meter) -> list[Hit]:
    """The groove from its rules, for any metre."""
    hits: list[Hit] = []
    n = len(m.pulses)
    step = 1 / m.grid
    # Kick.
    kick_at = {
        "strong": m.strong,
        "every": tuple(range(n)),
        "drop": (m.mid,),
        "double": tuple(range(n)),
        "feather": tuple(range(n)),
        "none": (),
    }[groove.kick]
    for i in kick_at:
        hits.append((m.pulses[i], groove.kick_key, 0.42 if groove.kick == "feather" else 1.0))
    if groove.kick == "double":  # double kick: every eighth
        hits += [(t, groove.kick_key, 0.8) for t in _subdivide(m, 2) if not m.on_pulse(t)]
    # Backbeat.
    if groove.back == "back":
        for i in m.back:
            hits.append((m.pulses[i], groove.back_key, 0.72 if m.waltz else 1.0))
    elif groove.back == "drop":
        hits.append((m.pulses[m.mid], groove.back_key, 1.0))
    elif groove.back == "train":
        for j in range(round(m.beats * m.grid)):
            t = j * step
            accent = any(abs(t - m.pulses[i]) < 1e-6 for i in m.back)
            hits.append((t, groove.back_key, 1.0 if accent else 0.42))
    # Timekeeper.
    if groove.time == "pulses":
        hits += [(p, groove.time_key, 1.0) for p in m.pulses]
    elif groove.time == "eighths":
        hits += [(t, groove.time_key, 1.0 if m.on_pulse(t) else 0.72) for t in _subdivide(m, 2)]
    elif groove.time == "sixteenths":
        hits += [(t, groove.time_key, 1.0 if m.on_pulse(t) else 0.72) for t in _subdivide(m, 4)]
    elif groove.time in {"ride", "shuffle"}:
        # Each pulse, and the skip note on its last triplet (last eighth in compound metres):
        # before every pulse for a shuffle, after the backbeats for the jazz ride.
        for i, p in enumerate(m.pulses):
            hits.append((p, groove.time_key, 1.0))
            if groove.time == "shuffle" or i in m.back:
                skip = p + m.pulse_length(i) - (1 / 3 if m.grid == 3 else 0.5)
                hits.append((skip, groove.time_key, 0.72))
    if groove.off_key is not None:
        for i, p in enumerate(m.pulses):
            length = m.pulse_length(i)
            off = p + (length / 2 if length <= 1 else length - 0.5)
            hits.append((m.snap(off) if m.grid == 3 else off, groove.off_key, 0.72))
    return hits


def _subdivide(m: Meter, per_beat: int) -> list[float]:
    """Onsets of eighths (``per_beat`` 2) or sixteenths (4); swung on a triplet grid."""
    out: list[float] = []
    for i, p in enumerate(m.pulses):
        length = m.pulse_length(i)
        if m.grid == 3:  # triplets: the swung eighth, or every triplet for "sixteenths"
            offs = [0.0, 2 / 3] if per_beat == 2 else [0.0, 1 / 3, 2 / 3]
            beat = 0.0
            while beat < length - 1e-9:
                out += [p + beat + o for o in offs if beat + o < length - 1e-9]
                beat += 1.0
        else:
            k = round(length * per_beat)
            out += [p + j / per_beat for j in range(k)]
    return out


def _shape(hits: list[Hit], groove: Groove, m: Meter, level: int) -> list[Hit]:
    """The groove at a section's energy: a skeleton at rest, the groove in a verse, lifted in
    a chorus."""
    if level == REST:
        return _rest(hits, groove, m)
    if level == VERSE:
        return hits
    extra = ("dense",) if level == PEAK and not {"dense", "hats16"} & set(groove.lift) else ()
    return _lift(hits, groove, m, groove.lift + extra)


def _rest(hits: list[Hit], groove: Groove, m: Meter) -> list[Hit]:
    """Sparse: the timekeeper on the pulse, one kick, the backbeat once in the middle of the bar
    on the rim (a half-time skeleton); the genre's core voices stay as written."""
    kicks = sorted(t for t, k, _ in hits if groove.role(k) == "kick" and k not in groove.core)
    first_kick = kicks[0] if kicks else None
    out: list[Hit] = []
    back_key = None
    for t, key, strength in hits:
        role = groove.role(key)
        if key in groove.core:
            out.append((t, key, strength))
        elif strength < 0.5:
            continue  # ghost notes rest too
        elif role == "time" and m.on_pulse(t) and key != OPEN_HAT:
            out.append((t, key, strength * 0.85))
        elif role == "kick" and (groove.kick == "every" or t == first_kick):
            out.append((t, key, strength))
        elif role == "back":
            back_key = RIM if key == SNARE else key
    if back_key is not None:
        out.append((m.pulses[m.mid], back_key, 0.7))
    return out


def _lift(hits: list[Hit], groove: Groove, m: Meter, names: tuple[str, ...]) -> list[Hit]:
    """What a chorus adds to the groove."""
    out = list(hits)
    for name in names:
        if name == "dense":  # double the timekeeper once: eighths to sixteenths
            kept = [k for _, k, _ in out if groove.role(k) == "time" and k != OPEN_HAT]
            key = max(set(kept), key=kept.count) if kept else groove.time_key
            times = sorted(t for t, k, _ in out if k == key)
            taken = {round(t, 4) for t, k, _ in out if groove.role(k) == "time"}
            ends = [*times[1:], m.beats][: len(times)]
            for a, b in zip(times, ends, strict=True):
                t = m.snap((a + b) / 2)
                if a + 1e-6 < t < b - 1e-6 and round(t, 4) not in taken:
                    out.append((t, key, 0.5))
        elif name == "hats16":  # closed hats on every step the open hat leaves free
            opens = {round(t, 4) for t, k, _ in out if k == OPEN_HAT}
            out = [h for h in out if h[1] != CLOSED_HAT]
            for j in range(round(m.beats * m.grid)):
                t = j / m.grid
                if round(t, 4) not in opens:
                    out.append((t, CLOSED_HAT, 1.0 if m.on_pulse(t) else 0.6))
        elif name == "ride":
            out = [(t, RIDE if k == CLOSED_HAT else k, s) for t, k, s in out]
        elif name == "open":  # open hat on the off-beat after each backbeat
            for i in m.back:
                t = m.snap(m.pulses[i] + min(0.5, m.pulse_length(i) / 2))
                if m.grid == 3:
                    t = m.pulses[i] + 2 / 3
                out = [h for h in out if not (abs(h[0] - t) < 1e-6 and h[1] == CLOSED_HAT)]
                out.append((t, OPEN_HAT, 0.8))
        elif name in _LAYERS:
            backs = [t for t, k, s in out if groove.role(k) == "back" and k != RIM and s >= 0.7]
            backs = backs or [m.pulses[i] for i in m.back]
            out += [(t, _LAYERS[name], 0.85) for t in sorted(set(backs))]
        elif name == "snare":  # the rim click opens up into the full snare
            out = [(t, SNARE if k == RIM else k, s) for t, k, s in out]
        elif name == "four":
            kicks = {round(t, 4) for t, k, _ in out if k == KICK}
            out += [(p, KICK, 1.0) for p in m.pulses if round(p, 4) not in kicks]
        elif name == "kick16":
            out = [h for h in out if h[1] != KICK]
            out += [(j / 4, KICK, 1.0 if j % 2 == 0 else 0.85) for j in range(round(m.beats * 4))]
        elif name == "crash4":
            out = [h for h in out if groove.role(h[1]) != "time"]
            out += [(p, groove.crash, 0.9) for p in m.pulses]
        elif name == "ostinato":  # a concert snare ostinato, accents on the pulse
            out += [(t, SNARE, 0.85 if m.on_pulse(t) else 0.45) for t in _subdivide(m, 4)]
    return out


def _depart(hits: list[Hit], groove: Groove, m: Meter, how: str) -> list[Hit]:
    """A bridge's groove: a departure from the verse and chorus."""
    if how == "toms":  # the timekeeper moves to the floor tom (or the timpani)
        low = groove.toms[-1]
        return [
            (
                t,
                low if groove.role(k) == "time" else k,
                s * (0.9 if groove.role(k) == "time" else 1),
            )
            for t, k, s in hits
            if k != OPEN_HAT
        ]
    if how == "half":
        kicks = [h for h in hits if groove.role(h[1]) == "kick"]
        first = min((h[0] for h in kicks), default=None)
        out = [
            h for h in hits if groove.role(h[1]) not in {"kick", "back"} or (h[1] in groove.core)
        ]
        if first is not None:
            out.append((first, kicks[0][1], 1.0))
        out.append(
            (m.pulses[m.mid], SNARE if groove.back_key in BACKBEAT else groove.back_key, 1.0)
        )
        return out
    if how == "breakdown":
        return [h for h in hits if groove.role(h[1]) != "kick"]
    if how == "two":
        out = [h for h in hits if groove.role(h[1]) not in {"time", "kick"}]
        out += [(p, groove.time_key, 0.9) for p in m.pulses]
        out += [(m.pulses[i], groove.kick_key, 0.6) for i in m.strong]
        return out
    if how == "four":
        return [h for h in hits if h[1] != KICK] + [(p, KICK, 1.0) for p in m.pulses]
    if how == "ride":
        return [(t, RIDE if k in {CLOSED_HAT, OPEN_HAT} else k, s) for t, k, s in hits]
    return hits


def _comments(groove: Groove, m: Meter, level: int, rng: random.Random) -> list[Hit]:
    """Jazz comping on the snare: ghosted triplet comments, more of them in a chorus, and the
    odd kick 'bomb' on the last triplet of the bar."""
    if not groove.chatter or level == REST:
        return []
    chance = groove.chatter * (1.0, 1.0, 2.0, 2.6)[level]
    out: list[Hit] = []
    for i, p in enumerate(m.pulses):
        if rng.random() < chance:
            t = p + rng.choice((1 / 3, 2 / 3)) * min(1.0, m.pulse_length(i))
            out.append((m.snap(t), SNARE, rng.uniform(0.35, 0.55)))
    if level >= CHORUS and rng.random() < 0.3:
        out.append((m.snap(m.beats - 1 / 3), KICK, 0.8))
    return out


def _rolls(hits: list[Hit], m: Meter, level: int, rng: random.Random) -> list[Hit]:
    """Trap hi-hat rolls: a beat (or half) of triplet sixteenths or thirty-seconds, rising."""
    chance = (0.0, 0.5, 0.75, 1.0)[level]
    if rng.random() >= chance:
        return hits
    i = rng.choice(range(len(m.pulses) // 2, len(m.pulses))) if len(m.pulses) > 1 else 0
    start = m.pulses[i] + (0.5 if rng.random() < 0.4 and m.pulse_length(i) >= 1 else 0.0)
    end = m.pulses[i] + m.pulse_length(i)
    per_beat = rng.choice((6, 8))
    out = [h for h in hits if not (h[1] == CLOSED_HAT and start - 1e-6 <= h[0] < end - 1e-6)]
    k = round((end - start) * per_beat)
    out += [(start + j / per_beat, CLOSED_HAT, 0.45 + 0.4 * j / max(1, k - 1)) for j in range(k)]
    return out


def _fill(hits: list[Hit], groove: Groove, m: Meter, energy: float) -> list[Hit]:
    """A fill over the end of the bar into a section of ``energy``: one pulse into a quiet one,
    half the bar into a verse or chorus, the whole bar around the toms into the last chorus (and,
    for the electronic builds, into any chorus). Denser and louder the livelier the coming
    section."""
    n = len(m.pulses)
    level = energy_level(energy)
    half = max(1, round(n / 2))
    count = {REST: 1, VERSE: half, CHORUS: half, PEAK: n}[level]
    if groove.fill == "build" and level >= CHORUS:
        count = n
    elif groove.fill in {"snare", "jazz", "timbales"}:
        count = min(count, half)  # a drummer's fill, not a build: at most half the bar
    start = m.pulses[n - min(count, n)]
    per_beat = 3 if m.grid == 3 or groove.fill == "jazz" else (4 if level >= CHORUS else 2)
    # The groove stops where the fill starts, except the kick on the pulse.
    out = [
        h for h in hits if h[0] < start - 1e-6 or (groove.role(h[1]) == "kick" and m.on_pulse(h[0]))
    ]
    times = _fill_times(groove.fill, m, start, per_beat)
    k = len(times)
    toms = groove.toms if groove.timpani else (SNARE, *groove.toms)
    for j, t in enumerate(times):
        rise = (0.7 + 0.35 * j / max(1, k - 1)) * (1.0 + 0.08 * level)
        if groove.fill in {"snare", "build"}:
            key = SNARE
        elif groove.fill == "timbales":
            key = HI_TIMBALE if j % 2 == 0 else LO_TIMBALE
        elif groove.fill == "timpani":
            key = TIMPANI
        elif groove.fill == "roll":  # the big drum rolls, the high drum answers at the end
            key = groove.toms[-1] if j < k - 2 else groove.toms[0]
        elif groove.fill == "jazz":  # snare triplets, a tom on each last triplet
            key = SNARE if j % 3 != 2 else groove.toms[min(len(groove.toms) - 1, 2 + j // 3)]
        else:  # around the toms, high to low
            key = toms[min(len(toms) - 1, j * len(toms) // k)]
        out.append((t, key, min(1.2, rise)))
    if groove.fill == "jazz":  # the set-up kick on the last triplet
        out.append((m.snap(m.beats - 1 / 3), KICK, 1.0))
    if groove.fill == "timpani":
        out.append((m.pulses[-1], KICK, 0.9))
    return out


def _fill_times(kind: str, m: Meter, start: float, per_beat: int) -> list[float]:
    """Onsets of a fill from ``start`` to the end of the bar."""
    times: list[float] = []
    if kind == "roll":  # accelerating: eighths, sixteenths, thirty-seconds
        t, third = start, (m.beats - start) / 3
        for sub in (2, 4, 8):
            seg_end = min(m.beats, t + third)
            while t < seg_end - 1e-6:
                times.append(t)
                t += 1 / sub
        return times
    if kind == "build" and start == 0.0 and len(m.pulses) > 1:
        # A build: eighths for the first half of the bar, then the fill's subdivision.
        half = m.pulses[len(m.pulses) // 2]
        times = [x for x in _subdivide(m, 2) if x < half - 1e-6]
        start = half
    t = start
    while t < m.beats - 1e-6:
        times.append(t)
        t += 1 / per_beat
    return times


def _crash(hits: list[Hit], groove: Groove) -> list[Hit]:
    """A crash (with a kick under it) on the downbeat."""
    out = [h for h in hits if not (h[0] < 1e-6 and groove.role(h[1]) == "time")]
    out.append((0.0, groove.crash, 1.0))
    if groove.kick != "drop" and not any(h[0] < 1e-6 and h[1] == groove.kick_key for h in out):
        out.append((0.0, groove.kick_key, 1.0))
    return out


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per voice and onset (the strongest), in time order."""
    best: dict[tuple[float, int], Hit] = {}
    for h in hits:
        k = (round(h[0], 4), h[1])
        if k not in best or h[2] > best[k][2]:
            best[k] = h
    return sorted(best.values())


def _metric(t: float, m: Meter) -> float:
    """Accents by position: the pulse strongest, off-beat eighths lighter, sixteenths lightest."""
    if m.on_pulse(t):
        return 1.0
    frac = (t * 2) % 1
    if abs(frac) < 1e-6 or abs(t * 3 - round(t * 3)) < 1e-6:
        return 0.88
    return 0.76


def _tune(key: int, groove: Groove, chord: Chord) -> int:
    """Timpani play the chord's root (keys 41-52: F2..E3 in the orchestra kit)."""
    if groove.timpani and key == TIMPANI:
        return TIMPANI + (chord.root - 5) % 12
    return key


def _swung(step: int, swing: bool) -> float:
    """Beat offset of a sixteenth step; swing delays the off-beat eighth to a triplet."""
    beat, sub = divmod(step, 4)
    if swing and sub == 2:
        return beat + 2 / 3
    if swing and sub in (1, 3):
        return beat + (1 / 3 if sub == 1 else 5 / 6)
    return step / 4
