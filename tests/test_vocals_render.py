"""Songs with vocals, end to end: rendered with the small soundfont and checked from the
outside, the singing measured in the audio against the score."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import overture
from overture.audio import read_audio
from overture.cli import main
from overture.score import Score
from overture.voice import SungNote
from overture.voice.measure import note_pitch_errors, voiced_in_spans

MIXED = """[Verse]
Hello darling, I'm here tonight ♥
Under the stars we hold on tight

[Chorus]
Sing it loud, sing it now 🎵
你好 world 我爱你
"""
CHINESE = """[主歌]
月亮照在小河上
风吹过我的家乡

[副歌]
你是我心中的太阳
我们一起去远方
"""


def _render(tmp: Path, lyrics: str, soundfont: Path, **kw: object) -> tuple[Path, list[str]]:
    stages: list[str] = []
    out = tmp / "song"
    overture.generate(
        "pop song",
        lyrics=lyrics,
        seed=2,
        out=out,
        soundfont=soundfont,
        progress=lambda stage, _: stages.append(stage),
        **kw,  # type: ignore[arg-type]
    )
    return out, stages


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, small_soundfont: Path) -> tuple[Path, list]:
    return _render(tmp_path_factory.mktemp("vocals"), MIXED, small_soundfont, duration=26)


@pytest.fixture(scope="module")
def chinese(tmp_path_factory: pytest.TempPathFactory, small_soundfont: Path) -> tuple[Path, list]:
    return _render(tmp_path_factory.mktemp("zh"), CHINESE, small_soundfont, voice="male")


def _syllable_spans(folder: Path) -> list[tuple[str, float, float]]:
    meta = json.loads((folder / "song.json").read_text(encoding="utf-8"))
    return [
        (s["text"], s["start"], s["end"])
        for line in meta["lyrics"]["lines"]
        for s in line["syllables"]
    ]


def _sung_notes(folder: Path) -> list[SungNote]:
    score = Score.load(folder / "score.json")
    spb = 60.0 / score.tempo
    return [
        SungNote(float(n.pitch), n.start * spb, n.end * spb) for n in score.part("vocals").notes
    ]


def test_folder_has_vocals_instrumental_and_lyrics(mixed: tuple[Path, list]) -> None:
    folder, stages = mixed
    meta = json.loads((folder / "song.json").read_text(encoding="utf-8"))
    for name in ("stems/vocals.flac", "song_instrumental.flac", "song.lrc", "song.flac"):
        assert (folder / name).is_file()
        assert name in meta["files"]
    assert "setting lyrics" in stages and "singing vocals" in stages
    song, sr = read_audio(folder / "song.flac")
    backing, sr2 = read_audio(folder / "song_instrumental.flac")
    assert sr == sr2 and song.shape == backing.shape
    assert abs(len(song) / sr - meta["spec"]["duration"]) < 0.01
    assert not np.allclose(song, backing, atol=1e-3)  # the voice is in the song...
    vocals, _ = read_audio(folder / "stems/vocals.flac")
    assert np.sqrt(np.mean(vocals**2)) > 1e-3  # ...and in its stem
    lyrics = meta["lyrics"]
    assert lyrics["stripped"] == ["♥", "🎵"]
    assert any("♥" in w for w in lyrics["warnings"])
    assert lyrics["voice"] == "female"


def test_every_syllable_is_in_the_alignment_and_the_lrc(mixed: tuple[Path, list]) -> None:
    folder, _ = mixed
    meta = json.loads((folder / "song.json").read_text(encoding="utf-8"))
    want = [s for sec in meta["lyrics"]["sections"] for ln in sec["lines"] for s in ln["syllables"]]
    spans = _syllable_spans(folder)
    assert [t for t, _, _ in spans] == want
    starts = [a for _, a, _ in spans]
    assert starts == sorted(starts) and all(b > a for _, a, b in spans)
    for line in meta["lyrics"]["lines"]:
        assert line["start"] == line["syllables"][0]["start"]
        assert line["end"] == line["syllables"][-1]["end"]
        assert "".join(w["text"] for w in line["words"]).replace(" ", "") == "".join(
            s["text"] for s in line["syllables"]
        )
        assert all(s["notes"] for s in line["syllables"])
    lrc = (folder / "song.lrc").read_text(encoding="utf-8")
    words = re.findall(r"<(\d\d):(\d\d\.\d\d)>([^<\n]+)", lrc)
    sung = "".join(w.strip() for _, _, w in words)
    assert sung == "".join(want)  # every syllable, in order: 100 % coverage
    lines = re.findall(r"^\[(\d\d):(\d\d\.\d\d)\]<", lrc, flags=re.MULTILINE)
    assert len(lines) == len(meta["lyrics"]["lines"])
    first = meta["lyrics"]["lines"][0]["start"]
    assert abs(60 * int(lines[0][0]) + float(lines[0][1]) - first) <= 0.011


def test_every_syllable_is_voiced_in_the_vocal_stem(mixed: tuple[Path, list]) -> None:
    folder, _ = mixed
    audio, sr = read_audio(folder / "stems/vocals.flac")
    spans = [(a, b) for _, a, b in _syllable_spans(folder)]
    voiced = voiced_in_spans(audio.mean(axis=1), sr, spans)
    assert all(voiced), [s for s, v in zip(_syllable_spans(folder), voiced, strict=True) if not v]


@pytest.mark.parametrize("which", ["mixed", "chinese"])
def test_the_voice_sings_the_written_pitches(which: str, request: pytest.FixtureRequest) -> None:
    folder, _ = request.getfixturevalue(which)
    audio, sr = read_audio(folder / "stems/vocals.flac")
    errors = note_pitch_errors(audio.mean(axis=1), sr, _sung_notes(folder))
    measured = np.abs(errors[~np.isnan(errors)])
    assert len(measured) >= 0.9 * len(errors)
    assert np.median(measured) <= 15.0
    assert np.percentile(measured, 95) <= 50.0


def test_chinese_song_end_to_end(chinese: tuple[Path, list]) -> None:
    folder, _ = chinese
    meta = json.loads((folder / "song.json").read_text(encoding="utf-8"))
    assert meta["lyrics"]["language"] == "zh" and meta["lyrics"]["voice"] == "male"
    spans = _syllable_spans(folder)
    words = re.sub(r"\[.*\]", "", CHINESE)  # without its section tags
    assert "".join(t for t, _, _ in spans) == "".join(re.findall(r"[\u4e00-\u9fff]", words))
    audio, sr = read_audio(folder / "stems/vocals.flac")
    assert all(voiced_in_spans(audio.mean(axis=1), sr, [(a, b) for _, a, b in spans]))
    lrc = (folder / "song.lrc").read_text(encoding="utf-8")
    assert "[00:" in lrc and "<" in lrc and "月亮照在小河上" in re.sub(r"<[^>]*>", "", lrc)
    score = Score.load(folder / "score.json")
    assert all(45 <= n.pitch <= 64 for n in score.part("vocals").notes)


def test_cli_sings_and_refuses_bad_lyrics(tmp_path: Path, small_soundfont: Path) -> None:
    runner = CliRunner()
    long = tmp_path / "long.txt"
    long.write_text("la la la la\n" * 300, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    short = tmp_path / "short.txt"
    short.write_text(MIXED, encoding="utf-8")
    for path, extra, message in (
        (long, [], "3000"),
        (empty, [], "no words"),
        (short, ["--duration", "4"], "at least"),
        (tmp_path / "missing.txt", [], "not found"),
    ):
        out = tmp_path / f"out-{path.stem}"
        args = ["generate", "pop", "--lyrics", str(path), "--out", str(out), *extra]
        result = runner.invoke(main, [*args, "--soundfont", str(small_soundfont)])
        assert result.exit_code != 0
        assert message in result.output and result.output.count("\n") == 1
        assert not out.exists()
        assert not list(tmp_path.glob(f".out-{path.stem}*"))  # nothing half-written
