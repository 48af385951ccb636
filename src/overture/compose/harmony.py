"""Chord voicings with voice leading, and the comping patterns that play them in each genre.

A voicing is chosen for every bar before any rhythm is written: of the chord's close and open
(drop-2) positions that fit the part's register, the one that moves least from the previous
voicing (common tones stay, the other voices step), nothing below E3 to muddy the bass. Jazz
piano drops the root (the bass has it) and plays rootless voicings, shells at rest.

Each genre's comping idiom then plays those voicings bar by bar, shaped by the section's energy:
held chords at rest, the idiom in a verse, denser and louder in a chorus. Idioms are written for
4/4 where they are a specific rhythm (a Charleston, a montuno, the bossa partido) and fall back
to the bar's pulses in other metres.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

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

VOICING_LOW, VOICING_HIGH = 52, 76  # E3 up to E5: under the melody, clear of the bass

Event = tuple[float, int, float, float]  # (beats into the bar, pitch, length, strength)


def part_voicing(chord: Chord, previous: list[int] | None, part: str) -> list[int]:
    """Voicing for the ``chords`` part, or the ``pad``, which sits a little higher."""
    low = 55 if part == "pad" else VOICING_LOW
    return voicing(chord, previous, low=low, high=low + 24)


def voicing(
    chord: Chord, previous: list[int] | None, *, low: int = VOICING_LOW, high: int = VOICING_HIGH
) -> list[int]:
    """The voicing of ``chord`` within [low, high] that moves least from ``previous``: common
    tones kept, the other voices moving by step. Without a previous voicing, the one nearest
    the middle of the range."""
    return _lead(list(chord.pitch_classes)[:4], previous, low, high)


def rootless(chord: Chord, previous: list[int] | None, *, shell: bool = False) -> list[int]:
    """A jazz pianist's voicing without the root: third, seventh and colour tones (the ninth,
    the fifth or thirteenth), or just the guide tones (third and seventh) for a ``shell``."""
    ivs = chord.intervals
    third = ivs[1] if len(ivs) > 2 else 4
    if chord.quality in {"sus4", "sus2"}:
        third = 5 if chord.quality == "sus4" else 2
    seventh = ivs[3] if len(ivs) > 3 and ivs[3] < 12 else (9 if chord.quality in {"", "6"} else 10)
    if chord.quality in {"dim", "m7b5"}:
        seventh = 9 if chord.quality == "dim" else 10
    if shell:
        colours: tuple[int, ...] = ()
    elif chord.quality == "7":
        colours = (9, 14)  # the thirteenth and ninth of a dominant
    elif chord.quality in {"dim", "m7b5"}:
        colours = (6,)
    else:
        colours = (7, 14)
    pcs = [(chord.root + i) % 12 for i in (third, seventh, *colours)]
    return _lead(list(dict.fromkeys(pcs)), previous, VOICING_LOW, VOICING_HIGH - 2)


def home_voicing(chord: Chord, previous: list[int] | None, *, shell: bool = False) -> list[int]:
    """The tonic as a jazz pianist voices it where the tune comes home, with its root: a sixth
    chord in major (Bb6: Bb D F G, the swing-era tonic), a minor seventh in minor (Dm7). A
    rootless Imaj7 (D F A C over Bb) is the dominant key's triad with a sixth on top: with the
    bass under it that is colour, but the piano's own sound pulls the key a fifth up. At
    rest (``shell``) root, third and sixth (or seventh)."""
    minor = chord.quality in {"m", "m7", "m6"}
    third, top = (3, 10) if minor else (4, 9)
    ivs = (0, third, top) if shell else (0, third, 7, top)
    pcs = [(chord.root + i) % 12 for i in ivs]
    return _lead(pcs, previous, VOICING_LOW, VOICING_HIGH - 2)


def _lead(pcs: list[int], previous: list[int] | None, low: int, high: int) -> list[int]:
    candidates = _candidates(pcs, low, high)
    if not candidates:
        return [60 + pc for pc in pcs]
    centre = (low + high) / 2
    if previous is None:
        return min(candidates, key=lambda v: (abs(sum(v) / len(v) - centre), v))
    # Least movement; a slight pull to the middle keeps a long progression from drifting.
    return min(
        candidates,
        key=lambda v: (movement(previous, v) + 0.25 * abs(sum(v) / len(v) - centre), v),
    )


def _candidates(pcs: list[int], low: int, high: int) -> list[list[int]]:
    """Close positions (every inversion, every octave) and their drop-2 spreads, in range."""
    out: list[list[int]] = []
    for inversion in range(len(pcs)):
        order = pcs[inversion:] + pcs[:inversion]
        for base_octave in range(2, 8):
            notes: list[int] = []
            for pc in order:
                n = base_octave * 12 + pc
                while notes and n <= notes[-1]:
                    n += 12
                notes.append(n)
            shapes = [notes]
            if len(notes) >= 4:  # drop 2: the second voice from the top down an octave
                shapes.append(sorted([*notes[:-2], notes[-2] - 12, notes[-1]]))
            out += [v for v in shapes if v[0] >= low and v[-1] <= high]
    return out


def movement(a: list[int], b: list[int]) -> float:
    """Total semitones the voices move from ``a`` to ``b`` (voice by voice when both have as
    many voices; otherwise each note to its nearest neighbour, both ways, halved)."""
    if not a or not b:
        return 0.0
    if len(a) == len(b):
        return float(sum(abs(x - y) for x, y in zip(sorted(a), sorted(b), strict=True)))
    there = sum(min(abs(x - y) for y in b) for x in a)
    back = sum(min(abs(x - y) for x in a) for y in b)
    return (there + back) / 2


# --- the chords and pad parts ------------------------------------------------------------------


@dataclass(slots=True)
class BarContext:
    """What a comping idiom knows about the bar it writes."""

    plan: Plan
    part: str
    bar: int
    chord: Chord
    voicing: list[int]
    next_voicing: list[int] | None  # None where the part stops after this bar
    section: PlanSection
    level: int
    beats: float
    pulses: tuple[float, ...]
    strong: tuple[int, ...]
    swing: bool
    rng: random.Random
    state: dict[str, bool] = field(default_factory=dict)  # carried bar to bar (a pushed chord)

    @property
    def four(self) -> bool:
        return self.beats == 4 and len(self.pulses) == 4

    @property
    def index(self) -> int:
        """The bar's number within its section, from 0."""
        return self.bar - self.section.start_bar

    @property
    def back(self) -> list[int]:
        """The pulses off the strong ones: the backbeat."""
        return [i for i in range(len(self.pulses)) if i not in self.strong]

    def t(self, beat: float) -> float:
        """A straight onset moved to the triplet grid when the genre swings."""
        if not self.swing:
            return beat
        whole, frac = divmod(beat, 1.0)
        return whole + {0.25: 1 / 3, 0.5: 2 / 3, 0.75: 5 / 6}.get(round(frac, 4), frac)

    def offbeat(self, i: int) -> float:
        """The off-beat eighth of pulse ``i`` (the last eighth of a dotted-quarter pulse)."""
        length = self.pulse_end(i) - self.pulses[i]
        return self.t(self.pulses[i] + 0.5) if length <= 1 else self.pulses[i] + length - 0.5

    def pulse_end(self, i: int) -> float:
        return self.pulses[i + 1] if i + 1 < len(self.pulses) else self.beats


Comp = Callable[[BarContext], list[Event]]


def chord_part(plan: Plan, rng: random.Random, *, part: str = "chords") -> list[Note]:
    """The ``chords`` part in the genre's comping idiom, or the ``pad`` part in the genre's pad
    idiom: voice-led voicings, shaped bar by bar by the section's energy."""
    idiom = plan.style.comping if part == "chords" else plan.style.pad
    comp = COMPS.get(idiom, _block)
    ts = plan.time_signature
    bpb = ts.beats_per_bar
    ps = pulses(ts)
    strong = strong_pulses(ts)
    loop = bool(getattr(plan.spec, "loop", False))
    voicings = _voicings(plan, part, idiom)
    state: dict[str, bool] = {}
    notes: list[Note] = []
    for bar, chord in enumerate(plan.chords):
        v = voicings[bar]
        if v is None:
            state.clear()
            continue
        section = plan.section_at(bar)
        start = bar * bpb
        base = 88 * loudness(section.energy) - (10 if part == "pad" else 0)
        if bar == plan.bars - 1 and not loop:
            # The final chord rings until the song's end, struck together on the downbeat.
            notes += [Note(p, start, plan.end_beat - start, vel(base)) for p in v]
            continue
        nxt = voicings[bar + 1] if bar + 1 < len(voicings) else None
        ctx = BarContext(
            plan=plan,
            part=part,
            bar=bar,
            chord=chord,
            voicing=v,
            next_voicing=nxt,
            section=section,
            level=energy_level(section.energy),
            beats=bpb,
            pulses=ps,
            strong=strong,
            swing=plan.style.swing,
            rng=rng,
            state=state,
        )
        tie = nxt is not None and bar + 1 < plan.bars - 1
        for offset, pitch, length, strength in comp(ctx):
            if offset >= bpb - 1e-9 or length <= 0:
                continue
            length = min(length, (2 * bpb if tie else bpb) - offset)
            notes.append(
                Note(pitch, start + offset, length, vel(base * strength * swell(plan, bar, offset)))
            )
    if idiom == "pad":
        notes = _tie(notes)
    return notes


def _voicings(plan: Plan, part: str, idiom: str) -> list[list[int] | None]:
    """The voice-led voicing of every bar where the part plays (None where it rests)."""
    out: list[list[int] | None] = []
    prev: list[int] | None = None
    for bar, chord in enumerate(plan.chords):
        section = plan.section_at(bar)
        if part not in section.parts:
            out.append(None)
            prev = None
            continue
        if idiom == "jazz" and part == "chords" and _is_home(chord, plan):
            v = home_voicing(chord, prev, shell=section.energy < 0.45)
        elif idiom in {"jazz", "bossa"} and part == "chords":
            v = rootless(chord, prev, shell=idiom == "jazz" and section.energy < 0.45)
        else:
            v = part_voicing(chord, prev, part)
        out.append(v)
        prev = v
    return out


def _is_home(chord: Chord, plan: Plan) -> bool:
    """The key's own tonic chord (a triad, seventh or sixth of the key's mode on its tonic)."""
    if chord.root != plan.key.tonic:
        return False
    minor = plan.key.mode == "minor"
    return chord.quality in ({"m", "m7", "m6"} if minor else {"", "maj7", "6"})


def _tie(notes: list[Note]) -> list[Note]:
    """A pad's repeated chord is held over, not struck again: when a chord (the notes struck
    together) has the same pitches as the one before, and that one lasts up to it, the earlier
    notes are extended. Only whole chords are tied, so a bar never mixes held and new notes."""
    chords: list[list[Note]] = []
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        if chords and abs(chords[-1][0].start - n.start) < 1e-9:
            chords[-1].append(n)
        else:
            chords.append([n])
    out: list[list[Note]] = []
    for chord in chords:
        prev = out[-1] if out else None
        if (
            prev is not None
            and [n.pitch for n in prev] == [n.pitch for n in chord]
            and all(abs(p.end - chord[0].start) < 1e-6 for p in prev)
            and len({n.end for n in chord}) == 1
        ):
            end = chord[0].end
            out[-1] = [
                Note(p.pitch, p.start, end - p.start, max(p.velocity, n.velocity))
                for p, n in zip(prev, chord, strict=True)
            ]
        else:
            out.append(chord)
    return [n for chord in out for n in chord]


def _chord(v: list[int], t: float, length: float, strength: float) -> list[Event]:
    return [(t, p, length, strength) for p in v]


def _hits(ctx: BarContext, onsets: list[float], strength: list[float] | None = None) -> list[Event]:
    """The voicing struck at ``onsets``, each held until the next (the last to the bar's end)."""
    out: list[Event] = []
    ends = [*onsets[1:], ctx.beats]
    for j, (a, b) in enumerate(zip(onsets, ends, strict=True)):
        s = strength[j] if strength else (1.0 if j == 0 else 0.88)
        out += _chord(ctx.voicing, a, (b - a) * 0.92, s)
    return out


def _held(ctx: BarContext) -> list[Event]:
    return _chord(ctx.voicing, 0.0, ctx.beats, 0.9)


# --- the idioms --------------------------------------------------------------------------------


def _pad(ctx: BarContext) -> list[Event]:
    """Sustained chords (repeats tied over); the lowest voice doubled an octave up in a chorus."""
    out = _held(ctx)
    if ctx.level >= CHORUS and ctx.voicing[0] + 12 not in ctx.voicing:
        out.append((0.0, ctx.voicing[0] + 12, ctx.beats, 0.75))
    return out


def _block(ctx: BarContext) -> list[Event]:
    """Piano or electric piano: held at rest, half-bar chords in a verse (in a waltz, the
    "pah-pah" after the bass's "oom"), the 3+3+2 pop rhythm in a chorus (the top voice doubled
    at the peak); chords on the pulses in other metres."""
    if ctx.level == REST:
        return _held(ctx)
    if not ctx.four:
        if len(ctx.pulses) == 3 and len(ctx.back) == 2 and ctx.level == VERSE:
            # A waltz: the bass has the "oom", the chords the "pah-pah".
            return [e for i in ctx.back for e in _chord(ctx.voicing, ctx.pulses[i], 0.8, 0.9)]
        idx = ctx.strong if ctx.level == VERSE else range(len(ctx.pulses))
        return _hits(ctx, [ctx.pulses[i] for i in idx])
    if ctx.level == VERSE:
        return _hits(ctx, [0.0, 2.0])
    out = _hits(ctx, [0.0, ctx.t(1.5), 3.0], [1.0, 0.85, 0.9])
    if ctx.level == PEAK:
        top = ctx.voicing[-1]
        out += [(t, top + 12, length, s * 0.8) for t, p, length, s in out if p == top]
    return out


def _arpeggio(ctx: BarContext) -> list[Event]:
    """Broken chords: up and down the voicing in eighths (quarters at rest), each note ringing
    on; an octave added on top in a chorus."""
    v = list(ctx.voicing)
    if ctx.level >= CHORUS:
        v.append(v[0] + 12)
    seq = v + v[1:-1][::-1] if len(v) > 2 else v
    step = 1.0 if ctx.level == REST else 0.5
    k = round(ctx.beats / step)
    out: list[Event] = []
    for j in range(k):
        t = ctx.t(j * step)
        accent = 1.0 if any(abs(j * step - p) < 1e-6 for p in ctx.pulses) else 0.8
        out.append((t, seq[j % len(seq)], step * 1.8, accent))
    return out


def _chip(ctx: BarContext) -> list[Event]:
    """Chiptune: fast arpeggios, sixteenths (eighths at rest), climbing through an octave in a
    chorus."""
    v = list(ctx.voicing)
    if ctx.level >= CHORUS:
        v = [*v, v[0] + 12, *v[1:][::-1]]
    step = 0.5 if ctx.level == REST else 0.25
    k = round(ctx.beats / step)
    return [(j * step, v[j % len(v)], step * 0.9, 1.0 if j % 4 == 0 else 0.8) for j in range(k)]


def _guzheng(ctx: BarContext) -> list[Event]:
    """Guzheng: a rolled glissando up the pentatonic scale into the chord, then plucked patterns
    of its pentatonic chord tones, in eighths (sixteenths in a chorus)."""
    penta = set(ctx.plan.key.pentatonic)
    tones = [p for p in ctx.voicing if p % 12 in penta]
    if len(tones) < 2:
        tones = list(ctx.voicing)
    out: list[Event] = []
    t = 0.0
    if ctx.level != VERSE or ctx.index % 2 == 0:
        lo, hi = tones[0] - 12, tones[-1]
        gliss = [p for p in range(lo, hi + 1) if p % 12 in penta][-8:]
        for j, p in enumerate(gliss):
            out.append((j / 12, p, 1.0, 0.55 + 0.05 * j))
        t = 1.0 if ctx.level >= VERSE else 0.0
    if ctx.level == REST:
        return out + _chord(tones, len(out) / 12, ctx.beats - len(out) / 12, 0.85)
    step = 0.25 if ctx.level >= CHORUS else 0.5
    figure = [tones[0], tones[-1], tones[len(tones) // 2], tones[-1]]
    j = 0
    while t < ctx.beats - 1e-9:
        accent = 1.0 if abs(t - round(t)) < 1e-6 else 0.78
        out.append((t, figure[j % len(figure)], step * 2, accent))
        t += step
        j += 1
    return out


def _strum(ctx: BarContext) -> list[Event]:
    """Guitar: strums, down (low strings first) on the beat and up (the top strings, lighter)
    between; one let-ring strum at rest, D D U U D U in a verse, eighths in a chorus."""
    if ctx.four:
        pattern = {
            REST: [(0.0, "D")],
            VERSE: [(0.0, "D"), (1.0, "D"), (1.5, "U"), (2.5, "U"), (3.0, "D"), (3.5, "U")],
        }.get(ctx.level, [(j / 2, "D" if j % 2 == 0 else "U") for j in range(8)])
    else:
        pattern = [(ctx.pulses[0], "D")]
        if ctx.level > REST:
            pattern = []
            for i, p in enumerate(ctx.pulses):
                pattern.append((p, "D"))
                pattern.append((ctx.offbeat(i), "U"))
    v = list(ctx.voicing)
    if v[0] + 12 > v[-1]:
        v.append(v[0] + 12)  # a guitar's doubled root on the top strings
    out: list[Event] = []
    onsets = [ctx.t(t) for t, _ in pattern]
    ends = [*onsets[1:], ctx.beats]
    for (t, stroke), start, end in zip(pattern, onsets, ends, strict=True):
        strings = v if stroke == "D" else v[-3:][::-1]
        s = (1.0 if t == int(t) else 0.85) if stroke == "D" else 0.7
        for j, p in enumerate(strings):
            lag = j * 0.018  # the pick crosses the strings
            out.append((start + lag, p, max(0.1, (end - start) * 0.95 - lag), s))
    return out


def _power(ctx: BarContext) -> list[Event]:
    """Rock guitar: power chords (root, fifth, octave) from the low strings; let ring at rest,
    palm-muted eighths in a verse, open eighths in a chorus."""
    root = 40 + (ctx.chord.root - 40) % 12
    shape = [root, root + 7, root + 12]
    if ctx.level == REST:
        return _chord(shape, 0.0, ctx.beats, 0.9)
    muted = ctx.level == VERSE
    k = round(ctx.beats * 2)
    out: list[Event] = []
    for j in range(k):
        t = ctx.t(j / 2)
        on = any(abs(j / 2 - p) < 1e-6 for p in ctx.pulses)
        length = 0.22 if muted else 0.46
        out += _chord(shape if not muted else shape[:2], t, length, (1.0 if on else 0.85))
    return out


def _chug(ctx: BarContext) -> list[Event]:
    """Metal guitar: palm-muted gallops (an eighth and two sixteenths) in a verse, open power
    chords in a chorus, sixteenth chugs under them at the peak."""
    root = 40 + (ctx.chord.root - 40) % 12
    shape = [root, root + 7, root + 12]
    if ctx.level == REST:
        return _chord(shape, 0.0, ctx.beats, 0.9)
    out: list[Event] = []
    if ctx.level == VERSE:
        for b in range(int(ctx.beats)):
            out += _chord(shape[:2], b, 0.22, 1.0)
            out += _chord(shape[:2], b + 0.5, 0.12, 0.8)
            out += _chord(shape[:2], b + 0.75, 0.12, 0.85)
        return out
    if ctx.level == PEAK:  # sixteenth chugs, the open chord on each pulse
        for j in range(round(ctx.beats * 4)):
            on = any(abs(j / 4 - p) < 1e-6 for p in ctx.pulses)
            out += _chord(shape if on else shape[:2], j / 4, 0.2, 1.05 if on else 0.8)
        return out
    out = _chord(shape, 0.0, min(2.0, ctx.beats) * 0.95, 1.05)
    if ctx.beats > 2:
        out += _chord(shape, 2.0, (ctx.beats - 2) * 0.95, 1.0)
    return out


def _stab(ctx: BarContext) -> list[Event]:
    """House and EDM stabs (brass stabs in funk): short chords on the off-beats in a verse, the
    syncopated 3+3+2 sixteenth rhythm in a chorus; a held chord at rest."""
    if ctx.level == REST:
        return _held(ctx)
    if ctx.level >= CHORUS and ctx.four:
        onsets = [0.0, 0.75, 1.5, 2.5, 3.25]
    else:
        onsets = [ctx.offbeat(i) for i in range(len(ctx.pulses))]
    out: list[Event] = []
    for t in onsets:
        out += _chord(ctx.voicing, t, 0.3, 1.0 if t in (0.0, 1.5) else 0.9)
    return out


def _funk(ctx: BarContext) -> list[Event]:
    """Funk guitar: sixteenth-note scratches (ghosted, the top strings muted) around full chords
    on the backbeat; continuous sixteenths in a chorus; just the backbeat at rest."""
    ghosts = ctx.voicing[-2:]
    if ctx.level == REST:
        out: list[Event] = []
        for i in ctx.back:
            out += _chord(ctx.voicing, ctx.pulses[i], 0.2, 0.9)
        return out
    if ctx.four:
        pattern = "x.g.Xg.gx.g.Xg.g" if ctx.level == VERSE else "xgxgXgxgxgxgXgxg"
    else:
        pattern = "".join(
            ("X" if i in ctx.back else "x") + "g" * (round((ctx.pulse_end(i) - p) * 4) - 1)
            for i, p in enumerate(ctx.pulses)
        )
    out = []
    for j, ch in enumerate(pattern):
        t = j / 4
        if ch == "g":
            out += _chord(ghosts, t, 0.08, 0.45)
        elif ch in "xX":
            out += _chord(ctx.voicing, t, 0.2, 1.05 if ch == "X" else 0.9)
    return out


def _skank(ctx: BarContext) -> list[Event]:
    """Reggae organ: the skank, short chords on the backbeat (2 and 4); in a chorus the organ
    bubble adds soft chords on every off-beat."""
    out: list[Event] = []
    for i in ctx.back:
        out += _chord(ctx.voicing, ctx.pulses[i], 0.35, 1.0 if ctx.level > REST else 0.8)
    if ctx.level >= CHORUS:
        for i in range(len(ctx.pulses)):
            out += _chord(ctx.voicing[:-1], ctx.offbeat(i), 0.2, 0.55)
    return out


def _offbeat(ctx: BarContext) -> list[Event]:
    """Guitar chops on every off-beat (the top of the chord, short); the backbeat at rest."""
    top = ctx.voicing[-3:]
    if ctx.level == REST:
        return [e for i in ctx.back for e in _chord(top, ctx.pulses[i], 0.2, 0.8)]
    return [e for i in range(len(ctx.pulses)) for e in _chord(top, ctx.offbeat(i), 0.2, 0.9)]


# Charleston and its relatives, in (straight) beats; the swing moves the off-beats.
_JAZZ_RHYTHMS: tuple[tuple[float, ...], ...] = (
    (0.0, 1.5),  # the Charleston
    (1.5, 3.5),  # the "ands" of 2 and 4
    (0.0, 2.5),
    (1.0, 2.5),
    (0.0, 3.5),  # a push: the next chord anticipated on the "and" of 4
)


def _jazz(ctx: BarContext) -> list[Event]:
    """Jazz piano: rootless voicings comped in Charleston-like rhythms, pushing the next chord
    on the "and" of 4; one shell on the downbeat at rest, more hits in a chorus."""
    pushed = ctx.state.get("pushed", False)
    ctx.state["pushed"] = False
    if ctx.level == REST:
        return [] if pushed else _chord(ctx.voicing, 0.0, ctx.beats * 0.9, 0.85)
    rng = ctx.rng
    if ctx.four:
        rhythm = list(rng.choice(_JAZZ_RHYTHMS))
        if ctx.level >= CHORUS:
            extra = rng.choice(_JAZZ_RHYTHMS)
            rhythm = sorted(set(rhythm) | set(extra))
    else:
        rhythm = [ctx.pulses[0]] + [
            ctx.pulses[i] + 0.5 for i in range(1, len(ctx.pulses)) if rng.random() < 0.5
        ]
    if pushed:
        rhythm = [t for t in rhythm if t > 0.0]
    out: list[Event] = []
    for j, t in enumerate(rhythm):
        nxt = ctx.t(rhythm[j + 1]) if j + 1 < len(rhythm) else ctx.beats
        v = ctx.voicing
        length = min(1.4, (nxt - ctx.t(t)) * 0.9)
        if t == 3.5 and ctx.next_voicing is not None:
            v, length = ctx.next_voicing, 1.2  # the push rings over the bar line
            ctx.state["pushed"] = True
        out += _chord(v, ctx.t(t), length, 1.0 if t == int(t) else 0.9)
    return out


def _bossa(ctx: BarContext) -> list[Event]:
    """Bossa nova guitar: chords on 1, 2 and the "and" of 3 in a verse; the two-bar partido
    (2-3 then 2-2-3 eighths) in a chorus; held at rest."""
    if ctx.level == REST:
        return _held(ctx)
    if not ctx.four:
        n = len(ctx.pulses)
        return _hits(ctx, [*ctx.pulses[: max(1, n - 1)], ctx.offbeat(n - 1)])
    if ctx.level == VERSE:
        onsets = [0.0, 1.0, 2.5]
    else:
        onsets = [0.0, 1.0, 2.5, 3.5] if ctx.index % 2 == 0 else [0.5, 2.0, 3.0]
    out: list[Event] = []
    ends = [*onsets[1:], ctx.beats]
    for t, end in zip(onsets, ends, strict=True):
        out += _chord(ctx.voicing, t, (end - t) * 0.85, 1.0 if t == int(t) else 0.9)
    return out


def _montuno(ctx: BarContext) -> list[Event]:
    """Salsa piano montuno: a two-bar syncopated eighth-note figure, the melody in octaves on
    top against the chord's inner voices, anticipating the next chord on the last eighth."""
    pushed = ctx.state.get("pushed", False)
    ctx.state["pushed"] = False
    if ctx.level == REST or not ctx.four:
        return [] if pushed else _hits(ctx, [ctx.pulses[i] for i in ctx.strong])
    v = ctx.voicing
    top = v[-1]
    octave = [top - 12, top] if top - 12 >= VOICING_LOW else [top, top + 12]
    inner = v[:-1]
    if ctx.index % 2 == 0:
        figure = [(0.0, "o"), (1.0, "c"), (1.5, "o"), (2.5, "c"), (3.0, "o"), (3.5, "n")]
    else:
        figure = [(0.5, "c"), (1.0, "o"), (2.0, "c"), (2.5, "o"), (3.5, "n")]
    out: list[Event] = []
    for t, kind in figure:
        if pushed and t == 0.0:
            continue
        if kind == "n" and ctx.next_voicing is not None:
            nv = ctx.next_voicing
            out += _chord([nv[-1] - 12, *nv[:-1], nv[-1]], t, 0.9, 1.0)
            ctx.state["pushed"] = True
            continue
        notes = octave if kind == "o" else inner
        if ctx.level >= CHORUS:
            notes = octave + inner if kind == "o" else inner
        out += _chord(notes, t, 0.45, 1.0 if kind == "o" else 0.85)
    return out


def _tango(ctx: BarContext) -> list[Event]:
    """Tango piano: the marcato, four short accented chords (1 and 3 strongest), in a verse;
    the 3+3+2 sincopa in a chorus; half-note chords at rest."""
    if ctx.level == REST:
        return _hits(ctx, [ctx.pulses[i] for i in ctx.strong])
    if ctx.level == VERSE or not ctx.four:
        out: list[Event] = []
        for i, p in enumerate(ctx.pulses):
            out += _chord(ctx.voicing, p, 0.4, 1.05 if i in ctx.strong else 0.8)
        return out
    out = []
    for t, s in ((0.0, 1.1), (1.5, 1.0), (3.0, 1.0)):
        out += _chord(ctx.voicing, t, 0.6, s)
    return out


def _ostinato(ctx: BarContext) -> list[Event]:
    """Orchestral strings: held at rest; detached chords on every pulse in a verse, the strong
    pulses accented (a slow cue keeps its beat audible: nothing sounds between the beats); a
    driving eighth-note ostinato in a chorus, its off-beats lighter (the top doubled at the
    peak)."""
    if ctx.level == REST:
        return _held(ctx)
    if ctx.level == VERSE:
        out: list[Event] = []
        for i, p in enumerate(ctx.pulses):
            length = min(0.6, 0.6 * (ctx.pulse_end(i) - p))
            out += _chord(ctx.voicing, p, length, 1.0 if i in ctx.strong else 0.8)
        return out
    v = list(ctx.voicing)
    if ctx.level == PEAK:
        v.append(v[-1] + 12)
    out = []
    for j in range(round(ctx.beats * 2)):
        on = any(abs(j / 2 - p) < 1e-6 for p in ctx.pulses)
        out += _chord(v, j / 2, 0.45, 1.0 if on else 0.7)
    return out


def _mambo(ctx: BarContext) -> list[Event]:
    """Salsa brass: a soft held pad under a verse; short punches across the two-bar clave in a
    chorus."""
    if ctx.level < CHORUS or not ctx.four:
        return _chord(ctx.voicing, 0.0, ctx.beats, 0.7)
    onsets = [1.5, 3.0] if ctx.index % 2 == 0 else [0.5, 2.0, 3.5]
    out: list[Event] = []
    for t in onsets:
        out += _chord(ctx.voicing[-3:], t, 0.35 if t != 3.0 else 0.8, 1.05)
    return out


COMPS: dict[str, Comp] = {
    "pad": _pad,
    "block": _block,
    "arpeggio": _arpeggio,
    "chip": _chip,
    "guzheng": _guzheng,
    "strum": _strum,
    "power": _power,
    "chug": _chug,
    "stab": _stab,
    "funk": _funk,
    "skank": _skank,
    "offbeat": _offbeat,
    "jazz": _jazz,
    "bossa": _bossa,
    "montuno": _montuno,
    "tango": _tango,
    "ostinato": _ostinato,
    "mambo": _mambo,
}
