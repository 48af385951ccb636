"""Arrangement per genre: instruments, drum grooves and fills, the energy curve, bass idioms,
voicings with voice leading, and the human feel. Symbolic (instant) except the render smoke test.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from overture.compose import _humanise
from overture.compose.drums import drum_part
from overture.compose.harmony import movement, voicing
from overture.instruments import INSTRUMENTS
from overture.pipeline import Song, generate
from overture.score import Note
from overture.styles import CHORUS, REST, STYLES, VERSE, energy_level
from overture.theory import (
    SUPPORTED_TIME_SIGNATURES,
    Key,
    chord_from_roman,
    key_from_profile,
    parse_chord,
)

KICK, RIM, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT, RIDE = 36, 37, 38, 39, 42, 44, 46, 51
TOMS = {41, 43, 45, 47, 48, 50}
EPS = 0.06  # beats: room for the human timing of the drums around the cymbals


def _song(prompt: str, *, seed: int = 1, duration: float = 60, **kw: object) -> Song:
    return generate(prompt, duration=duration, seed=seed, **kw)  # type: ignore[arg-type]


def _bars(song: Song, part: str) -> dict[int, list[tuple[float, int, int]]]:
    """(beats into the bar, pitch, velocity) per bar; a note nudged early stays in its bar."""
    bpb = song.plan.time_signature.beats_per_bar
    out: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for n in song.score.part(part).notes:
        bar = int((n.start + EPS) // bpb)
        out[bar].append((n.start - bar * bpb, n.pitch, n.velocity))
    return out


def _playing_bars(song: Song, part: str, *, kinds: set[str] | None = None, plain: bool = False):
    """Bars (with their section) where ``part`` plays, the final bar excluded; ``plain`` also
    leaves out each section's last bar (where the fills are)."""
    plan = song.plan
    for s in plan.sections:
        if part not in s.parts or (kinds is not None and s.kind not in kinds):
            continue
        for bar in range(s.start_bar, s.end_bar):
            if bar == plan.bars - 1 or (plain and bar >= min(s.end_bar - 1, plan.bars - 2)):
                continue
            yield bar, s


def _at(hits: list[tuple[float, int, int]], keys: set[int], t: float) -> bool:
    return any(k in keys and abs(x - t) <= EPS for x, k, _ in hits)


def _frac(x: float) -> float:
    return x - math.floor(x + 1e-6)


# --- every genre, every metre ------------------------------------------------------------------


@pytest.mark.parametrize("genre", sorted(STYLES))
@pytest.mark.parametrize("ts", ["4/4", "3/4", "6/8"])
def test_every_genre_composes_in_common_metres(genre: str, ts: str) -> None:
    song = _song(genre, duration=40, time_signature=ts)
    plan, score = song.plan, song.score
    assert plan.style.name == genre
    assert [p.name for p in score.parts] == list(plan.parts)
    for part in score.parts:
        assert part.instrument == plan.parts[part.name]
        assert part.program == INSTRUMENTS[part.instrument].program
        assert part.is_drums == INSTRUMENTS[part.instrument].is_drums
        if any(part.name in s.parts for s in plan.sections):
            assert part.notes, (genre, ts, part.name)
        for n in part.notes:
            assert n.start >= 0 and n.end <= plan.end_beat + 1e-6, (part.name, n)
            assert n.duration > 0 and 1 <= n.velocity <= 127 and 0 <= n.pitch <= 127
    assert ("drums" in plan.parts) == (genre not in {"classical", "ambient"})
    # The bass is one line, and no part strikes a pitch that is still sounding.
    bass = sorted(score.part("bass").notes, key=lambda n: n.start)
    assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(bass)), genre
    for part in score.parts:
        by_pitch: dict[int, list[Note]] = defaultdict(list)
        for n in sorted(part.notes, key=lambda n: n.start):
            by_pitch[n.pitch].append(n)
        for line in by_pitch.values():
            assert all(a.end <= b.start + 1e-6 for a, b in itertools.pairwise(line)), part.name


@pytest.mark.parametrize("ts", SUPPORTED_TIME_SIGNATURES)
def test_every_genre_grooves_in_every_metre(ts: str) -> None:
    for genre, st in STYLES.items():
        song = _song(genre, duration=45, time_signature=ts, seed=2)
        plan = song.plan
        for part in song.score.parts:
            for n in part.notes:
                assert n.start >= 0 and n.end <= plan.end_beat + 1e-6 and n.duration > 0
        if "drums" not in st.parts:
            continue
        bars = _bars(song, "drums")
        for bar, _ in _playing_bars(song, "drums"):
            # Every bar grooves: several hits, one of them on (or right by) the downbeat.
            assert len(bars[bar]) >= 2, (genre, ts, bar)
            assert min(abs(t) for t, _, _ in bars[bar]) <= EPS or genre in {"reggae", "salsa"}


def test_each_genre_plays_its_own_band() -> None:
    def band(genre: str) -> dict[str, str]:
        return STYLES[genre].parts

    assert band("jazz") == {
        "drums": "jazz drums",
        "bass": "acoustic bass",
        "chords": "piano",
        "lead": "tenor sax",
    }
    assert band("reggae")["chords"] == "organ" and "guitar" in band("reggae")["pad"]
    assert band("edm")["bass"] == "synth bass" and band("edm")["pad"] == "synth pad"
    assert {band("orchestral")[p] for p in ("drums", "bass", "chords", "pad")} == {
        "orchestral percussion",
        "contrabass",
        "strings",
        "brass",
    }
    assert band("bossa nova")["chords"] == "nylon guitar"
    assert band("bossa nova")["drums"] == "brush drums"
    assert band("chinese-traditional")["chords"] == "guzheng"
    assert band("chinese-traditional")["lead"] == "dizi"
    assert INSTRUMENTS["guzheng"].program == INSTRUMENTS["koto"].program
    assert set(band("chiptune").values()) == {"electronic drums", "square lead"}
    assert "drums" not in band("ambient")


# --- drum idioms on the grid ------------------------------------------------------------------


def test_house_kick_on_every_beat() -> None:
    song = _song("house", seed=3)
    assert song.plan.style.name == "edm"
    bars = _bars(song, "drums")
    checked = 0
    for bar, s in _playing_bars(song, "drums"):
        if s.kind == "bridge":
            continue
        assert all(_at(bars[bar], {KICK}, float(b)) for b in range(4)), bar
        checked += 1
    assert checked >= 8


def test_reggae_one_drop() -> None:
    song = _song("reggae", seed=1)
    bars = _bars(song, "drums")
    checked = 0
    plain = {b for b, _ in _playing_bars(song, "drums", plain=True)}
    for bar, _ in _playing_bars(song, "drums", kinds={"verse", "chorus"}):
        hits = bars[bar]
        assert _at(hits, {KICK}, 2.0), bar  # the drop: kick (with the rim or snare) on 3
        assert not _at(hits, {KICK}, 0.0), bar  # nothing on 1, fills included
        if bar in plain:
            assert _at(hits, {RIM, SNARE}, 2.0), bar
            checked += 1
    assert checked >= 8


def test_trap_snare_only_on_beat_three_with_hat_rolls() -> None:
    song = _song("trap", seed=4)
    bars = _bars(song, "drums")
    checked = 0
    for bar, _ in _playing_bars(song, "drums", plain=True):
        backbeat = [t for t, k, _ in bars[bar] if k in {SNARE, CLAP, RIM}]
        assert backbeat and all(abs(t - 2.0) <= EPS for t in backbeat), (bar, backbeat)
        checked += 1
    assert checked >= 6
    # Rolling hats: runs of triplet sixteenths or thirty-seconds.
    hats = sorted(n.start for n in song.score.part("drums").notes if n.pitch == CLOSED_HAT)
    gaps = np.diff(hats)
    assert np.any(np.isclose(gaps, 1 / 6)) or np.any(np.isclose(gaps, 1 / 8))


@pytest.mark.parametrize(("prompt", "keys"), [("jazz", {RIDE, PEDAL_HAT}), ("lo-fi", {42, 46})])
def test_swing_puts_the_off_beats_on_the_triplet(prompt: str, keys: set[int]) -> None:
    song = _song(prompt, seed=2)
    offs = [
        _frac(n.start) for n in song.score.part("drums").notes if n.pitch in keys and n.start > 0
    ]
    assert offs
    assert any(abs(f - 2 / 3) < 1e-6 for f in offs)
    assert not any(abs(f - 0.5) < 0.05 for f in offs)
    assert all(min(abs(f - g) for g in (0, 1 / 3, 2 / 3, 1)) < 1e-6 for f in offs)


def test_blues_shuffle() -> None:
    song = _song("blues", seed=1)
    bars = _bars(song, "drums")
    checked = 0
    for bar, _ in _playing_bars(song, "drums", kinds={"verse", "chorus"}, plain=True):
        cymbals = {CLOSED_HAT, RIDE, 49}  # a chorus's crash takes the first beat
        for beat in range(4):  # long-short: the beat and its last triplet
            assert _at(bars[bar], cymbals, beat) and _at(bars[bar], cymbals, beat + 2 / 3), bar
        assert not any(k in cymbals and abs(_frac(t) - 0.5) < 0.05 for t, k, _ in bars[bar])
        checked += 1
    assert checked >= 3
    # The bass shuffles too, in a chorus: boogie eighths on the triplet.
    bass = _bars(song, "bass")
    chorus = [b for b, _ in _playing_bars(song, "bass", kinds={"chorus"})]
    assert any(any(abs(_frac(t) - 2 / 3) < 0.05 for t, _, _ in bass[b]) for b in chorus)


def test_waltz_and_compound_grooves() -> None:
    waltz = _song("pop waltz", seed=1, time_signature="3/4")
    bars = _bars(waltz, "drums")
    checked = 0
    for bar, s in _playing_bars(waltz, "drums", plain=True):
        if energy_level(s.energy) != VERSE:
            continue
        hits = bars[bar]
        assert _at(hits, {KICK}, 0) and not _at(hits, {KICK}, 1) and not _at(hits, {KICK}, 2)
        assert _at(hits, {SNARE}, 1) and _at(hits, {SNARE}, 2)  # oom-pah-pah
        checked += 1
    assert checked >= 2
    jig = _song("pop", seed=1, time_signature="6/8")
    bars = _bars(jig, "drums")
    checked = 0
    for bar, s in _playing_bars(jig, "drums", plain=True):
        if energy_level(s.energy) != VERSE:
            continue
        kicks = [t for t, k, _ in bars[bar] if k == KICK]
        snares = [t for t, k, _ in bars[bar] if k == SNARE]
        assert kicks and all(abs(t) <= EPS for t in kicks)  # two dotted-quarter pulses
        assert snares and all(abs(t - 1.5) <= EPS for t in snares)
        checked += 1
    assert checked >= 2


def test_fills_lead_into_section_changes() -> None:
    song = _song("pop", seed=5, duration=90)
    plan = song.plan
    bars = _bars(song, "drums")
    fill_bars = set()
    sizes: list[tuple[float, int]] = []
    for i, s in enumerate(plan.sections[:-1]):
        nxt = plan.sections[i + 1]
        if "drums" in s.parts and "drums" in nxt.parts and s.bars >= 2:
            bar = s.end_bar - 1
            fill_bars.add(bar)
            toms = [t for t, k, _ in bars[bar] if k in TOMS]
            assert toms and min(toms) >= 1.0 - EPS, bar  # in the second half (or last beat)
            sizes.append((nxt.energy, sum(1 for t, k, _ in bars[bar] if k in TOMS | {SNARE})))
    assert len(fill_bars) >= 2
    # Bars in the middle of a section have no fill.
    for bar, _ in _playing_bars(song, "drums", plain=True):
        if bar not in fill_bars:
            assert not any(k in TOMS for _, k, _ in bars[bar]), bar
    # A livelier coming section gets the bigger fill.
    sizes.sort()
    assert sizes[-1][1] > sizes[0][1]


def test_a_bridge_departs_from_the_groove() -> None:
    # Whatever form the planner chooses, a verse turned bridge (drums playing) departs from the
    # verse's groove at the same energy: pop moves the time to the floor tom, reggae's one drop
    # becomes a steppers' four-on-the-floor.
    for genre, check in (
        (
            "pop",
            lambda hits: any(k == 41 for _, k, _ in hits) and not any(k == 42 for _, k, _ in hits),
        ),
        ("reggae", lambda hits: all(_at(hits, {KICK}, b) for b in range(4))),
    ):
        song = _song(genre, seed=1, duration=60)
        plan = song.plan
        verse = next(s for s in plan.sections if s.kind == "verse" and s.bars >= 3)
        bridge = dataclasses.replace(
            verse, kind="bridge", parts=tuple(dict.fromkeys((*verse.parts, "drums")))
        )
        sections = tuple(bridge if s is verse else s for s in plan.sections)
        notes = drum_part(dataclasses.replace(plan, sections=sections), random.Random(1))
        bar = verse.start_bar + 1
        hits = [
            (n.start - bar * 4, n.pitch, n.velocity)
            for n in notes
            if bar * 4 <= n.start < bar * 4 + 4
        ]
        before = _bars(song, "drums")[bar]
        assert check(hits) and not check(before), genre


def _by_level(song: Song, part: str) -> dict[int, tuple[float, float]]:
    """Energy tier -> (notes per bar, accent velocity) over the bars where ``part`` plays, fills
    left out. The accent velocity is the mean of each bar's loudest quarter of notes: how hard
    the main hits are played, whatever soft ghost notes a busier pattern adds."""
    bars = _bars(song, part)
    count: dict[int, list[int]] = defaultdict(list)
    accents: dict[int, list[float]] = defaultdict(list)
    for bar, s in _playing_bars(song, part, plain=True):
        level = min(energy_level(s.energy), CHORUS)
        vels = sorted((v for _, _, v in bars[bar]), reverse=True)
        count[level].append(len(vels))
        if vels:
            accents[level].append(float(np.mean(vels[: max(1, len(vels) // 4)])))
    return {k: (float(np.mean(count[k])), float(np.mean(accents[k]))) for k in count}


@pytest.mark.parametrize(
    "genre", ["pop", "rock", "edm", "funk", "hip hop", "reggae", "jazz", "salsa", "country", "trap"]
)
def test_drums_get_denser_and_louder_toward_the_chorus(genre: str) -> None:
    song = _song(genre, seed=6, duration=90)
    levels = _by_level(song, "drums")
    assert {REST, VERSE, CHORUS} <= set(levels), levels
    assert levels[REST][0] < levels[VERSE][0] < levels[CHORUS][0], levels
    assert levels[REST][1] < levels[VERSE][1] < levels[CHORUS][1], levels
    # A crash marks the downbeat of every chorus.
    notes = song.score.part("drums").notes
    bpb = song.plan.time_signature.beats_per_bar
    for s in song.plan.sections:
        if s.kind == "chorus" and "drums" in s.parts:
            t0 = s.start_bar * bpb
            assert any(n.pitch in {49, 52, 57} and abs(n.start - t0) <= EPS for n in notes), s.id


@pytest.mark.parametrize("genre", ["pop", "rock", "jazz", "reggae"])
def test_bass_and_comping_follow_the_energy(genre: str) -> None:
    song = _song(genre, seed=6, duration=90)
    for part in ("bass", "chords"):
        levels = _by_level(song, part)
        assert levels[CHORUS][1] > levels[VERSE][1], (part, levels)
        assert levels[CHORUS][0] >= levels[VERSE][0], (part, levels)


def test_dynamics_rise_over_the_bar_before_a_chorus() -> None:
    song = _song("rock", seed=2, duration=90)
    plan = song.plan
    bpb = plan.time_signature.beats_per_bar
    bass = song.score.part("bass").notes
    rising = 0
    for i, s in enumerate(plan.sections[:-1]):
        if plan.sections[i + 1].kind == "chorus" and "bass" in s.parts:
            t0 = (s.end_bar - 1) * bpb
            bar = [n for n in bass if t0 - EPS <= n.start < t0 + bpb - EPS]
            first = np.mean([n.velocity for n in bar if n.start < t0 + bpb / 2])
            second = np.mean([n.velocity for n in bar if n.start >= t0 + bpb / 2])
            assert second > first, s.id
            rising += 1
    assert rising >= 1


# --- bass idioms -------------------------------------------------------------------------------


def test_jazz_walking_bass_steps_into_each_chord() -> None:
    song = _song("jazz", seed=3, duration=90)
    plan = song.plan
    bars = _bars(song, "bass")
    checked = 0
    for bar, s in _playing_bars(song, "bass"):
        if energy_level(s.energy) == REST:
            continue  # a two-feel at rest
        hits = sorted(bars[bar])
        assert all(_at(hits, set(range(128)), b) for b in range(4)), (bar, hits)
        nxt = sorted(bars.get(bar + 1, []))
        if nxt and abs(nxt[0][0]) <= EPS:
            last = max(hits)[1]
            assert 1 <= abs(last - nxt[0][1]) <= 2, (bar, last, nxt[0])  # by step, not leap
            assert nxt[0][1] % 12 == plan.chords[bar + 1].root
            checked += 1
    assert checked >= 8


def test_tumbao_anticipates_the_next_chord() -> None:
    song = _song("salsa", seed=1)
    plan = song.plan
    bars = _bars(song, "bass")
    checked = 0
    for bar, s in _playing_bars(song, "bass", plain=True):
        if energy_level(s.energy) == REST or bar + 1 >= plan.bars:
            continue
        hits = bars[bar]
        beat4 = [p for t, p, _ in hits if abs(t - 3.0) <= EPS]
        assert beat4 and beat4[0] % 12 == plan.chords[bar + 1].root, bar
        assert _at(hits, set(range(128)), 1.5)  # the "and" of 2
        checked += 1
    assert checked >= 4


def test_trap_808_rings_and_glides_into_the_next_root() -> None:
    song = _song("trap", seed=4)
    plan = song.plan
    bars = _bars(song, "bass")
    notes = song.score.part("bass").notes
    glides = 0
    for bar, _ in _playing_bars(song, "bass"):
        first = min((n for n in notes if abs(n.start - bar * 4) <= EPS), key=lambda n: n.start)
        assert first.duration >= 1.0  # the 808 on the downbeat rings
        run = sorted(
            (n for n in notes if n.duration <= 0.15 and bar * 4 + 3 <= n.start < bar * 4 + 4),
            key=lambda n: n.start,
        )
        nxt = [p for t, p, _ in bars.get(bar + 1, []) if abs(t) <= EPS]
        if len(run) >= 3 and nxt:
            pitches = [n.pitch for n in run] + nxt[:1]
            steps = np.diff(pitches)
            assert np.all(steps >= 0) or np.all(steps <= 0), pitches  # one way, by pitch
            assert abs(steps).max() <= 4 and nxt[0] % 12 == plan.chords[bar + 1].root
            glides += 1
    assert glides >= 2


# --- voicings and comping -------------------------------------------------------------------


def test_voice_leading_keeps_common_tones_and_moves_little() -> None:
    c = voicing(parse_chord("C"), None)
    am = voicing(parse_chord("Am"), c)
    assert {p for p in c if p % 12 in {0, 4}} <= set(am)  # C and E stay where they are
    key = Key(0, "major")
    numerals = ("I", "vi", "IV", "V", "ii", "V7", "I", "iii", "vi", "ii", "V", "I")
    prog = [chord_from_roman(r, key) for r in numerals]
    led, prev = [], None
    for ch in prog:
        prev = voicing(ch, prev)
        led.append(prev)
    block = [[60 + ch.root + i for i in ch.intervals] for ch in prog]
    moved = sum(movement(a, b) for a, b in itertools.pairwise(led))
    jumped = sum(movement(a, b) for a, b in itertools.pairwise(block))
    assert moved < 0.5 * jumped
    assert all(min(v) >= 52 for v in led)  # nothing under E3


@pytest.mark.parametrize("genre", sorted(set(STYLES) - {"rock", "metal", "chinese-traditional"}))
def test_chord_voicings_stay_clear_of_the_bass(genre: str) -> None:
    song = _song(genre, seed=1, duration=30)
    for name in ("chords", "pad"):
        if name in song.plan.parts:
            notes = song.score.part(name).notes
            assert min(n.pitch for n in notes) >= 52, (genre, name)


def test_comping_idioms() -> None:
    # Reggae: the organ skanks on 2 and 4 in a verse.
    song = _song("reggae", seed=1)
    bars = _bars(song, "chords")
    for bar, _ in _playing_bars(song, "chords", kinds={"verse"}):
        assert {round(t) for t, _, _ in bars[bar]} == {1, 3}, bar
    # Folk guitar: downstrokes roll from the low string up, upstrokes from the top down.
    song = _song("folk", seed=1)
    notes = sorted(song.score.part("chords").notes, key=lambda n: n.start)
    strums: list[list[Note]] = []
    for n in notes:
        if strums and n.start - strums[-1][0].start < 0.1:
            strums[-1].append(n)
        else:
            strums.append([n])
    down = [s for s in strums if len(s) >= 4]
    up = [s for s in strums if len(s) == 3 and s[0].start < s[1].start < s[2].start]
    assert down and all([n.pitch for n in s] == sorted(n.pitch for n in s) for s in down)
    assert up and all(
        [n.pitch for n in s] == sorted((n.pitch for n in s), reverse=True) for s in up
    )
    # Chiptune: sixteenth-note arpeggios in a verse or chorus.
    song = _song("chiptune", seed=1)
    bars = _bars(song, "chords")
    busy = [b for b, s in _playing_bars(song, "chords") if energy_level(s.energy) >= VERSE]
    assert busy and all(len(bars[b]) >= 16 for b in busy)
    # Guzheng: a rolled glissando (a note every twelfth of a beat) opening the bars.
    song = _song("chinese traditional", seed=1)
    onsets = sorted({round(n.start, 3) for n in song.score.part("chords").notes})
    gaps = np.diff(onsets)
    assert np.sum(np.isclose(gaps, 1 / 12, atol=0.01)) >= 8


def test_jazz_piano_voices_the_tonic_with_its_root() -> None:
    # Rootless voicings elsewhere (the bass has the root), but the home chord keeps its root: a
    # rootless Imaj7 (D F A C over Bb) is the dominant's triad, and the piano alone then points
    # a fifth too high. The piano's own notes name the key (or its relative minor).
    for key in ("Bb major", "Eb major", "G major"):
        song = _song(f"jazz trio in {key}, 110 bpm", seed=1, duration=60)
        plan = song.plan
        bars = _bars(song, "chords")
        home = others = 0
        for bar, _ in _playing_bars(song, "chords"):
            chord = plan.chords[bar]
            struck = {p % 12 for t, p, _ in bars[bar] if t < 3.4}  # the push at 3.5 is the next
            if not struck:
                continue
            if chord.root == plan.key.tonic:
                assert chord.root in struck, (key, bar, chord)
                home += 1
            else:
                assert chord.root not in struck, (key, bar, chord)
                others += 1
        assert home >= 3 and others >= 3, key
        weights = [0.0] * 12
        for n in song.score.part("chords").notes:
            weights[n.pitch % 12] += n.duration
        assert key_from_profile(weights) in {plan.key, plan.key.relative}, key


def _beat_grid(hits: list[tuple[float, int, int]], keys: set[int], beats: int) -> tuple[bool, bool]:
    """(an onset of ``keys`` on every beat, none between the beats)."""
    mine = [t for t, k, _ in hits if k in keys]
    on_every = all(any(abs(t - b) <= EPS for t in mine) for b in range(beats))
    between = any(abs(t - round(t)) > EPS for t in mine)
    return on_every, not between


@pytest.mark.parametrize(
    "prompt",
    ["suspenseful horror underscore, 70 bpm", "epic orchestral trailer music, 90 bpm, D minor"],
)
def test_a_film_cue_pulses_on_the_beat(prompt: str) -> None:
    # A slow cue is heard at its written tempo when its pulse is on the beat: the timpani (tuned
    # to the chord), the low strings and the string chords all mark every beat of a verse-level
    # bar, and nothing sounds between the beats (no eighth-note pick-ups that a listener, or a
    # beat tracker, hears as the beat at twice the speed).
    song = _song(prompt, seed=1, duration=60)
    timpani = set(range(41, 54))
    checked = 0
    for part, keys in (("drums", timpani), ("bass", set(range(128))), ("chords", set(range(128)))):
        bars = _bars(song, part)
        for bar, s in _playing_bars(song, part, plain=True):
            if energy_level(s.energy) != VERSE:
                continue
            on_every, clean = _beat_grid(bars[bar], keys, 4)
            assert on_every and clean, (part, bar, sorted(bars[bar]))
            checked += 1
    assert checked >= 12
    # The concert bass drum (pitched, around F) marks only the downbeat.
    bars = _bars(song, "drums")
    for bar, s in _playing_bars(song, "drums", plain=True):
        if energy_level(s.energy) == VERSE:
            assert [round(t) for t, k, _ in bars[bar] if k == KICK] == [0], bar


# --- human feel ---------------------------------------------------------------------------------


def test_human_timing_is_seeded_and_in_the_genre_feel() -> None:
    a, b = _song("lo-fi", seed=9), _song("lo-fi", seed=9)
    assert a.score.to_json() == b.score.to_json()
    plan = a.plan
    ms = 60_000 / plan.tempo  # milliseconds per beat
    final = (plan.bars - 1) * plan.time_signature.beats_per_bar
    # Lo-fi keys drag lazily behind the beat (onsets written on a triplet-or-straight grid).
    drifts = [
        (n.start - round(n.start * 12) / 12) * ms
        for n in a.score.part("chords").notes
        if abs(n.start - final) > 1e-9
    ]
    assert drifts and all(0 < d <= 25 for d in drifts) and np.mean(drifts) > 5
    # The cymbals keep exact time; the drums around them move a little.
    drums = a.score.part("drums").notes
    hats = [n.start for n in drums if n.pitch == CLOSED_HAT]
    assert all(abs(t * 12 - round(t * 12)) < 1e-6 for t in hats)
    snares = [(n.start - round(n.start * 12) / 12) * ms for n in drums if n.pitch == SNARE]
    assert np.mean(snares) > 5 and max(abs(d) for d in snares) <= 26
    # Every part's final chord lands exactly on its downbeat.
    for part in a.score.parts:
        last = [n for n in part.notes if n.start >= final - 0.2]
        if last:
            assert any(n.start == final for n in last), part.name
    # Machine genres are exactly on the grid.
    edm = _song("edm", seed=9)
    for part in ("drums", "bass", "chords"):
        assert all(
            abs(n.start * 48 - round(n.start * 48)) < 1e-6 for n in edm.score.part(part).notes
        )


def test_humanise_never_leaves_the_song() -> None:
    plan = _song("lo-fi", seed=3, duration=20).plan
    final = (plan.bars - 1) * plan.time_signature.beats_per_bar
    notes = [
        Note(60, 0.0, 1.0, 80),
        Note(62, 0.001, 0.5, 80),
        Note(64, plan.end_beat - 0.02, 0.02, 80),
        Note(65, 3.0, plan.end_beat - 3.0, 80),
        Note(67, final, plan.end_beat - final, 80),
    ]
    for seed in range(30):
        out = _humanise(notes, random.Random(seed), drums=False, plan=plan, part="chords")
        again = _humanise(notes, random.Random(seed), drums=False, plan=plan, part="chords")
        assert out == again
        bpb = plan.time_signature.beats_per_bar
        for n, before in zip(out, notes, strict=True):
            assert n.start >= 0 and n.end <= plan.end_beat + 1e-9 and n.duration > 0
            assert n.start // bpb == before.start // bpb  # a note stays in its bar
        assert out[-1].start == final and out[-1].end == pytest.approx(plan.end_beat)
        assert out[3].end == pytest.approx(plan.end_beat)  # a note ringing to the end still does


# --- rendering ----------------------------------------------------------------------------------


def test_every_genre_renders_its_stems(tmp_path: Path, small_soundfont: Path) -> None:
    from overture.audio import read_audio

    for genre in sorted(STYLES):
        out = tmp_path / re.sub(r"\W+", "-", genre)
        song = generate(genre, duration=8, seed=1, out=out, soundfont=small_soundfont)
        for part in song.score.parts:
            stem = out / "stems" / f"{part.name}.flac"
            assert stem.is_file(), (genre, part.name)
            if part.notes:
                audio, _ = read_audio(stem)
                assert np.max(np.abs(audio)) > 1e-3, f"{genre}: {part.name} is silent"
