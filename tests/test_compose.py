"""Plan and Score: form scaled to the duration, harmony, parts, determinism, score.json."""

from __future__ import annotations

import io
import itertools
import json

import mido
import pytest

from overture.compose import compose
from overture.export import score_to_midi
from overture.plan import make_plan, release_tail
from overture.score import Score
from overture.spec import build_spec


def _song(prompt: str, seed: int = 7, **options: object) -> tuple:
    spec = build_spec(prompt, seed=seed, **options)
    plan = make_plan(spec)
    return spec, plan, compose(plan)


@pytest.mark.parametrize("duration", [1, 3, 5, 12, 20, 45, 60, 180, 600])
def test_the_song_ends_on_time_with_room_for_the_release(duration: float) -> None:
    _, plan, score = _song("pop song, 120 bpm", duration=duration)
    spb = 60 / plan.tempo
    last_end = max(n.end for p in score.parts for n in p.notes) * spb
    assert last_end <= duration - release_tail(duration) + 1e-6
    # The music fills the time: the last note rings until the tail begins.
    assert last_end == pytest.approx(duration - release_tail(duration), abs=1e-6)
    if duration >= plan.bar_seconds + release_tail(duration):
        assert plan.bars * plan.bar_seconds <= duration
    else:  # shorter than a bar: one gesture inside a single, partial bar
        assert plan.bars == 1
    assert sum(s.bars for s in plan.sections) == plan.bars
    assert len(plan.chords) == plan.bars


def test_form_has_numbered_sections_and_ends_on_the_tonic() -> None:
    _, plan, _ = _song("upbeat pop song, 120 bpm, G major, 60 seconds")
    ids = [s.id for s in plan.sections]
    kinds = [s.kind for s in plan.sections]
    assert ids[0] == "intro1"
    assert "verse1" in ids and "chorus1" in ids and "chorus2" in ids
    for s in plan.sections:
        assert s.id == f"{s.kind}{kinds[: plan.sections.index(s) + 1].count(s.kind)}"
    assert plan.chords[-1].root == plan.key.tonic and not plan.chords[-1].is_minor
    form = plan.to_dict()["form"]
    assert form[0]["start"] == 0 and form[-1]["end"] <= 60
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(form))


def test_a_chime_is_a_single_gesture() -> None:
    _, plan, score = _song("a 3 second bright notification jingle in F major")
    assert [s.kind for s in plan.sections] == ["jingle"]
    lead = score.part("lead").notes
    assert 2 <= len(lead) <= 8
    assert lead[-1].pitch % 12 == 5  # lands on F


def test_a_ten_minute_ambient_piece_is_long_and_evolving() -> None:
    _, plan, _ = _song("calm ambient pad for meditation, 10 minutes")
    assert plan.style.name == "ambient"
    assert len(plan.sections) >= 10
    assert {"theme", "variation"} <= {s.kind for s in plan.sections}
    assert "drums" not in plan.parts


def test_parts_are_musical_values() -> None:
    _, plan, score = _song("hard rock with distorted guitars, 140 bpm, E minor, 30 seconds")
    names = [p.name for p in score.parts]
    assert names[:3] == ["drums", "bass", "chords"] and "lead" in names
    assert score.part("chords").instrument == "distortion guitar"
    assert score.part("drums").is_drums
    scale = set(plan.key.scale)
    for part in score.parts:
        assert part.notes, part.name
        for n in part.notes:
            assert 0 <= n.pitch <= 127 and 1 <= n.velocity <= 127 and n.duration > 0
    assert all(n.pitch % 12 in scale for n in score.part("lead").notes)
    bass = score.part("bass").notes
    assert max(n.pitch for n in bass) < min(n.pitch for n in score.part("lead").notes)


def test_chinese_traditional_melody_is_pentatonic() -> None:
    _, plan, score = _song("国风 古筝 轻快 游戏背景音乐 30秒")
    assert plan.style.name == "chinese-traditional"
    penta = set(plan.key.pentatonic)
    assert all(n.pitch % 12 in penta for n in score.part("lead").notes)
    assert "guzheng" in plan.parts.values()


def test_swing_styles_place_offbeats_on_triplets() -> None:
    _, _, score = _song("smooth jazz trio with swing, 110 bpm, B flat major, 20 seconds")
    offsets = {round(n.start % 1, 4) for n in score.part("drums").notes}
    assert round(2 / 3, 4) in offsets and 0.5 not in offsets


def test_same_seed_same_score_other_seed_other_score() -> None:
    a = _song("funky bass groove, 105 bpm, 40 seconds", seed=3)[2].to_json()
    b = _song("funky bass groove, 105 bpm, 40 seconds", seed=3)[2].to_json()
    c = _song("funky bass groove, 105 bpm, 40 seconds", seed=4)[2].to_json()
    assert a == b and a != c


def test_score_json_round_trips_losslessly() -> None:
    _, _, score = _song("waltz in A major, 30 seconds")
    again = Score.from_dict(json.loads(score.to_json()))
    assert again.to_json() == score.to_json()
    assert [s.id for s in again.sections] == [s.id for s in score.sections]


def test_midi_has_one_track_per_part_with_meta_events_and_drums_on_channel_10() -> None:
    _, _, score = _song("acoustic folk song in 3/4 time, D major, 96 bpm, 20 seconds")
    mid = score_to_midi(score, title="t")
    data = io.BytesIO()
    mid.save(file=data)
    again = mido.MidiFile(file=io.BytesIO(data.getvalue()))
    assert again.type == 1 and len(again.tracks) == len(score.parts) + 1
    meta = {m.type: m for m in again.tracks[0] if m.is_meta}
    assert meta["time_signature"].numerator == 3 and meta["time_signature"].denominator == 4
    assert meta["key_signature"].key == "D"
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(96)
    for part, track in zip(score.parts, again.tracks[1:], strict=True):
        names = [m.name for m in track if m.type == "track_name"]
        assert names == [part.name]
        channels = {m.channel for m in track if m.type == "note_on"}
        programs = [m.program for m in track if m.type == "program_change"]
        assert programs == [part.program]
        assert channels == ({9} if part.is_drums else channels - {9})
        assert sum(1 for m in track if m.type == "note_on") == len(part.notes)
    a, b = io.BytesIO(), io.BytesIO()
    score_to_midi(score, title="t").save(file=a)
    score_to_midi(
        _song("acoustic folk song in 3/4 time, D major, 96 bpm, 20 seconds")[2], title="t"
    ).save(file=b)
    assert a.getvalue() == b.getvalue()


def test_midi_keeps_a_chinese_title(tmp_path) -> None:
    from overture.export import write_midi

    _, _, score = _song("伤感 钢琴 抒情 慢板 C小调 90秒")
    path = tmp_path / "song.mid"
    write_midi(score, path, title="伤感 钢琴")
    mid = mido.MidiFile(str(path), charset="utf-8")
    names = [m.name for m in mid.tracks[0] if m.type == "track_name"]
    assert names == ["伤感 钢琴"]
