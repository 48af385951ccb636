"""Song form and development: phrases, cadences, a returning chorus, motifs, contrast, energy."""

from __future__ import annotations

import itertools
import statistics

import pytest

from overture.pipeline import generate
from overture.plan import Plan
from overture.score import Note, Score
from overture.theory import chord_from_roman


def _song(prompt: str = "upbeat pop song, 120 bpm, G major", duration: float = 150, seed: int = 3):
    return generate(prompt, duration=duration, seed=seed)


def _section_notes(score: Score, plan: Plan, section_id: str, part: str = "lead") -> list[Note]:
    s = next(x for x in plan.sections if x.id == section_id)
    bpb = plan.time_signature.beats_per_bar
    a, b = s.start_bar * bpb, s.end_bar * bpb
    return [  # velocities are humanised per note, so they are left out
        Note(n.pitch, round(n.start - a, 6), round(n.duration, 6), 0)
        for n in sorted(score.part(part).notes, key=lambda n: n.start)
        if a - 1e-9 <= n.start < b - 1e-9
    ]


def test_a_full_length_song_has_the_sections_of_a_song() -> None:
    song = _song()
    kinds = [s.kind for s in song.plan.sections]
    assert kinds[0] == "intro" and kinds[-1] == "outro"
    assert kinds.count("chorus") >= 3 and kinds.count("verse") >= 2
    assert "bridge" in kinds and "pre-chorus" in kinds
    # The bridge comes after the second chorus and before the last one.
    bridge = kinds.index("bridge")
    assert kinds[:bridge].count("chorus") >= 2 and "chorus" in kinds[bridge:]
    for s in song.plan.sections[:-1]:
        assert s.bars % 4 == 0, s  # whole four-bar phrases


def test_energy_rises_toward_the_last_chorus_and_falls_at_the_ends() -> None:
    plan = _song().plan
    energy = {s.id: s.energy for s in plan.sections}
    choruses = [s for s in plan.sections if s.kind == "chorus"]
    assert energy["intro1"] < energy["verse1"] < energy["chorus1"]
    assert energy["verse1"] <= energy["verse2"] and energy["chorus1"] <= energy["chorus2"]
    assert energy["pre-chorus1"] > energy["verse1"]
    assert choruses[-1].energy == 1.0 == max(energy.values())
    assert energy["outro1"] < energy["chorus1"] and energy["bridge1"] < choruses[-1].energy
    # Instruments enter as the song builds: the first verse is sparer than the choruses.
    parts = {s.id: set(s.parts) for s in plan.sections}
    assert parts["verse1"] < parts["chorus1"]
    assert "lead" not in parts["intro1"]


def test_the_chorus_returns_and_its_last_repeat_is_varied() -> None:
    song = _song()
    choruses = [s.id for s in song.plan.sections if s.kind == "chorus"]
    first = _section_notes(song.score, song.plan, choruses[0])
    second = _section_notes(song.score, song.plan, choruses[1])
    last = _section_notes(song.score, song.plan, choruses[-1])
    assert first and first == second  # the chorus comes back as itself
    assert last != first  # ... and the last one is varied
    same = {(n.pitch, n.start) for n in first} & {(n.pitch, n.start) for n in last}
    assert len(same) >= 0.6 * len(first)  # ... yet recognisably the same


def test_verse_and_chorus_contrast_in_register_and_density() -> None:
    for seed in range(3):
        song = _song(seed=seed)
        verse = _section_notes(song.score, song.plan, "verse1")
        chorus = _section_notes(song.score, song.plan, "chorus1")
        assert statistics.mean(n.pitch for n in chorus) > statistics.mean(n.pitch for n in verse)
        assert len(chorus) >= len(verse)


def test_phrases_cadence_and_the_song_ends_home() -> None:
    song = _song()
    plan, score = song.plan, song.score
    bpb = plan.time_signature.beats_per_bar
    tonic = plan.key.tonic
    home = chord_from_roman("I", plan.key)
    dominant = chord_from_roman("V", plan.key)
    for i, s in enumerate(plan.sections[:-1]):
        nxt = plan.sections[i + 1]
        last_chord = plan.chords[s.end_bar - 1]
        if s.kind == "chorus":  # every chorus closes with an authentic cadence
            assert plan.chords[s.end_bar - 2 : s.end_bar] == (dominant, home), s.id
        elif nxt.kind in {"chorus", "pre-chorus"}:
            assert last_chord == dominant, s.id  # a half cadence sets up what follows
        if "lead" in s.parts:
            # The phrase's last note is long and a tone of its chord.
            notes = _section_notes(score, plan, s.id)
            last = notes[-1]
            assert last.pitch % 12 in last_chord.pitch_classes, s.id
            assert last.duration >= 1.0 or last.start >= (s.bars - 1) * bpb, s.id
    assert plan.chords[-2:] == (dominant, home)
    lead = sorted(score.part("lead").notes, key=lambda n: n.start)
    assert lead[-1].pitch % 12 == tonic


def test_the_motif_recurs_across_sections() -> None:
    song = _song()
    plan, score = song.plan, song.score
    bpb = plan.time_signature.beats_per_bar

    def bar_rhythms(section_id: str) -> list[tuple[float, ...]]:
        notes = _section_notes(score, plan, section_id)
        s = next(x for x in plan.sections if x.id == section_id)
        return [
            tuple(round(n.start - b * bpb, 3) for n in notes if b * bpb <= n.start < (b + 1) * bpb)
            for b in range(s.bars)
        ]

    chorus = bar_rhythms("chorus1")
    motif = chorus[0]
    assert len(motif) >= 2
    # Within the chorus the motif's rhythm returns (repetition, sequence, the second phrase).
    assert sum(r == motif for r in chorus) >= 2
    # The melody has a recurring vocabulary: few distinct bar rhythms for the bars it has.
    all_bars = [r for s in plan.sections if "lead" in s.parts for r in bar_rhythms(s.id) if r]
    assert len(set(all_bars)) <= 0.5 * len(all_bars)


def test_the_bridge_departs_from_the_chorus_harmony() -> None:
    plan = _song().plan
    bridge = next(s for s in plan.sections if s.kind == "bridge")
    chorus = next(s for s in plan.sections if s.kind == "chorus")
    assert plan.chords[bridge.start_bar] != plan.chords[chorus.start_bar]
    assert plan.chords[bridge.start_bar].root != plan.key.tonic


@pytest.mark.parametrize("ts", ["3/4", "6/8", "2/4", "5/4", "7/8", "12/8"])
def test_melodies_in_every_meter_fill_their_bars(ts: str) -> None:
    song = generate("folk song", time_signature=ts, duration=40, seed=1)
    plan = song.plan
    bpb = plan.time_signature.beats_per_bar
    lead = sorted(song.score.part("lead").notes, key=lambda n: n.start)
    assert lead
    for a, b in itertools.pairwise(lead):
        assert a.end <= b.start + 1e-6  # one line, no overlaps
    bars_with_notes = {int(n.start // bpb) for n in lead}
    lead_bars = {
        b for s in plan.sections if "lead" in s.parts for b in range(s.start_bar, s.end_bar)
    }
    assert len(bars_with_notes & lead_bars) >= 0.9 * len(lead_bars)
