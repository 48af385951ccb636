"""The lead melody: motifs that recur and develop, phrases that cadence, pitches the corpus knows.

A song has one core motif (a bar of rhythm and a melodic contour). Each section type develops it
in its own way, as songwriters do: the chorus states it high and dense; the verse takes a sparer
rhythm lower down; the pre-chorus climbs by sequence; the bridge turns the contour upside down
in longer notes. Phrases are four bars (basic idea, repetition or sequence, continuation,
cadence) and eight-bar sections are periods: the first phrase ends on a half cadence, the second
on the tonic.

Pitches are chosen note by note from the melody model learned from folk melodies (what tends to
come next, given the melody so far and the chord), shaped by the motif's contour, the section's
register, chord tones on strong beats and the resolution of leaps. Each section is drafted a few
times; the draft whose information content sits nearest the human range, and that shares no run
of eight notes with a corpus tune, is kept. A section's melody is written once, so a chorus
returns as itself; the last chorus is varied.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from overture.instruments import INSTRUMENTS
from overture.plan import Plan, PlanSection
from overture.score import Note
from overture.theory import Chord

ORIGINALITY_LIMIT = 8  # never answer with a run of this many notes shared with a corpus tune
DRAFTS = 3
_MAX_RETRIES = 6

# Rhythm cells for one pulse: ((onset, length) pairs, prior weight). The weights follow how
# often folk and pop tunes use each figure: quarters and eighths most, dotted figures and
# sixteenths for colour.
_CELLS_1 = (
    (((0.0, 1.0),), 1.0),
    (((0.0, 0.5), (0.5, 0.5)), 1.0),
    (((0.0, 0.75), (0.75, 0.25)), 0.25),
    (((0.0, 0.5), (0.5, 0.25), (0.75, 0.25)), 0.45),
    (((0.0, 0.25), (0.25, 0.25), (0.5, 0.5)), 0.35),
    (((0.5, 0.5),), 0.25),
)
_CELLS_15 = (
    (((0.0, 1.5),), 0.8),
    (((0.0, 1.0), (1.0, 0.5)), 1.0),
    (((0.0, 0.5), (0.5, 0.5), (1.0, 0.5)), 1.0),
    (((0.0, 0.75), (0.75, 0.25), (1.0, 0.5)), 0.35),
    (((0.0, 0.5), (0.5, 1.0)), 0.4),
)


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


@lru_cache(maxsize=1)
def human_ic() -> float:
    """Mean information content (bits per note, pitch plus duration, long-term model at its top
    order) of the held-out folk melodies, from the trained model's manifest. A draft is judged
    by its distance from it: far below is dull, far above is random."""
    from overture.learn import MODELS_DIR

    manifest = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
    melody = manifest["heldout"]["melody"]
    top = melody["ltm_by_order"][str(manifest["models"]["melody"]["max_order"])]
    return float(top["pitch"] + top["duration"])


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


class MelodyWriter:
    """Writes the lead of a plan; deterministic for the seed."""

    def __init__(self, plan: Plan, seed: int) -> None:
        from overture.learn.melody_model import MelodyModel

        self.plan = plan
        self.seed = seed
        self.model = MelodyModel.load()
        inst = INSTRUMENTS[plan.parts["lead"]]
        rng = random.Random(f"motif:{seed}")
        low = max(inst.low, 60)  # above the chord voicings, so the tune stands out
        # Tunes differ in compass (an octave for a nursery tune, more for an anthem).
        high = min(inst.high, low + rng.randint(14, 22))
        pcs = set(plan.key.pentatonic if plan.style.pentatonic else plan.key.scale)
        self.scale = [p for p in range(low, high + 1) if p % 12 in pcs]
        self.pulses = _pulses(plan)
        self.bpb = plan.time_signature.beats_per_bar
        self.drafts: dict[str, list[Draft]] = {}
        self.offset = 0.0  # start (beats) of the section being drafted
        # Songs differ in how busy their tunes are, as tunes do (an air, a reel): the density
        # is the seed's, leaning sparser at fast tempos and busier at slow ones.
        lean = 0.15 if plan.tempo < 90 else -0.2 if plan.tempo > 140 else 0.0
        self.density = min(1.0, max(0.05, rng.uniform(0.1, 1.0) + lean))
        # ... and in their rhythmic palette: even, dotted or running figures.
        self.palette = rng.choice(["even", "even", "dotted", "running"])
        self.core = self._make_motif(rng, density=self.density)

    # ------------------------------------------------------------------------- rhythm
    def _cells(self, length: float) -> tuple[tuple[tuple[tuple[float, float], ...], float], ...]:
        if abs(length - 1.5) < 1e-9:
            return _CELLS_15
        return _CELLS_1 if length >= 1.0 else ((((0.0, length),), 1.0),)

    def _make_rhythm(self, rng: random.Random, density: float) -> list[tuple[float, float]]:
        """A bar of rhythm: busier cells with higher density; fast tempos avoid sixteenths."""
        fast = self.plan.tempo >= 140
        out: list[tuple[float, float]] = []
        for i, (start, length) in enumerate(self.pulses):
            cells = self._cells(length)
            if fast:
                cells = tuple(c for c in cells if all(d >= 0.5 for _, d in c[0])) or cells
            # About one note a pulse when sparse, two when dense: a tune, not a run of notes.
            want = 0.6 + 1.6 * density
            weights = [
                prior * _palette_bias(self.palette, c) * math.exp(-((len(c) - want) ** 2) / 0.3)
                for c, prior in cells
            ]
            cell = rng.choices([c for c, _ in cells], weights=weights)[0]
            if i > 0 and out and rng.random() < 0.15 * (1 - density):
                # Hold the previous note through this pulse: longer notes in sparse sections.
                o, d = out[-1]
                out[-1] = (o, d + length)
                continue
            out += [(start + o, d) for o, d in cell]
        if not out or out[0][0] > 0.5:
            out.insert(0, (0.0, out[0][0] if out else self.bpb))
        return out

    def _make_motif(self, rng: random.Random, density: float) -> Motif:
        rhythm = self._make_rhythm(rng, density)
        shape = rng.choice(["arch", "rise", "fall", "valley"])
        contour = []
        for i in range(len(rhythm)):
            if i == 0:
                contour.append(0)
                continue
            frac = i / max(1, len(rhythm) - 1)
            up = {
                "arch": frac <= 0.5,
                "rise": True,
                "fall": False,
                "valley": frac > 0.5,
            }[shape]
            step = rng.choice([1, 1, 1, 1, 2, 0])  # mostly steps, in one direction at a time
            contour.append(step if up else -step)
        return Motif(rhythm, contour)

    def _vary_motif(self, m: Motif, rng: random.Random, how: str) -> Motif:
        if how == "invert":
            return Motif(list(m.rhythm), [-c for c in m.contour])
        if how == "augment":
            rhythm = [(o * 2, d * 2) for o, d in m.rhythm if o * 2 < self.bpb - 1e-9]
            rhythm = [(o, min(d, self.bpb - o)) for o, d in rhythm]
            return Motif(rhythm, m.contour[: len(rhythm)])
        if how == "fragment":
            half = self.bpb / 2
            rhythm = [(o, d) for o, d in m.rhythm if o < half - 1e-9]
            if rhythm:
                o, _ = rhythm[-1]
                rhythm[-1] = (o, min(1.5, self.bpb - o))  # held a little, then a breath
            return Motif(rhythm or [(0.0, self.bpb)], m.contour[: max(1, len(rhythm))])
        if how == "sparse":
            return Motif(
                self._make_rhythm(rng, 0.5 * self.density),
                [rng.choice([-1, 1, 0, 2, -2]) for _ in range(8)],
            )
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
        w *= np.exp(-((idx - target) ** 2) / (2 * 1.3**2))  # follow the motif's contour
        w *= np.exp(-((idx - centre) ** 2) / (2 * 2.5**2))  # stay in the section's register
        is_tone = np.array([p % 12 in tones for p in cands])
        if goal:
            w *= np.where([p % 12 in goal for p in cands], 1.0, 0.02)
        elif strong or length >= 1.0:
            w *= np.where(is_tone, 1.0, 0.08)
        else:
            w *= np.where(is_tone, 1.0, 0.5)
        if len(history) >= 2:
            prev, before = history[-1].pitch, history[-2].pitch
            leap = prev - before
            if abs(leap) > 4:  # a leap resolves by step the other way
                moves = np.array(cands) - prev
                ok = (np.sign(moves) == -np.sign(leap)) & (np.abs(moves) <= 3)
                w *= np.where(ok, 1.0, 0.25)
        if history:
            moves = np.array(cands) - history[-1].pitch
            jump = np.abs(moves)
            w *= np.where(jump > 9, 0.05, 1.0)
            # Tunes move mostly by step, and in runs rather than zig-zags.
            w *= np.where((jump >= 1) & (jump <= 2), 2.0, 1.0)
            if len(history) >= 2 and history[-1].pitch != history[-2].pitch:
                last = np.sign(history[-1].pitch - history[-2].pitch)
                w *= np.where((np.sign(moves) == last) & (jump <= 4), 2.0, 1.0)
            # Repeated notes are common in tunes, but a run of them is a drone, not a melody.
            run = 0
            for n in reversed(history):
                if n.pitch != history[-1].pitch:
                    break
                run += 1
            same = np.array(cands) == history[-1].pitch
            w *= np.where(same, 0.35**run, 1.0)
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
        """One bar of fresh pitches on ``motif``'s rhythm, following its contour."""
        out: list[Note] = []
        cur = self._index_of(history[-1].pitch) if history else round(centre)
        anchor = (cur + centre) / 2  # each bar leans back toward the section's register
        shape, level = [], 0
        for i in range(len(motif.rhythm)):
            level += motif.contour[i] if 0 < i < len(motif.contour) else 0
            shape.append(max(-4, min(4, level)))
        middle = sum(shape) / len(shape)  # the contour moves around the anchor, not away
        for i, (onset, length) in enumerate(motif.rhythm):
            target = anchor + shape[i] - middle
            pos = onset
            k = self._choose(
                rng,
                history + out,
                bar_start + onset,
                length,
                target,
                centre,
                strong=self._strong(pos),
            )
            accent = 8 if onset == 0 else (3 if self._strong(pos) else 0)
            out.append(Note(self.scale[k], bar_start + onset, length, min(127, velocity + accent)))
        return out

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

    def _cadence(
        self,
        rng: random.Random,
        history: list[Note],
        bar_start: float,
        centre: float,
        velocity: int,
        *,
        closing: bool,
    ) -> list[Note]:
        """A cadence bar: approach notes, then a long note on the goal, then a breath.

        A closing phrase over the tonic chord lands on the tonic; otherwise the goal is a tone of
        the bar's chord other than the tonic (an open, half-cadence ending)."""
        key = self.plan.key
        chord = self._chord_at(bar_start)
        tones = set(chord.pitch_classes)
        home = closing and chord.root == key.tonic
        goal = {key.tonic} if home else (tones - {key.tonic}) or tones
        first = self.pulses[0][1]
        if self.bpb <= 2.0:
            rhythm = [(0.0, self.bpb * 0.75)]
        elif len(self.pulses) >= 4:
            rhythm = [(0.0, 0.5), (0.5, 0.5), (first, 1.0), (first + 1.0, self.bpb - first - 2.0)]
        else:
            rhythm = [(0.0, first), (first, self.bpb - first - 0.5)]
        out: list[Note] = []
        cur = self._index_of(history[-1].pitch) if history else round(centre)
        for i, (onset, length) in enumerate(rhythm):
            last = i == len(rhythm) - 1
            target = cur + (rng.choice([-1, 1]) if not last else 0)
            k = self._choose(
                rng,
                history + out,
                bar_start + onset,
                length,
                target,
                centre,
                strong=True,
                goal=goal if last else None,
            )
            cur = k
            out.append(
                Note(self.scale[k], bar_start + onset, length, velocity + (6 if last else 0))
            )
        return out

    # ------------------------------------------------------------------------- sections
    def _section_motif(self, kind: str, rng: random.Random) -> Motif:
        core = self.core
        if kind in {"chorus", "variation", "jingle", "solo"}:
            return core
        if kind in {"verse", "theme"}:
            return self._vary_motif(core, rng, "fragment" if rng.random() < 0.5 else "sparse")
        if kind == "bridge":
            return self._vary_motif(core, rng, "augment" if self.bpb >= 3 else "same")
        if kind == "pre-chorus":
            return self._vary_motif(core, rng, "fragment")
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

    def draft_section(self, s: PlanSection, rng: random.Random) -> list[Note]:
        """Notes of one section's melody, relative to the section's start."""
        self.offset = s.start_bar * self.bpb
        motif = self._section_motif(s.kind, rng)
        if s.kind == "bridge":
            motif = Motif(motif.rhythm, [-c for c in motif.contour])
        centre = self._register(s.kind)
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
                out += self._cadence(rng, out, start, centre, vel, closing=closing)
                continue
            if in_phrase == 0 and (b // 4) % 2 == 1 and phrase_start:
                # The second phrase of a period begins as the first did.
                out += self._shifted(phrase_start, start, 0.0)
                continue
            if in_phrase == 1 and out:
                # Repetition or sequence of the basic idea, fitted to this bar's chord.
                prev_bar = [n for n in out if start - self.bpb - 1e-9 <= n.start < start - 1e-9]
                if prev_bar and rng.random() < 0.75:
                    out += self._shifted(prev_bar, start, start - self.bpb)
                    continue
            m = motif
            if in_phrase == 2:
                # The continuation: the idea turned upside down, or given a new rhythm.
                m = self._vary_motif(motif, rng, "invert" if rng.random() < 0.5 else "new-rhythm")
                if s.kind == "pre-chorus":
                    m = Motif(m.rhythm, [abs(c) for c in m.contour])  # it climbs
            bar_notes = self._bar(rng, m, out, start, centre + (1 if in_phrase == 2 else 0), vel)
            if in_phrase == 0 and b < 4:
                phrase_start = bar_notes
            out += bar_notes
        return _legato(out, s.bars * self.bpb)

    def judge(self, notes: list[Note]) -> Draft:
        """Information content (learned model) and originality (corpus) of a draft."""
        from overture.learn.originality import longest_match

        if len(notes) < 2:
            return Draft(notes, human_ic(), 0, 0.0)
        pitches = [n.pitch for n in notes]
        durs = [n.duration for n in notes]
        roots = [self._chord_at(n.start).root for n in notes]
        ic = float(
            np.mean(
                self.model.information_content(
                    pitches,
                    durs,
                    tonic=self.plan.key.tonic,
                    mode=self.plan.key.mode,
                    chord_roots=roots,
                )
            )
        )
        match = longest_match(pitches, durs).notes
        score = abs(ic - human_ic())
        reasons = [f"information content {ic:.2f} bits/note"]
        if match >= ORIGINALITY_LIMIT:
            score += 100.0
            reasons.append(f"shares {match} notes with a corpus tune")
        return Draft(notes, ic, match, score, reasons)

    def section(self, s: PlanSection, *, salt: int = 0) -> list[Note]:
        """The best of a few drafts of ``s``'s melody (relative to its start); ``salt`` asks
        for a fresh set of drafts."""
        drafts: list[Draft] = []
        for attempt in range(DRAFTS + _MAX_RETRIES):
            tag = f"{attempt}" if not salt else f"{salt}:{attempt}"
            rng = random.Random(f"melody:{self.seed}:{s.kind}:{s.bars}:{tag}")
            d = self.judge(self.draft_section(s, rng))
            drafts.append(d)
            if attempt + 1 >= DRAFTS and min(x.score for x in drafts) < 100:
                break
        self.drafts[s.id] = drafts
        return min(drafts, key=lambda d: d.score).notes


def _nearest(scale: Sequence[int], pitch: int) -> int:
    """Index of the pitch in ``scale`` nearest to ``pitch``."""
    return min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))


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


def lead_part(plan: Plan, seed: int) -> list[Note]:
    """The lead of ``plan``: a given melody as written, or one composed for it."""
    if plan.spec.melody is not None:
        return _given(plan)
    writer = MelodyWriter(plan, seed)
    return compose_lead(plan, writer)


def compose_lead(plan: Plan, writer: MelodyWriter) -> list[Note]:
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

    def key_of(s: PlanSection) -> tuple[object, ...]:
        # A section returns as itself wherever its chords do (a chorus is a chorus).
        return (s.kind, s.bars, plan.chords[s.start_bar : s.end_bar])

    def assemble() -> list[Note]:
        chorus_count = sum(1 for s in plan.sections if s.kind in {"chorus", "variation"})
        seen_chorus = 0
        notes: list[Note] = []
        for s in plan.sections:
            if s.kind in {"chorus", "variation"}:
                seen_chorus += 1
            if "lead" not in s.parts:
                continue
            key = key_of(s)
            if key not in cache:
                cache[key] = writer.section(s, salt=salt.get(key, 0))
            part = cache[key]
            last = seen_chorus == chorus_count and seen_chorus > 1
            if s.kind in {"chorus", "variation"} and last:
                part = _vary(part, random.Random(f"vary:{writer.seed}:{s.id}"), writer.scale)
            offset = s.start_bar * bpb
            notes += [Note(n.pitch, n.start + offset, n.duration, n.velocity) for n in part]
        return _finish(plan, notes, writer.scale)

    for _ in range(6):
        lead = assemble()
        match = longest_match([n.pitch for n in lead], [n.duration for n in lead])
        if match.notes < ORIGINALITY_LIMIT:
            return lead
        middle = lead[match.query_offset + match.notes // 2]
        s = plan.section_at(int(middle.start // bpb + 1e-9))
        salt[key_of(s)] = salt.get(key_of(s), 0) + 1
        cache.pop(key_of(s), None)
    while match.notes >= ORIGINALITY_LIMIT:
        i = match.query_offset + match.notes // 2
        n = lead[i]
        k = _nearest(writer.scale, n.pitch)
        k = k + 1 if k + 1 < len(writer.scale) else k - 1
        lead[i] = Note(writer.scale[k], n.start, n.duration, n.velocity)
        match = longest_match([n.pitch for n in lead], [n.duration for n in lead])
    return lead


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


def _finish(plan: Plan, notes: list[Note], scale: Sequence[int]) -> list[Note]:
    """End the song on the tonic, held until the final chord stops ringing."""
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
    out = [Note(tonic + s, i * gap, gap, 85 + 5 * i) for i, s in enumerate(steps[:-1])]
    t = gap * (len(steps) - 1)
    out.append(Note(tonic + 12, t, max(gap, plan.end_beat - t), 100))
    return out
