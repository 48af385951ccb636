"""A hummed, sung or played demo recording turned into a clean melody on a grid.

Two ways to find the notes:

* ``"basic-pitch"``: Spotify's basic-pitch note model (ONNX, shipped in its wheel) run by
  ONNX Runtime, its notes reduced to one line (where notes overlap, the louder one). It is
  optional (``scripts/setup.sh`` installs it without TensorFlow); ``"auto"`` uses it when it
  is installed, because it measured best on both played and sung demos (``bench/transcribe.py``:
  onset F1 of the cleaned melody about 0.86 played and 0.88 sung, against 0.75 and 0.80).
* ``"f0"``, always available: WORLD's F0 tracker (``pyworld.dio`` refined by ``stonemask``,
  10 ms frames at 16 kHz) gives the pitch of each frame; frames count as voiced where the
  tracker finds a pitch, the waveform repeats at that period (normalised autocorrelation)
  and the level is within reach of the loudest part. Each voiced run is cut into notes where
  its pitch steps (an optimal piecewise-constant fit with a penalty per note, so vibrato
  does not cut) and where its level dips and rises again (a syllable sung anew on the same
  pitch). A note begins at its pitch step, or where its level has risen to its early peak
  (a sung note's voiced consonant comes before the beat), or at an attack (a peak of
  spectral flux) just before; its pitch is the median of its steady frames. Notes much
  quieter than a neighbour they touch (a consonant cut off its vowel, a reverb tail) go.

Then the beat: the tempo is the beat period (60-180 bpm) whose grid of beats, eighths and
sixteenths best explains the onsets (weighted by the notes' lengths), with a preference for
70-140 bpm where a melody fits two tempi an octave apart; a least-squares fit of the onsets
to that grid refines period and phase. A melody fits tempi an octave apart about equally
well (a slow ballad sung in eighths reads as a quick one in quarters), so a tempo the user
states (``tempo_hint``: "65 bpm" in an arrange prompt) picks the octave: of the best tempo,
its half and its double, the one nearest the hint. The metre (4/4, or 3/4 when clearly
better) and the downbeat are where the long notes and the phrase starts fall.
``clean_notes`` then puts the notes on the grid: short glitches merged away, the singer's
tuning removed, octave slips folded back, vibrato-split fragments joined, one note at a
time.

The melody's beat 0 (the downbeat of its first bar) sounds ``Transcription.offset`` seconds
into the recording: a note at beat ``b`` of the melody was sung at ``offset + b * 60 / tempo``
seconds. The offset is negative when the first bar began before the recording did (a pickup
sung right at the start).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overture.errors import InvalidInputError
from overture.melody_input import ImportedMelody, estimate_key
from overture.score import Note
from overture.studio.demo_audio import load_demo_audio
from overture.theory import TimeSignature

Progress = Callable[[str, float], None]
RawNote = tuple[float, float, float]  # onset s, offset s, MIDI pitch (fractional)

METHODS = ("auto", "f0", "basic-pitch")
F0_SAMPLE_RATE = 16000
BASIC_PITCH_SAMPLE_RATE = 22050
HOP_SECONDS = 0.01
F0_FLOOR_HZ = 65.0
F0_CEIL_HZ = 1600.0
MIN_NOTE_SECONDS = 0.06  # shorter raw notes are glitches
MIN_BPM, MAX_BPM = 60.0, 180.0
PREFERRED_BPM = (70.0, 140.0)
NOTE_VELOCITY = 90
INSTALL_BASIC_PITCH = (
    "basic-pitch is not installed: run scripts/setup.sh, or `pip install onnxruntime "
    "mir-eval pretty-midi scikit-learn 'resampy<0.4.3' 'setuptools<81' librosa` and "
    "`pip install --no-deps basic-pitch`"
)

# f0 segmentation, tuned on the bench (bench/transcribe.py).
_HARMONICITY = 0.45  # a voiced frame's normalised autocorrelation at its period, at least
_RANGE_DB = 45.0  # frames this far below the loudest are not part of a note
_STEP_PENALTY = 3.0  # squared semitone-frames a new note must save (see _segment_pitch)
_MIN_SEG_FRAMES = 4
_DIP_DB = 7.0  # a level dip this deep between two louder parts starts a new note
_REGAIN_DB = 6.0  # ...and the level after it is at most this below the level before
_RISE_DB = 1.5  # a soft-starting note begins where its level is within this of its peak
_SOFT_START_DB = 12.0  # a note whose first frame is within this of its peak starts softly
_ATTACK_DB = 25.0  # else it begins where its level is within this of its peak
_FLUX_BACK = 6  # frames: a note's onset moves back to a flux peak up to this much before it
_FLUX_STEP = 1.5  # ... at a pitch step, if the peak is this (times the voiced median flux)
_FLUX_ATTACK = 4.0  # ... elsewhere, if it is this
_BP_MODEL = "saved_models/icassp_2022/nmp.onnx"
_BP_ONSET = 0.6  # basic-pitch's onset and frame thresholds, and its shortest note (frames)
_BP_FRAME = 0.3
_BP_MIN_FRAMES = 8
_QUIET_DB = 8.0  # a note this much quieter than a neighbour it (almost) touches is dropped
_TOUCH_S = 0.12


@dataclass(frozen=True, slots=True)
class Transcription:
    """A demo's melody, cleaned onto its grid, and how it lines up with the recording."""

    melody: ImportedMelody  # notes in beats; its first bar starts at beat 0
    offset: float  # seconds into the recording where the melody's beat 0 falls
    tempo: float  # detected bpm (also melody.tempo)
    raw: tuple[RawNote, ...]  # the notes as found, before cleaning: (onset s, offset s, MIDI)
    method: str  # "f0" or "basic-pitch"
    duration: float  # seconds of audio read

    def to_dict(self) -> dict[str, object]:
        return {
            **self.melody.to_dict(),
            "method": self.method,
            "tempo": round(self.tempo, 2),
            "offset": round(self.offset, 4),
            "time_signature": str(self.melody.time_signature),
            "seconds": round(self.duration, 3),
        }


MIN_PITCHED_SECONDS = 0.5  # less pitched sound than this is no melody


def available_methods() -> tuple[str, ...]:
    """The transcription methods that can run here: "f0" always, "basic-pitch" if installed."""
    out = ["f0"]
    if importlib.util.find_spec("basic_pitch") and importlib.util.find_spec("onnxruntime"):
        out.append("basic-pitch")
    return tuple(out)


def transcribe(
    path: str | Path,
    *,
    method: str = "auto",
    tempo_hint: float | None = None,
    progress: Progress | None = None,
) -> Transcription:
    """Transcribe the melody of a demo recording (wav, flac, mp3, ogg or m4a; 2-60 s).

    ``method`` is "f0", "basic-pitch" or "auto" (basic-pitch when it is installed, as it
    measured best; otherwise f0). ``tempo_hint`` (bpm) settles which of two tempi an octave
    apart the melody is read in (see :func:`estimate_beat`).
    ``InvalidInputError`` says what is wrong with a file that cannot be read or holds no
    melody. ``progress(stage, fraction)`` is called as the stages go by.
    """
    path = Path(path)
    if method not in METHODS:
        raise InvalidInputError(
            f"unknown transcription method {method!r} (choose from {', '.join(METHODS)})"
        )
    can_bp = "basic-pitch" in available_methods()
    if method == "basic-pitch" and not can_bp:
        raise InvalidInputError(INSTALL_BASIC_PITCH)
    use = ("basic-pitch" if can_bp else "f0") if method == "auto" else method

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("reading the demo", 0.0)
    rate = F0_SAMPLE_RATE if use == "f0" else BASIC_PITCH_SAMPLE_RATE
    audio, sr = load_demo_audio(path, rate)
    duration = len(audio) / sr
    report("transcribing the demo", 0.005)
    if use == "basic-pitch" and pitched_seconds(audio, sr) < MIN_PITCHED_SECONDS:
        # The note model hears notes in noise; a demo must hold some pitch to have a tune.
        raise InvalidInputError(f"{path.name} has no melody in it (no pitched notes found)")
    if use == "basic-pitch":
        try:
            raw = basic_pitch_notes(audio, sr)
        except ImportError as e:  # installed, but a package it imports is broken or missing
            if method == "basic-pitch":
                raise InvalidInputError(f"{INSTALL_BASIC_PITCH} ({e})") from e
            use = "f0"
            audio, sr = load_demo_audio(path, F0_SAMPLE_RATE)
    if use == "f0":
        raw = f0_notes(audio, sr)
    if not raw:
        raise InvalidInputError(f"{path.name} has no melody in it (no pitched notes found)")
    if len(raw) < 2:
        raise InvalidInputError(
            f"{path.name} has no melody in it (a single pitched note found; a melody needs two)"
        )
    report("finding the beat", 0.01)
    beat = estimate_beat(raw, hint=tempo_hint)
    notes = clean_notes(raw, beat.tempo, beat.offset, grid=beat.grid)
    if len(notes) < 2:
        raise InvalidInputError(
            f"{path.name} has no melody in it (fewer than two notes after cleaning)"
        )
    bar = beat.beats_per_bar
    offset = beat.offset
    shift = (notes[0].start // bar) * bar
    if shift:
        notes = [Note(n.pitch, n.start - shift, n.duration, n.velocity) for n in notes]
        offset += shift * 60.0 / beat.tempo
    melody = ImportedMelody(
        source=path.name,
        notes=tuple(notes),
        tempo=round(beat.tempo, 3),
        time_signature=TimeSignature(bar, 4),
        key=estimate_key(notes),
        key_stated=False,
    )
    report("transcribed", 0.02)
    return Transcription(
        melody=melody,
        offset=offset,
        tempo=round(beat.tempo, 3),
        raw=tuple(raw),
        method=use,
        duration=duration,
    )


# ----------------------------------------------------------------------------- f0 notes
def f0_notes(audio: np.ndarray, sample_rate: int) -> list[RawNote]:
    """The notes of a monophonic recording from its F0 track (see the module's docstring)."""

    track = _voicing(audio, sample_rate)
    if track is None:
        return []
    x, f0, level, voiced = track
    flux = _flux(x, sample_rate, len(f0))
    flux = flux / (np.median(flux[voiced]) if voiced.any() else 1.0)
    midi = np.full(len(f0), np.nan)
    midi[voiced] = 69.0 + 12.0 * np.log2(f0[voiced] / 440.0)
    notes: list[tuple[float, float, float, float]] = []
    for a, b in _runs(voiced):
        notes.extend(_run_notes(midi, level, flux, a, b))
    return _drop_quiet(notes)


def _voicing(
    audio: np.ndarray, sample_rate: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The recording normalised, its F0 track (10 ms frames), level (dBFS) and which frames
    are pitched: voiced, loud enough and periodic (noise is not); None for pure silence."""
    import pyworld

    x = np.ascontiguousarray(audio, dtype=np.float64)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0.0:
        return None
    x = x / peak
    f0, times = pyworld.dio(
        x,
        sample_rate,
        f0_floor=F0_FLOOR_HZ,
        f0_ceil=F0_CEIL_HZ,
        frame_period=HOP_SECONDS * 1000,
    )
    f0 = pyworld.stonemask(x, f0, times, sample_rate)
    level = _level_db(x, sample_rate, len(f0))
    voiced = (f0 > 0) & (level > level.max() - _RANGE_DB)
    voiced &= _harmonicity(x, sample_rate, f0, voiced) >= _HARMONICITY
    return x, f0, level, _drop_short_runs(voiced, 3)


def pitched_seconds(audio: np.ndarray, sample_rate: int) -> float:
    """How long the recording holds a pitch (periodic, voiced sound), in seconds: near 0 for
    noise, speech-like hiss or clicks, whatever a note model might hear in them."""
    track = _voicing(audio, sample_rate)
    return 0.0 if track is None else float(track[3].sum()) * HOP_SECONDS


def _level_db(x: np.ndarray, sample_rate: int, frames: int) -> np.ndarray:
    """RMS level (dBFS) of 25 ms windows centred on each 10 ms frame."""
    hop = round(HOP_SECONDS * sample_rate)
    win = round(0.025 * sample_rate)
    sq = np.concatenate([np.zeros(win // 2), x * x, np.zeros(win)])
    csum = np.concatenate([[0.0], np.cumsum(sq)])
    starts = np.arange(frames) * hop
    ends = np.minimum(starts + win, len(sq))
    energy = (csum[ends] - csum[starts]) / win
    return 10.0 * np.log10(energy + 1e-12)


def _flux(x: np.ndarray, sample_rate: int, frames: int) -> np.ndarray:
    """Spectral flux of each 10 ms frame: how much new energy (log magnitude, up to 5 kHz)
    appears against the frame before, each bin compared with the loudest of its neighbours
    there (so vibrato adds little); 32 ms windows centred on the frames."""
    hop = round(HOP_SECONDS * sample_rate)
    n_fft = 512 if sample_rate <= 16000 else 1024
    pad = np.concatenate([np.zeros(n_fft // 2), x, np.zeros(n_fft)])
    idx = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :]
    spec = np.abs(np.fft.rfft(pad[idx] * np.hanning(n_fft), axis=1))
    top = int(5000 * n_fft / sample_rate)
    logs = np.log1p(100.0 * spec[:, :top])
    prev = np.maximum(
        np.maximum(logs[:-1], np.roll(logs[:-1], 1, axis=1)), np.roll(logs[:-1], -1, axis=1)
    )
    flux = np.maximum(logs[1:] - prev, 0.0).sum(axis=1)
    return np.concatenate([[0.0], flux])


def _harmonicity(x: np.ndarray, sample_rate: int, f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of each voiced frame at its pitch period (best of the lags
    one sample either side): near 1 for a periodic sound, near 0 for noise."""
    hop = round(HOP_SECONDS * sample_rate)
    out = np.zeros(len(f0))
    idx = np.flatnonzero(voiced)
    for i in idx:
        lag = round(float(sample_rate / f0[i]))
        n = max(3 * lag, round(0.03 * sample_rate))
        a = i * hop - n // 2
        if a < 0 or a + n + lag + 1 > len(x):
            continue
        seg = x[a : a + n]
        e0 = float(np.dot(seg, seg))
        best = 0.0
        for lg in (lag - 1, lag, lag + 1):
            other = x[a + lg : a + lg + n]
            den = math.sqrt(e0 * float(np.dot(other, other))) + 1e-12
            best = max(best, float(np.dot(seg, other)) / den)
        out[i] = best
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[a, b)`` index ranges where ``mask`` is true."""
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _drop_short_runs(mask: np.ndarray, frames: int) -> np.ndarray:
    out = mask.copy()
    for a, b in _runs(mask):
        if b - a < frames:
            out[a:b] = False
    return out


def _median3(p: np.ndarray) -> np.ndarray:
    if len(p) < 3:
        return p.copy()
    q = np.concatenate([[p[0]], p, [p[-1]]])
    return np.median(np.stack([q[:-2], q[1:-1], q[2:]]), axis=0)


def _segment_pitch(p: np.ndarray, penalty: float, min_len: int) -> list[int]:
    """Optimal piecewise-constant fit of ``p`` (least squares, ``penalty`` per segment,
    segments of at least ``min_len`` frames): the start index of each segment after the first.
    """
    n = len(p)
    if n < 2 * min_len:
        return []
    c1 = np.concatenate([[0.0], np.cumsum(p)])
    c2 = np.concatenate([[0.0], np.cumsum(p * p)])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    prev = np.zeros(n + 1, dtype=np.int64)
    for j in range(min_len, n + 1):
        i = np.arange(0, j - min_len + 1)
        ok = np.isfinite(best[i])
        if not ok.any():
            continue
        i = i[ok]
        length = j - i
        s1 = c1[j] - c1[i]
        cost = (c2[j] - c2[i]) - s1 * s1 / length
        total = best[i] + cost + penalty
        k = int(np.argmin(total))
        best[j] = total[k]
        prev[j] = i[k]
    cuts = []
    j = n
    while j > 0:
        j = int(prev[j])
        if j > 0:
            cuts.append(j)
    return sorted(cuts)


def _dips(level: np.ndarray, a: int, b: int) -> list[int]:
    """Frames in ``[a, b)`` where the level dips at least ``_DIP_DB`` below the louder parts
    on both sides (within 150 ms) and rises again about as loud as before: a syllable sung
    anew (a fading tail that flutters does not rise again)."""
    out: list[int] = []
    span = 15
    for i in range(a + 3, b - 3):
        v = level[i]
        if v > level[i - 1] or v > level[i + 1]:
            continue
        left = level[max(a, i - span) : i].max()
        right = level[i + 1 : min(b, i + span + 1)].max()
        if (
            min(left, right) - v >= _DIP_DB
            and right >= left - _REGAIN_DB
            and (not out or i - out[-1] >= 6)
        ):
            out.append(i)
    return out


def _run_notes(
    midi: np.ndarray, level: np.ndarray, flux: np.ndarray, a: int, b: int
) -> list[tuple[float, float, float, float]]:
    """Cut one voiced run ``[a, b)`` into notes: (onset s, offset s, pitch, peak level)."""
    p = _median3(midi[a:b])
    cuts = {a + c for c in _segment_pitch(p, _STEP_PENALTY, _MIN_SEG_FRAMES)}
    for d in _dips(level, a, b):
        if all(abs(d - c) >= 6 for c in cuts):
            cuts.add(d)
    bounds = [a, *sorted(cuts), b]
    notes: list[RawNote] = []
    pitch_cuts = cuts - set(_dips(level, a, b))
    for s, e in itertools.pairwise(bounds):
        if e - s < 2:
            continue
        # A note cut from the one before by a pitch step begins at the step. Otherwise it
        # begins where its level has risen close to its early peak: a voiced consonant starts
        # it softly (the vowel, on the beat, comes where the level tops out); an attack from
        # silence starts it when the sound does.
        onset = s
        if s not in pitch_cuts:
            peak_at = s + int(np.argmax(level[s : min(e, s + 15)]))
            top = float(level[peak_at])
            rise = _RISE_DB if level[s] >= top - _SOFT_START_DB else _ATTACK_DB
            while onset < peak_at and level[onset] < top - rise:
                onset += 1
        # An attack (new energy across the spectrum) shortly before marks the onset better.
        lo = max(0, onset - _FLUX_BACK)
        k = lo + int(np.argmax(flux[lo : onset + 3]))
        if flux[k] >= (_FLUX_STEP if s in pitch_cuts else _FLUX_ATTACK):
            onset = k
        # It ends where its level has fallen far below its peak (a reverb tail).
        top = float(level[s:e].max())
        end = e
        while end - 1 > onset and level[end - 1] < top - 25.0:
            end -= 1
        seg = midi[s:e]
        k = len(seg)
        steady = seg[k // 5 : k - k // 5] if k >= 10 else seg
        pitch = float(np.median(steady))
        notes.append((onset * HOP_SECONDS, end * HOP_SECONDS, pitch, top))
    return notes


def _drop_quiet(notes: list[tuple[float, float, float, float]]) -> list[RawNote]:
    """Notes much quieter than a neighbour they almost touch dropped: a voiced consonant cut
    off its vowel, or a fading tail."""
    keep = []
    for i, (s, e, p, top) in enumerate(notes):
        louder = False
        if i > 0 and s - notes[i - 1][1] < _TOUCH_S and notes[i - 1][3] - top >= _QUIET_DB:
            louder = True
        if i + 1 < len(notes) and notes[i + 1][0] - e < _TOUCH_S:
            louder = louder or notes[i + 1][3] - top >= _QUIET_DB
        if not louder:
            keep.append((s, e, p))
    return keep


# ----------------------------------------------------------------------------- basic-pitch
def basic_pitch_notes(audio: np.ndarray, sample_rate: int) -> list[RawNote]:
    """basic-pitch's notes for ``audio`` (at 22050 Hz), reduced to one line: where notes
    overlap, the louder one (the higher, at equal loudness) keeps sounding."""
    return _basic_pitch_events(_basic_pitch_output(audio, sample_rate))


def _import_basic_pitch() -> tuple[Any, Any, Any, Any]:
    import logging

    root = logging.getLogger()
    was = root.level
    root.setLevel(logging.ERROR)  # basic-pitch warns on import about the backends it lacks
    try:
        import basic_pitch
        from basic_pitch import constants, inference, note_creation
    finally:
        root.setLevel(was)
    return basic_pitch, constants, inference, note_creation


@functools.cache
def _basic_pitch_model() -> Any:
    """basic-pitch's ONNX model, loaded once a process."""
    basic_pitch, _, inference, _ = _import_basic_pitch()
    return inference.Model(Path(basic_pitch.__file__).parent / _BP_MODEL)


def _basic_pitch_output(audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """The model's frame, onset and contour activations for ``audio``."""
    if sample_rate != BASIC_PITCH_SAMPLE_RATE:
        raise ValueError(f"basic-pitch needs {BASIC_PITCH_SAMPLE_RATE} Hz audio")
    _, constants, inference, _ = _import_basic_pitch()
    model = _basic_pitch_model()
    n_overlap = 30
    overlap = n_overlap * constants.FFT_HOP
    hop = constants.AUDIO_N_SAMPLES - overlap
    x = np.concatenate([np.zeros(overlap // 2, dtype=np.float32), audio.astype(np.float32)])
    outputs: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for window, _ in inference.window_audio_file(x, hop):
        for k, v in model.predict(window[None, :, :]).items():
            outputs[k].append(v)
    return {
        k: inference.unwrap_output(np.concatenate(v), len(audio), n_overlap)
        for k, v in outputs.items()
    }


def _basic_pitch_events(output: dict[str, np.ndarray]) -> list[RawNote]:
    *_, note_creation = _import_basic_pitch()
    _, events = note_creation.model_output_to_notes(
        output,
        onset_thresh=_BP_ONSET,
        frame_thresh=_BP_FRAME,
        min_note_len=_BP_MIN_FRAMES,
        include_pitch_bends=False,
        melodia_trick=True,
    )
    notes = sorted((float(s), float(e), float(p), float(amp)) for s, e, p, amp, *_ in events)
    return _one_line(notes)


def _one_line(notes: list[tuple[float, float, float, float]]) -> list[RawNote]:
    """A monophonic line from overlapping (onset, offset, pitch, amplitude) notes: a note is
    dropped when a louder one (higher, at equal loudness) covers most of it, and otherwise
    ends where the next one starts."""
    kept: list[tuple[float, float, float, float]] = []
    for n in notes:
        covered = False
        for m in notes:
            if m is n:
                continue
            overlap = min(n[1], m[1]) - max(n[0], m[0])
            louder = (m[3], m[2]) > (n[3], n[2])
            if louder and overlap > 0.5 * (n[1] - n[0]):
                covered = True
                break
        if not covered:
            kept.append(n)
    kept.sort()
    out: list[RawNote] = []
    for i, (s, e, p, _) in enumerate(kept):
        if i + 1 < len(kept):
            e = min(e, kept[i + 1][0])
        if e - s > 1e-3:
            out.append((s, e, p))
    return out


# ----------------------------------------------------------------------------- the beat
@dataclass(frozen=True, slots=True)
class Beat:
    """The grid a recording's notes were played on."""

    tempo: float  # bpm
    offset: float  # seconds of a downbeat at or before the first note
    beats_per_bar: int  # 4 or 3
    grid: float  # beats: 0.25 (sixteenths) or 0.5 (eighths)


def estimate_beat(raw: Sequence[RawNote], hint: float | None = None) -> Beat:
    """Tempo, downbeat, metre and grid of a line of notes (see the module's docstring).

    ``hint`` (bpm): of the best tempo, its half and its double (within 60-180 bpm), the one
    nearest the hint is taken; a hint cannot move the tempo off that octave family."""
    on = np.array([n[0] for n in raw], dtype=np.float64)
    dur = np.array([max(0.05, n[1] - n[0]) for n in raw], dtype=np.float64)
    if len(on) < 2:
        return Beat(120.0, float(on[0]) if len(on) else 0.0, 4, 0.25)
    # Longer notes weigh more: they are more often on the beat.
    w = np.sqrt(np.minimum(dur, 1.0))
    bpms = np.arange(MIN_BPM, MAX_BPM + 0.01, 0.25)
    scores = np.array([_grid_fit(on, w, 60.0 / b)[0] for b in bpms])
    prior = np.where((bpms >= PREFERRED_BPM[0]) & (bpms <= PREFERRED_BPM[1]), 0.0, _OUTSIDE_PENALTY)
    k = int(np.argmax(scores - prior))
    if hint is not None and hint > 0:
        k = _octave_near(bpms, scores, k, hint)
    period = 60.0 / bpms[k]
    _, phase = _grid_fit(on, w, period)
    period, phase = _refine(on, period, phase)
    tempo = 60.0 / period
    bpb, downbeat = _metre(on, dur, period, phase)
    # The downbeat at or just before the first note.
    bar = bpb * period
    first = on[0] - 0.5 * (period / 4)
    offset = downbeat + math.floor((first - downbeat) / bar) * bar
    grid = _grid_size(on, period, phase)
    return Beat(float(tempo), float(offset), bpb, grid)


def _octave_near(bpms: np.ndarray, scores: np.ndarray, k: int, hint: float) -> int:
    """The index of the best-fitting tempo near whichever of ``bpms[k]``, its half and its
    double is nearest ``hint`` (in log tempo), searched within 3 % of it."""
    family = [bpms[k] * f for f in (0.5, 1.0, 2.0) if MIN_BPM <= bpms[k] * f <= MAX_BPM]
    target = min(family, key=lambda t: abs(math.log(t / hint)))
    near = np.flatnonzero(np.abs(bpms / target - 1.0) <= _OCTAVE_SEARCH)
    if len(near) == 0:
        return k
    return int(near[np.argmax(scores[near])])


_OCTAVE_SEARCH = 0.03  # how far from an exact half or double its best fit may lie
_LEVELS = ((1.0, 1.0), (2.0, 0.55), (4.0, 0.25))  # (subdivisions per beat, credit)
_OUTSIDE_PENALTY = 0.05  # score off a tempo outside PREFERRED_BPM
_ONSET_SIGMA_S = 0.035  # how far a played or sung onset strays from its grid point
_PHRASE_GAP = 0.5  # beats of rest before a phrase's first note
_THREE_FOUR = 1.6  # 3/4 is chosen when it scores this much better than 4/4


def _credit(rel: np.ndarray, period: float) -> np.ndarray:
    """The credit of onsets ``rel`` beats from a beat: that of the coarsest grid level
    (beat, eighth, sixteenth) they are near, by a Gaussian of their distance from it."""
    sigma = min(_ONSET_SIGMA_S, 0.1 * period) / period  # beats
    best = np.zeros_like(rel)
    for sub, credit in _LEVELS:
        d = np.abs(rel * sub - np.round(rel * sub)) / sub
        best = np.maximum(best, credit * np.exp(-0.5 * (d / sigma) ** 2))
    return best


def _grid_fit(on: np.ndarray, w: np.ndarray, period: float) -> tuple[float, float]:
    """How well onsets fit a grid of beats of ``period`` seconds (eighths and sixteenths
    earning less), less what onsets at random times would earn (so a finer grid, which
    explains more by chance, is not favoured for it); and the best phase (seconds)."""
    phases = np.linspace(0.0, period, 48, endpoint=False)
    rel = (on[None, :] - phases[:, None]) / period  # in beats
    score = (_credit(rel, period) * w[None, :]).sum(axis=1) / w.sum()
    chance = float(_credit(np.linspace(0.0, 1.0, 400, endpoint=False), period).mean())
    k = int(np.argmax(score))
    return float(score[k]) - chance, float(phases[k])


def _refine(on: np.ndarray, period: float, phase: float) -> tuple[float, float]:
    """Least-squares period and phase of the onsets that lie near the sixteenth grid."""
    for _ in range(2):
        idx = np.round((on - phase) / (period / 4))
        resid = on - (phase + idx * period / 4)
        ok = np.abs(resid) < 0.3 * period / 4
        if ok.sum() < 3 or np.ptp(idx[ok]) == 0:
            break
        a = np.vstack([np.ones(ok.sum()), idx[ok]]).T
        (phase_new, step), *_ = np.linalg.lstsq(a, on[ok], rcond=None)
        if not (0.5 * period / 4 < step < 2 * period / 4):
            break
        period, phase = float(step * 4), float(phase_new)
    return period, phase % period


def _metre(on: np.ndarray, dur: np.ndarray, period: float, phase: float) -> tuple[int, float]:
    """Beats per bar (4, or 3 when clearly better) and the time of a downbeat.

    Measured on the bench's melodies: a phrase (after a rest) starts on a downbeat, and ends
    on beat 3 of a 4/4 bar or beat 2 of a 3/4 one; strong beats carry more notes. Each
    candidate downbeat and metre is scored by those, and the best is taken.
    """
    beat = (on - phase) / period
    idx = np.round(beat).astype(int)
    near = np.abs(beat - idx) < 0.2
    end = on + dur
    gap_before = np.concatenate([[np.inf], (on[1:] - end[:-1]) / period])
    gap_after = np.concatenate([(on[1:] - end[:-1]) / period, [np.inf]])
    starts = near & (gap_before > _PHRASE_GAP)
    ends = near & (gap_after > _PHRASE_GAP)
    best: dict[int, tuple[float, int]] = {}
    for bpb in (4, 3):
        strong = (0, 2) if bpb == 4 else (0,)
        weak = tuple(b for b in range(bpb) if b not in strong)
        cadence = 2 if bpb == 4 else 1
        scores = []
        for r in range(bpb):
            pos = (idx - r) % bpb
            n_strong = sum(int(np.sum(near & (pos == b))) for b in strong) / len(strong)
            n_weak = sum(int(np.sum(near & (pos == b))) for b in weak) / len(weak)
            scores.append(
                3.0 * np.sum(starts & (pos == 0))
                + 1.0 * np.sum(ends & (pos == cadence))
                + 0.5 * (n_strong - n_weak)
            )
        r = int(np.argmax(scores))
        best[bpb] = (float(scores[r]), r)
    bpb = 3 if best[3][0] > _THREE_FOUR * max(best[4][0], 1e-9) else 4
    return bpb, phase + best[bpb][1] * period


def _grid_size(on: np.ndarray, period: float, phase: float) -> float:
    """0.5 (eighths) when nearly every onset is on an eighth, else 0.25 (sixteenths)."""
    rel = (on - phase) / period
    off8 = np.abs(rel * 2 - np.round(rel * 2)) / 2
    return 0.5 if np.mean(off8 < 0.08) >= 0.95 else 0.25


# ----------------------------------------------------------------------------- cleaning
def tuning_offset(raw: Sequence[RawNote]) -> float:
    """The singer's tuning against A440, in semitones (-0.5 to 0.5): the duration-weighted
    circular mean of the notes' fractional pitches."""
    if not raw:
        return 0.0
    frac = np.array([n[2] for n in raw]) * 2 * np.pi
    w = np.array([max(1e-3, n[1] - n[0]) for n in raw])
    z = np.sum(w * np.exp(1j * frac))
    if abs(z) < 1e-9:
        return 0.0
    return float(np.angle(z) / (2 * np.pi))


def clean_notes(
    raw: Sequence[RawNote],
    tempo: float,
    offset: float,
    *,
    grid: float = 0.25,
    min_seconds: float = MIN_NOTE_SECONDS,
    velocity: int = NOTE_VELOCITY,
) -> list[Note]:
    """Raw notes (seconds, fractional MIDI) as a clean melody on a grid: notes in beats from
    ``offset`` seconds at ``tempo`` bpm, starts and ends on multiples of ``grid`` beats.

    In order: the tuning offset (``tuning_offset``) is removed and pitches rounded; notes
    shorter than ``min_seconds`` are merged into a neighbour (the one at the same pitch, else
    the preceding one, else the next); a note an octave away from both its neighbours, which
    are near each other, is folded back to them; same-pitch fragments that touch are joined
    unless the second starts on an eighth-note position (a re-sung note); onsets and ends are
    quantised; of notes on the same grid step the longer one stays; each note ends by the next
    one's start and a gap shorter than one grid step is closed. Notes before ``offset`` that
    land before beat 0 are moved to beat 0.
    """
    if tempo <= 0:
        raise ValueError("tempo must be positive")
    spb = 60.0 / tempo
    tune = tuning_offset(raw)
    notes = sorted(
        ([float(s), float(max(e, s)), round(float(p) - tune)] for s, e, p in raw),
        key=lambda n: n[0],
    )
    # Monophonic in time first: a note ends where the next one starts.
    for a, b in itertools.pairwise(notes):
        a[1] = min(a[1], b[0])
    notes = [n for n in notes if n[1] > n[0]]
    notes = _merge_short(notes, min_seconds)
    notes = _fold_octaves(notes)
    notes = _join_fragments(notes, spb, offset, grid)

    out: list[Note] = []
    for s, e, p in notes:
        qs = max(0.0, round((s - offset) / spb / grid) * grid)
        qe = round((e - offset) / spb / grid) * grid
        if qe <= qs:
            qe = qs + grid
        if out and qs <= out[-1].start + 1e-9:  # the same grid step: the longer stays
            if qe - qs > out[-1].duration:
                out[-1] = Note(int(p), out[-1].start, qe - out[-1].start, velocity)
            continue
        out.append(Note(int(p), qs, qe - qs, velocity))
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        end = a.end
        if end > b.start or b.start - end < grid - 1e-9:
            end = b.start
        out[i] = Note(a.pitch, a.start, round(end - a.start, 6), a.velocity)
    return [n for n in out if n.duration > 1e-9]


def _merge_short(notes: list[list], min_seconds: float) -> list[list]:
    """Notes shorter than ``min_seconds`` merged into a neighbour."""
    notes = [list(n) for n in notes]
    changed = True
    while changed and len(notes) > 1:
        changed = False
        lengths = [n[1] - n[0] for n in notes]
        i = int(np.argmin(lengths))
        if lengths[i] >= min_seconds:
            break
        n = notes[i]
        prev = notes[i - 1] if i > 0 else None
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        close = 0.05  # seconds: a neighbour this near is joined; a farther one is not touched
        if prev is not None and nxt is not None and prev[2] == nxt[2] and nxt[0] - prev[1] < 0.15:
            prev[1] = nxt[1]  # a glitch inside one note
            del notes[i : i + 2]
        elif (
            prev is not None
            and n[0] - prev[1] < close
            and (nxt is None or prev[2] == n[2] or nxt[0] - n[1] >= close)
        ):
            prev[1] = n[1]
            del notes[i]
        elif nxt is not None and nxt[0] - n[1] < close:
            nxt[0] = n[0] if nxt[2] == n[2] else nxt[0]
            del notes[i]
        else:
            del notes[i]
        changed = True
    return notes


_HARMONIC_SLIPS = (12, 24, 19, 7)  # octaves, and the third harmonic (and its octave below)


def _fold_octaves(notes: list[list]) -> list[list]:
    """A note an octave (two octaves, or a twelfth: a pitch tracker's slips to a harmonic)
    away from both neighbours, which lie within a fifth of each other, moved back to them;
    the first and last note likewise against their one neighbour."""

    def fold(p: int, ref: float, near: float) -> int:
        if abs(p - ref) < 9:
            return p
        for slip in _HARMONIC_SLIPS:
            for q in (p - slip, p + slip):
                if abs(q - ref) <= near:
                    return q
        return p

    for i in range(1, len(notes) - 1):
        a, b = notes[i - 1][2], notes[i + 1][2]
        if abs(a - b) <= 7:
            notes[i][2] = fold(notes[i][2], (a + b) / 2, 6)
    if len(notes) >= 3:
        notes[0][2] = fold(notes[0][2], notes[1][2], 5)
        notes[-1][2] = fold(notes[-1][2], notes[-2][2], 5)
    return notes


def _join_fragments(notes: list[list], spb: float, offset: float, grid: float) -> list[list]:
    """Same-pitch notes that touch (a gap under 40 ms) joined, unless the second starts near
    an eighth-note position (a note sung again)."""
    if not notes:
        return notes
    out = [list(notes[0])]
    eighth = 0.5 * spb
    for n in notes[1:]:
        last = out[-1]
        if n[2] == last[2] and n[0] - last[1] < 0.04:
            rel = (n[0] - offset) / eighth
            on_grid = abs(rel - round(rel)) * eighth < min(0.04, 0.2 * eighth)
            if not on_grid:
                last[1] = max(last[1], n[1])
                continue
        out.append(list(n))
    return out
