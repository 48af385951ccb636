"""Singing: espeak-ng syllables re-timed and re-pitched by the WORLD vocoder, phrase by phrase.

1. Every distinct syllable is spoken once by espeak-ng (``espeak.py``, ~7 ms a syllable) and
   analysed (``analysis.py``, ~40 ms), in parallel threads: pyworld releases the GIL.
   Analyses are kept in a small cache across calls; the result never depends on it, because
   espeak-ng's speech is made reproducible (see ``_espeak_worker.py``).
2. Placement, in seconds: the vowel starts exactly on its note (singers place consonants
   before the beat so the vowel lands on it); the onset consonants end there at their spoken
   length; the coda and the next syllable's onset share the end of the note. When a note
   is too short for its consonants they are compressed so the vowel keeps at least half of
   it. A vowel longer than spoken plays its transitions at speech rate and sweeps its steady
   part slowly back and forth (a frozen frame repeated sounds like a buzzing synthesiser).
3. Parameter tracks on a 5 ms grid, per phrase (the syllables between rests): envelopes
   gathered from the syllables' frames with linear interpolation between frames, smoothed
   over +/-15 ms across syllable joins (a crossfade in the envelope domain); the F0 track is
   the notes' pitches with portamento, vibrato on long notes and a little seeded jitter.
   The envelope's frequency axis is warped per frame for the voice and the register (with
   formant tuning on high notes), and aperiodicity is raised for breathiness.
4. One ``pyworld.synthesize`` per phrase, directly at the output rate: the waveform is
   continuous by construction (no glued waveforms, so no clicks at joins); phrases are added
   into the output, with a quiet breath before each phrase that follows a rest. Vocoding at
   22050 Hz and resampling was measured too (``bench/voice.py --compare-rates``): no faster
   once the FFT is 1024 points at both rates, and it loses everything above 11 kHz (the
   breath noise there) and rings at the resampler's cutoff (larger sample steps).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from overture.voice import espeak
from overture.voice.analysis import FRAME, FRAME_MS, Unit, analyse, speaking_f0
from overture.voice.phonemes import Plan, plan
from overture.voice.types import SungNote, SungSyllable, VoiceError, VoiceSpec
from overture.voice.voices import espeak_voice, voice_spec

log = logging.getLogger(__name__)

REST_GAP = 0.3  # s: a silence this long between notes ends a phrase
RELEASE = 0.12  # s: a phrase-final open vowel rings on past its note, fading out
BREATH_MIN_REST = 0.4  # s of free time before a phrase needed to breathe audibly
BREATH_MAX = 0.32  # s
BREATH_DB = -32.0  # breath noise level relative to a sung vowel
MIN_VOWEL_SHARE = 0.5  # consonants may take at most half of a note...
MIN_VOWEL = 0.06  # ...and leave at least this much vowel (s)
ONSET_MAX = 0.14  # s: longer spoken onsets (espeak-ng's /w/, /l/, clusters) are compressed
CODA_MAX = 0.14  # s: espeak-ng lengthens word-final consonants; sung codas are short
CONSONANT_DB = -4.0  # voiceless consonants: espeak-ng's bursts and frication are loud
GLIDE = 0.07  # s of portamento between two notes (shorter between short notes)
SCOOP_CENTS = -20.0  # a phrase's first note starts this flat and slides up within ~70 ms
HOLD_PASS = 0.55  # s for one sweep through a held vowel's steady part
JOIN_FRAMES = 3  # envelope smoothing half-width at syllable joins (frames)
JITTER_CENTS = 3.0
DRIFT_CENTS = 3.0
OUTPUT_PEAK = 0.89  # ~ -1 dBFS
_GAIN = 0.45  # vocoder output to float: a sustained vowel at about -18 dBFS RMS, -6 dBFS peak
_AIR_HZ = 4000.0  # above this an aperiodic "air" floor is added to espeak-ng's dull top
_ROLLOFF_DB_PER_OCT = 18.0  # above the analysed band (11 kHz)
_TUNE_RATIO = 1.1  # formant tuning: F1 kept at least this far above the sung F0...
_TUNE_TOP_HZ = 3200.0  # ...by a warp that leaves this frequency and above unbent
_CACHE_UNITS = 160  # analysed syllables kept between calls (~0.4 MB each)


@dataclass(slots=True)
class _Piece:
    """Output time [t0, t1) plays source frames s0 -> s1 of one unit (``passes``: sweeps)."""

    t0: float
    t1: float
    unit: int
    s0: float
    s1: float
    passes: int = 0  # 0: linear; odd n: back and forth n times, eased at the turns


@dataclass(slots=True)
class _Placed:
    """Where one syllable's parts go in output time (seconds)."""

    unit: int
    notes: tuple[SungNote, ...]
    onset: tuple[float, float]
    vowel: tuple[float, float]
    coda: tuple[float, float]
    release: float  # the vowel's fade-out past its last note (phrase ends), included in vowel
    after_rest: bool
    phrase_end: bool


# --------------------------------------------------------------------------------- units

_cache: OrderedDict[tuple[str, int, str], Unit] = OrderedDict()
_cache_lock = threading.Lock()


_speaking_f0: dict[tuple[str, int], float] = {}


def clear_cache() -> None:
    """Forget every analysed syllable (benchmarks measure cold calls with this)."""
    with _cache_lock:
        _cache.clear()
        _speaking_f0.clear()


def _f0_hint(voice: str, lang: str, pitch: int) -> float:
    key = (voice, pitch)
    with _cache_lock:
        hit = _speaking_f0.get(key)
    if hit is None:
        hit = speaking_f0(espeak.speak("a1" if lang == "zh" else "[[A:]]", voice, pitch=pitch))
        with _cache_lock:
            _speaking_f0[key] = hit
    return hit


def _unit(p: Plan, spec: VoiceSpec) -> Unit:
    key = (espeak_voice(spec, p.lang), spec.espeak_pitch, p.text)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    hint = _f0_hint(key[0], p.lang, spec.espeak_pitch)
    utt = espeak.speak(p.text, key[0], pitch=spec.espeak_pitch)
    unit = analyse(utt, p, hint)
    with _cache_lock:
        _cache[key] = unit
        while len(_cache) > _CACHE_UNITS:
            _cache.popitem(last=False)
    return unit


# ----------------------------------------------------------------------------- placement


def _place(
    syllables: Sequence[SungSyllable], index: Sequence[int], units: Sequence[Unit]
) -> list[_Placed]:
    """Onset, vowel and coda times of every syllable (see the module's docstring, step 2)."""
    n = len(syllables)
    starts = [s.notes[0].start for s in syllables]
    ends = [s.notes[-1].end for s in syllables]
    on_nat = [min(units[index[i]].onset_frames * FRAME, ONSET_MAX) for i in range(n)]
    co_nat = [min(units[index[i]].coda_frames * FRAME, CODA_MAX) for i in range(n)]
    onset_len = list(on_nat)
    coda_len = list(co_nat)
    vowel_end = list(ends)
    release = [0.0] * n
    final = [
        syllables[i].phrase_end or i == n - 1 or starts[i + 1] - ends[i] >= REST_GAP
        for i in range(n)
    ]
    onset_len[0] = min(on_nat[0], max(0.0, starts[0]))
    for i in range(n - 1):
        j = i + 1
        gap = starts[j] - ends[i]
        need = co_nat[i] + on_nat[j]
        want_release = RELEASE if final[i] and co_nat[i] == 0 else 0.0
        if gap >= need:
            # Everything fits in the rest: the vowel holds its whole note.
            release[i] = min(want_release, gap - need)
            continue
        dur = ends[i] - starts[i]
        keep = max(min(MIN_VOWEL, dur), MIN_VOWEL_SHARE * dur)
        budget = max(0.0, starts[j] - starts[i] - keep)
        k = min(1.0, budget / need) if need > 0 else 1.0
        coda_len[i], onset_len[j] = co_nat[i] * k, on_nat[j] * k
        vowel_end[i] = min(ends[i], starts[j] - coda_len[i] - onset_len[j])
    release[-1] = RELEASE if co_nat[-1] == 0 else 0.0
    placed = []
    for i, syl in enumerate(syllables):
        v0 = starts[i]
        v1 = max(vowel_end[i], v0 + FRAME) + release[i]
        c1 = v1 + coda_len[i]
        after_rest = i == 0 or final[i - 1] or starts[i] - ends[i - 1] > 0.05
        placed.append(
            _Placed(
                unit=index[i],
                notes=syl.notes,
                onset=(v0 - onset_len[i], v0),
                vowel=(v0, v1),
                coda=(v1, c1),
                release=release[i],
                after_rest=after_rest,
                phrase_end=final[i],
            )
        )
    return placed


def _pieces(p: _Placed, unit: Unit) -> list[_Piece]:
    a, b = unit.nucleus
    h0, h1 = unit.hold
    out: list[_Piece] = []
    if p.onset[1] - p.onset[0] > 1e-4 and a > 0:
        out.append(_Piece(p.onset[0], p.onset[1], p.unit, 0.0, float(a)))
    v0, v1 = p.vowel
    length = v1 - v0
    natural = (b - a) * FRAME
    head, tail = (h0 - a) * FRAME, (b - h1) * FRAME
    if length <= natural or length <= head + tail + FRAME:
        out.append(_Piece(v0, v1, p.unit, float(a), float(b)))
    else:
        hold = length - head - tail
        passes = max(1, round(hold / HOLD_PASS))
        passes += 1 - passes % 2  # odd: the sweep ends where the tail begins
        if head > 0:
            out.append(_Piece(v0, v0 + head, p.unit, float(a), float(h0)))
        out.append(_Piece(v0 + head, v1 - tail, p.unit, float(h0), float(h1), passes))
        if tail > 0:
            out.append(_Piece(v1 - tail, v1, p.unit, float(h1), float(b)))
    if p.coda[1] - p.coda[0] > 1e-4 and b < unit.frames:
        out.append(_Piece(p.coda[0], p.coda[1], p.unit, float(b), float(unit.frames)))
    return out


def _phrases(placed: list[_Placed]) -> list[list[_Placed]]:
    out: list[list[_Placed]] = [[]]
    for p in placed:
        out[-1].append(p)
        if p.phrase_end:
            out.append([])
    return [ph for ph in out if ph]


# --------------------------------------------------------------------------------- pitch


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _lowpass(x: np.ndarray, hz: float) -> np.ndarray:
    from scipy.signal import lfilter

    a = math.exp(-2.0 * math.pi * hz * FRAME)
    y = lfilter([1.0 - a], [1.0, -a], x)
    y = lfilter([1.0 - a], [1.0, -a], y[::-1])[::-1]  # both ways: no lag
    std = float(np.std(y))
    return y / std if std > 0 else y


def _pitch(
    times: np.ndarray, phrase: list[_Placed], spec: VoiceSpec, rng: np.random.Generator
) -> np.ndarray:
    """MIDI pitch per frame: the notes, portamento, scoop, vibrato, jitter (semitones)."""
    notes: list[tuple[SungNote, bool]] = []
    for p in phrase:
        for k, note in enumerate(p.notes):
            notes.append((note, p.after_rest and k == 0))
    midi = np.full(len(times), notes[0][0].pitch, dtype=np.float64)
    for (prev, _), (cur, _) in itertools.pairwise(notes):
        shortest = min(prev.end - prev.start, cur.end - cur.start)
        glide = float(np.clip(0.35 * shortest, 0.015, GLIDE))
        center = cur.start - 0.25 * glide  # most of the glide done as the vowel begins
        midi += (cur.pitch - prev.pitch) * _smoothstep((times - center) / glide + 0.5)
    for note, after_rest in notes:
        if after_rest:
            near = (times > note.start - 0.3) & (times < note.end)
            scoop = SCOOP_CENTS / 100.0 * (1.0 - _smoothstep((times - note.start) / 0.07))
            midi += np.where(near, scoop, 0.0)
        dur = note.end - note.start
        rate = spec.vibrato_rate * (1.0 + 0.04 * rng.standard_normal())
        depth = spec.vibrato_depth * (1.0 + 0.1 * rng.standard_normal()) / 100.0
        if dur >= 0.4:
            inside = (times >= note.start) & (times < note.end)
            env = _smoothstep((times - note.start - 0.15) / 0.3) * _smoothstep(
                (note.end - times) / 0.08
            )
            phase = 2.0 * np.pi * rate * (times - note.start)
            midi += np.where(inside, depth * env * np.sin(phase), 0.0)
    jitter = _lowpass(rng.standard_normal(len(times)), 8.0) * JITTER_CENTS / 100.0
    drift = _lowpass(rng.standard_normal(len(times)), 0.8) * DRIFT_CENTS / 100.0
    return midi + jitter + drift


# ------------------------------------------------------------------------------ tracks


@dataclass(slots=True)
class _Setup:
    spec: VoiceSpec
    units: list[Unit]
    fs: int  # synthesis rate
    fft: int  # synthesis FFT size


def _frames_of(times: np.ndarray, t0: float, t1: float) -> np.ndarray:
    start = times[0]
    k0 = math.ceil((t0 - start) / FRAME - 1e-6)
    k1 = math.ceil((t1 - start) / FRAME - 1e-6)
    return np.arange(max(k0, 0), min(k1, len(times)))


@dataclass(slots=True)
class _Frames:
    """Per output frame of a phrase: which unit, which (fractional) source frame, how loud."""

    times: np.ndarray  # s
    unit: np.ndarray  # int, -1 where nothing is sung
    pos: np.ndarray  # source frame in that unit
    level: np.ndarray  # dB
    breath: np.ndarray  # bool: breath noise


def _breath_span(phrase: list[_Placed], rest_before: float) -> tuple[float, float] | None:
    """Where the breath before a phrase goes: in the rest, ending 60 ms before the onset."""
    first = phrase[0]
    free = rest_before - (first.onset[1] - first.onset[0])
    if free < BREATH_MIN_REST:
        return None
    end = first.onset[0] - 0.06
    return end - min(BREATH_MAX, free - 0.2), end


def _frame_map(
    phrase: list[_Placed], units: list[Unit], breath: tuple[float, float] | None
) -> _Frames:
    start = breath[0] if breath is not None else phrase[0].onset[0]
    end = max(p.coda[1] for p in phrase)
    t0 = max(0.0, math.floor((start - 0.02) / 0.01) * 0.01)  # 10 ms grid: whole samples
    count = math.ceil((end + 0.03 - t0) / FRAME) + 1
    times = t0 + np.arange(count) * FRAME
    frames = _Frames(
        times,
        np.full(count, -1, dtype=np.int64),
        np.zeros(count),
        np.full(count, -120.0),
        np.zeros(count, dtype=bool),
    )
    for p in phrase:
        for piece in _pieces(p, units[p.unit]):
            k = _frames_of(times, piece.t0, piece.t1)
            u = (times[k] - piece.t0) / max(piece.t1 - piece.t0, 1e-9)
            if piece.passes:
                u = 0.5 - 0.5 * np.cos(np.pi * piece.passes * u)
            frames.unit[k] = piece.unit
            frames.pos[k] = piece.s0 + (piece.s1 - piece.s0) * u
            frames.level[k] = 0.0
    if breath is not None:
        # A whispered version of the phrase's first vowel, swelling and fading.
        k = _frames_of(times, *breath)
        u = np.clip((times[k] - breath[0]) / (breath[1] - breath[0]), 0.0, 1.0)
        first = phrase[0].unit
        frames.unit[k] = first
        frames.pos[k] = 0.5 * sum(units[first].hold)
        frames.level[k] = BREATH_DB + 30.0 * np.log10(np.maximum(np.sin(np.pi * u), 1e-3))
        frames.breath[k] = True
    return frames


def _gather(
    frames: _Frames, units: list[Unit]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Envelope, aperiodicity, voicing, consonant flag and unit per frame.

    Frames where nothing is sung borrow the nearest sung frame (they are silent anyway);
    between two source frames the envelope is interpolated linearly in the log domain.
    """
    count = len(frames.times)
    covered = np.flatnonzero(frames.unit >= 0)
    everywhere = np.arange(count)
    after = covered[np.clip(np.searchsorted(covered, everywhere), 0, len(covered) - 1)]
    before = covered[np.clip(np.searchsorted(covered, everywhere) - 1, 0, len(covered) - 1)]
    nearest = np.where(np.abs(before - everywhere) < np.abs(after - everywhere), before, after)
    unit_of = frames.unit[nearest]
    pos = frames.pos[nearest]
    bins = units[0].log_sp.shape[1]
    env = np.empty((count, bins), dtype=np.float32)
    ap = np.empty((count, bins), dtype=np.float32)
    voiced = np.zeros(count, dtype=bool)
    consonant = np.zeros(count, dtype=bool)
    for ui in np.unique(unit_of):
        unit = units[int(ui)]
        k = np.flatnonzero(unit_of == ui)
        s = np.clip(pos[k], 0.0, unit.frames - 1.0)
        i0 = np.minimum(s.astype(np.int64), unit.frames - 1)
        i1 = np.minimum(i0 + 1, unit.frames - 1)
        w = (s - i0).astype(np.float32)[:, None]
        env[k] = unit.log_sp[i0] * (1.0 - w) + unit.log_sp[i1] * w
        ap[k] = unit.ap[i0] * (1.0 - w) + unit.ap[i1] * w
        voiced[k] = unit.voiced[np.minimum(np.round(s).astype(np.int64), unit.frames - 1)]
        consonant[k] = (s < unit.nucleus[0]) | (s >= unit.nucleus[1])
    voiced &= (frames.unit >= 0) & ~frames.breath
    return env, ap, voiced, consonant, unit_of


def _smooth_joins(env: np.ndarray, ap: np.ndarray, unit_of: np.ndarray) -> None:
    """Crossfade in the envelope domain where one syllable's frames meet the next's:
    blend towards a Hann-smoothed copy over +/-``JOIN_FRAMES`` frames of each join."""
    joins = np.flatnonzero(np.diff(unit_of) != 0) + 1
    if len(joins) == 0:
        return
    from scipy.ndimage import convolve1d

    kernel = np.hanning(2 * JOIN_FRAMES + 3)[1:-1]
    kernel /= kernel.sum()
    distance = np.min(np.abs(np.arange(len(unit_of))[:, None] - (joins[None, :] - 0.5)), axis=1)
    weight = np.clip(1.0 - distance / (JOIN_FRAMES + 1), 0.0, 1.0).astype(np.float32)[:, None]
    near = np.flatnonzero(weight[:, 0] > 0)
    for track in (env, ap):
        smooth = convolve1d(track, kernel, axis=0, mode="nearest")
        track[near] = track[near] * (1.0 - weight[near]) + smooth[near] * weight[near]


def _render_phrase(
    setup: _Setup, phrase: list[_Placed], rest_before: float, seed: tuple[int, int]
) -> tuple[float, np.ndarray]:
    """Synthesise one phrase; returns its start time (s) and samples at ``setup.fs``."""
    import pyworld

    spec, units = setup.spec, setup.units
    rng = np.random.default_rng(list(seed))
    frames = _frame_map(phrase, units, _breath_span(phrase, rest_before))
    times = frames.times
    env, ap, voiced, consonant, unit_of = _gather(frames, units)
    _smooth_joins(env, ap, unit_of)

    silent = frames.unit < 0
    level = frames.level + np.where(
        consonant & ~voiced & ~silent & ~frames.breath, CONSONANT_DB, 0.0
    )
    midi = _pitch(times, phrase, spec, rng)
    level += _dynamics(times, phrase, midi, spec)
    amp = 10.0 ** (level / 20.0)
    amp = np.convolve(np.pad(amp, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")

    breathy = np.zeros(len(times))
    for p in phrase:
        if p.release > 0:  # the release turns breathy as it fades
            ramp = (times >= p.vowel[1] - p.release) & (times < p.vowel[1])
            breathy[ramp] = _smoothstep((times[ramp] - p.vowel[1] + p.release) / p.release)
    breathy = np.clip(spec.breathiness + (1.0 - spec.breathiness) * 0.6 * breathy, 0.0, 1.0)
    breathy[frames.breath] = 1.0

    alpha = spec.warp * (1.0 + spec.register_warp * (midi - spec.reference_pitch) / 12.0)
    alpha = np.clip(alpha, 0.8, 1.4)
    hz = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
    f1 = np.array([u.f1 for u in units])[unit_of]
    sp, aper = _spectra(setup, env, ap, alpha, f1, hz, breathy, units[0].bin_hz)
    sp *= (amp**2)[:, None]
    f0 = np.where(voiced, hz, 0.0)
    y = pyworld.synthesize(
        np.ascontiguousarray(f0),
        np.ascontiguousarray(sp),
        np.ascontiguousarray(aper),
        setup.fs,
        FRAME_MS,
    )
    return float(times[0]), y


def _dynamics(
    times: np.ndarray, phrase: list[_Placed], midi: np.ndarray, spec: VoiceSpec
) -> np.ndarray:
    """Level changes in dB: louder higher up, vowels swelling in after silence, a dip between
    melisma notes, releases and syllables before silence fading out."""
    db = np.clip(0.2 * (midi - spec.reference_pitch), -3.0, 3.0)
    for i, p in enumerate(phrase):
        if p.after_rest and p.onset[1] - p.onset[0] < 0.01:
            # A vowel after silence swells in over ~30 ms instead of starting at full level.
            ramp = (times >= p.vowel[0] - FRAME) & (times < p.vowel[0] + 0.03)
            swell = _smoothstep((times[ramp] - p.vowel[0] + FRAME) / 0.035)
            db[ramp] += 20.0 * np.log10(np.maximum(swell, 1e-3))
        for note in p.notes[1:]:
            db -= 1.5 * np.exp(-0.5 * ((times - note.start) / 0.025) ** 2)
        if p.release > 0:
            r0 = p.vowel[1] - p.release - 0.03
            fade = 1.0 - _smoothstep((times - r0) / (p.release + 0.03))
            inside = (times > r0) & (times <= p.vowel[1])
            db += np.where(inside, 20.0 * np.log10(np.maximum(fade, 1e-3)), 0.0)
            continue
        # Sound followed by silence (a phrase end, a short rest) dies away instead of stopping.
        end = p.coda[1]
        if i + 1 < len(phrase) and phrase[i + 1].onset[0] <= end + FRAME:
            continue
        last = p.coda if p.coda[1] - p.coda[0] > 0.02 else p.vowel
        length = min(0.06, 0.6 * (last[1] - last[0]))
        fade = 1.0 - _smoothstep((times - end + length) / length)
        inside = (times > end - length) & (times <= end)
        db += np.where(inside, 20.0 * np.log10(np.maximum(fade, 1e-3)), 0.0)
    return db


def _spectra(
    setup: _Setup,
    env: np.ndarray,
    ap: np.ndarray,
    alpha: np.ndarray,
    f1: np.ndarray,
    hz: np.ndarray,
    breathy: np.ndarray,
    bin_hz: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Warped power envelope and aperiodicity on the synthesis FFT's bins (float64).

    The frequency axis is scaled by ``alpha`` per frame, and, when the sung F0 rises above
    the vowel's first formant, warped piecewise-linearly so that F1 sits just above F0
    while 3.2 kHz and up keep the plain scaling. Sopranos do the same ("formant tuning":
    the vowel opens towards /a/ on high notes); without it a closed vowel's harmonics all
    fall in the valley above F1 and a high /i/ or /u/ is barely voiced.
    """
    count, bins = env.shape
    freqs = np.arange(setup.fft // 2 + 1) * (setup.fs / setup.fft)
    a = alpha[:, None]
    top_src = _TUNE_TOP_HZ
    f1_out = np.minimum(np.maximum(f1 * alpha, _TUNE_RATIO * hz), 0.6 * top_src * alpha)[:, None]
    f1_src = np.minimum(f1[:, None], f1_out / a)
    f = freqs[None, :]
    below = f * f1_src / f1_out
    middle = f1_src + (f - f1_out) * (top_src - f1_src) / (top_src * a - f1_out)
    src = np.where(f <= f1_out, below, np.where(f <= top_src * a, middle, f / a))
    q = (src / bin_hz).astype(np.float32)
    top = bins - 1
    qc = np.minimum(q, top - 1e-3)
    i0 = qc.astype(np.int64)
    w = qc - i0
    rows = np.arange(count)[:, None]
    log_sp = env[rows, i0] * (1.0 - w) + env[rows, i0 + 1] * w
    aper = ap[rows, i0] * (1.0 - w) + ap[rows, i0 + 1] * w
    over = q > top
    if over.any():
        octaves = np.log2(np.maximum(q / top, 1.0))
        log_sp -= np.where(over, _ROLLOFF_DB_PER_OCT * np.log(10.0) / 10.0 * octaves, 0.0)
        aper = np.where(over, 1.0, aper)
    ln_db = np.log(10.0) / 10.0
    spec = setup.spec
    # High notes: fill the envelope's valleys up to ``depth`` dB under its peak between F0
    # and 5 kHz. Above ~600 Hz only a few harmonics remain, and one that falls in a valley
    # (the second harmonic of a high /i/ sits between F1 and F2, 50 dB down) leaves an
    # almost pure sine: thin, and a tone pitch trackers such as HARVEST often miss.
    depth = np.interp(hz, (400.0, 1000.0), (45.0, 22.0))[:, None]
    band = (f >= 0.8 * hz[:, None]) & (f <= 5000.0)
    floor = log_sp.max(axis=1, keepdims=True) - depth * ln_db
    log_sp = np.where(band, np.logaddexp(log_sp, floor), log_sp).astype(np.float32)
    # Tilt down above 1 kHz, then a presence lift around 3 kHz (see ``VoiceSpec``).
    shape = -spec.tilt_db_per_octave * np.log2(np.maximum(freqs, 1000.0) / 1000.0)
    shape += spec.presence_db * np.exp(-0.5 * (np.log2(np.maximum(freqs, 1.0) / 3000.0) / 0.5) ** 2)
    log_sp += (shape * ln_db).astype(np.float32)[None, :]
    # Air: espeak-ng's voice has almost nothing above 5 kHz (-50 dB); a real voice has breath
    # noise there ~-40 dB under its peak. A noise floor under the envelope, falling 6 dB/oct.
    peak = log_sp.max(axis=1, keepdims=True)
    air_db = (
        -42.0 - 6.0 * np.log2(np.maximum(freqs, _AIR_HZ) / _AIR_HZ) + 8.0 * (breathy[:, None] - 0.2)
    )
    air_on = np.clip((freqs - 0.6 * _AIR_HZ) / (0.4 * _AIR_HZ), 0.0, 1.0)[None, :]
    air = np.where(air_on > 0, peak + air_db * ln_db + np.log(np.maximum(air_on, 1e-6)), -np.inf)
    louder = air > log_sp
    log_sp = np.where(louder, air, log_sp)
    weight = np.clip((freqs - 1500.0) / 3000.0, 0.0, 1.0) ** 0.7
    aper = aper + breathy[:, None] * weight[None, :] * (1.0 - aper)
    aper = np.where(louder, np.maximum(aper, 0.6), aper)  # part noise, part harmonics
    sp = np.exp(log_sp.astype(np.float64))
    return sp, np.clip(aper, 0.001, 0.999).astype(np.float64)


# ---------------------------------------------------------------------------------- sing


def _clean(syllables: Sequence[SungSyllable]) -> list[SungSyllable]:
    out = []
    for syl in syllables:
        notes = tuple(
            SungNote(
                float(n.pitch), max(0.0, float(n.start)), max(float(n.end), float(n.start) + 0.03)
            )
            for n in syl.notes
            if math.isfinite(n.pitch) and math.isfinite(n.start) and math.isfinite(n.end)
        )
        if not notes:
            log.debug("syllable %r has no notes: skipped", syl.phones.text)
            continue
        out.append(SungSyllable(syl.phones, notes, syl.phrase_end))
    out.sort(key=lambda s: s.notes[0].start)
    return out


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def sing(
    syllables: Sequence[SungSyllable],
    *,
    voice: str = "female",
    sample_rate: int = 44100,
    seed: int = 0,
    duration: float | None = None,
    synth_rate: int | None = None,
) -> np.ndarray:
    """Sing ``syllables`` on their notes: mono float32 in [-1, 1] at ``sample_rate``.

    The audio covers the last note plus its release, or exactly ``duration`` seconds when
    given. ``voice`` is a key of ``VOICES`` (``VoiceError`` otherwise); ``seed`` varies the
    vibrato and pitch jitter, and the same inputs always give the same samples.
    ``synth_rate``: vocode at this rate and resample (``None``: vocode at ``sample_rate``).
    """
    spec = voice_spec(voice)
    if sample_rate < 8000:
        raise VoiceError(f"sample rate {sample_rate} Hz is too low to sing (>= 8000)")
    wanted = None if duration is None else max(0, round(duration * sample_rate))
    syls = _clean(syllables)
    if not syls:
        return np.zeros(wanted or 0, dtype=np.float32)

    plans = [plan(s.phones) for s in syls]
    keys: dict[tuple[str, str], int] = {}
    index = [keys.setdefault(p.key, len(keys)) for p in plans]
    distinct = {keys[p.key]: p for p in plans}
    with ThreadPoolExecutor(_workers()) as pool:
        units = list(pool.map(lambda i: _unit(distinct[i], spec), range(len(keys))))

    placed = _place(syls, index, units)
    phrases = _phrases(placed)
    fs = int(synth_rate or sample_rate)
    # A 1024-point FFT holds 23 ms of impulse response at 44.1 kHz, longer than a vocal
    # tract's ringing; WORLD's synthesis costs an FFT per pulse, so 2048 points would make
    # it ~3x slower (measured: 5.1 s vs 1.6 s for a minute of soprano) for a waveform that
    # differs by -43 dB.
    fft = 1024 if fs <= 50000 else 2048
    setup = _Setup(spec, units, fs, fft)
    rests = []
    last_end = 0.0
    for ph in phrases:
        rests.append(ph[0].onset[1] - last_end)
        last_end = max(p.coda[1] for p in ph)
    jobs = [(ph, rest, (seed, i)) for i, (ph, rest) in enumerate(zip(phrases, rests, strict=True))]
    with ThreadPoolExecutor(_workers()) as pool:
        rendered = list(pool.map(lambda job: _render_phrase(setup, *job), jobs))

    if fs != sample_rate:
        from scipy.signal import resample_poly

        g = math.gcd(sample_rate, fs)
        rendered = [(t, resample_poly(y, sample_rate // g, fs // g)) for t, y in rendered]
    total = max(round(t * sample_rate) + len(y) for t, y in rendered)
    out = np.zeros(total if wanted is None else max(total, wanted), dtype=np.float64)
    fade = int(0.005 * sample_rate)
    ramp = np.sin(np.linspace(0.0, np.pi / 2, fade)) ** 2
    for t, y in rendered:
        if len(y) == 0:
            continue
        y = y.copy()
        n = min(fade, len(y) // 2)
        y[:n] *= ramp[:n]
        y[len(y) - n :] *= ramp[:n][::-1]
        at = round(t * sample_rate)
        out[at : at + len(y)] += y
    out *= _GAIN
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    if peak > OUTPUT_PEAK:
        out *= OUTPUT_PEAK / peak
    if wanted is not None and wanted < len(out):
        out = out[:wanted]
        n = min(fade, len(out))
        out[len(out) - n :] *= ramp[:n][::-1]  # cut short: fade, do not click
    return out.astype(np.float32)
