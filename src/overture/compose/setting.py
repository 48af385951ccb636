"""Setting lyrics: a sung melody written for the words, one phrase per lyric line.

How long a line takes is decided with the form (``overture.plan``): a line is sung in a phrase
of whole bars, at a comfortable rate when the song has room (no syllable shorter than
``COMFORT_SECONDS``, a held last note and a breath after it) or, when the duration is tight,
at the fastest singable rate (``MIN_SYLLABLE_SECONDS``). This module answers how many
syllables a phrase holds (``phrase_fits``) and then writes each phrase:

* Rhythm: the syllables' onsets on a grid of the shortest singable note, chosen by dynamic
  programming so that stressed syllables fall on strong beats and unstressed ones off them,
  stressed syllables get the longer notes, the line flows evenly, and its last syllable is
  held up to a breath before the next line.
* Pitch: scale tones in the voice's range over the plan's chords, chord tones on strong
  beats and long notes, moving mostly by step along a contour (an arch, a rise, a fall) in the
  section's register (the chorus higher than the verse), scored with the melody model learned
  from folk tunes. Lines end on chord tones, a section's last line on the tonic. Mandarin
  tones steer the contour: a tone-1 syllable level or high, tone 2 rising into it, tone 3 low
  (a dip), tone 4 falling to the next note.
* Melismas only at the end of a line held for two beats or more (a turn onto the final chord
  tone, following a Mandarin tone's direction) and on a long note in a sparse line.
* A line returns with its tune: the n-th line of a section kind sings the melody the first
  such section gave it: the same notes for the same words, and for other words with as many
  syllables (when its rhythm stresses them as well as a new one would; Mandarin words get
  new pitches along the tune's contour, for their tones); otherwise a new rhythm along the
  tune's contour.

Every note belongs to exactly one syllable: ``Note.lyric`` holds the syllable on its first
note and is empty on the notes a melisma carries it on.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from overture.score import Note
from overture.theory import TimeSignature

if TYPE_CHECKING:
    from collections.abc import Iterator

    from overture.compose.melody import Draft
    from overture.lyrics import LyricLine, Syllable
    from overture.plan import LyricPhrase, Plan, PlanSection
    from overture.score import Score
    from overture.think import Thinker
    from overture.think.loop import SectionChange
    from overture.voice import SungSyllable

MIN_SYLLABLE_SECONDS = 0.15  # the fastest singable syllable (a quick patter)
COMFORT_SECONDS = 0.2  # the shortest syllable of a relaxed setting
BREATH_SECONDS = 0.3  # the breath between two lines, at least
MAX_LINE_SYLLABLES = 16  # a longer line is cut (``lyrics.split_line``) into two phrases
PHRASE_SECONDS = 4.0  # the natural length of a sung phrase
VOCAL_PROGRAM = 53  # General MIDI "Voice Oohs": how the vocals read in a MIDI player

# The written range of each voice (MIDI): female A3-E5, male A2-E4.
VOICE_RANGES = {"female": (57, 76), "male": (45, 64), "breathy": (57, 74)}
# Where each kind of section sits in that range (0 bottom, 1 top).
_REGISTER = {
    "chorus": 0.62,
    "pre-chorus": 0.5,
    "bridge": 0.56,
    "verse": 0.38,
    "intro": 0.42,
    "outro": 0.42,
}
_SHAPES = ("arch", "rise", "fall", "arch", "wave")


# ----------------------------------------------------------------------------- capacity
def grid_beats(tempo: float, *, seconds: float = MIN_SYLLABLE_SECONDS) -> float:
    """The shortest note value (beats) a syllable may take at ``tempo``: a sixteenth, an
    eighth, a quarter or a half note, whichever is first at least ``seconds`` long."""
    for value in (0.25, 0.5, 1.0, 2.0):
        if value * 60.0 / tempo >= seconds - 1e-9:
            return value
    return 2.0


@dataclass(frozen=True, slots=True)
class Pace:
    """How a phrase is laid out: the shortest syllable, the held last note and the breath
    after it, in beats."""

    grid: float
    step: float  # the typical short syllable (comfortable: at least COMFORT_SECONDS)
    hold: float
    breath: float


def pace(tempo: float, ts: TimeSignature, *, tight: bool) -> Pace:
    """The layout of a phrase at ``tempo``: relaxed, or ``tight`` (the fastest singable)."""
    grid = grid_beats(tempo)
    beat = 60.0 / tempo
    if tight:
        return Pace(grid, grid, grid, grid)
    step = max(grid, grid_beats(tempo, seconds=COMFORT_SECONDS))
    breath = max(step, math.ceil(BREATH_SECONDS / beat / grid - 1e-9) * grid)
    hold = max(1.5 if ts.is_compound else 1.0, step)
    return Pace(grid, step, hold, breath)


def phrase_fits(syllables: int, bars: int, tempo: float, ts: TimeSignature, *, tight: bool) -> bool:
    """Whether a line of ``syllables`` can be sung in ``bars`` bars at ``tempo``."""
    p = pace(tempo, ts, tight=tight)
    need = (syllables - 1) * p.step + p.hold + p.breath
    return need <= bars * ts.beats_per_bar + 1e-9


def base_phrase_bars(tempo: float, ts: TimeSignature) -> int:
    """Bars of a natural phrase at ``tempo``: 1, 2 or 4, whichever is nearest 4 seconds."""
    bar_s = ts.beats_per_bar * 60.0 / tempo
    return min((1, 2, 4), key=lambda b: (abs(math.log(b * bar_s / PHRASE_SECONDS)), b))


def line_bars(syllables: int, tempo: float, ts: TimeSignature, *, tight: bool) -> int:
    """Bars for a line: the natural phrase length or a multiple of it when relaxed, the
    fewest bars that hold it when ``tight``."""
    if tight:
        bars = 1
        while not phrase_fits(syllables, bars, tempo, ts, tight=True):
            bars += 1
        return bars
    base = base_phrase_bars(tempo, ts)
    bars = base
    while not phrase_fits(syllables, bars, tempo, ts, tight=False):
        bars += base
    return bars


def sung_lines(lines: Sequence[LyricLine]) -> list[LyricLine]:
    """The phrases the lines are sung in: lines longer than ``MAX_LINE_SYLLABLES`` cut."""
    from overture.lyrics import split_line

    out: list[LyricLine] = []
    for line in lines:
        out.extend(split_line(line, MAX_LINE_SYLLABLES))
    return out


# ----------------------------------------------------------------------------- metre
def metric_weight(pos: float, ts: TimeSignature) -> float:
    """How strong a position (beats from the bar's start) is: 3 the downbeat, 2 the middle of
    a four-beat bar (or a compound pulse), 1 another beat, 0 an off-beat eighth, -0.5 finer."""
    bpb = ts.beats_per_bar
    pos = pos % bpb
    if abs(pos) < 1e-6 or abs(pos - bpb) < 1e-6:
        return 3.0
    if ts.is_compound:
        if abs(pos / 1.5 - round(pos / 1.5)) < 1e-6:
            return 2.0
        return 0.5 if abs(pos * 2 - round(pos * 2)) < 1e-6 else -0.5
    if abs(pos - round(pos)) < 1e-6:
        return 2.0 if round(bpb) == 4 and abs(pos - 2.0) < 1e-6 else 1.0
    return 0.0 if abs(pos * 2 - round(pos * 2)) < 1e-6 else -0.5


def accent(syl: Syllable) -> float:
    """How much a syllable wants a strong beat: 1 stressed, 0.5 secondary stress or a
    Mandarin syllable, -0.6 unstressed (or a Mandarin neutral tone)."""
    if syl.lang == "zh":
        return -0.6 if syl.tone == 5 else 0.5
    return 1.0 if syl.stress == 1 else 0.5 if syl.stress == 2 else -0.6


# ----------------------------------------------------------------------------- rhythm
def line_rhythm(
    syllables: Sequence[Syllable],
    beats: float,
    tempo: float,
    ts: TimeSignature,
    rng: random.Random,
    *,
    start_in_bar: float = 0.0,
) -> list[tuple[float, float]]:
    """(onset, length) in beats from the phrase start for each syllable of a line sung over
    ``beats`` beats, ending a breath before the next phrase."""
    n = len(syllables)
    tight = not phrase_fits(n, max(1, round(beats / ts.beats_per_bar)), tempo, ts, tight=False)
    p = pace(tempo, ts, tight=tight)
    g = p.grid
    end = beats - p.breath  # where the last note stops
    last_max = math.floor((end - p.hold) / g + 1e-9)
    if n == 0:
        return []
    if last_max < n - 1:  # cannot happen for a line the plan sized; squeeze evenly
        step = max(g / 2, (end - g) / max(1, n))
        return [(i * step, step if i < n - 1 else max(step, end - i * step)) for i in range(n)]
    accents = [accent(s) for s in syllables]
    min_step = max(1, round(p.step / g))
    max_step = max(min_step, round(2.0 / g)) if n > 2 else max(min_step, round(3.0 / g))
    ideal = max(p.step, min(2.0, (end - p.hold) / max(1, n - 1))) if n > 1 else p.hold
    noise = {(i, k): rng.uniform(0.0, 0.15) for i in range(n) for k in range(last_max + 1)}

    def place(i: int, k: int) -> float:
        w = metric_weight(start_in_bar + k * g, ts)
        a = accents[i]
        return (a * w if a > 0 else a * max(w, 0.0) * 1.2 + 0.3 * min(w, 0.0)) + noise[(i, k)]

    def length(i: int, k: int, d: int) -> float:
        beats_d = d * g
        a = accents[i]
        out = -0.6 * abs(math.log2(beats_d / ideal))  # an even flow
        out += 0.35 * a * math.log2(beats_d / p.step)  # stressed long, unstressed short
        # An off-beat note held over the next beat is a syncopation: now and then, not always.
        w = metric_weight(start_in_bar + k * g, ts)
        if w <= 0 and beats_d > g + 1e-9:
            out -= 0.5
        return out

    neg = -1e18
    best = np.full((n, last_max + 1), neg)
    back = np.full((n, last_max + 1), -1, dtype=np.int64)
    first_max = min(last_max, round(min(beats / 2, ts.beats_per_bar) / g))
    for k in range(first_max + 1):
        best[0, k] = place(0, k) - 0.25 * k * g  # a late start leaves the phrase empty
    for i in range(1, n):
        for k in range(i * min_step, last_max + 1):
            lo, hi = max(0, k - max_step), k - min_step
            for j in range(lo, hi + 1):
                if best[i - 1, j] <= neg / 2:
                    continue
                v = best[i - 1, j] + length(i - 1, j, k - j) + place(i, k)
                if v > best[i, k]:
                    best[i, k], back[i, k] = v, j
    final = np.full(last_max + 1, neg)
    for k in range(last_max + 1):
        if best[n - 1, k] <= neg / 2:
            continue
        held = end - k * g
        # The last syllable is held; a very long hold means the line crowds its start.
        final[k] = best[n - 1, k] + 0.5 * metric_weight(start_in_bar + k * g, ts)
        final[k] -= 0.4 * max(0.0, held - 3.0)
    k = int(np.argmax(final))
    onsets = [k]
    for i in range(n - 1, 0, -1):
        k = int(back[i, k])
        onsets.append(k)
    onsets.reverse()
    out = []
    for i, k in enumerate(onsets):
        stop = onsets[i + 1] * g if i + 1 < n else end
        out.append((k * g, stop - k * g))
    return out


def _stress_fit(
    syllables: Sequence[Syllable], rhythm: Sequence[tuple[float, float]], ts: TimeSignature
) -> float:
    """How well ``rhythm`` puts the syllables' stresses on strong beats (higher is better)."""
    return sum(
        accent(s) * metric_weight(o, ts) for s, (o, _) in zip(syllables, rhythm, strict=True)
    )


# ----------------------------------------------------------------------------- pitch
@dataclass(slots=True)
class _Tune:
    """A line's melody as first set: its words, rhythm and pitches (for the lines that
    return with it)."""

    text: str
    bars: int
    pitches: list[int]  # each syllable's first pitch
    notes: list[list[Note]]  # each syllable's notes, in beats from the phrase start


class LyricSetter:
    """Writes the vocals of a plan with lyrics; deterministic for the seed."""

    def __init__(self, plan: Plan, seed: int, *, voice: str = "female", salt: int = 0) -> None:
        from overture.learn.melody_model import MelodyModel

        self.plan = plan
        self.seed = seed
        self.salt = salt  # another try: other random choices for the same song
        self.ts = plan.time_signature
        self.bpb = self.ts.beats_per_bar
        self.model = MelodyModel.load()
        low, high = VOICE_RANGES.get(voice, VOICE_RANGES["female"])
        pcs = set(plan.key.scale)
        self.scale = [p for p in range(low, high + 1) if p % 12 in pcs]
        self.tunes: dict[tuple[str, int], _Tune] = {}
        self.history: list[int] = []  # the pitches sung so far
        # A thinking round's re-plan of a section (``SettingDrafter.changed``): the register
        # moved by scale steps, the contour turned upside down.
        self.register_shift = 0.0
        self.invert = False

    def chord_at(self, beat: float) -> tuple[int, ...]:
        bar = min(len(self.plan.chords) - 1, max(0, int(beat // self.bpb + 1e-9)))
        return tuple(self.plan.chords[bar].pitch_classes)

    def root_at(self, beat: float) -> int:
        bar = min(len(self.plan.chords) - 1, max(0, int(beat // self.bpb + 1e-9)))
        return self.plan.chords[bar].root

    def _contour(self, n: int, centre: float, shape: str) -> list[float]:
        if n == 1:
            return [centre]
        out = []
        for j in range(n):
            x = j / (n - 1)
            if shape == "rise":
                y = -1.5 + 3.0 * x - 1.5 * max(0.0, x - 0.8) / 0.2
            elif shape == "fall":
                y = 1.5 - 3.0 * x
            elif shape == "wave":
                y = 1.5 * math.sin(2 * math.pi * x)
            else:  # arch
                y = 2.5 * math.sin(math.pi * x) - 0.8
            out.append(centre + y)
        return out

    def _pitches(
        self,
        syllables: Sequence[Syllable],
        rhythm: Sequence[tuple[float, float]],
        offset: float,
        targets: Sequence[float],
        rng: random.Random,
        *,
        history: list[int],
        cadence: bool,
    ) -> list[int]:
        """A pitch per syllable, following ``targets`` (indices into the scale)."""
        key = self.plan.key
        cands = np.array(self.scale)
        idx = np.arange(len(cands), dtype=float)
        home = {(key.tonic + s) % 12 for s in (0, key.steps[2], 7)}
        out: list[int] = []
        for i, (syl, (onset, length)) in enumerate(zip(syllables, rhythm, strict=True)):
            beat = offset + onset
            tones = self.chord_at(beat)
            line = history[-6:] + out
            w = np.power(
                np.maximum(
                    self.model.pitch_distribution(
                        line[-8:],
                        [1.0] * len(line[-8:]),
                        tonic=key.tonic,
                        mode=key.mode,
                        candidates=self.scale,
                        chord_root=self.root_at(beat),
                        short_term=False,
                    ),
                    1e-9,
                ),
                0.5,
            )
            w = w * np.exp(-((idx - targets[i]) ** 2) / (2 * 1.1**2))
            is_tone = np.array([p % 12 in tones for p in cands])
            w *= np.where(is_tone, 1.0, 0.12 if self._strong(beat, length) else 0.6)
            w *= np.where([p % 12 in home for p in cands], 1.3, 1.0)
            last = i == len(syllables) - 1
            if last:
                w *= np.where(is_tone, 1.0, 0.01)
                if cadence:
                    w *= np.where(cands % 12 == key.tonic, 6.0, 1.0)
            prev = out[-1] if out else (history[-1] if history else None)
            if prev is not None:
                moves = cands - prev
                jump = np.abs(moves)
                w *= np.where(jump > 7, 0.05, np.where(jump > 4, 0.4, 1.0))
                w *= np.where((jump >= 1) & (jump <= 2), 1.6, 1.0)
                # A repeated note now and then; a run of them is a chant.
                run = 1
                seq = history + out
                while run < len(seq) and seq[-run - 1] == prev:
                    run += 1
                w *= np.where(jump == 0, 0.6**run, 1.0)
                w *= self._tone_weights(syl, syllables[i - 1] if i else None, moves)
            if w.sum() <= 0 or not np.isfinite(w.sum()):
                w = np.ones(len(cands))
            # Sharper than sampling (tunes are not random walks); a retry is freer.
            w = np.power(w / w.sum(), max(0.8, 1.8 - 0.4 * self.salt))
            w /= w.sum()
            out.append(int(cands[rng.choices(range(len(cands)), weights=w.tolist())[0]]))
        return out

    @staticmethod
    def _tone_weights(syl: Syllable, before: Syllable | None, moves: np.ndarray) -> np.ndarray:
        """Mandarin tones steer the step into this syllable: tone 1 level or up, tone 2 up,
        tone 3 down (a dip); after a tone 4 the line falls, after a tone 3 it rises."""
        w = np.ones(len(moves))
        if syl.lang == "zh":
            if syl.tone == 1:
                w *= np.where(moves >= 0, 2.0, 0.4)
            elif syl.tone == 2:
                w *= np.where(moves > 0, 4.0, np.where(moves == 0, 0.5, 0.15))
            elif syl.tone == 3:
                w *= np.where(moves < 0, 4.0, np.where(moves == 0, 0.6, 0.15))
        if before is not None and before.lang == "zh":
            if before.tone == 4:
                w *= np.where(moves < 0, 4.0, np.where(moves == 0, 1.5, 0.08))
            elif before.tone == 3:
                w *= np.where(moves > 0, 2.0, 0.6)
        return w

    def set_line(self, phrase: LyricPhrase, *, last_in_section: bool) -> list[Note]:
        """The notes of one phrase, in beats from the song's start."""
        syls = phrase.line.syllables
        offset = phrase.start_bar * self.bpb
        beats = phrase.bars * self.bpb
        rng = random.Random(f"setting:{self.seed}:{self.salt}:{phrase.section}:{phrase.index}")
        key = (phrase.kind, phrase.index)
        tune = self.tunes.get(key)
        history = self.history
        if tune is not None and tune.text == phrase.line.text and tune.bars == phrase.bars:
            # The same words return with the same notes (a clash with a changed chord aside).
            notes = self._fit_chords(tune.notes, offset)
            self.history.extend(g[0].pitch for g in notes)
            return [n for g in notes for n in g]
        rhythm = line_rhythm(syls, beats, self.plan.tempo, self.ts, rng)
        if tune is not None and tune.bars == phrase.bars and len(tune.notes) == len(syls):
            # As many syllables: the tune's rhythm, unless it stresses these words worse.
            old = [(g[0].start, sum(n.duration for n in g)) for g in tune.notes]
            if _stress_fit(syls, old, self.ts) >= _stress_fit(syls, rhythm, self.ts) - 1.0:
                rhythm = old
                if all(s.lang == "en" for s in syls):  # and its notes, under the new words
                    groups = [
                        [replace(n, lyric=syl.text if k == 0 else "") for k, n in enumerate(g)]
                        for syl, g in zip(syls, tune.notes, strict=True)
                    ]
                    notes = self._fit_chords(groups, offset)
                    self.history.extend(g[0].pitch for g in notes)
                    return [n for g in notes for n in g]
        if tune is not None:  # the same tune for other words: its contour, resampled
            src = [float(self._index(p)) for p in tune.pitches]
            m = len(src)
            targets = [src[round(j * (m - 1) / max(1, len(syls) - 1))] for j in range(len(syls))]
        else:
            centre = _REGISTER.get(phrase.kind, 0.45) * (len(self.scale) - 1)
            centre = min(len(self.scale) - 3.0, max(2.0, centre + self.register_shift))
            shape = _SHAPES[(phrase.index + rng.randrange(len(_SHAPES))) % len(_SHAPES)]
            if last_in_section:
                shape = "fall"
            targets = self._contour(len(syls), centre, shape)
            if self.invert and not last_in_section:
                targets = [2 * centre - t for t in targets]
        pitches = self._pitches(
            syls, rhythm, offset, targets, rng, history=history, cadence=last_in_section
        )
        groups: list[list[Note]] = []
        for i, (syl, (onset, length), pitch) in enumerate(zip(syls, rhythm, pitches, strict=True)):
            final = i == len(syls) - 1
            velocity = 88 + (8 if accent(syl) >= 1 else 0) - (6 if final else 0)
            groups.append(self._melisma(syl, onset, length, pitch, velocity, rng, final=final))
        if tune is None:
            self.tunes[key] = _Tune(phrase.line.text, phrase.bars, pitches, groups)
        self.history.extend(pitches)
        return [replace(n, start=n.start + offset) for g in groups for n in g]

    def _fit_chords(self, groups: list[list[Note]], offset: float) -> list[list[Note]]:
        """A returning tune's notes moved to ``offset``, a strong-beat note that is no chord
        tone under this section's chords moved to the nearest one."""
        out = []
        for g in groups:
            moved = []
            for n in g:
                beat = offset + n.start
                tones = self.chord_at(beat)
                p = n.pitch
                if self._strong(beat, n.duration) and p % 12 not in tones:
                    near = [q for q in self.scale if q % 12 in tones]
                    if near:
                        p = min(near, key=lambda q: (abs(q - p), q))
                moved.append(replace(n, pitch=p, start=beat))
            out.append(moved)
        return out

    def _strong(self, beat: float, length: float) -> bool:
        """A note that is heard as harmony: on a strong beat, or long."""
        return metric_weight(beat, self.ts) >= 2 or length >= 1.5 - 1e-9

    def _index(self, pitch: int) -> int:
        return min(range(len(self.scale)), key=lambda i: (abs(self.scale[i] - pitch), i))

    def _melisma(
        self,
        syl: Syllable,
        start: float,
        length: float,
        pitch: int,
        velocity: int,
        rng: random.Random,
        *,
        final: bool,
    ) -> list[Note]:
        """The note(s) of one syllable: a line's held last syllable turns onto its pitch from
        a neighbouring scale tone (from above, or from below for a rising tone 2), and a long
        note inside the line may pass on to a neighbour; otherwise one note."""
        text = syl.text
        i = self._index(pitch)
        level = syl.lang == "zh" and syl.tone in (1, 3)
        if (
            final
            and length >= 2.0 - 1e-9
            and not level
            and (syl.lang == "zh" or rng.random() < 0.5)
        ):
            up = syl.lang == "zh" and syl.tone == 2
            j = i - 1 if up else i + 1
            if 0 <= j < len(self.scale):
                first = 1.0 if length < 3.0 else 1.5
                return [
                    Note(self.scale[j], start, first, velocity, text),
                    Note(pitch, start + first, length - first, velocity - 4),
                ]
        if not final and length >= 2.0 - 1e-9 and not level and syl.lang == "en":
            j = i + rng.choice((-1, 1))
            if 0 <= j < len(self.scale):
                half = length / 2
                return [
                    Note(pitch, start, half, velocity, text),
                    Note(self.scale[j], start + half, length - half, velocity - 6),
                ]
        return [Note(pitch, start, length, velocity, text)]

    def write(self) -> list[Note]:
        """Every phrase of the plan, in order."""
        self.history = []
        phrases = self.plan.phrases
        notes: list[Note] = []
        for i, ph in enumerate(phrases):
            last = i + 1 == len(phrases) or phrases[i + 1].section != ph.section
            notes.extend(self.set_line(ph, last_in_section=last))
        return notes


TRIES = 4  # settings tried when one copies a corpus tune


class SettingDrafter:
    """The thinking loop's drafter for a sung line (``overture.think.loop.Drafter``): a draft
    of a section sets its lyric lines again with other random choices (rhythm within the
    stress rules, contour, pitches), from the setter's state after the sections kept before
    it; :meth:`keep` makes the kept draft's state the setter's."""

    def __init__(self, setter: LyricSetter) -> None:
        self.setter = setter
        self.plan = setter.plan
        self.seed = setter.seed
        self.model = setter.model
        self.drafts: dict[str, list[Draft]] = {}
        self._start = (dict(setter.tunes), list(setter.history))
        self._after: dict[int, tuple[dict[tuple[str, int], _Tune], list[int]]] = {}
        self._offset = 0.0  # beats: the start of the section being drafted

    def phrases(self, s: PlanSection) -> list[LyricPhrase]:
        return self.plan.phrases_of(s.id)

    def returns(self, s: PlanSection) -> bool:
        """Whether every line of ``s`` returns with the same words and bars as before (a
        chorus sung again): its notes are settled, there is nothing to draft."""
        tunes = self._start[0]
        for ph in self.phrases(s):
            tune = tunes.get((ph.kind, ph.index))
            if tune is None or tune.text != ph.line.text or tune.bars != ph.bars:
                return False
        return True

    def draft_rng(self, s: PlanSection, attempt: int, salt: int = 0) -> random.Random:
        return random.Random(f"setting-draft:{self.seed}:{s.id}:{salt}:{attempt}")

    def draft_section(self, s: PlanSection, rng: random.Random) -> list[Note]:
        """One setting of ``s``'s lines, relative to the section's start."""
        tunes, history = self._start
        self.setter.tunes, self.setter.history = dict(tunes), list(history)
        self.setter.salt = rng.randrange(1 << 30)
        phrases = self.phrases(s)
        notes: list[Note] = []
        for i, ph in enumerate(phrases):
            notes.extend(self.setter.set_line(ph, last_in_section=i + 1 == len(phrases)))
        offset = self._offset = s.start_bar * self.plan.time_signature.beats_per_bar
        line = [replace(n, start=n.start - offset) for n in notes]
        self._after[id(line)] = (self.setter.tunes, self.setter.history)
        return line

    def keep(self, s: PlanSection, line: list[Note]) -> list[Note]:
        """Settle ``line`` (a draft of ``s``): the setter goes on from its state. The notes
        in beats from the song's start."""
        self.setter.tunes, self.setter.history = self._after[id(line)]
        self._start = (dict(self.setter.tunes), list(self.setter.history))
        self._after.clear()
        offset = s.start_bar * self.plan.time_signature.beats_per_bar
        return [replace(n, start=n.start + offset) for n in line]

    def judge(self, notes: list[Note]) -> Draft:
        from overture.compose.melody import judge_line

        roots = [self.setter.root_at(n.start + self._offset) for n in notes]
        return judge_line(self.model, self.plan.key, notes, roots, sung=True)

    def contrast_fault(self, s: PlanSection, notes: Sequence[Note]) -> str | None:
        return None  # each section kind has its register in the voice (the chorus higher)

    @contextlib.contextmanager
    def changed(self, change: SectionChange, tag: str) -> Iterator[None]:
        """Drafting under a retracted round's re-plan: the register moved, the contour turned
        upside down (a sung line's rhythm is the words', so density is left as it is)."""
        saved = self.setter.register_shift, self.setter.invert
        try:
            self.setter.register_shift += float(change.register)
            self.setter.invert = self.setter.invert != change.invert
            yield
        finally:
            self.setter.register_shift, self.setter.invert = saved


def vocal_part(plan: Plan, seed: int, *, thinker: Thinker | None = None) -> list[Note]:
    """The vocals of ``plan`` (which has lyrics): every syllable on its note(s).

    With a ``thinker`` each section's lines go through the reasoning loop (drafts of the
    setting judged by the section critics, retractions, a trace); a section whose lines all
    return with their words (a repeated chorus) is sung as before. A setting that shares a
    run of ``ORIGINALITY_LIMIT`` notes with a corpus tune (as the lead's drafts may not) is
    written again with other choices; of the tries, the one with the shortest shared run is
    kept (the first, when none is a copy).
    """
    from overture.compose.melody import ORIGINALITY_LIMIT
    from overture.learn.originality import longest_match

    voice = plan.spec.voice if plan.spec.lyrics is not None else "female"
    best: tuple[int, list[Note]] | None = None
    for salt in range(TRIES):
        if thinker is not None:
            notes = _thought(plan, seed, voice, thinker, salt)
        else:
            notes = LyricSetter(plan, seed, voice=voice, salt=salt).write()
        match = longest_match([n.pitch for n in notes], [n.duration for n in notes]).notes
        if best is None or match < best[0]:
            best = (match, notes)
        if match < ORIGINALITY_LIMIT:
            break
    assert best is not None
    return best[1]


def _thought(plan: Plan, seed: int, voice: str, thinker: Thinker, salt: int) -> list[Note]:
    """The vocals drafted section by section through ``thinker``'s loop."""
    setter = LyricSetter(plan, seed, voice=voice, salt=salt)
    drafter = SettingDrafter(setter)
    notes: list[Note] = []
    for s in plan.sections:
        phrases = drafter.phrases(s)
        if not phrases:
            continue
        if drafter.returns(s):
            line = drafter.draft_section(s, drafter.draft_rng(s, 1))
        else:
            line = thinker.section(drafter, s, salt=salt)
        notes.extend(drafter.keep(s, line))
    return notes


# ----------------------------------------------------------------------------- alignment
@dataclass(frozen=True, slots=True)
class SetSyllable:
    """A syllable as set in the score: its notes (beats from the song's start)."""

    syllable: Syllable
    notes: tuple[Note, ...]

    @property
    def start(self) -> float:
        return self.notes[0].start

    @property
    def end(self) -> float:
        return self.notes[-1].end


@dataclass(frozen=True, slots=True)
class SetLine:
    """A sung phrase: its line and its syllables as set."""

    phrase: LyricPhrase
    syllables: tuple[SetSyllable, ...]


def syllable_groups(notes: Sequence[Note]) -> list[list[Note]]:
    """A sung part's notes by syllable: a note with a lyric starts one, the notes after it
    without one carry it on (a melisma)."""
    groups: list[list[Note]] = []
    for n in sorted(notes, key=lambda n: n.start):
        if n.lyric or not groups:
            groups.append([n])
        else:
            groups[-1].append(n)
    return groups


def set_lines(score: Score, plan: Plan, part: str = "vocals") -> list[SetLine]:
    """The score's sung part read back against the plan's lyric phrases: each note that
    carries a lyric starts the next syllable, the notes after it without one continue it.

    Raises ``ValueError`` when the part's syllables do not match the plan's lyrics.
    """
    groups = syllable_groups(score.part(part).notes)
    out: list[SetLine] = []
    k = 0
    for ph in plan.phrases:
        syls = []
        for syl in ph.line.syllables:
            if k >= len(groups) or groups[k][0].lyric != syl.text:
                got = groups[k][0].lyric if k < len(groups) else "nothing"
                raise ValueError(
                    f"the {part} part sings {got!r} where the lyrics have {syl.text!r}"
                )
            syls.append(SetSyllable(syl, tuple(groups[k])))
            k += 1
        out.append(SetLine(ph, tuple(syls)))
    if k != len(groups):
        raise ValueError(f"the {part} part has {len(groups) - k} syllables more than the lyrics")
    return out


def sung_syllables(lines: Sequence[SetLine], tempo: float) -> list[SungSyllable]:
    """The singer's input: each syllable's phonemes on its notes, in seconds."""
    from overture.voice import Phones, SungNote, SungSyllable

    spb = 60.0 / tempo
    out = []
    for line in lines:
        for j, s in enumerate(line.syllables):
            y = s.syllable
            phones = Phones(y.lang, y.onset, y.nucleus, y.coda, y.tone, y.pinyin, y.text)
            notes = tuple(SungNote(float(n.pitch), n.start * spb, n.end * spb) for n in s.notes)
            out.append(SungSyllable(phones, notes, phrase_end=j == len(line.syllables) - 1))
    return out
