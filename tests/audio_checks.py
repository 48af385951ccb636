"""Independent checks of rendered audio, with librosa (a test dependency only)."""

from __future__ import annotations

import numpy as np

# Krumhansl-Kessler key profiles (Krumhansl 1990, "Cognitive Foundations of Musical Pitch").
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_tempo(mono: np.ndarray, sr: int) -> float:
    import librosa

    onset = librosa.onset.onset_strength(y=mono, sr=sr)
    return float(librosa.feature.tempo(onset_envelope=onset, sr=sr, aggregate=np.median)[0])


def estimate_key(mono: np.ndarray, sr: int) -> tuple[int, str]:
    """(tonic pitch class, mode) by correlating mean chroma with the key profiles."""
    import librosa

    chroma = librosa.feature.chroma_cqt(y=mono, sr=sr).mean(axis=1)
    best = (-2.0, 0, "major")
    for tonic in range(12):
        for mode, profile in (("major", _MAJOR), ("minor", _MINOR)):
            r = float(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1])
            best = max(best, (r, tonic, mode))
    return best[1], best[2]
