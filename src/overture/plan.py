"""``Plan``: the song's form, harmony and arrangement, decided before any note is written.

The planner scales the form to the requested duration: whole bars of music, then a final chord
that rings until a short release tail, so that the audio ends exactly on time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from overture.spec import SongSpec
from overture.styles import STYLES, Style
from overture.theory import Chord, Key, TimeSignature, chord_from_roman

PHRASE_BARS = 4
# Section energy (0..1): drives which parts play, density and dynamics.
ENERGY = {
    "intro": 0.3,
    "verse": 0.55,
    "chorus": 0.85,
    "bridge": 0.6,
    "interlude": 0.5,
    "outro": 0.35,
    "theme": 0.5,
    "variation": 0.65,
    "jingle": 0.8,
}
# Genres without a verse/chorus song form use themes and variations instead.
_THROUGH_COMPOSED = {"ambient", "classical", "cinematic", "orchestral"}


@dataclass(frozen=True, slots=True)
class PlanSection:
    id: str  # kind + 1-based count: "verse1", "chorus2"
    kind: str
    start_bar: int  # 0-based inclusive
    end_bar: int  # 0-based exclusive
    energy: float
    parts: tuple[str, ...]  # part names that play in this section

    @property
    def bars(self) -> int:
        return self.end_bar - self.start_bar


@dataclass(frozen=True, slots=True)
class Plan:
    spec: SongSpec
    style: Style
    key: Key
    tempo: float
    time_signature: TimeSignature
    bars: int  # whole bars of music; the final chord rings on to end_beat
    end_beat: float  # the last note ends here
    duration: float  # seconds of audio
    sections: tuple[PlanSection, ...]
    chords: tuple[Chord, ...]  # one per bar
    parts: dict[str, str]  # part name -> canonical instrument

    @property
    def bar_seconds(self) -> float:
        return self.time_signature.beats_per_bar * 60.0 / self.tempo

    def bar_time(self, bar: int) -> float:
        return bar * self.bar_seconds

    def section_at(self, bar: int) -> PlanSection:
        for s in self.sections:
            if s.start_bar <= bar < s.end_bar:
                return s
        return self.sections[-1]

    def to_dict(self) -> dict[str, Any]:
        end_s = self.end_beat * 60.0 / self.tempo
        return {
            "key": self.key.name,
            "tempo": self.tempo,
            "time_signature": str(self.time_signature),
            "bars": self.bars,
            "end_beat": self.end_beat,
            "duration": self.duration,
            "form": [
                {
                    "id": s.id,
                    "type": s.kind,
                    "bars": [s.start_bar + 1, s.end_bar],  # 1-based, inclusive
                    "start": round(self.bar_time(s.start_bar), 3),
                    "end": round(end_s if s is self.sections[-1] else self.bar_time(s.end_bar), 3),
                    "energy": s.energy,
                    "instruments": {p: self.parts[p] for p in s.parts},
                }
                for s in self.sections
            ],
            "chords": [c.symbol(self.key) for c in self.chords],
            "instrumentation": dict(self.parts),
        }


def release_tail(duration: float) -> float:
    """Seconds kept free at the end for the last notes' release (and reverb) to die away."""
    return min(2.0, max(0.25, 0.08 * duration))


def make_plan(spec: SongSpec) -> Plan:
    """Decide form, chords and arrangement for ``spec``; deterministic for ``spec.seed``."""
    st = STYLES[spec.genre]
    rng = random.Random(f"plan:{spec.seed}")
    ts = spec.time_signature
    bar_s = ts.beats_per_bar * 60.0 / spec.tempo
    music_s = spec.duration - release_tail(spec.duration)
    bars = max(1, int(music_s // bar_s))
    # The final chord rings from the last bar's downbeat to the start of the release tail; a
    # song shorter than one bar is a single gesture within that bar.
    end_beat = music_s * spec.tempo / 60.0
    kinds = _form(bars, spec.genre)
    parts = _arrangement(st, spec.instruments)
    sections = _sections(kinds, parts)
    chords = _harmony(sections, spec.key, st, rng)
    return Plan(
        spec=spec,
        style=st,
        key=spec.key,
        tempo=spec.tempo,
        time_signature=ts,
        bars=bars,
        end_beat=end_beat,
        duration=spec.duration,
        sections=sections,
        chords=chords,
        parts=parts,
    )


def _form(bars: int, genre: str) -> list[tuple[str, int]]:
    """Section kinds with their lengths in bars, summing to ``bars``."""
    if bars <= 3:
        return [("jingle", bars)]
    units, rem = divmod(bars, PHRASE_BARS)
    through = genre in _THROUGH_COMPOSED
    a, b = ("theme", "variation") if through else ("verse", "chorus")
    if units == 1:
        form = [(a, 1)]
    elif units == 2:
        form = [(a, 1), (b, 1)]
    elif units == 3:
        form = [("intro", 1), (a, 1), (b, 1)]
    elif units <= 5:
        form = [("intro", 1), (a, 1), (b, 1), (a, 1), (b, 1)][:units]
        if units == 4:
            form = [("intro", 1), (a, 1), (b, 1), ("outro", 1)]
    else:
        # intro, then verse/chorus pairs of 8 bars; a bridge before the last chorus once there
        # are three pairs; an outro to close. Long pieces repeat the cycle.
        # intro, then verse/chorus pairs (4-bar sections in short songs, 8-bar ones from 40
        # bars on); a bridge replaces the last verse once there are three pairs; an outro.
        size = 1 if units < 10 else 2
        pairs = max(1, (units - 2) // (2 * size))
        form = [("intro", 1)]
        for i in range(pairs):
            form.append(("bridge" if i == pairs - 1 and pairs >= 3 else a, size))
            form.append((b, size))
        left = units - 2 - 2 * size * pairs
        # Leftover phrases: an interlude mid-song, a longer last chorus, a longer intro.
        if left >= 1 and pairs >= 2:
            form.insert(len(form) - 2, ("interlude", 1))
            left -= 1
        if left >= 1:
            form[-1] = (form[-1][0], form[-1][1] + 1)
            left -= 1
        if left >= 1:
            form[0] = ("intro", form[0][1] + left)
        form.append(("outro", 1))
    out = [(k, n * PHRASE_BARS) for k, n in form]
    # Bars left over after whole phrases extend the last section (a tag before the final chord).
    k, n = out[-1]
    out[-1] = (k, n + rem)
    return out


def _arrangement(st: Style, asked: tuple[str, ...]) -> dict[str, str]:
    """Part name -> instrument: the style's parts, with the instruments the prompt asked for."""
    from overture.instruments import INSTRUMENTS

    parts = dict(st.parts)
    for name in asked:
        inst = INSTRUMENTS.get(name)
        if inst is None or name in parts.values():
            continue
        if inst.is_drums:
            parts["drums"] = name
        elif inst.family == "bass":
            parts["bass"] = name
        elif inst.family in {"keys", "guitar", "organ"} and parts.get("chords") != name:
            # A harmony instrument asked for takes the chords; the old one becomes the pad.
            if "chords" in parts and "pad" not in parts:
                parts["pad"] = parts["chords"]
            parts["chords"] = name
        elif inst.family in {"synth"} and "pad" in name:
            parts["pad"] = name
        else:
            parts["lead"] = name
    order = ["drums", "bass", "chords", "pad", "lead"]
    return {p: parts[p] for p in order if p in parts}


def _section_parts(kind: str, parts: dict[str, str]) -> tuple[str, ...]:
    have = set(parts)
    want = {
        "intro": {"chords", "pad", "lead"} if "drums" not in have else {"chords", "pad", "drums"},
        "verse": {"drums", "bass", "chords", "lead"},
        "chorus": {"drums", "bass", "chords", "pad", "lead"},
        "bridge": {"bass", "chords", "pad", "lead"},
        "interlude": {"drums", "bass", "chords", "pad"},
        "outro": {"bass", "chords", "pad", "lead"},
        "theme": {"bass", "chords", "lead"},
        "variation": {"drums", "bass", "chords", "pad", "lead"},
        "jingle": {"bass", "chords", "lead", "pad"},
    }[kind]
    chosen = tuple(p for p in parts if p in want)
    return chosen or tuple(parts)


def _sections(kinds: list[tuple[str, int]], parts: dict[str, str]) -> tuple[PlanSection, ...]:
    counts: dict[str, int] = {}
    out = []
    bar = 0
    last_chorus = max(
        (i for i, (k, _) in enumerate(kinds) if k in {"chorus", "variation"}), default=-1
    )
    for i, (kind, n) in enumerate(kinds):
        counts[kind] = counts.get(kind, 0) + 1
        energy = 1.0 if i == last_chorus and counts[kind] > 1 else ENERGY[kind]
        out.append(
            PlanSection(
                f"{kind}{counts[kind]}", kind, bar, bar + n, energy, _section_parts(kind, parts)
            )
        )
        bar += n
    return tuple(out)


def _progressions(st: Style, key: Key) -> list[str]:
    minor = key.mode == "minor"
    fits = [p for p in st.progressions if p.split()[0].lstrip("b#")[0].islower() == minor]
    if fits:
        return fits
    return ["i VI III VII", "i iv VI V", "i VII VI VII"] if minor else ["I V vi IV", "I IV V I"]


def _harmony(
    sections: tuple[PlanSection, ...], key: Key, st: Style, rng: random.Random
) -> tuple[Chord, ...]:
    progs = _progressions(st, key)
    by_kind: dict[str, list[Chord]] = {}
    for kind in (
        "verse",
        "chorus",
        "theme",
        "variation",
        "intro",
        "outro",
        "interlude",
        "bridge",
        "jingle",
    ):
        prog = rng.choice(progs)
        if kind == "bridge":
            # The bridge departs: start away from the tonic.
            tokens = prog.split()
            prog = " ".join(tokens[1:] + tokens[:1]) if len(tokens) > 1 else prog
        by_kind[kind] = [chord_from_roman(t, key) for t in prog.split()]
    # Choruses and verses keep their own progressions; intro/outro/interlude borrow the chorus's.
    by_kind["intro"] = by_kind["outro"] = by_kind["interlude"] = by_kind["chorus"]
    tonic = chord_from_roman("i" if key.mode == "minor" else "I", key)
    dominant = chord_from_roman("V", key)
    chords: list[Chord] = []
    for i, s in enumerate(sections):
        loop = by_kind[s.kind]
        seq = [loop[j % len(loop)] for j in range(s.bars)]
        nxt = sections[i + 1] if i + 1 < len(sections) else None
        if nxt is None:
            # The song ends on the tonic, approached from the dominant when there is room.
            if len(seq) >= 2:
                seq[-2] = dominant
            seq[-1] = tonic
        elif nxt.kind in {"chorus", "variation"} and len(seq) >= 2:
            seq[-1] = dominant  # a half cadence sets up the chorus
        chords.extend(seq)
    return tuple(chords)
