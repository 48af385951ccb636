"""The whole chain, prompt to song folder, and the ``Song`` it returns.

Files are written into a temporary folder beside the destination and moved into place at the
end, so a failure never leaves a half-written song behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError
from overture.output import finish_output, start_output
from overture.plan import Plan, make_plan
from overture.score import Score
from overture.spec import SongSpec, build_spec
from overture.think import BAR, Thinker, Trace

AUDIO_FORMATS = ("flac", "wav", "mp3", "ogg")
SAMPLE_RATE = 44100
Progress = Callable[[str, float], None]


@dataclass(slots=True)
class Song:
    """A generated song: the values of every stage, and where its files are."""

    id: str
    spec: SongSpec
    plan: Plan
    score: Score
    out_dir: Path | None = None
    files: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    master: dict[str, float] = field(default_factory=dict)
    originality: dict[str, Any] = field(default_factory=dict)
    critique: dict[str, Any] = field(default_factory=dict)  # the answer's combined score
    trace: Trace | None = None  # the reasoning trace (``trace.json``)
    verdicts: dict[str, Any] = field(default_factory=dict)  # critic name -> Verdict
    # Where a derived song came from (``overture.studio``): its parents, the operation and
    # its options; None for a song made from a prompt.
    lineage: dict[str, Any] | None = None
    # A part played by a recording rather than rendered: (part name, mono float32 audio at
    # ``SAMPLE_RATE`` from the song's start), e.g. the user's own voice over an arrangement.
    recording: tuple[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        from overture import __version__

        extra: dict[str, Any] = {}
        if self.spec.lyrics is not None:
            extra["lyrics"] = {
                **self.spec.lyrics.to_dict(),
                "voice": self.spec.voice,
                "lines": lyric_lines(self),
            }
        if self.lineage is not None:
            extra["lineage"] = self.lineage
        return {
            "id": self.id,
            "title": self.spec.title,
            "engine": {"name": "overture", "version": __version__, "models": model_versions()},
            "seed": self.spec.seed,
            "spec": self.spec.to_dict(),
            "plan": self.plan.to_dict(),
            "originality": self.originality,
            "critique": self.critique,
            "master": self.master,
            "files": sorted(self.files),
            "timings": self.timings,
            **extra,
        }


VOCALS = "vocals"  # the score part a song's lyrics are sung on


def sung(song: Song) -> list[Any]:
    """The sung lines of ``song`` as set in its score (``compose.setting.SetLine``); empty
    for an instrumental song."""
    if song.spec.lyrics is None or not any(p.name == VOCALS for p in song.score.parts):
        return []
    from overture.compose.setting import set_lines

    return set_lines(song.score, song.plan, VOCALS)


def lyric_lines(song: Song) -> list[dict[str, Any]]:
    """``song.json``'s timed lyrics: each line, word and syllable with its start and end."""
    from overture.export.lyrics import lyric_alignment

    return lyric_alignment(sung(song), song.score.tempo)


def model_versions() -> dict[str, str]:
    """Versions of the trained models the engine ships, from their manifest."""
    from overture.learn import MODELS_DIR

    try:
        manifest = json.loads((MODELS_DIR / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    models = manifest.get("models", {})
    return {name: str(m.get("version", "")) for name, m in sorted(models.items())}


def song_id(score_json: str) -> str:
    """A song's id: the content hash of its ``score.json``."""
    return hashlib.sha256(score_json.encode("utf-8")).hexdigest()[:16]


def parse_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"flac,mp3"`` -> ``("flac", "mp3")``; ``flac`` is always included, first."""
    if formats is None:
        items: list[str] = []
    elif isinstance(formats, str):
        items = [f.strip().lower().lstrip(".") for f in formats.split(",") if f.strip()]
    else:
        items = [str(f).strip().lower().lstrip(".") for f in formats]
    unknown = [f for f in items if f not in AUDIO_FORMATS]
    if unknown:
        raise InvalidInputError(
            f"unknown audio format {unknown[0]!r} (choose from {', '.join(AUDIO_FORMATS)})"
        )
    return tuple(dict.fromkeys(["flac", *items]))


def generate(
    prompt: str = "",
    *,
    duration: float | None = None,
    tempo: float | None = None,
    key: str | None = None,
    time_signature: str | None = None,
    instruments: list[str] | None = None,
    seed: int = 0,
    chords: str | list[str] | None = None,
    structure: str | list[str] | None = None,
    loop: bool = False,
    melody: str | Path | None = None,
    think: str | None = None,
    budget: int | None = None,
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    force: bool = False,
    workers: int = 2,
    progress: Progress | None = None,
    lyrics: str | Path | None = None,
    voice: str | None = None,
) -> Song:
    """Make a song from a prompt. With ``out``, render and write the song folder there.

    Without ``out`` only the symbolic stages run (spec, plan, score), which is instant.
    ``chords`` ("Am F C G", one per bar), ``structure`` ("intro verse chorus outro"),
    ``melody`` (a MIDI file that becomes the lead) and ``loop`` (a seamless loop of whole
    bars) are followed exactly. ``think`` (none, low, medium, high) or ``budget`` (drafts per
    section) set how hard the composer thinks (``overture.think``); the default is medium.
    ``lyrics`` (a lyric sheet's text, or a path to a UTF-8 file) are set to a melody and sung
    by ``voice`` (female or male): the form follows the lyrics, and the song folder gains
    ``stems/vocals.flac``, ``song_instrumental.flac`` and the timed lyrics ``song.lrc``.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    fmts = parse_formats(formats)
    spec = build_spec(
        prompt,
        duration=duration,
        tempo=tempo,
        key=key,
        time_signature=time_signature,
        instruments=instruments,
        seed=seed,
        chords=chords,
        structure=structure,
        loop=loop,
        melody=melody,
        think=think,
        budget=budget,
        lyrics=lyrics,
        voice=voice,
    )
    sf_path = None
    if out is not None:
        from overture.render import resolve_soundfont

        sf_path = resolve_soundfont(soundfont)
    with song_folder(out, force=force) if out is not None else nullcontext() as tmp:
        timings["spec"] = time.perf_counter() - t0
        t = time.perf_counter()
        plan = make_plan(spec)
        timings["plan"] = time.perf_counter() - t
        t = time.perf_counter()
        if spec.lyrics is not None and progress:
            progress("setting lyrics", 0.02)
        score, trace = compose_thinking(plan, progress)
        timings["compose"] = time.perf_counter() - t
        song = Song(id=song_id(score.to_json()), spec=spec, plan=plan, score=score, timings=timings)
        song.originality = originality(score)
        song.trace = trace
        t = time.perf_counter()
        song.critique = review_score(song)
        timings["critique"] = time.perf_counter() - t
        if progress:
            progress("composed", 0.05)
        if tmp is None or sf_path is None:
            return song
        write_song(
            song,
            tmp,
            formats=fmts,
            soundfont=sf_path,
            workers=workers,
            progress=progress,
            started=t0,
        )
    song.out_dir = Path(out)
    return song


def compose_thinking(
    plan: Plan, progress: Progress | None = None, **kw: Any
) -> tuple[Score, Trace]:
    """Compose ``plan`` through the reasoning loop at its spec's budget, each step reported
    to ``progress``; the score and the trace of the reasoning. ``kw`` goes to ``compose``."""
    from overture.compose import compose

    spec = plan.spec
    trace = Trace(budget=spec.budget, think=spec.think, bar=BAR, plan=plan_summary(plan))

    def step(what: str) -> None:
        if progress:
            progress(what, 0.02)

    return compose(plan, thinker=Thinker(spec.budget, trace, step=step), **kw), trace


@contextmanager
def song_folder(out: str | Path, *, force: bool = False) -> Iterator[Path]:
    """A temporary folder beside ``out`` to write a song into, moved into place when the
    block ends without an error and removed when it raises: a folder is whole or absent."""
    dest = Path(out)
    tmp: Path | None = start_output(dest, force=force)
    try:
        yield tmp
        finish_output(tmp, dest, force=force)
        tmp = None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def plan_summary(plan: Plan) -> dict[str, Any]:
    """What the trace shows of the plan: key, tempo, form and the chords per section."""
    return {
        "key": plan.key.name,
        "tempo": plan.tempo,
        "time_signature": str(plan.time_signature),
        "bars": plan.bars,
        "sections": [
            {
                "id": s.id,
                "bars": [s.start_bar, s.end_bar],
                "energy": round(s.energy, 3),
                "chords": [c.symbol(plan.key) for c in plan.chords[s.start_bar : s.end_bar]],
                "parts": list(s.parts),
            }
            for s in plan.sections
        ],
    }


def _critique_dict(plan: Plan, verdicts: dict[str, Any]) -> dict[str, Any]:
    """The combined score of ``verdicts`` and each critic's part in it; a critic that is not
    counted for this song (``critique.uncounted``) weighs 0 and says why."""
    from overture.critique import combine, uncounted

    left_out = uncounted(plan)
    comb = combine(verdicts, {name: 0.0 for name in left_out})
    critics = {}
    for name, c in comb.contributions.items():
        critics[name] = {
            "score": round(c["score"], 4),
            "weight": c["weight"],
            "z": round(c["z"], 3),
            "contribution": round(c["contribution"], 4),
            "reasons": list(verdicts[name].reasons[:5]),
        }
        if name in left_out:
            critics[name]["not_counted"] = left_out[name]
    return {"score": round(comb.score, 4), "critics": critics}


def review_score(song: Song) -> dict[str, Any]:
    """The whole-score critics of ``song`` (theory, likelihood, structure), combined; the
    audio critics join them once the song is rendered (``write_song``)."""
    from overture.critique import critique_score

    song.verdicts = critique_score(song.plan, song.score)
    song.critique = _critique_dict(song.plan, song.verdicts)
    if song.trace is not None:
        song.trace.final = song.critique
    return song.critique


def review_audio(
    song: Song,
    result: Any,
    stems_dir: Path | None = None,
    tags: dict[str, str] | None = None,
) -> Any:
    """Run the audio critics (adherence, mix) on the rendered song and fold them into the
    answer's combined score; when thinking, fix what they flag (``_rebalance``). The review
    goes into the trace. Returns the render to write (re-mastered if a fix was kept)."""
    from overture.critique import critique_audio

    audio = critique_audio(song.plan, song.score, result)
    fixes: list[str] = []
    if song.spec.budget > 1:  # thinking: fix what the review flags, keep it if it helps
        audio, result, fixes = _rebalance(song, result, audio, stems_dir, tags)
    song.verdicts = {**song.verdicts, **audio}
    song.critique = _critique_dict(song.plan, song.verdicts)
    if song.trace is not None:
        for name, v in audio.items():
            song.trace.audio.append(
                {
                    "critic": name,
                    "score": round(v.score, 4),
                    "summary": f"{name} {v.score:.2f}",
                    "reasons": list(v.reasons),
                    "fixes": fixes if name == "mix" else [],
                }
            )
        song.trace.final = song.critique
    return result


MASKER_CUT_DB = 3.0  # how far a part masking the lead is pulled down per review


def _rebalance(
    song: Song,
    result: Any,
    audio: dict[str, Any],
    stems_dir: Path | None,
    tags: dict[str, str] | None,
) -> tuple[dict[str, Any], Any, list[str]]:
    """Re-balance and re-master when the mix critic finds the lead masked: the part covering
    it most comes down ``MASKER_CUT_DB``, the mix is summed and mastered again, and the
    stems on disk are rewritten. Kept only if the audio critics score it higher."""
    from dataclasses import replace

    import numpy as np

    from overture.audio import write_audio
    from overture.critique import combine, critique_audio
    from overture.render import headroom_gain, master_mix, mix_stems

    mix_v = audio.get("mix")
    if mix_v is None or stems_dir is None:
        return audio, result, []
    share = mix_v.details.get("lead_masked_share", 0.0)
    maskers = {
        k.split(".", 1)[1]: v for k, v in mix_v.details.items() if k.startswith("masked_by.")
    }
    if share <= 0.15 or not maskers:
        return audio, result, []
    worst = max(maskers, key=lambda k: maskers[k])
    if worst not in result.stems:
        return audio, result, []
    cut = np.float32(10 ** (-MASKER_CUT_DB / 20))
    stems = {k: (v * cut if k == worst else v) for k, v in result.stems.items()}
    planar = [v.T for v in stems.values()]
    gain = np.float32(headroom_gain(mix_stems(planar), planar))
    stems = {k: v * gain for k, v in stems.items()}
    mix = mix_stems([v for v in stems.values()])  # the sum of the final stems, in part order
    mastered, loudness = master_mix(mix.T, SAMPLE_RATE, loop=song.score.loop)
    trial = replace(result, stems=stems, mix=mix, mastered=mastered.T, loudness=loudness)
    if result.instrumental is not None:  # the mix without the voice follows the new balance
        backing = mix_stems([v for k, v in stems.items() if k != VOCALS])
        instrumental, _ = master_mix(backing.T, SAMPLE_RATE, loop=song.score.loop)
        trial = replace(trial, instrumental=instrumental.T)
    again = critique_audio(song.plan, song.score, trial)
    before, after = combine(audio).score, combine(again).score
    what = f"{worst} down {MASKER_CUT_DB:g} dB (it masked {maskers[worst]:.0%} of the lead)"
    if after <= before:
        return audio, result, [f"tried {what}: audio score {before:.2f} -> {after:.2f}, undone"]
    for name, stem in stems.items():
        write_audio(stems_dir / f"{name}.flac", stem, SAMPLE_RATE, tags=tags)
    return again, trial, [f"{what}; re-mastered: audio score {before:.2f} -> {after:.2f}"]


def originality(score: Score) -> dict[str, Any]:
    """The lead's (or the sung tune's) longest run of notes (intervals and durations) shared
    with a corpus tune."""
    from overture.compose.melody import ORIGINALITY_LIMIT
    from overture.critique.context import tune_part
    from overture.learn.originality import longest_match

    lead = tune_part(score)
    if lead is None or len(lead.notes) < 2:
        return {"longest_match": 0, "piece": None, "limit": ORIGINALITY_LIMIT}
    notes = sorted(lead.notes, key=lambda n: n.start)
    match = longest_match([n.pitch for n in notes], [n.duration for n in notes])
    return {"longest_match": match.notes, "piece": match.piece, "limit": ORIGINALITY_LIMIT}


def render_score(
    score: Score,
    *,
    stems_dir: Path,
    soundfont: str | Path | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    tags: dict[str, str] | None = None,
    vocals: Any = None,
) -> Any:
    """Render every part of ``score`` once as a stem, mix and master (``RenderResult``);
    ``vocals`` (``render.song.Vocals``) names the part that is sung."""
    from overture.render import render_song, resolve_soundfont

    return render_song(
        score,
        soundfont=resolve_soundfont(soundfont),
        stems_dir=stems_dir,
        sample_rate=SAMPLE_RATE,
        workers=workers,
        progress=progress,
        tags=tags,
        vocals=vocals,
    )


def write_song(
    song: Song,
    folder: Path,
    *,
    formats: tuple[str, ...] = ("flac",),
    soundfont: str | Path | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    started: float | None = None,
) -> None:
    """Write every file of ``song`` into ``folder`` (which must exist).

    ``started`` (a ``time.perf_counter()`` value) makes ``song.json`` report the total time.
    """
    from overture import __version__
    from overture.audio import write_audio
    from overture.export import write_midi, write_musicxml

    timings = song.timings
    score, spec = song.score, song.spec
    score_json = score.to_json()
    tags = {
        "title": spec.title,
        "prompt": spec.prompt,
        "version": __version__,
        "seed": str(spec.seed),
        "genre": spec.genre,
    }

    lines = sung(song)
    vocals = None
    if song.recording is not None:
        from overture.render.song import Vocals

        vocals = Vocals(song.recording[0], (), recording=song.recording[1])
    elif lines:
        from overture.compose.setting import sung_syllables
        from overture.render.song import Vocals

        vocals = Vocals(
            VOCALS, tuple(sung_syllables(lines, score.tempo)), voice=spec.voice, seed=spec.seed
        )

    def symbolic() -> float:
        # Runs in a thread while the renderer's worker processes synthesise the stems.
        t = time.perf_counter()
        (folder / "score.json").write_text(score_json, encoding="utf-8")
        write_midi(score, folder / "song.mid", title=spec.title)
        write_musicxml(score, folder / "song.musicxml", title=spec.title)
        if lines:
            from overture.export import write_lrc

            write_lrc(
                lines, score.tempo, folder / "song.lrc", title=spec.title, duration=score.duration
            )
        return time.perf_counter() - t

    def on_render(stage: str, fraction: float) -> None:
        if progress:
            progress(stage, 0.05 + 0.8 * fraction)

    with ThreadPoolExecutor(max_workers=1) as pool:
        exports = pool.submit(symbolic)
        (folder / "stems").mkdir()
        result = render_score(
            score,
            stems_dir=folder / "stems",
            soundfont=soundfont,
            workers=workers,
            progress=on_render,
            tags=tags,
            vocals=vocals,
        )
        timings["exports"] = exports.result()
    for stage, seconds in result.timings.items():
        timings[f"render.{stage}"] = seconds
    t = time.perf_counter()
    result = review_audio(song, result, folder / "stems", tags)
    timings["critique.audio"] = time.perf_counter() - t
    t = time.perf_counter()
    files = ["score.json", "song.mid", "song.musicxml", "trace.json"]
    files += [f"stems/{p.name}.flac" for p in score.parts]
    if lines:
        files.append("song.lrc")
    if result.instrumental is not None:
        write_audio(folder / "song_instrumental.flac", result.instrumental, SAMPLE_RATE, tags=tags)
        files.append("song_instrumental.flac")
    for i, fmt in enumerate(formats):
        write_audio(folder / f"song.{fmt}", result.mastered, SAMPLE_RATE, tags=tags)
        files.append(f"song.{fmt}")
        if progress:
            progress(f"writing song.{fmt}", 0.85 + 0.15 * (i + 1) / len(formats))
    timings["encode"] = time.perf_counter() - t
    song.master = {
        "integrated_lufs": round(result.loudness.integrated_lufs, 2),
        "true_peak_dbtp": round(result.loudness.true_peak_dbtp, 2),
        "sample_rate": SAMPLE_RATE,
    }
    song.files = [*files, "song.json"]
    if started is not None:
        timings["total"] = time.perf_counter() - started
    song.timings = {k: round(v, 4) for k, v in timings.items()}
    if song.trace is None:
        song.trace = Trace(budget=spec.budget, think=spec.think, bar=BAR)
    song.trace.write(folder / "trace.json")
    (folder / "song.json").write_text(
        json.dumps(song.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
