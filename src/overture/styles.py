"""Genres: how each one is arranged by default (instruments, tempo, feel, groove, mode), and
how a section's energy shapes the arrangement.

A style is data; the composer reads it. Adding a genre means adding a ``Style`` here and its
words to the prompt vocabulary. The idiom names (``groove``, ``bass``, ``comping``, ``pad``) are
the keys of the composers' tables in ``overture.compose.drums``, ``.bass`` and ``.harmony``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from overture.plan import Plan, PlanSection
    from overture.theory import TimeSignature


@dataclass(frozen=True, slots=True)
class Style:
    name: str  # canonical genre name used in song.json
    tempo: tuple[int, int]  # default tempo range (bpm), picked from by the seed
    minor_weight: float  # chance of a minor key when the prompt names none
    time_signature: str = "4/4"
    feel: str = "straight"  # straight | swing | shuffle (both swung: off-beats on the triplet)
    groove: str = "backbeat"  # drum pattern family, see overture.compose.drums.GROOVES
    bass: str = "root"  # bass idiom, see overture.compose.bass
    comping: str = "block"  # the chords part's idiom, see overture.compose.harmony
    pad: str = "pad"  # the pad part's idiom (sustained unless the genre punches: brass stabs)
    timing: str = "natural"  # human timing, a key of TIMING: tight | natural | laid-back
    # Part name -> canonical instrument (overture.instruments); "drums" absent: no drums.
    parts: dict[str, str] = field(default_factory=dict)
    pentatonic: bool = False  # melodies keep to the pentatonic scale
    # How freely melodies leave the scale (0: never; 1: a jazz line): the harmony's altered
    # tones (the leading tone over a major V in minor, the flat seventh over a dominant-seventh
    # tonic), chromatic approach notes and, with ``blue_notes``, the flat third and fifth.
    chromatic: float = 0.0
    blue_notes: bool = False
    progressions: tuple[str, ...] = ()  # roman-numeral loops, one chord per bar
    # Minor keys stay modal (natural minor): the genre's own loops even in through-composed
    # forms, cadences from the subtonic (VII-i), no raised sixth, secondary dominant or Picardy
    # third from the chorale model. The film and trailer idiom, where minor must sound minor.
    modal: bool = False
    default_duration: float = 60.0

    @property
    def swing(self) -> bool:
        """Off-beat eighths fall on the third triplet of the beat."""
        return self.feel in {"swing", "shuffle"}


_POP_PROGS = ("I V vi IV", "vi IV I V", "I vi IV V", "I IV vi V")
_MINOR_PROGS = ("i VI III VII", "i iv VI V", "i VII VI VII", "i iv v i")

STYLES: dict[str, Style] = {
    s.name: s
    for s in [
        Style(
            "pop",
            (100, 128),
            0.3,
            bass="pop",
            parts={
                "drums": "drums",
                "bass": "electric bass",
                "chords": "piano",
                "pad": "warm pad",
                "lead": "synth lead",
            },
            progressions=_POP_PROGS + _MINOR_PROGS,
            chromatic=0.1,
        ),
        Style(
            "ballad",
            (60, 80),
            0.5,
            groove="ballad",
            bass="whole",
            comping="arpeggio",
            parts={
                "drums": "drums",
                "bass": "fretless bass",
                "chords": "piano",
                "pad": "strings",
                "lead": "piano",
            },
            progressions=("I V vi IV", "I iii IV V", "i VI III VII", "i iv VII III"),
            chromatic=0.2,
        ),
        Style(
            "rock",
            (110, 150),
            0.5,
            groove="rock",
            bass="eighths",
            comping="power",
            parts={
                "drums": "drums",
                "bass": "picked bass",
                "chords": "distortion guitar",
                "lead": "overdriven guitar",
            },
            progressions=("I IV V IV", "I bVII IV I", "i VI VII i", "i VII VI VII"),
        ),
        Style(
            "metal",
            (130, 180),
            0.9,
            groove="metal",
            bass="metal",
            comping="chug",
            timing="tight",
            parts={
                "drums": "drums",
                "bass": "picked bass",
                "chords": "distortion guitar",
                "lead": "distortion guitar",
            },
            progressions=("i VI VII i", "i bII i VII", "i iv VI VII"),
        ),
        Style(
            "edm",
            (124, 130),
            0.6,
            groove="four",
            bass="offbeat",
            comping="stab",
            timing="tight",
            parts={
                "drums": "electronic drums",
                "bass": "synth bass",
                "chords": "saw lead",
                "pad": "synth pad",
                "lead": "square lead",
            },
            progressions=("vi IV I V", "i VI III VII", "i VII VI VII"),
            chromatic=0.1,
        ),
        Style(
            "drum and bass",
            (170, 176),
            0.7,
            groove="dnb",
            bass="reese",
            comping="pad",
            timing="tight",
            parts={
                "drums": "electronic drums",
                "bass": "synth bass",
                "chords": "synth pad",
                "lead": "saw lead",
            },
            progressions=("i VI III VII", "i iv VI v"),
            chromatic=0.15,
        ),
        Style(
            "synthwave",
            (85, 110),
            0.6,
            groove="synthwave",
            bass="octaves",
            comping="pad",
            timing="tight",
            parts={
                "drums": "electronic drums",
                "bass": "synth bass",
                "chords": "synth pad",
                "pad": "synth strings",
                "lead": "saw lead",
            },
            progressions=("i VI III VII", "vi IV I V", "i VII VI VII"),
            chromatic=0.1,
        ),
        Style(
            "hip hop",
            (80, 98),
            0.6,
            feel="swing",
            groove="boombap",
            bass="sparse",
            comping="block",
            timing="laid-back",
            parts={
                "drums": "drums",
                "bass": "electric bass",
                "chords": "electric piano",
                "lead": "vibraphone",
            },
            progressions=("ii7 V7 Imaj7 vi7", "i7 iv7 i7 v7", "imaj7 iv7"),
            chromatic=0.3,
            blue_notes=True,
        ),
        Style(
            "trap",
            (130, 150),
            0.9,
            groove="trap",
            bass="808",
            comping="pad",
            timing="tight",
            parts={
                "drums": "electronic drums",
                "bass": "synth bass",
                "chords": "synth pad",
                "lead": "music box",
            },
            progressions=("i VI III VII", "i iv VI v", "i VI iv V"),
            chromatic=0.2,
        ),
        Style(
            "lo-fi",
            (70, 90),
            0.5,
            feel="swing",
            groove="boombap",
            bass="sparse",
            comping="block",
            timing="laid-back",
            parts={
                "drums": "drums",
                "bass": "electric bass",
                "chords": "electric piano",
                "lead": "vibraphone",
            },
            progressions=("ii7 V7 Imaj7 vi7", "Imaj7 vi7 ii7 V7", "iv7 v7 i7 i7"),
            chromatic=0.35,
            blue_notes=True,
        ),
        Style(
            "jazz",
            (100, 180),
            0.3,
            feel="swing",
            groove="jazz",
            bass="walking",
            comping="jazz",
            parts={
                "drums": "jazz drums",
                "bass": "acoustic bass",
                "chords": "piano",
                "lead": "tenor sax",
            },
            progressions=(
                "ii7 V7 Imaj7 Imaj7",
                "Imaj7 vi7 ii7 V7",
                "Imaj7 IVmaj7 ii7 V7",
                "i7 iv7 ii°7 V7",
                "ii°7 V7 i7 i7",
            ),
            chromatic=0.6,
            blue_notes=True,
        ),
        Style(
            "blues",
            (70, 120),
            0.2,
            feel="shuffle",
            groove="shuffle",
            bass="boogie",
            comping="block",
            parts={
                "drums": "drums",
                "bass": "electric bass",
                "chords": "electric piano",
                "lead": "clean guitar",
            },
            progressions=("I7 IV7 I7 I7 IV7 IV7 I7 I7 V7 IV7 I7 V7",),
            chromatic=0.6,
            blue_notes=True,
        ),
        Style(
            "funk",
            (96, 115),
            0.4,
            groove="funk",
            bass="funk",
            comping="funk",
            pad="stab",
            parts={
                "drums": "drums",
                "bass": "slap bass",
                "chords": "muted guitar",
                "pad": "brass",
                "lead": "electric piano",
            },
            progressions=("i7 IV7", "I7 IV7", "i7 i7 iv7 i7"),
            chromatic=0.45,
            blue_notes=True,
        ),
        Style(
            "r&b",
            (65, 95),
            0.5,
            groove="rnb",
            bass="sparse",
            comping="block",
            timing="laid-back",
            parts={
                "drums": "drums",
                "bass": "fretless bass",
                "chords": "electric piano",
                "pad": "warm pad",
                "lead": "voice",
            },
            progressions=("Imaj7 iii7 vi7 IV", "ii7 V7 Imaj7 vi7", "vi7 ii7 V7 Imaj7"),
            chromatic=0.4,
            blue_notes=True,
        ),
        Style(
            "country",
            (90, 120),
            0.1,
            groove="train",
            bass="twostep",
            comping="strum",
            parts={
                "drums": "drums",
                "bass": "acoustic bass",
                "chords": "acoustic guitar",
                "pad": "harmonica",
                "lead": "fiddle",
            },
            progressions=("I IV V I", "I V IV I", "I IV I V"),
            chromatic=0.2,
            blue_notes=True,
        ),
        Style(
            "folk",
            (80, 110),
            0.3,
            groove="folk",
            bass="root",
            comping="strum",
            parts={
                "drums": "drums",
                "bass": "acoustic bass",
                "chords": "acoustic guitar",
                "lead": "flute",
            },
            progressions=("I IV I V", "I V vi IV", "vi IV I V"),
            chromatic=0.15,
        ),
        Style(
            "reggae",
            (70, 90),
            0.4,
            groove="onedrop",
            bass="reggae",
            comping="skank",
            pad="offbeat",
            parts={
                "drums": "drums",
                "bass": "electric bass",
                "chords": "organ",
                "pad": "muted guitar",
                "lead": "clean guitar",
            },
            progressions=("I IV V IV", "i VII i VII", "I V vi IV"),
            chromatic=0.15,
        ),
        Style(
            "salsa",
            (160, 200),
            0.6,
            groove="latin",
            bass="tumbao",
            comping="montuno",
            pad="mambo",
            parts={
                "drums": "drums",
                "bass": "acoustic bass",
                "chords": "piano",
                "pad": "brass",
                "lead": "trumpet",
            },
            progressions=("i iv V i", "I IV V IV"),
            chromatic=0.3,
        ),
        Style(
            "bossa nova",
            (120, 140),
            0.4,
            groove="bossa",
            bass="bossa",
            comping="bossa",
            parts={
                "drums": "brush drums",
                "bass": "acoustic bass",
                "chords": "nylon guitar",
                "lead": "flute",
            },
            progressions=("Imaj7 ii7 V7 Imaj7", "ii7 V7 Imaj7 VI7", "Imaj7 IV7 iii7 vi7"),
            chromatic=0.45,
        ),
        Style(
            "tango",
            (110, 130),
            0.9,
            groove="tango",
            bass="tango",
            comping="tango",
            parts={
                "drums": "orchestral percussion",
                "bass": "contrabass",
                "chords": "piano",
                "pad": "strings",
                "lead": "bandoneon",
            },
            progressions=("i iv V i", "i VI V i"),
            chromatic=0.5,
        ),
        Style(
            "classical",
            (70, 120),
            0.4,
            groove="none",
            bass="root",
            comping="arpeggio",
            parts={"bass": "cello", "chords": "strings", "lead": "violin"},
            progressions=("I IV V I", "I vi IV V", "i iv V i"),
            chromatic=0.3,
        ),
        Style(
            "orchestral",
            (80, 120),
            0.6,
            groove="epic",
            bass="orchestral",
            comping="ostinato",
            parts={
                "drums": "orchestral percussion",
                "bass": "contrabass",
                "chords": "strings",
                "pad": "brass",
                "lead": "french horn",
            },
            progressions=("i VI III VII", "i iv VI V", "i VI iv V"),
            modal=True,
            chromatic=0.25,
        ),
        Style(
            "cinematic",
            (60, 100),
            0.8,
            groove="epic",
            bass="orchestral",
            comping="ostinato",
            parts={
                "drums": "orchestral percussion",
                "bass": "contrabass",
                "chords": "tremolo strings",
                "pad": "choir",
                "lead": "piano",
            },
            progressions=("i VI III VII", "i bII i VII", "i iv i VI"),
            modal=True,
            chromatic=0.3,
        ),
        Style(
            "ambient",
            (60, 80),
            0.5,
            groove="none",
            bass="drone",
            comping="pad",
            parts={
                "bass": "synth bass",
                "chords": "warm pad",
                "pad": "halo pad",
                "lead": "celesta",
            },
            progressions=("I IV", "Imaj7 IV", "i VI", "i iv"),
            chromatic=0.05,
            default_duration=120.0,
        ),
        Style(
            "chiptune",
            (130, 170),
            0.4,
            groove="chip",
            bass="octaves",
            comping="chip",
            timing="tight",
            parts={
                "drums": "electronic drums",
                "bass": "square lead",
                "chords": "square lead",
                "lead": "square lead",
            },
            progressions=("I V vi IV", "I IV V I", "vi IV I V"),
            chromatic=0.15,
        ),
        Style(
            "chinese-traditional",
            (70, 110),
            0.3,
            groove="chinese",
            bass="root",
            comping="guzheng",
            pentatonic=True,
            # The standard kit holds the stand-ins: floor tom for the tanggu, wood blocks for
            # the bangzi, China cymbal for the bo and nao.
            parts={
                "drums": "drums",
                "bass": "cello",
                "chords": "guzheng",
                "pad": "strings",
                "lead": "dizi",
            },
            progressions=("I vi IV V", "vi IV V I", "I V vi iii"),
        ),
    ]
}

DEFAULT_STYLE = "pop"


def style(name: str) -> Style:
    return STYLES[name]


# --- the energy curve and the metre, shared by the drum, bass and chord composers ---------------

# Human timing: (random spread, drag) in milliseconds. A positive drag plays behind the beat.
# Machine genres are exactly on the grid.
TIMING: dict[str, tuple[float, float]] = {
    "tight": (0.0, 0.0),
    "natural": (7.0, 0.0),
    "laid-back": (10.0, 14.0),
}

REST, VERSE, CHORUS, PEAK = 0, 1, 2, 3


def energy_level(energy: float) -> int:
    """A section's energy (0..1) as a tier: ``REST`` (intro, outro, breakdown: sparse),
    ``VERSE`` (the main pattern), ``CHORUS`` (full, denser) or ``PEAK`` (the last chorus)."""
    if energy < 0.45:
        return REST
    if energy < 0.75:
        return VERSE
    if energy < 0.95:
        return CHORUS
    return PEAK


def loudness(energy: float) -> float:
    """Velocity scale for a section's energy: 0.72 at rest, 1.1 for the last chorus."""
    return 0.72 + 0.38 * max(0.0, min(1.0, energy))


def next_section(plan: Plan, section: PlanSection) -> PlanSection | None:
    """The section after ``section``, or ``None`` for the last one."""
    for i, s in enumerate(plan.sections[:-1]):
        if s is section or s.id == section.id:
            return plan.sections[i + 1]
    return None


def swell(plan: Plan, bar: int, offset: float) -> float:
    """Velocity factor for a note ``offset`` beats into ``bar``: a crescendo over the last bar of
    a section into a livelier one (1.0 elsewhere), so that dynamics rise toward a chorus."""
    section = plan.section_at(bar)
    nxt = next_section(plan, section)
    if bar != section.end_bar - 1 or nxt is None or nxt.energy <= section.energy + 0.05:
        return 1.0
    bpb = plan.time_signature.beats_per_bar
    rise = min(0.3, 0.8 * (nxt.energy - section.energy))
    return 1.0 - rise / 2 + rise * max(0.0, min(1.0, offset / bpb))


def pulses(ts: TimeSignature) -> tuple[float, ...]:
    """Onsets in quarter-note beats of the felt pulses of a bar: quarters in 2/4, 3/4, 4/4 and
    5/4; dotted quarters in the compound metres (6/8, 9/8, 12/8); 2+2+3 eighths in 7/8."""
    bpb = ts.beats_per_bar
    if ts.is_compound:
        return tuple(i * 1.5 for i in range(round(bpb / 1.5)))
    if ts.denominator == 8:  # odd eighths: groups of two, the last of three
        n = ts.numerator
        groups = [2] * (n // 2 - 1) + [3] if n % 2 else [2] * (n // 2)
        out, t = [], 0.0
        for g in groups:
            out.append(t)
            t += g / 2
        return tuple(out)
    return tuple(float(i) for i in range(max(1, round(bpb))))


def strong_pulses(ts: TimeSignature) -> tuple[int, ...]:
    """Indices into ``pulses(ts)`` of the strong pulses (where the kick and the bass root fall):
    1 and 3 in 4/4, 1 and 4 in 5/4 (3+2), both groups of two in 7/8's 2+2+3 ... the downbeat
    alone in two- and three-pulse metres."""
    n = len(pulses(ts))
    if ts.denominator == 8 and not ts.is_compound:
        return (0, n - 1)
    return {4: (0, 2), 5: (0, 3)}.get(n, (0,))


def vel(v: float) -> int:
    """A MIDI velocity, 1-127."""
    return max(1, min(127, round(v)))
