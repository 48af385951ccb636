"""The reasoning loop: budgets, drafts judged by the critics, retraction and re-planning, the
trace and `overture explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from overture.cli import main
from overture.errors import InvalidInputError
from overture.pipeline import generate
from overture.plan import PlanSection
from overture.think import (
    BAR,
    THINK_LEVELS,
    SectionChange,
    Thinker,
    Trace,
    choose_change,
    explain,
    load_trace,
    resolve_budget,
)
from overture.think.trace import KEPT, REJECTED, RETRACTED

PROMPT = "upbeat pop song, 120 bpm, G major"


def test_think_levels_name_budgets_and_bad_budgets_are_refused() -> None:
    assert THINK_LEVELS == {"none": 1, "low": 2, "medium": 4, "high": 8}
    assert resolve_budget() == (4, "medium")
    assert resolve_budget("HIGH") == (8, "high")
    assert resolve_budget("low", 3) == (3, None)  # --budget wins
    assert resolve_budget(None, 1) == (1, "none")
    for bad in (0, -2, 33):
        with pytest.raises(InvalidInputError, match="between 1 and 32"):
            resolve_budget(None, bad)
    with pytest.raises(InvalidInputError, match="none, low, medium, high"):
        resolve_budget("extreme")


def test_the_cli_refuses_a_bad_budget_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "song"
    res = CliRunner().invoke(main, ["generate", PROMPT, "--budget", "0", "--out", str(out)])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "--budget" in res.output
    assert not out.exists()


def test_changes_follow_the_weakest_critic_and_never_repeat() -> None:
    tried: list[SectionChange] = [SectionChange()]
    first = choose_change("likelihood", "too surprising: ...", tried)
    assert first.density < 1.0  # fewer, plainer notes
    assert choose_change("likelihood", "too predictable", tried).density > 1.0
    seen = set()
    for _ in range(8):
        c = choose_change("theory", "", tried)
        assert c not in tried
        tried.append(c)
        seen.add(c)
    assert len(seen) == 8


def _symbolic(budget: int, seed: int = 5, **kw: object):
    return generate(PROMPT, duration=40, seed=seed, budget=budget, **kw)


def test_every_section_gets_at_most_its_budget_and_one_draft_is_kept() -> None:
    for budget in (1, 2, 4):
        song = _symbolic(budget)
        trace = song.trace
        assert trace is not None and trace.budget == budget
        by_section: dict[str, list] = {}
        for d in trace.drafts:
            by_section.setdefault(d.section, []).append(d)
        assert by_section, "no section was drafted"
        for sid, drafts in by_section.items():
            normal = [
                d for d in drafts if "over budget" not in d.reason and "redrafted" not in d.reason
            ]
            assert len(normal) <= budget, sid
            assert sum(d.status == KEPT for d in drafts) == 1, sid  # withdrawn ones: retracted
            assert [d.attempt for d in drafts] == list(range(1, len(drafts) + 1))
            for d in drafts:
                assert set(d.critics) == {"theory", "likelihood", "structure"}
                assert 0.0 <= d.combined <= 1.0
                assert d.status in {KEPT, REJECTED, RETRACTED} and d.reason
            kept = next(d for d in drafts if d.status == KEPT)
            # Kept: the best draft that is original and (a verse) sets off its chorus.
            original = [d for d in drafts if "corpus" not in d.reason]
            usable = [d for d in original if "sets off" not in d.reason]
            assert kept.combined == max(d.combined for d in usable or original)


def test_a_draft_planted_below_the_bar_is_retracted_and_the_section_replanned() -> None:
    song = generate(PROMPT, duration=40, seed=5, budget=4)
    target = next(d.section for d in song.trace.drafts)

    def plant(s: PlanSection, attempt: int) -> float | None:
        # Round 1 of the first section scores far under the bar; later drafts score well.
        if s.id == target:
            return 0.1 if attempt <= 2 else 0.6 + 0.01 * attempt
        return None

    from overture.compose import compose

    trace = Trace(budget=4, think="medium", bar=BAR)
    compose(song.plan, thinker=Thinker(4, trace, plant=plant))
    drafts = trace.section_drafts(target)
    assert [d.status for d in drafts[:2]] == [RETRACTED, RETRACTED]
    assert all("under the bar" in d.reason and "re-planned" in d.reason for d in drafts[:2])
    assert drafts[0].change is None and drafts[2].change  # round 2 drafts under a changed plan
    assert drafts[2].round == 2
    assert any(d.status == KEPT for d in drafts[2:])
    text = explain(trace.to_dict())
    assert "retracted" in text and "plan change" in text and target in text


def test_same_seed_and_budget_give_the_same_song_and_trace() -> None:
    a, b = _symbolic(4, seed=11), _symbolic(4, seed=11)
    assert a.score.to_json() == b.score.to_json()
    assert a.trace.to_dict() == b.trace.to_dict()
    assert a.critique == b.critique
    c = _symbolic(1, seed=11)
    assert c.score.to_json() != a.score.to_json()  # the budget changes what is kept


def test_song_folder_has_the_trace_and_the_critique(tmp_path: Path, small_soundfont: Path) -> None:
    steps: list[str] = []
    song = generate(
        PROMPT,
        duration=12,
        seed=2,
        think="low",
        out=tmp_path / "song",
        soundfont=small_soundfont,
        progress=lambda stage, f: steps.append(stage),
    )
    assert any(s.startswith("drafting ") and "candidate" in s for s in steps)
    meta = json.loads((tmp_path / "song" / "song.json").read_text())
    crit = meta["critique"]
    assert 0.0 <= crit["score"] <= 1.0
    assert set(crit["critics"]) == {"theory", "likelihood", "structure", "adherence", "mix"}
    for c in crit["critics"].values():
        assert {"score", "weight", "z", "contribution"} <= set(c)
    assert meta["spec"]["thinking"] == {"budget": 2, "level": "low"}
    trace = load_trace(tmp_path / "song")
    assert trace["budget"] == 2 and trace["drafts"] and trace["final"]["score"] == crit["score"]
    assert {a["critic"] for a in trace["audio"]} == {"adherence", "mix"}
    assert song.critique["score"] == crit["score"]

    res = CliRunner().invoke(main, ["explain", str(tmp_path / "song")])
    assert res.exit_code == 0
    assert "Thinking budget: 2 drafts per section (low)" in res.output
    assert "Answer: combined score" in res.output
    res = CliRunner().invoke(main, ["explain", str(tmp_path)])
    assert res.exit_code == 2 and "no trace.json" in res.output
