"""Audio file I/O: every format round-trips, with its tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from overture.audio import read_audio, read_tags, write_audio
from overture.errors import InvalidInputError, OutputError

SR = 44100
TAGS = {
    "title": "Quiet River",
    "prompt": "平静的古筝, calm guzheng at dusk",
    "version": "1.2.3",
    "seed": "42",
    "genre": "ambient",
}


def tone(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    right = 0.3 * np.sin(2 * np.pi * 660 * t + 1.0)
    return np.stack([left, right], axis=1).astype(np.float32)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("suffix", [".flac", ".wav", ".mp3", ".ogg"])
def test_each_format_round_trips_with_tags(tmp_path: Path, suffix: str) -> None:
    audio = tone()
    path = tmp_path / f"song{suffix}"
    write_audio(path, audio, SR, tags=TAGS)
    back, sr = read_audio(path)
    assert sr == SR
    assert back.ndim == 2 and back.shape[1] == 2 and back.dtype == np.float32
    if suffix == ".mp3":
        assert abs(len(back) - len(audio)) <= 0.005 * SR  # within 5 ms
        n = min(len(back), len(audio))
        assert correlation(back[:n], audio[:n]) > 0.99
    else:
        assert len(back) == len(audio)
        tolerance = {".flac": 2e-7, ".wav": 1e-4, ".ogg": 0.05}[suffix]
        if suffix == ".ogg":
            assert correlation(back, audio) > 0.99
        else:
            assert np.max(np.abs(back - audio)) < tolerance
    tags = read_tags(path)
    for key, value in TAGS.items():
        assert tags[key] == value, (suffix, key)


def test_vorbis_comments_and_id3_frames_use_the_standard_fields(tmp_path: Path) -> None:
    from mutagen.flac import FLAC
    from mutagen.id3 import ID3

    write_audio(tmp_path / "a.flac", tone(0.3), SR, tags=TAGS)
    comments = FLAC(str(tmp_path / "a.flac")).tags
    assert comments is not None
    assert comments["TITLE"] == ["Quiet River"]
    assert comments["COMMENT"] == [TAGS["prompt"]] and comments["DESCRIPTION"] == [TAGS["prompt"]]
    assert comments["ENCODER"] == ["Overture 1.2.3"]
    assert comments["OVERTURE_SEED"] == ["42"] and comments["OVERTURE_VERSION"] == ["1.2.3"]

    write_audio(tmp_path / "a.mp3", tone(0.3), SR, tags=TAGS)
    id3 = ID3(str(tmp_path / "a.mp3"))
    assert str(id3["TIT2"]) == "Quiet River"
    assert str(id3["TSSE"]) == "Overture 1.2.3"
    assert str(id3["TXXX:OVERTURE_PROMPT"]) == TAGS["prompt"]
    assert id3.getall("COMM")[0].text == [TAGS["prompt"]]


def test_wav_has_riff_info_and_24_bit_option(tmp_path: Path) -> None:
    import soundfile as sf

    path = tmp_path / "a.wav"
    write_audio(path, tone(0.3), SR, tags=TAGS, bit_depth=24)
    info = sf.info(str(path))
    assert info.subtype == "PCM_24"
    with sf.SoundFile(str(path)) as f:
        assert f.title == "Quiet River"
    assert read_tags(path)["seed"] == "42"
    write_audio(tmp_path / "b.wav", tone(0.3), SR)
    assert sf.info(str(tmp_path / "b.wav")).subtype == "PCM_16"
    assert read_tags(tmp_path / "b.wav") == {}


def test_extra_tags_and_a_separate_comment_round_trip(tmp_path: Path) -> None:
    tags = {**TAGS, "comment": "made on a train", "artist": "Overture", "mood": "calm"}
    for suffix in (".flac", ".mp3", ".wav", ".ogg"):
        path = tmp_path / f"x{suffix}"
        write_audio(path, tone(0.3), SR, tags=tags)
        assert read_tags(path) == tags, suffix


def test_layouts_clipping_and_mono(tmp_path: Path) -> None:
    loud = tone(0.5) * np.float32(4.0)
    write_audio(tmp_path / "planar.flac", np.ascontiguousarray(loud.T), SR)
    back, _ = read_audio(tmp_path / "planar.flac")
    assert back.shape == loud.shape
    assert np.max(np.abs(back)) <= 1.0
    assert np.allclose(back, np.clip(loud, -1, 1), atol=1e-6)
    mono = tone(0.5)[:, 0]
    write_audio(tmp_path / "mono.wav", mono, SR)
    back, _ = read_audio(tmp_path / "mono.wav")
    assert back.shape == (len(mono), 1)


def test_unknown_suffix_and_bad_destinations_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown audio format"):
        write_audio(tmp_path / "a.aiff", tone(0.1), SR)
    with pytest.raises(ValueError):  # InvalidInputError is a ValueError
        write_audio(tmp_path / "a", tone(0.1), SR)
    with pytest.raises(InvalidInputError):
        read_tags(tmp_path / "a.xyz")
    with pytest.raises(OutputError):
        write_audio(tmp_path / "missing" / "a.flac", tone(0.1), SR)
    with pytest.raises(InvalidInputError):
        write_audio(tmp_path / "a.flac", np.zeros((10, 2), dtype=np.int16), SR)
