"""The whole chain, prompt to song folder, and the ``Song`` it returns.

Files are written into a temporary folder beside the destination and moved into place at the
end, so a failure never leaves a half-written song behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError
from overture.output import finish_output, start_output
from overture.plan import Plan, make_plan
from overture.score import Score
from overture.spec import SongSpec, build_spec

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

    def to_dict(self) -> dict[str, Any]:
        from overture import __version__

        return {
            "id": self.id,
            "title": self.spec.title,
            "engine": {"name": "overture", "version": __version__, "models": model_versions()},
            "seed": self.spec.seed,
            "spec": self.spec.to_dict(),
            "plan": self.plan.to_dict(),
            "originality": self.originality,
            "master": self.master,
            "files": sorted(self.files),
            "timings": self.timings,
        }


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
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    force: bool = False,
    workers: int = 2,
    progress: Progress | None = None,
) -> Song:
    """Make a song from a prompt. With ``out``, render and write the song folder there.

    Without ``out`` only the symbolic stages run (spec, plan, score), which is instant.
    ``chords`` ("Am F C G", one per bar), ``structure`` ("intro verse chorus outro"),
    ``melody`` (a MIDI file that becomes the lead) and ``loop`` (a seamless loop of whole
    bars) are followed exactly.
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
    )
    sf_path = None
    dest = tmp = None
    if out is not None:
        from overture.render import resolve_soundfont

        sf_path = resolve_soundfont(soundfont)
        dest = Path(out)
        tmp = start_output(dest, force=force)
    try:
        timings["spec"] = time.perf_counter() - t0
        t = time.perf_counter()
        plan = make_plan(spec)
        timings["plan"] = time.perf_counter() - t
        t = time.perf_counter()
        from overture.compose import compose

        score = compose(plan)
        timings["compose"] = time.perf_counter() - t
        song = Song(id=song_id(score.to_json()), spec=spec, plan=plan, score=score, timings=timings)
        song.originality = originality(score)
        if progress:
            progress("composed", 0.05)
        if dest is None or tmp is None or sf_path is None:
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
        finish_output(tmp, dest, force=force)
        tmp = None
        song.out_dir = dest
        return song
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def originality(score: Score) -> dict[str, Any]:
    """The lead's longest run of notes (intervals and durations) shared with a corpus tune."""
    from overture.compose.melody import ORIGINALITY_LIMIT
    from overture.learn.originality import longest_match

    lead = next((p for p in score.parts if p.name == "lead"), None)
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
) -> Any:
    """Render every part of ``score`` once as a stem, mix and master (``RenderResult``)."""
    from overture.render import render_song, resolve_soundfont

    return render_song(
        score,
        soundfont=resolve_soundfont(soundfont),
        stems_dir=stems_dir,
        sample_rate=SAMPLE_RATE,
        workers=workers,
        progress=progress,
        tags=tags,
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

    def symbolic() -> float:
        # Runs in a thread while the renderer's worker processes synthesise the stems.
        t = time.perf_counter()
        (folder / "score.json").write_text(score_json, encoding="utf-8")
        write_midi(score, folder / "song.mid", title=spec.title)
        write_musicxml(score, folder / "song.musicxml", title=spec.title)
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
        )
        timings["exports"] = exports.result()
    for stage, seconds in result.timings.items():
        timings[f"render.{stage}"] = seconds
    t = time.perf_counter()
    files = ["score.json", "song.mid", "song.musicxml"]
    files += [f"stems/{p.name}.flac" for p in score.parts]
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
    (folder / "song.json").write_text(
        json.dumps(song.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
