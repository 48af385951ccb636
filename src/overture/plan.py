"""``Plan``: the song's form, harmony and arrangement, decided before any note is written.

The planner scales the form to the requested duration: whole bars of music, then a final chord
that rings until a short release tail, so that the audio ends exactly on time.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from overture.errors import InvalidInputError
from overture.spec import SongSpec, release_tail
from overture.styles import STYLES, Style
from overture.theory import Chord, Key, TimeSignature, chord_from_roman

if TYPE_CHECKING:
    from overture.lyrics import LyricLine, LyricSheet

PHRASE_BARS = 4
# Section energy (0..1): drives which parts play, density and dynamics. Repeats of a kind rise a
# little (the second verse is fuller than the first); the last chorus is the peak.
ENERGY = {
    "intro": 0.3,
    "verse": 0.5,
    "pre-chorus": 0.65,
    "chorus": 0.82,
    "bridge": 0.6,
    "interlude": 0.45,
    "breakdown": 0.3,
    "solo": 0.75,
    "outro": 0.35,
    "theme": 0.45,
    "variation": 0.6,
    "jingle": 0.8,
}
_REPEAT_RISE = 0.06
# Genres without a verse/chorus song form use themes and variations instead.
_THROUGH_COMPOSED = {"ambient", "classical", "cinematic", "orchestral"}
CHORUS_KINDS = frozenset({"chorus", "variation"})  # the hook, and its through-composed kin
VERSE_KINDS = frozenset({"verse", "theme"})  # what leads to it, lower and sparer


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
class LyricPhrase:
    """A lyric line (or part of a long one) and the bars it is sung in."""

    line: LyricLine
    section: str  # the plan section's id: "verse1"
    kind: str  # the section's kind: "verse"
    index: int  # the phrase's place in its section, from 0
    start_bar: int  # 0-based
    bars: int


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
    phrases: tuple[LyricPhrase, ...] = ()  # the sung lines, in order (a song with lyrics)
    # The tune's identity: its character and motifs are drawn from it. Empty: from the plan
    # itself; a song continued from another (``overture extend``) keeps its source's.
    tune_id: str = ""

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

    def phrases_of(self, section_id: str) -> list[LyricPhrase]:
        """The lyric phrases sung in the section ``section_id`` (none: it is not sung)."""
        return [ph for ph in self.phrases if ph.section == section_id]

    def to_dict(self) -> dict[str, Any]:
        end_s = self.end_beat * 60.0 / self.tempo
        sung: dict[str, list[str]] = {}
        for ph in self.phrases:
            sung.setdefault(ph.section, []).append(ph.line.text)
        lines = (lambda s: {"lines": sung.get(s.id, [])}) if self.phrases else (lambda s: {})
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
                    **lines(s),
                }
                for s in self.sections
            ],
            "chords": [c.symbol(self.key) for c in self.chords],
            "instrumentation": dict(self.parts),
            **({"tune_id": self.tune_id} if self.tune_id else {}),
        }


def make_plan(spec: SongSpec) -> Plan:
    """Decide form, chords and arrangement for ``spec``; deterministic for ``spec.seed``.

    Given chords, structure or melody (``spec.chords``, ``spec.structure``, ``spec.melody``) are
    followed exactly; a loop (``spec.loop``) is whole bars with no release tail.
    """
    st = STYLES[spec.genre]
    rng = random.Random(f"plan:{spec.seed}")
    ts = spec.time_signature
    bpb = ts.beats_per_bar
    bar_s = bpb * 60.0 / spec.tempo
    if spec.loop:
        bars = max(1, round(spec.duration / bar_s))
        end_beat = bars * bpb
    else:
        music_s = spec.duration - release_tail(spec.duration)
        bars = max(1, int(music_s / bar_s + 1e-9))
        # The final chord rings from the last bar's downbeat to the start of the release tail;
        # a song shorter than one bar is a single gesture within that bar.
        end_beat = round(music_s * spec.tempo / 60.0, 6)
    form: list[tuple[str, int, list[tuple[LyricLine, int]]]] = []
    if spec.lyrics is not None:
        form = lyric_form(spec.lyrics, spec.tempo, ts, bars)
        kinds = [(k, n) for k, n, _ in form]
    elif spec.melody is not None:
        kinds = _melody_form(bars, spec)
    elif spec.structure:
        kinds = _fit_structure(spec.structure, bars, spec)
    else:
        kinds = _form(bars, spec.genre)
        if spec.loop:
            kinds = _loop_form(kinds)
    parts = _arrangement(st, spec.instruments)
    if spec.lyrics is not None:  # the voice sings the tune: it takes the lead's place
        parts = {k: v for k, v in parts.items() if k != "lead"} | {"vocals": VOCALS_INSTRUMENT}
    sections = _sections(kinds, parts)
    phrases: list[LyricPhrase] = []
    if form:
        sections, phrases = _sung_sections(sections, form)
    if spec.chords:
        chords = tuple(spec.chords[i % len(spec.chords)] for i in range(bars))
    elif spec.melody is not None:
        from overture.compose.harmonise import harmonise

        chords = harmonise(spec.melody, sections, spec.key, ts, loop=spec.loop)
    else:
        chords = _harmony(sections, spec.key, st, rng, loop=spec.loop)
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
        phrases=tuple(phrases),
    )


# ----------------------------------------------------------------------------- lyrics
VOCALS_INSTRUMENT = "voice"


def lyric_sections(
    sheet: LyricSheet, tempo: float, ts: TimeSignature, *, tight: bool
) -> list[tuple[str, list[tuple[LyricLine, int]]]]:
    """Each lyric section's kind and its sung phrases with their bars (none for an
    instrumental section), at ``tempo``: relaxed, or ``tight`` (the fastest singable)."""
    from overture.compose.setting import line_bars, sung_lines

    out = []
    for sec in sheet.sections:
        lines = sung_lines(sec.lines)
        out.append(
            (sec.kind, [(ln, line_bars(len(ln.syllables), tempo, ts, tight=tight)) for ln in lines])
        )
    return out


def lyric_bars(sheet: LyricSheet, tempo: float, ts: TimeSignature, *, tight: bool) -> int:
    """The fewest bars the lyrics take at ``tempo``: their phrases, and a bar for each
    instrumental section the sheet names."""
    return sum(
        sum(b for _, b in lines) or 1 for _, lines in lyric_sections(sheet, tempo, ts, tight=tight)
    )


def _frame_bars(tempo: float, ts: TimeSignature) -> int:
    """A natural instrumental intro or outro: 4 bars, or 2 when bars are long."""
    return 4 if ts.beats_per_bar * 60.0 / tempo <= 2.6 else 2


def lyric_form(
    sheet: LyricSheet, tempo: float, ts: TimeSignature, bars: int | None = None
) -> list[tuple[str, int, list[tuple[LyricLine, int]]]]:
    """The song's form from its lyrics: a section per lyric section (its lines and their
    bars), framed by an instrumental intro and outro unless the sheet names its own.

    With ``bars`` the form fills exactly that many: the bars the singing does not take go to
    the instrumental parts (intro, outro, the sheet's own instrumental sections, and then
    interludes between a chorus and the next verse); when the lyrics do not fit relaxed they
    are set tight. Without ``bars`` the form has its natural length.
    """
    from overture.spec import SECTION_BARS

    secs = lyric_sections(sheet, tempo, ts, tight=False)
    need = sum(sum(b for _, b in lines) or 1 for _, lines in secs)
    if bars is not None and need > bars:
        secs = lyric_sections(sheet, tempo, ts, tight=True)
        need = sum(sum(b for _, b in lines) or 1 for _, lines in secs)
        if need > bars:
            raise InvalidInputError(
                f"the lyrics need {need} bars at {tempo:g} bpm; the song has only {bars}"
            )
    frame = _frame_bars(tempo, ts)
    # Slots: [kind, bars, first cap, lines]; instrumental ones grow, sung ones are fixed.
    slots: list[list[Any]] = []
    if secs[0][1]:  # the sheet opens singing: an instrumental intro leads in
        slots.append(["intro", 0, frame, []])
    for i, (kind, lines) in enumerate(secs):
        if lines:
            slots.append([kind, sum(b for _, b in lines), 0, lines])
        else:
            slots.append([kind, 1, SECTION_BARS.get(kind, 4), []])
        nxt = secs[i + 1] if i + 1 < len(secs) else None
        if kind == "chorus" and lines and nxt is not None and nxt[0] == "verse" and nxt[1]:
            slots.append(["interlude", 0, 4, []])
    if secs[-1][1]:
        slots.append(["outro", 0, frame, []])
    if bars is None:
        # The natural form: no interludes of our own, the frame and named sections full.
        for slot in slots:
            if not slot[3] and not (slot[0] == "interlude" and slot[1] == 0):
                slot[1] = max(slot[1], slot[2])
        return [(k, n, lines) for k, n, _, lines in slots if n > 0]
    left = bars - need
    free = [s for s in slots if not s[3]]
    order = sorted(free, key=lambda s: {"intro": 0, "outro": 1, "interlude": 3}.get(s[0], 2))
    for scale in (1, 2):
        for slot in order:
            give = max(0, min(left, slot[2] * scale - slot[1]))
            slot[1] += give
            left -= give
    growing = [s for s in order if s[0] != "intro"] or order  # a long intro only as a last resort
    while left > 0 and growing:
        for slot in growing:
            give = min(left, 4)
            slot[1] += give
            left -= give
            if left <= 0:
                break
    if left > 0:  # nothing instrumental to grow (cannot happen: there is an outro slot)
        slots[-1][1] += left
    return [(k, n, lines) for k, n, _, lines in slots if n > 0]


def _sung_sections(
    sections: tuple[PlanSection, ...],
    form: list[tuple[str, int, list[tuple[LyricLine, int]]]],
) -> tuple[tuple[PlanSection, ...], list[LyricPhrase]]:
    """The vocals join the sections with lines and leave the others; the phrases in bars."""
    out = []
    phrases: list[LyricPhrase] = []
    for s, (_, _, lines) in zip(sections, form, strict=True):
        parts = tuple(p for p in s.parts if p != "vocals")
        if lines:
            parts = (*parts, "vocals")
            bar = s.start_bar
            for i, (line, n) in enumerate(lines):
                phrases.append(LyricPhrase(line, s.id, s.kind, i, bar, n))
                bar += n
        out.append(replace(s, parts=parts))
    return tuple(out), phrases


def _fit_structure(kinds: tuple[str, ...], bars: int, spec: SongSpec) -> list[tuple[str, int]]:
    """Bars per given section: their natural lengths scaled to the duration, in even bars."""
    from overture.spec import SECTION_BARS

    if bars < len(kinds):
        raise InvalidInputError(
            f"the structure has {len(kinds)} sections but {spec.duration:g} s at "
            f"{spec.tempo:g} bpm holds only {bars} bar{'s' if bars != 1 else ''}"
        )
    natural = [SECTION_BARS[k] for k in kinds]
    unit = 2 if bars >= 2 * len(kinds) else 1
    units = bars // unit
    total = sum(natural)
    shares = [n * units / total for n in natural]
    got = [max(1, int(x)) for x in shares]
    # Largest remainders first, then trim from the longest if the floors of 1 overshot.
    order = sorted(range(len(kinds)), key=lambda i: (got[i] - shares[i], i))
    i = 0
    while sum(got) < units:
        got[order[i % len(order)]] += 1
        i += 1
    while sum(got) > units:
        j = max(range(len(got)), key=lambda k: (got[k], -k))
        got[j] -= 1
    out = [(k, g * unit) for k, g in zip(kinds, got, strict=True)]
    k, n = out[-1]
    out[-1] = (k, n + bars - unit * units)  # an odd bar left over joins the last section
    return out


def _melody_form(bars: int, spec: SongSpec) -> list[tuple[str, int]]:
    """Sections around a given melody: it plays (repeated when the song is longer), framed by
    an intro and an outro made of the bars left over; its phrases alternate verse and chorus."""
    assert spec.melody is not None
    mel_bars = max(1, math.ceil(spec.melody.end_beat / spec.time_signature.beats_per_bar - 1e-6))
    if bars < mel_bars:
        seconds = mel_bars * spec.time_signature.beats_per_bar * 60 / spec.tempo
        raise InvalidInputError(
            f"the melody lasts {mel_bars} bars ({seconds:.1f} s at {spec.tempo:g} bpm); "
            f"{spec.duration:g} s is too short for it"
        )
    reps = max(1, min(8, bars // mel_bars))
    left = bars - reps * mel_bars
    intro = min(left // 2, 8) if left >= 2 else 0
    outro = left - intro
    out: list[tuple[str, int]] = []
    if intro:
        out.append(("intro", intro))
    for r in range(reps):
        out.append(("verse" if r % 2 == 0 else "chorus", mel_bars))
    if outro:
        out.append(("outro", outro))
    return out


def _loop_form(kinds: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A loop has no intro or outro: it is all body, and its end runs back into its start."""
    body = {"intro": "verse", "outro": "chorus", "jingle": "verse"}
    merged: list[tuple[str, int]] = []
    for kind, n in kinds:
        kind = body.get(kind, kind)
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + n)
        else:
            merged.append((kind, n))
    return merged


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
    elif through or units < 10:
        # intro, then theme/variation (or short verse/chorus) pairs; a bridge replaces the last
        # of three or more pairs; an interlude mid-piece; an outro. Long pieces repeat the cycle.
        size = 1 if units < 10 else 2
        pairs = max(1, (units - 2) // (2 * size))
        form = [("intro", 1)]
        for i in range(pairs):
            form.append(("bridge" if i == pairs - 1 and pairs >= 3 else a, size))
            form.append((b, size))
        left = units - 2 - 2 * size * pairs
        if left >= 1 and pairs >= 2:
            form.insert(len(form) - 2, ("interlude", 1))
            left -= 1
        if left >= 1:
            form[-1] = (form[-1][0], form[-1][1] + 1)
            left -= 1
        if left >= 1:
            form[0] = ("intro", form[0][1] + left)
        form.append(("outro", 1))
    else:
        form = _song_form(units)
    out = [(k, n * PHRASE_BARS) for k, n in form]
    # Bars left over after whole phrases extend the last section (a tag before the final chord).
    k, n = out[-1]
    out[-1] = (k, n + rem)
    return out


def _song_form(units: int) -> list[tuple[str, int]]:
    """A verse/chorus song of ``units`` four-bar phrases (10 or more), 8-bar verses and choruses.

    The core is intro, verse, chorus, verse, chorus, outro; as room allows it gains, in order: a
    bridge and a return of the chorus, pre-choruses that build into the choruses, a doubled last
    chorus, an instrumental interlude, a solo before the bridge, and whole further verse-chorus
    cycles. Phrases still left over lengthen the intro, add a breakdown before the last chorus
    and an interlude after the last cycle, and then lengthen the outro.
    """
    v, c, pre = ("verse", 2), ("chorus", 2), ("pre-chorus", 1)
    cycles = [[v, c], [v, c]]
    middle: list[tuple[str, int]] = []
    end: list[tuple[str, int]] = []
    left = units - 10

    def take(n: int) -> bool:
        nonlocal left
        if left >= n:
            left -= n
            return True
        return False

    if take(4):
        middle, end = [("bridge", 2)], [c]
    with_pre = take(2)
    if with_pre:
        cycles = [[v, pre, c], [v, pre, c]]
    if end and take(2):
        end = [c, c]
    if take(1):
        cycles[-1].append(("interlude", 1))
    if middle and take(2):
        middle.insert(0, ("solo", 2))
    while take(5 if with_pre else 4):
        cycles.append([v, pre, c] if with_pre else [v, c])
    intro = 1 + (1 if take(1) else 0)
    if end and take(1):
        middle.append(("breakdown", 1))  # a quiet drop before the last chorus, the peak
    if len(cycles) > 2 and take(1):
        cycles[-1].append(("interlude", 1))
    outro = 1 + left
    form = [("intro", intro)]
    for cycle in cycles:
        form += cycle
    return [*form, *middle, *end, ("outro", outro)]


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


# Which parts play in each kind of section: instruments enter as the energy rises.
_SECTION_PARTS = {
    "intro": {"chords", "pad", "lead"},
    "verse": {"drums", "bass", "chords", "lead"},
    "pre-chorus": {"drums", "bass", "chords", "pad", "lead"},
    "chorus": {"drums", "bass", "chords", "pad", "lead"},
    "bridge": {"bass", "chords", "pad", "lead"},
    "interlude": {"drums", "bass", "chords", "pad"},
    "breakdown": {"chords", "pad", "lead"},
    "solo": {"drums", "bass", "chords", "lead"},
    "outro": {"bass", "chords", "pad", "lead"},
    # A through-composed cue's theme keeps its percussion: the pulse runs under the whole piece
    # (without it the sustained strings and pads blur a slow tempo).
    "theme": {"drums", "bass", "chords", "lead"},
    "variation": {"drums", "bass", "chords", "pad", "lead"},
    "jingle": {"bass", "chords", "lead", "pad"},
}


def _section_parts(kind: str, parts: dict[str, str], *, first: bool) -> tuple[str, ...]:
    want = set(_SECTION_PARTS[kind])
    if kind == "intro" and "drums" in parts:
        want = {"chords", "pad", "drums"}  # a groove intro; the tune waits for the verse
    if first and kind in {"verse", "theme"} and len(parts) > 3:
        want.discard("pad")  # the first verse is sparer; the pad enters later
    if kind == "bridge" and "drums" in parts and len(parts) <= 3:
        want.add("drums")  # a trio's bridge keeps its drummer
    chosen = tuple(p for p in parts if p in want)
    return chosen or tuple(parts)


def _sections(kinds: list[tuple[str, int]], parts: dict[str, str]) -> tuple[PlanSection, ...]:
    """Number the sections and give each its energy on the song's curve: repeats rise a little,
    the last chorus is the peak, and the section before a chorus leans into it."""
    counts: dict[str, int] = {}
    out = []
    bar = 0
    last_chorus = max((i for i, (k, _) in enumerate(kinds) if k in CHORUS_KINDS), default=-1)
    for i, (kind, n) in enumerate(kinds):
        counts[kind] = counts.get(kind, 0) + 1
        energy = ENERGY[kind] + _REPEAT_RISE * (counts[kind] - 1)
        if kind in {"intro", "outro", "breakdown", "bridge"}:
            energy = ENERGY[kind]  # these do not climb: the bridge departs, the ends are quiet
        if i == last_chorus and counts[kind] > 1:
            energy = 1.0
        energy = round(min(0.95 if i != last_chorus else 1.0, energy), 3)
        out.append(
            PlanSection(
                f"{kind}{counts[kind]}",
                kind,
                bar,
                bar + n,
                energy,
                _section_parts(kind, parts, first=counts[kind] == 1),
            )
        )
        bar += n
    return tuple(out)


def progression_mode(progression: str) -> str:
    """The mode a roman-numeral loop is written in: ``"minor"`` when its tonic chord is a minor
    ``i`` (``i``, ``i7``, ``imaj7``), otherwise ``"major"``. A loop may start anywhere (``vi IV I
    V`` and ``ii7 V7 Imaj7`` are major-key loops), so the first chord does not decide it."""
    for token in progression.split():
        m = _NUMERAL.match(token)
        if m and m.group(1) == "i":
            return "minor"
    return "major"


_NUMERAL = re.compile(r"[b#]?([ivIV]+)")


def _progressions(st: Style, key: Key) -> list[str]:
    fits = [p for p in st.progressions if progression_mode(p) == key.mode]
    if fits:
        return fits
    if key.mode == "minor":
        return ["i VI III VII", "i iv VI V", "i VII VI VII"]
    return ["I V vi IV", "I IV V I"]


_PRE_CHORUS = {"major": ("IV V", "ii V", "vi IV", "IV ii"), "minor": ("iv V", "VI VII", "iv VII")}


def _model_progression(
    length: int, key: Key, rng: random.Random, start: str, end: str
) -> list[str] | None:
    """A progression sampled from the harmony model learned from the chorales."""
    try:
        from overture.learn.harmony_model import HarmonyModel

        model = HarmonyModel.load()
    except (ImportError, OSError):  # pragma: no cover - the model ships with the package
        return None
    return model.sample(length, key.mode, rng, start=start, end=end)


# The chorale model's chords that leave natural minor (the raised sixth and seventh, secondary
# dominants, the Picardy third), and their Aeolian counterparts, for the modal genres.
_AEOLIAN = {
    "I": "i",
    "I7": "i7",
    "II": "iv",
    "II7": "iv7",
    "ii": "ii°",
    "ii7": "ii°7",
    "III+": "III",
    "IV": "iv",
    "IV7": "iv7",
    "V": "v",
    "V7": "v7",
}


def _harmony(
    sections: tuple[PlanSection, ...], key: Key, st: Style, rng: random.Random, *, loop: bool
) -> tuple[Chord, ...]:
    """A chord per bar: the genre's idiomatic loops for verse and chorus, a pre-chorus that
    climbs to the dominant, a bridge (and classical themes) from the chorale-learned model, and
    cadences at section ends: half cadences into choruses, V-I at the end of a chorus and of the
    song (a loop instead leads back into its first chord).

    A modal genre (``Style.modal``) in a minor key stays in natural minor: its themes are its own
    loops rather than the chorales' harmonic minor, the model's bridge is made Aeolian, and its
    cadences lead home from the subtonic (VII-i), so the minor tonic is not coloured major."""
    minor = key.mode == "minor"
    modal = minor and st.modal
    tonic_rn = "i" if minor else "I"
    home_from = "VII" if modal else "V"  # the chord of the cadences
    progs = _progressions(st, key)
    verse = rng.choice(progs)
    others = [p for p in progs if p != verse]
    chorus = rng.choice(others) if others else verse
    pre = rng.choice(_PRE_CHORUS[key.mode])
    through = st.name in _THROUGH_COMPOSED
    away = rng.choice(["iv", "VI"] if minor else ["IV", "vi", "ii"])
    bridge = _model_progression(4, key, rng, start=away, end=home_from)
    if bridge is None:
        tokens = chorus.split()
        bridge = tokens[1:] + tokens[:1]
    if modal:
        bridge = [_AEOLIAN.get(t, t) for t in bridge]
    by_kind_rn: dict[str, list[str]] = {
        "verse": verse.split(),
        "chorus": chorus.split(),
        "pre-chorus": pre.split(),
        "bridge": bridge,
        "solo": verse.split(),
        "intro": chorus.split(),
        "outro": chorus.split(),
        "interlude": verse.split(),
        "breakdown": chorus.split(),
        "jingle": chorus.split(),
        "theme": verse.split(),
        "variation": chorus.split(),
    }
    if through and not modal:
        theme = _model_progression(8, key, rng, start=tonic_rn, end="V")
        variation = _model_progression(8, key, rng, start=tonic_rn, end=tonic_rn)
        if theme and variation:
            by_kind_rn.update(theme=theme, variation=variation, intro=theme, outro=variation)
            by_kind_rn.update(interlude=theme, breakdown=theme)
    by_kind = {k: [chord_from_roman(t, key) for t in v] for k, v in by_kind_rn.items()}
    tonic = chord_from_roman(tonic_rn, key)
    dominant = chord_from_roman(home_from, key)
    chords: list[Chord] = []
    for i, s in enumerate(sections):
        cycle = by_kind[s.kind]
        seq = [cycle[j % len(cycle)] for j in range(s.bars)]
        nxt = sections[i + 1] if i + 1 < len(sections) else None
        if nxt is None:
            if not loop:
                # The song ends on the tonic, approached from the dominant when there is room.
                if len(seq) >= 2:
                    seq[-2] = dominant
                seq[-1] = tonic
        elif s.kind in CHORUS_KINDS | {"theme"} and len(seq) >= 4:
            _close(seq, dominant, tonic)  # the chorus closes with an authentic cadence
        elif nxt.kind in CHORUS_KINDS | {"pre-chorus"} and len(seq) >= 2:
            seq[-1] = _own(seq, dominant)  # a half cadence sets up the chorus
        chords.extend(seq)
    if loop and len(chords) >= 2 and chords[0] == tonic:
        chords[-1] = dominant  # the loop's end leads back into its tonic start
    return tuple(chords)


def _own(seq: list[Chord], chord: Chord) -> Chord:
    """``chord`` as the phrase itself spells it (its ``V7`` for a ``V``, its ``Imaj7`` for an
    ``I``), so that a cadence keeps the genre's colour."""
    return next((c for c in seq if c.root == chord.root and _same_kind(c, chord)), chord)


def _same_kind(a: Chord, b: Chord) -> bool:
    """Both major-third chords (triad, sixth, seventh), both minor, or both diminished."""
    return _family(a.quality) == _family(b.quality)


def _family(quality: str) -> str:
    if quality in {"m", "m7", "m6"}:
        return "minor"
    return "diminished" if quality in {"dim", "m7b5"} else quality if quality == "aug" else "major"


def _close(seq: list[Chord], dominant: Chord, tonic: Chord) -> None:
    """End the phrase ``seq`` on the tonic, reached from the dominant. A phrase that already
    goes dominant-tonic in its last three bars holds its tonic to the end (``ii7 V7 Imaj7
    vi7`` closes ``ii7 V7 Imaj7 Imaj7``, not ``ii7 V7 V I``); any other ends dominant-tonic."""
    n = len(seq)
    for k in range(n - 2, n - 4, -1):
        nxt = seq[k + 1]
        if seq[k].root == dominant.root and nxt.root == tonic.root and _same_kind(nxt, tonic):
            seq[k + 1 :] = [nxt] * (n - k - 1)
            return
    seq[-2:] = [_own(seq, dominant), _own(seq, tonic)]
