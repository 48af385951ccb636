"""End to end: a prompt becomes a finished song folder, checked from the outside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from overture.audio import read_audio, read_tags
from overture.evaluate.audio import estimate_key, estimate_tempo
from overture.render import measure_loudness

PROMPT = "upbeat pop song, 120 bpm, A minor, 20 seconds"


@pytest.fixture(scope="module")
def song_dir(tmp_path_factory: pytest.TempPathFactory, small_soundfont: Path) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "pop"
    cmd = [
        sys.executable,
        "-m",
        "overture.cli",
        "generate",
        PROMPT,
        "--out",
        str(out),
        "--seed",
        "7",
        "--format",
        "flac,wav,mp3,ogg",
        "--soundfont",
        str(small_soundfont),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout
    return out


def test_folder_has_every_file(song_dir: Path) -> None:
    meta = json.loads((song_dir / "song.json").read_text())
    parts = [f["name"] for f in json.loads((song_dir / "score.json").read_text())["parts"]]
    expected = {
        "song.flac",
        "song.wav",
        "song.mp3",
        "song.ogg",
        "song.mid",
        "song.musicxml",
        "score.json",
        "song.json",
        "trace.json",
    } | {f"stems/{p}.flac" for p in parts}
    found = {str(p.relative_to(song_dir)) for p in song_dir.rglob("*") if p.is_file()}
    assert found == expected
    assert set(meta["files"]) == expected
    assert {"drums", "bass", "chords", "lead"} <= set(parts)
    assert not list(song_dir.parent.glob(".pop.*"))  # no temporary folder left beside it


def test_mix_is_mastered_and_on_time(song_dir: Path) -> None:
    audio, sr = read_audio(song_dir / "song.flac")
    assert sr == 44100 and audio.ndim == 2 and audio.shape[1] == 2
    assert abs(len(audio) / sr - 20.0) <= 0.5
    report = measure_loudness(audio, sr)
    assert abs(report.integrated_lufs + 14.0) <= 0.5
    assert report.true_peak_dbtp <= -1.0 + 0.05  # 24-bit FLAC rounding
    assert np.max(np.abs(audio)) < 1.0
    # It ends cleanly: the last 50 ms are near silence, the middle is not.
    assert np.max(np.abs(audio[-int(0.05 * sr) :])) < 0.05
    assert np.sqrt(np.mean(audio[sr * 5 : sr * 15] ** 2)) > 0.05


def test_every_format_is_tagged_and_the_same_length(song_dir: Path) -> None:
    for fmt in ("flac", "wav", "mp3", "ogg"):
        tags = read_tags(song_dir / f"song.{fmt}")
        assert tags["prompt"] == PROMPT, fmt
        assert tags["seed"] == "7", fmt
        assert tags["version"], fmt
        assert tags["title"], fmt
        audio, sr = read_audio(song_dir / f"song.{fmt}")
        assert abs(len(audio) / sr - 20.0) <= 0.1, fmt


def test_stems_are_aligned_and_sum_to_the_mix(song_dir: Path) -> None:
    mix, sr = read_audio(song_dir / "song.flac")
    total = None
    for stem_path in sorted((song_dir / "stems").glob("*.flac")):
        stem, stem_sr = read_audio(stem_path)
        assert stem_sr == sr and stem.shape == mix.shape, stem_path.name
        assert np.max(np.abs(stem)) > 1e-3, f"{stem_path.name} is silent"
        total = stem if total is None else total + stem
    # Mastering is gain, gentle compression and limiting: the stems' sum is the same signal.
    corr = np.corrcoef(total.mean(axis=1), mix.mean(axis=1))[0, 1]
    assert corr > 0.95


def test_tempo_and_key_heard_in_the_audio_match_the_plan(song_dir: Path) -> None:
    meta = json.loads((song_dir / "song.json").read_text())
    audio, sr = read_audio(song_dir / "song.flac")
    mono = audio.mean(axis=1).astype(np.float32)
    tempo = estimate_tempo(mono, sr)
    assert abs(tempo - meta["plan"]["tempo"]) / meta["plan"]["tempo"] <= 0.02
    tonic, mode = estimate_key(mono, sr)
    from overture.theory import Key, parse_key

    planned = parse_key(meta["plan"]["key"])
    heard = Key(tonic, mode)  # type: ignore[arg-type]
    assert heard.name in {planned.name, planned.relative.name}


def test_song_json_describes_spec_plan_and_timings(song_dir: Path) -> None:
    meta = json.loads((song_dir / "song.json").read_text())
    assert len(meta["id"]) == 16
    assert meta["spec"]["tempo"] == 120 and meta["spec"]["key"] == "A minor"
    assert meta["spec"]["duration"] == 20 and meta["spec"]["genre"] == "pop"
    assert {"120 bpm", "A minor", "20 seconds", "pop", "upbeat"} <= set(
        meta["spec"]["prompt_words"]["used"]
    )
    form = meta["plan"]["form"]
    assert form[0]["start"] == 0 and all("instruments" in s for s in form)
    assert len(meta["plan"]["chords"]) == meta["plan"]["bars"]
    assert meta["seed"] == 7 and meta["engine"]["version"]
    for stage in ("spec", "plan", "compose", "exports", "encode", "total"):
        assert stage in meta["timings"]
    assert abs(meta["master"]["integrated_lufs"] + 14) <= 0.5


def test_midi_and_musicxml_open_in_music21(song_dir: Path) -> None:
    import music21

    score = json.loads((song_dir / "score.json").read_text())
    midi = music21.converter.parse(song_dir / "song.mid")
    xml = music21.converter.parse(song_dir / "song.musicxml")
    assert len(midi.parts) == len(score["parts"])
    assert len(xml.parts) == len(score["parts"])
    lead = next(p for p in score["parts"] if p["name"] == "lead")
    xml_lead = next(p for p in xml.parts if p.partName == "lead")
    assert len(xml_lead.stripTies().flatten().notes) == len(lead["notes"])


def test_same_seed_gives_the_same_midi_and_song_json(
    song_dir: Path, tmp_path: Path, small_soundfont: Path
) -> None:
    import overture

    song = overture.generate(
        PROMPT,
        seed=7,
        out=tmp_path / "again",
        formats="flac,wav,mp3,ogg",
        soundfont=small_soundfont,
    )
    assert (tmp_path / "again" / "song.mid").read_bytes() == (song_dir / "song.mid").read_bytes()
    a = json.loads((song_dir / "song.json").read_text())
    b = json.loads((tmp_path / "again" / "song.json").read_text())
    a.pop("timings"), b.pop("timings")
    assert a == b
    assert song.id == a["id"]
