"""Track pictures: the cover drawn from a song, and the waveform's peaks."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from overture.app.tracks.art import cover_svg, waveform_peaks

SVG = "{http://www.w3.org/2000/svg}"


def _song(song_id: str = "08e97738bd19533a", seed: int = 1, **spec: Any) -> dict[str, Any]:
    """A ``song.json`` as the engine writes it, cut to what the cover reads."""
    base = {
        "genre": "pop",
        "moods": ["upbeat"],
        "tempo": 120.0,
        "key": "G major",
        "duration": 20.0,
    }
    base.update(spec)
    return {
        "id": song_id,
        "title": "Upbeat Pop Song",
        "seed": seed,
        "spec": base,
        "plan": {
            "key": base["key"],
            "tempo": base["tempo"],
            "form": [
                {"id": "verse1", "type": "verse", "start": 0.0, "end": 8.0, "energy": 0.5},
                {"id": "chorus1", "type": "chorus", "start": 8.0, "end": 18.4, "energy": 0.82},
            ],
            "chords": ["G", "D", "Em", "C", "G", "D", "C", "D", "G"],
        },
    }


def _score() -> dict[str, Any]:
    lead = [[71 + (i % 5) - (i // 7), float(i), 1.0, 90] for i in range(36)]
    return {
        "format": 1,
        "parts": [
            {"name": "drums", "is_drums": True, "notes": [[36, 0.0, 0.25, 100]]},
            {"name": "lead", "is_drums": False, "notes": lead},
        ],
    }


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def test_the_cover_is_deterministic_and_well_formed() -> None:
    song, score = _song(), _score()
    first = cover_svg(song, title="Upbeat Pop Song", creator="Ada", score=score)
    again = cover_svg(copy.deepcopy(song), title="Upbeat Pop Song", creator="Ada", score=score)
    assert first == again
    root = ET.fromstring(first)
    assert root.tag == f"{SVG}svg" and root.get("viewBox") == "0 0 600 600"
    assert len(first.encode("utf-8")) < 20_000
    assert "Upbeat Pop Song" in _texts(first) and "Ada" in _texts(first)
    assert "Noto Sans CJK SC" in first


def test_the_cover_does_not_depend_on_the_hash_seed() -> None:
    code = (
        "import json, sys; from overture.app.tracks.art import cover_svg; "
        "sys.stdout.write(cover_svg(json.loads(sys.argv[1]), title='t'))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code, json.dumps(_song())],
            capture_output=True,
            encoding="utf-8",
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONIOENCODING": "utf-8"},
        ).stdout
        for hash_seed in (1, 2)
    }
    assert len(outs) == 1 and outs == {cover_svg(_song(), title="t")}


def test_different_songs_get_different_covers() -> None:
    a = cover_svg(_song("aaaa", seed=1), title="Same Title")
    b = cover_svg(_song("bbbb", seed=2), title="Same Title")
    c = cover_svg(_song("aaaa", seed=1, key="D minor", moods=["dark"]), title="Same Title")
    assert len({a, b, c}) == 3

    def paths(svg: str) -> list[str | None]:
        return [el.get("d") for el in ET.fromstring(svg).iter(f"{SVG}path")]

    assert paths(a) != paths(b)  # the shapes differ, not only the colours
    assert "#" in a and _fills(a) != _fills(c)  # minor and dark: another palette


def _fills(svg: str) -> set[str]:
    return {el.get("stop-color") or "" for el in ET.fromstring(svg).iter(f"{SVG}stop")}


def test_a_malicious_title_is_only_text() -> None:
    title = 'Hi</text><script>alert("x")</script><text>& "quotes" \'too\''
    creator = "<img src=x onerror=alert(1)>"
    svg = cover_svg(_song(), title=title, creator=creator)
    root = ET.fromstring(svg)  # well-formed
    assert not any(el.tag.endswith(("script", "img")) for el in root.iter())
    assert "<script" not in svg and "<img" not in svg
    assert root.find(f"{SVG}title").text == f"{title} — {creator}"  # type: ignore[union-attr]
    texts = _texts(svg)
    assert creator in texts
    shown = "".join(texts[:-2]).rstrip("…")  # the title's lines (creator and label follow)
    assert len(shown) > 30 and title.replace(" ", "").startswith(shown.replace(" ", ""))
    short = "</text><script>&\"'"
    assert short in _texts(cover_svg({}, title=short))


def test_control_characters_are_dropped_not_fatal() -> None:
    svg = cover_svg({}, title="bell\x07 and nul\x00")
    assert ET.fromstring(svg).find(f"{SVG}title").text == "bell and nul"  # type: ignore[union-attr]


def test_an_empty_song_falls_back_to_the_title() -> None:
    svg = cover_svg({}, title="Lost Song", creator=None)
    assert "Lost Song" in _texts(svg)
    assert svg == cover_svg({}, title="Lost Song")
    assert svg != cover_svg({}, title="Another Lost Song")
    assert cover_svg({}, title="   ").count("Untitled") >= 1


def test_a_chinese_title_is_kept() -> None:
    title = "月亮照在小河上"
    svg = cover_svg(_song(key="B minor", moods=["sad"]), title=title, creator="小明")
    texts = _texts(svg)
    assert title in texts and "小明" in texts
    assert title in svg  # as characters, not character references


def test_a_long_title_wraps_and_is_cut() -> None:
    title = "一首关于夜晚、河流与远方的很长很长的歌" * 6
    texts = _texts(cover_svg(_song(), title=title, size=300))
    lines = [t for t in texts if t and title.startswith(t.rstrip("…")[:5])]
    assert len(lines) == 2 and lines[1].endswith("…")
    assert "".join(lines).rstrip("…") == title[: len("".join(lines)) - 1]


def test_the_melody_shapes_the_line() -> None:
    song = _song()
    flat = _score()
    flat["parts"][1]["notes"] = [[60, float(i), 1.0, 90] for i in range(36)]
    assert cover_svg(song, title="t", score=_score()) != cover_svg(song, title="t", score=flat)
    # Without a score the planned chords draw the line; a junk score is ignored.
    assert cover_svg(song, title="t", score={"parts": "junk"}) == cover_svg(song, title="t")


def _write(path: Path, audio: np.ndarray, rate: int = 8000) -> Path:
    sf.write(str(path), audio, rate)
    return path


def test_waveform_peaks_of_a_burst_then_silence(tmp_path: Path) -> None:
    rate = 8000
    t = np.arange(rate) / rate
    burst = 0.5 * np.sin(2 * np.pi * 440 * t)
    audio = np.concatenate([burst, np.zeros(rate)])
    stereo = np.stack([audio, audio * 0.25], axis=1)
    for path in (_write(tmp_path / "a.wav", stereo), _write(tmp_path / "a.flac", stereo)):
        peaks = waveform_peaks(path, points=100)
        assert len(peaks) == 100
        assert all(0.0 <= p <= 1.0 for p in peaks) and max(peaks) == 1.0
        assert min(peaks[:50]) > 0.95
        assert max(peaks[50:]) < 0.01
        assert all(p == round(p, 3) for p in peaks)


def test_waveform_peaks_read_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import overture.app.tracks.art as art

    rng = np.random.default_rng(0)
    audio = rng.uniform(-0.3, 0.3, 50_000)
    audio[31_234] = -0.9
    path = _write(tmp_path / "n.wav", audio)
    whole = waveform_peaks(path, points=37)
    monkeypatch.setattr(art, "BLOCK_FRAMES", 1000)
    assert waveform_peaks(path, points=37) == whole
    assert whole[31_234 * 37 // 50_000] == 1.0


def test_waveform_peaks_of_a_short_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "short.wav", np.array([0.1, -0.5, 0.25, 0.0, 1.0]))
    peaks = waveform_peaks(path, points=20)
    assert len(peaks) == 20
    assert peaks[0] == 0.1 and peaks[-1] == 1.0 and 0.5 in peaks
    assert waveform_peaks(path, points=1) == [1.0]


def test_waveform_peaks_of_silence_are_zero(tmp_path: Path) -> None:
    path = _write(tmp_path / "quiet.wav", np.zeros(1000))
    assert waveform_peaks(path, points=8) == [0.0] * 8
    empty = _write(tmp_path / "empty.wav", np.zeros(0))
    assert waveform_peaks(empty, points=4) == [0.0] * 4


def test_waveform_peaks_refuse_what_is_not_audio(tmp_path: Path) -> None:
    junk = tmp_path / "junk.flac"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(ValueError, match=r"junk\.flac"):
        waveform_peaks(junk)
    with pytest.raises(ValueError):
        waveform_peaks(tmp_path / "missing.wav")
    with pytest.raises(ValueError):
        waveform_peaks(_write(tmp_path / "ok.wav", np.zeros(10)), points=0)
