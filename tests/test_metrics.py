"""The evaluation's metrics on small hand-computed examples (no corpus, no audio)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from overture.evaluate import frechet, mgeval
from overture.evaluate import metrics as m
from overture.evaluate.audio import duration_ok, key_match, tempo_check
from overture.evaluate.baselines import (
    RANDOM_DURATIONS,
    MarkovBaseline,
    Target,
    fit_to_range,
    random_in_key,
    rng_for,
    scale_pitches,
)
from overture.theory import parse_key


def notes(rows: list[tuple[int, float, float]], bpb: float = 4.0, **kw: object) -> m.Notes:
    """(pitch, onset, duration) rows -> Notes."""
    return m.Notes.make(
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], beats_per_bar=bpb, **kw
    )


def log2(x: float) -> float:
    return math.log2(x)


# C4 E4 G4 C5 E4: onsets 0 1 2 4 5, durations 1 1 2 1 0.5.
ARPEGGIO = notes([(60, 0, 1), (64, 1, 1), (67, 2, 2), (72, 4, 1), (64, 5, 0.5)])
EMPTY = m.Notes((), (), ())


# --- MusPy metrics ---------------------------------------------------------------------------


def test_pitch_counts_and_range() -> None:
    assert m.pitch_range(ARPEGGIO) == 72 - 60
    assert m.n_pitches_used(ARPEGGIO) == 4  # 60 64 67 72
    assert m.n_pitch_classes_used(ARPEGGIO) == 3  # C E G
    assert m.pitch_range(EMPTY) == 0


def test_pitch_entropies() -> None:
    # Pitches 60:1 64:2 67:1 72:1 of 5 notes.
    expected = -(3 * 0.2 * log2(0.2) + 0.4 * log2(0.4))
    assert m.pitch_entropy(ARPEGGIO) == pytest.approx(expected)
    assert expected == pytest.approx(1.921928, abs=1e-6)
    # Pitch classes C:2 (60, 72) E:2 G:1.
    expected_pc = -(2 * 0.4 * log2(0.4) + 0.2 * log2(0.2))
    assert m.pitch_class_entropy(ARPEGGIO) == pytest.approx(expected_pc)
    assert math.isnan(m.pitch_entropy(EMPTY))
    assert math.isnan(m.pitch_class_entropy(EMPTY))


def test_scale_rates() -> None:
    assert m.pitch_in_scale_rate(ARPEGGIO, 0, "major") == 1.0
    # C# major is C# D# F F# G# A# C: only the two Cs (B#) are in it.
    assert m.pitch_in_scale_rate(ARPEGGIO, 1, "major") == pytest.approx(2 / 5)
    # A natural minor holds C E G too.
    assert m.pitch_in_scale_rate(ARPEGGIO, 9, "minor") == 1.0
    chromatic = notes([(60 + i, i, 1) for i in range(12)])
    # Any major or minor scale holds 7 of the 12 pitch classes.
    assert m.scale_consistency(chromatic) == pytest.approx(7 / 12)
    assert m.scale_consistency(ARPEGGIO) == 1.0
    assert math.isnan(m.scale_consistency(EMPTY))
    assert math.isnan(m.pitch_in_scale_rate(EMPTY, 0, "major"))
    with pytest.raises(ValueError):
        m.pitch_in_scale_rate(ARPEGGIO, 0, "dorian")


def test_polyphony() -> None:
    # C major triad for one beat, then C alone for one beat: 24 steps with 3 pitches on,
    # 24 with 1.
    chord = notes([(60, 0, 1), (64, 0, 1), (67, 0, 1), (60, 1, 1)])
    assert m.polyphony(chord) == pytest.approx((24 * 3 + 24 * 1) / 48)
    # MusPy counts steps with MORE than `threshold` (default 2) pitches: the 24 triad steps.
    assert m.polyphony_rate(chord) == pytest.approx(24 / 48)
    assert m.polyphony_rate(chord, threshold=3) == 0.0
    # With a rest: polyphony counts only sounding steps, the rate all steps.
    gap = notes([(60, 0, 1), (64, 2, 1)])
    assert m.polyphony(gap) == 1.0
    assert m.polyphony_rate(gap, threshold=0) == pytest.approx(48 / 72)
    assert math.isnan(m.polyphony(EMPTY))
    assert math.isnan(m.polyphony_rate(EMPTY))


def test_empty_beat_rate() -> None:
    # End at 3.5 beats -> 3.5 * 24 // 24 + 1 = 4 beats; notes fill beats 0 and 3.
    assert m.empty_beat_rate(notes([(60, 0, 0.5), (62, 3, 0.5)])) == pytest.approx(1 - 2 / 4)
    # MusPy marks start//res..end//res inclusive: a note ending on beat 1 fills beat 1 too.
    assert m.empty_beat_rate(notes([(60, 0, 1), (62, 3, 0.5)])) == pytest.approx(1 - 3 / 4)
    assert m.empty_beat_rate(ARPEGGIO) == 0.0
    assert math.isnan(m.empty_beat_rate(EMPTY))


def test_groove_consistency() -> None:
    # 4 steps per bar (one per quarter note). Bar 0 onsets 0 1 2 3 -> 1111; bar 1: 4, 6 ->
    # 1010; bar 2: 8 -> 1000; the last note ends at 12, so MusPy counts 12 // 4 + 1 = 4 bars
    # and bar 3 is 0000. Hamming distances 2 + 1 + 1 = 4 over 4 * 3 positions.
    x = notes([(60, 0, 1), (62, 1, 1), (64, 2, 1), (65, 3, 1), (67, 4, 2), (65, 6, 2), (64, 8, 4)])
    assert m.groove_consistency(x, measure_resolution=4) == pytest.approx(1 - 4 / 12)
    # Two identical bars (and the empty bar the end adds) at the default 96 steps per bar.
    y = notes([(60, 0, 1), (62, 2, 1), (60, 4, 1), (62, 6, 2)])
    # Patterns: bar 0 {0, 48}, bar 1 {0, 48}, bar 2 (end at 8 beats) empty: 0 + 2 differences.
    assert m.groove_consistency(y) == pytest.approx(1 - 2 / (96 * 2))
    assert math.isnan(m.groove_consistency(notes([(60, 0, 1)])))


def test_drum_in_pattern_rate() -> None:
    # Onsets 0, 1/4, 1/2, 1/3, 1/8 of a beat = steps 0, 6, 12, 8, 3 of 24.
    drums = notes(
        [(36, 0, 0.1), (38, 0.25, 0.1), (42, 0.5, 0.1), (42, 1 / 3, 0.1), (42, 0.125, 0.1)]
    )
    assert m.drum_in_pattern_rate(drums, "duple") == pytest.approx(3 / 5)  # 0 6 12 (18)
    assert m.drum_in_pattern_rate(drums, "triple") == pytest.approx(2 / 5)  # 0 8 (16)
    assert math.isnan(m.drum_in_pattern_rate(EMPTY, "duple"))


# --- The Jazz Transformer's metrics ----------------------------------------------------------

# Bar 0: C E G C; bar 1: D D D D; bar 2: empty; bar 3: C C#.
BARS = notes(
    [(60, 0, 1), (64, 1, 1), (67, 2, 1), (72, 3, 1)]
    + [(62, 4 + i, 1) for i in range(4)]
    + [(60, 12, 1), (61, 13, 1)]
)


def test_h1_h4() -> None:
    bar0 = -(0.5 * log2(0.5) + 2 * 0.25 * log2(0.25))  # C 2/4, E 1/4, G 1/4 -> 1.5
    bar1 = 0.0
    bar3 = 1.0  # C, C# one each
    assert m.h1(BARS) == pytest.approx((bar0 + bar1 + bar3) / 3)  # the empty bar is skipped
    # One 4-bar window: C 3, C# 1, D 4, E 1, G 1 of 10 notes.
    whole = -(0.3 * log2(0.3) + 3 * 0.1 * log2(0.1) + 0.4 * log2(0.4))
    assert m.h4(BARS) == pytest.approx(whole)
    # A window longer than the piece falls back to the whole piece.
    two_bars = notes([(60, 0, 1), (62, 4, 1)])
    assert m.h4(two_bars) == pytest.approx(1.0)
    assert math.isnan(m.h1(EMPTY))


def test_grooving_similarity() -> None:
    # 64 positions per bar: bar 0 onsets at beats 0 1 2 3 -> 0 16 32 48; bar 1 (BARS' D D D D)
    # the same; bar 2 nothing; bar 3 at 0 and 16.
    # XOR counts: b0-b1 0, b0-b2 4, b0-b3 2, b1-b2 4, b1-b3 2, b2-b3 2.
    expected = np.mean([1 - x / 64 for x in (0, 4, 2, 4, 2, 2)])
    assert m.grooving_similarity(BARS) == pytest.approx(expected)
    assert math.isnan(m.grooving_similarity(notes([(60, 0, 1)])))


def test_notes_validation_and_bars() -> None:
    with pytest.raises(ValueError):
        m.Notes((60, 62), (0.0,), (1.0, 1.0))
    assert BARS.n_bars == 4
    assert notes([(60, 0, 1), (62, 5.9, 1)], bpb=3.0).n_bars == 2
    # A lead entering in bar 2 is shifted to start in its own bar 0, keeping its position.
    from overture.score import Note

    lead = m.Notes.from_score_notes([Note(60, 9.0, 1.0, 90)], beats_per_bar=4.0)
    assert lead.onsets == (1.0,)


def test_melody_metrics_has_every_metric() -> None:
    values = m.melody_metrics(notes([(60, 0, 1), (62, 1, 1)], tonic=0, mode="major"))
    assert set(values) == set(m.MELODY_METRICS)
    assert values["pitch_in_scale_rate"] == 1.0
    assert math.isnan(m.melody_metrics(ARPEGGIO)["pitch_in_scale_rate"])  # no stated key


# --- MGEval ----------------------------------------------------------------------------------


def test_mgeval_features() -> None:
    # G4 for 1 beat, B4 for 3 beats, tonic G: bins 0 (G) and 4 (B), weighted by duration.
    pch = mgeval.pitch_class_histogram(notes([(67, 0, 1), (71, 1, 3)], tonic=7, mode="major"))
    expected = np.zeros(12)
    expected[0], expected[4] = 0.25, 0.75
    np.testing.assert_allclose(pch, expected)
    # Intervals +2, 0, -12, +27 (clipped to +12): bins 14, 12, 0 and 24, a quarter each.
    line = notes([(60, 0, 1), (62, 1, 0.5), (62, 1.5, 1.5), (50, 3, 1), (77, 4, 1)])
    pih = mgeval.pitch_interval_histogram(line)
    assert pih[[0, 12, 14, 24]].tolist() == [0.25] * 4 and pih.sum() == pytest.approx(1)
    assert mgeval.avg_pitch_interval(line)[0] == pytest.approx((2 + 0 + 12 + 27) / 4)
    assert mgeval.avg_ioi(line)[0] == pytest.approx((1 + 0.5 + 1.5 + 1) / 4)
    assert mgeval.pitch_count(line)[0] == 4
    # Durations 1 1 0.5 1.5 0.3: quarter x2, 8th, dotted quarter, and 0.3 nearest to the
    # 8th triplet (1/3) rather than the 16th (0.25) or dotted 16th (0.375).
    nl = mgeval.note_length_histogram(
        notes([(60, 0, 1), (60, 1, 1), (60, 2, 0.5), (60, 3, 1.5), (60, 5, 0.3)])
    )
    expected = np.zeros(12)
    expected[[2, 3, 6, 11]] = [0.4, 0.2, 0.2, 0.2]
    np.testing.assert_allclose(nl, expected)


def test_pairwise_distances() -> None:
    x = np.array([[0.0], [3.0], [4.0]])
    assert sorted(mgeval.intra_set_distances(x).tolist()) == [1.0, 3.0, 4.0]
    assert sorted(mgeval.inter_set_distances(x, np.array([[1.0]])).tolist()) == [1.0, 2.0, 3.0]


def test_overlap_and_kl_of_known_normals() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, 5000)
    b = rng.normal(1.0, 1.0, 5000)
    # Two unit normals one sd apart overlap by 2 * Phi(-1/2) = 0.617; KL = d^2 / 2 = 0.5.
    phi = 0.5 * (1 + math.erf(-0.5 / math.sqrt(2)))
    assert mgeval.overlap_area(a, b) == pytest.approx(2 * phi, abs=0.03)
    assert mgeval.kl_divergence(a, b) == pytest.approx(0.5, abs=0.06)
    assert mgeval.overlap_area(a, a) > 0.97  # only the tails beyond the data are cut
    assert mgeval.kl_divergence(a, a) == pytest.approx(0.0, abs=1e-9)


def _folk(n: int, seed: int, spread: int = 2) -> list[m.Notes]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        size = int(rng.integers(16, 40))
        steps = rng.integers(-spread, spread + 1, size)
        pitches = np.clip(67 + np.cumsum(steps), 48, 96)
        durations = rng.choice([0.5, 1.0, 1.0, 2.0], size)
        out.append(
            m.Notes.from_sequence(pitches.tolist(), durations.tolist(), tonic=7, mode="major")
        )
    return out


def test_mgeval_identical_and_disjoint_sets() -> None:
    human = _folk(40, 1)
    same = mgeval.compare_sets(human, human)
    for result in same.values():
        assert result.oa > 0.9
        assert result.kld < 0.05
    # Long chromatic runs: 60 distinct pitches against the tunes' handful.
    far = [m.Notes.from_sequence(list(range(30, 90)), [0.25] * 60) for _ in range(10)]
    apart = mgeval.compare_feature(far, human, "pitch_count")
    assert apart.oa < 0.01
    assert apart.kld > 5


# --- Fréchet distance ------------------------------------------------------------------------


def test_frechet_distance_of_known_gaussians() -> None:
    # |mu diff|^2 = 1; Tr(I + 4I - 2 * sqrt(4I)) = 2 + 8 - 8 = 2.
    fd = frechet.frechet_distance(np.array([1.0, 0]), np.eye(2), np.zeros(2), 4 * np.eye(2))
    assert fd == pytest.approx(3.0)


def test_frechet_zero_for_same_set_and_grows_with_shift() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal([1, 5, -2], [1, 2, 0.5], size=(300, 3))
    assert frechet.frechet_features(x, x) == pytest.approx(0.0, abs=1e-6)
    sd = x.std(axis=0)
    previous = 0.0
    for k in (0.5, 1.0, 2.0):
        shift = k * np.array([1.0, -2.0, 0.5])
        fd = frechet.frechet_features(x + shift, x)
        # Same covariance: FD is the squared shift in units of the reference's sd.
        assert fd == pytest.approx(float(np.sum((shift / sd) ** 2)), rel=1e-4)
        np.testing.assert_allclose(frechet.mean_shift(x + shift, x), shift / sd, atol=1e-9)
        assert fd > previous
        previous = fd


def test_piece_features_by_hand() -> None:
    # 60 62 64 62 67 67 with durations 1 1 1 1 2 2: intervals +2 +2 -2 +5 0.
    x = m.Notes.from_sequence([60, 62, 64, 62, 67, 67], [1, 1, 1, 1, 2, 2])
    f = dict(zip(frechet.FEATURE_NAMES, frechet.piece_features(x), strict=True))
    assert f["interval_mean"] == pytest.approx(11 / 5)
    assert f["step_ratio"] == pytest.approx(3 / 5)
    assert f["leap_ratio"] == pytest.approx(1 / 5)
    assert f["repeat_ratio"] == pytest.approx(1 / 5)
    assert f["direction_change_ratio"] == pytest.approx(2 / 3)  # + + - +: two turns
    assert f["pitch_range"] == 7
    assert f["notes_per_bar"] == pytest.approx(6 / 2)  # last onset at beat 6: bars 0 and 1
    assert f["duration_mean"] == pytest.approx(8 / 6)
    assert f["duration_sd"] == pytest.approx(math.sqrt(2 / 9))
    assert f["duration_entropy"] == pytest.approx(-(2 / 3 * log2(2 / 3) + 1 / 3 * log2(1 / 3)))


def test_melody_frechet_prefers_the_closer_set() -> None:
    human = _folk(60, 5)
    similar = _folk(30, 6)
    jumpy = _folk(30, 7, spread=9)
    assert frechet.melody_frechet(similar, human) < frechet.melody_frechet(jumpy, human)


# --- baselines -------------------------------------------------------------------------------


def test_random_in_key_is_in_key_range_and_deterministic() -> None:
    target = Target(tonic=2, mode="minor", n_notes=50, low=62, high=79, beats_per_bar=3.0)
    a = random_in_key(target, rng_for("random", 0, "p01", 0))
    b = random_in_key(target, rng_for("random", 0, "p01", 0))
    c = random_in_key(target, rng_for("random", 1, "p01", 0))
    assert a == b
    assert a.pitches != c.pitches
    assert len(a) == 50
    allowed = set(scale_pitches(2, "minor", 62, 79))
    assert set(a.pitches) <= allowed
    assert allowed == {62, 64, 65, 67, 69, 70, 72, 74, 76, 77, 79}  # D natural minor
    assert set(a.durations) <= set(RANDOM_DURATIONS)
    assert m.pitch_in_scale_rate(a, 2, "minor") == 1.0


class _Tune:
    def __init__(self, pitches: list[int], durations: list[float], tonic: int) -> None:
        self.pitches, self.durations, self.tonic, self.mode = pitches, durations, tonic, "major"


def test_markov_baseline_counts_and_follows_transitions() -> None:
    # C D E D C in C major and G A B A G in G major: both 0 2 4 2 0 above the tonic.
    tunes = [
        _Tune([60, 62, 64, 62, 60], [1, 1, 2, 1, 1], 0),
        _Tune([67, 69, 71, 69, 67], [1] * 5, 7),
    ]
    model = MarkovBaseline.fit(tunes)
    start, table = model.pitch["major"]
    assert start == {0: 2.0}
    assert table[2] == {4: 2.0, 0: 2.0}
    assert table[0] == {2: 2.0}
    _dur_start, dur_table = model.duration["major"]
    assert dur_table[2.0] == {1.0: 1.0}
    target = Target(tonic=5, mode="major", n_notes=40, low=60, high=84)
    x = model.generate(target, rng_for("markov", 0))
    assert x == model.generate(target, rng_for("markov", 0))
    assert len(x) == 40 and min(x.pitches) >= 60 and max(x.pitches) <= 84
    rel = [(p - 5) % 12 for p in x.pitches]
    seen = {(0, 2), (2, 4), (4, 2), (2, 0)}
    assert all((a, b) in seen for a, b in itertools.pairwise(rel))


def test_fit_to_range() -> None:
    assert fit_to_range([48, 50, 52], 60, 72) == [60, 62, 64]
    assert fit_to_range([60, 80], 60, 72) == [60, 68]  # 80 folded down an octave


# --- adherence checks ------------------------------------------------------------------------


def test_tempo_check() -> None:
    assert tempo_check(119.0, 120)["ok"]  # 0.8 % off
    slow = tempo_check(60.5, 120)
    assert not slow["ok"] and slow["octave_ok"]  # half tempo, reported apart
    wrong = tempo_check(100.0, 120)
    assert not wrong["ok"] and not wrong["octave_ok"]
    assert not tempo_check(math.nan, 120)["ok"]


def test_key_match_and_duration() -> None:
    assert key_match((0, "major"), parse_key("C major")) == "exact"
    assert key_match((9, "minor"), parse_key("C major")) == "relative"
    assert key_match((0, "minor"), parse_key("C major")) == "wrong"  # parallel minor
    assert duration_ok(60.9, 60) and not duration_ok(61.3, 60)  # max(1 s, 2 % = 1.2 s)
    assert duration_ok(244.5, 240) and not duration_ok(245.0, 240)  # 2 % of 240 = 4.8 s
