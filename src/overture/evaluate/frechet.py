"""A Fréchet distance between sets of melodies, over a small interpretable feature vector.

The Fréchet distance between two Gaussians fitted to two sets of feature vectors (as in
"GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", Heusel
et al., NeurIPS 2017, the FID) is

    FD = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

There is no pretrained melody embedding to use offline, so each melody is described by the
hand-made features below, and every feature is standardised with the *human* set's mean and
standard deviation before the distance is taken: FD is then in units of "human standard
deviations squared", no feature dominates because of its unit, and FD(human, human) = 0.
A missing value (a melody too short for the feature) is replaced by the human mean.

Features, and why each is there (every one separates melodies that listeners hear as
different and that a weak generator tends to get wrong):

* ``pitch_class_entropy``: how many pitch classes are used, and how evenly; tonal focus;
* ``scale_consistency``: best fit to one major/minor scale; random chromatic notes drop it;
* ``interval_mean``, ``interval_sd``: size and variety of melodic motion (|interval|);
* ``step_ratio`` (1-2 semitones), ``leap_ratio`` (>= 5 semitones), ``repeat_ratio`` (0):
  conjunct vs disjunct motion, the strongest style marker of folk and pop tunes;
* ``direction_change_ratio``: share of turns among consecutive non-zero intervals; human
  lines move in arches and runs, random and first-order Markov lines zig-zag;
* ``pitch_range``: ambitus in semitones;
* ``notes_per_bar``: rhythmic density;
* ``duration_mean``, ``duration_sd``, ``duration_entropy``: rhythmic values and their variety
  (entropy in bits over durations on a 1/12-beat grid);
* ``groove_consistency``: MusPy's bar-to-bar onset-pattern agreement; repetition of rhythm.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import linalg

from overture.evaluate.metrics import (
    Notes,
    groove_consistency,
    pitch_class_entropy,
    scale_consistency,
)

FEATURE_NAMES: tuple[str, ...] = (
    "pitch_class_entropy",
    "scale_consistency",
    "interval_mean",
    "interval_sd",
    "step_ratio",
    "leap_ratio",
    "repeat_ratio",
    "direction_change_ratio",
    "pitch_range",
    "notes_per_bar",
    "duration_mean",
    "duration_sd",
    "duration_entropy",
    "groove_consistency",
)


def _entropy_bits(values: np.ndarray) -> float:
    if len(values) == 0:
        return math.nan
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def piece_features(notes: Notes) -> np.ndarray:
    """The feature vector of one melody, in the order of :data:`FEATURE_NAMES`."""
    nan = math.nan
    pitches = np.asarray(notes.pitches, float)
    durations = np.asarray(notes.durations, float)
    iv = np.diff(pitches)
    a = np.abs(iv)
    moving = np.sign(iv[iv != 0])
    turns = float(np.mean(moving[1:] != moving[:-1])) if len(moving) > 1 else nan
    n_bars = notes.n_bars
    values = {
        "pitch_class_entropy": pitch_class_entropy(notes),
        "scale_consistency": scale_consistency(notes),
        "interval_mean": float(a.mean()) if len(a) else nan,
        "interval_sd": float(a.std()) if len(a) else nan,
        "step_ratio": float(np.mean((a >= 1) & (a <= 2))) if len(a) else nan,
        "leap_ratio": float(np.mean(a >= 5)) if len(a) else nan,
        "repeat_ratio": float(np.mean(a == 0)) if len(a) else nan,
        "direction_change_ratio": turns,
        "pitch_range": float(pitches.max() - pitches.min()) if len(pitches) else nan,
        "notes_per_bar": len(pitches) / n_bars if n_bars else nan,
        "duration_mean": float(durations.mean()) if len(durations) else nan,
        "duration_sd": float(durations.std()) if len(durations) else nan,
        "duration_entropy": _entropy_bits(np.rint(durations * 12)),
        "groove_consistency": groove_consistency(notes),
    }
    return np.array([values[name] for name in FEATURE_NAMES], float)


def feature_table(melodies: Sequence[Notes]) -> np.ndarray:
    """(melodies, features) matrix of :func:`piece_features`."""
    if not melodies:
        return np.zeros((0, len(FEATURE_NAMES)))
    return np.vstack([piece_features(m) for m in melodies])


def frechet_distance(
    mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """Fréchet distance between N(mu_a, cov_a) and N(mu_b, cov_b)."""
    mu_a, mu_b = np.atleast_1d(mu_a).astype(float), np.atleast_1d(mu_b).astype(float)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(float), np.atleast_2d(cov_b).astype(float)
    diff = mu_a - mu_b
    with warnings.catch_warnings():
        # Few melodies give a singular covariance; sqrtm warns but its result is usable.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(covmean).all():
            # Nearly singular product: offset both diagonals slightly (as common FID code does).
            offset = np.eye(len(cov_a)) * 1e-6
            covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = np.real(covmean)
    fd = float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(covmean))
    return max(fd, 0.0)


def standardise(x: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both matrices standardised by ``reference``'s column mean and sd (NaN -> its mean)."""
    x = np.asarray(x, float)
    reference = np.asarray(reference, float)
    mean = np.nanmean(reference, axis=0)
    sd = np.nanstd(reference, axis=0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    sd = np.where(np.isfinite(sd) & (sd > 1e-9), sd, 1.0)

    def z(m: np.ndarray) -> np.ndarray:
        out = (m - mean) / sd
        return np.where(np.isfinite(out), out, 0.0)

    return z(x), z(reference)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = x.mean(axis=0)
    cov = np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
    return mu, np.atleast_2d(cov)


def frechet_features(x: np.ndarray, reference: np.ndarray) -> float:
    """FD between two feature matrices, standardised by ``reference`` (the human set)."""
    if len(x) == 0 or len(reference) == 0:
        return math.nan
    zx, zr = standardise(x, reference)
    mu_x, cov_x = _moments(zx)
    mu_r, cov_r = _moments(zr)
    return frechet_distance(mu_x, cov_x, mu_r, cov_r)


def mean_shift(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per feature, the mean of ``x`` in the reference's standard deviations from its mean:
    which features make up the mean term of the distance."""
    x = np.asarray(x, float)
    if len(x) == 0 or len(reference) == 0:
        return np.full(x.shape[1] if x.ndim == 2 else len(FEATURE_NAMES), np.nan)
    zx, _ = standardise(x, reference)
    return zx.mean(axis=0)


def melody_frechet(generated: Sequence[Notes], reference: Sequence[Notes]) -> float:
    """FD between two sets of melodies over :data:`FEATURE_NAMES`, in human-sd units."""
    return frechet_features(feature_table(generated), feature_table(reference))
