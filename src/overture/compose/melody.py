"""The lead melody: motifs that recur and develop, phrases that cadence, pitches the corpus knows.

Every song's tune has its own character, drawn once from the seed and what the song is: how busy
it is (an air in long notes, a reel running in eighths), a small rhythmic vocabulary (a few
figures of an even, dotted, running or broad palette; a slow tune may move in half-bar pulses),
how much its rhythm changes from bar to bar, how often its line repeats a note or leaps (busy
tunes leap more and dwell less), its compass, and how far it strays from the scale where its
style allows (``Style.chromatic``).

A song has one core motif (a bar of rhythm and a melodic contour) and a second bar rhythm that
answers it. Each section type develops the motif in its own way, as songwriters do: the chorus
states it high; the verse takes a sparer rhythm lower down; the pre-chorus climbs; the bridge
turns the contour upside down, in longer notes. Phrases are four bars (basic idea; the idea
again with a new ending, or its sequence; a continuation that changes pace; cadence) and
eight-bar sections are periods: the first phrase ends on a half cadence, the second on the tonic.

Contours move in runs of steps shaped as arches, rises and falls, with repeated notes and leaps
that the following steps fill in. Pitches are chosen note by note from the melody model learned
from folk melodies (what tends to come next, given the melody so far and the chord), shaped by
the contour, the section's register, chord tones on strong beats and long notes, the home chord
and the resolution of leaps. Styles that have them get notes from outside the scale: the
harmony's altered tones, chromatic approach notes, blue notes. Each section is drafted a few
times; the draft whose information content sits nearest the human range, and that shares no run
of eight notes with a corpus tune, is kept. A section's melody is written once, so a chorus
returns as itself; the last chorus is varied.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from overture.instruments import INSTRUMENTS
from overture.plan import CHORUS_KINDS, VERSE_KINDS, Plan, PlanSection
from overture.score import Note
from overture.theory import Chord, Key

if TYPE_CHECKING:
    from collections.abc import Iterator

    from overture.learn.melody_model import MelodyModel
    from overture.think import Thinker
    from overture.think.loop import SectionChange

ORIGINALITY_LIMIT = 8  # never answer with a run of this many notes shared with a corpus tune
DRAFTS = 3
_MAX_RETRIES = 6

# Rhythm cells for one pulse: ((onset, length) pairs, prior weight). The weights follow how
# often folk and pop tunes use each figure: quarters and eighths most, dotted figures and
# sixteenths for colour.
_CELLS_1 = (
    (((0.0, 1.0),), 1.0),
    (((0.0, 0.5), (0.5, 0.5)), 1.0),
    (((0.0, 0.75), (0.75, 0.25)), 0.5),
    (((0.0, 0.5), (0.5, 0.25), (0.75, 0.25)), 0.45),
    (((0.0, 0.25), (0.25, 0.25), (0.5, 0.5)), 0.35),
    (((0.5, 0.5),), 0.25),
    (((0.0, 0.25), (0.25, 0.25), (0.5, 0.25), (0.75, 0.25)), 0.3),
)
_CELLS_15 = (
    (((0.0, 1.5),), 0.8),
    (((0.0, 1.0), (1.0, 0.5)), 1.0),
    (((0.0, 0.5), (0.5, 0.5), (1.0, 0.5)), 1.0),
    (((0.0, 0.75), (0.75, 0.25), (1.0, 0.5)), 0.35),
    (((0.0, 0.5), (0.5, 1.0)), 0.4),
)


def _weight(cell: tuple[tuple[float, float], ...]) -> float:
    """How busy a cell sounds: its notes, a sixteenth counting a little less (a pair of
    sixteenths decorates an eighth more than it adds to the pulse)."""
    return sum(1.0 if d >= 0.5 - 1e-9 else 0.85 for _, d in cell)


def _palette_bias(palette: str, cell: tuple[tuple[float, float], ...]) -> float:
    """How much a song's rhythmic palette favours ``cell``."""
    lengths = [d for _, d in cell]
    dotted = any(abs(d - 0.75) < 1e-9 for d in lengths) or any(
        abs(d - 0.25) < 1e-9 for d in lengths
    )
    if palette == "dotted":
        return 3.0 if dotted else 1.0
    if palette == "running":
        return 2.0 if len(cell) >= 2 and all(d <= 0.5 for d in lengths) else 1.0
    if palette == "broad":
        return 2.0 if len(cell) == 1 and cell[0][0] == 0 else 0.4 if dotted else 1.0
    return 0.6 if dotted else 1.0


@dataclass(slots=True)
class Motif:
    """A bar of rhythm (onsets and lengths within the bar) and its contour in scale steps."""

    rhythm: list[tuple[float, float]]
    contour: list[int]  # scale-step movement into each note (the first is ignored)


@dataclass(slots=True)
class Draft:
    """One candidate melody for a section, with what judged it."""

    notes: list[Note]
    ic: float  # mean information content, bits per note
    longest_match: int  # notes shared with the closest corpus tune
    score: float  # lower is better
    reasons: list[str] = field(default_factory=list)


def judge_line(
    model: MelodyModel, key: Key, notes: list[Note], roots: list[int], *, sung: bool = False
) -> Draft:
    """A draft line judged as every drafter judges it: its mean information content
    (:func:`line_ic`, with the chord root under each note), its distance from the human
    figure, and its longest run shared with a corpus tune (a copy costs 100). ``sung``: the
    line's rhythm is its words' (see :func:`line_ic`)."""
    from overture.learn.originality import longest_match

    if len(notes) < 2:
        return Draft(notes, human_ic(), 0, 0.0)
    pitches = [n.pitch for n in notes]
    durs = [n.duration for n in notes]
    ic = line_ic(model, key, pitches, durs, roots, sung=sung)
    match = longest_match(pitches, durs).notes
    score = abs(ic - human_ic())
    what = "pitch information content, rhythm from the words" if sung else "information content"
    reasons = [f"{what} {ic:.2f} bits/note"]
    if match >= ORIGINALITY_LIMIT:
        score += 100.0
        reasons.append(f"shares {match} notes with a corpus tune")
    return Draft(notes, ic, match, score, reasons)


def line_ic(
    model: MelodyModel,
    key: Key,
    pitches: Sequence[int],
    durations: Sequence[float],
    roots: Sequence[int | None] | None,
    *,
    sung: bool = False,
) -> float:
    """The mean information content (bits per note) a line is judged by:
    :meth:`MelodyModel.mean_ic`, pitch plus duration.

    A sung line's rhythm is not the composer's choice but its words' (the setter puts each
    syllable where its stress and length fall), and the corpus the model learned rhythm from
    is folk song, which hardly knows a pop vocal's syncopations: it finds a five-sixteenth
    syllable or a run of dotted eighths tens of bits surprising, so every sung line scored
    "too surprising" whatever its tune. For a sung line the pitches are judged in full and
    the rhythm counts as the human mean (``human_ic("duration")``), so its figure stays on
    the same scale as an instrumental line's."""
    if not sung:
        return model.mean_ic(pitches, durations, tonic=key.tonic, mode=key.mode, chord_roots=roots)
    pitch = model.mean_ic(
        pitches, durations, tonic=key.tonic, mode=key.mode, chord_roots=roots, part="pitch"
    )
    return pitch + human_ic("duration")


@lru_cache(maxsize=3)
def human_ic(part: str = "joint") -> float:
    """Mean information content (bits per note, pitch plus duration, long-term model at its top
    order) of the held-out folk melodies, from the trained model's manifest. A draft is judged
    by its distance from it: far below is dull, far above is random. ``part``: "pitch" or
    "duration" for one of the two."""
    from overture.learn import MODELS_DIR

    manifest = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
    melody = manifest["heldout"]["melody"]
    top = melody["ltm_by_order"][str(manifest["models"]["melody"]["max_order"])]
    if part == "joint":
        return float(top["pitch"] + top["duration"])
    if part in {"pitch", "duration"}:
        return float(top[part])
    raise ValueError(f"part must be joint, pitch or duration, not {part!r}")


def _pulses(plan: Plan) -> list[tuple[float, float]]:
    """The beats a bar is felt in: quarters, dotted quarters in compound time, 2+2+3 in 7/8."""
    ts = plan.time_signature
    bpb = ts.beats_per_bar
    if ts.is_compound:
        n = round(bpb / 1.5)
        return [(i * 1.5, 1.5) for i in range(n)]
    if ts.denominator == 8:  # 7/8 and other odd eighths: twos then a three
        out, t = [], 0.0
        while t < bpb - 1e-9:
            length = 1.5 if bpb - t in (1.5,) else min(1.0, bpb - t)
            out.append((t, length))
            t += length
        return out
    n = max(1, round(bpb))
    return [(float(i), 1.0) for i in range(n)]


def _broad_pulses(pulses: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Pulses twice as long (a bar of 4/4 in two halves, of 3/4 or 6/8 in one), where the metre
    allows; otherwise ``pulses``."""
    lengths = {d for _, d in pulses}
    if len(lengths) != 1:
        return pulses
    (length,) = lengths
    if len(pulses) % 2 == 0:
        return [(s, 2 * length) for s, _ in pulses[::2]]
    if len(pulses) == 3 and abs(length - 1.0) < 1e-9:
        return [(0.0, 3.0)]
    return pulses


def tune_id(plan: Plan, seed: int) -> str:
    """The identity a plan's tune is drawn from: the seed and what the song is (two prompts
    with the same seed are different songs and get different tunes)."""
    ts = plan.time_signature
    return f"{seed}:{plan.style.name}:{plan.key.name}:{plan.tempo:g}:{ts}:{plan.bars}"


class MelodyWriter:
    """Writes the lead of a plan; deterministic for the seed."""

    def __init__(self, plan: Plan, seed: int) -> None:
        from overture.learn.melody_model import MelodyModel

        self.plan = plan
        self.seed = seed
        self.model = MelodyModel.load()
        inst = INSTRUMENTS[plan.parts["lead"]]
        # The song's own random streams (``tune_id``).
        self.song = plan.tune_id or tune_id(plan, seed)
        rng = random.Random(f"motif:{self.song}")
        # The song's character. Tunes differ from one another far more than the notes of one
        # tune do: an air moves in long notes, a reel runs in eighths; one tune chants on
        # repeated notes in a narrow compass, another leaps about a wide one.
        # How busy: leaning sparser at fast tempos and busier at slow ones.
        lean = 0.15 if plan.tempo < 90 else -0.2 if plan.tempo > 140 else 0.0
        self.density = min(1.0, max(0.05, rng.uniform(0.05, 1.0) + lean))
        # The rhythmic palette: even, dotted, running or broad figures.
        self.palette = rng.choice(["even", "even", "dotted", "running", "broad"])
        # How the line moves: how often a note repeats, how often it leaps (busy tunes leap
        # about more, and dwell less on one note, than slow ones).
        busy = self.density - 0.5
        self.repeats = (0.02 + 0.3 * rng.random() ** 1.5) * (1 - busy)
        self.leaps = (0.03 + 0.6 * rng.random() ** 1.5) * (1 + busy)
        # How much the rhythm changes from bar to bar.
        self.variety = rng.random()
        # Whether phrases close on a long note from the middle of the bar or on the last beat.
        # (busy tunes mostly stop on the beat, as a reel does; sparse ones hold).
        self.long_cadence = rng.random() < 0.9 - 0.8 * self.density
        # How far the tune strays from the scale, within what its style allows.
        self.chromatic = plan.style.chromatic * rng.choice([0.0, 0.5, 1.0, 1.5, 2.0])
        # The compass: an octave or so for a chant, more for a leaping or running tune.
        compass = 9 + rng.uniform(0, 8) + 15 * self.leaps + 5 * self.density - 8 * self.repeats
        low = max(inst.low, 60)  # above the chord voicings, so the tune stands out
        # At least an octave, so that every degree (the tonic the song ends on among them) is
        # there to be sung.
        high = min(inst.high, low + max(12, round(compass)))
        pcs = set(plan.key.pentatonic if plan.style.pentatonic else plan.key.scale)
        self.scale = [p for p in range(low, high + 1) if p % 12 in pcs]
        self.pulses = _pulses(plan)
        # The pulse the tune's rhythm moves in: the beat, or for some tunes (more often slow
        # ones) the half bar or the bar, an air in long notes.
        self.beats = self.pulses
        broad = 0.35 if plan.tempo < 90 else 0.15 if plan.tempo < 120 else 0.05
        if rng.random() < broad:
            self.beats = _broad_pulses(self.pulses)
        self.bpb = plan.time_signature.beats_per_bar
        # A busy tune touches the goal of a cadence and runs on; a sparer one holds it.
        self.runs_on = self.density > 0.6 and self.beats == self.pulses
        self.drafts: dict[str, list[Draft]] = {}
        self.offset = 0.0  # start (beats) of the section being drafted
        # The chorus as kept (notes relative to its start, and its bars): the song's hook is
        # written first, and its verses are written under it, lower and sparer.
        self.chorus: tuple[list[Note], int] | None = None
        # The rhythmic vocabulary: a tune keeps to a few figures of its palette (a reel to its
        # running eighths, an air to its quarters and dotted figures).
        self.vocab = {
            length: self._vocabulary(rng, self._cells(length))
            for length in {d for _, d in self.beats}
        }
        self.core = self._make_motif(rng, density=self.density)
        # ... and a second bar rhythm that answers it: sparser after a busy idea, busier after
        # a broad one (the continuation of a phrase, where tunes change pace).
        swing = self.variety
        self.contrast_density = self.density - swing if self.density > 0.5 else self.density + swing
        for _ in range(4):
            self.contrast = self._make_rhythm(rng, min(1.0, max(0.0, self.contrast_density)))
            if self.contrast != self.core.rhythm:
                break

    # ------------------------------------------------------------------------- rhythm
    def _cells(self, length: float) -> tuple[tuple[tuple[tuple[float, float], ...], float], ...]:
        for base, cells in ((1.0, _CELLS_1), (1.5, _CELLS_15), (3.0, _CELLS_15)):
            for scale in (1.0, 2.0):
                if abs(length - base * scale) < 1e-9:
                    return tuple((tuple((o * scale, d * scale) for o, d in c), w) for c, w in cells)
        return _CELLS_1 if length >= 1.0 else ((((0.0, length),), 1.0),)

    def _vocabulary(
        self, rng: random.Random, cells: tuple[tuple[tuple[tuple[float, float], ...], float], ...]
    ) -> tuple[tuple[tuple[tuple[float, float], ...], float], ...]:
        """The few cells (of ``cells``) this tune uses: the one-note cell, and two or three
        figures drawn by the palette and the density."""
        if len(cells) <= 2:
            return cells
        want = 0.6 + 1.6 * self.density
        weights = [
            prior * _palette_bias(self.palette, c) * math.exp(-((_weight(c) - want) ** 2))
            for c, prior in cells
        ]
        chosen = {0}
        k = 1 if self.variety < 0.35 else rng.choice([2, 3])
        while len(chosen) < min(len(cells), k + 1):
            i = rng.choices(range(len(cells)), weights=weights)[0]
            chosen.add(i)
        return tuple(cells[i] for i in sorted(chosen))

    def _make_rhythm(self, rng: random.Random, density: float) -> list[tuple[float, float]]:
        """A bar of rhythm in the song's palette: busier cells with higher density, notes held
        through a pulse when sparse; fast tempos avoid sixteenths."""
        fast = self.plan.tempo >= 140
        out: list[tuple[float, float]] = []
        hold = 0.15 * (1 - density) * (1.6 if self.palette == "broad" else 1.0)
        spread = 0.3 + 1.2 * self.variety  # how freely the figures mix
        # A bar has a shape in time as well as in pitch: even, or running into a longer note
        # (short-short-long), or setting off from one.
        tilt = rng.choice([0.0, 0.0, -1.0, 1.0]) * 0.5 * self.variety
        n = len(self.beats)
        for i, (start, length) in enumerate(self.beats):
            local = density + tilt * ((n - 1) / 2 - i) / max(1, n - 1) * 2
            want = 0.6 + 1.6 * local  # about one note a pulse when sparse, two when dense
            cells = self.vocab.get(length) or self._cells(length)
            if fast:
                cells = tuple(c for c in cells if all(d >= 0.5 for _, d in c[0])) or cells
            weights = [
                prior
                * _palette_bias(self.palette, c)
                * math.exp(-((_weight(c) - want) ** 2) / spread)
                for c, prior in cells
            ]
            cell = rng.choices([c for c, _ in cells], weights=weights)[0]
            if i > 0 and out and out[-1][0] == self.beats[i - 1][0] and rng.random() < hold:
                # Hold the previous pulse's note through this one: longer notes in sparse tunes.
                o, d = out[-1]
                out[-1] = (o, d + length)
                continue
            out += [(start + o, d) for o, d in cell]
        if not out or out[0][0] > 0.5:
            out.insert(0, (0.0, out[0][0] if out else self.bpb))
        return out

    def _make_motif(self, rng: random.Random, density: float) -> Motif:
        rhythm = self._make_rhythm(rng, density)
        return Motif(rhythm, self._contour(rng, len(rhythm)))

    def _contour(self, rng: random.Random, n: int) -> list[int]:
        """Scale-step moves into each of ``n`` notes: runs of steps in one direction shaped as
        an arch, a rise, a fall or a valley; now and then a repeated note, or a leap (a fourth,
        a fifth, an octave) that the following steps fill in the other way, as folk and pop
        tunes move."""
        shape = rng.choice(["arch", "arch", "rise", "fall", "fall", "valley", "wave"])
        out = [0]
        fill, fill_sign = 0, 0  # steps still to go filling in a leap, and their direction
        for i in range(1, n):
            frac = i / max(1, n - 1)
            up = {
                "arch": frac <= 0.5,
                "rise": True,
                "fall": False,
                "valley": frac > 0.5,
                "wave": (i // 2) % 2 == 0,
            }[shape]
            sign = 1 if up else -1
            if fill:
                fill -= 1
                out.append(fill_sign)
                continue
            r = rng.random()
            if r < self.repeats:
                out.append(0)
            elif r < self.repeats + self.leaps:
                leap = rng.choice([2, 3, 3, 4, 4, 5, 7])
                out.append(sign * leap)
                if leap >= 3:
                    fill, fill_sign = rng.choice([1, 2, 2, 3]), -sign
            else:
                out.append(sign * (1 if rng.random() < 0.85 else 2))
        return out

    def _vary_motif(self, m: Motif, rng: random.Random, how: str) -> Motif:
        if how == "invert":
            return Motif(list(m.rhythm), [-c for c in m.contour])
        if how == "augment":
            rhythm = [(o * 2, d * 2) for o, d in m.rhythm if o * 2 < self.bpb - 1e-9]
            rhythm = [(o, min(d, self.bpb - o)) for o, d in rhythm]
            return Motif(rhythm, m.contour[: len(rhythm)])
        if how == "fragment":  # the motif's head, then a held note: a call that waits
            half = self._half()
            rhythm = [(o, min(d, half - o)) for o, d in m.rhythm if o < half - 1e-9]
            if not rhythm or half <= 0:
                return Motif([(0.0, self.bpb)], [0])
            rhythm.append((half, self.bpb - half))
            return Motif(rhythm, m.contour[: len(rhythm)])
        if how == "sparse":  # a sparer rhythm, the same kind of line
            rhythm = self._make_rhythm(rng, (1.0 - 0.3 * self.variety) * self.density)
            return Motif(rhythm, self._contour(rng, len(rhythm)))
        if how == "new-ending":  # the first half of the bar kept, the second drawn anew
            last = self._half()
            head = [(o, min(d, last - o)) for o, d in m.rhythm if o < last - 1e-9]
            old = [(o, d) for o, d in m.rhythm if o >= last - 1e-9]
            tail = old
            for _ in range(4):
                tail = [(o, d) for o, d in self._make_rhythm(rng, self.density) if o >= last - 1e-9]
                if tail != old:
                    break
            if not head or not tail:
                return Motif(list(m.rhythm), list(m.contour))
            rhythm = head + tail
            return Motif(rhythm, [m.contour[i % len(m.contour)] for i in range(len(rhythm))])
        if how == "new-rhythm":  # the contour kept, a fresh rhythm of the same density
            rhythm = self._make_rhythm(rng, self.density)
            contour = [m.contour[i % len(m.contour)] for i in range(len(rhythm))]
            return Motif(rhythm, contour)
        return Motif(list(m.rhythm), list(m.contour))

    # ------------------------------------------------------------------------- pitch
    def _chord_at(self, beat: float) -> Chord:
        """The chord at ``beat`` of the section being drafted (beats from its start)."""
        beat += self.offset
        bar = min(len(self.plan.chords) - 1, max(0, int(beat // self.bpb + 1e-9)))
        return self.plan.chords[bar]

    def _strong(self, pos: float) -> bool:
        """The downbeat, the middle of a four-pulse bar, or a pulse of compound time."""
        if abs(pos) < 1e-6:
            return True
        starts = [s for s, _ in self.pulses]
        if self.plan.time_signature.is_compound:
            return any(abs(pos - s) < 1e-6 for s in starts)
        return len(starts) == 4 and abs(pos - starts[2]) < 1e-6

    def _choose(
        self,
        rng: random.Random,
        history: list[Note],
        beat: float,
        length: float,
        target: float,
        centre: float,
        *,
        strong: bool,
        goal: set[int] | None = None,
        repeat_ok: bool = False,
        heading: int = 0,
    ) -> int:
        """The index in ``self.scale`` of the next note's pitch."""
        chord = self._chord_at(beat)
        tones = set(chord.pitch_classes)
        cands = self.scale
        idx = np.arange(len(cands), dtype=float)
        recent = history[-8:]
        probs = self.model.pitch_distribution(
            [n.pitch for n in recent],
            [n.duration for n in recent],
            tonic=self.plan.key.tonic,
            mode=self.plan.key.mode,
            candidates=cands,
            chord_root=chord.root,
            history_chord_roots=[self._chord_at(n.start).root for n in recent],
            short_term=False,  # the piece's own model scores drafts; generating with it loops
        )
        w = np.power(np.maximum(probs, 1e-9), 0.8)
        w *= np.exp(-((idx - target) ** 2) / (2 * 0.8**2))  # follow the motif's contour
        w *= np.exp(-((idx - centre) ** 2) / (2 * 2.5**2))  # stay in the section's register
        is_tone = np.array([p % 12 in tones for p in cands])
        # Tunes dwell on the notes of their home chord more than on the rest of the scale.
        home = {(self.plan.key.tonic + s) % 12 for s in (0, self.plan.key.steps[2], 7)}
        w *= np.where([p % 12 in home for p in cands], 1.5, 1.0)
        if goal:
            w *= np.where([p % 12 in goal for p in cands], 1.0, 0.02)
        elif strong or length >= 1.0:  # passing notes are free; strong or long ones are heard
            w *= np.where(is_tone, 1.0, 0.2)
        if len(history) >= 2:
            prev, before = history[-1].pitch, history[-2].pitch
            leap = prev - before
            if abs(leap) > 4:
                # A leap resolves by step the other way (a third back is weaker), or goes on
                # through its chord as an arpeggio; anything else is a last resort.
                moves = np.array(cands) - prev
                back = np.sign(moves) == -np.sign(leap)
                arpeggio = (
                    (np.sign(moves) == np.sign(leap))
                    & (np.abs(moves + leap) <= 12)
                    & np.array([p % 12 in tones for p in cands])
                    & (before % 12 in tones and prev % 12 in tones)
                )
                w *= np.where(
                    back & (np.abs(moves) <= 2),
                    1.0,
                    np.where((back & (np.abs(moves) <= 4)) | arpeggio, 0.5, 0.1),
                )
        if history:
            moves = np.array(cands) - history[-1].pitch
            jump = np.abs(moves)
            w *= np.where(jump > 9, 0.05, 1.0)
            # Tunes move mostly by step, and in runs rather than zig-zags.
            w *= np.where((jump >= 1) & (jump <= 2), 1.5, 1.0)
            if len(history) >= 2 and history[-1].pitch != history[-2].pitch:
                last = np.sign(history[-1].pitch - history[-2].pitch)
                w *= np.where((np.sign(moves) == last) & (jump <= 4), 1.5, 1.0)
            # Repeated notes are common in tunes, but a run of them is a drone, not a melody.
            run = 0
            for n in reversed(history):
                if n.pitch != history[-1].pitch:
                    break
                run += 1
            if heading:  # the contour's direction: a turn against it is a last resort
                w *= np.where(np.sign(moves) == -heading, 0.3, 1.0)
            same = np.array(cands) == history[-1].pitch
            w *= np.where(same, 0.35 ** (run - 1 if repeat_ok else run), 1.0)
        w = w / w.sum() if w.sum() > 0 else np.full(len(cands), 1 / len(cands))
        w = np.power(w, 1.6)  # a little sharper than sampling: tunes are not random walks
        w /= w.sum()
        return int(rng.choices(range(len(cands)), weights=w.tolist())[0])

    def _index_of(self, pitch: int) -> int:
        return _nearest(self.scale, pitch)

    def _bar(
        self,
        rng: random.Random,
        motif: Motif,
        history: list[Note],
        bar_start: float,
        centre: float,
        velocity: int,
    ) -> list[Note]:
        """One bar of fresh pitches on ``motif``'s rhythm, following its contour: each note
        moves from the one before as the contour says, while the bar as a whole leans back
        toward the section's register."""
        out: list[Note] = []
        cur = self._index_of(history[-1].pitch) if history else round(centre)
        levels, level = [], 0
        for i in range(len(motif.rhythm)):
            level += motif.contour[i] if 0 < i < len(motif.contour) else 0
            levels.append(level)
        anchor = (cur + centre) / 2
        start = min(cur + 2.0, max(cur - 2.0, anchor - sum(levels) / len(levels)))
        if len(history) >= 2 and rng.random() < 0.8:
            # Over the barline the line runs on the way it was going, when the register allows.
            went = history[-1].pitch - history[-2].pitch
            on = cur + (1.0 if went > 0 else -1.0) * rng.choice([1, 1, 2])
            if went and abs(on - (anchor - sum(levels) / len(levels))) <= 3.0:
                start = on
        for i, (onset, length) in enumerate(motif.rhythm):
            move = motif.contour[i] if 0 < i < len(motif.contour) else None
            planned = start + levels[i]
            if out and move is not None:
                target = 0.8 * (self._index_of(out[-1].pitch) + move) + 0.2 * planned
            else:
                target = planned
            k = self._choose(
                rng,
                history + out,
                bar_start + onset,
                length,
                target,
                centre,
                strong=self._strong(onset),
                repeat_ok=move == 0,
                heading=self._heading(history + out, move),
            )
            accent = 8 if onset == 0 else (3 if self._strong(onset) else 0)
            out.append(Note(self.scale[k], bar_start + onset, length, min(127, velocity + accent)))
        return out

    @staticmethod
    def _heading(history: list[Note], move: int | None) -> int:
        """The direction the line should keep: the contour's, or where it holds a note, the
        way it was going (if the note cannot be held, the line goes on rather than turning)."""
        if move:
            return 1 if move > 0 else -1
        if move == 0 and len(history) >= 2:
            d = history[-1].pitch - history[-2].pitch
            return (d > 0) - (d < 0)
        return 0

    def _shifted(self, notes: list[Note], bar_start: float, src_start: float) -> list[Note]:
        """``notes`` moved to another bar, transposed by scale steps to fit that bar's chord."""
        tones = set(self._chord_at(bar_start).pitch_classes)
        best, best_cost = 0, 1e9
        for shift in (0, 1, -1, 2, -2, 3, -3):
            cost = abs(shift) * 0.3
            for n in notes:
                i = self._index_of(n.pitch) + shift
                if not 0 <= i < len(self.scale):
                    cost += 5
                    continue
                pos = n.start - src_start
                if self._strong(pos) and self.scale[i] % 12 not in tones:
                    cost += 2
            if cost < best_cost:
                best, best_cost = shift, cost
        out = []
        for n in notes:
            i = min(len(self.scale) - 1, max(0, self._index_of(n.pitch) + best))
            out.append(Note(self.scale[i], n.start - src_start + bar_start, n.duration, n.velocity))
        return out

    def _half(self) -> float:
        """Where the second half of a bar begins: its middle pulse (the second, in two)."""
        return self.pulses[len(self.pulses) // 2][0] if len(self.pulses) > 1 else 0.0

    def _cadence(
        self,
        rng: random.Random,
        motif: Motif,
        history: list[Note],
        bar_start: float,
        centre: float,
        velocity: int,
        *,
        closing: bool,
    ) -> list[Note]:
        """A cadence bar: the head of the motif's rhythm (or a broader one) stepping toward the
        goal, then the goal: held, sometimes with a breath after it, or in a busy tune touched
        for a pulse before the line runs on into the next phrase.

        A closing phrase over the tonic chord lands on the tonic; otherwise the goal is a tone of
        the bar's chord other than the tonic (an open, half-cadence ending). An open cadence
        may keep the motif going to the last pulse; a closing one reaches its goal mid-bar."""
        key = self.plan.key
        chord = self._chord_at(bar_start)
        tones = set(chord.pitch_classes)
        home = closing and chord.root == key.tonic
        goal = {key.tonic} if home else (tones - {key.tonic}) or tones
        split = self._half() if closing or self.long_cadence else self.pulses[-1][0]
        # Approaching the goal the rhythm often broadens.
        source = motif.rhythm
        if rng.random() < 0.7 * self.variety:
            source = self._make_rhythm(rng, 0.6 * self.density)
        head = [(o, min(d, split - o)) for o, d in source if o < split - 1e-9]
        rest = self.bpb - split
        if not head:  # a short bar: the goal from the downbeat
            split, rest = 0.0, self.bpb
        breath = 0.5 if rest >= 1.5 and rng.random() < 0.6 * self.variety else 0.0
        rhythm = [*head, (split, rest - breath)]
        after: list[tuple[float, float]] = []
        pulse = next((d for o, d in self.pulses if abs(o - split) < 1e-9), rest)
        if self.runs_on and head and rest > pulse + 1e-9:
            # A busy tune touches its goal for a pulse and runs on, into the next phrase.
            rhythm = [*head, (split, pulse)]
            after = [
                (o, d) for o, d in self._make_rhythm(rng, self.density) if o >= split + pulse - 1e-9
            ]
        cur = self._index_of(history[-1].pitch) if history else round(centre)
        here = (cur + centre) / 2
        ends = [i for i, p in enumerate(self.scale) if p % 12 in goal] or [round(centre)]
        end = min(ends, key=lambda i: abs(i - here))
        bump = 1.0 if end <= cur else -1.0  # approach from above when falling, below when rising
        out: list[Note] = []
        n = len(head)
        for i, (onset, length) in enumerate(rhythm):
            last = i == n
            frac = (i + 1) / (n + 1)
            target = (
                cur + (end - cur) * frac + bump * math.sin(math.pi * frac) * (abs(end - cur) < 2)
            )
            k = self._choose(
                rng,
                history + out,
                bar_start + onset,
                length,
                end if last else target,
                centre,
                strong=last or self._strong(onset),
                goal=goal if last else None,
            )
            out.append(
                Note(self.scale[k], bar_start + onset, length, velocity + (6 if last else 0))
            )
        for i, (onset, length) in enumerate(after):
            final = i == len(after) - 1  # the phrase still ends on a tone of its chord
            k = self._choose(
                rng,
                history + out,
                bar_start + onset,
                length,
                self._index_of(out[-1].pitch) + rng.choice([-1, 1]),
                centre,
                strong=final,
                goal=tones if final else None,
            )
            out.append(Note(self.scale[k], bar_start + onset, length, velocity))
        return out

    # ------------------------------------------------------------------------- sections
    def _section_motif(self, kind: str, rng: random.Random) -> Motif:
        core = self.core
        if kind in {"chorus", "variation", "jingle", "solo"}:
            return core
        if kind in {"verse", "theme"}:  # sparer than the chorus: fewer notes, or a fragment
            if rng.random() >= 0.1 * self.variety:
                for _ in range(4):
                    m = self._vary_motif(core, rng, "sparse")
                    if len(m.rhythm) <= len(core.rhythm):
                        return m
            return self._vary_motif(core, rng, "fragment")
        if kind == "bridge":
            how = "augment" if self.bpb >= 3 and self.density > 0.5 else "new-rhythm"
            return self._vary_motif(core, rng, how)
        if kind == "pre-chorus":
            return self._vary_motif(core, rng, "fragment" if rng.random() < 0.3 else "new-rhythm")
        return self._vary_motif(core, rng, "sparse")

    def _register(self, kind: str) -> float:
        frac = {
            "chorus": 0.62,
            "variation": 0.6,
            "bridge": 0.55,
            "pre-chorus": 0.5,
            "solo": 0.6,
            "verse": 0.35,
            "theme": 0.42,
        }.get(kind, 0.4)
        return frac * (len(self.scale) - 1)

    @contextlib.contextmanager
    def changed(self, change: SectionChange, tag: str) -> Iterator[None]:
        """Drafting under ``change`` (a retracted round's re-plan): the register moved, the
        motif re-made at another density, or the section motifs turned upside down;
        restored afterwards."""
        if not (change.register or change.density != 1.0 or change.invert):
            yield
            return
        cls = type(self)
        saved_density, saved_core = self.density, self.core
        try:
            if change.density != 1.0:
                self.density = min(1.0, max(0.05, self.density * change.density))
                self.core = self._make_motif(random.Random(f"change:{tag}"), self.density)
            if change.register:
                shift = float(change.register)
                self._register = lambda kind: cls._register(self, kind) + shift  # type: ignore[method-assign]
            if change.invert:

                def inverted(kind: str, rng: random.Random) -> Motif:
                    m = cls._section_motif(self, kind, rng)
                    return Motif(m.rhythm, [-c for c in m.contour])

                self._section_motif = inverted  # type: ignore[method-assign]
            yield
        finally:
            self.density, self.core = saved_density, saved_core
            for name in ("_register", "_section_motif"):
                self.__dict__.pop(name, None)

    def under_chorus(self, kind: str) -> bool:
        """Whether a section of ``kind`` is written under the kept chorus (a verse)."""
        return kind in VERSE_KINDS and self.chorus is not None and bool(self.chorus[0])

    def contrast_fault(self, s: PlanSection, notes: Sequence[Note]) -> str | None:
        """Why ``notes``, a draft of verse ``s``, fails to set off the kept chorus (it sits
        as high, or moves as busily); ``None`` when it does, or when ``s`` is no verse."""
        if not self.under_chorus(s.kind) or not notes:
            return None
        assert self.chorus is not None
        chorus, bars = self.chorus
        mean = sum(n.pitch for n in notes) / len(notes)
        top = sum(n.pitch for n in chorus) / len(chorus)
        if mean >= top:
            return f"sits as high as the chorus (mean pitch {mean:.1f} against {top:.1f})"
        if len(notes) / s.bars > len(chorus) / bars + 1e-9:
            return (
                f"busier than the chorus ({len(notes) / s.bars:.2f} notes a bar against "
                f"{len(chorus) / bars:.2f})"
            )
        return None

    def draft_section(self, s: PlanSection, rng: random.Random) -> list[Note]:
        """Notes of one section's melody, relative to the section's start."""
        self.offset = s.start_bar * self.bpb
        motif = self._section_motif(s.kind, rng)
        if s.kind == "bridge":
            motif = Motif(motif.rhythm, [-c for c in motif.contour])
        centre = self._register(s.kind)
        if self.under_chorus(s.kind):
            # A verse sits under its chorus: its register a few steps below where the chorus
            # actually went, whatever its line did.
            assert self.chorus is not None
            chorus = self.chorus[0]
            top = sum(self._index_of(n.pitch) for n in chorus) / len(chorus)
            centre = min(centre, top - 2.5)
        vel = int(70 + 30 * s.energy)
        out: list[Note] = []
        phrase_start: list[Note] = []
        for b in range(s.bars):
            start = b * self.bpb
            in_phrase = b % 4
            phrase_end = in_phrase == 3 or b == s.bars - 1
            if phrase_end and s.bars >= 2:
                # The first phrase of a period stays open; the last one closes.
                closing = b == s.bars - 1 or (b // 4) % 2 == 1
                out += self._cadence(rng, motif, out, start, centre, vel, closing=closing)
                continue
            if in_phrase == 0 and (b // 4) % 2 == 1 and phrase_start:
                # The second phrase of a period begins as the first did.
                out += self._shifted(phrase_start, start, 0.0)
                continue
            if in_phrase == 1 and out:
                # Repetition or sequence of the basic idea, fitted to this bar's chord.
                prev_bar = [n for n in out if start - self.bpb - 1e-9 <= n.start < start - 1e-9]
                if prev_bar and rng.random() < 0.3 - 0.25 * self.variety:
                    out += self._shifted(prev_bar, start, start - self.bpb)
                    continue
            m = motif
            if in_phrase == 1:  # the idea again, its ending changed to lead on
                m = self._vary_motif(motif, rng, "new-ending")
            if in_phrase == 2:
                # The continuation: the idea turned upside down, or (mostly) quickened into a
                # busier rhythm that drives on to the cadence.
                if rng.random() < 0.75 + 0.25 * self.variety:
                    rhythm = self.contrast
                    if rng.random() < 0.5 * self.variety:
                        rhythm = self._make_rhythm(rng, min(1.0, max(0.0, self.contrast_density)))
                    m = Motif(
                        rhythm, [motif.contour[i % len(motif.contour)] for i in range(len(rhythm))]
                    )
                else:
                    m = self._vary_motif(motif, rng, "invert")
                if s.kind == "pre-chorus":
                    m = Motif(m.rhythm, [abs(c) for c in m.contour])  # it climbs
            bar_notes = self._bar(rng, m, out, start, centre + (1 if in_phrase == 2 else 0), vel)
            if in_phrase == 0 and b < 4:
                phrase_start = bar_notes
            out += bar_notes
        out = _legato(out, s.bars * self.bpb)
        if self.under_chorus(s.kind):
            assert self.chorus is not None
            chorus, bars = self.chorus
            out = self._thin(out, math.floor(len(chorus) * s.bars / bars + 1e-9))
        return _break_runs(self._colour(out, rng), self.scale)

    def _thin(self, notes: list[Note], most: int) -> list[Note]:
        """``notes`` with at most ``most`` notes: the shortest notes off the beat (then on
        it) merge into the note before them, which is held on; cadence goals (each phrase's
        last note) stay."""
        notes = list(notes)
        while len(notes) > max(2, most):
            ends = {len(notes) - 1}
            ends |= {
                i
                for i in range(len(notes) - 1)
                if notes[i + 1].start // (4 * self.bpb) != notes[i].start // (4 * self.bpb)
            }
            i = min(
                (j for j in range(1, len(notes)) if j not in ends),
                key=lambda j: (
                    self._strong(notes[j].start % self.bpb),
                    notes[j].duration,
                    abs(notes[j].pitch - notes[j - 1].pitch),
                    j,
                ),
                default=None,
            )
            if i is None:
                break
            prev, gone = notes[i - 1], notes[i]
            notes[i - 1] = Note(prev.pitch, prev.start, gone.end - prev.start, prev.velocity)
            del notes[i]
        return notes

    def _colour(self, notes: list[Note], rng: random.Random) -> list[Note]:
        """Notes from outside the scale, as the style and the song's taste for them allow.

        * The harmony's altered tones: a scale note that rubs a semitone against a chord tone
          from outside the scale (the leading tone of a major V in minor, the flat seventh of a
          dominant-seventh tonic) takes that tone, where the rub would be heard: on a strong
          beat, on a long note, or where the line resolves by a semitone.
        * Chromatic approach notes: a short note on a weak beat a whole step from the chord
          tone that follows moves to a semitone from it.
        * Blue notes (in styles that have them, in major keys): the third falling away turns
          into the flat third; the seventh over the tonic chord into the flat seventh.
        """
        c = self.chromatic
        if c <= 0 or len(notes) < 3 or self.plan.style.pentatonic:
            return notes
        key = self.plan.key
        in_scale = set(key.scale)
        minor = key.mode == "minor"
        blue = self.plan.style.blue_notes and not minor
        third, seventh = (key.tonic + 4) % 12, (key.tonic + 11) % 12
        out = list(notes)
        for i, n in enumerate(notes):
            if i == len(notes) - 1:
                break  # the section's last note is its cadence goal
            nxt = notes[i + 1]
            chord = self._chord_at(n.start)
            tones = set(chord.pitch_classes)
            pc = n.pitch % 12
            strong = self._strong(n.start % self.bpb)
            shift = 0
            # In minor the harmony raises a degree (the sixth, the seventh); in major it lowers
            # one (the seventh, the third): the scale note it rubs against is a semitone away.
            rub = (pc + 1) % 12 if minor else (pc - 1) % 12
            if pc not in tones and rub in tones and rub not in in_scale:
                resolves = (nxt.pitch - (n.pitch + (1 if minor else -1))) in (1, -1)
                if (strong or n.duration >= 1.0 or resolves) and rng.random() < 0.5 + c:
                    shift = 1 if minor else -1
            elif (
                not strong
                and n.duration <= 0.5
                and abs(nxt.pitch - n.pitch) == 2
                and nxt.pitch % 12 in set(self._chord_at(nxt.start).pitch_classes)
                and rng.random() < 0.5 * c
            ):
                shift = 1 if nxt.pitch > n.pitch else -1
            elif (
                blue
                and not strong
                and nxt.pitch < n.pitch
                and (pc == third or (pc == seventh and chord.root == key.tonic))
                and rng.random() < 0.6 * c
            ):
                shift = -1
            if shift:
                out[i] = Note(n.pitch + shift, n.start, n.duration, n.velocity)
        return out

    def final_length(self) -> float | None:
        """How long the tune's last note lasts (``None``: until the final chord stops ringing).

        A tune ends as its phrases do, on a note held for the second half of the bar; an air in
        long notes, or a lead left alone at the end, rings on with the final chord."""
        last = self.plan.sections[-1]
        accompanied = any(p in last.parts for p in ("chords", "pad", "bass"))
        if self.beats != self.pulses or not accompanied:
            return None
        if self.runs_on:
            return 2 * self.pulses[-1][1] if len(self.pulses) > 2 else self.pulses[-1][1]
        return self.bpb - self._half()

    def judge(self, notes: list[Note]) -> Draft:
        """Information content (learned model) and originality (corpus) of a draft."""
        return judge_line(
            self.model, self.plan.key, notes, [self._chord_at(n.start).root for n in notes]
        )

    def draft_rng(self, s: PlanSection, attempt: int, salt: int = 0) -> random.Random:
        """The random stream of draft ``attempt`` of ``s`` (``salt``: a fresh set of drafts);
        a section of the same kind and length draws the same drafts."""
        tag = f"{attempt}" if not salt else f"{salt}:{attempt}"
        return random.Random(f"melody:{self.song}:{s.kind}:{s.bars}:{tag}")

    def section(self, s: PlanSection, *, salt: int = 0) -> list[Note]:
        """The best of a few drafts of ``s``'s melody (relative to its start); ``salt`` asks
        for a fresh set of drafts."""
        drafts: list[Draft] = []
        for attempt in range(DRAFTS + _MAX_RETRIES):
            d = self.judge(self.draft_section(s, self.draft_rng(s, attempt, salt)))
            clash = self.contrast_fault(s, d.notes)
            if clash:  # a verse that does not set off its chorus is a last resort
                d.score += 50.0
                d.reasons.append(clash)
            drafts.append(d)
            if attempt + 1 >= DRAFTS and min(x.score for x in drafts) < 50:
                break
        self.drafts[s.id] = drafts
        return min(drafts, key=lambda d: d.score).notes


def _nearest(scale: Sequence[int], pitch: int) -> int:
    """Index of the pitch in ``scale`` nearest to ``pitch``."""
    return min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))


def _break_runs(notes: list[Note], scale: Sequence[int], limit: int | None = 64) -> list[Note]:
    """``notes`` with every run of ``ORIGINALITY_LIMIT`` notes shared with a corpus tune broken:
    a short note inside the run (the one nearest its middle that has moved least) moves to a
    neighbouring scale step, by turns above and below where it was, a variant of the line.
    ``limit`` caps the moves (``None``: until no run is left)."""
    from overture.learn.originality import longest_match

    notes = list(notes)
    moved: dict[int, int] = {}
    origin: dict[int, int] = {}
    offsets = (1, -1, 2, -2)
    tries = 0
    while limit is None or tries < limit:
        tries += 1
        match = longest_match([n.pitch for n in notes], [n.duration for n in notes])
        if match.notes < ORIGINALITY_LIMIT:
            break
        lo, hi = match.query_offset + 1, match.query_offset + match.notes - 1
        mid = (lo + hi) / 2
        i = min(
            range(lo, hi), key=lambda j: (moved.get(j, 0), notes[j].duration > 1.0, abs(j - mid))
        )
        n = notes[i]
        home = origin.setdefault(i, _nearest(scale, n.pitch))
        around = (notes[i - 1].pitch + notes[i + 1].pitch) / 2
        turn = moved.get(i, 0)
        step = offsets[turn % 4] * (1 if n.pitch <= around else -1) * (1 + turn // 4)
        k = min(len(scale) - 1, max(0, home + step))
        if scale[k] == n.pitch:
            k = min(len(scale) - 1, max(0, home - step))
        notes[i] = Note(scale[k], n.start, n.duration, n.velocity)
        moved[i] = turn + 1
    return notes


def _legato(notes: list[Note], end: float) -> list[Note]:
    """Sorted, non-overlapping, inside the section."""
    notes = sorted(notes, key=lambda n: n.start)
    out: list[Note] = []
    for i, n in enumerate(notes):
        stop = notes[i + 1].start if i + 1 < len(notes) else end
        dur = min(n.duration, stop - n.start, end - n.start)
        if dur > 1e-6:
            out.append(Note(n.pitch, round(n.start, 6), round(dur, 6), n.velocity))
    return out


def _vary(notes: list[Note], rng: random.Random, scale: list[int]) -> list[Note]:
    """A later chorus, recognisably the same: in its second half some long notes turn into a
    neighbour-note figure (note, step away, note), or, if it has no long notes, a few notes off
    the beat move by a step. The cadence note is left alone."""
    if len(notes) < 3:
        return notes
    half = notes[-1].start / 2
    body = notes[:-1]
    long_ = [i for i, n in enumerate(body) if n.start >= half and n.duration >= 1.0]
    if long_:
        chosen = set(rng.sample(long_, max(1, round(0.6 * len(long_)))))
    else:
        weak = [i for i, n in enumerate(body) if n.start >= half and n.start % 1 > 1e-6]
        weak = weak or [i for i, n in enumerate(body) if n.start >= half]
        chosen = set(rng.sample(weak, min(len(weak), 2)))

    def step(pitch: int) -> int:
        i = _nearest(scale, pitch)
        j = i + rng.choice([1, -1])
        return scale[j if 0 <= j < len(scale) else 2 * i - j]

    out: list[Note] = []
    for i, n in enumerate(body):
        if i not in chosen:
            out.append(n)
        elif n.duration >= 1.0:
            a, b = n.duration / 2, n.duration / 4
            out.append(Note(n.pitch, n.start, a, n.velocity + 4))
            out.append(Note(step(n.pitch), n.start + a, b, n.velocity))
            out.append(Note(n.pitch, n.start + a + b, n.duration - a - b, n.velocity))
        else:
            out.append(Note(step(n.pitch), n.start, n.duration, n.velocity))
    return [*out, notes[-1]]


def lead_part(
    plan: Plan,
    seed: int,
    *,
    thinker: Thinker | None = None,
    fresh: Mapping[str, int] | None = None,
) -> list[Note]:
    """The lead of ``plan``: a given melody as written, or one composed for it (through the
    reasoning loop of ``thinker``, if given). ``fresh`` (section id -> salt) asks for a fresh
    set of drafts for those sections (a repainted section)."""
    if plan.spec.melody is not None:
        return _given(plan)
    writer = MelodyWriter(plan, seed)
    return compose_lead(plan, writer, thinker=thinker, fresh=fresh)


def compose_lead(
    plan: Plan,
    writer: MelodyWriter,
    *,
    thinker: Thinker | None = None,
    fresh: Mapping[str, int] | None = None,
) -> list[Note]:
    """Assemble the sections' melodies into the lead, and make sure of its originality.

    Each section is checked as it is drafted, but a run shared with a corpus tune can also
    straddle two sections; the whole lead is checked once more, the section holding a run of
    ``ORIGINALITY_LIMIT`` notes is drafted again, and as a last resort one note of the run moves
    by a step. The answer never shares such a run.
    """
    from overture.learn.originality import longest_match

    bpb = plan.time_signature.beats_per_bar
    cache: dict[tuple[object, ...], list[Note]] = {}
    salt: dict[tuple[object, ...], int] = {}
    why: dict[tuple[object, ...], str] = {}  # why a section is drafted again

    def key_of(s: PlanSection) -> tuple[object, ...]:
        # A section returns as itself wherever its chords do (a chorus is a chorus).
        return (s.kind, s.bars, plan.chords[s.start_bar : s.end_bar])

    for s in plan.sections:
        if fresh and s.id in fresh:
            salt[key_of(s)] = fresh[s.id]
    # The hook first: the choruses are written before the sections that lead to them, so that
    # a verse can be written under its chorus.
    order = sorted(
        (s for s in plan.sections if "lead" in s.parts), key=lambda s: s.kind not in CHORUS_KINDS
    )

    def draft(s: PlanSection) -> list[Note]:
        key = key_of(s)
        if key not in cache:
            if thinker is not None:
                cache[key] = thinker.section(writer, s, salt=salt.get(key, 0), why=why.get(key))
            else:
                cache[key] = writer.section(s, salt=salt.get(key, 0))
            if s.kind in CHORUS_KINDS and writer.chorus is None:
                writer.chorus = (cache[key], s.bars)
        return cache[key]

    def assemble() -> list[Note]:
        for s in order:
            draft(s)
        chorus_count = sum(1 for s in plan.sections if s.kind in CHORUS_KINDS)
        seen_chorus = 0
        notes: list[Note] = []
        for s in plan.sections:
            if s.kind in CHORUS_KINDS:
                seen_chorus += 1
            if "lead" not in s.parts:
                continue
            part = draft(s)
            last = seen_chorus == chorus_count and seen_chorus > 1
            if s.kind in CHORUS_KINDS and last:
                part = _vary(part, random.Random(f"vary:{writer.song}:{s.id}"), writer.scale)
            offset = s.start_bar * bpb
            notes += [Note(n.pitch, n.start + offset, n.duration, n.velocity) for n in part]
        return _finish(plan, notes, writer.scale, writer.final_length())

    for _ in range(6):
        lead = assemble()
        match = longest_match([n.pitch for n in lead], [n.duration for n in lead])
        if match.notes < ORIGINALITY_LIMIT:
            return lead
        middle = lead[match.query_offset + match.notes // 2]
        s = plan.section_at(int(middle.start // bpb + 1e-9))
        salt[key_of(s)] = salt.get(key_of(s), 0) + 1
        cache.pop(key_of(s), None)
        why.pop(key_of(s), None)  # drafted again for its own run
        if s.kind in CHORUS_KINDS:  # the chorus is written again: so are the verses under it
            writer.chorus = None
            for v in plan.sections:
                if v.kind in VERSE_KINDS and cache.pop(key_of(v), None) is not None:
                    why[key_of(v)] = f"{s.id} was written again, and a verse is written under it"
    return _break_runs(lead, writer.scale, limit=None)


def _given(plan: Plan) -> list[Note]:
    """The user's melody, as written, in each section that carries it."""
    assert plan.spec.melody is not None
    bpb = plan.time_signature.beats_per_bar
    out: list[Note] = []
    for s in plan.sections:
        if s.kind in {"verse", "chorus"}:
            offset = s.start_bar * bpb
            out += [
                Note(n.pitch, n.start + offset, n.duration, n.velocity)
                for n in plan.spec.melody.notes
                if n.start < s.bars * bpb
            ]
    return out


def _finish(
    plan: Plan, notes: list[Note], scale: Sequence[int], length: float | None = None
) -> list[Note]:
    """End the song on the tonic: held until the final chord stops ringing, or for ``length``
    beats (the tune's own closing note, the band's chord ringing on after it)."""
    bpb = plan.time_signature.beats_per_bar
    if plan.spec.loop:
        return [n for n in notes if n.start < plan.end_beat]
    last_bar = (plan.bars - 1) * bpb
    notes = [
        n if n.end <= last_bar else Note(n.pitch, n.start, last_bar - n.start, n.velocity)
        for n in notes
        if n.start < last_bar
    ]
    if "lead" in plan.sections[-1].parts:
        tonics = [p for p in scale if p % 12 == plan.key.tonic] or [
            scale[0] + (plan.key.tonic - scale[0]) % 12
        ]
        prev = notes[-1].pitch if notes else tonics[len(tonics) // 2]
        tonic = min(tonics, key=lambda p: abs(p - prev))
        ring = plan.end_beat - last_bar
        notes.append(Note(tonic, last_bar, min(ring, length or ring), 90))
    return notes


# Jingle gestures: scale degrees from the tonic (7 is its octave) and note values in units of
# the gesture's pulse; each turns once or twice on its way up and lands high on the tonic.
_JINGLES = (
    ((4, 2, 3, 4, 7), (1, 1, 1, 1)),  # sol mi fa sol do'
    ((0, 2, 1, 2, 4, 7), (1, 1, 0.5, 0.5, 1)),  # do mi re mi sol do'
    ((7, 4, 5, 6, 7), (1, 1, 1, 1)),  # do' sol la ti do'
    ((4, 2, 4, 7), (1.5, 0.5, 1)),  # sol, mi sol do'
    ((0, 4, 3, 2, 4, 7), (1, 1, 0.5, 0.5, 1)),  # do sol fa mi sol do'
    ((2, 0, 2, 4, 7), (1, 0.5, 0.5, 1)),  # mi do mi sol do'
    ((4, 5, 4, 6, 7), (1, 0.5, 0.5, 1)),  # sol la sol ti do'
)


_GESTURE_RHYTHMS = ((1.0,), (1.0, 1.0, 0.5, 0.5), (1.5, 0.5), (0.5, 0.5, 1.0), (1.0, 0.5, 0.5))


def _gesture(rng: random.Random) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A gesture of the jingles' kind, drawn from ``rng``: three to six notes that turn on
    their way up, by steps and small leaps, to the high tonic (degree 7)."""
    n = rng.randint(3, 6)
    degrees = [rng.choice((0, 2, 4, 4, 5, 7))]
    for i in range(1, n):
        left = n - i  # notes still to come before the landing
        d = degrees[-1] + rng.choice((-2, -1, 1, 1, 2, 2, 3))
        # Stay within reach of the landing: at most two steps a note from degree 7.
        d = max(7 - 2 * left - 1, min(9, d))
        if d == degrees[-1]:
            d += 1
        degrees.append(d)
    if degrees[-1] == 7:
        degrees[-1] = rng.choice((4, 6, 9))
    pattern = rng.choice(_GESTURE_RHYTHMS)
    values = tuple(pattern[i % len(pattern)] for i in range(n))
    return (*degrees, 7), values


def jingle(plan: Plan, chord: Chord) -> list[Note]:
    """A short gesture landing high on the tonic, chosen by the seed; the tonic is held for a
    few of the gesture's pulses while the chord rings on."""
    inst = INSTRUMENTS[plan.parts["lead"]]
    base = max(inst.low, 60)
    tonic = base + (plan.key.tonic - base) % 12
    steps = plan.key.steps
    rng = random.Random(f"jingle:{plan.spec.seed}")
    degrees, values = rng.choice(_JINGLES)
    if rng.random() < 0.6:  # most seeds make a gesture of their own, so takes differ
        degrees, values = _gesture(rng)
    gap = min(0.5, plan.end_beat / (2 * sum(values)))
    out, t = [], 0.0
    for i, (d, v) in enumerate(zip(degrees, values, strict=False)):
        pitch = tonic + 12 * (d // 7) + steps[d % 7]
        if plan.style.pentatonic:  # the nearest note of the pentatonic scale
            pitch = min(
                (q for q in range(pitch - 2, pitch + 3) if q % 12 in plan.key.pentatonic),
                key=lambda q: (abs(q - pitch), q),
            )
        out.append(Note(pitch, t, v * gap, 85 + round(15 * i / len(degrees))))
        t += v * gap
    ring = plan.end_beat - t
    if any(p in plan.parts for p in ("chords", "pad", "bass")):
        ring = min(ring, 4 * gap)
    out.append(Note(tonic + 12, t, max(gap, ring), 100))
    return out
