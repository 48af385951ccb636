"""The singing voice, English: measured from the audio against the notes it was given."""

from __future__ import annotations

import numpy as np
import pytest

from overture.voice import (
    VOICES,
    Phones,
    SungNote,
    SungSyllable,
    VoiceError,
    phones_from_arpabet,
    sing,
)
from overture.voice.measure import (
    harvest,
    max_step,
    note_pitch_errors,
    voiced_in_spans,
    vowel_onset_errors,
)
from overture.voice.singer import clear_cache

SR = 44100

# "Twinkle, twinkle, little star, / how I won-der": two phrases with a rest between.
TWINKLE = [
    ("T W IH NG", 60, 0.4),
    ("K AH L", 60, 0.4),
    ("T W IH NG", 67, 0.4),
    ("K AH L", 67, 0.4),
    ("L IH", 69, 0.4),
    ("T AH L", 69, 0.4),
    ("S T AA R", 67, 0.8),
    ("HH AW", 65, 0.4),
    ("AY", 65, 0.4),
    ("W AH N", 64, 0.4),
    ("D ER", 64, 0.8),
]
REST_AFTER = 6  # index of "star"
REST = 0.7


def twinkle(transpose: int = 0) -> list[SungSyllable]:
    out, t = [], 0.3
    for i, (arpabet, pitch, length) in enumerate(TWINKLE):
        note = SungNote(pitch + transpose, t, t + length)
        end = i in (REST_AFTER, len(TWINKLE) - 1)
        out.append(SungSyllable(phones_from_arpabet(arpabet), (note,), phrase_end=end))
        t += length + (REST if i == REST_AFTER else 0.0)
    return out


def notes_of(syllables: list[SungSyllable]) -> list[SungNote]:
    return [n for s in syllables for n in s.notes]


@pytest.fixture(scope="module")
def female() -> tuple[list[SungSyllable], np.ndarray]:
    syllables = twinkle()
    return syllables, sing(syllables, voice="female", sample_rate=SR)


@pytest.fixture(scope="module")
def male() -> tuple[list[SungSyllable], np.ndarray]:
    syllables = twinkle(-12)
    return syllables, sing(syllables, voice="male", sample_rate=SR)


def _assert_in_tune(audio: np.ndarray, syllables: list[SungSyllable]) -> None:
    cents = np.abs(note_pitch_errors(audio, SR, notes_of(syllables)))
    assert not np.isnan(cents).any(), "a note was not voiced in its middle"
    assert np.median(cents) <= 15.0
    assert np.percentile(cents, 95) <= 50.0


def test_output_is_mono_float32_in_range_and_covers_the_notes(female) -> None:
    syllables, audio = female
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.max(np.abs(audio)) <= 1.0
    last = syllables[-1].notes[-1].end
    assert last * SR <= len(audio) <= (last + 0.5) * SR
    assert np.sqrt(np.mean(audio**2)) > 0.01  # something is sung


def test_pitch_accuracy_female(female) -> None:
    _assert_in_tune(female[1], female[0])


def test_every_syllable_is_sung(female) -> None:
    syllables, audio = female
    assert all(voiced_in_spans(audio, SR, [(s.start, s.end) for s in syllables]))


def test_vowels_start_on_the_beat(female) -> None:
    syllables, audio = female
    errors = vowel_onset_errors(audio, SR, syllables)
    # kle, kle, tle, star (unvoiced onsets), how (HH), and "I"? (legato: not measured)
    assert len(errors) >= 5
    assert not np.isnan(errors).any()
    assert np.max(np.abs(errors)) <= 0.030


def test_a_breath_in_the_rest_and_silence_around_it(female) -> None:
    syllables, audio = female
    rest_start = syllables[REST_AFTER].end + 0.2  # after the release
    rest_end = syllables[REST_AFTER + 1].start - 0.12  # before the onset /h/
    rest = audio[int(rest_start * SR) : int(rest_end * SR)]
    vowel = audio[int(1.0 * SR) : int(1.2 * SR)]
    ratio_db = 20 * np.log10(np.sqrt(np.mean(rest**2)) / np.sqrt(np.mean(vowel**2)))
    assert -60.0 < ratio_db < -20.0  # a breath is heard, quietly
    t, f0 = harvest(audio, SR)
    in_rest = (t > rest_start) & (t < rest_end)
    assert np.mean(f0[in_rest] > 0) < 0.2  # and it is noise, not voice
    assert np.max(np.abs(audio[: int(0.05 * SR)])) < 1e-3  # silence before the first breath


def test_male_voice_is_in_tune_and_darker(female, male) -> None:
    _assert_in_tune(male[1], male[0])
    assert all(voiced_in_spans(male[1], SR, [(s.start, s.end) for s in male[0]]))
    # Same note, same vowel: the male timbre has its energy lower in frequency.
    note = SungNote(57, 0.2, 1.4)
    syllable = [SungSyllable(phones_from_arpabet("AA"), (note,))]

    def centroid(audio: np.ndarray) -> float:
        seg = audio[int(0.5 * SR) : int(1.2 * SR)]
        power = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
        freqs = np.fft.rfftfreq(len(seg), 1 / SR)
        keep = freqs < 5000
        return float((power[keep] * freqs[keep]).sum() / power[keep].sum())

    high = centroid(sing(syllable, voice="female"))
    low = centroid(sing(syllable, voice="male"))
    assert high > 1.07 * low
    assert VOICES["female"].warp > VOICES["male"].warp
    assert VOICES["female"].variant != VOICES["male"].variant


def test_legato_joins_have_no_clicks() -> None:
    words = ["AO L", "DH AH", "W EY", "AH", "L AO NG", "M AY", "L AH V", "IY", "OW"]
    pitches = [64, 65, 67, 69, 67, 65, 64, 62, 60]
    syllables, t = [], 0.3
    for i, (w, p) in enumerate(zip(words, pitches, strict=True)):
        end = i == len(words) - 1
        note = SungNote(p, t, t + 0.35)
        syllables.append(SungSyllable(phones_from_arpabet(w), (note,), phrase_end=end))
        t += 0.35
    audio = sing(syllables, voice="female")
    steps = np.abs(np.diff(audio.astype(np.float64)))
    typical = np.percentile(steps, 99.9)
    assert max_step(audio) <= 0.2
    assert max_step(audio) <= 2.5 * typical
    for s in syllables[1:]:  # at each join, no jump beyond what the voice does anyway
        around = steps[int((s.start - 0.03) * SR) : int((s.start + 0.03) * SR)]
        assert around.max() <= 2.0 * typical
    # Legato through voiced consonants: the line never stops.
    t_, f0 = harvest(audio, SR)
    inside = (t_ > syllables[0].start + 0.05) & (t_ < syllables[-1].end - 0.05)
    assert np.mean(f0[inside] > 0) > 0.97
    _assert_in_tune(audio, syllables)


def test_melisma_holds_one_vowel_across_its_notes() -> None:
    melisma = (
        SungNote(60, 0.3, 0.65),
        SungNote(62, 0.65, 1.0),
        SungNote(64, 1.0, 1.35),
        SungNote(62, 1.35, 1.9),
    )
    syllables = [
        SungSyllable(phones_from_arpabet("L AA"), melisma),
        SungSyllable(phones_from_arpabet("M IY"), (SungNote(60, 1.9, 2.5),), phrase_end=True),
    ]
    audio = sing(syllables, voice="female")
    cents = note_pitch_errors(audio, SR, notes_of(syllables))
    assert np.all(np.abs(cents) <= 20.0)
    t, f0 = harvest(audio, SR)
    inside = (t > 0.35) & (t < 1.85)
    assert np.mean(f0[inside] > 0) > 0.98  # one voiced line, no consonant between the notes
    level = [
        np.sqrt(np.mean(audio[int(a * SR) : int((a + 0.03) * SR)] ** 2))
        for a in np.arange(0.35, 1.7, 0.01)
    ]
    assert 20 * np.log10(min(level) / np.median(level)) > -4.0  # not re-articulated

    def envelope(start: float, end: float) -> np.ndarray:
        from scipy.ndimage import maximum_filter1d, uniform_filter1d

        seg = audio[int(start * SR) : int(end * SR)]
        spectrum = 20 * np.log10(np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=8192)) + 1e-9)
        smooth = uniform_filter1d(maximum_filter1d(spectrum, 80), 40)  # through the harmonics
        freqs = np.fft.rfftfreq(8192, 1 / SR)
        return smooth[(freqs > 200) & (freqs < 4000)]

    shapes = [envelope(n.start + 0.08, n.end - 0.08) for n in melisma]
    assert all(np.corrcoef(shapes[0], s)[0, 1] > 0.9 for s in shapes[1:])  # the same vowel
    other = envelope(syllables[1].start + 0.15, syllables[1].end - 0.15)
    assert np.corrcoef(shapes[0], other)[0, 1] < 0.7  # ...and /i/ is told apart


def test_unknown_voice_names_the_valid_ones() -> None:
    with pytest.raises(VoiceError) as info:
        sing(twinkle()[:1], voice="baritone-robot")
    for name in VOICES:
        assert name in str(info.value)
    assert {"female", "male"} <= set(VOICES)


def test_same_seed_same_samples_other_seed_other_vibrato() -> None:
    syllables = twinkle()[:4]
    first = sing(syllables, voice="male", seed=3)
    clear_cache()  # analysed afresh: espeak-ng must speak the same samples again
    again = sing(syllables, voice="male", seed=3)
    assert np.array_equal(first, again)
    other = sing(syllables, voice="male", seed=4)
    assert len(other) == len(first) and not np.array_equal(other, first)


def test_empty_input_and_exact_duration() -> None:
    assert len(sing([])) == 0
    silence = sing([], duration=1.5)
    assert silence.dtype == np.float32 and len(silence) == int(1.5 * SR) and not silence.any()
    syllables = twinkle()[:3]
    longer = sing(syllables, duration=3.0)
    assert len(longer) == 3 * SR and not longer[int(2.5 * SR) :].any()
    cut = sing(syllables, duration=1.0)  # ends inside a note: cut with a fade, not a click
    assert len(cut) == SR and abs(float(cut[-1])) < 0.01
    assert len(sing(syllables, sample_rate=22050, duration=1.0)) == 22050


def test_unknown_phonemes_are_still_sung() -> None:
    odd = [
        SungSyllable(Phones("en", ("QX",), ("ZZ",), ("KX",)), (SungNote(62, 0.2, 0.6),)),
        SungSyllable(Phones("en", (), (), ()), (SungNote(64, 0.6, 1.0),)),
        SungSyllable(Phones("xx", ("M",), ("AA1",), ()), (SungNote(65, 1.0, 1.4),)),
        SungSyllable(Phones("zh", ("zz",), ("qqq",), (), 9, "??"), (SungNote(67, 1.4, 1.8),)),
        SungSyllable(Phones("en", ("S",), ("IY",), ()), ()),  # no notes: skipped
    ]
    audio = sing(odd, voice="female")
    spans = [(s.start, s.end) for s in odd[:4]]
    assert all(voiced_in_spans(audio, SR, spans))


def test_without_the_espeak_library_the_program_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """No helper process (no libespeak-ng): espeak-ng runs as a program, with no phoneme
    events, and the syllables are split from energy and voicing instead."""
    from overture.voice import espeak

    monkeypatch.setattr(espeak, "_get_worker", lambda: None)
    clear_cache()
    try:
        syllables = twinkle()[4:7]  # lit-tle star
        audio = sing(syllables, voice="female")
    finally:
        clear_cache()  # analyses without events must not leak into later tests
    assert all(voiced_in_spans(audio, SR, [(s.start, s.end) for s in syllables]))
    _assert_in_tune(audio, syllables)
    assert np.max(np.abs(vowel_onset_errors(audio, SR, syllables))) <= 0.030
