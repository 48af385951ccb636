"""MusicXML 4.0 (partwise), written directly from the score with the standard library.

Every note's start and length are quantised to 1/12 of a beat (``divisions`` = 12 per quarter
note), which holds sixteenths (3), eighth-note triplets (4) and their mixtures exactly. Notes are
split at barlines and tied; within a bar they are laid out on the metre's beats: a piece that
starts off a beat runs to the beat, whole beats merge into half, dotted-half or whole notes where
they sit well, and what is left inside a beat becomes the fewest note values (triplets included)
that add up exactly. Notes that start and end together form a chord; notes that overlap otherwise
go into separate voices, numbered 1, 2, ... in each bar, and each voice is padded with rests to the
full bar. Pitches are spelled by the key; drums are unpitched notes on a percussion staff. A sung
note's syllable (``Note.lyric``) is a lyric under the note.

The output depends only on the score (and title): the same score gives the same bytes.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path
from typing import Any

from overture.score import Part, Score
from overture.theory import TimeSignature

GRID = 12  # divisions of a beat: sixteenths (3/12) and eighth triplets (4/12) both fit
DIVISIONS = GRID

_DOCTYPE = (
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
    '"http://www.musicxml.org/dtds/partwise.dtd">'
)

# Note values in divisions -> (type, dots, is a triplet value).
_VALUES: dict[int, tuple[str, int, bool]] = {
    72: ("whole", 1, False),
    48: ("whole", 0, False),
    42: ("half", 2, False),  # a whole bar of 7/8
    36: ("half", 1, False),
    24: ("half", 0, False),
    18: ("quarter", 1, False),
    12: ("quarter", 0, False),
    9: ("eighth", 1, False),
    6: ("eighth", 0, False),
    3: ("16th", 0, False),
    16: ("half", 0, True),
    8: ("quarter", 0, True),
    4: ("eighth", 0, True),
    2: ("16th", 0, True),
    1: ("32nd", 0, True),
}
_PLAIN = frozenset(v for v, (_, _, triplet) in _VALUES.items() if not triplet)

# GM percussion key -> (display step, display octave, notehead or "").
_DRUM_DISPLAY: dict[int, tuple[str, int, str]] = {
    35: ("F", 4, ""),
    36: ("F", 4, ""),
    37: ("C", 5, ""),
    38: ("C", 5, ""),
    40: ("C", 5, ""),
    42: ("G", 5, "x"),
    44: ("G", 5, "x"),
    46: ("G", 5, "x"),
    49: ("A", 5, "x"),
    52: ("A", 5, "x"),
    55: ("A", 5, "x"),
    57: ("A", 5, "x"),
    51: ("F", 5, "x"),
    53: ("F", 5, "x"),
    59: ("F", 5, "x"),
    48: ("E", 5, ""),
    50: ("E", 5, ""),
    45: ("D", 5, ""),
    47: ("D", 5, ""),
    41: ("A", 4, ""),
    43: ("A", 4, ""),
}
_DRUM_OTHER = ("E", 5, "")
_KICKS = frozenset({35, 36})  # played with the foot: written in their own (lower) voice

_GM_DRUM_NAMES = (
    "Acoustic Bass Drum", "Bass Drum 1", "Side Stick", "Acoustic Snare", "Hand Clap",
    "Electric Snare", "Low Floor Tom", "Closed Hi-Hat", "High Floor Tom", "Pedal Hi-Hat",
    "Low Tom", "Open Hi-Hat", "Low-Mid Tom", "Hi-Mid Tom", "Crash Cymbal 1", "High Tom",
    "Ride Cymbal 1", "Chinese Cymbal", "Ride Bell", "Tambourine", "Splash Cymbal", "Cowbell",
    "Crash Cymbal 2", "Vibraslap", "Ride Cymbal 2", "Hi Bongo", "Low Bongo", "Mute Hi Conga",
    "Open Hi Conga", "Low Conga", "High Timbale", "Low Timbale", "High Agogo", "Low Agogo",
    "Cabasa", "Maracas", "Short Whistle", "Long Whistle", "Short Guiro", "Long Guiro", "Claves",
    "Hi Wood Block", "Low Wood Block", "Mute Cuica", "Open Cuica", "Mute Triangle",
    "Open Triangle",
)  # fmt: skip  # keys 35..81

_MIDI_CHANNELS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16)  # 10 is the drums'
_SHARP_ORDER = "FCGDAEB"
_ACCIDENTAL_NAMES = {1: "sharp", -1: "flat", 0: "natural"}
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _q(beats: float) -> int:
    """Beats -> whole divisions (1/12 beat)."""
    return round(beats * GRID)


def _esc(text: str) -> str:
    text = _BAD_XML_CHARS.sub("", str(text))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _num(x: float) -> str:
    """A decimal with at most two places and no trailing zeros: 120.0 -> "120"."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _drum_name(key: int) -> str:
    return _GM_DRUM_NAMES[key - 35] if 35 <= key <= 81 else f"Percussion {key}"


# --- metre and note values -------------------------------------------------------------------


def _beat_bounds(ts: TimeSignature) -> tuple[int, ...]:
    """Beat boundaries within a bar in divisions, 0 and the bar's length included."""
    bar = round(ts.beats_per_bar * GRID)
    if ts.denominator == 8 and ts.numerator % 3 == 0 and ts.numerator > 3:
        beats = [18] * (ts.numerator // 3)  # compound: dotted-quarter beats
    elif ts.denominator == 8 and ts.numerator > 3:
        beats = [12] * (ts.numerator // 2 - 1) + [18 if ts.numerator % 2 else 12]  # 7/8: 2+2+3
    elif ts.denominator <= 4 and (4 * GRID) % ts.denominator == 0:
        beats = [4 * GRID // ts.denominator] * ts.numerator
    else:
        beats = [bar]
    if sum(beats) != bar or any(b not in _PLAIN for b in beats):
        unit = 6 if bar % 6 == 0 else 3 if bar % 3 == 0 else 1
        beats = [unit] * (bar // unit)
    bounds = [0]
    for b in beats:
        bounds.append(bounds[-1] + b)
    return tuple(bounds)


def _align(value: int) -> int:
    """The grid a value sits on naturally inside a beat."""
    if value in (3, 9):
        return 3
    if value in (6, 12):
        return 6
    if value in (8, 4):
        return 4
    return value


@lru_cache(maxsize=4096)
def _in_beat(beat: int, a: int, b: int) -> tuple[tuple[int, int], ...]:
    """Fewest note values filling [a, b) inside one beat of ``beat`` divisions, well aligned."""
    values = [v for v in sorted(_VALUES, reverse=True) if v <= beat and v != 16]
    best: dict[int, tuple[tuple[int, int, int], tuple[tuple[int, int], ...]]] = {b: ((0, 0, 0), ())}
    for p in range(b - 1, a - 1, -1):
        choice = None
        for v in values:
            if p + v > b:
                continue
            cost, rest = best[p + v]
            cost = (
                cost[0] + 1,
                cost[1] + (p % _align(v) != 0),
                cost[2] + _VALUES[v][2],
            )
            if choice is None or cost < choice[0]:
                choice = (cost, ((p, v), *rest))
        assert choice is not None  # a value of 1 always fits
        best[p] = choice
    return best[a][1]


@lru_cache(maxsize=8192)
def _layout(bounds: tuple[int, ...], s: int, e: int) -> tuple[tuple[int, int], ...]:
    """Split [s, e) (divisions from the bar's start) into (offset, value) pieces to be tied."""
    pieces: list[tuple[int, int]] = []
    last = len(bounds) - 1
    odd = last % 2 == 1
    i = bisect_right(bounds, s) - 1
    if s != bounds[i]:  # starts off the beat: run to the beat (or the end)
        stop = min(e, bounds[i + 1])
        pieces += [
            (bounds[i] + p, v)
            for p, v in _in_beat(bounds[i + 1] - bounds[i], s - bounds[i], stop - bounds[i])
        ]
        s = stop
        i += 1
        if s >= e:
            return tuple(pieces)
    j = bisect_right(bounds, e) - 1  # last beat boundary at or before the end
    quarter_beats = all(bounds[k + 1] - bounds[k] == 12 for k in range(last))
    if quarter_beats and e - s == 18 and s % 24 == 0:
        return (*pieces, (s, 18))  # a dotted quarter on a strong beat
    while i < j:
        k_best = i + 1
        for k in range(j, i + 1, -1):
            span = bounds[k] - bounds[i]
            if span in _PLAIN and (i == 0 or bounds[i] % span == 0 or (odd and k == last)):
                k_best = k
                break
        pieces.append((bounds[i], bounds[k_best] - bounds[i]))
        i = k_best
    if e > bounds[j]:
        beat = bounds[j + 1] - bounds[j]
        pieces += [(bounds[j] + p, v) for p, v in _in_beat(beat, 0, e - bounds[j])]
    return tuple(pieces)


# --- spelling -----------------------------------------------------------------------------


def _key_alters(fifths: int) -> dict[str, int]:
    alters = dict.fromkeys("CDEFGAB", 0)
    if fifths > 0:
        for step in _SHARP_ORDER[:fifths]:
            alters[step] = 1
    elif fifths < 0:
        for step in _SHARP_ORDER[::-1][:-fifths]:
            alters[step] = -1
    return alters


def _spelling_table(score: Score) -> list[tuple[str, int]]:
    table = []
    for pc in range(12):
        name = score.key.note_name(pc)
        alter = sum(1 if c == "#" else -1 if c == "b" else 0 for c in name[1:])
        table.append((name[0], alter))
    return table


# --- one part --------------------------------------------------------------------------------

# A segment of a note inside one bar: (start, end, lane, pitch, velocity, tied in, tied out, id).
# A group (chord) of segments sharing start and end: (start, end, lane, members) with members
# (pitch, velocity, tied in, tied out, id) sorted by pitch.


def _segments(part: Part, bar: int, n_bars: int) -> list[list[tuple]]:
    per_bar: list[list[tuple]] = [[] for _ in range(n_bars)]
    drums = part.is_drums
    for nid, n in enumerate(part.notes):
        s = _q(n.start)
        e = s + max(1, _q(n.duration))
        s = max(0, s)
        e = max(s + 1, e)
        lane = 1 if drums and n.pitch in _KICKS else 0
        first = True
        m = s // bar
        while True:
            bar_start = m * bar
            bar_end = bar_start + bar
            seg_end = min(e, bar_end)
            per_bar[m].append(
                (
                    s - bar_start,
                    seg_end - bar_start,
                    lane,
                    n.pitch,
                    n.velocity,
                    not first,
                    e > bar_end,
                    nid,
                )
            )
            if e <= bar_end:
                break
            first = False
            s = bar_end
            m += 1
    return per_bar


def _voices(segs: list[tuple], prev_voice: dict[int, int], drums: bool) -> list[list[tuple]]:
    """Chords and greedy interval partitioning of one bar's segments into voices."""
    chords: dict[tuple[int, int, int], dict[int, list]] = {}
    for s, e, lane, pitch, vel, tin, tout, nid in segs:
        members = chords.setdefault((s, e, lane), {})
        if pitch in members:
            m = members[pitch]
            m[1] = max(m[1], vel)
            m[2] = m[2] or tin
            m[3] = m[3] or tout
        else:
            members[pitch] = [pitch, vel, tin, tout, nid]
    groups = [
        (s, e, lane, tuple(tuple(members[p]) for p in sorted(members)))
        for (s, e, lane), members in chords.items()
    ]
    lanes: list[list[list[tuple]]] = []
    for lane in (0, 1) if drums else (0,):
        lane_groups = [g for g in groups if g[2] == lane]
        lane_groups.sort(key=lambda g: (g[0], not any(m[2] for m in g[3]), -g[3][-1][0], -g[1]))
        voices: list[list[tuple]] = []
        ends: list[int] = []
        for g in lane_groups:
            s = g[0]
            v = -1
            if any(m[2] for m in g[3]):  # continues a note from the bar before: keep its voice
                for m in g[3]:
                    pv = prev_voice.get(m[4], -1)
                    if pv >= 0 and (pv >= len(ends) or ends[pv] <= s):
                        v = pv
                        break
            if v < 0:
                v = next((k for k, end in enumerate(ends) if end <= s), len(ends))
            while len(ends) <= v:
                ends.append(0)
                voices.append([])
            voices[v].append(g)
            ends[v] = g[1]
        lanes.append(voices)
    prev_voice.clear()  # now: voice (within its lane) of each note tied into the next bar
    for voices in lanes:
        for v, voice in enumerate(voices):
            for g in voice:
                for m in g[3]:
                    if m[3]:
                        prev_voice[m[4]] = v
    if drums and lanes[1]:
        # Feet below the hands, so the kick keeps the lower voice in every bar.
        return (lanes[0] or [[]]) + lanes[1]
    return lanes[0]


class _Writer:
    def __init__(self, score: Score, title: str) -> None:
        self.score = score
        self.title = title
        self.out: list[str] = []
        ts = score.time_signature
        self.bar = round(ts.beats_per_bar * GRID)
        self.bounds = _beat_bounds(ts)
        self.fifths = score.key.sharps
        self.key_alters = _key_alters(self.fifths)
        self.spell = _spelling_table(score)
        end = _q(score.end_beat)
        for part in score.parts:
            for n in part.notes:
                end = max(end, max(0, _q(n.start)) + max(1, _q(n.duration)))
        self.n_bars = max(1, score.bars, math.ceil(end / self.bar))
        self.lyrics: dict[int, str] = {}  # the part being written: note index -> its syllable

    # -- header -------------------------------------------------------------------------------

    def header(self) -> None:
        w = self.out.append
        w('<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
        w(_DOCTYPE)
        w('<score-partwise version="4.0">')
        if self.title:
            w(f"  <work>\n    <work-title>{_esc(self.title)}</work-title>\n  </work>")
            w(f"  <movement-title>{_esc(self.title)}</movement-title>")
        w("  <identification>")
        w("    <encoding>")
        w("      <software>Overture</software>")
        w('      <supports element="accidental" type="yes"/>')
        w('      <supports element="beam" type="no"/>')
        w("    </encoding>")
        w("  </identification>")
        w("  <part-list>")
        channels = iter(_MIDI_CHANNELS * (1 + len(self.score.parts) // len(_MIDI_CHANNELS)))
        for index, part in enumerate(self.score.parts, 1):
            pid = f"P{index}"
            w(f'    <score-part id="{pid}">')
            w(f"      <part-name>{_esc(part.name)}</part-name>")
            volume = f"        <volume>{_num(max(0, min(127, part.volume)) * 100 / 127)}</volume>"
            pan = f"        <pan>{_num((max(0, min(127, part.pan)) - 64) * 90 / 64)}</pan>"
            program = f"        <midi-program>{max(0, min(127, part.program)) + 1}</midi-program>"
            bank = (
                f"        <midi-bank>{part.bank + 1}</midi-bank>" if 0 < part.bank < 16384 else ""
            )
            if part.is_drums:
                keys = sorted({n.pitch for n in part.notes})
                instruments = [(f"{pid}-I{k + 1}", _drum_name(k), k) for k in keys]
                if not instruments:
                    instruments = [(f"{pid}-I1", part.instrument, -1)]
                for iid, name, _ in instruments:
                    w(f'      <score-instrument id="{iid}">')
                    w(f"        <instrument-name>{_esc(name)}</instrument-name>")
                    w("      </score-instrument>")
                for iid, _, k in instruments:
                    w(f'      <midi-instrument id="{iid}">')
                    w("        <midi-channel>10</midi-channel>")
                    if bank:
                        w(bank)
                    w(program)
                    if k >= 0:
                        w(f"        <midi-unpitched>{k + 1}</midi-unpitched>")
                    w(volume)
                    w(pan)
                    w("      </midi-instrument>")
            else:
                iid = f"{pid}-I1"
                w(f'      <score-instrument id="{iid}">')
                w(f"        <instrument-name>{_esc(part.instrument)}</instrument-name>")
                w("      </score-instrument>")
                w(f'      <midi-instrument id="{iid}">')
                w(f"        <midi-channel>{next(channels)}</midi-channel>")
                if bank:
                    w(bank)
                w(program)
                w(volume)
                w(pan)
                w("      </midi-instrument>")
            w("    </score-part>")
        w("  </part-list>")

    # -- parts --------------------------------------------------------------------------------

    def attributes(self, part: Part) -> str:
        ts = self.score.time_signature
        mode = self.score.key.mode
        if part.is_drums:
            clef = "<clef><sign>percussion</sign></clef>"
        else:
            pitches = sorted(n.pitch for n in part.notes)
            low = bool(pitches) and pitches[len(pitches) // 2] < 60
            clef = (
                "<clef><sign>F</sign><line>4</line></clef>"
                if low
                else "<clef><sign>G</sign><line>2</line></clef>"
            )
        return (
            "      <attributes>\n"
            f"        <divisions>{DIVISIONS}</divisions>\n"
            f"        <key><fifths>{self.fifths}</fifths><mode>{mode}</mode></key>\n"
            f"        <time><beats>{ts.numerator}</beats>"
            f"<beat-type>{ts.denominator}</beat-type></time>\n"
            f"        {clef}\n"
            "      </attributes>"
        )

    def tempo_direction(self) -> str:
        ts = self.score.time_signature
        tempo = self.score.tempo
        if ts.is_compound:
            unit, per_minute = "<beat-unit>quarter</beat-unit><beat-unit-dot/>", tempo / 1.5
        else:
            unit, per_minute = "<beat-unit>quarter</beat-unit>", tempo
        return (
            '      <direction placement="above">\n'
            "        <direction-type>\n"
            f"          <metronome>{unit}<per-minute>{_num(per_minute)}</per-minute></metronome>\n"
            "        </direction-type>\n"
            f'        <sound tempo="{_num(tempo)}"/>\n'
            "      </direction>"
        )

    def part(self, index: int, part: Part) -> None:
        w = self.out.append
        pid = f"P{index}"
        drums = part.is_drums
        first = index == 1
        per_bar = _segments(part, self.bar, self.n_bars)
        self.lyrics = {i: n.lyric for i, n in enumerate(part.notes) if n.lyric}
        rehearsals: dict[int, list[str]] = {}
        if first:
            for sec in self.score.sections:
                if 0 <= sec.start_bar < self.n_bars:
                    rehearsals.setdefault(sec.start_bar, []).append(sec.id)
        prev_voice: dict[int, int] = {}
        w(f'  <part id="{pid}">')
        for m in range(self.n_bars):
            w(f'    <measure number="{m + 1}">')
            if m == 0:
                w(self.attributes(part))
            for label in rehearsals.get(m, ()):
                w(
                    '      <direction placement="above">\n        <direction-type>'
                    f"<rehearsal>{_esc(label)}</rehearsal></direction-type>\n      </direction>"
                )
            if m == 0 and first:
                w(self.tempo_direction())
            voices = _voices(per_bar[m], prev_voice, drums) if per_bar[m] else []
            self.measure(pid, voices, drums)
            if m == self.n_bars - 1:
                w('      <barline location="right"><bar-style>light-heavy</bar-style></barline>')
            w("    </measure>")
        w("  </part>")

    def measure(self, pid: str, voices: list[list[tuple]], drums: bool) -> None:
        w = self.out.append
        bar = self.bar
        if not voices:
            w(
                '      <note>\n        <rest measure="yes"/>\n'
                f"        <duration>{bar}</duration>\n        <voice>1</voice>\n      </note>"
            )
            return
        bounds = self.bounds
        # Lay every voice out as pieces: (start, value, members or None for a rest, first, last).
        laid: list[list[tuple]] = []
        for voice in voices:
            pieces: list[tuple] = []
            pos = 0
            for s, e, _, members in voice:
                if s > pos:
                    pieces += [(p, v, None, False, False) for p, v in _layout(bounds, pos, s)]
                layout = _layout(bounds, s, e)
                last = len(layout) - 1
                pieces += [(p, v, members, k == 0, k == last) for k, (p, v) in enumerate(layout)]
                pos = e
            if pos < bar:
                pieces += [(p, v, None, False, False) for p, v in _layout(bounds, pos, bar)]
            laid.append(pieces)
        accidentals = {} if drums else self.accidentals(laid)
        stems = len(voices) > 1
        for vi, pieces in enumerate(laid):
            voice = vi + 1
            if vi:
                w(f"      <backup><duration>{bar}</duration></backup>")
            if not pieces:
                w(
                    '      <note>\n        <rest measure="yes"/>\n'
                    f"        <duration>{bar}</duration>\n"
                    f"        <voice>{voice}</voice>\n      </note>"
                )
                continue
            stem = ("up" if voice % 2 else "down") if stems else ""
            for pi, (_, value, members, is_first, is_last) in enumerate(pieces):
                kind, dots, triplet = _VALUES[value]
                tail = f"        <voice>{voice}</voice>\n        <type>{kind}</type>\n"
                if dots:
                    tail += "        <dot/>\n" * dots
                mod = (
                    "        <time-modification><actual-notes>3</actual-notes>"
                    "<normal-notes>2</normal-notes></time-modification>\n"
                    if triplet
                    else ""
                )
                if members is None:
                    w(
                        "      <note>\n        <rest/>\n"
                        f"        <duration>{value}</duration>\n{tail}{mod}      </note>"
                    )
                    continue
                for mi, (pitch, vel, tin, tout, nid) in enumerate(members):
                    stop = tin or not is_first
                    start = tout or not is_last
                    parts = [f'      <note dynamics="{_num(vel * 100 / 90)}">\n']
                    if mi:
                        parts.append("        <chord/>\n")
                    if drums:
                        step, octave, head = _DRUM_DISPLAY.get(pitch, _DRUM_OTHER)
                        parts.append(
                            f"        <unpitched><display-step>{step}</display-step>"
                            f"<display-octave>{octave}</display-octave></unpitched>\n"
                        )
                    else:
                        head = ""
                        step, alter = self.spell[pitch % 12]
                        octave = pitch // 12 - 1
                        if octave < 0:
                            octave = 0
                        alt = f"<alter>{alter}</alter>" if alter else ""
                        parts.append(
                            f"        <pitch><step>{step}</step>{alt}"
                            f"<octave>{octave}</octave></pitch>\n"
                        )
                    parts.append(f"        <duration>{value}</duration>\n")
                    if stop:
                        parts.append('        <tie type="stop"/>\n')
                    if start:
                        parts.append('        <tie type="start"/>\n')
                    if drums:
                        parts.append(f'        <instrument id="{pid}-I{pitch + 1}"/>\n')
                    parts.append(tail)
                    acc = accidentals.get((vi, pi, mi))
                    if acc:
                        parts.append(f"        <accidental>{acc}</accidental>\n")
                    parts.append(mod)
                    if stem:
                        parts.append(f"        <stem>{stem}</stem>\n")
                    if head:
                        parts.append(f"        <notehead>{head}</notehead>\n")
                    if stop or start:
                        parts.append("        <notations>")
                        if stop:
                            parts.append('<tied type="stop"/>')
                        if start:
                            parts.append('<tied type="start"/>')
                        parts.append("</notations>\n")
                    lyric = self.lyrics.get(nid) if is_first and not tin else None
                    if lyric:  # a sung syllable, under its first note
                        parts.append(
                            f'        <lyric number="1"><text>{_esc(lyric)}</text></lyric>\n'
                        )
                    parts.append("      </note>")
                    w("".join(parts))

    def accidentals(self, laid: list[list[tuple]]) -> dict[tuple[int, int, int], str]:
        """Accidentals to print, in time order across voices; tied-over notes print none."""
        events = []
        for vi, pieces in enumerate(laid):
            for pi, (start, _, members, is_first, _) in enumerate(pieces):
                if members is None:
                    continue
                for mi, (pitch, _, tin, _, _) in enumerate(members):
                    events.append((start, vi, pi, mi, pitch, tin or not is_first))
        events.sort()
        state: dict[tuple[str, int], int] = {}
        result: dict[tuple[int, int, int], str] = {}
        for _, vi, pi, mi, pitch, tied in events:
            if tied:
                continue
            step, alter = self.spell[pitch % 12]
            where = (step, pitch // 12)
            if state.get(where, self.key_alters[step]) != alter:
                result[(vi, pi, mi)] = _ACCIDENTAL_NAMES[alter]
                state[where] = alter
        return result

    def write(self) -> str:
        self.header()
        for index, part in enumerate(self.score.parts, 1):
            self.part(index, part)
        self.out.append("</score-partwise>\n")
        return "\n".join(self.out)


def score_to_musicxml(score: Score, *, title: str = "") -> str:
    """The score as a MusicXML 4.0 partwise document."""
    return _Writer(score, title).write()


def write_musicxml(score: Score, path: Path, *, title: str = "") -> None:
    Path(path).write_bytes(score_to_musicxml(score, title=title).encode("utf-8"))


def score_to_music21(score: Score, *, title: str = "") -> Any:
    """The score as a music21 ``Score``, read back from the MusicXML this module writes."""
    from music21 import converter

    return converter.parseData(score_to_musicxml(score, title=title), format="musicxml")
