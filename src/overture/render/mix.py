"""Per-stem effects and the pre-master mix.

Each part's dry FluidSynth stem gets, with pedalboard:

* a gentle first-order (6 dB/octave) high-pass on parts that are neither bass nor drums, set
  an octave below the part's lowest note (30-120 Hz), so chords, pads and leads do not pile up
  low-frequency energy under the bass and kick;
* its own reverb, sent at ``part.reverb / 127`` (the MIDI CC91 convention), so every stem
  carries its own tail and the stems add up to the mix exactly.

FluidSynth's own reverb is switched off in the synth: a reverb per stem is what makes stems
that sum to the mix possible.

Arrays here are planar, ``(2, frames)`` float32: pedalboard processes that layout without a
copy (measured 0.70 s vs 0.76 s for 182 s of full-rate reverb) and every channel is contiguous.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from overture.instruments import INSTRUMENTS
from overture.score import Part

# Reverb: Freeverb (JUCE) via pedalboard, wet only, added to the dry stem. Measured on noise:
# a full send (CC91 = 127) puts the reverb 10 dB under the dry signal, the default send of 40
# 20 dB under, a natural room.
REVERB_ROOM_SIZE = 0.6
# JUCE damps each comb with a one-pole lowpass of pole 0.4 * damping: 0.3 at the reverb's
# 22.05 kHz rate puts its corner near 7 kHz (0.5 at 44.1 kHz would be 11 kHz).
REVERB_DAMPING = 0.3
REVERB_WIDTH = 1.0
REVERB_MAX_WET = 0.35
# Bass and drum stems feed their reverb through a high-pass here: a reverberant low end is mud.
REVERB_SEND_HIGHPASS_HZ = 150.0

HIGHPASS_MIN_HZ = 30.0
HIGHPASS_MAX_HZ = 120.0

# Mix headroom: the summed mix peaks at this level before mastering (the stems get the same
# gain, so they still sum to the mix and each fits a 24-bit FLAC).
MIX_CEILING_DB = -1.0
MAX_MIX_BOOST_DB = 24.0


def is_bass_part(part: Part) -> bool:
    """Whether ``part`` carries the low end (bass instruments and bass-named parts)."""
    inst = INSTRUMENTS.get(part.instrument)
    if inst is not None and inst.family == "bass":
        return True
    if part.instrument in {"contrabass", "tuba"}:
        return True
    return part.name.lower() in {"bass", "bassline", "sub", "sub bass"} or (
        not part.is_drums and 32 <= part.program <= 39
    )


def highpass_cutoff(part: Part) -> float | None:
    """The high-pass corner for ``part``'s stem, or ``None`` for bass and drum parts.

    An octave below the lowest note keeps its fundamental (-1 dB at the note for a first-order
    filter) while cutting rumble and low-end build-up.
    """
    if part.is_drums or is_bass_part(part) or not part.notes:
        return None
    lowest = min(n.pitch for n in part.notes)
    hz = 440.0 * math.pow(2.0, (lowest - 69) / 12.0) / 2.0
    return float(min(HIGHPASS_MAX_HZ, max(HIGHPASS_MIN_HZ, hz)))


def apply_stem_effects(
    audio: np.ndarray,
    sample_rate: int,
    *,
    reverb: int,
    highpass_hz: float | None,
) -> np.ndarray:
    """``audio`` (planar ``(2, n)`` float32) with its high-pass and reverb send applied.

    Returns a new array; see :func:`process_stem` for the in-place version.
    """
    out = np.array(audio, dtype=np.float32, copy=True, order="C")
    process_stem(out, sample_rate, reverb=reverb, highpass_hz=highpass_hz)
    return out


def process_stem(
    stem: np.ndarray,
    sample_rate: int,
    *,
    reverb: int,
    highpass_hz: float | None,
) -> None:
    """Apply the stem's high-pass and reverb to ``stem`` (planar ``(2, n)`` float32) in place.

    Deterministic: pedalboard's filters and reverb have no random state and start reset.

    The reverb runs at half the sample rate on a 2x-decimated send and is interpolated back:
    0.30 s instead of 0.60-0.75 s for 182 s of stereo (measured), the largest effects cost.
    Its return is then band-limited to ~10 kHz, which is also what a reverb return wants: the
    decimator (1/4, 1/2, 1/4) and the linear interpolator attenuate what would alias or image
    (-13 dB at 15 kHz), and the damping lowpass in the reverb's combs takes the rest.
    """
    import pedalboard as pb

    if stem.shape[-1] == 0:
        return
    send = max(0.0, min(1.0, reverb / 127.0))
    if highpass_hz is not None:
        stem[...] = pb.HighpassFilter(cutoff_frequency_hz=float(highpass_hz))(stem, sample_rate)
    if send <= 0.0:
        return
    half = _decimate2(stem)
    half_rate = sample_rate / 2.0
    if highpass_hz is None:  # bass and drums: keep the low end out of the reverb
        half = pb.HighpassFilter(cutoff_frequency_hz=REVERB_SEND_HIGHPASS_HZ)(half, half_rate)
    wet = pb.Reverb(
        room_size=REVERB_ROOM_SIZE,
        damping=REVERB_DAMPING,
        wet_level=REVERB_MAX_WET * send,
        dry_level=0.0,
        width=REVERB_WIDTH,
    )(np.ascontiguousarray(half, dtype=np.float32), half_rate)
    _add_interpolated2(stem, wet)


def _decimate2(x: np.ndarray) -> np.ndarray:
    """Half-rate copy of planar ``x``: y[k] = x[2k-1]/4 + x[2k]/2 + x[2k+1]/4."""
    n = x.shape[-1]
    m = (n + 1) // 2
    pairs = np.zeros((x.shape[0], m, 2), dtype=np.float32)
    pairs.reshape(x.shape[0], -1)[:, :n] = x
    even, odd = pairs[..., 0], pairs[..., 1]
    y = even * np.float32(0.5)
    y += odd * np.float32(0.25)
    y[:, 1:] += odd[:, :-1] * np.float32(0.25)
    return y


def _add_interpolated2(out: np.ndarray, w: np.ndarray) -> None:
    """``out +=`` the linear 2x interpolation of half-rate ``w`` (same time alignment)."""
    n = out.shape[-1]
    m = w.shape[-1]
    k = n // 2
    pairs = out[:, : 2 * k].reshape(out.shape[0], k, 2)
    pairs[..., 0] += w[:, :k]
    mid = w[:, :k].copy()
    if m > k:
        mid += w[:, 1 : k + 1]
    else:  # even n: the last odd sample has no right neighbour; hold the last value
        mid[:, :-1] += w[:, 1:k]
        mid[:, -1] += w[:, k - 1]
    mid *= np.float32(0.5)
    pairs[..., 1] += mid
    if n % 2:
        out[:, n - 1] += w[:, m - 1]


def mix_stems(stems: list[np.ndarray]) -> np.ndarray:
    """The sum of planar stems, in list order (float32, so the sum is reproducible)."""
    if not stems:
        raise ValueError("no stems to mix")
    out = np.array(stems[0], dtype=np.float32, copy=True)
    for s in stems[1:]:
        out += s
    return out


def headroom_gain(
    mix: np.ndarray, stems: Sequence[np.ndarray] = (), *, ceiling_db: float = MIX_CEILING_DB
) -> float:
    """The gain that puts the sample peak of ``mix`` (and of any stem) at ``ceiling_db``.

    Applied to the mix and to every stem alike. Stems count because parts can partly cancel
    in the mix, and each stem must still fit its 24-bit FLAC. Boost is capped at +24 dB so that
    a near-silent render is not raised into audible noise; silence gets 1.0.
    """
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    for stem in stems:
        if stem.size:
            peak = max(peak, float(np.max(np.abs(stem))))
    if not math.isfinite(peak) or peak <= 1e-9:
        return 1.0
    gain = 10.0 ** (ceiling_db / 20.0) / peak
    return float(min(gain, 10.0 ** (MAX_MIX_BOOST_DB / 20.0)))


# The sung voice in the mix: a cleaned-up, levelled lead with its own room, and space made for
# it in the other melodic parts (drums and bass keep theirs: they sit below and around it).
VOCAL_HIGHPASS_HZ = 90.0
VOCAL_OVER_BACKING_DB = 1.0  # where it sings, the voice sits this far above the backing
MAKE_ROOM_DB = 2.0  # the other melodic parts come down this much...
MAKE_ROOM_EQ_HZ = 2500.0  # ...with a gentle dip where a voice carries its words
MAKE_ROOM_EQ_DB = -3.0
MAKE_ROOM_EQ_Q = 0.7


def vocal_stem(voice: np.ndarray, sample_rate: int, *, frames: int, reverb: int) -> np.ndarray:
    """The planar ``(2, frames)`` stem of a mono sung ``voice``: high-passed, compressed (a
    singer's dynamics levelled as a pop mix does), centred, and sent to its reverb."""
    import pedalboard as pb

    mono = np.zeros(frames, dtype=np.float32)
    n = min(frames, len(voice))
    mono[:n] = voice[:n]
    chain = pb.Pedalboard(
        [
            pb.HighpassFilter(cutoff_frequency_hz=VOCAL_HIGHPASS_HZ),
            pb.Compressor(threshold_db=-22.0, ratio=3.0, attack_ms=6.0, release_ms=120.0),
        ]
    )
    mono = chain(mono[None, :], sample_rate)[0]
    stem = np.ascontiguousarray(np.vstack([mono, mono]), dtype=np.float32)
    process_stem(stem, sample_rate, reverb=reverb, highpass_hz=None)
    return stem


def make_room(stem: np.ndarray, sample_rate: int) -> None:
    """Lower a melodic stem (planar, in place) under a voice: ``MAKE_ROOM_DB`` down, and a
    gentle dip around ``MAKE_ROOM_EQ_HZ``."""
    import pedalboard as pb

    if stem.shape[-1] == 0:
        return
    eq = pb.PeakFilter(
        cutoff_frequency_hz=MAKE_ROOM_EQ_HZ, gain_db=MAKE_ROOM_EQ_DB, q=MAKE_ROOM_EQ_Q
    )
    stem[...] = eq(np.ascontiguousarray(stem), sample_rate) * np.float32(10 ** (-MAKE_ROOM_DB / 20))


def vocal_gain(voice: np.ndarray, backing: np.ndarray, sample_rate: int) -> float:
    """The gain that puts the (planar) ``voice`` ``VOCAL_OVER_BACKING_DB`` above the
    ``backing``, both measured as RMS over the 50 ms blocks where the voice sings (within
    20 dB of its loudest block)."""
    block = max(1, sample_rate // 20)
    n = min(voice.shape[-1], backing.shape[-1]) // block * block
    if n == 0:
        return 1.0
    v = (voice[..., :n].astype(np.float64) ** 2).reshape(-1, n // block, block).mean(axis=(0, 2))
    b = (backing[..., :n].astype(np.float64) ** 2).reshape(-1, n // block, block).mean(axis=(0, 2))
    if v.max() <= 1e-12:
        return 1.0
    active = v >= v.max() * 0.01
    rms_v, rms_b = math.sqrt(v[active].mean()), math.sqrt(b[active].mean())
    if rms_b <= 1e-9:
        return 1.0
    gain = rms_b / rms_v * 10 ** (VOCAL_OVER_BACKING_DB / 20)
    return float(min(10.0, max(0.05, gain)))
