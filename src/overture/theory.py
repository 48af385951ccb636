"""Music theory, in one place: pitch names, keys, scales, chords and time signatures."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from overture.errors import InvalidInputError

Mode = Literal["major", "minor"]

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")

MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)  # natural minor (aeolian)
HARMONIC_MINOR_STEPS = (0, 2, 3, 5, 7, 8, 11)
MAJOR_PENTATONIC_STEPS = (0, 2, 4, 7, 9)
MINOR_PENTATONIC_STEPS = (0, 3, 5, 7, 10)

# Conventional spelling of each key's tonic (fewest accidentals; F#/C# kept for sharp keys).
_MAJOR_TONIC_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_TONIC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_FLAT_MAJOR_TONICS = {1, 3, 5, 8, 10}  # Db Eb F Ab Bb major spell with flats

_ACCIDENTALS = {
    "#": 1,
    "♯": 1,
    "sharp": 1,
    "is": 1,
    "b": -1,
    "♭": -1,
    "flat": -1,
    "es": -1,
    "s": -1,
    "": 0,
    "♮": 0,
    "natural": 0,
}
_KEY_RE = re.compile(
    r"^\s*(?P<letter>[a-gA-G])\s*(?P<acc>#|♯|b|♭|♮|sharp|flat|natural)?\s*"
    r"(?P<mode>major|minor|maj|min|m|dur|moll|大调|小调)?\s*$",
    re.IGNORECASE,
)


def pitch_class(name: str) -> int:
    """Pitch class (0-11) of a note name such as ``"Bb"``, ``"F#"`` or ``"B♭"``."""
    m = re.fullmatch(r"\s*([a-gA-G])\s*(#|♯|b|♭|♮|sharp|flat)?\s*", name)
    if not m:
        raise InvalidInputError(f"unknown note name: {name!r}")
    acc = (m.group(2) or "").lower()
    return (_LETTER_PC[m.group(1).upper()] + _ACCIDENTALS[acc]) % 12


@dataclass(frozen=True, slots=True)
class Key:
    """A tonal centre and mode. ``name`` is the canonical spelling, e.g. ``"Bb major"``."""

    tonic: int  # pitch class 0-11
    mode: Mode
    spelling: str = ""  # tonic as written (e.g. "A#"), empty for the conventional one

    @property
    def tonic_name(self) -> str:
        if self.spelling:
            return self.spelling
        names = _MAJOR_TONIC_NAMES if self.mode == "major" else _MINOR_TONIC_NAMES
        return names[self.tonic]

    @property
    def name(self) -> str:
        return f"{self.tonic_name} {self.mode}"

    @property
    def uses_flats(self) -> bool:
        if "b" in self.tonic_name[1:]:
            return True
        if "#" in self.tonic_name[1:]:
            return False
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        return major_tonic in _FLAT_MAJOR_TONICS

    @property
    def steps(self) -> tuple[int, ...]:
        return MAJOR_STEPS if self.mode == "major" else MINOR_STEPS

    @property
    def scale(self) -> tuple[int, ...]:
        """Pitch classes of the diatonic scale, tonic first."""
        return tuple((self.tonic + s) % 12 for s in self.steps)

    @property
    def scale_tones(self) -> frozenset[int]:
        """Pitch classes that belong to the key: its scale and, in minor, the raised sixth
        and seventh of melodic and harmonic minor."""
        pcs = set(self.scale)
        if self.mode == "minor":
            pcs |= {(self.tonic + 9) % 12, (self.tonic + 11) % 12}
        return frozenset(pcs)

    @property
    def pentatonic(self) -> tuple[int, ...]:
        steps = MAJOR_PENTATONIC_STEPS if self.mode == "major" else MINOR_PENTATONIC_STEPS
        return tuple((self.tonic + s) % 12 for s in steps)

    @property
    def relative(self) -> Key:
        if self.mode == "major":
            return Key((self.tonic + 9) % 12, "minor")
        return Key((self.tonic + 3) % 12, "major")

    @property
    def sharps(self) -> int:
        """Signed number of sharps (negative: flats) of the key signature."""
        major_tonic = self.tonic if self.mode == "major" else (self.tonic + 3) % 12
        fifths = (major_tonic * 7) % 12  # position on the circle of fifths, 0..11
        if fifths > 6 or (fifths == 6 and self.uses_flats):
            fifths -= 12
        written = self.tonic_name[1:]
        if written == "#" and fifths < 0:
            fifths += 12  # C# major: 7 sharps
        elif written == "b" and fifths > 0:
            fifths -= 12  # Cb major: 7 flats
        return fifths

    def note_name(self, pc: int) -> str:
        return (FLAT_NAMES if self.uses_flats else SHARP_NAMES)[pc % 12]

    def degree_pc(self, degree: int) -> int:
        """Pitch class of a 1-based scale degree (wraps past 7)."""
        return self.scale[(degree - 1) % 7]

    def __str__(self) -> str:
        return self.name


def parse_key(text: str) -> Key:
    """Parse ``"B flat major"``, ``"Bb major"``, ``"B♭ major"``, ``"Bb"``, ``"Am"``, ``"C大调"``.

    A key with no mode is major, except a bare ``"Am"`` style minor suffix.
    """
    m = _KEY_RE.match(text or "")
    if not m:
        raise InvalidInputError(f"unknown key: {text!r} (try 'A minor' or 'Bb major')")
    letter = m.group("letter").upper()
    acc_text = (m.group("acc") or "").lower()
    mode_text = m.group("mode") or ""
    # A bare lower-case "m" is minor ("Am"); upper-case "M" is major.
    minor = mode_text == "m" or mode_text.lower() in {"min", "minor", "moll", "小调"}
    mode: Mode = "minor" if minor else "major"
    acc = _ACCIDENTALS[acc_text]
    tonic = (_LETTER_PC[letter] + acc) % 12
    written = letter + {1: "#", -1: "b", 0: ""}[acc]
    conventional = (_MAJOR_TONIC_NAMES if mode == "major" else _MINOR_TONIC_NAMES)[tonic]
    spelling = "" if written == conventional else written
    if spelling in {"Cb", "Fb", "E#", "B#"}:
        spelling = ""
    return Key(tonic, mode, spelling)


@dataclass(frozen=True, slots=True)
class TimeSignature:
    numerator: int
    denominator: int

    @property
    def beats_per_bar(self) -> float:
        """Length of a bar in quarter notes."""
        return self.numerator * 4 / self.denominator

    @property
    def is_compound(self) -> bool:
        return self.denominator == 8 and self.numerator % 3 == 0 and self.numerator > 3

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


# Krumhansl-Kessler key profiles ("Cognitive Foundations of Musical Pitch", 1990), tonic first.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


def key_from_profile(weights: Sequence[float]) -> Key:
    """The key whose profile correlates best with a 12-bin pitch-class weighting (a duration-
    weighted histogram of notes, or the mean chroma of audio), C first."""
    w = [float(x) for x in weights]
    best: tuple[float, int, str] = (-2.0, 0, "major")
    for tonic in range(12):
        for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
            rotated = [profile[(pc - tonic) % 12] for pc in range(12)]
            best = max(best, (_correlation(w, rotated), tonic, mode))
    return Key(best[1], best[2])  # type: ignore[arg-type]


def _correlation(a: list[float], b: list[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / (va * vb) ** 0.5 if va > 0 and vb > 0 else -1.0


SUPPORTED_TIME_SIGNATURES = ("2/4", "3/4", "4/4", "5/4", "6/8", "7/8", "9/8", "12/8")


def parse_time_signature(text: str) -> TimeSignature:
    m = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{1,2})\s*", text or "")
    if not m or f"{int(m.group(1))}/{int(m.group(2))}" not in SUPPORTED_TIME_SIGNATURES:
        raise InvalidInputError(
            f"unknown time signature: {text!r} (supported: {', '.join(SUPPORTED_TIME_SIGNATURES)})"
        )
    return TimeSignature(int(m.group(1)), int(m.group(2)))


# Chord qualities as intervals above the root.
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7),
    "m": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "6": (0, 4, 7, 9),
    "m6": (0, 3, 7, 9),
    "add9": (0, 4, 7, 14),
    "5": (0, 7),
}
_QUALITY_ALIASES = {
    "maj": "",
    "M": "",
    "min": "m",
    "-": "m",
    "mi": "m",
    "°": "dim",
    "o": "dim",
    "+": "aug",
    "M7": "maj7",
    "Δ7": "maj7",
    "min7": "m7",
    "-7": "m7",
    "ø": "m7b5",
    "ø7": "m7b5",
    "dom7": "7",
    "sus": "sus4",
}


@dataclass(frozen=True, slots=True)
class Chord:
    root: int  # pitch class
    quality: str  # a key of CHORD_QUALITIES

    @property
    def intervals(self) -> tuple[int, ...]:
        return CHORD_QUALITIES[self.quality]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple((self.root + i) % 12 for i in self.intervals)

    @property
    def is_minor(self) -> bool:
        return self.quality in {"m", "m7", "m6", "dim", "m7b5"}

    def symbol(self, key: Key | None = None) -> str:
        """``"Bbmaj7"``: diatonic roots spelled as the key spells them, chromatic ones as flats
        (borrowed chords such as bVII and bVI are far more common than sharpened ones)."""
        if key is not None and self.root in key.scale:
            return key.note_name(self.root) + self.quality
        return FLAT_NAMES[self.root] + self.quality


def parse_chord(text: str) -> Chord:
    m = re.fullmatch(r"\s*([A-Ga-g])(#|♯|b|♭)?(.*?)\s*", text or "")
    if not m:
        raise InvalidInputError(f"unknown chord: {text!r}")
    root = pitch_class(m.group(1) + (m.group(2) or ""))
    quality = m.group(3)
    quality = _QUALITY_ALIASES.get(quality, quality)
    if quality not in CHORD_QUALITIES:
        raise InvalidInputError(f"unknown chord quality in {text!r}")
    return Chord(root, quality)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}


def chord_from_roman(numeral: str, key: Key) -> Chord:
    """A chord from a Roman numeral relative to ``key``: ``"I"``, ``"vi"``, ``"V7"``, ``"bVII"``.

    Upper case is major, lower case minor, ``°`` diminished; a leading ``b``/``#`` alters the root.
    """
    m = re.fullmatch(r"(b|#)?([ivIV]+)(°|o|\+)?(7|maj7|sus4|sus2|6)?", numeral)
    if not m or m.group(2).lower() not in _ROMAN:
        raise InvalidInputError(f"unknown roman numeral: {numeral!r}")
    degree = _ROMAN[m.group(2).lower()]
    shift = {"b": -1, "#": 1, None: 0}[m.group(1)]
    major_scale_root = (key.tonic + MAJOR_STEPS[degree - 1]) % 12
    diatonic_root = key.degree_pc(degree)
    root = ((major_scale_root if shift else diatonic_root) + shift) % 12
    upper = m.group(2).isupper()
    ext = m.group(4) or ""
    if m.group(3) in {"°", "o"}:
        quality = "m7b5" if ext == "7" else "dim"
    elif m.group(3) == "+":
        quality = "aug"
    elif ext in {"sus4", "sus2"}:
        quality = ext
    elif upper:
        quality = {"": "", "7": "7", "maj7": "maj7", "6": "6"}[ext]
    else:
        quality = {"": "m", "7": "m7", "maj7": "m7", "6": "m6"}[ext]
    return Chord(root, quality)
