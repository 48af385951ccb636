"""Arrange a demo: a hummed, sung or played melody (audio) or a MIDI file becomes the lead of a
full arrangement in the style a prompt asks for.

Audio is transcribed offline (``overture.studio.transcribe``): tempo, metre and key are
detected, and the melody is cleaned onto the detected grid. With ``keep_voice`` the user's
own recording stays in the song as its lead stem, time-aligned with the arrangement, which
follows the recording's tempo and key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError
from overture.pipeline import SAMPLE_RATE, Song

Progress = Callable[[str, float], None]
MIDI_SUFFIXES = (".mid", ".midi")


def check_keep_voice(*, midi: bool, duration: float | None) -> None:
    """Refuse what keeping the demo's voice as the lead cannot do, in words that suit the
    command line and the web form alike."""
    if midi:
        raise InvalidInputError("a MIDI demo has no voice to keep: keep the voice of a recording")
    if duration is not None:
        raise InvalidInputError(
            "with the voice kept, the song lasts as long as the recording: leave out the duration"
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def aligned_recording(audio: Any, sample_rate: int, song_start: float) -> Any:
    """The recording placed so that its second 0 sounds at ``song_start`` seconds of the song
    (cut at the song's start when that is negative)."""
    import numpy as np

    audio = np.asarray(audio, dtype=np.float32)
    shift = round(song_start * sample_rate)
    if shift >= 0:
        return np.concatenate([np.zeros(shift, dtype=np.float32), audio])
    return audio[-shift:]


def stated_tempo(prompt: str) -> float | None:
    """The tempo ``prompt`` states (its range's middle for a word like "slow"), or None."""
    from overture.prompt import parse_prompt

    info = parse_prompt(prompt or "")
    if info.tempo is not None:
        return float(info.tempo)
    if info.tempo_range is not None:
        return (info.tempo_range[0] + info.tempo_range[1]) / 2.0
    return None


def arrange(
    demo: str | Path,
    prompt: str = "",
    *,
    keep_voice: bool = False,
    duration: float | None = None,
    seed: int = 0,
    think: str | None = None,
    budget: int | None = None,
    method: str = "auto",
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    workers: int = 2,
    force: bool = False,
    progress: Progress | None = None,
) -> Song:
    """Arrange the melody of ``demo`` (wav, flac, mp3, ogg, m4a: 2-60 s; or MIDI) in the
    style of ``prompt``. With ``keep_voice`` the recording itself is the lead: the song takes
    its tempo and key and lasts as long as its melody. The song's ``song.json`` records the
    demo (its name and SHA-256) as its parent."""
    import time

    from overture.melody_input import read_melody
    from overture.pipeline import generate
    from overture.studio.operations import Output

    t0 = time.perf_counter()
    path = Path(demo)
    if not path.is_file():
        raise InvalidInputError(f"demo not found: {path}")
    io = Output(out, formats, soundfont, workers, force, progress)
    io.check()
    is_midi = path.suffix.lower() in MIDI_SUFFIXES
    if keep_voice:
        check_keep_voice(midi=is_midi, duration=duration)
    transcription = None
    if is_midi:
        melody = read_melody(path)
    else:
        from overture.studio.transcribe import transcribe

        transcription = transcribe(
            path, method=method, tempo_hint=stated_tempo(prompt), progress=progress
        )
        melody = transcription.melody
    kw: dict[str, Any] = {}
    if keep_voice:
        kw = {
            "tempo": melody.tempo,
            "key": melody.key,
            "time_signature": melody.time_signature,
        }
    song = generate(
        prompt,
        melody=melody,
        duration=duration,
        seed=seed,
        think=think,
        budget=budget,
        progress=progress,
        **kw,
    )
    parent: dict[str, Any] = {
        "kind": "demo",
        "file": path.name,
        "sha256": _sha256(path),
    }
    options: dict[str, Any] = {"prompt": prompt, "keep_voice": keep_voice, "seed": seed}
    if transcription is not None:
        parent["seconds"] = round(transcription.duration, 3)
        options.update(
            method=transcription.method,
            tempo=round(transcription.tempo, 2),
            offset=round(transcription.offset, 4),
        )
    options.update(key=melody.key.name, notes=len(melody.notes))
    song.lineage = {"operation": "arrange", "options": options, "parents": [parent]}
    if keep_voice:
        assert transcription is not None
        from overture.studio.demo_audio import load_demo_audio

        first = next(s for s in song.plan.sections if s.kind in {"verse", "chorus"})
        beat0 = first.start_bar * song.plan.time_signature.beats_per_bar * 60.0 / song.plan.tempo
        audio, sr = load_demo_audio(path, SAMPLE_RATE)
        if sr != SAMPLE_RATE:  # pragma: no cover - load_demo_audio resamples
            raise InvalidInputError(f"{path.name}: could not read it at {SAMPLE_RATE} Hz")
        song.recording = ("lead", aligned_recording(audio, sr, beat0 - transcription.offset))
    return io.save(song, started=t0)
