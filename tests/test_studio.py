"""Studio operations on song folders: each keeps, note for note, what it promises, records its
lineage, and never touches its source."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from overture import generate
from overture.errors import InvalidInputError
from overture.pipeline import sung
from overture.score import Note, Score
from overture.studio import (
    extend,
    extension,
    lineage_tree,
    load_source,
    regenerate,
    restyle,
    vary,
)
from overture.studio.operations import _signature

LYRICS = """[verse]
the morning light is on the hill
and I am walking slowly still
[chorus]
sing it out and sing it loud
we are dancing in the crowd
"""


def _tree_hash(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("studio")
    out = {
        "pop": root / "pop",
        "sung": root / "sung",
        "chime": root / "chime",
    }
    generate("upbeat pop song, 120 bpm", duration=40, seed=3, out=out["pop"], think="low")
    generate("folk ballad", lyrics=LYRICS, seed=2, out=out["sung"], think="none")
    generate("door chime", duration=3, seed=1, out=out["chime"], think="none")
    return out


def _rows(notes: list[Note]) -> list[str]:
    return [json.dumps([n.pitch, n.start, n.duration, n.velocity, n.lyric]) for n in notes]


def _bar_notes(score: Score, part: str, lo_bar: int, hi_bar: float) -> list[Note]:
    bpb = score.time_signature.beats_per_bar
    return [n for n in score.part(part).notes if lo_bar * bpb <= n.start < hi_bar * bpb]


# ----------------------------------------------------------------------------- reading
def test_a_song_folder_reads_back_as_its_plan(songs: dict[str, Path]) -> None:
    made = generate("upbeat pop song, 120 bpm", duration=40, seed=3, think="low")
    src = load_source(songs["pop"])
    assert src.id == made.id
    assert src.score.to_json() == made.score.to_json()
    assert [(s.id, s.start_bar, s.end_bar, s.parts) for s in src.plan.sections] == [
        (s.id, s.start_bar, s.end_bar, s.parts) for s in made.plan.sections
    ]
    assert src.plan.chords == made.plan.chords
    assert src.plan.parts == made.plan.parts

    sung_src = load_source(songs["sung"])
    sung_made = generate("folk ballad", lyrics=LYRICS, seed=2, think="none")
    assert [(p.line.text, p.section) for p in sung_src.plan.phrases] == [
        (p.line.text, p.section) for p in sung_made.plan.phrases
    ]


def test_bad_sources_are_refused_with_a_reason(tmp_path: Path, songs: dict[str, Path]) -> None:
    with pytest.raises(InvalidInputError, match="not found"):
        load_source(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match=r"no score\.json"):
        load_source(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "score.json").write_text("{not json", encoding="utf-8")
    (broken / "song.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_source(broken)
    with pytest.raises(InvalidInputError, match="inside the source"):
        regenerate(songs["pop"], "chorus1", out=songs["pop"] / "again")
    # In words the web form and the command line share (no command-line flags).
    src = load_source(songs["pop"])
    for to, add in ((None, None), (300.0, "bridge")):
        with pytest.raises(InvalidInputError) as e:
            extension(src, to=to, add=add)
        assert str(e.value) == "extend needs a length to reach or sections to add (one, not both)"


# ----------------------------------------------------------------------------- regenerate
def test_regenerate_repaints_one_section_and_keeps_every_other_note(
    songs: dict[str, Path],
) -> None:
    src = load_source(songs["pop"])
    song = regenerate(src, "chorus1")
    target = next(s for s in src.plan.sections if s.id == "chorus1")
    bpb = src.score.time_signature.beats_per_bar
    lo, hi = target.start_bar * bpb, target.end_bar * bpb
    changed = False
    for before, after in zip(src.score.parts, song.score.parts, strict=True):
        assert before.name == after.name
        outside = [n for n in before.notes if not lo <= n.start < hi]
        assert _rows([n for n in after.notes if not lo <= n.start < hi]) == _rows(outside)
        inside_before = [n for n in before.notes if lo <= n.start < hi]
        inside_after = [n for n in after.notes if lo <= n.start < hi]
        changed |= _rows(inside_before) != _rows(inside_after)
        assert all(n.end <= hi + 1e-9 for n in inside_after)
    assert changed
    assert song.score.chords == src.score.chords
    assert song.score.sections == src.score.sections
    assert song.lineage is not None
    assert song.lineage["operation"] == "regenerate"
    assert song.lineage["parents"][0]["id"] == src.id
    # The same request gives the same song; another seed another take.
    assert regenerate(src, "chorus1").score.to_json() == song.score.to_json()
    assert regenerate(src, "chorus1", seed=99).score.to_json() != song.score.to_json()
    with pytest.raises(InvalidInputError, match="no section 'bridge9'"):
        regenerate(src, "bridge9")
    # A sung section is sung again with a new tune, on the same words.
    voiced = load_source(songs["sung"])
    again = regenerate(voiced, "chorus1")
    assert [ln.phrase.line.text for ln in sung(again)] == [p.line.text for p in voiced.plan.phrases]
    assert _signature(again.score, ["vocals"]) != _signature(voiced.score, ["vocals"])


# ----------------------------------------------------------------------------- extend
def test_extend_adds_sections_in_the_songs_key_tempo_band_and_tune(
    songs: dict[str, Path],
) -> None:
    src = load_source(songs["pop"])
    song = extend(src, add="bridge chorus")
    plan, score = song.plan, song.score
    assert (score.tempo, score.key, score.time_signature) == (
        src.score.tempo,
        src.score.key,
        src.score.time_signature,
    )
    assert [p.instrument for p in score.parts] == [p.instrument for p in src.score.parts]
    ids = [s.id for s in plan.sections]
    # The source closes on an outro: the new sections go before it, and it stays the ending.
    assert ids == ["intro1", "verse1", "chorus1", "bridge1", "chorus2", "outro1"]
    outro0 = src.plan.sections[-1]
    shift = (plan.sections[-1].start_bar - outro0.start_bar) * 4
    assert shift == (plan.sections[3].bars + plan.sections[4].bars) * 4
    for before, after in zip(src.score.parts, score.parts, strict=True):
        head = _bar_notes(src.score, before.name, 0, outro0.start_bar)
        assert _rows(_bar_notes(score, after.name, 0, outro0.start_bar)) == _rows(head)
        tail = _bar_notes(src.score, before.name, outro0.start_bar, 10_000)
        moved = [Note(n.pitch, n.start + shift, n.duration, n.velocity) for n in tail]
        assert _rows(_bar_notes(score, after.name, plan.sections[-1].start_bar, 10_000)) == (
            _rows(moved)
        )
    # The chorus returns as the source played it (its tune and its chords).
    chorus1 = src.plan.sections[2]
    chorus2 = plan.sections[4]
    old = _bar_notes(src.score, "lead", chorus1.start_bar, chorus1.end_bar)
    new = _bar_notes(score, "lead", chorus2.start_bar, chorus2.end_bar)
    off = (chorus2.start_bar - chorus1.start_bar) * 4
    assert [(n.pitch, n.start + off, n.duration) for n in old] == [
        (n.pitch, n.start, n.duration) for n in new
    ]
    assert (
        plan.chords[chorus2.start_bar : chorus2.end_bar]
        == (src.plan.chords[chorus1.start_bar : chorus1.end_bar])
    )
    # The bridge is new music in the song's key, with the band playing.
    bridge = plan.sections[3]
    lead = _bar_notes(score, "lead", bridge.start_bar, bridge.end_bar)
    assert len(lead) >= 4
    scale = set(src.score.key.scale)
    assert sum(n.pitch % 12 in scale for n in lead) / len(lead) >= 0.85
    assert _bar_notes(score, "bass", bridge.start_bar, bridge.end_bar)
    assert score.duration > src.score.duration + 15
    assert song.lineage is not None and song.lineage["parents"][0]["id"] == src.id


def test_extend_to_a_length_and_a_sung_chorus_sings_its_words_again(
    songs: dict[str, Path],
) -> None:
    src = load_source(songs["pop"])
    song = extend(src, to=75)
    assert abs(song.score.duration - 75) < src.plan.bar_seconds + 0.5
    with pytest.raises(InvalidInputError, match="must be longer"):
        extend(src, to=10)
    with pytest.raises(InvalidInputError, match="a length to reach or sections to add"):
        extend(src)

    voiced = load_source(songs["sung"])
    longer = extend(voiced, add="chorus")
    lines = [ln.phrase.line.text for ln in sung(longer)]
    assert lines.count("sing it out and sing it loud") == 2
    assert [ln.phrase.section for ln in sung(longer)][-1] == "chorus2"


# ----------------------------------------------------------------------------- restyle
def test_restyle_keeps_tune_form_and_chords_with_a_new_band(songs: dict[str, Path]) -> None:
    src = load_source(songs["pop"])
    song = restyle(src, "jazz trio")
    assert song.spec.genre == "jazz"
    assert song.score.chords == src.score.chords
    assert song.score.sections == src.score.sections
    assert {p.instrument for p in song.score.parts} != {p.instrument for p in src.score.parts}
    old, new = src.score.part("lead").notes, song.score.part("lead").notes
    shifts = {b.pitch - a.pitch for a, b in zip(old, new, strict=True)}
    assert len(shifts) == 1 and next(iter(shifts)) % 12 == 0  # whole octaves at most
    assert [(n.start, n.duration) for n in old] == [(n.start, n.duration) for n in new]
    assert _signature(song.score, ["drums", "bass"]) != _signature(src.score, ["drums", "bass"])
    with pytest.raises(InvalidInputError, match="no style or instrument"):
        restyle(src, "something nice")

    voiced = load_source(songs["sung"])
    cover = restyle(voiced, "lo-fi hip hop")
    assert _rows(cover.score.part("vocals").notes) == _rows(voiced.score.part("vocals").notes)
    assert [ln.phrase.line.text for ln in sung(cover)] == [p.line.text for p in voiced.plan.phrases]


# ----------------------------------------------------------------------------- vary
def test_thirty_takes_of_a_door_chime_are_all_distinct(songs: dict[str, Path]) -> None:
    src = load_source(songs["chime"])
    takes = vary(src, 30)
    heard = {_signature(t.score) for t in takes}
    assert len(heard) == 30
    assert _signature(src.score) not in heard
    tunes = {tuple((n.pitch, n.start) for n in t.score.part("lead").notes) for t in takes}
    assert len(tunes) >= 20  # the chime itself, not only its accompaniment, changes
    for t in takes:
        assert t.score.key == src.score.key and t.score.duration == src.score.duration
        assert t.score.part("lead").notes[-1].pitch % 12 == src.score.key.tonic
    assert [t.lineage["options"]["take"] for t in takes if t.lineage] == list(range(1, 31))


def test_vary_keeps_what_it_is_told_to(songs: dict[str, Path]) -> None:
    src = load_source(songs["pop"])
    for take in vary(src, 2, keep="melody"):
        assert _rows(take.score.part("lead").notes) == _rows(src.score.part("lead").notes)
        assert take.score.sections == src.score.sections
    chord_takes = vary(src, 2, keep="chords,structure")
    for take in chord_takes:
        assert take.score.chords == src.score.chords
        assert _signature(take.score, ["lead"]) != _signature(src.score, ["lead"])
    voiced = load_source(songs["sung"])
    for take in vary(voiced, 2):  # the words are always kept; their tune is new
        assert [ln.phrase.line.text for ln in sung(take)] == [
            p.line.text for p in voiced.plan.phrases
        ]
    with pytest.raises(InvalidInputError, match="cannot keep 'tempo'"):
        vary(src, 2, keep="tempo")
    with pytest.raises(InvalidInputError, match="between 1 and 100"):
        vary(src, 0)


# ----------------------------------------------------------------------------- end to end
def _overture(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "overture.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_commands_write_new_folders_with_lineage_and_leave_the_source(
    songs: dict[str, Path], tmp_path: Path
) -> None:
    before = _tree_hash(songs["chime"])
    r = _overture("vary", songs["chime"], "-n", "3", "--out", tmp_path / "chimes")
    assert r.returncode == 0, r.stderr
    takes = sorted((tmp_path / "chimes").iterdir())
    assert [p.name for p in takes] == ["var01", "var02", "var03"]
    src_id = json.loads((songs["chime"] / "song.json").read_text())["id"]
    for take in takes:
        meta = json.loads((take / "song.json").read_text())
        assert (take / "song.flac").stat().st_size > 1000
        assert meta["lineage"]["operation"] == "vary"
        assert meta["lineage"]["parents"][0]["id"] == src_id
    r = _overture("regenerate", takes[0], "--section", "jingle1", "--out", tmp_path / "rg")
    assert r.returncode == 0, r.stderr
    assert _tree_hash(songs["chime"]) == before

    tree = _overture("lineage", tmp_path / "rg").stdout
    lines = tree.splitlines()
    assert src_id in lines[0] and "generated from" in lines[0]
    assert "vary" in lines[1] and "regenerate" in lines[2] and "◀ this song" in lines[2]
    down = lineage_tree(songs["chime"], under=tmp_path)
    assert down.count("vary (") == 3 and "regenerate (" in down

    # Bad requests: one line, status 2, nothing written.
    for args in (
        ("regenerate", songs["chime"], "--section", "chorus9", "--out", tmp_path / "x1"),
        ("extend", tmp_path / "nowhere", "--add", "chorus", "--out", tmp_path / "x2"),
        ("vary", songs["chime"], "--keep", "tempo", "--out", tmp_path / "x3"),
        ("restyle", songs["chime"], "--prompt", "zzz", "--out", tmp_path / "x4"),
    ):
        r = _overture(*args)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
        assert not Path(args[-1]).exists()
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
