"""The singing voice's input contract (syllables with their notes) and its voice presets."""

from __future__ import annotations

from dataclasses import dataclass

from overture.errors import OvertureError


class VoiceError(OvertureError):
    """The singing voice cannot be used: unknown voice name, or espeak-ng is missing."""


@dataclass(frozen=True, slots=True)
class Phones:
    """One sung syllable's sounds, split around its vowel.

    English (``lang="en"``) uses ARPAbet as in the CMU dictionary, without stress digits:
    ``onset`` the consonants before the vowel (``("S", "T", "R")``), ``nucleus`` one vowel
    (``("AY",)``), ``coda`` the consonants after it (``("N", "D")``). Mandarin (``lang="zh"``)
    uses pinyin: ``onset`` the initial as one item (``("zh",)`` or ``()``), ``nucleus`` the
    final without tone (``("iang",)``), ``coda`` empty, ``tone`` 1..5 and ``pinyin`` the
    numbered syllable as written (``"yi1"``). ``text`` is only for messages.
    """

    lang: str
    onset: tuple[str, ...]
    nucleus: tuple[str, ...]
    coda: tuple[str, ...]
    tone: int = 0
    pinyin: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class SungNote:
    """One note of the melody: MIDI pitch (fractional allowed) from ``start`` to ``end`` (s)."""

    pitch: float
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class SungSyllable:
    """A syllable and the note(s) it is sung on.

    Several notes make a melisma: the vowel is carried through all of them, gliding from
    pitch to pitch. ``phrase_end`` marks the last syllable before a breath or a rest.
    """

    phones: Phones
    notes: tuple[SungNote, ...]
    phrase_end: bool = False

    @property
    def start(self) -> float:
        return self.notes[0].start

    @property
    def end(self) -> float:
        return self.notes[-1].end


@dataclass(frozen=True, slots=True)
class VoiceSpec:
    """How one singing voice is made from espeak-ng's speech.

    ``variant`` is the espeak-ng voice variant (``"f1"``; empty: the language's default
    voice) whose formants give the base timbre. ``espeak_pitch`` (0-99) is the speaking
    pitch asked of espeak-ng: low-ish (``f1`` at 35 speaks at ~135 Hz, the default voice at
    50 at ~90 Hz), because the spectral envelope is estimated from harmonics and a lower F0
    samples it more densely; the sung pitch is imposed later by the vocoder.
    ``warp`` scales the envelope's frequency axis (formants up when > 1) and
    ``register_warp`` adds that fraction per octave above ``reference_pitch``, as singers
    brighten and raise the first formant with pitch. ``vibrato_rate`` (Hz) and
    ``vibrato_depth`` (cents, peak) shape the vibrato of long notes; ``breathiness`` (0..1)
    raises the aperiodic part above ~1.5 kHz (espeak-ng's pulse source is very clean, which is
    what makes it sound buzzy). ``tilt_db_per_octave`` tilts the envelope down above 1 kHz:
    espeak-ng's upper formants (2.5-4.5 kHz) sit only ~10-15 dB under F1, ~10 dB more than in
    a natural voice, which makes its pulses sharp and its sound metallic. ``presence_db``
    then lifts 2-4 kHz a little, where a singing voice carries.
    """

    name: str
    variant: str
    espeak_pitch: int
    warp: float
    vibrato_rate: float
    vibrato_depth: float
    breathiness: float
    register_warp: float = 0.03
    reference_pitch: float = 60.0
    presence_db: float = 2.0
    tilt_db_per_octave: float = 4.0
    description: str = ""
