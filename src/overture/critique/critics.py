"""The three entry points the reasoning loop calls: a drafted section, a whole score, a
rendered song. Each returns ``{critic name: Verdict}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from overture.critique.audio import adherence, analyse, mix_critic
from overture.critique.context import section_context
from overture.critique.likelihood import score_likelihood, section_likelihood
from overture.critique.structure import score_structure, section_structure
from overture.critique.theory import score_theory, section_theory
from overture.critique.verdict import Verdict
from overture.plan import Plan, PlanSection
from overture.score import Note, Score

if TYPE_CHECKING:
    from overture.compose.melody import Draft, MelodyWriter
    from overture.render.song import RenderResult


def critique_section(
    plan: Plan,
    section: PlanSection,
    notes: list[Note],
    *,
    writer: MelodyWriter | None = None,
    previous: Mapping[str, list[Note]] | None = None,
    judged: Draft | None = None,
) -> dict[str, Verdict]:
    """Theory, likelihood and structure of one drafted lead section.

    ``notes`` are relative to the section's start, as ``MelodyWriter.draft_section`` returns
    them; ``previous`` holds the lead already chosen for earlier sections, by section id (a
    chorus is compared with its earlier copy, a verse with the chorus before it). The melody
    model's information content is most of the cost: pass ``judged`` (the writer's
    ``judge(notes)``) when the loop has it, or a ``writer`` whose ``drafts`` hold it.
    """
    return {
        "theory": section_theory(section_context(plan, section), notes),
        "likelihood": section_likelihood(plan, section, notes, writer=writer, judged=judged),
        "structure": section_structure(plan, section, notes, previous),
    }


def critique_score(plan: Plan, score: Score) -> dict[str, Verdict]:
    """Theory (lead, outer-voice parallels, range), likelihood of the whole lead, and
    structure (chorus identity, motifs, contrast, phrase lengths, energy curve)."""
    return {
        "theory": score_theory(plan, score),
        "likelihood": score_likelihood(plan, score),
        "structure": score_structure(plan, score),
    }


GIVEN_LEAD = "the lead is the given melody (the user's, not the engine's)"


def uncounted(plan: Plan) -> dict[str, str]:
    """The critics left out of a song's combined score, each with why.

    A given melody (``--melody``, or a demo that ``arrange`` transcribed) is the lead as the
    user wrote or sang it. The likelihood and structure critics judge that line (its surprise,
    its phrases and motifs), which says nothing of what the engine made around it: counting
    them would mark the arrangement down for the user's own tune. They are still reported.
    """
    if plan.spec.melody is None:
        return {}
    return {"likelihood": GIVEN_LEAD, "structure": GIVEN_LEAD}


def critique_audio(plan: Plan, score: Score, render: RenderResult) -> dict[str, Verdict]:
    """Adherence of the rendered song to its plan, and the quality of its mix."""
    analysis = analyse(score, render)  # measured once for both critics
    return {
        "adherence": adherence(plan, score, render, analysis),
        "mix": mix_critic(plan, score, render, analysis),
    }
