"""Bass lines on the chords, in each genre's idiom, following the energy curve.

Every idiom writes one bar at a time from the bar's chord and the next one: roots on the strong
pulses, and, where the idiom does, a step into the next chord's root on the last beat (a walking
line's chromatic approach, a country walk-up, an 808 glide, a tumbao's anticipation). Sections at
rest hold long notes; verses play the idiom; choruses drive harder. Patterns are written for 4/4
where the idiom is a rhythm (bossa, tumbao, habanera) and fall back to the pulses of other metres.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from overture.instruments import INSTRUMENTS
from overture.plan import Plan, PlanSection
from overture.score import Note
from overture.styles import (
    CHORUS,
    PEAK,
    REST,
    VERSE,
    energy_level,
    loudness,
    pulses,
    strong_pulses,
    swell,
    vel,
)
from overture.theory import Chord

Event = tuple[float, int, float, float]  # (beats into the bar, pitch, length, strength)


@dataclass(frozen=True, slots=True)
class BarContext:
    """What a bass idiom knows about the bar it writes."""

    plan: Plan
    bar: int
    chord: Chord
    next_chord: Chord  # the next bar's chord (the same chord at the end of the song)
    changes: bool  # the next bar has another root
    section: PlanSection
    level: int  # energy tier, see overture.styles.energy_level
    beats: float  # bar length in quarter notes
    pulses: tuple[float, ...]
    strong: tuple[int, ...]  # indices of the strong pulses
    swing: bool
    root: int  # the root, placed near the previous bar's
    target: int  # the next chord's root, placed nearest this root
    low: int  # the register
    high: int

    @property
    def four(self) -> bool:
        """A plain 4/4 bar, where the written idioms apply."""
        return self.beats == 4 and len(self.pulses) == 4

    @property
    def fifth(self) -> int:
        return self.root + 7 if self.root + 7 <= self.high + 2 else self.root - 5

    @property
    def third(self) -> int:
        ivs = self.chord.intervals
        return self.root + (ivs[1] if len(ivs) > 2 else 4)

    @property
    def seventh(self) -> int:
        ivs = self.chord.intervals
        return self.root + (ivs[3] if len(ivs) > 3 and ivs[3] < 12 else 10)

    @property
    def octave(self) -> int:
        return self.root + 12

    def t(self, beat: float) -> float:
        """A straight onset moved to the triplet grid when the genre swings."""
        if not self.swing:
            return beat
        whole, frac = divmod(beat, 1.0)
        return whole + {0.25: 1 / 3, 0.5: 2 / 3, 0.75: 5 / 6}.get(round(frac, 4), frac)

    def approach(self, rng: random.Random, *, chromatic: float = 0.6) -> int:
        """A note a step from the next root: a semitone (chromatic) or a scale step, from
        below or above, whichever side keeps the line in range."""
        scale = self.plan.key.scale
        if rng.random() < chromatic:
            options = [self.target - 1, self.target + 1]
        else:
            below = next(p for p in range(self.target - 1, self.target - 4, -1) if p % 12 in scale)
            above = next(p for p in range(self.target + 1, self.target + 4) if p % 12 in scale)
            options = [below, above]
        options = [p for p in options if self.low <= p <= self.high + 5] or options
        return rng.choice(options)


Idiom = Callable[[BarContext, random.Random], list[Event]]


def bass_part(plan: Plan, rng: random.Random) -> list[Note]:
    """The bass part: the genre's idiom on each bar's chord, shaped by the section's energy."""
    inst = INSTRUMENTS[plan.parts["bass"]]
    # A bass register whatever plays it: E1 upward, or the instrument's own floor (a cello's C2).
    low = max(28, min(inst.low, 40))
    high = low + 12
    ts = plan.time_signature
    bpb = ts.beats_per_bar
    ps = pulses(ts)
    strong = strong_pulses(ts)
    idiom = IDIOMS.get(plan.style.bass, _root)
    loop = bool(getattr(plan.spec, "loop", False))
    notes: list[Note] = []
    prev = low + 5
    for bar, chord in enumerate(plan.chords):
        section = plan.section_at(bar)
        root = _place(chord.root, prev, low, high)
        prev = root
        if "bass" not in section.parts:
            continue
        start = bar * bpb
        level = energy_level(section.energy)
        base = 100 * loudness(section.energy)
        if bar == plan.bars - 1 and not loop:
            # The final chord: the root rings until the song's end.
            notes.append(Note(root, start, plan.end_beat - start, vel(base)))
            continue
        last = bar + 1 >= len(plan.chords)
        nxt = plan.chords[0 if last else bar + 1]
        ctx = BarContext(
            plan=plan,
            bar=bar,
            chord=chord,
            next_chord=nxt,
            changes=nxt.root != chord.root,
            section=section,
            level=level,
            beats=bpb,
            pulses=ps,
            strong=strong,
            swing=plan.style.swing,
            root=root,
            target=_place(nxt.root, root, low, high),
            low=low,
            high=high,
        )
        # A note may ring into the next bar only where the bass plays on there (a tumbao's
        # anticipation); otherwise it stops at the bar line.
        tie = not last and "bass" in plan.section_at(bar + 1).parts and bar + 1 < plan.bars - 1
        for offset, pitch, length, strength in idiom(ctx, rng):
            if offset >= bpb - 1e-9 or length <= 0:
                continue
            length = min(length, (2 * bpb if tie else bpb) - offset)
            v = base * strength * swell(plan, bar, offset)
            notes.append(Note(pitch, start + offset, length, vel(v)))
    notes = _monophonic(notes)
    return _tie(notes) if plan.style.bass == "drone" else notes


def _place(pc: int, near: int, low: int, high: int) -> int:
    """The pitch of class ``pc`` nearest ``near`` within [low, high] (an octave or more wide)."""
    options = [p for p in range(low, high + 1) if p % 12 == pc % 12]
    return min(options, key=lambda p: (abs(p - near), p))


def _monophonic(notes: list[Note]) -> list[Note]:
    """One note at a time: a note still ringing when the next starts stops there."""
    notes = sorted(notes, key=lambda n: (n.start, -n.duration))
    out: list[Note] = []
    for n in notes:
        if out and n.start - out[-1].start < 1e-6:
            continue  # two notes on one onset: keep the first (the longer)
        if out and out[-1].end > n.start:
            p = out[-1]
            out[-1] = Note(p.pitch, p.start, n.start - p.start, p.velocity)
        out.append(n)
    return out


def _tie(notes: list[Note]) -> list[Note]:
    """Repeated notes that touch become one long note (a drone across bars)."""
    out: list[Note] = []
    for n in notes:
        if out and out[-1].pitch == n.pitch and abs(out[-1].end - n.start) < 1e-6:
            p = out[-1]
            out[-1] = Note(p.pitch, p.start, n.end - p.start, max(p.velocity, n.velocity))
        else:
            out.append(n)
    return out


# --- helpers for any metre -------------------------------------------------------------------


def _held(ctx: BarContext) -> list[Event]:
    """At rest: the root held through the bar."""
    return [(0.0, ctx.root, ctx.beats * 0.97, 0.95)]


def _on_pulses(ctx: BarContext, rng: random.Random, *, every: bool, approach: bool) -> list[Event]:
    """Root on the downbeat, the fifth (or root) on the other strong or on every pulse, and
    optionally a step into the next root on the last pulse."""
    idx = list(range(len(ctx.pulses))) if every else list(ctx.strong)
    out: list[Event] = []
    for n, i in enumerate(idx):
        t = ctx.pulses[i]
        end = ctx.pulses[idx[n + 1]] if n + 1 < len(idx) else ctx.beats
        pitch = ctx.root if n % 2 == 0 else ctx.fifth
        if approach and n == len(idx) - 1 and n > 0 and ctx.changes:
            pitch = ctx.approach(rng)
        out.append((t, pitch, (end - t) * 0.92, 1.0 if i == 0 else 0.88))
    return out


def _eighths(ctx: BarContext, pitch_at: Callable[[int], int], length: float) -> list[Event]:
    """Straight (or swung) eighths across the bar."""
    out: list[Event] = []
    k = round(ctx.beats * 2)
    for j in range(k):
        on_pulse = any(abs(j / 2 - p) < 1e-6 for p in ctx.pulses)
        out.append((ctx.t(j / 2), pitch_at(j), length, 1.0 if on_pulse else 0.82))
    return out


# --- the idioms ------------------------------------------------------------------------------


def _root(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Root on the strong pulses, the fifth between; a chorus plays every pulse and steps into
    the next chord."""
    if ctx.level == REST:
        return _held(ctx)
    return _on_pulses(ctx, rng, every=ctx.level >= CHORUS, approach=ctx.level >= CHORUS)


def _pop(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Pop: a syncopated root (1, 2&, 3, 4&) in the verse, driving eighths in the chorus with
    the octave on the off-beats at the peak, and a step into the next root."""
    if ctx.level == REST:
        return _held(ctx)
    if ctx.level == VERSE:
        if not ctx.four:
            return _on_pulses(ctx, rng, every=False, approach=False)
        fifth = ctx.fifth if rng.random() < 0.4 else ctx.root
        return [
            (0.0, ctx.root, 1.4, 1.0),
            (1.5, ctx.root, 0.45, 0.75),
            (2.0, fifth, 1.4, 0.92),
            (3.5, ctx.root, 0.45, 0.75),
        ]
    k = round(ctx.beats * 2)
    approach = ctx.approach(rng) if ctx.changes else ctx.root

    def pitch(j: int) -> int:
        if j == k - 1:
            return approach
        return ctx.octave if ctx.level == PEAK and j % 2 else ctx.root

    return _eighths(ctx, pitch, 0.42)


def _whole(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Ballad: long notes; half notes and a passing note in the verse, a dotted rhythm in the
    chorus."""
    if ctx.level == REST:
        return _held(ctx)
    if not ctx.four:
        return _on_pulses(ctx, rng, every=False, approach=True)
    if ctx.level == VERSE:
        second = ctx.approach(rng, chromatic=0.3) if ctx.changes else ctx.fifth
        return [(0.0, ctx.root, 1.9, 1.0), (2.0, ctx.fifth, 1.4, 0.85), (3.0, second, 0.9, 0.8)]
    return [
        (0.0, ctx.root, 1.4, 1.0),
        (1.5, ctx.root, 0.45, 0.8),
        (2.0, ctx.fifth, 0.95, 0.9),
        (3.0, ctx.approach(rng) if ctx.changes else ctx.octave, 0.9, 0.85),
    ]


def _drone(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Ambient: the root held through every bar (repeats are tied into one long note)."""
    return [(0.0, ctx.root, ctx.beats, 0.85 + 0.1 * ctx.level)]


def _orchestral(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Orchestral low strings: sustained at rest; in a verse the root pulsed on every beat,
    detached, the downbeat strongest (the heartbeat under a film cue, which keeps even a slow
    tempo from being heard at double speed); a driving eighth-note ostinato in a chorus (octave
    leaps at the peak), its off-beats lighter than its beats."""
    if ctx.level == REST:
        return _held(ctx)
    if ctx.level == VERSE:
        return [
            (p, ctx.root, min(0.5, 0.6 * (_pulse_end(ctx, i) - p)), 1.0 if i == 0 else 0.82)
            for i, p in enumerate(ctx.pulses)
        ]

    def pitch(j: int) -> int:
        return ctx.octave if ctx.level == PEAK and j % 4 == 2 else ctx.root

    return [(t, p, n, s if s == 1.0 else 0.7) for t, p, n, s in _eighths(ctx, pitch, 0.45)]


def _pulse_end(ctx: BarContext, i: int) -> float:
    return ctx.pulses[i + 1] if i + 1 < len(ctx.pulses) else ctx.beats


def _eighths_idiom(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Rock: driving root eighths (quarters at rest), into the next chord through its fifth."""
    if ctx.level == REST:
        return _on_pulses(ctx, rng, every=False, approach=False)
    k = round(ctx.beats * 2)
    approach = ctx.approach(rng, chromatic=0.3) if ctx.changes else ctx.fifth

    def pitch(j: int) -> int:
        if ctx.level >= CHORUS and j == k - 1:
            return approach
        return ctx.root

    return _eighths(ctx, pitch, 0.44)


def _metal(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Metal: root eighths locked to the double kick; gallops (eighth, two sixteenths) in a
    chorus."""
    if ctx.level < CHORUS:
        return _eighths_idiom(ctx, rng)
    out: list[Event] = []
    for b in range(round(ctx.beats)):
        out += [
            (b, ctx.root, 0.45, 1.0),
            (b + 0.5, ctx.root, 0.22, 0.8),
            (b + 0.75, ctx.root, 0.22, 0.85),
        ]
    if ctx.beats % 1:
        out.append((float(int(ctx.beats)), ctx.root, 0.45, 0.9))
    return out


def _octaves(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Synthwave and chiptune: root-octave eighths; a sixteenth arpeggio (root, fifth, octave)
    in a chorus."""
    if ctx.level == REST:
        return _on_pulses(ctx, rng, every=True, approach=False)
    if ctx.level == VERSE:
        return _eighths(ctx, lambda j: ctx.octave if j % 2 else ctx.root, 0.42)
    cycle = [ctx.root, ctx.root, ctx.octave, ctx.root + 7]
    k = round(ctx.beats * 4)
    return [(j / 4, cycle[j % 4], 0.22, 1.0 if j % 4 == 0 else 0.8) for j in range(k)]


def _walking(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Jazz: a two-feel at rest (root and fifth in half notes); otherwise a walking line, a note
    on every beat, chord tones on the strong beats and a chromatic or scale-step approach into
    the next chord's root on the last beat."""
    n = len(ctx.pulses)
    if ctx.level == REST and n >= 2:
        return _on_pulses(ctx, rng, every=False, approach=False)
    line = _walk(ctx, rng)
    out: list[Event] = []
    for i, (t, pitch) in enumerate(zip(ctx.pulses, line, strict=True)):
        end = ctx.pulses[i + 1] if i + 1 < n else ctx.beats
        out.append((t, pitch, (end - t) * 0.92, 1.0 if i == 0 else 0.9))
    if ctx.level >= CHORUS and ctx.swing and n >= 3 and rng.random() < 0.3:
        # A skip: the swung triplet before a beat repeats the note ahead, ghosted.
        i = rng.randrange(1, n)
        out.append((ctx.pulses[i] - 1 / 3, line[i], 0.3, 0.6))
    return out


def _walk(ctx: BarContext, rng: random.Random) -> list[int]:
    """The pitches of a walking bar: root, a path toward the approach, the approach."""
    n = len(ctx.pulses)
    if n == 1:
        return [ctx.root]
    approach = ctx.approach(rng, chromatic=0.65)
    scale = set(ctx.plan.key.scale) | set(ctx.chord.pitch_classes)
    chord_pcs = set(ctx.chord.pitch_classes)
    lo, hi = ctx.low, ctx.high + 7
    line = [ctx.root]
    for j in range(1, n - 1):
        goal = ctx.root + (approach - ctx.root) * j / (n - 1)
        if abs(approach - ctx.root) <= 2:  # nowhere to go: arch through the chord
            goal = ctx.root + (7 if ctx.root + 7 <= hi else -5) * (1 if j <= (n - 1) / 2 else 0.6)
        pcs = chord_pcs if j in ctx.strong else scale
        options = [
            p
            for p in range(lo, hi + 1)
            if p % 12 in pcs and p != line[-1] and p != approach and abs(p - line[-1]) <= 7
        ] or [line[-1] + 2]
        options.sort(key=lambda p: (abs(p - goal), p))
        line.append(rng.choice(options[:2]))
    line.append(approach)
    return line


def _boogie(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Blues shuffle: the boogie line (root, third, fifth, sixth, flat seventh and back down)
    in quarters in a verse and in shuffled eighths in a chorus; root and fifth at rest."""
    if ctx.level == REST:
        return _on_pulses(ctx, rng, every=False, approach=False)
    r = ctx.root
    up = [r, r + 4, r + 7, r + 9, r + 10, r + 9, r + 7, r + 4]
    if ctx.level == VERSE:
        line = up[:4] if ctx.four else [up[i % 8] for i in range(len(ctx.pulses))]
        return [(p, line[i], 0.9, 1.0 if i == 0 else 0.88) for i, p in enumerate(ctx.pulses)]
    return _eighths(ctx, lambda j: up[j % 8], 0.55)


def _funk(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Funk: a syncopated sixteenth line with octave pops and the flat seventh in a verse;
    disco octaves (root on the beat, octave off it, sixteenth pick-ups) in a chorus."""
    if ctx.level == REST:
        return [(0.0, ctx.root, 1.4, 1.0), (ctx.beats / 2 + 0.5, ctx.root, 0.4, 0.8)]
    if not ctx.four:
        out = []
        for i, p in enumerate(ctx.pulses):
            out += [(p, ctx.root, 0.3, 1.0 if i == 0 else 0.85), (p + 0.5, ctx.octave, 0.2, 0.75)]
        return out
    if ctx.level == VERSE:
        return [
            (0.0, ctx.root, 0.4, 1.05),
            (0.75, ctx.root, 0.2, 0.55),
            (1.0, ctx.octave, 0.2, 0.9),
            (1.5, ctx.root, 0.2, 0.6),
            (2.5, ctx.root, 0.3, 0.9),
            (2.75, ctx.fifth, 0.2, 0.6),
            (3.0, ctx.seventh, 0.2, 0.85),
            (3.5, ctx.octave, 0.2, 0.8),
            (3.75, ctx.approach(rng) if ctx.changes else ctx.root, 0.2, 0.7),
        ]
    out = []
    for b in range(4):
        out += [(b, ctx.root, 0.4, 1.0), (b + 0.5, ctx.octave, 0.22, 0.85)]
        if b % 2:
            out.append((b + 0.75, ctx.octave, 0.2, 0.65))
    return out


def _reggae(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Reggae: a syncopated line under the one drop, with room left in it; the root held at
    rest."""
    if ctx.level == REST:
        return [(0.0, ctx.root, ctx.beats * 0.6, 0.95)]
    if not ctx.four:
        return _on_pulses(ctx, rng, every=True, approach=False)
    out = [
        (0.0, ctx.root, 1.0, 1.0),
        (1.5, ctx.root, 0.45, 0.8),
        (2.0, ctx.fifth, 0.75, 0.95),
        (3.0, ctx.third, 0.45, 0.85),
        (3.5, ctx.approach(rng) if ctx.changes else ctx.fifth, 0.45, 0.8),
    ]
    if ctx.level >= CHORUS:  # a pick-up sixteenth pushes the line
        out[0] = (0.0, ctx.root, 0.7, 1.0)
        out.insert(1, (0.75, ctx.root, 0.2, 0.6))
    return out


def _offbeat(ctx: BarContext, rng: random.Random) -> list[Event]:
    """House and EDM: the root on every off-beat eighth; rolling sixteenths at the peak."""
    if ctx.level == REST:
        return _held(ctx)
    out: list[Event] = []
    for i, p in enumerate(ctx.pulses):
        end = ctx.pulses[i + 1] if i + 1 < len(ctx.pulses) else ctx.beats
        off = p + (end - p) / 2
        if ctx.level == PEAK:
            out += [(p + 0.25, ctx.root, 0.2, 0.7), (off, ctx.root, 0.2, 1.0)]
            out.append((off + 0.25, ctx.octave if i % 2 else ctx.root, 0.2, 0.8))
        else:
            pitch = ctx.octave if ctx.level == CHORUS and i % 2 else ctx.root
            out.append((off, pitch, 0.4, 1.0))
    return out


def _reese(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Drum and bass: long reese notes re-struck off the beat, with an octave answer in a
    chorus."""
    if ctx.level == REST or len(ctx.pulses) < 2:
        return _held(ctx)
    mid = ctx.pulses[len(ctx.pulses) // 2] + (0.5 if ctx.four else 0.0)
    out = [(0.0, ctx.root, mid - 0.05, 1.0), (mid, ctx.root, ctx.beats - mid, 0.9)]
    if ctx.level >= CHORUS and ctx.four:
        out = [
            (0.0, ctx.root, 1.45, 1.0),
            (1.5, ctx.octave, 0.95, 0.85),
            (2.5, ctx.root, 1.5, 0.95),
        ]
    return out


def _808(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Trap: long 808 notes with the kick, and a glide by pitch into the next root (a run of
    short notes sliding there); an octave jump and slide back in a chorus."""
    if ctx.level == REST or not ctx.four:
        out = [(0.0, ctx.root, ctx.beats * (0.97 if ctx.level == REST else 0.6), 1.0)]
        if ctx.level > REST and len(ctx.pulses) > 1:
            mid = ctx.pulses[len(ctx.pulses) // 2]
            out.append((mid, ctx.root, ctx.beats - mid, 0.9))
        return out
    out = [(0.0, ctx.root, 1.45, 1.0), (1.5, ctx.root, 0.95, 0.9), (2.5, ctx.root, 1.0, 0.95)]
    if ctx.level >= CHORUS:
        out[-1] = (2.5, ctx.root, 0.45, 0.95)
        out.append((3.0, ctx.octave, 0.45, 0.9))
        out += _glide(ctx.octave, ctx.target, 3.5, 4.0)
    elif ctx.changes:
        out[-1] = (2.5, ctx.root, 0.95, 0.95)
        out += _glide(ctx.root, ctx.target, 3.5, 4.0)
    return out


def _glide(a: int, b: int, start: float, end: float) -> list[Event]:
    """A slide from ``a`` toward ``b`` as short notes stepping by pitch."""
    steps = 4
    dt = (end - start) / steps
    out: list[Event] = []
    for k in range(steps):
        pitch = round(a + (b - a) * (k + 1) / (steps + 1))
        out.append((start + k * dt, pitch, dt * 0.95, 0.75))
    return out


def _sparse(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Hip hop, lo-fi and R&B: the root held, struck again with the kick's syncopation, and an
    approach into the next chord in a chorus."""
    if ctx.level == REST:
        return _held(ctx)
    if not ctx.four:
        return _on_pulses(ctx, rng, every=False, approach=ctx.level >= CHORUS)
    second = ctx.fifth if rng.random() < 0.35 else ctx.root
    out = [(0.0, ctx.root, 1.6, 1.0), (ctx.t(1.75), ctx.root, 0.6, 0.7)]
    out.append((ctx.t(2.5), second, 0.9, 0.9))
    if ctx.level >= CHORUS and ctx.changes:
        out.append((ctx.t(3.5), ctx.approach(rng), 0.4, 0.8))
    return out


def _tumbao(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Salsa: the tumbao, anticipated: the fifth on the "and" of 2 and the next chord's root on
    4, ringing over the bar line; beat one is left to that anticipation."""
    if ctx.level == REST or not ctx.four:
        return _on_pulses(ctx, rng, every=False, approach=False)
    out: list[Event] = []
    first = ctx.bar == ctx.section.start_bar
    if first:
        out.append((0.0, ctx.root, 1.4, 1.0))
    out.append((1.5, ctx.fifth, 1.4, 0.95))
    out.append((3.0, ctx.target, 1.9, 1.0))
    return out


def _bossa(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Bossa nova: root and fifth in the surdo's rhythm (1, 2&, 3, 4&); the last note anticipates
    the next root in a chorus. Half notes at rest."""
    if ctx.level == REST or not ctx.four:
        return _on_pulses(ctx, rng, every=ctx.level > REST, approach=False)
    last = ctx.target if ctx.level >= CHORUS else ctx.root
    return [
        (0.0, ctx.root, 1.4, 1.0),
        (1.5, ctx.fifth, 0.45, 0.8),
        (2.0, ctx.fifth, 1.4, 0.95),
        (3.5, last, 0.45, 0.8),
    ]


def _tango(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Tango: the marcato (four strong quarters) in a verse, the habanera rhythm in a chorus, an
    arrastre (a drag from a semitone below) into the next downbeat at the peak; root and fifth in
    half notes at rest."""
    if ctx.level == REST or not ctx.four:
        return _on_pulses(ctx, rng, every=ctx.level > REST, approach=False)
    if ctx.level == VERSE:
        line = [ctx.root, ctx.root, ctx.fifth, ctx.root]
        return [(float(b), p, 0.45, 1.05 if b % 2 == 0 else 0.85) for b, p in enumerate(line)]
    out: list[Event] = []
    for half, (a, b) in enumerate([(ctx.root, ctx.fifth), (ctx.root, ctx.fifth)]):
        t = 2.0 * half
        out += [(t, a, 0.7, 1.05), (t + 0.75, b, 0.22, 0.8), (t + 1.0, a, 0.45, 0.9)]
        out.append((t + 1.5, b, 0.45, 0.85))
    if ctx.level == PEAK and ctx.changes:
        out[-1] = (3.5, ctx.target - 1, 0.5, 0.95)
    return out


def _twostep(ctx: BarContext, rng: random.Random) -> list[Event]:
    """Country: root and fifth (the boom of boom-chick); in a chorus, alternating on every beat
    with a walk up (or down) the scale into the next chord."""
    if ctx.level == REST:
        return _held(ctx)
    if ctx.level == VERSE or not ctx.four:
        return _on_pulses(ctx, rng, every=ctx.level >= CHORUS, approach=False)
    line = [ctx.root, ctx.fifth - 12 if ctx.fifth - 12 >= ctx.low else ctx.fifth, ctx.fifth]
    if ctx.changes:
        scale = ctx.plan.key.scale
        step = 1 if ctx.target > ctx.root else -1
        walk = [
            p for p in range(ctx.target - step, ctx.target - 6 * step, -step) if p % 12 in scale
        ]
        line = [ctx.root, ctx.fifth, walk[1], walk[0]] if len(walk) >= 2 else [*line, ctx.fifth]
    else:
        line.append(ctx.root)
    return [(float(b), p, 0.9, 1.0 if b == 0 else 0.88) for b, p in enumerate(line)]


IDIOMS: dict[str, Idiom] = {
    "root": _root,
    "pop": _pop,
    "whole": _whole,
    "drone": _drone,
    "orchestral": _orchestral,
    "eighths": _eighths_idiom,
    "metal": _metal,
    "octaves": _octaves,
    "walking": _walking,
    "boogie": _boogie,
    "funk": _funk,
    "reggae": _reggae,
    "offbeat": _offbeat,
    "reese": _reese,
    "808": _808,
    "sparse": _sparse,
    "tumbao": _tumbao,
    "bossa": _bossa,
    "tango": _tango,
    "twostep": _twostep,
}
