"""Measurements on rendered audio: tempo, key, length and loudness, with librosa.

librosa is an optional dependency (the ``eval`` extra) and is imported only inside the
functions that need it. Its first use in a fresh environment compiles numba code (~1 min).

* Tempo. :func:`estimate_tempo` is librosa's global tempo estimate (autocorrelation of the
  onset envelope); its lag grid is coarse (about 2-5 % between neighbouring tempi), too coarse
  for a 2 % check. :func:`beat_tempo` therefore tracks the beats (dynamic programming on the
  onset envelope, Ellis 2007) and fits a straight line to beat time vs beat number: the slope
  averages the frame quantisation of the individual beats away. Beat trackers often lock to
  half or double the written tempo ("octave errors"): :func:`tempo_check` reports the raw
  estimate, whether it is within the tolerance of the stated tempo, and separately whether it
  is within the tolerance of twice or half of it.
* Key: mean constant-Q chroma correlated with the 24 rotations of the Krumhansl-Kessler key
  profiles (Krumhansl 1990, "Cognitive Foundations of Musical Pitch").
* Loudness: ITU-R BS.1770 integrated loudness (pyloudnorm) and sample peak.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overture.theory import Key, key_from_profile

ANALYSIS_RATE = 22050
HOP = 256


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Mean of the channels of a ``(frames, channels)`` array (a 1-D array is returned as is)."""
    a = np.asarray(audio, np.float32)
    return a if a.ndim == 1 else a.mean(axis=1)


def estimate_tempo(mono: np.ndarray, sr: int) -> float:
    """librosa's global tempo estimate in BPM (median aggregate over the onset envelope)."""
    import librosa

    onset = librosa.onset.onset_strength(y=mono, sr=sr)
    return float(librosa.feature.tempo(onset_envelope=onset, sr=sr, aggregate=np.median)[0])


def beat_tempo(mono: np.ndarray, sr: int) -> tuple[float, np.ndarray]:
    """(BPM, beat times in seconds) from beat tracking and a line fit to the beat times.

    NaN BPM when fewer than four beats are found.
    """
    import librosa

    onset = librosa.onset.onset_strength(y=mono, sr=sr, hop_length=HOP)
    _, frames = librosa.beat.beat_track(onset_envelope=onset, sr=sr, hop_length=HOP)
    times = librosa.frames_to_time(np.asarray(frames), sr=sr, hop_length=HOP)
    if len(times) < 4:
        return math.nan, times
    ibi = np.diff(times)
    median = float(np.median(ibi))
    # Beat numbers from the spacing, so that a skipped or doubled beat does not bend the fit.
    index = np.concatenate([[0], np.cumsum(np.maximum(1, np.rint(ibi / median)))])
    slope = float(np.polyfit(index, times, 1)[0])
    return (60.0 / slope if slope > 0 else math.nan), times


def estimate_key(mono: np.ndarray, sr: int) -> tuple[int, str]:
    """(tonic pitch class, mode) by correlating mean chroma with the key profiles."""
    import librosa

    key = key_from_profile(librosa.feature.chroma_cqt(y=mono, sr=sr).mean(axis=1))
    return key.tonic, key.mode


def loudness(audio: np.ndarray, sr: int) -> tuple[float, float]:
    """(integrated loudness in LUFS, sample peak in dBFS) of ``(frames, channels)`` audio."""
    import pyloudnorm

    a = np.asarray(audio, np.float64)
    peak = float(np.abs(a).max()) if a.size else 0.0
    peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
    if len(a) < int(0.4 * sr):  # shorter than one gating block
        return -math.inf, peak_db
    return float(pyloudnorm.Meter(sr).integrated_loudness(a)), peak_db


def tempo_check(estimate: float, stated: float, tolerance: float = 0.02) -> dict[str, Any]:
    """Is ``estimate`` within ``tolerance`` of ``stated``; and, separately, of 2x or 0.5x?"""
    if not (math.isfinite(estimate) and stated > 0):
        return {"estimate": estimate, "ok": False, "octave_ok": False, "ratio": math.nan}
    ratio = estimate / stated
    ok = abs(ratio - 1.0) <= tolerance
    octave = any(abs(ratio / f - 1.0) <= tolerance for f in (2.0, 0.5))
    return {"estimate": estimate, "ok": ok, "octave_ok": (not ok) and octave, "ratio": ratio}


def key_match(found: tuple[int, str], expected: Key) -> str:
    """``"exact"``, ``"relative"`` (the relative major/minor) or ``"wrong"``."""
    tonic, mode = found
    if tonic == expected.tonic and mode == expected.mode:
        return "exact"
    rel = expected.relative
    if tonic == rel.tonic and mode == rel.mode:
        return "relative"
    return "wrong"


def duration_ok(actual: float, expected: float) -> bool:
    """Within 1 s or 2 % of ``expected``, whichever is larger."""
    return abs(actual - expected) <= max(1.0, 0.02 * expected)


@dataclass(slots=True)
class AudioAnalysis:
    """What :func:`analyse_audio` measures in one file."""

    duration: float  # seconds, from the file's frame count
    tempo: float  # BPM from beat tracking
    tempo_global: float  # librosa's global tempo estimate, for reference
    key_tonic: int
    key_mode: str
    loudness_lufs: float
    peak_dbfs: float

    @property
    def key_name(self) -> str:
        return Key(self.key_tonic, "minor" if self.key_mode == "minor" else "major").name

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["key"] = self.key_name
        return d


def analyse_audio(path: str | Path) -> AudioAnalysis:
    """Read ``path`` and measure its length, tempo, key and loudness."""
    import librosa

    from overture.audio import read_audio

    audio, sr = read_audio(Path(path))
    duration = len(audio) / sr
    lufs, peak = loudness(audio, sr)
    mono = to_mono(audio)
    if sr != ANALYSIS_RATE:
        mono = librosa.resample(mono, orig_sr=sr, target_sr=ANALYSIS_RATE)
    bpm, _ = beat_tempo(mono, ANALYSIS_RATE)
    tonic, mode = estimate_key(mono, ANALYSIS_RATE)
    return AudioAnalysis(
        duration=duration,
        tempo=bpm,
        tempo_global=estimate_tempo(mono, ANALYSIS_RATE),
        key_tonic=tonic,
        key_mode=mode,
        loudness_lufs=lufs,
        peak_dbfs=peak,
    )
