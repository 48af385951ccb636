"""``render_song``: a Score in, stems on disk and a mastered mix out.

Order of work (2 workers, 180 s song): the workers synthesise the parts (segments of a part
may go to both), and each finished part gets its effects on whichever worker is free; the
parent then sums the mix, sets the headroom, and masters it while the workers scale and
encode the stem FLACs. The caller writes the mastered mix (``overture.audio.write_audio``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from overture.errors import OutputError
from overture.render.master import LoudnessReport, master_with_report
from overture.render.mix import (
    headroom_gain,
    highpass_cutoff,
    is_bass_part,
    make_room,
    mix_stems,
    vocal_gain,
    vocal_stem,
)
from overture.render.pcm_cache import pcm_soundfont
from overture.render.soundfont import resolve_soundfont
from overture.render.synth import (
    _FX_S_PER_FRAME,
    _WRITE_S_PER_FRAME,
    Executor,
    FxTask,
    RenderJob,
    Task,
    WriteTask,
    add_tails,
    plan_render,
    start_workers,
    stem_view,
)
from overture.score import Score

if TYPE_CHECKING:
    from overture.voice import SungSyllable

Progress = Callable[[str, float], None]

# Share of the progress bar per stage, from their measured shares of the wall time.
_P_SYNTH_END = 0.80
_P_MIX_END = 0.82
_P_MASTER_END = 0.92
# A loop is rendered this much longer; what rings past its end is added back onto its start.
LOOP_TAIL_SECONDS = 2.0


@dataclass(slots=True)
class RenderResult:
    """Everything ``render_song`` made. Arrays are ``(frames, 2)`` float32 at the song's rate.

    ``stems`` are the final processed stems (after effects and the headroom gain) and add up
    to ``mix`` exactly (float32, in part order); ``mastered`` is what goes into the song file.
    The arrays may be views of shared memory; they stay valid as long as they are referenced.
    """

    stems: dict[str, np.ndarray]
    mix: np.ndarray
    mastered: np.ndarray
    loudness: LoudnessReport
    timings: dict[str, float] = field(default_factory=dict)
    sample_rate: int = 44100
    # A song with vocals: the mix without them, mastered the same way (``(frames, 2)``).
    instrumental: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Vocals:
    """A sung part: the score part the voice sings (not synthesised from the soundfont), the
    syllables on their notes (seconds), and the voice that sings them."""

    part: str
    syllables: tuple[SungSyllable, ...]
    voice: str = "female"
    seed: int = 0
    # A recorded take to use instead of singing (mono float32 at the render's sample rate,
    # from the song's start): a user's own voice over the arrangement (``overture arrange
    # --keep-voice``).
    recording: Any = None


def _warm_up(sample_rate: int) -> None:
    """Import the mastering modules and build its filters (~0.4 s the first time)."""
    try:
        import importlib

        for module in ("pedalboard", "scipy.ndimage", "scipy.signal"):
            importlib.import_module(module)
        from overture.render.master import _k_weighting_sos, _tp_phases

        _k_weighting_sos(sample_rate)
        _tp_phases()
    except Exception:  # only an optimisation; the real call reports real errors
        pass


def fold_loop(stem: np.ndarray, frames: int) -> np.ndarray:
    """A ``(2, n)`` stem cut to ``frames``, with everything after added back from the start
    (wrapping as often as needed), so the loop plays on repeat with no gap and no click."""
    out = np.array(stem[:, :frames], dtype=np.float32, copy=True)
    for start in range(frames, stem.shape[1], frames):
        chunk = stem[:, start : start + frames]
        out[:, : chunk.shape[1]] += chunk
    return out


def master_mix(
    mix: np.ndarray, sample_rate: int, *, loop: bool = False
) -> tuple[np.ndarray, LoudnessReport]:
    """Master a planar ``(2, n)`` mix. A loop is mastered as three copies end to end, keeping
    the middle one: the limiter and the loudness see it as it plays on repeat, so its seam
    stays seamless (and it gets no fade-out)."""
    if not loop:
        return master_with_report(mix, sample_rate)
    n = mix.shape[1]
    tiled, loudness = master_with_report(np.concatenate([mix] * 3, axis=1), sample_rate)
    return np.ascontiguousarray(tiled[:, n : 2 * n]), loudness


def stem_names(score: Score) -> list[str]:
    """File-safe, unique stem names, one per part (``part.name`` unless that cannot be used)."""
    names: list[str] = []
    seen: set[str] = set()
    for i, part in enumerate(score.parts):
        base = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "_", part.name).strip(" .") or f"part{i + 1}"
        name, k = base, 2
        while name.lower() in seen:
            name, k = f"{base}-{k}", k + 1
        seen.add(name.lower())
        names.append(name)
    return names


def render_song(
    score: Score,
    *,
    soundfont: Path,
    stems_dir: Path,
    sample_rate: int = 44100,
    workers: int = 2,
    progress: Progress | None = None,
    tags: dict[str, str] | None = None,
    vocals: Vocals | None = None,
) -> RenderResult:
    """Render every part of ``score`` once, write ``stems_dir/<part>.flac``, mix and master.

    With ``vocals`` that part is sung (``overture.voice.sing``, in a thread while the
    synthesiser's workers play the rest), levelled over the backing, which makes room for it
    (``render.mix.make_room``); ``RenderResult.instrumental`` is then the mix without it.

    ``workers`` > 1 uses that many persistent worker processes (started on first use, kept for
    later songs); 1 renders in this process. Both give the same samples. ``progress(stage,
    fraction)`` gets the stage name and the overall fraction done (0..1, never decreasing).
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    done_fraction = 0.0

    def report(stage: str, fraction: float) -> None:
        nonlocal done_fraction
        done_fraction = max(done_fraction, min(1.0, fraction))
        if progress is not None:
            progress(stage, done_fraction)

    sf = pcm_soundfont(resolve_soundfont(soundfont))  # an SF3's decoded twin, when possible
    start_workers(sf, sample_rate=sample_rate, workers=workers)  # they boot while we plan
    stems_dir = Path(stems_dir)
    try:
        stems_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {stems_dir}: {exc.strerror or exc}") from exc
    loop_frames = None
    if score.loop:
        loop_frames = round(score.duration * sample_rate)
        score = replace(score, duration=score.duration + LOOP_TAIL_SECONDS)
    all_names = stem_names(score)
    full = score
    sung: int | None = None
    if vocals is not None:
        sung = next((i for i, p in enumerate(score.parts) if p.name == vocals.part), None)
        if sung is None:
            raise KeyError(vocals.part)
        score = replace(score, parts=[p for i, p in enumerate(score.parts) if i != sung])
    names = [nm for i, nm in enumerate(all_names) if i != sung]
    plan = plan_render(score, sf, sample_rate)
    n = plan.frames
    singing: dict[str, object] = {}
    singer = None
    if vocals is not None:
        singer = threading.Thread(
            target=_sing, args=(vocals, sample_rate, n / sample_rate, singing), daemon=True
        )
        report("singing vocals", 0.0)
        singer.start()
    report("synth", 0.0)
    executor = Executor(plan, workers)
    timings["setup"] = time.perf_counter() - t_start
    try:
        arena = executor.arena
        jobs = plan.jobs
        remaining = {p.index: len(p.jobs) for p in plan.parts}
        fx_cost = _FX_S_PER_FRAME * n
        presets = {j.preset for j in jobs}
        total = sum(j.cost for j in jobs) + sum(plan.decode_cost(p) for p in presets)
        total += fx_cost * sum(1 for p in plan.parts if p.jobs)
        done = 0.0
        first_cost = {j.task_id: j.cost for j in jobs}  # the executor refines job.cost
        next_id = max((j.task_id for j in jobs), default=-1) + 1
        marks: dict[str, float] = {}

        def on_done(task: Task, spent: dict[str, float]) -> list[Task]:
            nonlocal done, next_id
            done += first_cost.get(task.task_id, task.cost)
            follow: list[Task] = []
            if isinstance(task, RenderJob):
                remaining[task.part] -= 1
                if remaining[task.part] == 0:
                    add_tails(plan, task.part, arena)
                    part = score.parts[task.part]
                    follow.append(
                        FxTask(
                            task_id=next_id,
                            part=task.part,
                            stem_offset=2 * n * task.part,
                            frames=n,
                            reverb=int(np.clip(part.reverb, 0, 127)),
                            highpass_hz=highpass_cutoff(part),
                            sample_rate=sample_rate,
                            cost=fx_cost,
                        )
                    )
                    next_id += 1
                if not any(remaining.values()):
                    marks["synth"] = time.perf_counter()
            stage = "synth" if any(remaining.values()) else "effects"
            report(stage, _P_SYNTH_END * done / max(total, 1e-9))
            return follow

        warm = None
        if executor.pool is not None:  # this process idles while the workers synthesise
            warm = threading.Thread(target=_warm_up, args=(sample_rate,), daemon=True)
            warm.start()
        t_run = time.perf_counter()
        executor.run(list(jobs), on_done)
        if warm is not None:
            warm.join()
        t_fx = time.perf_counter()
        timings["synth"] = marks.get("synth", t_run) - t_run
        timings["effects"] = t_fx - marks.get("synth", t_run)

        planar = [stem_view(arena, 2 * n * i, n) for i in range(len(score.parts))]
        if loop_frames is not None:
            planar = [fold_loop(stem, loop_frames) for stem in planar]
        voice_stem = None
        if vocals is not None and singer is not None and sung is not None:
            report("singing vocals", _P_SYNTH_END)
            t_join = time.perf_counter()
            singer.join()
            t_fx += time.perf_counter() - t_join  # the wait is the singing's, not the mix's
            if "error" in singing:
                raise singing["error"]  # type: ignore[misc]
            timings["sing"] = float(singing["seconds"])  # type: ignore[arg-type]
            t_voc = time.perf_counter()
            voice_stem = vocal_stem(
                singing["audio"],  # type: ignore[arg-type]
                sample_rate,
                frames=loop_frames or n,
                reverb=int(np.clip(full.parts[sung].reverb, 0, 127)),
            )
            for part, stem in zip(score.parts, planar, strict=True):
                if not (part.is_drums or is_bass_part(part)):
                    make_room(stem, sample_rate)
            if planar:
                voice_stem *= np.float32(vocal_gain(voice_stem, mix_stems(planar), sample_rate))
            timings["vocals_mix"] = time.perf_counter() - t_voc
        if planar or voice_stem is not None:
            everything = list(planar)
            if voice_stem is not None and sung is not None:
                everything.insert(sung, voice_stem)
            mix = mix_stems(everything)
            gain = headroom_gain(mix, everything)
            if gain != 1.0:
                for stem in everything:
                    stem *= np.float32(gain)
                mix = mix_stems(everything)  # the sum of the final stems, exactly
        else:
            mix = np.zeros((2, loop_frames or n), dtype=np.float32)
        timings["mix"] = time.perf_counter() - t_fx
        report("mix", _P_MIX_END)

        writes: list[Task] = []
        for i, name in enumerate(names):
            writes.append(
                WriteTask(
                    task_id=next_id + i,
                    part=i,
                    stem_offset=2 * n * i,
                    frames=n,
                    gain=1.0,
                    path=str(stems_dir / f"{name}.flac"),
                    sample_rate=sample_rate,
                    tags=tags,
                    cost=_WRITE_S_PER_FRAME * n,
                )
            )
        if loop_frames is None:
            executor.submit(writes)  # workers encode the stems while this process masters
        else:  # a loop's stems are copies outside the shared arena: write them here
            from overture.audio import write_audio

            for w, stem in zip(writes, planar, strict=True):
                write_audio(Path(w.path), stem.T, sample_rate, tags=tags)
            writes = []

        instrumental = None
        if voice_stem is not None and sung is not None:
            from overture.audio import write_audio

            write_audio(stems_dir / f"{all_names[sung]}.flac", voice_stem.T, sample_rate, tags=tags)
        t_master = time.perf_counter()
        mastered, loudness = master_mix(mix, sample_rate, loop=loop_frames is not None)
        if voice_stem is not None:
            backing = mix_stems(planar) if planar else np.zeros_like(mix)
            instrumental, _ = master_mix(backing, sample_rate, loop=loop_frames is not None)
        timings["master"] = time.perf_counter() - t_master
        report("master", _P_MASTER_END)

        t_wait = time.perf_counter()
        written = 0

        def on_written(task: Task, spent: dict[str, float]) -> None:
            nonlocal written
            written += 1
            report("stems", _P_MASTER_END + (1 - _P_MASTER_END) * written / max(1, len(writes)))

        executor.collect(on_written)
        timings["stems_write"] = time.perf_counter() - t_wait
    except BaseException:
        executor.abort()
        raise
    finally:
        executor.close()
    for key in ("decode", "synth", "effects", "write"):
        if key in executor.cpu:
            timings[f"{key}_cpu"] = executor.cpu[key]
    timings["total"] = time.perf_counter() - t_start
    report("done", 1.0)
    stems = {name: stem.T for name, stem in zip(names, planar, strict=True)}
    if voice_stem is not None and sung is not None:
        stems = {name: stems.get(name, voice_stem.T) for name in all_names}
    return RenderResult(
        stems=stems,
        mix=mix.T,
        mastered=mastered.T,
        loudness=loudness,
        timings=timings,
        sample_rate=sample_rate,
        instrumental=None if instrumental is None else instrumental.T,
    )


def _sing(vocals: Vocals, sample_rate: int, seconds: float, into: dict[str, object]) -> None:
    """Sing ``vocals`` (run in a thread): ``into["audio"]`` gets the mono voice, or
    ``into["error"]`` what went wrong."""
    t = time.perf_counter()
    try:
        if vocals.recording is not None:
            take = np.zeros(round(seconds * sample_rate), dtype=np.float32)
            rec = np.asarray(vocals.recording, dtype=np.float32)[: len(take)]
            take[: len(rec)] = rec
            into["audio"] = take
            into["seconds"] = time.perf_counter() - t
            return
        from overture.voice import sing

        into["audio"] = sing(
            vocals.syllables,
            voice=vocals.voice,
            sample_rate=sample_rate,
            seed=vocals.seed,
            duration=seconds,
        )
    except BaseException as exc:  # raised again in the caller's thread
        into["error"] = exc
    into["seconds"] = time.perf_counter() - t
