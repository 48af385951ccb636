"""The audio critics: does the rendered song say what the plan says, and is it mixed well?

numpy only (librosa is an optional extra whose cold import costs seconds). Nothing is
resampled: the spectral measures read short frames taken every half second from the 44.1 kHz
arrays through strided views (a sample of the song is plenty for averages and level
comparisons), and only the onset envelope for the tempo reads every sample. The song is
analysed once (:func:`analyse`) for both critics; a 180 s song costs about half a second.

``adherence`` (does the audio match the plan):

* tempo: the onset envelope (log-compressed spectral flux, Müller, *Fundamentals of Music
  Processing*, 6.1) gives a tempo salience that multiplies its Fourier tempogram (which peaks
  at the tempo and its multiples) by its autocorrelation (which peaks at the tempo and its
  fractions), so that the pulse itself is strong in both (Peeters 2007, "Template-based
  estimation of time-varying tempo"). The stated tempo passes when it, its double or its half
  (the same pulse felt at another metrical level) is the strongest; an unrelated tempo being
  the strongest fails in proportion to how weak the stated one is;
* key: a chroma vector (spectral magnitude folded onto pitch classes, 55-700 Hz) of the
  pitched stems (the mix without its drums) against the Krumhansl-Kessler profiles by
  :func:`overture.theory.key_from_profile`; the stated key or its relative pass;
* duration against ``plan.duration`` (1 s or 2 %, :func:`overture.evaluate.audio.duration_ok`),
  loudness against -14 LUFS and the true peak at or below -1 dBTP (the master's own
  measurement, re-measured by :mod:`overture.render.master` when it does not match the audio);
* spectral balance: the share of energy in five bands within ranges wide enough for any
  mastered popular music (Pestana et al. 2013, "Spectral characteristics of popular commercial
  recordings 1950-2010": the long-term spectrum falls steadily above ~100 Hz);
* presence: each instrument the prompt asked for (every part, when it asked for none) is
  audible, within 30 dB of the mix, in every section where the plan has it play.

``mix`` (is it mixed well):

* masking: the share of the lead's energy in 200 Hz-4 kHz (third-octave bands, frame by
  frame) where the other pitched parts together are louder than it;
* low-end build-up: the share of the mix below 150 Hz, and how much of that comes from parts
  other than the bass and drums;
* clipping: samples at or over full scale in the mix or the mastered song;
* silence: stretches of two seconds (or a bar) below -60 dBFS where the plan has music.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.lib.stride_tricks import as_strided

from overture.critique.context import TUNE_PARTS
from overture.critique.verdict import Verdict, clamp01, make_verdict
from overture.plan import Plan
from overture.render.song import RenderResult
from overture.score import Score
from overture.theory import MAJOR_PROFILE, MINOR_PROFILE, Key, key_from_profile

ADHERENCE_WEIGHTS = {
    "tempo": 0.2,
    "key": 0.2,
    "duration": 0.15,
    "loudness": 0.15,
    "balance": 0.15,
    "presence": 0.15,
}
MIX_WEIGHTS = {"masking": 0.3, "low_end": 0.2, "clipping": 0.25, "silence": 0.25}

TARGET_LUFS = -14.0
LUFS_TOLERANCE = 1.0
TRUE_PEAK_CEILING = -1.0
TEMPO_TOLERANCE = 0.03
FULL_SCALE = 0.999
SILENCE_DB = -60.0
SILENCE_MIN_S = 2.0
PRESENCE_DB = -30.0  # an instrument this far under the mix is inaudible in practice
LOW_HZ = 150.0
MASK_BAND = (200.0, 4000.0)
MASKED_OK = 0.15  # the lead may be covered in a sixth of its energy (fills, long chords)
BASS_HEAVY = frozenset({"hip hop", "trap", "edm", "drum and bass", "reggae", "lo-fi"})
# Band edges (Hz) and the sane range of each band's share of the energy of a mastered song.
BANDS: dict[str, tuple[float, float, float, float]] = {
    "sub": (20.0, 60.0, 0.0, 0.35),
    "bass": (60.0, 250.0, 0.08, 0.7),
    "low_mid": (250.0, 2000.0, 0.08, 0.75),
    "high_mid": (2000.0, 6000.0, 0.005, 0.3),
    "air": (6000.0, 16000.0, 0.0002, 0.15),
}
FRAME_S = 0.093  # analysis frame (4096 samples at 44.1 kHz: 10.8 Hz bins)
KEY_FRAME_S = 0.37  # chroma frame (16384 samples: 2.7 Hz bins, a semitone apart at 55 Hz)
HOP_S = 0.5  # one frame every half second
# Fundamentals of the bass, the chords and most of the melody (A1-F5); above that the upper
# partials (the third harmonic is a fifth up) pull the chroma towards the dominant key, as
# measured on the calibration renders (a D minor rock song read as A minor with 1 kHz).
CHROMA_HZ = (55.0, 700.0)
KEY_TIE = 0.02  # the stated key explains the chroma as well as the best one, within this
BLOCK_S = 0.1  # level blocks for silence
_MAX_PEAK_MISMATCH = 1e-3


# ------------------------------------------------------------------------------ signal bits


def frames_first(audio: np.ndarray) -> np.ndarray:
    """``audio`` as ``(frames, channels)``; accepts planar ``(channels, frames)`` and mono."""
    a = np.asarray(audio)
    if a.ndim == 1:
        return a[:, None]
    if a.shape[0] <= 8 and a.shape[1] > a.shape[0]:
        return a.T
    return a


def mono(audio: np.ndarray) -> np.ndarray:
    a = frames_first(audio)
    out = np.array(a[:, 0], dtype=np.float32)
    for c in range(1, a.shape[1]):
        out += a[:, c]
    return out / np.float32(a.shape[1]) if a.shape[1] > 1 else out


def frame_matrix(audio: np.ndarray, *, n_fft: int, hop: int) -> np.ndarray:
    """Mono frames ``(count, n_fft)`` starting every ``hop`` samples, read through strided
    views of each channel (no copy of the song, only of the frames)."""
    a = frames_first(audio)
    if a.shape[0] < n_fft:
        a = np.pad(np.asarray(a, dtype=np.float32), ((0, n_fft - a.shape[0]), (0, 0)))
    count = (a.shape[0] - n_fft) // hop + 1
    out: np.ndarray | None = None
    for c in range(a.shape[1]):
        x = a[:, c]
        view = as_strided(
            x, shape=(count, n_fft), strides=(hop * x.strides[0], x.strides[0]), writeable=False
        )
        if out is None:
            out = np.array(view, dtype=np.float32)
        else:
            out += view
    assert out is not None
    return out / np.float32(a.shape[1]) if a.shape[1] > 1 else out


def power_spectra(frames: np.ndarray) -> np.ndarray:
    """Power spectra of Hann-windowed frames."""
    spec = np.fft.rfft(frames * np.hanning(frames.shape[1]).astype(np.float32), axis=1)
    return (spec.real**2 + spec.imag**2).astype(np.float32)


def block_power(audio: np.ndarray, sr: int, block_s: float = BLOCK_S) -> np.ndarray:
    """Mean square of consecutive ``block_s`` blocks of the mono signal, read at every 4th
    sample: a level for each tenth of a second."""
    x = frames_first(audio)
    step = 4
    blk = max(1, round(block_s * sr) // step)
    nb = x.shape[0] // (blk * step)
    if nb == 0:
        return np.zeros(0, dtype=np.float64)
    total = np.zeros(nb, dtype=np.float64)
    for c in range(x.shape[1]):
        v = np.asarray(x[: nb * blk * step : step, c], dtype=np.float32).reshape(nb, blk)
        total += np.einsum("ij,ij->i", v, v) / blk
    return total / x.shape[1]


def _db(power: float | np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def _peak(audio: np.ndarray) -> float:
    a = frames_first(audio)
    return float(max(a.max(), -a.min())) if a.size else 0.0


def onset_envelope(x: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """(novelty curve, its frame rate): log-compressed spectral flux below 6 kHz, with its
    local mean removed, of the mono signal ``x`` (1024-sample frames, 11.6 ms hop)."""
    n_fft = 1024 if sr <= 48000 else 2048
    hop = n_fft // 2
    rate = sr / hop
    top = min(n_fft // 2 + 1, int(6000 * n_fft / sr) + 1)
    if len(x) < n_fft + 4 * hop:
        return np.zeros(0), rate
    frames = as_strided(
        x,
        shape=((len(x) - n_fft) // hop + 1, n_fft),
        strides=(hop * x.strides[0], x.strides[0]),
        writeable=False,
    )
    window = np.hanning(n_fft).astype(np.float32)
    n = frames.shape[0]
    flux = np.zeros(n, dtype=np.float32)
    prev: np.ndarray | None = None
    for c0 in range(0, n, 4096):
        mag = np.abs(np.fft.rfft(frames[c0 : c0 + 4096] * window, axis=1)[:, :top])
        logmag = np.log1p(100.0 * mag).astype(np.float32)
        stack = np.vstack([logmag[:1] if prev is None else prev, logmag])
        flux[c0 : c0 + len(logmag)] = np.maximum(np.diff(stack, axis=0), 0.0).sum(axis=1)
        prev = logmag[-1:]
    w = max(1, round(0.5 * rate))
    local = np.convolve(flux, np.ones(w, dtype=np.float32) / w, mode="same")
    return np.maximum(flux - local, 0.0), rate


def tempo_salience(novelty: np.ndarray, rate: float, bpm: np.ndarray) -> np.ndarray:
    """Salience of each tempo in ``bpm``: Fourier tempogram x autocorrelation of the whole
    novelty curve, each normalised to its maximum over 30-300 BPM."""
    n = len(novelty)
    if n < 8 or not np.any(novelty > 0):
        return np.zeros(len(bpm))
    x = novelty - novelty.mean()
    size = 1 << max(16, math.ceil(math.log2(2 * n)))
    spec = np.fft.rfft(x, size)
    mag = np.abs(spec)
    acf = np.fft.irfft(spec * np.conj(spec), size)[:n]
    acf = np.maximum(acf / acf[0], 0.0) if acf[0] > 0 else np.zeros(n)
    bins, lags = np.arange(len(mag)), np.arange(n)

    def dft(t: np.ndarray) -> np.ndarray:
        return np.interp(t / 60.0 * size / rate, bins, mag)

    def ac(t: np.ndarray) -> np.ndarray:
        return np.interp(rate * 60.0 / t, lags, acf)

    ref = np.linspace(30.0, 300.0, 1081)
    return (dft(bpm) / max(dft(ref).max(), 1e-12)) * (ac(bpm) / max(ac(ref).max(), 1e-12))


@dataclass(frozen=True, slots=True)
class TempoEstimate:
    """The strongest tempo (40-240 BPM) and how strong the stated one is beside it."""

    best_bpm: float
    stated_strength: float  # the stated tempo's family's salience / the best's, 0..1
    same_pulse: bool  # the best is the stated tempo, its double or its half


def estimate_tempo(novelty: np.ndarray, rate: float, stated: float) -> TempoEstimate:
    grid = np.arange(40.0, 240.01, 0.25)
    sal = tempo_salience(novelty, rate, grid)
    if not np.any(sal > 0):
        return TempoEstimate(math.nan, 0.0, False)
    best = float(grid[int(np.argmax(sal))])
    family = (1.0, 2.0, 0.5)
    near = np.concatenate([stated * f * (1.0 + np.linspace(-0.01, 0.01, 9)) for f in family])
    strength = clamp01(float(tempo_salience(novelty, rate, near).max()) / float(sal.max()))
    same = any(abs(best / (stated * f) - 1.0) <= TEMPO_TOLERANCE for f in family)
    return TempoEstimate(best, strength, same)


def chroma(spectra: np.ndarray, sr: int, n_fft: int) -> np.ndarray:
    """Mean chroma (C first) of power spectra: the magnitude of each bin from 55 to 700 Hz
    is folded onto its pitch class with a triangular weight (1 at the semitone, 0 half a
    semitone off); each frame is normalised so that loud passages do not outvote the rest."""
    freqs = np.arange(spectra.shape[1]) * sr / n_fft
    use = (freqs >= CHROMA_HZ[0]) & (freqs <= CHROMA_HZ[1])
    midi = 69.0 + 12.0 * np.log2(freqs[use] / 440.0)
    near = np.rint(midi)
    fold = np.zeros((int(use.sum()), 12), dtype=np.float32)
    fold[np.arange(len(near)), near.astype(int) % 12] = np.maximum(0.0, 1 - 2 * abs(midi - near))
    c = np.sqrt(spectra[:, use]) @ fold
    norm = c.sum(axis=1)
    keep = norm > 1e-9
    return (c[keep] / norm[keep, None]).mean(axis=0) if np.any(keep) else np.zeros(12)


def profile_correlation(weights: Sequence[float], key: Key) -> float:
    """Correlation of a pitch-class weighting with ``key``'s Krumhansl-Kessler profile."""
    profile = MAJOR_PROFILE if key.mode == "major" else MINOR_PROFILE
    rotated = np.array([profile[(pc - key.tonic) % 12] for pc in range(12)])
    w = np.asarray(weights, dtype=float)
    return float(np.corrcoef(w, rotated)[0, 1]) if w.std() > 0 else -1.0


def band_shares(power: np.ndarray, sr: int, n_fft: int) -> dict[str, float]:
    """Share of the power from 20 Hz up in each of ``BANDS``."""
    freqs = np.arange(len(power)) * sr / n_fft
    total = float(power[freqs >= 20.0].sum())
    return {
        name: float(power[(freqs >= lo) & (freqs < hi)].sum()) / total if total > 0 else 0.0
        for name, (lo, hi, _, _) in BANDS.items()
    }


# ------------------------------------------------------------------------------- analysis


@dataclass(slots=True)
class Stem:
    name: str  # part name
    instrument: str
    is_drums: bool
    power: np.ndarray  # frame power spectra (frames, bins)


@dataclass(slots=True)
class AudioAnalysis:
    """Everything the two audio critics measure, computed once per render."""

    sr: int
    length_s: float
    n_fft: int
    hop_s: float
    stems: list[Stem]
    mix_power: np.ndarray  # frame power spectra of the mix
    mastered_power: np.ndarray  # ... and of the mastered song
    mastered_blocks: np.ndarray  # level of every 0.1 s block of the mastered song
    chroma: np.ndarray  # 12 pitch-class weights of the pitched parts
    novelty: np.ndarray
    novelty_rate: float
    peaks: dict[str, float]  # sample peak of "mix" and "mastered"


def analyse(score: Score, render: RenderResult) -> AudioAnalysis:
    """Measure ``render`` once: spectra of every stem, the mix and the master, levels, chroma
    and the onset envelope."""
    from overture.render.song import stem_names

    sr = render.sample_rate
    n_fft = 1 << round(math.log2(sr * FRAME_S))
    hop = round(HOP_S * sr)
    stems = []
    drums: list[np.ndarray] = []
    for part, name in zip(score.parts, stem_names(score), strict=True):
        audio = render.stems.get(name, render.stems.get(part.name))
        if audio is None:
            continue
        spectra = power_spectra(frame_matrix(audio, n_fft=n_fft, hop=hop))
        stems.append(Stem(part.name, part.instrument, part.is_drums, spectra))
        if part.is_drums:
            drums.append(audio)
    mastered = frames_first(render.mastered)
    # The key from the pitched parts: the mix minus its drum stems, frame by frame.
    n_key = 1 << round(math.log2(sr * KEY_FRAME_S))
    key_frames = frame_matrix(render.mix if stems else mastered, n_fft=n_key, hop=hop)
    for d in drums:
        key_frames -= frame_matrix(d, n_fft=n_key, hop=hop)[: len(key_frames)]
    novelty, rate = onset_envelope(mono(mastered), sr)
    return AudioAnalysis(
        sr=sr,
        length_s=mastered.shape[0] / sr,
        n_fft=n_fft,
        hop_s=hop / sr,
        stems=stems,
        mix_power=power_spectra(frame_matrix(render.mix, n_fft=n_fft, hop=hop)),
        mastered_power=power_spectra(frame_matrix(mastered, n_fft=n_fft, hop=hop)),
        mastered_blocks=block_power(mastered, sr),
        chroma=chroma(power_spectra(key_frames), sr, n_key),
        novelty=novelty,
        novelty_rate=rate,
        peaks={"mix": _peak(render.mix), "mastered": _peak(mastered)},
    )


def section_spans(plan: Plan, length_s: float) -> list[tuple[str, float, float]]:
    """(id, start s, end s) of each section, the last ending where the music does."""
    music_end = min(length_s, plan.end_beat * 60.0 / plan.tempo)
    out = []
    for s in plan.sections:
        start = plan.bar_time(s.start_bar)
        end = music_end if s is plan.sections[-1] else min(music_end, plan.bar_time(s.end_bar))
        if end > start:
            out.append((s.id, start, end))
    return out


# ------------------------------------------------------------------------------ adherence

Part = tuple[float, list[str], dict[str, float]]


def tempo_part(plan: Plan, a: AudioAnalysis) -> Part:
    est = estimate_tempo(a.novelty, a.novelty_rate, plan.tempo)
    details = {
        "tempo_best_bpm": est.best_bpm,
        "tempo_stated_strength": est.stated_strength,
        "tempo_same_pulse": float(est.same_pulse),
    }
    if not math.isfinite(est.best_bpm):
        return 0.0, ["no pulse found in the audio"], details
    if est.same_pulse or est.stated_strength >= 0.9:
        return 1.0, [], details
    reason = (
        f"the strongest pulse is at {est.best_bpm:.0f} BPM, not the stated {plan.tempo:g} BPM "
        f"(which has {est.stated_strength:.0%} of its strength)"
    )
    return est.stated_strength, [reason], details


def key_part(plan: Plan, a: AudioAnalysis) -> Part:
    if not np.any(a.chroma > 0):
        return 0.0, ["no pitched sound to find a key in"], {}
    found = key_from_profile(a.chroma.tolist())
    best = profile_correlation(a.chroma, found)
    stated = profile_correlation(a.chroma, plan.key)
    rel = plan.key.relative
    exact = (found.tonic, found.mode) == (plan.key.tonic, plan.key.mode)
    relative = (found.tonic, found.mode) == (rel.tonic, rel.mode)
    details = {
        "key_exact": float(exact),
        "key_relative": float(relative),
        "key_corr_stated": stated,
        "key_corr_best": best,
    }
    if exact or relative or best - stated <= KEY_TIE:
        return 1.0, [], details
    reason = (
        f"the audio sounds in {found.name} (r={best:.2f}), not {plan.key.name} (r={stated:.2f})"
    )
    return 0.7 * clamp01(1.0 - (best - stated) / 0.6), [reason], details


def duration_part(plan: Plan, a: AudioAnalysis) -> Part:
    from overture.evaluate.audio import duration_ok

    err = abs(a.length_s - plan.duration)
    tol = max(1.0, 0.02 * plan.duration)
    if duration_ok(a.length_s, plan.duration):
        return 1.0, [], {"duration_s": a.length_s}
    reason = f"{a.length_s:.1f} s long, the plan says {plan.duration:g} s"
    return math.exp(-(err - tol) / (2 * tol)), [reason], {"duration_s": a.length_s}


def loudness_part(render: RenderResult, a: AudioAnalysis) -> Part:
    """The master's own report when it describes these samples; measured again otherwise."""
    rep = render.loudness
    peak = a.peaks["mastered"]
    if rep is None or abs(rep.sample_peak - peak) > _MAX_PEAK_MISMATCH * max(1.0, peak):
        from overture.render.master import measure_loudness

        rep = measure_loudness(render.mastered, a.sr)
    lufs, tp = rep.integrated_lufs, rep.true_peak_dbtp
    off = abs(lufs - TARGET_LUFS) if math.isfinite(lufs) else 99.0
    lufs_s = 1.0 if off <= LUFS_TOLERANCE else max(0.0, 1.0 - (off - LUFS_TOLERANCE) / 5.0)
    over = tp - TRUE_PEAK_CEILING
    tp_s = 1.0 if over <= 0.05 else max(0.0, 1.0 - over / 2.0)
    reasons = []
    if lufs_s < 1.0:
        reasons.append(f"integrated loudness {lufs:.1f} LUFS, the target is {TARGET_LUFS:g}")
    if tp_s < 1.0:
        reasons.append(f"true peak {tp:+.1f} dBTP is over the {TRUE_PEAK_CEILING:g} dBTP ceiling")
    return lufs_s * tp_s, reasons, {"lufs": lufs, "true_peak_dbtp": tp}


def balance_part(a: AudioAnalysis) -> Part:
    shares = band_shares(a.mastered_power.mean(axis=0), a.sr, a.n_fft)
    scores, reasons = [], []
    for name, (lo_hz, hi_hz, lo, hi) in BANDS.items():
        s = shares[name]
        if lo <= s <= hi:
            scores.append(1.0)
            continue
        bound = lo if s < lo else hi
        scores.append(0.5 ** abs(math.log2(max(s, 1e-9) / max(bound, 1e-9))))
        reasons.append(
            f"{'too little' if s < lo else 'too much'} energy at {lo_hz:g}-{hi_hz:g} Hz: "
            f"{s:.2%} of the mix, expected {lo:.2%}-{hi:.0%}"
        )
    return sum(scores) / len(scores), reasons, {f"band_{k}": v for k, v in shares.items()}


def presence_part(plan: Plan, a: AudioAnalysis) -> Part:
    asked = set(plan.spec.instruments)
    by_name = {s.name: s for s in a.stems}
    wanted = [p for p, inst in plan.parts.items() if inst in asked] or list(plan.parts)
    times = np.arange(len(a.mix_power)) * a.hop_s
    mix_level = a.mix_power.sum(axis=1)
    ok = total = 0
    reasons = []
    for part in wanted:
        stem = by_name.get(part)
        playing = [s.id for s in plan.sections if part in s.parts]
        spans = [(sid, t0, t1) for sid, t0, t1 in section_spans(plan, a.length_s) if sid in playing]
        if stem is None:
            total += max(1, len(spans))
            reasons.append(f"no stem for the {plan.parts[part]} ({part})")
            continue
        level = stem.power.sum(axis=1)
        for sid, t0, t1 in spans:
            inside = (times >= t0) & (times < t1)
            if not np.any(inside):
                continue
            total += 1
            mine, ref = float(level[inside].mean()), float(mix_level[inside].mean())
            rel = float(_db(mine) - _db(ref))
            if mine > 1e-6 and rel >= PRESENCE_DB:
                ok += 1
            else:
                reasons.append(
                    f"the {plan.parts[part]} ({part}) is inaudible in {sid} "
                    f"({rel:.0f} dB under the mix)"
                )
    score = ok / total if total else 1.0
    return score, reasons[:6], {"presence_checked": float(total), "presence_audible": float(ok)}


def adherence(
    plan: Plan, score: Score, render: RenderResult, analysis: AudioAnalysis | None = None
) -> Verdict:
    """The adherence verdict: tempo, key, duration, loudness, spectral balance, presence."""
    a = analysis if analysis is not None else analyse(score, render)
    results = {
        "tempo": tempo_part(plan, a),
        "key": key_part(plan, a),
        "duration": duration_part(plan, a),
        "loudness": loudness_part(render, a),
        "balance": balance_part(a),
        "presence": presence_part(plan, a),
    }
    return _verdict("adherence", results, ADHERENCE_WEIGHTS)


def _verdict(critic: str, results: dict[str, Part], weights: dict[str, float]) -> Verdict:
    parts = {k: r[0] for k, r in results.items()}
    reasons = [x for r in results.values() for x in r[1]]
    extra = {k: v for r in results.values() for k, v in r[2].items()}
    return make_verdict(critic, "audio", parts, weights, reasons, extra)


# ------------------------------------------------------------------------------------ mix


def third_octaves(power: np.ndarray, sr: int, n_fft: int) -> np.ndarray:
    """Per-frame power in third-octave bands across ``MASK_BAND``: ``(frames, bands)``."""
    freqs = np.arange(power.shape[1]) * sr / n_fft
    lo, hi = MASK_BAND
    edges = lo * 2.0 ** (np.arange(0, math.log2(hi / lo) + 1e-9, 1 / 3))
    edges = np.append(edges[edges < hi], hi)
    cols = [power[:, (freqs >= f0) & (freqs < f1)].sum(axis=1) for f0, f1 in pairwise(edges)]
    return np.stack(cols, axis=1)


def masking_part(a: AudioAnalysis) -> Part:
    """Share of the lead's 200 Hz-4 kHz energy in (frame, band) cells where the other pitched
    parts together are louder than it; the part that covers it most is named."""
    lead = next((s for name in TUNE_PARTS for s in a.stems if s.name == name), None)
    others = [s for s in a.stems if s is not lead and not s.is_drums]
    if lead is None or not others:
        return 1.0, [], {}
    e_lead = third_octaves(lead.power, a.sr, a.n_fft)
    total = float(e_lead.sum())
    if total <= 0:
        return 1.0, [], {"lead_masked_share": 0.0}
    bands = {s.name: third_octaves(s.power, a.sr, a.n_fft) for s in others}
    rest = np.sum(list(bands.values()), axis=0)
    masked = float(e_lead[rest > e_lead].sum()) / total
    worst = max(bands, key=lambda k: float(e_lead[bands[k] > e_lead].sum()))
    score = clamp01(1.0 - max(0.0, masked - MASKED_OK) / 0.6)
    reasons = []
    if score < 1.0:
        reasons.append(
            f"the lead is masked in {masked:.0%} of its 200 Hz-4 kHz energy, most by the {worst}"
        )
    details = {"lead_masked_share": masked}
    for name, e in bands.items():  # which part covers how much of the lead (for the fixer)
        details[f"masked_by.{name}"] = float(e_lead[e > e_lead].sum()) / total
    return score, reasons, details


def low_end_part(plan: Plan, a: AudioAnalysis) -> Part:
    """Low-end build-up: how much of the mix sits below 150 Hz, and whose it is."""
    freqs = np.arange(a.mix_power.shape[1]) * a.sr / a.n_fft
    audible = freqs >= 20.0
    low = audible & (freqs < LOW_HZ)
    mix = a.mix_power.mean(axis=0)
    share = float(mix[low].sum()) / max(1e-12, float(mix[audible].sum()))
    limit = 0.75 if plan.style.name in BASS_HEAVY else 0.6
    per = {s.name: float(s.power.mean(axis=0)[low].sum()) for s in a.stems}
    rhythm = {s.name for s in a.stems if s.is_drums or s.name == "bass"}
    others = {k: v for k, v in per.items() if k not in rhythm}
    other_share = sum(others.values()) / max(1e-12, sum(per.values()))
    s1 = 1.0 if share <= limit else max(0.0, 1.0 - (share - limit) / 0.25)
    s2 = 1.0 if other_share <= 0.3 else max(0.0, 1.0 - (other_share - 0.3) / 0.5)
    reasons = []
    if s1 < 1.0:
        reasons.append(f"{share:.0%} of the mix is below {LOW_HZ:g} Hz: the low end is boomy")
    if s2 < 1.0:
        top = max(others, key=lambda k: others[k])
        reasons.append(
            f"{other_share:.0%} of the energy below {LOW_HZ:g} Hz comes from parts other than "
            f"the bass and drums (most from the {top}): low-end build-up"
        )
    return s1 * s2, reasons, {"low_share": share, "low_other_share": other_share}


def clipping_part(render: RenderResult, a: AudioAnalysis) -> Part:
    """Samples at or over full scale in the mix and in the mastered song."""
    reasons, worst, details = [], 0, {}
    for label, audio in (("mix", render.mix), ("mastered", render.mastered)):
        count = 0
        if a.peaks[label] >= FULL_SCALE:
            x = frames_first(audio)
            hot = np.zeros(x.shape[0], dtype=bool)
            for c in range(x.shape[1]):
                hot |= np.abs(x[:, c]) >= FULL_SCALE
            count = int(np.count_nonzero(hot))
            first = int(np.argmax(hot)) / a.sr
            reasons.append(
                f"the {'mastered song' if label == 'mastered' else 'mix'} has {count:,} samples "
                f"at or over full scale (first at {first:.1f} s)"
            )
        details[f"clipped_{label}"] = float(count)
        worst = max(worst, count)
    score = 1.0 if worst == 0 else max(0.0, 1.0 - math.log10(1 + worst) / 3.0)
    return score, reasons, details


def silence_part(plan: Plan, a: AudioAnalysis) -> Part:
    """Stretches of at least two seconds (or a bar) below -60 dBFS inside the planned music."""
    spans = section_spans(plan, a.length_s)
    if not len(a.mastered_blocks):
        return 0.0, ["the song is empty"], {}
    if not spans:
        return 1.0, [], {}
    per_s = 1.0 / BLOCK_S
    music_end = spans[-1][2]
    quiet = (_db(a.mastered_blocks) < SILENCE_DB)[: int(music_end * per_s)]
    min_blocks = round(max(SILENCE_MIN_S, plan.bar_seconds) * per_s)
    runs, i = [], 0
    while i < len(quiet):
        if not quiet[i]:
            i += 1
            continue
        j = i
        while j < len(quiet) and quiet[j]:
            j += 1
        if j - i >= min_blocks:
            runs.append((i / per_s, j / per_s))
        i = j
    silent = sum(b - t for t, b in runs)
    share = silent / music_end if music_end > 0 else 0.0
    score = clamp01(1.0 - 3.0 * share - 0.15 * len(runs))
    reasons = []
    for t, b in runs[:4]:
        where = next((sid for sid, s0, s1 in spans if s0 <= t < s1), "")
        reasons.append(f"silence from {t:.1f} s to {b:.1f} s ({where}) where the plan has music")
    return score, reasons, {"silent_seconds": silent, "silent_runs": float(len(runs))}


def mix_critic(
    plan: Plan, score: Score, render: RenderResult, analysis: AudioAnalysis | None = None
) -> Verdict:
    """The mix verdict: masking, low-end build-up, clipping, silence."""
    a = analysis if analysis is not None else analyse(score, render)
    results = {
        "masking": masking_part(a),
        "low_end": low_end_part(plan, a),
        "clipping": clipping_part(render, a),
        "silence": silence_part(plan, a),
    }
    return _verdict("mix", results, MIX_WEIGHTS)
