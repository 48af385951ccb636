"""FluidSynth rendering: every part once, as a stereo float32 stem, on a pool of processes.

Measured on the 2-core target machine with MuseScore_General_Full.sf3 (bench/render.py, 180 s,
5 parts, ~3,000 notes): selecting a preset decodes its Ogg Vorbis samples (piano 1.7 s, strings
2.9 s, warm pad 0.4 s) and rendering takes 6-7 s of CPU (piano chords 2.7 s, warm pad 2.5-3.1
s, drums 0.4 s). Both are CPU-bound in C, so the work is spread over worker processes:

* Each worker keeps one ``fluidsynth.Synth`` per (soundfont, sample rate) for its whole life,
  with every preset it has used left selected on a channel of its own, so a later song with
  the same instruments decodes nothing.
* A part is cut at fixed points in time into segments of ~30 s (not drums, nor presets with
  exclusive classes, whose voices interact across notes). A segment renders the notes that
  start in it, up to where their last voice has died; the voices of different notes are
  independent in FluidSynth, so the stem is the segments added up, in a fixed order. That
  lets two workers share one heavy part, and the cut points depend only on the score, so the
  samples do not depend on the number of workers or on which worker rendered what.
* Workers render straight into one shared memory arena (a memfd mapped by every process), so
  no audio is pickled; the parent only adds up the segment tails.
* The parent plans who does what from cost estimates (voices per key and release times read
  from the soundfont headers, decode cost from compressed sample sizes, what each worker has
  already loaded) and lets an idle worker take work queued for the other when that helps.

Events are placed on FluidSynth's 64-frame block grid: FluidSynth applies events only between
its fixed 64-frame blocks, so calling it with arbitrary lengths would quantise them anyway (to
the next boundary); rounding to the nearest boundary halves the error to at most 0.73 ms.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import mmap
import os
import signal
import subprocess
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from overture.errors import InvalidInputError, OutputError, RenderError, SoundfontError
from overture.render import pcm_cache
from overture.render.soundfont import SoundfontInfo, note_cost, soundfont_info
from overture.score import Part, Score

log = logging.getLogger(__name__)

BLOCK = 64  # FluidSynth's fixed internal block (FLUID_BUFSIZE): events apply between blocks
GAIN = 0.2  # FluidSynth's default; the mix is normalised later, float output never clips
POLYPHONY = 256  # per synth and part; the densest benchmark part peaks at 48 voices
MIDI_CHANNELS = 64  # presets stay selected (samples stay decoded) on channels of their own
SAMPLE_MEMORY_BUDGET = 1 << 30  # per worker: least recently used presets beyond this unload
SEGMENT_SECONDS = 30.0
TAIL_SECONDS = 12.0  # voices still sounding this long after a segment's last note-off are cut
TAIL_CHUNK_BLOCKS = 64  # after the last event, render 4096 frames at a time until silent

# Cost model (seconds, measured on the 2-core target machine): rendering costs ~0.45 ms per
# voice-second (piano 0.59, strings 0.34, drums 0.21), plus a floor per rendered block.
_S_PER_VOICE_SECOND = 0.45e-3
_S_PER_BLOCK = 0.05 / (180 * 44100 / BLOCK)  # 0.05 s to run an idle synth for 180 s
_FX_S_PER_FRAME = 0.47 / (180 * 44100)  # high-pass + half-rate reverb on a 180 s stem
_WRITE_S_PER_FRAME = 0.50 / (180 * 44100)  # 24-bit FLAC of a 180 s stem, tags included

# Errors a worker reports by name and the parent raises again (anything else: RenderError).
_ERRORS: dict[str, type[Exception]] = {
    e.__name__: e for e in (SoundfontError, OutputError, InvalidInputError, RenderError)
}

_FLUID_LOG_LEVELS_SILENCED = (2, 3, 4)  # FLUID_WARN, FLUID_INFO, FLUID_DBG
_CHANNEL_TYPE_MELODIC = 0
_CHANNEL_TYPE_DRUM = 1


# ------------------------------------------------------------------------------ C bindings


class _Lib:
    """ctypes prototypes for the libfluidsynth calls used here (declared once per process).

    pyfluidsynth's ``Synth`` creates the synth and settings; the hot calls go straight to the
    library it loaded (``fluidsynth._fl``): ``fluid_synth_write_float`` is not wrapped and the
    wrappers of the others add Python work per note.
    """

    def __init__(self) -> None:
        from ctypes import CFUNCTYPE, c_char_p, c_int, c_void_p

        try:
            import fluidsynth
        except (ImportError, OSError) as exc:  # pyfluidsynth raises ImportError w/o the library
            raise RenderError(
                f"FluidSynth is not available ({exc}); install the fluidsynth package"
            ) from exc
        self.module = fluidsynth
        lib = fluidsynth._fl

        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            return CFUNCTYPE(restype, *argtypes)((name, lib))

        vp, i = c_void_p, c_int
        self.write_float = fn("fluid_synth_write_float", i, vp, i, vp, i, i, vp, i, i)
        self.noteon = fn("fluid_synth_noteon", i, vp, i, i, i)
        self.noteoff = fn("fluid_synth_noteoff", i, vp, i, i)
        self.cc = fn("fluid_synth_cc", i, vp, i, i, i)
        self.pitch_bend = fn("fluid_synth_pitch_bend", i, vp, i, i)
        self.program_select = fn("fluid_synth_program_select", i, vp, i, i, i, i)
        self.unset_program = fn("fluid_synth_unset_program", i, vp, i)
        self.set_channel_type = fn("fluid_synth_set_channel_type", i, vp, i, i)
        self.all_sounds_off = fn("fluid_synth_all_sounds_off", i, vp, i)
        self.active_voices = fn("fluid_synth_get_active_voice_count", i, vp)
        self.sfload = fn("fluid_synth_sfload", i, vp, c_char_p, i)
        set_log = fn("fluid_set_log_function", vp, i, vp, vp)
        for level in _FLUID_LOG_LEVELS_SILENCED:  # no "No preset found" noise on stderr
            set_log(level, None, None)


_LIB: _Lib | None = None


def _lib() -> _Lib:
    global _LIB
    if _LIB is None:
        _LIB = _Lib()
    return _LIB


# ---------------------------------------------------------------------------------- engine


class _Engine:
    """One FluidSynth instance with one soundfont loaded, reused for every job of a process."""

    def __init__(self, soundfont: str, sample_rate: int) -> None:
        lib = _lib()
        self.lib = lib
        settings = {
            "synth.dynamic-sample-loading": 1,  # load (SF3: decode) a preset's samples on use
            "synth.reverb.active": 0,  # reverb is added per stem after synthesis
            "synth.chorus.active": 0,
            "synth.polyphony": POLYPHONY,
            "synth.cpu-cores": 1,  # parallelism comes from the worker processes
            "synth.threadsafe-api": 0,  # one thread per synth: skip the API mutex
        }
        self.synth = lib.module.Synth(
            gain=GAIN, samplerate=float(sample_rate), channels=MIDI_CHANNELS, **settings
        )
        self.ptr = self.synth.synth
        self.path = soundfont
        self.sfid = self._load(soundfont)
        self.fallback_sfid: int | None = None  # the SF3 itself, if its PCM twin fails us
        self.channels: OrderedDict[tuple[int, int, bool], int] = OrderedDict()
        self.memory: dict[tuple[int, int, bool], int] = {}  # estimated bytes per preset
        self.scratch = np.zeros(2 * BLOCK * TAIL_CHUNK_BLOCKS, dtype=np.float32)

    def _load(self, soundfont: str) -> int:
        sfid = self.lib.sfload(self.ptr, os.fsencode(soundfont), 0)
        if sfid < 0:
            raise SoundfontError(
                f"FluidSynth cannot load the soundfont {soundfont}; "
                "install musescore-general-soundfont or pass --soundfont PATH"
            )
        return sfid

    def _font_for(self, bank: int, program: int) -> int:
        """The loaded soundfont to select (bank, program) from: with a PCM twin of an SF3
        (see ``pcm_cache``), the twin once the preset's samples are decoded into it; the SF3
        itself if the twin cannot be written (disk full, read-only cache)."""
        if not pcm_cache.is_twin(self.path):
            return self.sfid
        try:
            preset = soundfont_info(self.path).presets.get((bank, program))
            if preset is not None:
                pcm_cache.ensure_samples(self.path, preset.samples)
            return self.sfid
        except OSError as exc:
            log.warning("soundfont cache not writable (%s); decoding the SF3 instead", exc)
            if self.fallback_sfid is None:
                self.fallback_sfid = self._load(str(pcm_cache.source_of(self.path)))
            return self.fallback_sfid

    def channel(self, bank: int, program: int, drums: bool, memory: int = 0) -> int:
        """The channel holding preset (bank, program), selecting it (and decoding) if new.

        ``memory`` is the preset's estimated sample memory: least recently used presets are
        unselected (FluidSynth then frees their samples) to keep the total under budget.
        """
        key = (bank, program, drums)
        ch = self.channels.get(key)
        if ch is not None:
            self.channels.move_to_end(key)
            return ch
        while self.channels and sum(self.memory.values()) + memory > SAMPLE_MEMORY_BUDGET:
            old, old_ch = next(iter(self.channels.items()))
            del self.channels[old]
            self.memory.pop(old, None)
            self.lib.unset_program(self.ptr, old_ch)
        pool = [c for c in range(MIDI_CHANNELS) if (c % 16 == 9) == drums]
        used = set(self.channels.values())
        free = [c for c in pool if c not in used]
        if free:
            ch = free[0]
        else:  # evict the least recently used preset of the same kind
            old = next(k for k, c in self.channels.items() if c in pool)
            ch = self.channels.pop(old)
            self.memory.pop(old, None)
            self.lib.unset_program(self.ptr, ch)
        ctype = _CHANNEL_TYPE_DRUM if drums else _CHANNEL_TYPE_MELODIC
        self.lib.set_channel_type(self.ptr, ch, ctype)
        sfid = self._font_for(bank, program)
        if self.lib.program_select(self.ptr, ch, sfid, bank, program) != 0:
            raise SoundfontError(f"the soundfont has no preset bank {bank} program {program}")
        self.channels[key] = ch
        self.memory[key] = memory
        return ch

    def _condition_voices(self, ch: int, key: int) -> None:
        """Put every voice slot in the same state before a job, whatever ran before.

        FluidSynth reuses voice objects, and a reused voice starts by ramping from the output
        gains its previous note left behind (the 64-frame anti-click pan ramp of FluidSynth
        2.1+): the first block of every note would depend on the history of the process
        (measured: up to 0.017 on a drum stem peaking at 0.6). Playing one note per slot on
        this job's own channel and preset, for two blocks, leaves every slot with the same
        gains. The probe key has no exclusive class, so its voices pile up instead of choking
        each other. Costs ~2 ms per job.
        """
        lib, ptr = self.lib, self.ptr
        scratch = self.scratch.ctypes.data
        half = 4 * (self.scratch.shape[0] // 2)
        for _ in range(2 * POLYPHONY):
            if lib.active_voices(ptr) >= POLYPHONY:
                break
            if lib.noteon(ptr, ch, key, 100) != 0:
                break
        lib.write_float(ptr, 2 * BLOCK, scratch, 0, 1, scratch + half, 0, 1)
        lib.all_sounds_off(ptr, ch)
        lib.write_float(ptr, 2 * BLOCK, scratch, 0, 1, scratch + half, 0, 1)

    def render(self, job: RenderJob, arena: np.ndarray) -> float:
        """Render ``job`` into ``arena``; returns the seconds spent selecting its preset."""
        lib, ptr = self.lib, self.ptr
        t0 = time.process_time()
        ch = self.channel(job.bank, job.program, job.drums, job.memory)
        decode = time.process_time() - t0
        lib.all_sounds_off(ptr, ch)
        for ctrl, value in ((7, job.volume), (10, job.pan), (11, 127), (1, 0), (64, 0)):
            lib.cc(ptr, ch, ctrl, value)
        lib.cc(ptr, ch, 91, 0)  # no sends to FluidSynth's (disabled) effects
        lib.cc(ptr, ch, 93, 0)
        lib.pitch_bend(ptr, ch, 8192)
        self._condition_voices(ch, job.probe_key)

        base = arena.ctypes.data
        scratch = self.scratch.ctypes.data
        scratch_frames = self.scratch.shape[0] // 2
        n = job.frames
        split_f = job.split * BLOCK
        write = lib.write_float

        def render_blocks(a: int, b: int) -> None:
            f0, f1 = a * BLOCK, b * BLOCK
            while f0 < f1:
                if f0 >= n:  # past the end of the song: keep FluidSynth's block grid aligned
                    cnt = min(f1 - f0, scratch_frames)
                    write(ptr, cnt, scratch, 0, 1, scratch + 4 * scratch_frames, 0, 1)
                    f0 += cnt
                    continue
                if f0 < split_f:
                    stop = min(f1, split_f, n)
                    left = base + 4 * (job.stem_offset + f0)
                    right = left + 4 * n
                else:
                    stop = min(f1, n)
                    left = base + 4 * (job.tail_offset + f0 - split_f)
                    right = left + 4 * job.tail_frames
                write(ptr, stop - f0, left, 0, 1, right, 0, 1)
                f0 = stop

        pos = job.start
        noteon, noteoff = lib.noteon, lib.noteoff
        ev = job.events
        for blk, kind, key, vel in zip(
            ev[:, 0].tolist(), ev[:, 1].tolist(), ev[:, 2].tolist(), ev[:, 3].tolist(), strict=True
        ):
            if blk >= job.cap:
                break
            if blk > pos:
                render_blocks(pos, blk)
                pos = blk
            if kind:
                noteon(ptr, ch, key, vel)
            else:
                noteoff(ptr, ch, key)
        while pos < job.cap:
            nxt = min(job.cap, pos + TAIL_CHUNK_BLOCKS)
            render_blocks(pos, nxt)
            pos = nxt
            if lib.active_voices(ptr) == 0:
                break
        lib.all_sounds_off(ptr, ch)
        write(ptr, BLOCK, scratch, 0, 1, scratch + 4 * scratch_frames, 0, 1)  # voices freed
        return decode


_ENGINES: dict[tuple[str, int], _Engine] = {}


def _engine(soundfont: str, sample_rate: int) -> _Engine:
    key = (soundfont, sample_rate)
    eng = _ENGINES.get(key)
    if eng is None:
        eng = _ENGINES[key] = _Engine(soundfont, sample_rate)
    return eng


# ------------------------------------------------------------------------------------ tasks


@dataclass(slots=True)
class RenderJob:
    """Render the notes of one part that start in [start, split) blocks, up to ``cap``.

    Frames before ``split * 64`` go to the part's stem in the arena (no other job writes
    there); later ones (the ringing tail) go to this job's own tail region, which the parent
    adds to the stem afterwards.
    """

    task_id: int
    part: int
    bank: int
    program: int
    drums: bool
    volume: int
    pan: int
    start: int  # blocks
    split: int
    cap: int
    frames: int  # frames in the stem (song length)
    stem_offset: int  # arena float index of the stem's left plane (right follows)
    tail_offset: int  # arena float index of this job's tail left plane
    tail_frames: int
    events: np.ndarray  # int32 (m, 4): block, on (1) / off (0), key, velocity
    soundfont: str
    sample_rate: int
    cost: float  # estimated seconds, not counting the preset's decode
    probe_key: int = 60  # a key the preset has a sample for (see _Engine._condition_voices)
    memory: int = 0  # estimated bytes of the preset's samples once loaded

    @property
    def preset(self) -> tuple[int, int, bool]:
        return (self.bank, self.program, self.drums)


@dataclass(slots=True)
class FxTask:
    task_id: int
    part: int
    stem_offset: int
    frames: int
    reverb: int
    highpass_hz: float | None
    sample_rate: int
    cost: float


@dataclass(slots=True)
class WriteTask:
    task_id: int
    part: int
    stem_offset: int
    frames: int
    gain: float
    path: str
    sample_rate: int
    tags: dict[str, str] | None
    cost: float


Task = RenderJob | FxTask | WriteTask


def stem_view(arena: np.ndarray, offset: int, frames: int) -> np.ndarray:
    """The planar ``(2, frames)`` view of a stem stored at ``offset`` in ``arena``."""
    return arena[offset : offset + 2 * frames].reshape(2, frames)


def run_task(task: Task, arena: np.ndarray) -> dict[str, float]:
    """Execute one task in this process; returns the CPU seconds it took, by kind.

    CPU rather than wall time: the scheduler learns costs from it, and other processes on the
    machine do not inflate it.
    """
    t0 = time.process_time()
    if isinstance(task, RenderJob):
        decode = _engine(task.soundfont, task.sample_rate).render(task, arena)
        return {"decode": decode, "synth": time.process_time() - t0 - decode}
    if isinstance(task, FxTask):
        from overture.render.mix import process_stem

        stem = stem_view(arena, task.stem_offset, task.frames)
        process_stem(stem, task.sample_rate, reverb=task.reverb, highpass_hz=task.highpass_hz)
        return {"effects": time.process_time() - t0}
    if isinstance(task, WriteTask):
        from overture.audio import write_audio

        stem = stem_view(arena, task.stem_offset, task.frames)
        if task.gain != 1.0:
            stem = stem * np.float32(task.gain)
        write_audio(Path(task.path), stem.T, task.sample_rate, tags=task.tags)
        return {"write": time.process_time() - t0}
    raise TypeError(f"unknown task {task!r}")


# ---------------------------------------------------------------------------------- planning


@dataclass(slots=True)
class PartPlan:
    index: int
    name: str
    preset: tuple[int, int, bool] | None  # None: nothing in the soundfont fits; silent stem
    jobs: list[RenderJob]
    cost: float  # estimated render seconds, all jobs


@dataclass(slots=True)
class RenderPlan:
    frames: int
    sample_rate: int
    soundfont: str
    parts: list[PartPlan]
    arena_floats: int
    info: SoundfontInfo

    @property
    def jobs(self) -> list[RenderJob]:
        return [j for p in self.parts for j in p.jobs]

    def decode_cost(self, preset: tuple[int, int, bool]) -> float:
        pi = self.info.presets.get(preset[:2])
        return self.info.decode_cost(pi.samples) if pi is not None else 0.0


def song_frames(score: Score, sample_rate: int) -> int:
    """Length of every stem: ``round(score.duration * sample_rate)`` frames."""
    return max(0, round(score.duration * sample_rate))


def _part_events(
    part: Part, seconds_per_beat: float, sample_rate: int, n_blocks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Notes of ``part`` on the block grid: (start block, end block, key, velocity), by start.

    A note that starts while the same key still sounds ends there (FluidSynth would release
    the old voice on the new note-on anyway, and the old note-off must not cut the new note).
    Notes past the end are dropped; notes ringing past it are cut by the end of the render.
    """
    if not part.notes:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e, e
    raw = np.array(
        [(n.pitch, n.start, n.duration, n.velocity) for n in part.notes], dtype=np.float64
    )
    frames_per_beat = seconds_per_beat * sample_rate
    start = np.rint(raw[:, 1] * frames_per_beat / BLOCK).astype(np.int64)
    end = np.rint((raw[:, 1] + raw[:, 2]) * frames_per_beat / BLOCK).astype(np.int64)
    key = np.clip(raw[:, 0], 0, 127).astype(np.int64)
    vel = np.clip(np.rint(raw[:, 3]), 1, 127).astype(np.int64)
    ok = (raw[:, 2] > 0) & (start < n_blocks) & np.isfinite(raw).all(axis=1)
    start, end, key, vel = start[ok], end[ok], key[ok], vel[ok]
    start = np.maximum(start, 0)
    end = np.maximum(end, start + 1)
    # Same key and start: keep the longest (then loudest) note only.
    order = np.lexsort((-vel, -end, start, key))
    start, end, key, vel = start[order], end[order], key[order], vel[order]
    dup = np.zeros(len(key), dtype=bool)
    dup[1:] = (key[1:] == key[:-1]) & (start[1:] == start[:-1])
    start, end, key, vel = start[~dup], end[~dup], key[~dup], vel[~dup]
    same_next = np.zeros(len(key), dtype=bool)
    same_next[:-1] = key[1:] == key[:-1]
    nxt = np.append(start[1:], np.iinfo(np.int64).max)
    end = np.where(same_next & (nxt < end), nxt, end)
    end = np.minimum(end, n_blocks)
    order = np.lexsort((key, start))
    return start[order], end[order], key[order], vel[order]


def plan_render(score: Score, soundfont: Path | str, sample_rate: int) -> RenderPlan:
    """Cut the score into render jobs and lay out the shared arena (parent process, ~ms)."""
    if not (math.isfinite(score.tempo) and score.tempo > 0):
        raise InvalidInputError(f"cannot render a score at tempo {score.tempo!r}")
    if not math.isfinite(score.duration) or sample_rate <= 0:
        raise InvalidInputError(
            f"cannot render {score.duration!r} s at {sample_rate!r} Hz (duration, sample rate)"
        )
    info = soundfont_info(soundfont)
    sf = str(Path(soundfont).resolve())
    n = song_frames(score, sample_rate)
    n_blocks = -(-n // BLOCK)
    spb = 60.0 / score.tempo
    seg_blocks = max(1, round(SEGMENT_SECONDS * sample_rate / BLOCK))
    tail_blocks = math.ceil(TAIL_SECONDS * sample_rate / BLOCK)
    offset = 2 * n * len(score.parts)  # tails follow the stems
    task_id = 0
    parts: list[PartPlan] = []
    for index, part in enumerate(score.parts):
        drums = bool(part.is_drums)
        found = info.resolve(part.bank if not drums else 128, part.program, drums=drums)
        preset = (found[0], found[1], drums) if found is not None else None
        start, end, key, vel = _part_events(part, spb, sample_rate, n_blocks)
        jobs: list[RenderJob] = []
        if preset is None or len(start) == 0 or n == 0:
            parts.append(PartPlan(index, part.name, preset, jobs, 0.0))
            continue
        pinfo = info.presets[preset[:2]]
        keys = np.flatnonzero((pinfo.voices > 0) & ~pinfo.exclusive_keys)
        probe_key = int(keys[np.argmin(np.abs(keys - 60))]) if len(keys) else 60
        splittable = not drums and not pinfo.exclusive
        k = max(1, round(n_blocks / seg_blocks)) if splittable else 1
        bounds = [round(i * n_blocks / k) for i in range(k + 1)]
        seg_of = np.searchsorted(np.asarray(bounds[1:-1], dtype=np.int64), start, side="right")
        for s in range(k):
            sel = np.flatnonzero(seg_of == s)
            if len(sel) == 0:
                continue
            b0, b1 = bounds[s], bounds[s + 1]
            last = int(end[sel].max())
            cap = n_blocks if last >= n_blocks else min(n_blocks, max(b1, last) + tail_blocks)
            tail_frames = max(0, min(cap * BLOCK, n) - b1 * BLOCK)
            on = np.stack([start[sel], np.ones(len(sel), np.int64), key[sel], vel[sel]], 1)
            offs = sel[end[sel] < n_blocks]
            off = np.stack(
                [
                    end[offs],
                    np.zeros(len(offs), np.int64),
                    key[offs],
                    np.zeros(len(offs), np.int64),
                ],
                1,
            )
            ev = np.concatenate([on, off]).astype(np.int32)
            ev = ev[np.lexsort((ev[:, 2], ev[:, 1], ev[:, 0]))]  # by block, offs first, key
            held = (np.minimum(end[sel], n_blocks) - start[sel]) * (BLOCK / sample_rate)
            cost = note_cost(pinfo, key[sel], held) * _S_PER_VOICE_SECOND
            cost += (cap - b0) * _S_PER_BLOCK
            jobs.append(
                RenderJob(
                    task_id=task_id,
                    part=index,
                    bank=preset[0],
                    program=preset[1],
                    drums=drums,
                    volume=int(np.clip(part.volume, 0, 127)),
                    pan=int(np.clip(part.pan, 0, 127)),
                    start=b0,
                    split=b1,
                    cap=cap,
                    frames=n,
                    stem_offset=2 * n * index,
                    tail_offset=offset,
                    tail_frames=tail_frames,
                    events=ev,
                    soundfont=sf,
                    sample_rate=sample_rate,
                    cost=cost,
                    probe_key=probe_key,
                    memory=info.memory(pinfo.samples),
                )
            )
            task_id += 1
            offset += 2 * tail_frames
        parts.append(PartPlan(index, part.name, preset, jobs, sum(j.cost for j in jobs)))
    return RenderPlan(
        frames=n,
        sample_rate=sample_rate,
        soundfont=sf,
        parts=parts,
        arena_floats=offset,
        info=info,
    )


def add_tails(plan: RenderPlan, part: int, arena: np.ndarray) -> None:
    """Add the tails of ``part``'s segments onto its stem, in segment order (deterministic)."""
    n = plan.frames
    stem = stem_view(arena, 2 * n * part, n)
    for job in plan.parts[part].jobs:
        if job.tail_frames:
            f0 = job.split * BLOCK
            tail = stem_view(arena, job.tail_offset, job.tail_frames)
            stem[:, f0 : f0 + job.tail_frames] += tail


# ------------------------------------------------------------------------------------ arena


def _new_arena(floats: int, shared: bool) -> tuple[np.ndarray, int | None]:
    """A zeroed float32 arena; with ``shared``, backed by a memfd that workers can map."""
    if not shared:
        return np.zeros(floats, dtype=np.float32), None
    size = max(4, 4 * floats)
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("overture-stems", getattr(os, "MFD_CLOEXEC", 0))
    else:  # pragma: no cover - non-Linux Unix: an unlinked temporary file
        import tempfile

        with tempfile.TemporaryFile() as tmp:
            fd = os.dup(tmp.fileno())
    os.ftruncate(fd, size)
    mm = mmap.mmap(fd, size)
    return np.frombuffer(mm, dtype=np.float32, count=floats), fd


# ------------------------------------------------------------------------------------ workers


def _worker_main(conn: Connection) -> None:
    """A worker's loop: keep engines and mapped arenas, run tasks, report back."""
    from multiprocessing.reduction import recv_handle

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    arenas: dict[int, tuple[mmap.mmap, np.ndarray]] = {}
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        op = msg[0]
        task_id = -1
        about = ""  # the soundfont a preload was for
        try:
            if op == "stop":
                return
            if op == "arena":
                _, token, floats = msg
                fd = recv_handle(conn)
                size = max(4, 4 * floats)
                mm = mmap.mmap(fd, size)
                os.close(fd)
                arenas[token] = (mm, np.frombuffer(mm, dtype=np.float32, count=floats))
            elif op == "release":
                entry = arenas.pop(msg[1], None)
                if entry is not None:
                    del entry  # the mapping goes when the last view does
            elif op == "preload":
                _, soundfont, sample_rate, presets = msg
                about = soundfont
                t0 = time.process_time()
                eng = _engine(soundfont, sample_rate)
                for bank, program, drums, memory in presets:
                    eng.channel(bank, program, drums, memory)
                conn.send(("preloaded", time.process_time() - t0))
            elif op == "task":
                _, token, task = msg
                task_id = task.task_id
                timings = run_task(task, arenas[token][1])
                conn.send(("done", task_id, timings))
        except BaseException as exc:  # reported to the parent, which raises it
            kind = type(exc).__name__ if type(exc).__name__ in _ERRORS else "RenderError"
            conn.send(("error", task_id, kind, str(exc), traceback.format_exc(), about))


def _worker_entry(fd: int) -> None:
    """Entry point of a worker process (see :meth:`WorkerPool._spawn`)."""
    _worker_main(Connection(fd))


@dataclass(slots=True)
class _Worker:
    index: int
    process: subprocess.Popen
    conn: Connection
    loaded: set[tuple[str, int, int, int, bool]] = field(default_factory=set)
    engines: set[tuple[str, int]] = field(default_factory=set)  # (soundfont, rate) created
    busy: Task | None = None
    busy_since: float = 0.0
    queue: list[RenderJob] = field(default_factory=list)
    pending_preloads: int = 0


class WorkerPool:
    """Persistent synth worker processes.

    Started as fresh interpreters on a socket pair rather than with ``multiprocessing``: its
    ``spawn`` and ``forkserver`` re-import the caller's ``__main__`` in every worker (a script
    without an ``if __name__ == "__main__"`` guard would render itself recursively), and
    ``fork`` is unsafe here because the pipeline runs a thread while rendering. Starting a
    worker (interpreter, numpy, pyfluidsynth, pedalboard) takes ~0.5 s, in parallel.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.workers: list[_Worker] = []
        self._arena_token = 0
        try:
            for i in range(size):
                self.workers.append(self._spawn(i))
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _spawn(index: int) -> _Worker:
        import json
        import socket
        import sys

        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        code = (
            "import json, os, sys; "
            "sys.path[:0] = json.loads(os.environ.pop('OVERTURE_WORKER_PATH')); "
            "from overture.render.synth import _worker_entry; "
            f"_worker_entry({child.fileno()})"
        )
        env = dict(os.environ)
        env["OVERTURE_WORKER_PATH"] = json.dumps([p or os.getcwd() for p in sys.path])
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            parent.close()
            raise RenderError(f"cannot start a synth worker: {exc}") from exc
        finally:
            child.close()
        return _Worker(index=index, process=proc, conn=Connection(parent.detach()))

    def alive(self) -> bool:
        return all(w.process.poll() is None for w in self.workers)

    def share_arena(self, fd: int, floats: int) -> int:
        from multiprocessing.reduction import send_handle

        self._arena_token += 1
        for w in self.workers:
            w.conn.send(("arena", self._arena_token, floats))
            send_handle(w.conn, fd, w.process.pid)
        return self._arena_token

    def release_arena(self, token: int) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(("release", token))

    def preload(self, soundfont: str, sample_rate: int, presets: list[list[tuple]]) -> None:
        """Ask worker ``i`` to select ``presets[i]`` now (decoding in the background).

        Items are (bank, program, is_drums, estimated sample memory).
        """
        for w, todo in zip(self.workers, presets, strict=False):
            todo = [p for p in todo if (soundfont, sample_rate, *p[:3]) not in w.loaded]
            if not todo and (soundfont, sample_rate) in w.engines:
                continue
            w.conn.send(("preload", soundfont, sample_rate, todo))
            w.pending_preloads += 1
            w.engines.add((soundfont, sample_rate))
            w.loaded.update((soundfont, sample_rate, *p[:3]) for p in todo)

    def close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(("stop",))
        for w in self.workers:
            try:
                w.process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                w.process.kill()
                w.process.wait(timeout=2.0)
            w.conn.close()
        self.workers = []


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.RLock()
# Workers need Unix sockets that carry file descriptors (the shared arena); elsewhere render
# in-process.
_POOL_SUPPORTED = os.name == "posix"


def get_pool(size: int) -> WorkerPool:
    """The shared pool with ``size`` workers, started on first use and then reused."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None and (_POOL.size != size or not _POOL.alive()):
            _POOL.close()
            _POOL = None
        if _POOL is None:
            _POOL = WorkerPool(size)
        return _POOL


def shutdown_workers() -> None:
    """Stop the worker processes (a later render starts fresh ones)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
            _POOL = None


atexit.register(shutdown_workers)


def start_workers(soundfont: Path | str, *, sample_rate: int = 44100, workers: int = 2) -> None:
    """Start the workers (if not running) and have them load ``soundfont``; returns at once.

    ``render_song`` calls this before planning, so the ~0.5 s of interpreter start-up and the
    soundfont's header load in the workers overlap the parent's own preparation.
    """
    if workers <= 1 or not _POOL_SUPPORTED:
        return
    with _POOL_LOCK, contextlib.suppress(OSError, RenderError):  # Executor reports it
        pool = get_pool(workers)
        pool.preload(str(Path(soundfont).resolve()), sample_rate, [[] for _ in pool.workers])


def prewarm(
    soundfont: Path | str,
    *,
    presets: Iterable[tuple[int, int, bool]] = (),
    sample_rate: int = 44100,
    workers: int = 2,
) -> None:
    """Start the workers and decode ``presets`` (bank, program, is_drums) in the background.

    For callers that know the instruments before the notes (the pipeline after planning): the
    SF3 decoding (up to ~3 s a preset) then overlaps composition. Returns at once. Presets are
    dealt out biggest first to the least loaded worker; ``render_song`` plans with what each
    worker has loaded, so this never changes the samples, only the time.
    """
    if workers <= 1 or not _POOL_SUPPORTED:
        return
    with _POOL_LOCK:
        pool = get_pool(workers)
        info = soundfont_info(soundfont)
        sf = str(Path(soundfont).resolve())
        wanted = []
        for bank, program, drums in presets:
            found = info.resolve(128 if drums else bank, program, drums=drums)
            if found is not None:
                wanted.append((found[0], found[1], bool(drums)))
        costs = {p: info.decode_cost(info.presets[p[:2]].samples) for p in set(wanted)}
        loads = [0.0] * workers
        todo: list[list[tuple]] = [[] for _ in range(workers)]
        for p in sorted(costs, key=lambda p: (-costs[p], p)):
            if any((sf, sample_rate, *p) in w.loaded for w in pool.workers):
                continue
            i = min(range(workers), key=lambda i: (loads[i], i))
            todo[i].append((*p, info.memory(info.presets[p[:2]].samples)))
            loads[i] += costs[p]
        pool.preload(sf, sample_rate, todo)


# ---------------------------------------------------------------------------------- executor


class Executor:
    """Runs the tasks of one render, on the pool or in this process, with callbacks.

    ``run(tasks, on_done)`` executes ``tasks`` and whatever ``on_done(task, timings)`` returns
    (follow-up tasks), until nothing is left. ``submit(tasks)`` only hands tasks to workers
    (statically dealt) so the parent can work meanwhile; ``collect()`` waits for them.

    An executor holds a process-wide lock from creation to :meth:`close`: renders from several
    threads take turns on the workers (and on this process's own FluidSynth instance, which
    is not thread-safe with ``synth.threadsafe-api`` off) instead of interleaving.
    """

    def __init__(self, plan: RenderPlan, workers: int) -> None:
        self.plan = plan
        self.pool: WorkerPool | None = None
        _POOL_LOCK.acquire()
        self._locked = True
        if workers > 1 and _POOL_SUPPORTED:
            try:
                self.pool = get_pool(workers)
            except (OSError, RenderError) as exc:  # no processes to be had: render here
                log.warning("synth workers unavailable (%s); rendering in-process", exc)
        self.token = 0
        try:
            self.arena, fd = _new_arena(plan.arena_floats, shared=self.pool is not None)
            if self.pool is not None and fd is not None:
                try:
                    self.token = self.pool.share_arena(fd, plan.arena_floats)
                finally:
                    os.close(fd)
        except BaseException:
            self._unlock()
            raise
        self.cpu: dict[str, float] = {}
        self.trace: list[tuple[int, str, float, float]] = []  # worker, task kind, start, end
        self._async: dict[int, Task] = {}
        self._est0: dict[int, float] = {}  # first cost estimate of each render job
        self._seen: dict[tuple[int, int, bool], tuple[float, float]] = {}  # estimated, actual

    # -- bookkeeping
    def _account(self, timings: dict[str, float]) -> None:
        for k, v in timings.items():
            self.cpu[k] = self.cpu.get(k, 0.0) + v

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            _POOL_LOCK.release()

    def close(self) -> None:
        try:
            if self.pool is not None and self.token:
                self.pool.release_arena(self.token)
                self.token = 0
        finally:
            self._unlock()

    def abort(self) -> None:
        """After a failure mid-run the workers' state is unknown: replace them next time."""
        self.token = 0
        if self.pool is not None:
            shutdown_workers()

    # -- in-process
    def _run_local(
        self, tasks: list[Task], on_done: Callable[[Task, dict[str, float]], list[Task]]
    ) -> None:
        todo = list(tasks)
        while todo:
            task = todo.pop(0)
            timings = run_task(task, self.arena)
            self._account(timings)
            todo.extend(on_done(task, timings))

    # -- pool
    def run(
        self, tasks: list[Task], on_done: Callable[[Task, dict[str, float]], list[Task]]
    ) -> None:
        if self.pool is None:
            self._run_local(tasks, on_done)
            return
        workers = self.pool.workers
        renders = [t for t in tasks if isinstance(t, RenderJob)]
        shared: list[Task] = [t for t in tasks if not isinstance(t, RenderJob)]
        self._deal(renders)
        in_flight = 0
        while True:
            for w in workers:
                if w.busy is None:
                    task = self._pick(w, shared)
                    if task is not None:
                        self._send(w, task)
                        in_flight += 1
            if in_flight == 0 and not shared and not any(w.queue for w in workers):
                return
            for w, msg in self._receive():
                if msg[0] != "done":
                    continue
                task = w.busy
                w.busy = None
                in_flight -= 1
                assert task is not None and task.task_id == msg[1]
                self._account(msg[2])
                self.trace.append((w.index, type(task).__name__, w.busy_since, time.perf_counter()))
                if isinstance(task, RenderJob):
                    self._learn(task, msg[2].get("synth", task.cost))
                shared.extend(on_done(task, msg[2]))

    def _learn(self, job: RenderJob, actual: float) -> None:
        """Rescale the estimates of ``job``'s preset by how long its jobs really took.

        The cost model is within ~40% per preset; after the first segment the scheduler knows
        better, which is what matters for handing the last segments to the right worker.
        """
        assert self.pool is not None
        est, act = self._seen.get(job.preset, (0.0, 0.0))
        est, act = est + self._est0.get(job.task_id, job.cost), act + actual
        self._seen[job.preset] = (est, act)
        ratio = act / est if est > 0 else 1.0
        for w in self.pool.workers:
            for queued in w.queue:
                if queued.preset == job.preset:
                    queued.cost = self._est0.get(queued.task_id, queued.cost) * ratio

    def _send(self, w: _Worker, task: Task) -> None:
        w.busy = task
        w.busy_since = time.perf_counter()
        if isinstance(task, RenderJob):
            w.loaded.add((task.soundfont, task.sample_rate, *task.preset))
            w.engines.add((task.soundfont, task.sample_rate))
        w.conn.send(("task", self.token, task))

    def _receive(self) -> list[tuple[_Worker, tuple]]:
        """Wait for messages from any worker; raise on errors and dead workers."""
        assert self.pool is not None
        by_conn = {w.conn: w for w in self.pool.workers}
        out = []
        for conn in wait(list(by_conn)):
            w = by_conn[conn]  # type: ignore[index]
            try:
                msg = conn.recv()  # type: ignore[union-attr]
            except (EOFError, OSError) as exc:
                raise RenderError(
                    f"synth worker {w.index} died (exit code {w.process.poll()})"
                ) from exc
            if msg[0] == "error":
                _, _task_id, kind, detail, tb, about = msg
                log.debug("synth worker %d failed:\n%s", w.index, tb)
                if about and about != self.plan.soundfont:  # an earlier render's preload
                    w.pending_preloads -= 1
                    w.engines.discard((about, self.plan.sample_rate))
                    continue
                raise _ERRORS.get(kind, RenderError)(f"{detail} (in synth worker {w.index})")
            if msg[0] == "preloaded":
                w.pending_preloads -= 1
                self._account({"decode": msg[1]})
                continue
            out.append((w, msg))
        return out

    def _has(self, w: _Worker, job: RenderJob) -> bool:
        return (job.soundfont, job.sample_rate, *job.preset) in w.loaded or any(
            q.preset == job.preset for q in w.queue if q is not job
        )

    def _deal(self, jobs: list[RenderJob]) -> None:
        """Deal jobs to workers, a preset's jobs together, biggest first (LPT), so that each
        preset is decoded once, preferring a worker that already has it."""
        assert self.pool is not None
        workers = self.pool.workers
        groups: dict[tuple[int, int, bool], list[RenderJob]] = {}
        for j in jobs:
            groups.setdefault(j.preset, []).append(j)
            self._est0.setdefault(j.task_id, j.cost)
        load = [self._remaining(w) for w in workers]

        def cost_on(w: _Worker, preset: tuple[int, int, bool], group: list[RenderJob]) -> float:
            loaded = (self.plan.soundfont, self.plan.sample_rate, *preset) in w.loaded
            return (0.0 if loaded else self.plan.decode_cost(preset)) + sum(j.cost for j in group)

        order = sorted(groups, key=lambda p: (-max(cost_on(w, p, groups[p]) for w in workers), p))
        for preset in order:
            group = groups[preset]
            i = min(
                range(len(workers)),
                key=lambda i: (load[i] + cost_on(workers[i], preset, group), i),
            )
            load[i] += cost_on(workers[i], preset, group)
            workers[i].queue.extend(sorted(group, key=lambda j: (-j.cost, j.task_id)))

    def _remaining(self, w: _Worker) -> float:
        """Estimated seconds until ``w`` has finished everything it has been given."""
        total = sum(j.cost for j in w.queue)
        if w.busy is not None:
            total += max(0.0, w.busy.cost - (time.perf_counter() - w.busy_since))
        return total

    def _pick(self, w: _Worker, shared: list[Task]) -> Task | None:
        # Effects and writes first: they are ready now and unblock the mix.
        if shared:
            best = max(range(len(shared)), key=lambda i: (shared[i].cost, -shared[i].task_id))
            return shared.pop(best)
        if w.queue:
            return w.queue.pop(0)
        # Idle: take a job queued for another worker if that finishes the render sooner.
        assert self.pool is not None
        best_gain, best = 0.0, None
        for v in self.pool.workers:
            if v is w or not v.queue:
                continue
            remaining = self._remaining(v)
            for job in v.queue:
                decode = 0.0 if self._has(w, job) else self.plan.decode_cost(job.preset)
                mine = decode + job.cost
                gain = remaining - max(mine, remaining - job.cost)
                if gain > best_gain + 1e-3:
                    best_gain, best = gain, (v, job)
        if best is None:
            return None
        v, job = best
        v.queue.remove(job)
        return job

    def submit(self, tasks: list[Task]) -> None:
        """Hand ``tasks`` to the workers now (LPT by cost); the parent keeps going."""
        if self.pool is None:
            for t in tasks:
                self._async[t.task_id] = t
            return
        workers = self.pool.workers
        load = [self._remaining(w) for w in workers]
        for task in sorted(tasks, key=lambda t: (-t.cost, t.task_id)):
            i = min(range(len(workers)), key=lambda i: (load[i], i))
            load[i] += task.cost
            workers[i].conn.send(("task", self.token, task))
            self._async[task.task_id] = task

    def collect(self, on_done: Callable[[Task, dict[str, float]], Any] | None = None) -> None:
        """Wait for every submitted task (in this process: run them now)."""
        if self.pool is None:
            for task in list(self._async.values()):
                timings = run_task(task, self.arena)
                self._account(timings)
                del self._async[task.task_id]
                if on_done:
                    on_done(task, timings)
            return
        while self._async:
            for _w, msg in self._receive():
                if msg[0] != "done":
                    continue
                task = self._async.pop(msg[1])
                self._account(msg[2])
                if on_done:
                    on_done(task, msg[2])
