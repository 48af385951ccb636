"""The singing voice, Mandarin: pinyin syllables on a melody that carries the tones."""

from __future__ import annotations

import numpy as np
import pytest

from overture.voice import SungNote, SungSyllable, phones_from_pinyin, sing
from overture.voice.measure import note_pitch_errors, voiced_in_spans, vowel_onset_errors

SR = 44100

# 你好世界, 我爱你中国: the melody follows the tones a little (hao3 low, shi4 falling).
LINE = [
    ("ni3", 64, 0.45),
    ("hao3", 62, 0.45),
    ("shi4", 67, 0.45),
    ("jie4", 64, 0.9),
    ("wo3", 62, 0.45),
    ("ai4", 67, 0.45),
    ("ni3", 64, 0.45),
    ("zhong1", 69, 0.45),
    ("guo2", 67, 0.9),
]


def line(transpose: int = 0) -> list[SungSyllable]:
    out, t = [], 0.4
    for i, (pinyin, pitch, length) in enumerate(LINE):
        end = i in (3, len(LINE) - 1)
        note = SungNote(pitch + transpose, t, t + length)
        out.append(SungSyllable(phones_from_pinyin(pinyin), (note,), phrase_end=end))
        t += length + (0.5 if i == 3 else 0.0)
    return out


@pytest.fixture(scope="module", params=["female", "male"])
def sung(request: pytest.FixtureRequest) -> tuple[list[SungSyllable], np.ndarray]:
    syllables = line(0 if request.param == "female" else -12)
    return syllables, sing(syllables, voice=request.param, sample_rate=SR)


def test_every_syllable_span_is_voiced(sung) -> None:
    syllables, audio = sung
    assert all(voiced_in_spans(audio, SR, [(s.start, s.end) for s in syllables]))
    # ...and the rest between the two phrases is not.
    rest = (syllables[3].end + 0.2, syllables[4].start - 0.1)
    assert voiced_in_spans(audio, SR, [rest]) == [False]


def test_the_note_pitch_is_sung_not_the_spoken_tone(sung) -> None:
    syllables, audio = sung
    cents = np.abs(note_pitch_errors(audio, SR, [s.notes[0] for s in syllables]))
    assert not np.isnan(cents).any()
    assert np.median(cents) <= 15.0 and np.percentile(cents, 95) <= 50.0


def test_vowels_start_on_the_beat(sung) -> None:
    syllables, audio = sung
    errors = vowel_onset_errors(audio, SR, syllables)
    # h, sh, j, zh, g (voiceless initials) and wo3 after the rest
    assert len(errors) >= 6
    assert np.max(np.abs(errors)) <= 0.030


def test_medial_glides_are_sung_on_the_note() -> None:
    # The w of "guang" and the i of "jia" belong to the final: sung from the note, not before.
    syllables = [
        SungSyllable(phones_from_pinyin("guang1"), (SungNote(65, 0.5, 1.0),)),
        SungSyllable(phones_from_pinyin("jia1"), (SungNote(67, 1.3, 1.8),), phrase_end=True),
    ]
    audio = sing(syllables, voice="female")
    errors = vowel_onset_errors(audio, SR, syllables)
    assert len(errors) == 2 and np.max(np.abs(errors)) <= 0.030
