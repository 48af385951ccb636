"""Arranging a demo: a MIDI tune or a sung recording becomes the lead of a whole song, and with
--keep-voice the recording itself is the lead stem, aligned with the arrangement."""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import mido
import numpy as np
import pytest
import soundfile as sf

from overture.errors import InvalidInputError
from overture.studio import arrange
from overture.studio.arrange import aligned_recording

SUNG_SEED = 1  # a folk ballad sung by the engine's female voice, 75 bpm


@pytest.fixture(scope="module")
def sung_demo(transcribe_bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Any:
    demo = transcribe_bench.sung_demo(SUNG_SEED, 14.0)
    return demo, demo.write(tmp_path_factory.mktemp("demo") / "hum.wav")


def _midi(path: Path, notes: list[tuple[int, float, float]], bpm: float = 100) -> Path:
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    events = []
    for pitch, start, dur in notes:
        events += [
            (round(start * 480), "note_on", pitch),
            (round((start + dur) * 480), "off", pitch),
        ]
    now = 0
    for tick, kind, pitch in sorted(events, key=lambda e: (e[0], e[1] == "note_on")):
        msg = "note_on" if kind == "note_on" else "note_off"
        track.append(
            mido.Message(msg, note=pitch, velocity=90 if kind == "note_on" else 0, time=tick - now)
        )
        now = tick
    mid.save(str(path))
    return path


def test_a_midi_demo_becomes_the_lead_of_a_full_arrangement(tmp_path: Path) -> None:
    tune = [(67, 0, 1), (69, 1, 1), (71, 2, 2), (72, 4, 1), (71, 5, 1), (69, 6, 1), (67, 7, 1)]
    tune += [(64, 8, 2), (66, 10, 2), (67, 12, 4)]
    demo = _midi(tmp_path / "tune.mid", tune)
    song = arrange(demo, "indie folk", seed=2)
    assert song.spec.genre == "folk" and song.score.tempo == 100
    lead = song.score.part("lead").notes
    first = next(s for s in song.plan.sections if s.kind in {"verse", "chorus"})
    at = first.start_bar * 4
    played = [(n.pitch, n.start - at, n.duration) for n in lead if at <= n.start < at + 16]
    assert played == [(p, float(s), float(d)) for p, s, d in tune]
    assert {p.name for p in song.score.parts} >= {"bass", "chords", "lead"}
    assert song.lineage is not None
    parent = song.lineage["parents"][0]
    assert parent["kind"] == "demo" and parent["file"] == "tune.mid" and len(parent["sha256"]) == 64
    with pytest.raises(InvalidInputError, match="a MIDI demo has no voice to keep"):
        arrange(demo, "folk", keep_voice=True)


def test_the_critique_leaves_the_users_own_tune_out_of_the_score(tmp_path: Path) -> None:
    """An arrangement is judged on what the engine made: the likelihood and structure of the
    given lead (the user's tune) are reported but weigh nothing, and explain says why."""
    from click.testing import CliRunner

    from overture.cli import main
    from overture.critique import combine
    from overture.critique.critics import GIVEN_LEAD

    tune = [(60, 0, 1.5), (66, 1.5, 0.5), (61, 2, 1), (70, 3, 1), (59, 4, 3), (68, 7, 1)]
    tune += [(63, 8, 0.5), (57, 8.5, 2.5), (65, 11, 1), (62, 12, 4)]
    song = arrange(_midi(tmp_path / "odd.mid", tune), "indie folk", seed=2, out=tmp_path / "a")
    critics = json.loads((tmp_path / "a" / "song.json").read_text())["critique"]["critics"]
    for name in ("likelihood", "structure"):
        assert critics[name]["weight"] == 0 and critics[name]["contribution"] == 0
        assert critics[name]["not_counted"] == GIVEN_LEAD
    counted = {k: v for k, v in song.verdicts.items() if k not in {"likelihood", "structure"}}
    assert set(counted) == {"theory", "adherence", "mix"}
    assert song.critique["score"] == pytest.approx(combine(counted).score, abs=1e-4)
    # Counted, the odd tune would have pulled the arrangement's score down.
    assert combine(song.verdicts).score < song.critique["score"] - 0.05
    out = CliRunner().invoke(main, ["explain", str(tmp_path / "a")]).output
    assert f"(weight 0): not counted, {GIVEN_LEAD}" in out

    from overture import generate

    own = generate("indie folk", duration=20, seed=2).critique["critics"]
    assert all(c["weight"] == 1 and "not_counted" not in c for c in own.values())


def test_a_sung_demo_is_transcribed_and_arranged_at_its_tempo(sung_demo: Any) -> None:
    demo, path = sung_demo
    song = arrange(path, "lo-fi hip hop")
    assert abs(song.score.tempo - demo.tempo) / demo.tempo < 0.03
    lead = song.score.part("lead").notes
    assert len(lead) >= 0.7 * len(demo.truth)
    truth_pcs = {p % 12 for _, _, p in demo.truth}
    assert sum(n.pitch % 12 in truth_pcs for n in lead) / len(lead) > 0.9
    assert song.lineage is not None and song.lineage["options"]["method"] in {"f0", "basic-pitch"}


def test_a_tempo_in_the_prompt_picks_which_octave_the_demo_is_read_in(sung_demo: Any) -> None:
    """The 75 bpm demo read at the doubled tempo the prompt states: the same tune, each note
    twice as many beats long, so it sounds at the demo's speed in a 150 bpm song. (At the
    finer grid a held note sung with vibrato is sometimes kept as two.)"""
    demo, path = sung_demo
    plain = arrange(path, "lo-fi hip hop")
    doubled = arrange(path, "lo-fi hip hop at 150 bpm")
    assert plain.lineage is not None and doubled.lineage is not None
    read = doubled.lineage["options"]["tempo"]
    assert abs(read - 2 * demo.tempo) / (2 * demo.tempo) < 0.03
    assert abs(plain.lineage["options"]["tempo"] - demo.tempo) / demo.tempo < 0.03
    assert doubled.score.tempo == 150

    def lead(song: Any) -> list[Any]:
        return sorted(song.score.part("lead").notes, key=lambda n: n.start)

    a, b = lead(plain), lead(doubled)
    same = difflib.SequenceMatcher(a=[n.pitch for n in a], b=[n.pitch for n in b]).ratio()
    assert same > 0.85
    span_a, span_b = a[-1].start - a[0].start, b[-1].start - b[0].start
    assert abs(span_b - 2 * span_a) <= 1.0  # beats


def test_aligned_recording_delays_or_trims() -> None:
    x = np.arange(10, dtype=np.float32)
    assert aligned_recording(x, 10, 0.3).tolist() == [0, 0, 0, *range(10)]
    assert aligned_recording(x, 10, -0.2).tolist() == list(range(2, 10))


@pytest.mark.slow
def test_keep_voice_lays_the_recording_over_the_arrangement_in_time(
    sung_demo: Any, tmp_path: Path
) -> None:
    demo, path = sung_demo
    out = tmp_path / "mine"
    song = arrange(path, "acoustic pop", keep_voice=True, out=out)
    stem, rate = sf.read(out / "stems" / "lead.flac", dtype="float32")
    stem = stem.mean(axis=1)
    voice, vrate = sf.read(path, dtype="float32")
    assert rate == 44100 and vrate <= rate
    # Where the recording sits in the song: the lag that best lines up their loudness.
    hop = 441
    env = lambda a, r: np.sqrt(  # noqa: E731
        np.convolve(
            np.interp(np.arange(0, len(a) / r, 1 / rate), np.arange(len(a)) / r, a) ** 2,
            np.ones(hop) / hop,
            "same",
        )[::hop]
    )
    a, b = env(stem, rate), env(voice, vrate)
    lags = range(-len(b) + 1, len(a))
    corr = np.correlate(a - a.mean(), b - b.mean(), "full")
    lag = lags[int(np.argmax(corr))] * hop / rate
    first = next(s for s in song.plan.sections if s.kind in {"verse", "chorus"})
    beat0 = first.start_bar * 4 * 60 / song.score.tempo
    offset = song.lineage["options"]["offset"] if song.lineage else 0.0
    assert abs(lag - (beat0 - offset)) < 0.03
    # ... and so the transcribed notes (the score's lead) fall on the voice's own notes.
    spb = 60 / song.score.tempo
    true_onsets = np.array([t for t, _, _ in demo.truth]) + lag
    hits = [
        np.min(np.abs(true_onsets - n.start * spb)) < 0.08 for n in song.score.part("lead").notes
    ]
    assert sum(hits) / len(hits) > 0.75
    meta = json.loads((out / "song.json").read_text())
    assert meta["lineage"]["options"]["keep_voice"] is True
    assert (out / "song_instrumental.flac").is_file()  # the arrangement without the voice


def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "overture.cli", "arrange", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_bad_demos_are_refused_in_one_line_and_write_nothing(tmp_path: Path) -> None:
    fake = tmp_path / "song.wav"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("a.txt", "not audio")
    short = tmp_path / "short.wav"
    sf.write(short, np.sin(np.arange(22050) / 10).astype(np.float32), 22050)
    noise = tmp_path / "noise.wav"
    sf.write(noise, np.random.default_rng(0).normal(0, 0.3, 22050 * 5).astype(np.float32), 22050)
    for bad, words in (
        (fake, "not an audio file"),
        (short, "at least"),
        (tmp_path / "missing.wav", "not found"),
        (noise, "no melody"),
    ):
        out = tmp_path / f"out-{bad.stem}"
        r = _run(bad, "--prompt", "pop", "--out", out)
        assert r.returncode == 2, (bad, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
        assert not out.exists()
    # Asking to keep the voice and to set the length is refused before any transcription
    # (else this noise would be refused for having no melody).
    out = tmp_path / "out-kept"
    r = _run(noise, "--prompt", "pop", "--keep-voice", "--duration", "20", "--out", out)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: with the voice kept, the song lasts as long as the recording: "
        "leave out the duration"
    ]
    assert not out.exists()
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
