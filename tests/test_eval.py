"""``overture eval`` end to end on two short prompts, and its errors.

The human melodies and the Markov baseline's training melodies are small synthetic sets here,
so that the test depends neither on the shipped corpus nor on the trained models.
"""

from __future__ import annotations

import json
import math
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from overture.errors import InvalidInputError
from overture.evaluate import report as report_mod
from overture.evaluate.audio import beat_tempo, estimate_key
from overture.evaluate.baselines import MarkovBaseline, Target, random_in_key, rng_for
from overture.evaluate.cli import eval_command
from overture.evaluate.metrics import MELODY_METRICS, Notes, melody_metrics
from overture.evaluate.mgeval import FEATURES
from overture.evaluate.prompts import load_prompts
from overture.score import Score
from overture.theory import MINOR_PROFILE

PROMPTS = {
    "about": "test prompts",
    "prompts": [
        {
            "id": "pop",
            "prompt": "upbeat pop song, 120 bpm, G major, 10 seconds",
            "expect": {"tempo": 120, "key": "G major", "duration": 10, "genre": "pop"},
        },
        {
            "id": "waltz",
            "prompt": "waltz in A minor, 100 bpm, 8 seconds",
            "expect": {"tempo": 100, "key": "A minor", "duration": 8, "time_signature": "3/4"},
        },
        {
            "id": "broken",
            "prompt": "a prompt whose generation fails (made to, in the test)",
            "expect": {"tempo": 90, "key": "D major", "duration": 20},
        },
        {"id": "never", "prompt": "not evaluated: --limit 3", "expect": {"duration": 30}},
    ],
}


@dataclass
class _Tune:
    pitches: tuple[int, ...]
    onsets: tuple[float, ...]
    durations: tuple[float, ...]
    tonic: int
    mode: str
    beats_per_bar: float = 4.0


def _tunes(n: int, seed: int) -> list[_Tune]:
    """Stepwise diatonic tunes in random keys: a stand-in for the folk corpus."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        tonic, mode = int(rng.integers(12)), ("minor" if i % 3 == 0 else "major")
        steps = (0, 2, 3, 5, 7, 8, 10) if mode == "minor" else (0, 2, 4, 5, 7, 9, 11)
        degree, pitches = 7, []
        durations = rng.choice([0.5, 1.0, 1.0, 2.0], int(rng.integers(24, 64))).tolist()
        for _ in durations:
            degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, 14))
            pitches.append(48 + tonic + 12 * (degree // 7) + steps[degree % 7])
        onsets = np.concatenate([[0.0], np.cumsum(durations)[:-1]]).tolist()
        out.append(_Tune(tuple(pitches), tuple(onsets), tuple(durations), tonic, mode))
    return out


HUMAN = [
    Notes.make(t.pitches, t.onsets, t.durations, tonic=t.tonic, mode=t.mode) for t in _tunes(50, 1)
]
MARKOV = MarkovBaseline.fit(_tunes(150, 2))


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory, small_soundfont: Path) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("eval")
    prompts = folder / "prompts.json"
    prompts.write_text(json.dumps(PROMPTS), encoding="utf-8")
    out = folder / "out"
    real = report_mod._evaluate_prompt

    def evaluate_prompt(p: Any, *args: Any, **kwargs: Any) -> Any:
        if p.id == "broken":
            raise RuntimeError("synth exploded")
        return real(p, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_mod, "load_human", lambda *a, **k: (list(HUMAN), None))
        mp.setattr(report_mod, "load_markov", lambda: (MARKOV, None))
        mp.setattr(report_mod, "_evaluate_prompt", evaluate_prompt)
        result = CliRunner().invoke(
            eval_command,
            [str(prompts), "--out", str(out), "--limit", "3", "--soundfont", str(small_soundfont)],
        )
    report = json.loads((out / "report.json").read_text()) if result.exit_code == 0 else None
    yield result, out, report


def test_eval_writes_tables_json_and_plots(evaluated: Any) -> None:
    result, out, report = evaluated
    assert result.exit_code == 0, result.output
    assert "tempo " in result.output and "MGEval OA" in result.output
    assert f"report: {out / 'report.md'}" in result.output
    assert [p["id"] for p in report["prompts"]] == ["pop", "waltz", "broken"]  # --limit 3
    assert set(report) >= {"run", "summary", "prompts", "melody_metrics", "mgeval", "frechet"}
    assert set(report["summary"]) >= {"tempo", "duration", "key", "time_signature", "frechet"}
    assert set(report["melody_metrics"]["table"]) == set(MELODY_METRICS)
    assert report["melody_metrics"]["sets"] == {
        "generated": 8,  # 2 prompts x 4 melodies
        "human": len(HUMAN),
        "random": 8,
        "markov": 8,
    }
    for name in ("generated", "random", "markov"):
        per_feature = report["mgeval"]["sets"][name]
        assert set(per_feature) == set(FEATURES)
        assert all(0.0 <= v["oa"] <= 1.0 and v["kld"] >= 0.0 for v in per_feature.values())
        assert report["frechet"][name] > 0.0
    md = (out / "report.md").read_text()
    for heading in ("## Targets", "## Adherence per prompt", "## Melody metrics", "## MGEval"):
        assert heading in md
    assert "| pop | upbeat pop song" in md and "| waltz |" in md
    assert len(report["plots"]) == 5
    for rel in report["plots"]:
        assert (out / rel).stat().st_size > 10_000
        assert f"]({rel})" in md


def test_eval_adherence_matches_the_files(evaluated: Any) -> None:
    import soundfile

    _, out, report = evaluated
    by_id = {p["id"]: p for p in report["prompts"] if p["id"] != "broken"}
    for pid, stated in (("pop", 10.0), ("waltz", 8.0)):
        checks = by_id[pid]["checks"]
        length = soundfile.info(str(out / "songs" / pid / "song.flac")).duration
        assert checks["duration"]["measured"] == pytest.approx(length)
        assert checks["duration"]["ok"] == (abs(length - stated) <= 1.0)
        tempo = checks["tempo"]
        assert tempo["estimate"] > 0
        assert tempo["ok"] == (abs(tempo["estimate"] / tempo["stated"] - 1) <= 0.02)
        assert checks["key"]["match"] in {"exact", "relative", "wrong"}
    waltz = by_id["waltz"]["checks"]
    assert waltz["time_signature"] == {"stated": "3/4", "score": "3/4", "ok": True}
    assert "time_signature" not in by_id["pop"]["checks"]  # not stated, not checked
    summary = report["summary"]
    assert summary["tempo"]["stated"] == 3 and summary["time_signature"]["stated"] == 1


def test_eval_records_a_failed_prompt_and_goes_on(evaluated: Any) -> None:
    _, out, report = evaluated
    broken = report["prompts"][2]
    assert broken["error"] == "RuntimeError: synth exploded"
    assert report["summary"]["errors"] == ["broken"]
    for kind in ("tempo", "key", "duration"):
        assert "broken" in report["summary"][kind]["failed"]
    md = (out / "report.md").read_text()
    assert "| broken |" in md and "error: RuntimeError: synth exploded" in md
    assert "**ERROR**" in md


def test_eval_baselines_differ_and_are_reproducible(evaluated: Any) -> None:
    _, out, report = evaluated
    for prompt in report["prompts"][:2]:
        rows = prompt["melodies"]
        assert len(rows) == 4
        for row in rows:
            assert row["random"] != row["generated"]
            assert row["markov"] != row["generated"]
            assert row["random"] != row["markov"]
        # The first melody is the rendered song's lead: rebuild both baselines from its score.
        data = json.loads((out / "songs" / prompt["id"] / "score.json").read_text())
        score = Score.from_dict(data)
        lead = Notes.from_score_notes(
            score.part("lead").notes,
            beats_per_bar=score.time_signature.beats_per_bar,
            tonic=score.key.tonic,
            mode=score.key.mode,
        )
        assert _nan_to_none(melody_metrics(lead)) == _metrics_only(rows[0]["generated"])
        target = Target.like(lead)
        again = {
            "random": random_in_key(target, rng_for("random", 0, prompt["id"], 0)),
            "markov": MARKOV.generate(target, rng_for("markov", 0, prompt["id"], 0)),
        }
        for name, notes in again.items():
            assert _nan_to_none(melody_metrics(notes)) == _metrics_only(rows[0][name])


def _nan_to_none(d: dict[str, float]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def _metrics_only(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k in MELODY_METRICS}


BAD_FILES = [
    (None, "prompt file not found"),
    ("{not json", "not valid JSON"),
    ('{"prompts": []}', "no prompts"),
    ('{"about": "x"}', "no 'prompts' list"),
    ('{"prompts": [{"id": "x"}]}', "has no prompt text"),
    ('{"prompts": [{"id": "x", "prompt": 5}]}', "has no prompt text"),
    ('{"prompts": [{"id": "x", "prompt": "hi", "expect": {"key": "H major"}}]}', "unknown key"),
    ('{"prompts": [{"id": "x", "prompt": "hi", "expect": {"tempo": -3}}]}', "positive number"),
    ('{"prompts": [{"id": "a/b", "prompt": "hi"}]}', "must be 1-64 letters"),
    ('{"prompts": [{"id": "a", "prompt": ""}, {"id": "a", "prompt": ""}]}', "duplicate id"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_eval_rejects_bad_prompt_files(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "prompts.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(eval_command, [str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "out").exists()
    with pytest.raises(InvalidInputError, match=message):
        report_mod.run_eval(path, tmp_path / "out2")


def test_eval_refuses_a_non_empty_out_dir(tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(PROMPTS), encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(eval_command, [str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_missing_corpus_is_skipped_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("melodies.npz is missing")

    fake = types.ModuleType("overture.learn.corpus")
    fake.load_melodies = missing  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "overture.learn.corpus", fake)
    monkeypatch.setitem(sys.modules, "overture.learn.melody_model", None)
    human, why = report_mod.load_human()
    assert human == [] and why is not None and "melodies.npz is missing" in why
    markov, why = report_mod.load_markov()
    assert markov is None and why is not None and "Markov baseline unavailable" in why


def test_beat_tempo_and_key_on_synthetic_audio() -> None:
    sr = 22050
    for bpm in (123.0, 87.0):
        y = np.zeros(sr * 20, np.float32)
        n = np.arange(400)
        click = np.sin(2 * np.pi * 1000 * n / sr) * np.exp(-n / 80)
        for k in range(int(20 * bpm / 60)):
            i = int(k * 60 / bpm * sr)
            y[i : i + 400] += click[: len(y) - i]
        assert beat_tempo(y, sr)[0] == pytest.approx(bpm, rel=0.01)
    # Every pitch class at the loudness the A-minor key profile gives it.
    t = np.arange(sr * 4) / sr
    weights = np.roll(np.array(MINOR_PROFILE), 9)
    tone = sum(
        w * np.sin(2 * np.pi * 440 * 2 ** ((pc - 9) / 12) * t) for pc, w in enumerate(weights)
    )
    assert estimate_key((tone / np.abs(tone).max()).astype(np.float32), sr) == (9, "minor")


def test_load_prompts_reads_expectations(tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    path.write_text(
        json.dumps(
            [
                {"prompt": "", "expect": {}},  # an empty prompt asks for the defaults: allowed
                {
                    "id": "jazz",
                    "prompt": "smooth jazz",
                    "expect": {"tempo": 110, "key": "B flat major", "time_signature": "3/4"},
                },
            ]
        ),
        encoding="utf-8",
    )
    about, prompts = load_prompts(path)
    assert about == ""
    assert [p.id for p in prompts] == ["p01", "jazz"]
    assert prompts[0].prompt == "" and prompts[0].expect.to_dict()["tempo"] is None
    expect = prompts[1].expect
    assert expect.tempo == 110.0 and expect.key is not None and expect.key.name == "Bb major"
    assert str(expect.time_signature) == "3/4" and expect.duration is None
