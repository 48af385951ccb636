"""The learned models: corpus extraction, training, the shipped artifacts and their use."""

from __future__ import annotations

import itertools
import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from overture.learn import MODELS_DIR
from overture.learn.cli import train_command
from overture.learn.corpus import (
    SOURCES,
    ChoraleHarmony,
    Corpus,
    Melody,
    chord_quality,
    load_melodies,
    parse_abc_key,
    roman_token,
    save_melodies,
    split_of,
)
from overture.learn.harmony_model import HarmonyModel
from overture.learn.melody_model import MelodyModel
from overture.learn.originality import OriginalityIndex, longest_match
from overture.learn.train import train, train_from_corpus
from overture.theory import chord_from_roman, parse_key

ARTIFACTS = ("melodies.npz", "melody_model.npz", "harmony_model.json.gz", "manifest.json")


# --------------------------------------------------------------------------------------------
# Training on a small slice


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """Two trainings on the same 40-piece slice, one in-process and one on two workers."""
    a = tmp_path_factory.mktemp("train_a")
    b = tmp_path_factory.mktemp("train_b")
    manifest = train(a, limit=40, workers=1)
    train(b, limit=40, workers=2)
    return a, b, manifest


def test_small_training_writes_every_artifact(small_runs: tuple[Path, Path, dict]) -> None:
    out, _, manifest = small_runs
    for name in ARTIFACTS:
        assert (out / name).stat().st_size > 0, name
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["seed"] == 0
    corpus = on_disk["corpus"]
    assert corpus["pieces_parsed"] == 40
    assert corpus["melodies"] == corpus["split"]["train"] + corpus["split"]["heldout"] >= 30
    # The slice is spread over the sources, chorales (and their harmony) included.
    assert sum(1 for c in corpus["per_source"].values() if c["train"] + c["heldout"]) >= 6
    assert corpus["chorale_harmonies"]["train"] >= 3
    orders = on_disk["heldout"]["melody"]["ltm_by_order"]
    assert list(orders) == [str(k) for k in range(6)]
    assert "timings" in manifest and "timings" not in on_disk  # no clock in the file


def test_training_is_deterministic(small_runs: tuple[Path, Path, dict]) -> None:
    a, b, _ = small_runs
    for name in ARTIFACTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_small_training_split_is_disjoint(small_runs: tuple[Path, Path, dict]) -> None:
    out, _, manifest = small_runs
    path = out / "melodies.npz"
    train_ids = {m.id for m in load_melodies("train", path=path)}
    held_ids = {m.id for m in load_melodies("heldout", path=path)}
    assert train_ids and held_ids and not train_ids & held_ids
    assert all(split_of(i) == "heldout" for i in held_ids)
    assert manifest["models"]["melody"]["trained_on"] == len(train_ids)


def test_heldout_melodies_never_reach_the_models(tmp_path: Path) -> None:
    """Held-out pieces carry a signature (a run of +11 leaps, a made-up chord) that no training
    piece has; after training neither model has ever seen it."""
    ids = [f"toy/file.abc:{i}" for i in range(200)]
    held = [i for i in ids if split_of(i) == "heldout"][:3]
    kept = [i for i in ids if split_of(i) == "train"][:12]
    assert len(held) == 3

    def melody(mid: str, pitches: list[int]) -> Melody:
        n = len(pitches)
        return Melody(
            mid,
            "essen",
            tuple(pitches),
            tuple(float(i) for i in range(n)),
            (1.0,) * n,
            0,
            "major",
            "4/4",
            4.0,
        )

    melodies = [melody(i, [60, 62, 64, 65, 67, 65, 64, 62, 60, 62]) for i in kept]
    melodies += [melody(i, [48, 59, 70, 81, 70, 59, 48, 59, 70, 81]) for i in held]
    chorales = [ChoraleHarmony(i, 0, "major", (("I", "IV", "V", "I"),) * 30) for i in kept]
    chorales += [ChoraleHarmony(i, 0, "major", (("I", "bVII", "I"),) * 30) for i in held]
    corpus = Corpus(melodies, chorales, len(ids), 0, 0, 0.0)
    manifest = train_from_corpus(corpus, tmp_path, workers=1)
    model = MelodyModel.from_file(tmp_path / "melody_model.npz")
    interval_counts = model.tables["int"].orders[0]
    plus_11 = 12 + 11
    assert plus_11 not in interval_counts.sym.tolist()
    assert int(interval_counts.tot[0]) == sum(len(m.pitches) - 1 for m in melodies[: len(kept)])
    harmony = HarmonyModel.from_file(tmp_path / "harmony_model.json.gz")
    assert "bVII" not in harmony.vocab["major"]
    assert manifest["corpus"]["split"] == {"train": len(kept), "heldout": len(held)}
    # ... but the shipped melodies (and so the originality index) hold every piece.
    assert {m.id for m in load_melodies("all", path=tmp_path / "melodies.npz")} == set(kept + held)


def test_cli_trains_a_slice_and_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        train_command, ["--out", str(tmp_path), "--limit", "10", "--workers", "1", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "held-out melody cross-entropy" in result.output
    assert (tmp_path / "manifest.json").exists()


def test_cli_reports_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(train_command, ["--out", str(blocker / "models"), "--quiet"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")


# --------------------------------------------------------------------------------------------
# Corpus helpers


def test_abc_keys_and_chord_spelling() -> None:
    assert parse_abc_key("G") == (7, None)
    assert parse_abc_key("A Dorian") == (9, "minor")
    assert parse_abc_key("Dmix") == (2, "major")
    assert parse_abc_key(" Em") == (4, "minor")
    assert parse_abc_key("F#m") == (6, "minor")
    assert parse_abc_key("HP") is None
    assert chord_quality(7, [7, 11, 2, 5]) == "dom7"
    assert chord_quality(2, [2, 5, 9]) == "minor"
    assert chord_quality(11, [11, 2, 5, 8]) == "dim7"
    assert chord_quality(0, [0, 7]) is None


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_every_roman_token_parses_to_the_chord_it_names(mode: str) -> None:
    key = parse_key(f"C {mode}")
    qualities = ["major", "minor", "diminished", "augmented", "dom7", "maj7", "min7", "hdim7"]
    expected_root_quality = {
        "major": "",
        "minor": "m",
        "diminished": "dim",
        "augmented": "aug",
        "dom7": "7",
        "maj7": "",
        "min7": "m7",
        "hdim7": "m7b5",
    }
    for interval in range(12):
        for quality in [*qualities, "dim7"]:
            token = roman_token(interval, quality, mode)
            if token is None:
                continue
            chord = chord_from_roman(token, key)
            if quality == "dim7" or (quality == "diminished" and chord.quality == "7"):
                # a rootless dominant: the seventh chord a major third below
                assert (chord.root, chord.quality) == ((interval - 4) % 12, "7"), token
            else:
                assert chord.root == interval, token
                assert chord.quality == expected_root_quality[quality], token
    assert roman_token(7, "major", "major") == "V"
    assert roman_token(11, "diminished", "major") == "vii°"
    assert roman_token(10, "major", "major") == "bVII"
    assert roman_token(11, "diminished", "minor") == "V7"  # leading-tone triad in minor


# --------------------------------------------------------------------------------------------
# The shipped melodies


def test_shipped_melodies_are_well_formed() -> None:
    melodies = load_melodies("all")
    assert len(melodies) > 10_000
    assert len({m.id for m in melodies}) == len(melodies)
    by_source = {s: 0 for s in SOURCES}
    for m in melodies[::7]:
        by_source[m.source] += 1
        n = len(m.pitches)
        assert n >= 8 and len(m.onsets) == n and len(m.durations) == n
        assert all(0 <= p <= 127 for p in m.pitches)
        assert all(b > a for a, b in itertools.pairwise(m.onsets))
        assert all(d > 0 for d in m.durations)
        assert m.mode in {"major", "minor"} and 0 <= m.tonic < 12 and m.beats_per_bar > 0
        assert not m.chords or len(m.chords) == n
    for source in ("essen", "oneills", "ryans", "airds", "bach"):
        assert by_source[source] > 0, source
    # The chorale sopranos carry the chords sounding under them.
    assert all(m.chords for m in load_melodies("all", source="bach"))


def test_shipped_split_matches_split_of() -> None:
    train_ids = {m.id for m in load_melodies("train")}
    held = load_melodies("heldout")
    assert not train_ids & {m.id for m in held}
    assert all(split_of(m.id) == "heldout" for m in held)
    assert 0.07 < len(held) / (len(held) + len(train_ids)) < 0.13
    assert load_melodies("train") is not load_melodies("train")  # callers get their own list
    with pytest.raises(ValueError):
        load_melodies("test")


def test_shipped_essen_key_is_the_written_tonic() -> None:
    """Essen tunes (K: is the tonic) mostly end on their tonic."""
    essen = load_melodies("all", source="essen")
    ending = sum(m.pitches[-1] % 12 == m.tonic for m in essen) / len(essen)
    assert ending > 0.7


# --------------------------------------------------------------------------------------------
# The melody model


def test_probabilities_sum_to_one() -> None:
    model = MelodyModel.load()
    rng = random.Random(4)
    cands = list(range(55, 86))
    for n in (0, 1, 5, 40):
        pitches = [rng.randint(60, 76) for _ in range(n)]
        durations = [rng.choice([0.5, 1.0, 1.5]) for _ in range(n)]
        for kwargs in ({}, {"chord_root": 7}, {"max_order": 0}, {"max_order": 1}):
            p = model.pitch_distribution(
                pitches, durations, tonic=2, mode="minor", candidates=cands, **kwargs
            )
            assert p.shape == (len(cands),)
            assert np.all(p > 0) and abs(p.sum() - 1) < 1e-9
        d = model.duration_distribution(durations, candidates=[0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
        assert d.shape == (6,) and np.all(d > 0) and abs(d.sum() - 1) < 1e-9


def test_model_learns_a_repetitive_toy_corpus() -> None:
    motif = [60, 62, 64, 65, 67, 65, 64, 62]
    rhythm = [1.0, 0.5, 0.5, 1.0, 2.0, 0.5, 0.5, 1.0]
    toys = [
        Melody(
            f"toy:{i}",
            "essen",
            tuple(motif * 4),
            tuple(float(k) for k in range(32)),
            tuple(rhythm * 4),
            0,
            "major",
            "4/4",
            4.0,
        )
        for i in range(20)
    ]
    model = MelodyModel.train(toys)
    cands = list(range(55, 80))
    p = model.pitch_distribution(
        [60, 62, 64, 65],
        [1.0, 0.5, 0.5, 1.0],
        tonic=0,
        mode="major",
        candidates=cands,
        short_term=False,
    )
    assert cands[int(np.argmax(p))] == 67
    assert p[cands.index(67)] > 0.8
    d = model.duration_distribution(
        [1.0, 0.5, 0.5, 1.0], candidates=[0.5, 1.0, 2.0], short_term=False
    )
    assert d[2] > 0.8
    pitches, durations = model.generate(16, tonic=0, mode="major", rng=random.Random(1), low=55)
    assert len(pitches) == len(durations) == 16
    # The motif again (in some octave, from some point of its cycle), note for note.
    steps = {(a % 12, b - a) for a, b in itertools.pairwise([*motif, motif[0]])}
    assert all((a % 12, b - a) in steps for a, b in itertools.pairwise(pitches))


def test_information_content_is_lower_for_corpus_like_melodies() -> None:
    model = MelodyModel.load()
    rng = random.Random(7)
    held = [m for m in load_melodies("heldout", source="essen")][:15]
    for m in held:
        real = model.information_content(m.pitches, m.durations, tonic=m.tonic, mode=m.mode)
        noise_p = [rng.randint(min(m.pitches), max(m.pitches) + 1) for _ in m.pitches]
        noise_d = [rng.choice([0.25, 0.75, 1.0, 1.5, 3.0]) for _ in m.durations]
        noise = model.information_content(noise_p, noise_d, tonic=m.tonic, mode=m.mode)
        assert real.shape == noise.shape == (len(m.pitches),)
        assert real.mean() < noise.mean()
    pitch_only = model.information_content(
        held[0].pitches, held[0].durations, tonic=held[0].tonic, mode=held[0].mode, part="pitch"
    )
    assert np.all(pitch_only >= 0)


def test_higher_orders_predict_heldout_melodies_better() -> None:
    model = MelodyModel.load()
    held = load_melodies("heldout")[::60]
    rows = [model.score(m.pitches, m.durations, tonic=m.tonic, mode=m.mode) for m in held]
    pitch = np.concatenate([r["ltm_pitch"] for r in rows], axis=1).mean(axis=1)
    duration = np.concatenate([r["ltm_duration"] for r in rows], axis=1).mean(axis=1)
    full = np.concatenate([r["pitch"] for r in rows]).mean()
    assert pitch[3] < pitch[1] < pitch[0]
    assert duration[3] < duration[1] < duration[0]
    assert full < pitch[-1]  # the short-term model helps
    manifest = json.loads((MODELS_DIR / "manifest.json").read_text())
    by_order = manifest["heldout"]["melody"]["ltm_by_order"]
    assert by_order["4"]["pitch"] < by_order["1"]["pitch"] < by_order["0"]["pitch"]


def test_first_order_generation_is_a_baseline() -> None:
    model = MelodyModel.load()
    a = model.generate(64, tonic=7, mode="major", rng=random.Random(3), max_order=1)
    b = model.generate(64, tonic=7, mode="major", rng=random.Random(3), max_order=1)
    assert a == b
    pitches, durations = a
    assert all(60 <= p <= 84 for p in pitches) and all(d > 0 for d in durations)


def test_shipped_models_load_once() -> None:
    assert MelodyModel.load() is MelodyModel.load()
    assert HarmonyModel.load() is HarmonyModel.load()
    assert MelodyModel.load().version and HarmonyModel.load().version


# --------------------------------------------------------------------------------------------
# The harmony model


def test_harmony_prefers_cadential_moves() -> None:
    model = HarmonyModel.load()
    after_v = model.next_distribution(["V"], "major")
    assert abs(sum(after_v.values()) - 1) < 1e-9
    assert after_v["I"] > 0.3
    assert after_v["I"] > after_v["ii"] and after_v["I"] > after_v["iii"]
    assert after_v["V"] == 0  # chord changes only
    after_v_minor = model.next_distribution(["V"], "minor")
    assert max(after_v_minor, key=after_v_minor.get) == "i"
    assert model.log_prob(["I", "IV", "V", "I"], "major") > model.log_prob(
        ["I", "iii", "vi", "vii°"], "major"
    )


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_harmony_samples_parse(mode: str) -> None:
    model = HarmonyModel.load()
    key = parse_key(f"D {mode}")
    tonic = "I" if mode == "major" else "i"
    rng = random.Random(5)
    for length in (1, 3, 4, 8):
        chords = model.sample(length, mode, rng, start=tonic, end=tonic if length > 1 else None)
        assert len(chords) == length and chords[0] == tonic
        if length > 1:
            assert chords[-1] == tonic
        assert all(a != b for a, b in itertools.pairwise(chords))
        for token in chords:
            chord_from_roman(token, key)
    for token in model.vocab[mode]:
        chord_from_roman(token, key)


# --------------------------------------------------------------------------------------------
# Originality


def _steps(pitches, durations) -> list[tuple[int, Fraction]]:
    fr = [Fraction(d).limit_denominator(10_000) for d in durations]
    return [(pitches[i] - pitches[i - 1], fr[i] / fr[i - 1]) for i in range(1, len(pitches))]


def _brute_longest(query: tuple[list[int], list[float]], melodies: list[Melody]) -> int:
    q = _steps(*query)
    best = 0
    for m in melodies:
        c = _steps(m.pitches, m.durations)
        for i in range(len(q)):
            for j in range(len(c)):
                n = 0
                while i + n < len(q) and j + n < len(c) and q[i + n] == c[j + n]:
                    n += 1
                best = max(best, n)
    return best + 1


def test_longest_match_is_exact_on_a_small_corpus(tmp_path: Path) -> None:
    rng = random.Random(11)
    melodies = []
    for i in range(30):
        n = rng.randint(8, 40)
        melodies.append(
            Melody(
                f"toy/{i}.abc:0",
                "essen",
                tuple(rng.randint(60, 66) for _ in range(n)),
                tuple(float(k) for k in range(n)),
                tuple(rng.choice([0.5, 1.0]) for _ in range(n)),
                0,
                "major",
                "4/4",
                4.0,
            )
        )
    path = tmp_path / "melodies.npz"
    save_melodies(path, melodies)
    index = OriginalityIndex(path)
    for _ in range(25):
        n = rng.randint(2, 30)
        query = (
            [rng.randint(60, 66) for _ in range(n)],
            [rng.choice([1.0, 2.0]) for _ in range(n)],
        )
        assert index.longest_match(*query).notes == _brute_longest(query, melodies)


def test_longest_match_finds_a_copied_run() -> None:
    melodies = load_melodies("heldout")
    source = next(m for m in melodies if len(m.pitches) >= 40 and m.source == "oneills")
    rng = random.Random(2)
    noise_p = [rng.randint(50, 90) for _ in range(60)]
    noise_d = [rng.choice([0.3, 0.7, 1.1, 2.9]) for _ in range(60)]
    start, length = 10, 16
    copy_p = [p + 5 for p in source.pitches[start : start + length]]  # transposed
    copy_d = [d * 2 for d in source.durations[start : start + length]]  # augmented
    pitches, durations = noise_p[:30] + copy_p + noise_p[30:], noise_d[:30] + copy_d + noise_d[30:]
    match = longest_match(pitches, durations)
    assert match.notes >= length
    assert match.query_offset <= 30 and match.query_offset + match.notes >= 30 + length
    # The run found really is in the piece named (which may be a duplicate of the source).
    piece = next(m for m in load_melodies("all") if m.id == match.piece)
    got = _steps(
        piece.pitches[match.offset : match.offset + match.notes],
        piece.durations[match.offset : match.offset + match.notes],
    )
    mine = _steps(
        pitches[match.query_offset : match.query_offset + match.notes],
        durations[match.query_offset : match.query_offset + match.notes],
    )
    assert got == mine


def test_random_melodies_share_only_short_runs() -> None:
    rng = random.Random(9)
    pitches = [rng.randint(48, 84) for _ in range(200)]
    durations = [rng.choice([0.25, 0.5, 0.75, 1.0, 1.5, 2.0]) for _ in range(200)]
    match = longest_match(pitches, durations)
    assert 1 <= match.notes < 8
    assert longest_match([], []).notes == 0
    assert longest_match([60], [1.0]).notes == 1
