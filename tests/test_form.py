"""Song form and development: phrases, cadences, a returning chorus, motifs, contrast, energy."""

from __future__ import annotations

import itertools
import statistics

import pytest

from overture.pipeline import generate
from overture.plan import Plan, make_plan, progression_mode
from overture.score import Note, Score
from overture.spec import build_spec
from overture.styles import STYLES
from overture.theory import Key, chord_from_roman, parse_key


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


def test_a_loop_is_read_in_the_mode_of_its_tonic() -> None:
    # A loop may start anywhere; its tonic chord, not its first chord, says which mode it is in.
    assert progression_mode("vi IV I V") == "major"
    assert progression_mode("ii7 V7 Imaj7 vi7") == "major"
    assert progression_mode("iii7 vi7 ii7 V7") == "major"
    assert progression_mode("i VI III VII") == "minor"
    assert progression_mode("iv7 v7 i7 i7") == "minor"
    assert progression_mode("imaj7 iv7") == "minor"
    assert progression_mode("ii°7 V7 i7 i7") == "minor"


def _plan(genre: str, key: str, seed: int, duration: float = 90) -> Plan:
    return make_plan(build_spec(genre, key=key, seed=seed, duration=duration))


# The chorale model's harmonic minor (classical and ambient themes, every bridge) may borrow a
# major tonic (a Picardy third, V of iv); the genres' own loops may not.
@pytest.mark.parametrize("genre", sorted(set(STYLES) - {"classical", "ambient"}))
def test_the_tonic_chord_is_in_the_keys_mode(genre: str) -> None:
    # Whatever loop a genre picks, its home chord has the key's third: an EDM loop "vi IV I V"
    # must not be played in A minor as F minor, D, A major, E.
    for key in ("A minor", "C major"):
        minor = key.endswith("minor")
        for seed in range(3):
            plan = _plan(genre, key, seed)
            homes = [
                c
                for s in plan.sections
                if s.kind != "bridge"
                for c in plan.chords[s.start_bar : s.end_bar]
                if c.root == plan.key.tonic
            ]
            assert homes, (genre, key, seed)
            for c in homes:
                assert (c.quality in {"m", "m7", "m6"}) == minor, (genre, key, seed, c)


@pytest.mark.parametrize("genre", ["orchestral", "cinematic"])
def test_a_film_cue_in_minor_stays_minor(genre: str) -> None:
    # Trailer and film harmony is modal: natural minor, cadences from the subtonic (VII-i), no
    # raised sixth or Picardy third, and the major dominant (the raised seventh) only now and
    # then, where the genre's own loop has it.
    key = parse_key("D minor")
    sub, tonic = chord_from_roman("VII", key), chord_from_roman("i", key)
    for seed in range(4):
        plan = _plan(genre, "D minor", seed)
        for c in plan.chords:
            assert 11 not in c.pitch_classes, (seed, c)  # B natural, the raised sixth
            assert not (c.root == 2 and 6 in c.pitch_classes), (seed, c)  # a D major tonic
        raised_seventh = sum(1 for c in plan.chords if 1 in c.pitch_classes)
        assert raised_seventh <= len(plan.chords) // 4, seed
        assert plan.chords[-2:] == (sub, tonic), seed
        for s in plan.sections[:-1]:
            if s.kind in {"theme", "variation"}:
                assert plan.chords[s.end_bar - 2 : s.end_bar] == (sub, tonic), (seed, s.id)
    # Classical keeps the harmonic minor's dominant at its close.
    plan = _plan("classical", "D minor", 0)
    assert plan.chords[-2:] == (chord_from_roman("V", key), tonic)


def test_a_jazz_chorus_comes_home_and_keeps_its_sevenths() -> None:
    # "ii7 V7 Imaj7 Imaj7" already cadences: the chorus keeps its two bars of home instead of
    # being bent into "ii7 V7 V I"; the cadence chords are the loop's own (V7, Imaj7), not bare
    # triads, and a half cadence keeps the loop's V7.
    held = 0
    for seed in range(6):
        plan = _plan("jazz", "Bb major", seed)
        key = plan.key
        dominant = chord_from_roman("V", key).root
        for s in plan.sections[:-1]:
            seq = plan.chords[s.start_bar : s.end_bar]
            if s.kind in {"verse", "chorus", "intro"}:
                assert all(c.quality for c in seq), (seed, s.id, seq)  # sevenths throughout
            if s.kind == "chorus":
                assert seq[-1].root == key.tonic, (seed, s.id)
                assert not any(a.root == b.root == dominant for a, b in itertools.pairwise(seq)), (
                    seed,
                    s.id,
                    seq,
                )
                held += seq[-2].root == key.tonic
    assert held >= 1


def test_a_final_minor_tonic_is_never_major() -> None:
    for genre in ("orchestral", "cinematic", "pop", "jazz", "rock"):
        plan = _plan(genre, "E minor", 2)
        assert plan.chords[-1] == chord_from_roman("i", Key(4, "minor")), genre


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


def test_a_verse_is_written_under_its_chorus() -> None:
    from overture.compose.melody import MelodyWriter

    plan = make_plan(build_spec("upbeat pop song, 120 bpm, G major", duration=150, seed=4))
    verse = next(s for s in plan.sections if s.kind == "verse")
    chorus = next(s for s in plan.sections if s.kind == "chorus")
    writer = MelodyWriter(plan, 4)
    # A chorus of two notes a bar around G5 (mean pitch 78.5).
    hook = [Note(79 if b % 2 else 78, b * 2.0, 2.0, 90) for b in range(2 * chorus.bars)]
    writer.chorus = (hook, chorus.bars)
    low_sparse = [Note(67, b * 4.0, 4.0, 80) for b in range(verse.bars)]
    high = [Note(81, b * 4.0, 4.0, 80) for b in range(verse.bars)]
    busy = [Note(67, b * 1.0, 1.0, 80) for b in range(4 * verse.bars)]
    assert writer.contrast_fault(verse, low_sparse) is None
    assert "as high as the chorus" in (writer.contrast_fault(verse, high) or "")
    assert "busier than the chorus" in (writer.contrast_fault(verse, busy) or "")
    assert writer.contrast_fault(chorus, busy) is None  # only verses answer to the chorus
    # What the writer drafts for the verse sits under that chorus, lower and sparer.
    drafted = writer.section(verse)
    assert drafted and writer.contrast_fault(verse, drafted) is None
    assert len(drafted) / verse.bars <= len(hook) / chorus.bars
