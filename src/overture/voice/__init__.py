"""A singing voice: espeak-ng's phonemes, re-pitched and re-timed by the WORLD vocoder.

``sing(syllables)`` turns syllables (``Phones``) on notes (``SungNote``) into mono audio.
Importing this package is cheap: pyworld, scipy and espeak-ng load on the first ``sing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from overture.voice.phonemes import phones_from_arpabet, phones_from_pinyin
from overture.voice.types import Phones, SungNote, SungSyllable, VoiceError, VoiceSpec
from overture.voice.voices import VOICES

if TYPE_CHECKING:
    import numpy as np


def sing(
    syllables: Sequence[SungSyllable],
    *,
    voice: str = "female",
    sample_rate: int = 44100,
    seed: int = 0,
    duration: float | None = None,
) -> np.ndarray:
    """Sing ``syllables`` on their notes: mono float32 in [-1, 1] at ``sample_rate``.

    Each syllable's vowel starts on its first note and is held (through all its notes, for
    a melisma) at exactly the notes' pitches; its consonants go just before and after.
    The audio covers the last note and its release, or is exactly ``duration`` seconds
    long (cut with a 5 ms fade, or padded with silence). No syllables: silence. ``voice``
    is a key of ``VOICES`` (otherwise ``VoiceError``, naming the valid ones); ``seed``
    varies vibrato and pitch jitter, and the same arguments always give the same samples.
    Unknown phoneme symbols are sung as something close (see ``overture.voice.phonemes``).
    How: ``overture.voice.singer``.
    """
    from overture.voice.singer import sing as _sing

    return _sing(syllables, voice=voice, sample_rate=sample_rate, seed=seed, duration=duration)


__all__ = [
    "VOICES",
    "Phones",
    "SungNote",
    "SungSyllable",
    "VoiceError",
    "VoiceSpec",
    "phones_from_arpabet",
    "phones_from_pinyin",
    "sing",
]
