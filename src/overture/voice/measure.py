"""Measurements of sung audio against its score, shared by tests, benchmarks and evaluation.

Pitch and voicing come from WORLD's HARVEST ("Harvest: a high-performance fundamental
frequency estimator from speech signals", Interspeech 2017): few octave errors on voices.
Its limits, measured: it bridges unvoiced gaps of ~50 ms (so vowel onsets are found another
way, see ``vowel_onset_errors``), and it misses nearly pure sine tones (a 440 Hz sine, a
high note with almost no upper harmonics), which then read as unvoiced or far too low. The
audio is resampled to 16 kHz first: HARVEST only looks below 1.1 kHz.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from overture.voice.phonemes import plan
from overture.voice.types import SungNote, SungSyllable

ANALYSIS_RATE = 16000
FRAME_MS = 2.0
F0_FLOOR = 60.0
F0_CEIL = 1100.0  # C6 is 1047 Hz
REST_BEFORE = 0.1  # s of silence before a syllable that counts as "after a rest"


def harvest(
    audio: np.ndarray, sr: int, frame_ms: float = FRAME_MS
) -> tuple[np.ndarray, np.ndarray]:
    """(times in s, F0 in Hz, 0 where unvoiced) of ``audio``, by HARVEST at 16 kHz."""
    import pyworld
    from scipy.signal import resample_poly

    x = np.asarray(audio, dtype=np.float64)
    if x.ndim > 1:
        x = x.mean(axis=1)
    if sr != ANALYSIS_RATE:
        g = math.gcd(int(sr), ANALYSIS_RATE)
        x = resample_poly(x, ANALYSIS_RATE // g, int(sr) // g)
    if len(x) < ANALYSIS_RATE // 20:
        x = np.concatenate([x, np.zeros(ANALYSIS_RATE // 20 - len(x))])
    f0, t = pyworld.harvest(
        np.ascontiguousarray(x),
        ANALYSIS_RATE,
        f0_floor=F0_FLOOR,
        f0_ceil=F0_CEIL,
        frame_period=frame_ms,
    )
    return t, f0


def _cents(f0: float, midi: float) -> float:
    return 1200.0 * math.log2(f0 / (440.0 * 2.0 ** ((midi - 69.0) / 12.0)))


def note_pitch_errors(audio: np.ndarray, sr: int, notes: Sequence[SungNote]) -> np.ndarray:
    """Sung minus written pitch, in cents, per note (NaN where the note is not voiced).

    A note's sung pitch is the median HARVEST F0 over the middle 60% of the note, which
    leaves out the portamento at both ends and averages the vibrato out.
    """
    t, f0 = harvest(audio, sr)
    out = np.full(len(notes), np.nan)
    for i, note in enumerate(notes):
        d = note.end - note.start
        sel = (t >= note.start + 0.2 * d) & (t <= note.end - 0.2 * d) & (f0 > 0)
        if sel.any():
            out[i] = _cents(float(np.median(f0[sel])), note.pitch)
    return out


def _starts_voicing(syl: SungSyllable) -> bool:
    """Whether voicing should begin with this syllable's vowel: its onset is voiceless."""
    return plan(syl.phones).unvoiced_onset


def _periodic(
    x: np.ndarray, sr: int, centers: np.ndarray, hz: float, floor_rms: float
) -> np.ndarray:
    """Per center sample: is the signal around it periodic at ``hz`` (+/-1 semitone) and loud?

    Normalised autocorrelation over a centred window of two periods (at least 8 ms) at the
    best lag near the period; periodic when it is >= 0.5 and the window's RMS is above
    ``floor_rms``.
    """
    period = sr / hz
    lags = np.arange(int(period * 2 ** (-1 / 12)), math.ceil(period * 2 ** (1 / 12)) + 1)
    width = max(int(2 * period), int(0.008 * sr))
    out = np.zeros(len(centers), dtype=bool)
    for i, c in enumerate(centers):
        a = int(c) - width // 2
        if a < 0 or a + width + lags[-1] > len(x):
            continue
        head = x[a : a + width]
        e0 = float(head @ head)
        if e0 / width < floor_rms**2:
            continue
        frames = np.lib.stride_tricks.sliding_window_view(
            x[a + lags[0] : a + lags[-1] + width], width
        )
        dots = frames @ head
        energies = np.einsum("ij,ij->i", frames, frames)
        r = dots / np.sqrt(e0 * np.maximum(energies, 1e-20))
        out[i] = float(r.max()) >= 0.5
    return out


def vowel_onset_errors(audio: np.ndarray, sr: int, syllables: Sequence[SungSyllable]) -> np.ndarray:
    """Detected vowel onset minus note start, in seconds, for the syllables where it is defined.

    Measured on syllables whose vowel is where voicing starts: those whose onset ends in a
    voiceless consonant (``S T``, ``sh``...), and those with no onset consonant that follow
    a rest of at least 0.1 s. A syllable starting with a voiced consonant (``L``, ``m``) is
    left out: its voicing starts with the consonant, and telling the consonant from the vowel
    would need a phone recogniser.

    Detection is score-informed: at 1 ms steps, the signal counts as voiced where it is
    periodic at the note's pitch (normalised autocorrelation >= 0.5 at a lag within a
    semitone of the note's period, over a centred window of two periods, at least 8 ms) and
    no more than 30 dB under the vowel's level (the RMS of the note's middle). From a point
    inside the vowel (the note start plus half the note, at most 80 ms) it walks back while
    voiced; the onset is the first voiced step of that run. HARVEST is not used here: it
    bridges unvoiced gaps of ~50 ms, as a stop closure with its burst between two vowels is.
    The window makes the detector early by up to ~4 ms. A note not voiced at that point gives
    NaN. Results are in time order, one per measured syllable.
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim > 1:
        x = x.mean(axis=1)
    order = sorted(syllables, key=lambda s: s.notes[0].start)
    out: list[float] = []
    prev_end = -math.inf
    step = sr // 1000
    for syl in order:
        start = syl.notes[0].start
        after_rest = start - prev_end >= REST_BEFORE
        prev_end = syl.notes[-1].end
        if not (_starts_voicing(syl) or (not syl.phones.onset and after_rest)):
            continue
        first = syl.notes[0]
        d = first.end - first.start
        middle = x[int((first.start + 0.3 * d) * sr) : int((first.start + 0.7 * d) * sr)]
        ref = float(np.sqrt(np.mean(middle**2))) if len(middle) else 0.0
        hz = 440.0 * 2.0 ** ((first.pitch - 69.0) / 12.0)
        probe = int((start + min(0.5 * d, 0.08)) * sr)
        centers = np.arange(max(0, int((start - 0.3) * sr)), probe + 1, step)
        voiced = _periodic(x, sr, centers, hz, ref * 10 ** (-30 / 20))
        if ref <= 0 or len(centers) == 0 or not voiced[-1]:
            out.append(math.nan)
            continue
        k = len(centers) - 1
        while k > 0 and voiced[k - 1]:
            k -= 1
        out.append(centers[k] / sr - start)
    return np.asarray(out, dtype=np.float64)


def max_step(audio: np.ndarray) -> float:
    """The largest jump between consecutive samples (a click shows up as an outlier here)."""
    x = np.asarray(audio, dtype=np.float64).ravel()
    return float(np.max(np.abs(np.diff(x)))) if len(x) > 1 else 0.0


def voiced_in_spans(
    audio: np.ndarray, sr: int, spans: Sequence[tuple[float, float]], min_voiced: float = 0.03
) -> list[bool]:
    """Whether each (start, end) span (s) holds voiced sound: at least ``min_voiced`` seconds
    (or a third of a shorter span) of HARVEST-voiced frames, at more than -50 dBFS."""
    t, f0 = harvest(audio, sr)
    x = np.asarray(audio, dtype=np.float64)
    hop = FRAME_MS / 1000.0
    out = []
    for start, end in spans:
        sel = (t >= start) & (t < end) & (f0 > 0)
        need = min(min_voiced, (end - start) / 3.0)
        segment = x[int(max(0.0, start) * sr) : int(max(0.0, end) * sr)]
        loud = len(segment) > 0 and float(np.sqrt(np.mean(segment**2))) > 10 ** (-50 / 20)
        out.append(bool(loud and sel.sum() * hop >= need))
    return out
