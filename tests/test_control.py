"""User control: --chords, --structure, --instruments, --melody and --loop are followed exactly."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest
from click.testing import CliRunner

from overture.cli import main
from overture.errors import InvalidInputError
from overture.pipeline import generate
from overture.spec import key_of_chords, parse_chords, parse_structure
from overture.theory import parse_chord


def test_given_chords_are_played_bar_by_bar() -> None:
    song = generate("pop song", chords="Am F C G", duration=30, seed=3)
    plan = song.plan
    want = [parse_chord(c) for c in ["Am", "F", "C", "G"]]
    assert list(plan.chords) == [want[i % 4] for i in range(plan.bars)]
    assert song.spec.key.name == "A minor"  # read from the chords when not stated
    assert song.spec.to_dict()["chords"] == ["Am", "F", "C", "G"]
    bpb = plan.time_signature.beats_per_bar
    chords_part = song.score.part("chords")
    for n in chords_part.notes:
        bar = int((n.start + 0.05) // bpb)  # humanised timing may anticipate a bar slightly
        assert n.pitch % 12 in plan.chords[bar].pitch_classes, (bar, n)


def test_chords_accept_bar_lines_and_commas_and_set_the_key() -> None:
    assert parse_chords("C | G, Am ; F") == tuple(parse_chord(c) for c in ["C", "G", "Am", "F"])
    assert key_of_chords(parse_chords("C G Am F")).name == "C major"
    assert key_of_chords(parse_chords("Em C G D")).name == "E minor"
    assert key_of_chords(parse_chords("Bb F Gm Eb")).name == "Bb major"


@pytest.mark.parametrize(
    "structure",
    [
        "intro verse chorus verse chorus bridge chorus outro",
        "verse pre-chorus chorus",
        "前奏 主歌 副歌 尾奏",
        "intro, verse1, hook, outro",
    ],
)
def test_given_structure_is_the_form(structure: str) -> None:
    song = generate("rock", structure=structure, seed=2)
    kinds = [s.kind for s in song.plan.sections]
    assert kinds == list(parse_structure(structure))
    assert sum(s.bars for s in song.plan.sections) == song.plan.bars
    # Without a stated duration, the structure's natural lengths set it.
    assert song.spec.sources["duration"] == "structure"


def test_structure_is_fitted_to_a_stated_duration() -> None:
    song = generate("pop", structure="intro verse chorus outro", duration=45, tempo=120, seed=1)
    bars = {s.kind: s.bars for s in song.plan.sections}
    assert [s.kind for s in song.plan.sections] == ["intro", "verse", "chorus", "outro"]
    assert sum(bars.values()) == song.plan.bars == ((45 - 2) // 2)
    assert bars["verse"] > bars["intro"] and bars["chorus"] > bars["outro"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"chords": "Am X7 C"}, "unknown chord"),
        ({"chords": "Am Fblah"}, "unknown chord quality"),
        ({"chords": " , "}, "no chords"),
        ({"structure": "verse solo2 kazoo"}, "unknown section 'kazoo'"),
        ({"structure": "verse " * 10, "duration": 3}, "holds only"),
        ({"melody": "/nonexistent/tune.mid"}, "melody file not found"),
    ],
)
def test_bad_control_input_is_a_clear_error(options: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        generate("pop", **options)


def test_cli_reports_bad_chords_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "song"
    result = CliRunner().invoke(main, ["generate", "pop", "--chords", "H7 C", "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown chord")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_instruments_option_sets_the_parts() -> None:
    song = generate("pop", instruments=["piano", "strings"], duration=20)
    assert {"piano", "strings"} <= set(song.plan.parts.values())


def _write_tune(path: Path, *, tempo: int = 100, chordal: bool = False) -> list[tuple]:
    """An original 8-bar C major tune (beats): pitch, start, duration."""
    tune = []
    line = [
        (64, 1), (67, 1), (69, 1), (67, 1), (65, 2), (64, 2),
        (62, 1), (64, 1), (65, 1), (62, 1), (60, 4),
        (67, 1), (72, 1), (71, 1), (69, 1), (67, 2), (65, 2),
        (64, 1), (62, 1), (67, 1), (71, 1), (72, 4),
    ]  # fmt: skip
    t = 0.0
    for pitch, dur in line:
        tune.append((pitch, t, float(dur)))
        t += dur
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo)))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    mid.tracks.append(meta)
    track = mido.MidiTrack()
    events = []
    for pitch, start, dur in tune:
        events.append((int(start * 480), "note_on", pitch, 90))
        events.append((int((start + dur) * 480), "note_off", pitch, 0))
        if chordal:  # a lower harmony note under each melody note: the top line is the tune
            events.append((int(start * 480), "note_on", pitch - 9, 70))
            events.append((int((start + dur) * 480), "note_off", pitch - 9, 0))
    events.sort(key=lambda e: (e[0], e[1] == "note_on"))
    now = 0
    for tick, kind, pitch, vel in events:
        track.append(mido.Message(kind, note=pitch, velocity=vel, time=tick - now))
        now = tick
    mid.tracks.append(track)
    mid.save(str(path))
    return tune


@pytest.mark.parametrize("chordal", [False, True])
def test_a_given_melody_becomes_the_lead_and_is_harmonised(tmp_path: Path, chordal: bool) -> None:
    path = tmp_path / "tune.mid"
    tune = _write_tune(path, chordal=chordal)
    song = generate("folk song", melody=path, seed=4)
    spec, plan = song.spec, song.plan
    assert spec.tempo == 100 and str(spec.time_signature) == "4/4"
    assert spec.key.name == "C major" and spec.sources["key"] == "melody"
    lead = sorted(song.score.part("lead").notes, key=lambda n: n.start)
    first = next(s for s in plan.sections if s.kind == "verse")
    offset = first.start_bar * plan.time_signature.beats_per_bar
    got = [(n.pitch, n.start - offset, n.duration) for n in lead[: len(tune)]]
    assert got == [(p, s, d) for p, s, d in tune]
    # Harmonised: the melody's downbeat notes are tones of their bar's chord, and it ends home.
    bpb = plan.time_signature.beats_per_bar
    downbeats = [(p, s) for p, s, _ in tune if s % bpb == 0]
    fits = sum(
        p % 12 in plan.chords[first.start_bar + int(s // bpb)].pitch_classes for p, s in downbeats
    )
    assert fits >= 0.75 * len(downbeats)
    assert plan.chords[-1].root == 0 and not plan.chords[-1].is_minor


def test_a_given_melody_moves_to_a_stated_key_and_fills_a_stated_duration(tmp_path: Path) -> None:
    path = tmp_path / "tune.mid"
    tune = _write_tune(path)
    song = generate("folk song", melody=path, key="D major", duration=60, seed=4)
    kinds = [s.kind for s in song.plan.sections]
    assert kinds.count("verse") + kinds.count("chorus") >= 2  # the tune returns
    verse = next(s for s in song.plan.sections if s.kind == "verse")
    offset = verse.start_bar * song.plan.time_signature.beats_per_bar
    lead = sorted(song.score.part("lead").notes, key=lambda n: n.start)
    at = [n for n in lead if n.start >= offset][: len(tune)]
    assert [n.pitch for n in at] == [p + 2 for p, _, _ in tune]


def test_a_melody_longer_than_the_duration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tune.mid"
    _write_tune(path)
    with pytest.raises(InvalidInputError, match="too short"):
        generate("folk", melody=path, duration=5)


def test_a_file_that_is_not_midi_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tune.mid"
    path.write_bytes(b"not a midi file at all")
    with pytest.raises(InvalidInputError, match=r"cannot read tune\.mid"):
        generate("folk", melody=path)


def test_a_loop_is_whole_bars_and_leads_back_to_its_start() -> None:
    song = generate("house", loop=True, duration=16, tempo=128, seed=5)
    plan = song.plan
    assert plan.spec.loop and song.score.loop
    assert plan.end_beat == plan.bars * plan.time_signature.beats_per_bar
    assert plan.duration == pytest.approx(plan.bars * plan.bar_seconds)
    assert abs(plan.duration - 16) <= plan.bar_seconds / 2
    assert {"intro", "outro"}.isdisjoint(s.kind for s in plan.sections)
    for part in song.score.parts:
        assert all(n.end <= plan.end_beat + 1e-9 for n in part.notes)


@pytest.mark.slow
def test_a_rendered_loop_has_no_seam(tmp_path: Path, small_soundfont: Path) -> None:
    from overture.audio import read_audio

    song = generate(
        "lo-fi hip hop", loop=True, duration=8, tempo=90, seed=2, out=tmp_path / "loop",
        soundfont=small_soundfont,
    )  # fmt: skip
    audio, sr = read_audio(tmp_path / "loop" / "song.flac")
    assert len(audio) == round(song.plan.duration * sr)
    mono = audio.mean(axis=1)
    # Played on repeat, the step from the last sample to the first is an ordinary step...
    steps = np.abs(np.diff(mono))
    assert abs(mono[0] - mono[-1]) <= np.quantile(steps, 0.999) + 1e-4
    # ... and neither end is a fade: both edges carry sound like the middle does.
    edge = int(0.05 * sr)
    rms = float(np.sqrt(np.mean(mono**2)))
    assert np.sqrt(np.mean(mono[-edge:] ** 2)) > 0.1 * rms
    assert np.sqrt(np.mean(mono[:edge] ** 2)) > 0.1 * rms


def test_originality_is_reported_and_under_the_limit() -> None:
    for seed in range(4):
        song = generate("folk song in G major", duration=40, seed=seed)
        assert 0 < song.originality["longest_match"] < song.originality["limit"] == 8
