"""Draft, critique, keep the best, retract and re-plan: the composer's reasoning loop.

For every section whose melody is written (a chorus is written once and returns as itself),
the loop spends at most ``budget`` drafts, candidates and retries together:

1. A first round of ``ceil(budget / 2)`` candidates is drafted under the plan as it stands,
   each judged by the section critics (theory, likelihood, structure; ``overture.critique``)
   and their standardised combination.
2. If the best of the round scores under the bar, the round is *retracted*: the plan for
   that section changes (its register, its rhythmic density or its contour, chosen from the
   weakest critic) and a new round is drafted with what is left of the budget.
3. The best draft over all rounds is kept; the trace records every draft with its critics,
   its status (kept, rejected, retracted) and the reason.

Originality is a guarantee, not a preference: a draft sharing a run of
``ORIGINALITY_LIMIT`` notes with a corpus tune is never kept; if every draft of the budget
does, more are drafted until one does not (marked in the trace as over budget). A verse that
does not set off its chorus (as high, or as busy) is kept only when no draft does, after up to
``EXTRA_DRAFTS`` more.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from overture.critique import Verdict, combine, critique_section
from overture.score import Note
from overture.think.trace import KEPT, REJECTED, RETRACTED, DraftEntry, Trace

if TYPE_CHECKING:
    from overture.compose.melody import Draft
    from overture.learn.melody_model import MelodyModel
    from overture.plan import Plan, PlanSection

THINK_LEVELS: dict[str, int] = {"none": 1, "low": 2, "medium": 4, "high": 8}
DEFAULT_THINK = "medium"
MAX_BUDGET = 32
BAR = 0.4  # the combination maps an ordinary draft to 0.5; under 0.4 is clearly weak
EXTRA_DRAFTS = 4  # drafts past the budget looking for a verse that sets off its chorus
MAX_OVER_BUDGET = 24  # drafts past the budget looking for an original one, at most
_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}

Step = Callable[[str], None]  # reports the current step ("drafting chorus1, 3rd candidate")


@dataclass(frozen=True, slots=True)
class SectionChange:
    """A change to the plan of one section, made when its drafts are retracted."""

    register: int = 0  # scale steps the section's register moves (+ up, - down)
    density: float = 1.0  # factor on the section's rhythmic density
    invert: bool = False  # the section's motif contour turned upside down

    def describe(self) -> str:
        parts = []
        if self.register:
            way = "up" if self.register > 0 else "down"
            parts.append(f"register {way} {abs(self.register)} steps")
        if self.density != 1.0:
            parts.append(f"rhythm {'denser' if self.density > 1 else 'sparer'} x{self.density:g}")
        if self.invert:
            parts.append("contour inverted")
        return ", ".join(parts) or "plan as is"


class Drafter(Protocol):
    """What the loop drafts with: the lead's :class:`MelodyWriter`, or the lyric setter's
    drafter (:class:`overture.compose.setting.SettingDrafter`) for a sung line."""

    plan: Plan
    seed: int
    model: MelodyModel
    drafts: dict[str, list[Draft]]

    def draft_rng(self, s: PlanSection, attempt: int, salt: int = 0) -> random.Random: ...

    def draft_section(self, s: PlanSection, rng: random.Random) -> list[Note]: ...

    def judge(self, notes: list[Note]) -> Draft: ...

    def contrast_fault(self, s: PlanSection, notes: Sequence[Note]) -> str | None: ...

    def changed(self, change: SectionChange, tag: str) -> contextlib.AbstractContextManager[None]:
        """Drafting under ``change`` (register, density, contour), restored afterwards."""
        ...


def ordinal(n: int) -> str:
    return _ORDINALS.get(n, f"{n}th")


def choose_change(weakest: str, detail: str, tried: list[SectionChange]) -> SectionChange:
    """The next plan change for a section whose drafts were retracted, led by what the
    weakest critic complained of, never one already tried."""
    by_critic = {
        # Out-of-range lines and unresolved leaps: move the line to the middle, simplify it.
        "theory": [SectionChange(register=-2), SectionChange(density=0.75), SectionChange(2)],
        # Too surprising: fewer, plainer notes; too predictable: more movement.
        "likelihood": (
            [SectionChange(density=0.75), SectionChange(invert=True)]
            if "surprising" in detail
            else [SectionChange(density=1.3), SectionChange(invert=True)]
        ),
        # Too like (or unlike) what came before: another register and shape.
        "structure": [
            SectionChange(register=2),
            SectionChange(invert=True),
            SectionChange(density=1.3),
        ],
    }
    order = [
        *by_critic.get(weakest, []),
        SectionChange(register=-2),
        SectionChange(density=0.75),
        SectionChange(invert=True),
        SectionChange(register=2),
        SectionChange(density=1.3),
        SectionChange(register=-1, density=0.85, invert=True),
    ]
    grid = [
        SectionChange(register=r, density=d, invert=i)
        for r in (-1, 1, -3, 3)
        for d in (1.0, 0.75, 1.3)
        for i in (False, True)
    ]
    for change in [*order, *grid]:
        if change not in tried:
            return change
    return SectionChange(register=len(tried))  # a budget of 32 never gets here


@dataclass(slots=True)
class _Judged:
    entry: DraftEntry
    notes: list[Note]
    original: bool
    verdicts: dict[str, Verdict]
    fits: bool = True  # original, and (a verse) sets off its chorus


class Thinker:
    """Runs the loop for every section of one song and keeps its trace."""

    def __init__(
        self,
        budget: int,
        trace: Trace,
        *,
        bar: float = BAR,
        step: Step | None = None,
        plant: Callable[[PlanSection, int], float | None] | None = None,
    ) -> None:
        if budget < 1:
            raise ValueError("the thinking budget is at least one draft per section")
        self.budget = budget
        self.trace = trace
        self.bar = bar
        self.step = step
        # Tests plant a score on a draft (section, attempt) -> combined score, to force the
        # loop down a path (a retraction) without depending on what the composer happens to
        # write; ``None`` leaves the critics' score.
        self.plant = plant
        self.chosen: dict[str, list[Note]] = {}  # lead kept per section id, for the critics

    def section(
        self, writer: Drafter, s: PlanSection, *, salt: int = 0, why: str | None = None
    ) -> list[Note]:
        """The kept draft of ``s`` (notes relative to its start). A section drafted again
        says ``why`` in the trace (by default: the assembled lead shared a corpus run here)."""
        from overture.compose.melody import ORIGINALITY_LIMIT

        judged: list[_Judged] = []
        tried: list[SectionChange] = []
        change = SectionChange()
        round_no, in_round = 1, 0
        round_size = max(1, math.ceil(self.budget / 2)) if self.budget > 1 else 1
        earlier = self.trace.section_drafts(s.id)
        if earlier:  # drafted again: the whole lead shared a run with a corpus tune here
            for d in earlier:
                if d.status == KEPT:
                    d.status = RETRACTED
                    d.reason = (
                        "withdrawn after assembly: "
                        + (
                            why
                            or f"the lead shares a run of {ORIGINALITY_LIMIT}+ notes with a corpus "
                            "tune across this section"
                        )
                        + "; drafted again"
                    )
            round_no = max(d.round for d in earlier) + 1
        first = len(earlier)  # attempts are numbered over the section's whole trace
        attempt = 0
        while True:
            attempt += 1
            over_budget = attempt > self.budget
            if self.step is not None:
                what = "extra draft" if over_budget else f"{ordinal(in_round + 1)} candidate"
                self.step(f"drafting {s.id}, {what}")
            rng = writer.draft_rng(s, attempt, salt)
            with writer.changed(change, f"{writer.seed}:{s.id}:{round_no}"):
                notes = writer.draft_section(s, rng)
            draft = writer.judge(notes)
            verdicts = critique_section(
                writer.plan, s, notes, writer=writer, previous=self.chosen, judged=draft
            )
            comb = combine(verdicts)
            score = comb.score
            planted = self.plant(s, attempt) if self.plant is not None else None
            if planted is not None:
                score = planted
            original = draft.longest_match < ORIGINALITY_LIMIT
            clash = writer.contrast_fault(s, notes)
            entry = DraftEntry(
                section=s.id,
                attempt=first + attempt,
                round=round_no,
                change=None if change == SectionChange() else change.describe(),
                critics={k: round(v.score, 4) for k, v in verdicts.items()},
                contributions={
                    k: round(c["contribution"], 4) for k, c in comb.contributions.items()
                },
                combined=round(score, 4),
                notes=len(notes),
            )
            if not original:
                entry.reason = f"shares {draft.longest_match} notes with a corpus tune"
            elif clash:
                entry.reason = f"{clash}: a verse sets off its chorus"
            if over_budget:
                entry.reason = "; ".join(x for x in (entry.reason, "drafted over budget") if x)
            if earlier:
                entry.reason = "; ".join(
                    x for x in ("redrafted for originality", entry.reason) if x
                )
            judged.append(_Judged(entry, notes, original, verdicts, original and not clash))
            self.trace.drafts.append(entry)
            self._say(
                f"{s.id} draft {entry.attempt}: {score:.2f}"
                + (f" ({entry.reason})" if entry.reason else "")
            )
            in_round += 1
            if attempt >= self.budget:
                # The budget is spent: draft on while no draft is original, or (a little
                # longer) while none sets off the chorus.
                if any(j.fits for j in judged):
                    break
                if any(j.original for j in judged) and attempt >= self.budget + EXTRA_DRAFTS:
                    break
                if attempt >= self.budget + MAX_OVER_BUDGET:
                    break  # no original draft at all: the caller decides (a fresh salt)
                continue
            if in_round < round_size:
                continue
            best_round = max(
                (j for j in judged if j.entry.round == round_no and j.fits),
                key=lambda j: j.entry.combined,
                default=None,
            )
            if best_round is not None and best_round.entry.combined >= self.bar:
                break
            # Retract the round: change the plan of this section, draft again.
            weakest, detail = _weakest(best_round)
            tried.append(change)
            change = choose_change(weakest, detail, tried)
            why = (
                f"best of round {round_no} scored {best_round.entry.combined:.2f}, "
                f"under the bar {self.bar:.2f}"
                if best_round is not None
                else f"no usable draft in round {round_no}"
            )
            for j in judged:
                if j.entry.round == round_no:
                    j.entry.status = RETRACTED
                    j.entry.reason = "; ".join(
                        x
                        for x in (
                            j.entry.reason,
                            f"{why}; weakest critic {weakest}"
                            + (f" ({detail})" if detail else "")
                            + f"; re-planned: {change.describe()}",
                        )
                        if x
                    )
            self._say(
                f"retracted {s.id} round {round_no}: {why}; weakest critic {weakest}; "
                f"re-planned: {change.describe()}"
            )
            round_no += 1
            in_round = 0
            remaining = self.budget - attempt
            round_size = max(1, math.ceil(remaining / 2))
        pool = [j for j in judged if j.fits] or [j for j in judged if j.original] or judged
        best = max(pool, key=lambda j: j.entry.combined)
        for j in judged:
            if j is best:
                again = (
                    "its round was retracted, but no later draft beat it; "
                    if (j.entry.status == RETRACTED)
                    else ""
                )
                j.entry.status = KEPT
                extra = "drafted over budget, " if j.entry.attempt - first > self.budget else ""
                redo = "redrafted for originality; " if earlier else ""
                j.entry.reason = redo + again + extra + _kept_reason(j, judged)
            elif j.entry.status != RETRACTED:
                j.entry.status = REJECTED
                if j.fits or (j.original and not best.fits):
                    gap = best.entry.combined - j.entry.combined
                    why = f"{gap:.2f} under the kept draft #{best.entry.attempt}"
                    j.entry.reason = "; ".join(x for x in (j.entry.reason, why) if x)
        self.chosen[s.id] = best.notes
        self._say(f"kept {s.id} draft {best.entry.attempt} ({best.entry.combined:.2f})")
        return best.notes

    def _say(self, line: str) -> None:
        """Report a verdict as a step, so that a watcher sees the reasoning as it happens."""
        if self.step is not None:
            self.step(line)


def _weakest(best: _Judged | None) -> tuple[str, str]:
    """The critic that pulled the best draft down most, and its first complaint."""
    if best is None:
        return "likelihood", ""
    contributions = best.entry.contributions
    name = min(contributions, key=lambda k: contributions[k])
    reasons = best.verdicts[name].reasons if name in best.verdicts else ()
    return name, reasons[0] if reasons else ""


def _kept_reason(kept: _Judged, judged: list[_Judged]) -> str:
    others = [j for j in judged if j is not kept and j.fits == kept.fits and j.original]
    if not kept.original:
        return f"no original draft in {len(judged)}: the best of them, to be drafted again"
    if not kept.fits:
        return "no draft set off the chorus; the best of the original ones"
    if not others:
        return "the only usable draft" if len(judged) > 1 else "the only draft (budget 1)"
    margin = kept.entry.combined - max(j.entry.combined for j in others)
    return f"best of {len(judged)} drafts, {margin:.2f} ahead of the next"
