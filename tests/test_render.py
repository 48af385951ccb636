"""The audio back end: soundfont lookup, synthesis, stems, mix and mastering."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from overture.audio import read_audio, read_tags
from overture.errors import SoundfontError
from overture.render import (
    integrated_loudness,
    master,
    master_with_report,
    measure_loudness,
    prewarm,
    render_song,
    resolve_soundfont,
    soundfont_info,
    true_peak,
)
from overture.render import synth as synth_mod
from overture.score import Note, Part, Score
from overture.theory import parse_key, parse_time_signature

SR = 44100


def make_score(parts: list[Part], *, beats: float = 8.0, tempo: float = 120.0) -> Score:
    seconds = beats * 60.0 / tempo + 1.0  # one second of release tail
    return Score(
        tempo=tempo,
        time_signature=parse_time_signature("4/4"),
        key=parse_key("C major"),
        bars=max(1, int(beats // 4)),
        end_beat=beats,
        duration=seconds,
        sections=[],
        chords=["C"] * max(1, int(beats // 4)),
        parts=parts,
    )


def band(beats: float = 8.0) -> list[Part]:
    """Drums, bass, chords, a lead that starts late, and a part without notes."""
    drums = Part("drums", "drums", 0, is_drums=True, reverb=20)
    bass = Part("bass", "electric bass", 33, reverb=10)
    chords = Part("chords", "piano", 0, pan=40, reverb=50)
    lead = Part("lead", "flute", 73, pan=90)
    silent = Part("silent", "violin", 40)
    for b in range(int(beats)):
        drums.notes.append(Note(36 if b % 2 == 0 else 38, b, 0.25, 110))
        drums.notes.append(Note(42, b + 0.5, 0.25, 80))
        bass.notes.append(Note(36, b, 0.9, 100))
        for p in (60, 64, 67, 72):
            chords.notes.append(Note(p, b, 0.9, 80))
    for b in range(int(beats) // 2, int(beats)):
        lead.notes.append(Note(76 + (b % 3), b, 0.8, 90))
    return [drums, bass, chords, lead, silent]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


@pytest.fixture(scope="module")
def rendered(small_soundfont: Path, tmp_path_factory: pytest.TempPathFactory):
    """One in-process render of the small band, shared by the tests that only read it."""
    score = make_score(band())
    stems_dir = tmp_path_factory.mktemp("stems")
    stages: list[tuple[str, float]] = []
    result = render_song(
        score,
        soundfont=small_soundfont,
        stems_dir=stems_dir,
        workers=1,
        progress=lambda stage, f: stages.append((stage, f)),
        tags={"title": "Band", "prompt": "a small band", "seed": "3", "version": "test"},
    )
    return score, result, stems_dir, stages


# ------------------------------------------------------------------------------ soundfont


def test_resolve_soundfont_explicit_env_and_default(
    small_soundfont: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_soundfont(small_soundfont) == small_soundfont.resolve()
    assert resolve_soundfont(str(small_soundfont)) == small_soundfont.resolve()
    monkeypatch.setenv("OVERTURE_SOUNDFONT", str(small_soundfont))
    assert resolve_soundfont() == small_soundfont.resolve()
    monkeypatch.delenv("OVERTURE_SOUNDFONT")
    assert resolve_soundfont().is_file()  # some installed default


def test_missing_or_invalid_soundfont_raises_soundfont_error(
    tmp_path: Path, small_soundfont: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.sf2"
    with pytest.raises(SoundfontError) as err:
        resolve_soundfont(missing)
    message = str(err.value)
    assert str(missing) in message and "musescore-general-soundfont" in message
    assert "\n" not in message

    text = tmp_path / "fake.sf2"
    text.write_text("not a soundfont")
    wave = tmp_path / "fake.sf3"
    wave.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    for bad in (text, wave, tmp_path):
        with pytest.raises(SoundfontError, match=r"fake|not a file"):
            resolve_soundfont(bad)

    monkeypatch.setenv("OVERTURE_SOUNDFONT", str(missing))
    with pytest.raises(SoundfontError, match="OVERTURE_SOUNDFONT"):
        resolve_soundfont()
    with pytest.raises(SoundfontError):
        render_song(make_score(band()), soundfont=text, stems_dir=tmp_path / "s", workers=1)
    truncated = tmp_path / "truncated.sf2"  # a valid header, then nothing usable
    truncated.write_bytes(small_soundfont.read_bytes()[:4096])
    for workers in (1, 2):
        with pytest.raises(SoundfontError):
            render_song(
                make_score(band()), soundfont=truncated, stems_dir=tmp_path / "t", workers=workers
            )


def test_soundfont_info_and_preset_fallbacks(small_soundfont: Path) -> None:
    info = soundfont_info(small_soundfont)
    assert not info.compressed
    assert info.has(0, 0) and info.has(128, 0)
    assert info.resolve(128, 99, drums=True) == (128, 0)  # no kit 99: standard kit
    assert info.resolve(7, 0, drums=False) == (0, 0)  # no bank 7: GM bank
    piano = info.presets[(0, 0)]
    assert piano.voices[60] >= 1 and not piano.exclusive
    assert info.presets[(128, 0)].exclusive  # hi-hat choke group


# ------------------------------------------------------------------------------------ stems


def test_stems_have_exact_length_are_stereo_float32_and_sound_where_notes_are(
    rendered,
) -> None:
    score, result, stems_dir, _ = rendered
    n = round(score.duration * SR)
    assert list(result.stems) == [p.name for p in score.parts]
    for name, stem in result.stems.items():
        assert stem.shape == (n, 2), name
        assert stem.dtype == np.float32, name
        assert np.all(np.isfinite(stem)), name
    for name in ("drums", "bass", "chords"):
        assert rms(result.stems[name][: 4 * SR]) > 1e-3, name
    lead = result.stems["lead"]
    first_note = int(4 * 0.5 * SR)  # beat 4 at 120 bpm
    assert rms(lead[: first_note - 2048]) == 0.0  # silent before its first note
    assert rms(lead[first_note : first_note + SR]) > 1e-3
    silent = result.stems["silent"]
    assert silent.shape == (n, 2) and not np.any(silent)
    for part in score.parts:
        assert (stems_dir / f"{part.name}.flac").is_file()


def test_stems_sum_to_the_mix_and_match_their_files(rendered) -> None:
    _, result, stems_dir, _ = rendered
    total = np.zeros_like(result.mix)
    for stem in result.stems.values():
        total += stem
    assert np.array_equal(total, result.mix)
    assert np.max(np.abs(result.mix)) <= 10 ** (-1 / 20) + 1e-6  # headroom: no clipping
    audio, sr = read_audio(stems_dir / "chords.flac")
    assert sr == SR and audio.shape == result.stems["chords"].shape
    assert np.max(np.abs(audio - result.stems["chords"])) < 2e-7  # 24-bit
    tags = read_tags(stems_dir / "chords.flac")
    assert tags["title"] == "Band" and tags["prompt"] == "a small band" and tags["seed"] == "3"


def test_mastered_result_meets_loudness_and_peak_targets(rendered) -> None:
    score, result, _, _ = rendered
    mastered = result.mastered
    assert mastered.shape == (round(score.duration * SR), 2) and mastered.dtype == np.float32
    assert abs(result.loudness.integrated_lufs + 14.0) <= 0.5
    assert result.loudness.true_peak_dbtp <= -1.0
    check = measure_loudness(mastered, SR)
    assert math.isclose(check.integrated_lufs, result.loudness.integrated_lufs, abs_tol=0.01)
    assert check.true_peak_dbtp <= -1.0 and check.sample_peak < 1.0
    assert mastered[-1].tolist() == [0.0, 0.0]  # faded to silence, no click at the end


def test_progress_reports_stages_and_rises_to_one(rendered) -> None:
    _, result, _, stages = rendered
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[0] >= 0.0 and fractions[-1] == 1.0
    names = {s for s, _ in stages}
    assert {"synth", "master", "stems"} <= names
    for key in ("synth", "effects", "master", "stems_write", "total"):
        assert result.timings[key] >= 0.0


def test_rendering_is_deterministic(small_soundfont: Path, tmp_path: Path, rendered) -> None:
    score, first, _, _ = rendered
    again = render_song(score, soundfont=small_soundfont, stems_dir=tmp_path, workers=1)
    for name in first.stems:
        assert np.array_equal(first.stems[name], again.stems[name]), name
    assert np.array_equal(first.mastered, again.mastered)


def test_worker_pool_gives_the_same_stems_as_in_process(
    small_soundfont: Path, tmp_path: Path, rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    score, local, _, _ = rendered
    # Short segments, so parts are cut and shared between the two workers.
    monkeypatch.setattr(synth_mod, "SEGMENT_SECONDS", 1.5)
    prewarm(small_soundfont, presets=[(0, 0, False), (0, 25, True)], workers=2)
    pooled = render_song(score, soundfont=small_soundfont, stems_dir=tmp_path, workers=2)
    seg_local = render_song(score, soundfont=small_soundfont, stems_dir=tmp_path, workers=1)
    for name in local.stems:
        assert np.array_equal(pooled.stems[name], seg_local.stems[name]), name
        # Cutting parts into segments changes nothing audible: only FluidSynth's 64-frame
        # anti-click ramp of reused voices starts from other gains.
        ref = local.stems[name]
        if np.any(ref):
            assert rms(pooled.stems[name] - ref) < 0.02 * rms(ref), name
    assert np.array_equal(pooled.mastered, seg_local.mastered)
    assert read_tags(tmp_path / "drums.flac") == {}


def test_drums_play_on_channel_ten_and_missing_kits_fall_back(
    small_soundfont: Path, tmp_path: Path
) -> None:
    kit = Part("drums", "drums", 99, is_drums=True)  # kit 99 does not exist: standard kit
    kit.notes = [Note(36, 0, 0.5, 120), Note(38, 1, 0.5, 120), Note(42, 2, 0.5, 120)]
    score = make_score([kit], beats=4)
    plan = synth_mod.plan_render(score, small_soundfont, SR)
    (job,) = plan.jobs
    assert (job.bank, job.program, job.drums) == (128, 0, True)
    engine = synth_mod._engine(plan.soundfont, SR)
    assert engine.channel(128, 0, True) == 9  # MIDI channel 10
    result = render_song(score, soundfont=small_soundfont, stems_dir=tmp_path, workers=1)
    drums = result.stems["drums"]
    for beat in (0, 1, 2):
        start = int(beat * 0.5 * SR)
        assert rms(drums[start : start + SR // 4]) > 1e-2, beat


def test_notes_past_the_end_are_cut_and_odd_notes_are_safe(
    small_soundfont: Path, tmp_path: Path
) -> None:
    organ = Part("organ", "organ", 16)
    organ.notes = [
        Note(60, 0, 100.0, 90),  # rings far past the end
        Note(64, 50.0, 1.0, 90),  # starts after the end
        Note(67, 1.0, 0.0, 90),  # no duration
        Note(67, 1.0, 1.0, 90),
        Note(67, 1.5, 1.0, 90),  # same key again while sounding
        Note(200, 2.0, 1.0, 300),  # out-of-range key and velocity
    ]
    score = make_score([organ], beats=4)
    result = render_song(score, soundfont=small_soundfont, stems_dir=tmp_path, workers=1)
    stem = result.stems["organ"]
    assert stem.shape == (round(score.duration * SR), 2)
    assert rms(stem[-SR // 10 :]) > 0  # still sounding at the cut
    assert np.all(np.isfinite(result.mastered))


# ---------------------------------------------------------------------------------- master


def music_like(seconds: float, *, seed: int = 1) -> np.ndarray:
    """Chords of decaying partials plus noise hits: crest and spectrum of a real mix."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for k, f in enumerate((110.0, 220.0, 277.2, 329.6, 440.0, 880.0)):
        x += np.sin(2 * np.pi * f * t + k) / (k + 1)
    x *= 0.5 + 0.5 * np.abs(np.sin(np.pi * t))
    hits = np.zeros(n)
    hits[:: SR // 2] = 1.0
    x += np.convolve(hits, rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300))[:n]
    stereo = np.stack([x, np.roll(x, 37)], axis=1)
    return (stereo / np.max(np.abs(stereo))).astype(np.float32)


def reference_true_peak_db(audio: np.ndarray) -> float:
    from scipy.signal import resample_poly

    return 20 * math.log10(np.max(np.abs(resample_poly(audio.astype(np.float64), 4, 1, axis=0))))


@pytest.mark.parametrize("level_db", [0.0, -40.0])
def test_master_hits_minus_14_lufs_under_minus_1_dbtp(level_db: float) -> None:
    import pyloudnorm

    x = music_like(12.0) * np.float32(10 ** (level_db / 20))
    if level_db == 0.0:
        x = np.clip(x * 3.0, -1.0, 1.0)  # loud and clipped
    y, report = master_with_report(x, SR)
    assert y.shape == x.shape and y.dtype == np.float32
    lufs = pyloudnorm.Meter(SR).integrated_loudness(y.astype(np.float64))
    assert abs(lufs + 14.0) <= 0.5
    assert math.isclose(report.integrated_lufs, lufs, abs_tol=0.02)
    assert reference_true_peak_db(y) <= -1.0
    assert np.max(np.abs(y)) < 1.0
    assert np.all(y[-1] == 0.0)


def test_master_handles_silence_and_short_audio() -> None:
    silence = np.zeros((SR, 2), dtype=np.float32)
    y, report = master_with_report(silence, SR)
    assert y.shape == silence.shape and not np.any(y)
    assert report.integrated_lufs == -math.inf
    one_second = music_like(1.0)
    y = master(one_second, SR)
    assert y.shape == one_second.shape
    assert abs(integrated_loudness(y, SR) + 14.0) <= 0.5
    assert reference_true_peak_db(y) <= -1.0
    blip = music_like(0.2)  # shorter than a 0.4 s gating block
    y = master(blip, SR)
    assert y.shape == blip.shape and np.all(np.isfinite(y))
    assert master(np.zeros((0, 2), np.float32), SR).shape == (0, 2)


def test_loudness_and_true_peak_match_reference_implementations() -> None:
    import pyloudnorm

    x = music_like(5.0, seed=4) * np.float32(0.7)
    ours = integrated_loudness(x, SR)
    theirs = pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64))
    assert math.isclose(ours, theirs, abs_tol=0.01)
    assert math.isclose(20 * math.log10(true_peak(x)), reference_true_peak_db(x), abs_tol=0.02)
    planar = np.ascontiguousarray(x.T)
    assert math.isclose(integrated_loudness(planar, SR), ours, abs_tol=1e-9)
