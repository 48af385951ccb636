"""The decoded twin of an SF3 soundfont: same presets, same samples, same audio, crash-safe."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from overture.render import pcm_cache, render_song, soundfont_info
from overture.render import synth as synth_mod
from overture.score import Note, Part, Score
from overture.theory import parse_key, parse_time_signature

SF3 = Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3")
# Cheap presets of MuseScore General (under 1.5 MB of Ogg Vorbis each): bass, flute, drum kit.
BASS, FLUTE, KIT = (0, 33), (0, 73), (128, 0)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if not SF3.is_file():
        pytest.fail("musescore-general-soundfont is not installed: run `make test`")
    monkeypatch.setenv(pcm_cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(pcm_cache.ENABLE_ENV, raising=False)
    return tmp_path / "cache"


def small_score() -> Score:
    drums = Part("drums", "drums", 0, is_drums=True)
    bass = Part("bass", "electric bass", 33)
    lead = Part("lead", "flute", 73)
    for b in range(6):
        drums.notes.append(Note(36 if b % 2 == 0 else 38, b, 0.25, 110))
        drums.notes.append(Note(42, b + 0.5, 0.25, 80))
        bass.notes.append(Note(36 + 2 * (b % 3), b, 0.9, 100))
        lead.notes.append(Note(72 + (b % 4), b, 0.8, 90))
    return Score(
        tempo=120.0,
        time_signature=parse_time_signature("4/4"),
        key=parse_key("C major"),
        bars=2,
        end_beat=6.0,
        duration=4.0,
        sections=[],
        chords=["C", "C"],
        parts=[drums, bass, lead],
    )


def render(score: Score, soundfont: Path, out: Path) -> dict[str, np.ndarray]:
    return render_song(score, soundfont=soundfont, stems_dir=out, workers=1).stems


def render_without_cache(
    score: Score, out: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, np.ndarray]:
    """The stems of ``score`` rendered from the SF3 itself, the cache turned off meanwhile."""
    monkeypatch.setenv(pcm_cache.ENABLE_ENV, "0")
    stems = render(score, SF3, out)
    monkeypatch.delenv(pcm_cache.ENABLE_ENV)
    return stems


def test_twin_has_the_same_presets_and_starts_empty_and_sparse(cache: Path) -> None:
    twin = pcm_cache.pcm_soundfont(SF3)
    assert twin != SF3.resolve() and twin.is_file() and cache in twin.parents
    assert pcm_cache.pcm_soundfont(SF3) == twin  # built once, then found
    src, pcm = soundfont_info(SF3), soundfont_info(twin)
    assert src.compressed and not pcm.compressed and pcm.twin
    assert set(src.presets) == set(pcm.presets)
    assert len(src.sample_bytes) == len(pcm.sample_bytes)
    for key in (BASS, KIT, (0, 0)):
        assert src.presets[key].samples == pcm.presets[key].samples
    st = twin.stat()
    assert st.st_size > 400e6  # MuseScore General decodes to ~490 MB...
    assert st.st_blocks * 512 < 5e6  # ...of which nothing is on disk yet
    piano = src.presets[(0, 0)].samples
    assert pcm_cache.pending_bytes(twin, piano) == int(src.sample_bytes[list(piano)].sum())
    # Planning charges undecoded samples at the SF3 decode rate, and little once decoded.
    assert src.decode_cost(piano) <= pcm.decode_cost(piano) <= 1.2 * src.decode_cost(piano)
    bass = pcm.presets[BASS].samples
    before = pcm.decode_cost(bass)
    pcm_cache.ensure_samples(twin, bass)
    assert pcm.decode_cost(bass) < 0.1 * before


def test_ensure_decodes_exactly_the_missing_samples(cache: Path) -> None:
    twin = pcm_cache.pcm_soundfont(SF3)
    info = soundfont_info(twin)
    bass = info.presets[BASS].samples
    assert pcm_cache.ensure_samples(twin, bass) == len(bass)
    assert pcm_cache.pending_bytes(twin, bass) == 0
    assert pcm_cache.ensure_samples(twin, bass) == 0  # nothing left to do
    flute = info.presets[FLUTE].samples
    assert pcm_cache.pending_bytes(twin, flute) > 0  # untouched by the bass
    layout = pcm_cache._layout(str(twin))
    raw = np.fromfile(twin, dtype="<i2", offset=layout.dst_smpl)
    with SF3.open("rb") as f:
        for i in sorted(bass):
            a = int(layout.dst_start[i])
            expected = pcm_cache._decode(f, layout, i)
            assert np.array_equal(raw[a : a + len(expected)], expected)
            assert np.any(expected != 0)
            assert not raw[a + len(expected) : a + len(expected) + 46].any()  # guard zeros


def test_twin_renders_the_same_samples_as_the_sf3(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    score = small_score()
    direct = render_without_cache(score, tmp_path / "direct", monkeypatch)
    first = render(score, SF3, tmp_path / "first")  # decodes into the twin
    again = render(score, SF3, tmp_path / "again")  # reads the twin
    assert pcm_cache.pending_bytes(pcm_cache.pcm_soundfont(SF3), range(10_000)) > 0
    for name, stem in direct.items():
        assert np.abs(stem).max() > 0.01, name
        assert np.array_equal(stem, first[name]), name
        assert np.array_equal(stem, again[name]), name


def test_a_fill_cut_short_is_redone(cache: Path) -> None:
    twin = pcm_cache.pcm_soundfont(SF3)
    bass = soundfont_info(twin).presets[BASS].samples
    layout = pcm_cache._layout(str(twin))
    i = min(bass)
    a = layout.dst_smpl + 2 * int(layout.dst_start[i])
    # A process killed after writing garbage, before recording the sample as filled:
    with open(twin, "r+b") as f:
        f.seek(a)
        f.write(b"\x7f" * 64)
    assert pcm_cache.pending_bytes(twin, {i}) > 0
    assert pcm_cache.ensure_samples(twin, {i}) == 1
    with SF3.open("rb") as f:
        expected = pcm_cache._decode(f, layout, i)
    got = np.fromfile(twin, dtype="<i2", count=len(expected), offset=a)
    assert np.array_equal(got, expected)


def test_concurrent_fills_do_not_collide(cache: Path) -> None:
    twin = pcm_cache.pcm_soundfont(SF3)
    info = soundfont_info(twin)
    wanted = [info.presets[BASS].samples, info.presets[BASS].samples | info.presets[FLUTE].samples]
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda s=s: counts.append(pcm_cache.ensure_samples(twin, s)))
        for s in wanted
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = wanted[1]
    assert sum(counts) == len(every)  # each sample decoded once, by one of them
    assert pcm_cache.pending_bytes(twin, every) == 0


def test_no_cache_when_disabled_or_the_folder_is_unusable(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(pcm_cache.ENABLE_ENV, "0")
    assert pcm_cache.pcm_soundfont(SF3) == SF3.resolve()
    monkeypatch.delenv(pcm_cache.ENABLE_ENV)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(pcm_cache.CACHE_DIR_ENV, str(blocker / "cache"))
    assert pcm_cache.pcm_soundfont(SF3) == SF3.resolve()
    monkeypatch.setenv(pcm_cache.CACHE_DIR_ENV, str(cache))
    small = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
    assert pcm_cache.pcm_soundfont(small) == small.resolve()  # already PCM: used as is
    assert not any(cache.rglob("TimGM6mb*"))  # and no copy of it is made


def test_render_falls_back_to_the_sf3_when_the_twin_cannot_be_written(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    score = small_score()
    direct = render_without_cache(score, tmp_path / "direct", monkeypatch)

    def disk_full(twin: object, samples: object) -> int:
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(pcm_cache, "ensure_samples", disk_full)
    synth_mod._ENGINES.clear()  # a fresh engine in this process, as a new worker would have
    try:
        fallback = render(score, SF3, tmp_path / "fallback")
    finally:
        synth_mod._ENGINES.clear()
    for name, stem in direct.items():
        assert np.array_equal(stem, fallback[name]), name


def test_a_new_twin_replaces_the_twins_of_older_versions(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    twin = pcm_cache.pcm_soundfont(SF3)
    stale = [p for p in twin.parent.iterdir() if p.name.startswith(twin.name)]
    assert len(stale) >= 4  # the twin, its layout, its fill record and its description
    monkeypatch.setattr(pcm_cache, "FORMAT", pcm_cache.FORMAT + 1)  # a new layout version
    new = pcm_cache.pcm_soundfont(SF3)
    assert new != twin and new.is_file()
    assert not any(p.exists() for p in stale)
    assert all(p.name.startswith(new.name) for p in new.parent.iterdir())
