"""Demo transcription: a played and an engine-sung melody with known notes come back as the
same notes on the right grid, ``clean_notes`` repairs what a pitch tracker gets wrong, and a
bad demo file is refused with one clear line, before anything is decoded where it can be.

The demos are made by ``bench/transcribe.py`` (which measures the same over more of them);
the floors here sit under what the bench measures for these demos.
"""

from __future__ import annotations

import itertools
import struct
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from overture.errors import InvalidInputError
from overture.melody_input import estimate_key
from overture.score import Note
from overture.studio import demo_audio
from overture.studio.transcribe import (
    Transcription,
    available_methods,
    clean_notes,
    estimate_beat,
    transcribe,
    tuning_offset,
)

PLAYED_SEED = 2  # a generated pop lead on a violin, 121 bpm
SUNG_SEED = 1  # a generated folk ballad sung by the female voice, 75 bpm
HAS_BASIC_PITCH = "basic-pitch" in available_methods()


@pytest.fixture(scope="module")
def bench(transcribe_bench: ModuleType) -> ModuleType:
    return transcribe_bench


@pytest.fixture(scope="module")
def played(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    demo = bench.played_demo(PLAYED_SEED, 15.0)
    return demo, demo.write(tmp_path_factory.mktemp("played") / "played.wav")


@pytest.fixture(scope="module")
def sung(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    demo = bench.sung_demo(SUNG_SEED, 14.0)
    return demo, demo.write(tmp_path_factory.mktemp("sung") / "sung.wav")


def _melody_key(demo: Any) -> str:
    """The key of the true notes, found the same way (the song's key may differ from what
    its melody alone implies)."""
    spb = 60.0 / demo.tempo
    notes = [Note(p, (a - demo.downbeat) / spb, (b - a) / spb, 90) for a, b, p in demo.truth]
    return estimate_key(notes).name


def _check(demo: Any, tr: Transcription, bench: ModuleType, floor: float) -> None:
    f1, pitch = bench.note_f1(demo.truth, bench.cleaned_seconds(tr))
    assert f1 >= floor, f"onset F1 {f1:.2f} < {floor}"
    assert pitch >= 0.95
    # The same tempo (not its double or half: the arrangement would run at the wrong speed).
    assert abs(tr.tempo / demo.tempo - 1) <= 0.03, (tr.tempo, demo.tempo)
    assert tr.melody.tempo == tr.tempo
    assert tr.melody.key.name == _melody_key(demo)
    assert str(tr.melody.time_signature) == demo.time_signature
    # Beat 0 is the first bar's downbeat: the offset lands on a downbeat of the truth.
    bar = tr.melody.time_signature.beats_per_bar * 60.0 / demo.tempo
    assert abs((tr.offset - demo.downbeat + bar / 2) % bar - bar / 2) < 0.06
    notes = tr.melody.notes
    assert 0 <= notes[0].start < tr.melody.time_signature.beats_per_bar
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(notes))
    assert all(n.start * 4 == round(n.start * 4) for n in notes)  # on the sixteenth grid


def test_played_melody_f0(played: tuple[Any, Path], bench: ModuleType) -> None:
    demo, path = played
    stages: list[str] = []
    tr = transcribe(path, method="f0", progress=lambda stage, _: stages.append(stage))
    assert tr.method == "f0"
    assert tr.melody.source == "played.wav"
    assert abs(tr.duration - 15.0) < 0.01
    assert stages and stages[-1] == "transcribed"
    _check(demo, tr, bench, 0.9)


def test_sung_melody_f0(sung: tuple[Any, Path], bench: ModuleType) -> None:
    demo, path = sung
    t = time.perf_counter()
    tr = transcribe(path, method="f0")
    assert time.perf_counter() - t < 3.0
    _check(demo, tr, bench, 0.8)
    # The raw notes are seconds of the recording, in order.
    assert tr.raw and all(a[0] <= b[0] for a, b in itertools.pairwise(tr.raw))


@pytest.mark.skipif(not HAS_BASIC_PITCH, reason="basic-pitch is not installed")
def test_basic_pitch(played: tuple[Any, Path], sung: tuple[Any, Path], bench: ModuleType) -> None:
    demo, path = played
    tr = transcribe(path, method="basic-pitch")
    assert tr.method == "basic-pitch"
    _check(demo, tr, bench, 0.9)
    demo, path = sung
    tr = transcribe(path)  # "auto" picks basic-pitch where it is installed
    assert tr.method == "basic-pitch"
    _check(demo, tr, bench, 0.75)


def test_without_basic_pitch(played: tuple[Any, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from overture.studio import transcribe as module

    monkeypatch.setattr(module, "available_methods", lambda: ("f0",))
    with pytest.raises(InvalidInputError, match=r"basic-pitch is not installed.*pip install"):
        module.transcribe(played[1], method="basic-pitch")
    assert module.transcribe(played[1]).method == "f0"
    with pytest.raises(InvalidInputError, match=r"unknown transcription method 'crepe'"):
        module.transcribe(played[1], method="crepe")


# ----------------------------------------------------------------------------- clean_notes
def _slow_line(bpm: float) -> list[tuple[float, float, float]]:
    """Eight bars of eighths, quarters and halves at ``bpm``, onsets a little loose."""
    rng = np.random.default_rng(0)
    bars = [[0.5, 0.5, 1, 0.5, 0.5, 1], [1, 0.5, 0.5, 2], [0.5] * 4 + [1, 1], [1.5, 0.5, 2]]
    spb, t, out = 60.0 / bpm, 0.4, []
    for b in range(8):
        for d in bars[b % 4]:
            out.append((t + rng.normal(0, 0.012), t + 0.9 * d * spb, 60.0 + rng.choice([0, 2, 4])))
            t += d * spb
    return out


def test_a_stated_tempo_picks_the_octave_of_an_ambiguous_beat() -> None:
    raw = _slow_line(64.0)
    assert abs(estimate_beat(raw).tempo - 128.0) < 1.0  # the quicker reading, unhinted
    assert abs(estimate_beat(raw, hint=64.0).tempo - 64.0) < 1.0
    assert abs(estimate_beat(raw, hint=70.0).tempo - 64.0) < 1.0  # "slow": the nearer octave
    assert abs(estimate_beat(raw, hint=128.0).tempo - 128.0) < 1.0
    assert abs(estimate_beat(raw, hint=100.0).tempo - 128.0) < 1.0
    steady = _slow_line(96.0)  # no octave near the hint: the best reading stands
    assert abs(estimate_beat(steady, hint=150.0).tempo - 96.0) < 1.0


def test_clean_folds_an_octave_error_and_removes_tuning() -> None:
    raw = [(0.0, 0.5, 60.3), (0.5, 1.0, 74.3), (1.0, 1.5, 64.3), (1.5, 2.0, 65.3)]
    assert abs(tuning_offset(raw) - 0.3) < 1e-6
    notes = clean_notes(raw, 120.0, 0.0)
    assert [n.pitch for n in notes] == [60, 62, 64, 65]
    assert [(n.start, n.duration) for n in notes] == [(0, 1), (1, 1), (2, 1), (3, 1)]


def test_clean_removes_a_glitch() -> None:
    raw = [(0.0, 0.5, 60.0), (0.5, 0.52, 67.0), (0.52, 1.0, 62.0)]
    notes = clean_notes(raw, 120.0, 0.0)
    assert [(n.pitch, n.start, n.duration) for n in notes] == [(60, 0, 1), (62, 1, 1)]


def test_clean_quantises_off_grid_onsets() -> None:
    # 120 bpm from 0.1 s: onsets 20-40 ms off the beats and the eighth between them.
    raw = [(0.12, 0.58, 60.0), (0.63, 0.82, 62.0), (0.82, 1.08, 64.0), (1.06, 2.1, 65.0)]
    notes = clean_notes(raw, 120.0, 0.1)
    assert [(n.pitch, n.start, n.duration) for n in notes] == [
        (60, 0.0, 1.0),
        (62, 1.0, 0.5),
        (64, 1.5, 0.5),
        (65, 2.0, 2.0),
    ]


def test_clean_merges_a_vibrato_split_note_but_keeps_a_repeated_one() -> None:
    # One note split where its vibrato swung (not on an eighth), then the same pitch sung
    # again on the beat.
    raw = [(0.0, 0.33, 60.2), (0.34, 1.0, 59.8), (1.0, 1.5, 60.0), (1.5, 2.0, 62.0)]
    notes = clean_notes(raw, 120.0, 0.0)
    assert [(n.pitch, n.start, n.duration) for n in notes] == [
        (60, 0, 2),
        (60, 2, 1),
        (62, 3, 1),
    ]


def test_clean_is_monophonic_on_its_grid() -> None:
    rng = np.random.default_rng(3)
    t, raw = 0.0, []
    for _ in range(40):
        d = float(rng.choice([0.03, 0.12, 0.25, 0.5]))
        raw.append((t + float(rng.normal(0, 0.02)), t + d + 0.05, float(rng.uniform(55, 75))))
        t += d
    notes = clean_notes(raw, 100.0, 0.0, grid=0.5)
    assert notes
    assert all(n.start % 0.5 == 0 and n.duration > 0 for n in notes)
    assert all(a.end <= b.start for a, b in itertools.pairwise(notes))


# ----------------------------------------------------------------------------- bad demos
SR = 16000


def _tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def _wav_header(data_bytes: int) -> bytes:
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, SR, SR * 2, 2, 16)
    return (
        b"RIFF" + struct.pack("<I", data_bytes + 36) + b"WAVE" + b"fmt " + fmt
        + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


def _zip(path: Path) -> None:
    with zipfile.ZipFile(path.with_suffix(".zip"), "w") as z:
        z.writestr("song.txt", "la " * 1000)
    path.with_suffix(".zip").rename(path)


def _make(kind: str, folder: Path) -> Path:
    rng = np.random.default_rng(0)
    if kind == "zip":
        path = folder / "demo.wav"
        _zip(path)
    elif kind == "random":
        path = folder / "demo.mp3"
        path.write_bytes(rng.bytes(60_000))
    elif kind == "truncated":
        path = folder / "demo.wav"
        path.write_bytes(_wav_header(30 * SR * 2) + (_tone(5.0) * 32767).astype("<i2").tobytes())
    elif kind == "ten-hours":
        path = folder / "demo.wav"
        path.write_bytes(_wav_header(36000 * SR * 2) + bytes(32000))
    elif kind == "silence":
        path = folder / "demo.wav"
        sf.write(path, np.zeros(5 * SR, np.float32), SR)
    elif kind == "noise":
        path = folder / "demo.flac"
        sf.write(path, (0.3 * rng.standard_normal(5 * SR)).astype(np.float32), SR)
    elif kind == "short":
        path = folder / "demo.wav"
        sf.write(path, _tone(1.0), SR)
    elif kind == "long":
        path = folder / "demo.wav"
        sf.write(path, _tone(61.0), SR)
    elif kind == "empty":
        path = folder / "demo.wav"
        path.write_bytes(b"")
    elif kind == "missing":
        path = folder / "demo.wav"
    elif kind == "text":
        path = folder / "demo.txt"
        path.write_text("la la la, a melody I hum\n", encoding="utf-8")
    else:  # pragma: no cover
        raise AssertionError(kind)
    return path


BAD = {
    "zip": r"^demo\.wav is not an audio file \(it looks like a zip archive\)$",
    "random": r"^ffmpeg cannot read demo\.mp3: ",
    "truncated": r"^demo\.wav is truncated or corrupt: its header says 30\.0 s but only 5\.0 s",
    "ten-hours": r"^demo\.wav lasts 36000\.0 s; a demo may last at most 60 s$",
    "silence": r"^demo\.wav is silent",
    # basic-pitch may hear one faint note in noise; the f0 tracker hears none.
    "noise": r"^demo\.flac has no melody in it \((no pitched notes|a single pitched note) found",
    "short": r"^demo\.wav lasts 1\.0 s; a demo must last at least 2 s$",
    "long": r"^demo\.wav lasts 61\.0 s; a demo may last at most 60 s$",
    "empty": r"^demo\.wav is empty",
    "missing": r"^demo recording not found: .*demo\.wav$",
    "text": r"^demo\.txt is not an audio file \(it looks like a text file\)$",
}


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_demo(kind: str, tmp_path: Path) -> None:
    path = _make(kind, tmp_path)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(InvalidInputError, match=BAD[kind]) as err:
        transcribe(path)
    assert "\n" not in str(err.value)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_noise_has_no_notes_for_the_f0_tracker(tmp_path: Path) -> None:
    path = _make("noise", tmp_path)
    with pytest.raises(InvalidInputError, match=r"\(no pitched notes found\)$"):
        transcribe(path, method="f0")


def test_ten_hour_header_is_refused_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _make("ten-hours", tmp_path)

    def no(*_: object, **__: object) -> None:
        raise AssertionError("decoded or probed with a subprocess")

    monkeypatch.setattr(demo_audio, "_decode_soundfile", no)
    monkeypatch.setattr(demo_audio, "_decode_ffmpeg", no)
    monkeypatch.setattr(demo_audio.subprocess, "run", no)
    t = time.perf_counter()
    with pytest.raises(InvalidInputError, match=r"lasts 36000\.0 s"):
        demo_audio.load_demo_audio(path)
    assert time.perf_counter() - t < 0.1


def test_probe_and_load(played: tuple[Any, Path], tmp_path: Path) -> None:
    _, path = played
    info = demo_audio.probe_audio(path)
    assert (info.format, info.codec, info.channels) == ("wav", "pcm_s16le", 1)
    assert abs(info.duration - 15.0) < 1e-6
    audio, sr = demo_audio.load_demo_audio(path, 16000)
    assert sr == 16000 and audio.dtype == np.float32 and abs(len(audio) - 15 * 16000) <= 1
    # Another container, decoded by ffmpeg: the same audio.
    import subprocess

    ogg = tmp_path / "demo.ogg"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), str(ogg)], check=True)
    info = demo_audio.probe_audio(ogg)
    assert (info.format, info.codec) == ("ogg", "vorbis")
    other, _ = demo_audio.load_demo_audio(ogg, 16000)
    assert abs(len(other) - len(audio)) < 0.05 * 16000
