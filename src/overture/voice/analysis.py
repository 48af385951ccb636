"""WORLD analysis of one spoken syllable, split into onset, vowel and coda.

The WORLD vocoder ("WORLD: a vocoder-based high-quality speech synthesis system for real-time
applications", IEICE Trans. Inf. & Syst. E99-D(7), 2016) describes speech as an F0 track, a
smooth spectral envelope per frame (CheapTrick) and a band aperiodicity per frame (D4C).
Singing is then a new F0 track and a new time axis over the same envelopes. F0 comes from
DIO refined by StoneMask: espeak-ng is asked for a monotone voice whose F0 is measured once
(HARVEST, see ``speaking_f0``), and DIO searches only near it: reliable on a monotone, and
HARVEST on every syllable would cost ~20x more.

The vowel's frames are located from espeak-ng's phoneme events (the first vowel mnemonic up
to the next consonant); after a voiceless onset the vowel starts at the first voiced frame,
so aspiration stays with the consonant and the sung vowel begins exactly where voicing does.
Without events (espeak-ng run as a program) the vowel is the longest loud voiced run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from overture.voice.espeak import Utterance
from overture.voice.phonemes import Plan, is_pause, is_stop, is_voiceless, is_vowel

FRAME_MS = 5.0
FRAME = FRAME_MS / 1000.0
_PAD = 0.015  # seconds of context analysed on each side of the speech
CLOSURE = 0.04  # s of silence kept before a syllable-initial stop: its closure
LIQUID_SPLIT = 0.7  # vowel share of a vowel event that swallowed its coda
FLATTEN = 0.8  # share of the spoken vowel's loudness drift removed (see ``analyse``)
VOWEL_SMOOTH = 7  # frames: Hann window over which a vowel's envelope is smoothed
_FFT_F0_FLOOR = 71.0  # WORLD's default: 1024-point envelopes at 22050 Hz (21.5 Hz a bin)


@dataclass(slots=True)
class Unit:
    """The analysed syllable: per 5 ms frame, an envelope, an aperiodicity and voicing.

    ``log_sp`` is the natural log of CheapTrick's power envelope, normalised so the vowel's
    median frame power is 1 (every syllable then sings at the same level). Frames
    ``[0, nucleus[0])`` are the onset, ``[nucleus[0], nucleus[1])`` the vowel (always voiced),
    the rest the coda. ``hold`` is the vowel's steady part, which long notes stretch.
    """

    log_sp: np.ndarray  # (frames, bins) float32
    ap: np.ndarray  # (frames, bins) float32, 0 = periodic, 1 = noise
    voiced: np.ndarray  # (frames,) bool
    nucleus: tuple[int, int]
    hold: tuple[int, int]
    bin_hz: float
    f1: float  # Hz: the held vowel's first formant (the envelope's peak below 1 kHz)

    @property
    def frames(self) -> int:
        return len(self.voiced)

    @property
    def onset_frames(self) -> int:
        return self.nucleus[0]

    @property
    def coda_frames(self) -> int:
        return self.frames - self.nucleus[1]


def _segments(utt: Utterance) -> list[tuple[str, int, int]]:
    """(mnemonic, first sample, end sample) of every spoken phoneme, pauses dropped."""
    out: list[tuple[str, int, int]] = []
    events = utt.events
    for i, event in enumerate(events):
        if is_pause(event.name):
            continue
        end = events[i + 1].sample if i + 1 < len(events) else len(utt.samples)
        end = min(max(end, event.sample + 1), len(utt.samples))
        if event.sample < len(utt.samples):
            out.append((event.name, event.sample, end))
    return out


def _voicing_spans(utt: Utterance) -> list[tuple[int, int, bool]]:
    """(start, end, voiced) of every consonant: its voicing is its identity's, not DIO's."""
    return [(a, b, not is_voiceless(name)) for name, a, b in _segments(utt) if not is_vowel(name)]


def _split_by_events(utt: Utterance, plan: Plan) -> tuple[int, int, int, int] | None:
    """Samples (speech start, vowel start, vowel end, speech end) from phoneme events.

    A syllable-initial stop starts with its closure: espeak-ng leaves ~50 ms of silence before
    it, of which ``CLOSURE`` is kept, so that between two sung vowels the stop is heard as a
    stop (silence, then a burst) rather than as a burst of noise glued to the previous vowel.
    """
    segments = _segments(utt)
    first_vowel = next((i for i, s in enumerate(segments) if is_vowel(s[0])), None)
    if first_vowel is None:
        return None
    last_vowel = first_vowel
    while last_vowel + 1 < len(segments) and is_vowel(segments[last_vowel + 1][0]):
        last_vowel += 1
    if plan.lang == "zh":
        # A Mandarin final's medial glide (the w of "guang", the j of "jia") is part of the
        # final, sung on the note: the onset is the initial alone.
        first_vowel = min(first_vowel, plan.onset_count)
    start = segments[0][1]
    if first_vowel > 0 and is_stop(segments[0][0]):
        start -= int(CLOSURE * utt.sample_rate)
    return (
        start,
        segments[first_vowel][1],
        segments[last_vowel][2],
        segments[-1][2],
    )


def _split_by_energy(x: np.ndarray, fs: int, voiced: np.ndarray) -> tuple[int, int, int, int]:
    """The same four samples from frame power and voicing alone (no phoneme events)."""
    hop = round(fs * FRAME)
    n = len(voiced)
    power = np.array(
        [np.mean(x[i * hop : i * hop + hop] ** 2) if i * hop < len(x) else 0.0 for i in range(n)]
    )
    db = 10.0 * np.log10(power + 1e-12)
    top = float(db.max()) if n else 0.0
    speech = np.flatnonzero(db > top - 45.0)
    loud = voiced & (db > top - 15.0)
    best, best_len, i = (0, 0), 0, 0
    while i < n:
        if loud[i]:
            j = i
            while j < n and loud[j]:
                j += 1
            if j - i > best_len:
                best, best_len = (i, j), j - i
            i = j
        else:
            i += 1
    if best_len == 0:
        best = (n // 3, max(n // 3 + 1, 2 * n // 3))
    s0 = int(speech[0]) if len(speech) else 0
    s1 = int(speech[-1]) + 1 if len(speech) else n
    return s0 * hop, best[0] * hop, best[1] * hop, max(s1, best[1]) * hop


def _first_formant(log_sp: np.ndarray, bin_hz: float) -> float:
    """The frequency of the mean envelope's highest point between 200 Hz and 1 kHz."""
    mean = log_sp.mean(axis=0)
    lo, hi = int(200 / bin_hz), int(1000 / bin_hz) + 1
    return float((lo + int(np.argmax(mean[lo:hi]))) * bin_hz)


def speaking_f0(vowel: Utterance) -> float:
    """The F0 (Hz) espeak-ng speaks at, from a sustained vowel, by HARVEST.

    espeak-ng's monotone F0 depends on the voice, the variant and the pitch setting in ways
    that are not documented (``en-us+f1`` at pitch 50 speaks at ~160 Hz, the default voice at
    ~90 Hz). DIO with WORLD's default range halves a female voice now and then, and an F0
    off by an octave makes CheapTrick's envelope jump by +/-7 dB from frame to frame; so the
    F0 is measured once per voice with the slower, robust HARVEST, and DIO then searches only
    within half an octave of it.
    """
    import pyworld

    x = np.ascontiguousarray(vowel.samples, dtype=np.float64)
    f0, _ = pyworld.harvest(
        x, vowel.sample_rate, f0_floor=40.0, f0_ceil=600.0, frame_period=FRAME_MS
    )
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if len(voiced) else 120.0


def _segment(
    utt: Utterance,
    plan: Plan,
    split: tuple[int, int, int, int] | None,
    x: np.ndarray,
    lo: int,
    voiced: np.ndarray,
) -> tuple[int, int, int, int]:
    """Frames (speech start, vowel start, vowel end, speech end) of the analysed excerpt
    ``x`` (which starts at sample ``lo`` of the utterance), from the samples ``split`` found
    by the phoneme events, or from energy and voicing when there are none. ``voiced`` is
    corrected in place from the phonemes' identities."""
    fs, n = utt.sample_rate, len(voiced)
    for a_s, b_s, is_voiced in _voicing_spans(utt) if split is not None else []:
        # Trust the phoneme over DIO: DIO finds periodicity in some of espeak-ng's voiceless
        # fricatives (see ``is_voiceless``), and espeak-ng devoices voiced consonants at word
        # edges (a final /v/, an initial /D/), which would break a legato line.
        a_f = int(np.ceil((a_s - lo) / fs / FRAME))
        b_f = int(np.floor((b_s - lo) / fs / FRAME))
        voiced[max(0, a_f) : max(0, min(n, b_f))] = is_voiced
    if split is None:
        s0, s1, s2, s3 = _split_by_energy(x, fs, voiced)
        split = (s0 + lo, s1 + lo, s2 + lo, s3 + lo)

    def frame(sample: int) -> int:
        return int(np.clip(round((sample - lo) / fs / FRAME), 0, n))

    first, a, b, last = (frame(s) for s in split)
    if plan.onset_count == 0:
        a = first  # a glide espeak-ng put first (Mandarin "wo", "yi") belongs to the vowel
    b = max(b, a + 1)
    last = max(last, b)
    if plan.coda_count and last - b < 2 and b - a > 8:
        # espeak-ng folded the coda into the vowel (a final /l/, /r/ or nasal comes as a
        # zero-length event at its end): give the vowel's last third to the coda.
        b = a + round(LIQUID_SPLIT * (b - a))
    if plan.unvoiced_onset and a > first:
        # Aspiration and the burst belong to the consonant: the vowel starts with voicing.
        run = np.flatnonzero(voiced[max(first, a - 3) : b])
        if len(run):
            a = min(max(first, a - 3) + int(run[0]), b - 1)
    return first, a, b, last


def _smooth_vowel(sp: np.ndarray, ap: np.ndarray, a: int, b: int) -> None:
    """Smooth the vowel's frames over ~30 ms, in place.

    espeak-ng's "roughness" weakens every other glottal cycle, which CheapTrick's 5 ms
    frames alias into a +/-1 dB ripple of ~3 frames; vocoded, that ripple is an amplitude
    modulation at half the sung pitch (HARVEST then hears a subharmonic an octave and more
    below the note). A held vowel has no faster changes worth keeping.
    """
    if b - a < 3:
        return
    from scipy.ndimage import convolve1d

    kernel = np.hanning(VOWEL_SMOOTH + 2)[1:-1]
    kernel /= kernel.sum()
    log_vowel = np.log(np.maximum(sp[a:b], 1e-30))
    sp[a:b] = np.exp(convolve1d(log_vowel, kernel, axis=0, mode="nearest"))
    ap[a:b] = convolve1d(ap[a:b], kernel, axis=0, mode="nearest")


def _normalised(
    sp: np.ndarray, bin_hz: float, nucleus: tuple[int, int], hold: tuple[int, int]
) -> np.ndarray:
    """Log envelope scaled so the held part's median frame power is 1, its drift flattened.

    Loudness weighs every octave from 100 Hz to 5 kHz the same (a plain mean over the linear
    bins would let 2-5 kHz dominate and make front vowels come out too quiet), and is taken
    over the held part only: a vowel event may end in a liquid espeak-ng folded into it.
    A sung vowel holds its loudness where a spoken one rises and decays, so most of the
    level's drift (smoothed over 25 ms) is taken out of the vowel: fully in its steady part,
    less towards its edges, where the transitions to the consonants are.
    """
    (a, b), (h0, h1) = nucleus, hold
    freqs = np.arange(sp.shape[1]) * bin_hz
    weight = np.where((freqs >= 100.0) & (freqs <= 5000.0), 1.0 / np.maximum(freqs, 1.0), 0.0)
    power = sp @ (weight / weight.sum())
    level = max(float(np.median(power[h0:h1])), 1e-6)  # a silent syllable stays silent
    log_sp = np.log(np.maximum(sp / level, 1e-12))
    drift = np.convolve(np.log(np.maximum(power / level, 1e-12)), np.ones(5) / 5, "same")
    ramp = np.zeros(len(power))
    ramp[h0:h1] = 1.0
    ramp[a:h0] = np.linspace(0.0, 1.0, h0 - a, endpoint=False)
    ramp[h1:b] = np.linspace(1.0, 0.0, b - h1, endpoint=False)
    log_sp -= (FLATTEN * ramp * np.clip(drift, -1.5, 1.5))[:, None]
    return log_sp.astype(np.float32)


def analyse(utt: Utterance, plan: Plan, f0_hint: float) -> Unit:
    """WORLD analysis of a spoken syllable, segmented (see the module's docstring).

    ``f0_hint`` is espeak-ng's speaking F0 for the voice (``speaking_f0``).
    """
    import pyworld

    fs = utt.sample_rate
    lead = int(0.06 * fs)  # silence in front, so a closure can always be cut from it
    samples = np.concatenate([np.zeros(lead), utt.samples, np.zeros(int(0.03 * fs))])
    events = tuple(replace(e, sample=e.sample + lead) for e in utt.events)
    utt = Utterance(samples, fs, events)
    split = _split_by_events(utt, plan) if utt.events else None
    pad = int(_PAD * fs)
    lo, hi = (max(0, split[0] - pad), split[3] + pad) if split else (0, len(samples))
    x = np.ascontiguousarray(samples[lo:hi], dtype=np.float64)
    f0, t = pyworld.dio(
        x, fs, f0_floor=f0_hint * 2.0**-0.5, f0_ceil=f0_hint * 2.0**0.5, frame_period=FRAME_MS
    )
    f0 = pyworld.stonemask(x, f0, t, fs)
    voiced = f0 > 0
    ref = float(np.median(f0[voiced])) if voiced.any() else f0_hint
    first, a, b, last = _segment(utt, plan, split, x, lo, voiced)
    voiced[a:b] = True
    # Envelope and aperiodicity need an F0 on every vowel frame: fill the vowel's gaps from
    # its voiced frames (espeak-ng speaks a monotone, so this is close to the truth).
    filled = np.where(voiced, np.where(f0 > 0, f0, ref), 0.0)
    fft_size = pyworld.get_cheaptrick_fft_size(fs, _FFT_F0_FLOOR)
    sp = pyworld.cheaptrick(x, filled, t, fs, fft_size=fft_size)[first:last]
    ap = pyworld.d4c(x, filled, t, fs, fft_size=fft_size)[first:last]
    a, b = a - first, b - first
    _smooth_vowel(sp, ap, a, b)
    h0 = min(max(a + round(plan.hold[0] * (b - a)), a), b - 1)
    h1 = min(max(a + round(plan.hold[1] * (b - a)), h0 + 1), b)
    bin_hz = fs / fft_size
    log_sp = _normalised(sp, bin_hz, (a, b), (h0, h1))
    return Unit(
        log_sp=log_sp,
        ap=np.clip(ap, 0.0, 1.0).astype(np.float32),
        voiced=voiced[first:last],
        nucleus=(a, b),
        hold=(h0, h1),
        bin_hz=bin_hz,
        f1=_first_formant(log_sp[h0:h1], bin_hz),
    )
