"""The singing measurements, checked on synthetic signals whose answers are known."""

from __future__ import annotations

import numpy as np

from overture.voice import Phones, SungNote, SungSyllable, phones_from_arpabet
from overture.voice.measure import max_step, note_pitch_errors, voiced_in_spans, vowel_onset_errors

SR = 44100


def _tone(hz: float, start: float, end: float, total: float, harmonics: int = 8) -> np.ndarray:
    """A harmonic tone (1/k amplitudes) from ``start`` to ``end`` in ``total`` seconds."""
    t = np.arange(int(total * SR)) / SR
    x = sum(np.sin(2 * np.pi * hz * k * t) / k for k in range(1, harmonics + 1))
    return 0.2 * x * ((t >= start) & (t < end))


def test_note_pitch_errors_in_cents() -> None:
    # 0.5-1.0 s at 440 Hz (A4 = 69), 1.2-1.7 s at 445 Hz: +19.6 cents off A4.
    x = _tone(440.0, 0.5, 1.0, 2.0) + _tone(445.0, 1.2, 1.7, 2.0)
    notes = [SungNote(69, 0.5, 1.0), SungNote(69, 1.2, 1.7), SungNote(60, 1.8, 1.95)]
    errors = note_pitch_errors(x, SR, notes)
    assert abs(errors[0]) < 2.0
    assert abs(errors[1] - 1200 * np.log2(445 / 440)) < 2.0
    assert np.isnan(errors[2])  # silence: no pitch


def test_vowel_onset_is_where_periodic_sound_starts() -> None:
    rng = np.random.default_rng(0)
    x = _tone(262.0, 0.52, 1.2, 2.0)  # voicing starts 20 ms after the note
    x[int(0.40 * SR) : int(0.52 * SR)] += 0.05 * rng.standard_normal(int(0.12 * SR))  # an /s/
    x += _tone(330.0, 1.35, 1.9, 2.0)  # a vowel-initial syllable after a rest, 10 ms early
    syllables = [
        SungSyllable(phones_from_arpabet("S IY"), (SungNote(60, 0.5, 1.2),)),
        SungSyllable(phones_from_arpabet("L IY"), (SungNote(64, 1.2, 1.25),)),  # voiced onset
        SungSyllable(Phones("en", (), ("AY",), ()), (SungNote(64, 1.36, 1.9),)),
    ]
    errors = vowel_onset_errors(x, SR, syllables)
    assert len(errors) == 2  # the /l/ syllable is not measured
    assert abs(errors[0] - 0.020) < 0.006
    assert abs(errors[1] - (-0.010)) < 0.006


def test_max_step_and_voiced_spans() -> None:
    x = _tone(220.0, 0.2, 0.8, 1.0)
    smooth = max_step(x)
    x[int(0.5 * SR) :] += 0.3  # a click
    assert max_step(x) > smooth + 0.25
    assert voiced_in_spans(x, SR, [(0.3, 0.6), (0.85, 0.95), (0.1, 0.15)]) == [True, False, False]
