"""MusicXML export: the direct 4.0 partwise writer, read back with music21."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import music21
import pytest
from music21 import chord as m21chord

from overture.compose import compose
from overture.export.musicxml import score_to_musicxml, write_musicxml
from overture.plan import make_plan
from overture.score import Note, Part, Score, SectionMark
from overture.spec import SongSpec
from overture.theory import parse_key, parse_time_signature

# --- helpers ---------------------------------------------------------------------------------


def _score(
    parts: list[Part],
    *,
    ts: str = "4/4",
    key: str = "C major",
    bars: int | None = None,
    tempo: float = 120,
    sections: list[SectionMark] | None = None,
) -> Score:
    sig = parse_time_signature(ts)
    end = max((n.end for p in parts for n in p.notes), default=0.0)
    if bars is None:
        bars = max(1, int(end // sig.beats_per_bar))
    return Score(
        tempo=tempo,
        time_signature=sig,
        key=parse_key(key),
        bars=bars,
        end_beat=max(end, bars * sig.beats_per_bar),
        duration=end * 60 / tempo + 2,
        sections=sections or [],
        chords=["C"] * bars,
        parts=parts,
    )


def _part(
    notes: list[tuple],
    name: str = "lead",
    *,
    instrument: str = "piano",
    program: int = 0,
    is_drums: bool = False,
) -> Part:
    return Part(
        name=name,
        instrument=instrument,
        program=program,
        is_drums=is_drums,
        notes=[Note(p, s, d, v) for p, s, d, v in notes],
    )


def _roundtrip(
    score: Score, tmp_path: Path, title: str = "Test"
) -> tuple[music21.stream.Score, str]:
    path = tmp_path / "song.musicxml"
    write_musicxml(score, path, title=title)
    text = path.read_text(encoding="utf-8")
    ET.fromstring(text.encode("utf-8"))  # well-formed (the DOCTYPE is allowed)
    return music21.converter.parse(path), text


def _heads(el: music21.base.Music21Object) -> list:
    """The note heads of a note, chord or percussion chord."""
    return list(el.notes) if isinstance(el, m21chord.ChordBase) else [el]


def _tie(head: music21.base.Music21Object, el: music21.base.Music21Object) -> str | None:
    tie = head.tie if head.tie is not None else el.tie
    return tie.type if tie is not None else None


def _sounding(part: music21.stream.Part) -> Fraction:
    """Total sounding length of all note heads, in quarter notes."""
    return sum(
        (Fraction(el.quarterLength) * len(_heads(el)) for el in part.recurse().notes),
        Fraction(0),
    )


def _onsets(part: music21.stream.Part) -> int:
    """Notes struck (heads not continuing a tie), counted across voices."""
    return sum(
        1 for el in part.recurse().notes for h in _heads(el) if _tie(h, el) in (None, "start")
    )


def _expected_sounding(part: Part) -> Fraction:
    return sum(
        (Fraction(max(1, round(n.duration * 12)), 12) for n in part.notes),
        Fraction(0),
    )


def _stripped(part: music21.stream.Part) -> list[tuple[Fraction, str, Fraction]]:
    """(offset in the part, pitch name with octave, length) of each note after merging ties."""
    out = []
    for el in part.stripTies().flatten().notes:
        for h in _heads(el):
            out.append((Fraction(el.offset), h.nameWithOctave, Fraction(el.quarterLength)))
    return sorted(out)


def _assert_bars(part: music21.stream.Part, bar_length: float, count: int) -> None:
    measures = list(part.getElementsByClass(music21.stream.Measure))
    assert len(measures) == count
    for m in measures:
        assert m.duration.quarterLength == pytest.approx(bar_length), m.number
        voices = list(m.voices)
        for v in voices:
            total = sum(Fraction(x.quarterLength) for x in v.notesAndRests)
            assert total == Fraction(bar_length).limit_denominator(12), (m.number, v.id)


def _assert_preserved(score: Score, parsed: music21.stream.Score) -> None:
    assert len(parsed.parts) == len(score.parts)
    for part, mp in zip(score.parts, parsed.parts, strict=True):
        assert _sounding(mp) == _expected_sounding(part), part.name
        assert _onsets(mp) == len(part.notes), part.name


# --- small scores ----------------------------------------------------------------------------


def test_note_across_the_barline_is_split_and_tied(tmp_path: Path) -> None:
    score = _score([_part([(60, 2, 4, 90), (62, 6, 2, 90)])], bars=2)
    parsed, text = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    _assert_bars(part, 4, 2)
    m1, m2 = part.getElementsByClass(music21.stream.Measure)
    first = list(m1.notes)[-1]
    second = m2.notes.first()
    assert (first.nameWithOctave, first.quarterLength, first.tie.type) == ("C4", 2, "start")
    assert (second.nameWithOctave, second.quarterLength, second.tie.type) == ("C4", 2, "stop")
    assert _stripped(part) == [(2, "C4", 4), (6, "D4", 2)]
    assert '<tied type="start"/>' in text and '<tied type="stop"/>' in text
    # The first two beats are one half rest, not quarters.
    assert [r.quarterLength for r in m1.getElementsByClass(music21.note.Rest)] == [2.0]


def test_notes_starting_and_ending_together_are_chords(tmp_path: Path) -> None:
    notes = [(60, 0, 2, 80), (64, 0, 2, 80), (67, 0, 2, 80), (65, 2, 2, 80), (69, 2, 2, 80)]
    parsed, text = _roundtrip(_score([_part(notes, name="chords")], bars=1), tmp_path)
    part = parsed.parts[0]
    chords = list(part.recurse().getElementsByClass(music21.chord.Chord))
    assert [tuple(p.nameWithOctave for p in c.pitches) for c in chords] == [
        ("C4", "E4", "G4"),
        ("F4", "A4"),
    ]
    assert [c.quarterLength for c in chords] == [2, 2]
    assert text.count("<chord/>") == 3
    assert "<backup>" not in text  # one voice is enough
    _assert_bars(part, 4, 1)
    _assert_preserved(_score([_part(notes)], bars=1), parsed)


def test_overlapping_notes_of_different_lengths_go_into_voices(tmp_path: Path) -> None:
    # A melody note held for the whole bar while a line moves in quarters below it, then a
    # note held across the barline while the other voice goes on.
    notes = [(76, 0, 4, 90), (60, 0, 1, 80), (62, 1, 1, 80), (64, 2, 1, 80), (65, 3, 1, 80)]
    notes += [(67, 4, 1, 80), (72, 5, 5, 90), (69, 6, 0.5, 80), (71, 6.5, 0.5, 80)]
    score = _score([_part(notes)], bars=3)
    parsed, text = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    _assert_bars(part, 4, 3)
    m1 = part.measure(1)
    assert len(m1.voices) == 2
    held = [n for v in m1.voices for n in v.notes if n.quarterLength == 4]
    assert [n.nameWithOctave for n in held] == ["E5"]
    assert "<backup><duration>48</duration></backup>" in text
    _assert_preserved(score, parsed)
    assert _stripped(part) == sorted(
        (Fraction(s).limit_denominator(12), music21.pitch.Pitch(p).nameWithOctave, Fraction(d))
        for p, s, d, _ in notes
    )


def test_triplets_get_time_modification(tmp_path: Path) -> None:
    third = 1 / 3
    notes = [(60 + i, i * third, third, 80) for i in range(3)]  # eighth triplets on beat 1
    notes += [(67, 2, 2 * third, 80), (65, 2 + 2 * third, 2 * third, 80)]  # quarter triplets
    notes += [(64, 2 + 4 * third, 2 * third, 80)]
    score = _score([_part(notes)], bars=1)
    parsed, text = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    _assert_bars(part, 4, 1)
    _assert_preserved(score, parsed)
    assert text.count("<actual-notes>3</actual-notes>") >= 6
    triplet_notes = [n for n in part.recurse().notes if n.duration.tuplets]
    assert len(triplet_notes) >= 6
    offsets = [Fraction(n.offset) for n in part.recurse().notes]
    assert offsets[:3] == [0, Fraction(1, 3), Fraction(2, 3)]
    assert [n.duration.type for n in part.recurse().notes][:3] == ["eighth"] * 3


def test_final_chord_held_into_a_partial_bar(tmp_path: Path) -> None:
    notes = [(48, 0, 4, 80), (52, 4, 4, 80)]
    notes += [(p, 8, 5.5, 70) for p in (41, 45, 48)]  # rings 1.5 beats into a fourth bar
    score = _score([_part(notes, name="piano")], bars=3)
    assert score.end_beat == 13.5
    parsed, _ = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    _assert_bars(part, 4, 4)  # the partial last bar is filled with rests
    _assert_preserved(score, parsed)
    last = part.measure(4)
    assert [c.quarterLength for c in last.getElementsByClass(music21.chord.Chord)] == [1.5]
    assert sum(r.quarterLength for r in last.getElementsByClass(music21.note.Rest)) == 2.5
    assert (8, "F2", 5.5) in _stripped(part)
    clef = part.recurse().getElementsByClass(music21.clef.Clef).first()
    assert isinstance(clef, music21.clef.BassClef)  # a low part


@pytest.mark.parametrize(
    ("ts", "bar_length", "bars"),
    [("3/4", 3.0, 3), ("6/8", 3.0, 3), ("2/4", 2.0, 4), ("12/8", 6.0, 3), ("7/8", 3.5, 3)],
)
def test_other_time_signatures(tmp_path: Path, ts: str, bar_length: float, bars: int) -> None:
    notes = [
        (67, 0, bar_length, 80),  # the whole first bar
        (69, bar_length, 0.5, 80),
        (71, bar_length + 0.5, 1, 80),
        (72, bar_length + 1.5, bar_length, 80),  # across the second barline
        (74, bars * bar_length - 0.25, 0.25, 80),
    ]
    score = _score([_part(notes)], ts=ts, bars=bars)
    parsed, _ = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    sig = part.recurse().getElementsByClass(music21.meter.TimeSignature).first()
    assert sig.ratioString == ts
    _assert_bars(part, bar_length, bars)
    _assert_preserved(score, parsed)
    first = part.measure(1).notes.first()
    assert first.quarterLength == bar_length and first.tie is None  # one note, not pieces
    if ts in ("3/4", "6/8"):
        assert first.duration.type == "half" and first.duration.dots == 1


def test_drum_part_is_unpitched_on_a_percussion_staff(tmp_path: Path) -> None:
    notes = []
    for beat in range(4):
        notes.append((42, beat, 0.25, 80))
        notes.append((42, beat + 0.5, 0.25, 70))
    notes += [(36, 0, 1, 110), (36, 2.5, 0.25, 100), (38, 1, 0.25, 100), (38, 3, 0.25, 100)]
    notes += [(49, 4, 1, 100), (36, 4, 1, 110)]
    drums = _part(notes, name="drums", instrument="drums", is_drums=True)
    score = _score([drums], bars=2)
    parsed, text = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    _assert_bars(part, 4, 2)
    _assert_preserved(score, parsed)
    assert isinstance(
        part.recurse().getElementsByClass(music21.clef.Clef).first(), music21.clef.PercussionClef
    )
    heads = [h for el in part.recurse().notes for h in _heads(el)]
    assert all(isinstance(h, music21.note.Unpitched) for h in heads)
    steps = {h.displayName for h in heads}
    assert steps == {"F4", "C5", "G5", "A5"}
    assert text.count("<notehead>x</notehead>") == 9  # 8 hats and a crash
    assert "<midi-channel>10</midi-channel>" in text
    assert '<instrument id="P1-I37"/>' in text  # kick: GM key 36
    assert len(part.measure(1).voices) == 2  # hands above, kick below


def test_flat_key_spells_with_flats(tmp_path: Path) -> None:
    # Bb major: Bb and Eb are in the key; E natural and Ab need accidentals; B flat again in
    # the next bar needs none.
    notes = [(58, 0, 1, 80), (63, 1, 1, 80), (64, 2, 1, 80), (68, 3, 1, 80), (70, 4, 4, 80)]
    score = _score([_part(notes)], key="Bb major", bars=2)
    parsed, text = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    key = part.recurse().getElementsByClass(music21.key.KeySignature).first()
    assert key.sharps == -2
    names = [n.nameWithOctave for n in part.recurse().notes]
    assert names == ["B-3", "E-4", "E4", "A-4", "B-4"]
    assert "<accidental>natural</accidental>" in text
    assert text.count("<accidental>flat</accidental>") == 1  # only the A flat
    assert "<fifths>-2</fifths>" in text and "<mode>major</mode>" in text
    assert "#" not in "".join(names)


def test_sharp_minor_key(tmp_path: Path) -> None:
    notes = [(64, 0, 1, 80), (66, 1, 1, 80), (68, 2, 1, 80), (66, 3, 1, 80)]
    score = _score([_part(notes)], key="E minor", bars=1)
    parsed, text = _roundtrip(score, tmp_path)
    part = parsed.parts[0]
    key = part.recurse().getElementsByClass(music21.key.KeySignature).first()
    assert key.sharps == 1
    assert [n.nameWithOctave for n in part.recurse().notes] == ["E4", "F#4", "G#4", "F#4"]
    assert "<mode>minor</mode>" in text
    assert text.count("<accidental>sharp</accidental>") == 1  # G#, once


def test_empty_part_gets_whole_bar_rests(tmp_path: Path) -> None:
    lead = _part([(72, 0, 1, 80), (74, 4, 8, 80)])
    empty = _part([], name="pad", instrument="warm pad", program=89)
    score = _score([lead, empty], bars=3)
    parsed, text = _roundtrip(score, tmp_path)
    assert len(parsed.parts) == 2
    pad = parsed.parts[1]
    assert pad.partName == "pad"
    assert not list(pad.recurse().notes)
    _assert_bars(pad, 4, 3)
    rests = list(pad.recurse().getElementsByClass(music21.note.Rest))
    assert len(rests) == 3 and all(r.fullMeasure in (True, "always") for r in rests)
    assert text.count('<rest measure="yes"/>') >= 3
    _assert_preserved(score, parsed)


def test_header_part_list_tempo_and_sections(tmp_path: Path) -> None:
    parts = [
        _part([(36, 0, 1, 100)], name="drums", instrument="drums", is_drums=True),
        _part([(40, 0, 4, 90)], name="bass", instrument="electric bass", program=33),
        _part([(72, 0, 4, 90)], name="lead", instrument="flute", program=73),
    ]
    parts += [_part([(60 + i, 0, 4, 90)], name=f"p{i}", program=i) for i in range(10)]
    sections = [SectionMark("intro1", "intro", 0, 1), SectionMark("verse1", "verse", 1, 2)]
    score = _score(parts, bars=2, tempo=96, sections=sections)
    parsed, text = _roundtrip(score, tmp_path, title="A & B <song>")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"')
    assert '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN"' in text
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "score-partwise" and root.get("version") == "4.0"
    assert root.findtext("work/work-title") == "A & B <song>"
    assert root.findtext("movement-title") == "A & B <song>"
    assert root.findtext("identification/encoding/software") == "Overture"
    score_parts = root.findall("part-list/score-part")
    assert [sp.findtext("part-name") for sp in score_parts] == [p.name for p in parts]
    channels = [sp.findtext("midi-instrument/midi-channel") for sp in score_parts]
    assert channels == ["10", "1", "2", "3", "4", "5", "6", "7", "8", "9", "11", "12", "13"]
    assert score_parts[1].findtext("score-instrument/instrument-name") == "electric bass"
    assert score_parts[1].findtext("midi-instrument/midi-program") == "34"
    assert score_parts[0].findtext("midi-instrument/midi-unpitched") == "37"
    first = root.find("part/measure")
    assert first is not None
    assert first.findtext("attributes/divisions") == "12"
    assert first.find("direction/sound").get("tempo") == "96"
    assert first.findtext("direction/direction-type/metronome/per-minute") == "96"
    rehearsals = [(m.get("number"), r.text) for m in root.find("part") for r in m.iter("rehearsal")]
    assert rehearsals == [("1", "intro1"), ("2", "verse1")]
    assert not list(root.findall("part")[1].iter("rehearsal"))  # labels in the first part only
    assert parsed.metadata.bestTitle == "A & B <song>"
    mark = parsed.parts[0].recurse().getElementsByClass(music21.tempo.MetronomeMark).first()
    assert mark.number == 96
    labels = [r.content for r in parsed.parts[0].recurse().getElementsByClass("RehearsalMark")]
    assert labels == ["intro1", "verse1"]
    assert [p.partName for p in parsed.parts] == [p.name for p in parts]


def test_untitled_score_has_no_title_elements(tmp_path: Path) -> None:
    score = _score([_part([(60, 0, 4, 80)])], bars=1)
    text = score_to_musicxml(score)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.find("work") is None and root.find("movement-title") is None


# --- realistic songs -------------------------------------------------------------------------


def _song(genre: str, ts: str, duration: float = 180) -> Score:
    spec = SongSpec(
        prompt="",
        genre=genre,
        moods=(),
        instruments=(),
        tempo=120,
        key=parse_key("Bb major"),
        time_signature=parse_time_signature(ts),
        duration=duration,
        seed=7,
        title="t",
        sources={},
    )
    return compose(make_plan(spec))


@pytest.fixture(scope="module")
def pop_song() -> Score:
    return _song("pop", "4/4")


def test_output_is_deterministic(pop_song: Score) -> None:
    assert score_to_musicxml(pop_song, title="t") == score_to_musicxml(pop_song, title="t")
    assert score_to_musicxml(pop_song, title="t") == score_to_musicxml(
        Score.from_dict(pop_song.to_dict()), title="t"
    )


def test_a_180_s_song_is_written_fast(pop_song: Score, tmp_path: Path) -> None:
    n_notes = sum(len(p.notes) for p in pop_song.parts)
    path = tmp_path / "song.musicxml"
    start = time.perf_counter()
    write_musicxml(pop_song, path, title="t")
    elapsed = time.perf_counter() - start
    print(f"\nMusicXML for a 180 s song: {n_notes} notes, {len(pop_song.parts)} parts, ", end="")
    print(f"{path.stat().st_size / 1e6:.1f} MB in {elapsed * 1000:.0f} ms")
    ET.parse(path)


@pytest.mark.parametrize(("genre", "ts"), [("pop", "4/4"), ("jazz", "4/4"), ("folk", "3/4")])
def test_realistic_songs_read_back_intact(tmp_path: Path, genre: str, ts: str) -> None:
    score = _song(genre, ts)
    parsed, _ = _roundtrip(score, tmp_path, title=f"{genre} song")
    _assert_preserved(score, parsed)
    bar = score.time_signature.beats_per_bar
    n_bars = max(score.bars, -(-round(score.end_beat * 12) // round(bar * 12)))
    for mp in parsed.parts:
        _assert_bars(mp, bar, n_bars)
    key = parsed.parts[1].recurse().getElementsByClass(music21.key.KeySignature).first()
    assert key.sharps == -2
    names = {h.name for el in parsed.parts[1].recurse().notes for h in _heads(el)}
    assert not any("#" in n for n in names)


def test_score_to_music21_reads_back_the_written_document() -> None:
    from overture.export import score_to_music21

    score = _score([_part([(60, 0, 4, 80)]), _part([], name="pad")], bars=1)
    parsed = score_to_music21(score, title="x")
    assert isinstance(parsed, music21.stream.Score)
    assert [p.partName for p in parsed.parts] == ["lead", "pad"]
