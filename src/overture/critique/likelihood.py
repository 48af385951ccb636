"""The likelihood critic: is the line as surprising as human tunes are, no more, no less?

The learned melody model (:class:`overture.learn.melody_model.MelodyModel`, a PPM model in
the IDyOM family: Pearce 2005, "The construction and evaluation of statistical models of
melodic structure") gives every note's information content, -log2 P(note | the notes before
it, the key and the chord), exactly as :meth:`MelodyWriter.judge` computes it. Its mean per
note is compared with :func:`overture.compose.melody.human_ic` (held-out folk tunes): full
credit within one human spread (:func:`reference.human_spread`, the window-to-window spread of
held-out tunes, measured by the calibration), a Gaussian of the distance beyond it. A line
far below the human mean is predictable (one note repeated, a scale run), far above it is
random (chromatic noise); both lose. Psychologically this is the inverted U of preference
over complexity (Berlyne 1971; Gold et al. 2019, "Predictability and uncertainty in the
pleasure of music").

A sung line is judged on its pitches, its rhythm counted as the human mean: the rhythm is
its words', and the folk corpus knows nothing of a pop vocal's syncopations
(:func:`overture.compose.melody.line_ic`).

A run of ``ORIGINALITY_LIMIT`` notes shared with a corpus tune
(:func:`overture.learn.originality.longest_match`) is not a human-like tune but a copy: it
cuts the score to a fifth.

The model scores a note in about a millisecond, so an 8-bar section costs ~50 ms, most of a
section critique. The loop can hand in the writer's own judgement of a draft (``judged``), or
let a writer that judged its drafts (``writer.drafts``) supply it; repeated questions about
the same notes are answered from a small cache.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from overture.critique.context import split_by_section, tune_part
from overture.critique.reference import human_spread
from overture.critique.verdict import Verdict, json_safe
from overture.plan import Plan, PlanSection
from overture.score import Note, Score

if TYPE_CHECKING:
    from overture.compose.melody import Draft, MelodyWriter
    from overture.learn.melody_model import MelodyModel

COPY_FACTOR = 0.2
_CACHE_SIZE = 4096
_cache: OrderedDict[tuple[object, ...], float] = OrderedDict()


def _model(writer: MelodyWriter | None) -> MelodyModel:
    if writer is not None:
        return writer.model
    from overture.learn.melody_model import MelodyModel

    return MelodyModel.load()


def mean_information_content(
    plan: Plan,
    notes: Sequence[Note],
    *,
    start_bar: int,
    writer: MelodyWriter | None = None,
    sung: bool = False,
) -> float:
    """Mean bits per note of ``notes`` (relative to ``start_bar``), with the chord of each
    note's bar, as :meth:`MelodyWriter.judge` scores a draft (:func:`line_ic`: over the notes
    of the key's scale; a ``sung`` line on its pitches). NaN for fewer than two notes."""
    from overture.compose.melody import line_ic

    if len(notes) < 2:
        return math.nan
    bpb = plan.time_signature.beats_per_bar
    last = len(plan.chords) - 1
    roots = [
        plan.chords[min(last, max(0, start_bar + int(n.start // bpb + 1e-9)))].root for n in notes
    ]
    pitches = tuple(n.pitch for n in notes)
    durs = tuple(float(n.duration) for n in notes)
    model = _model(writer)
    key = (id(model), plan.key.tonic, plan.key.mode, pitches, durs, tuple(roots), sung)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    ic = line_ic(model, plan.key, pitches, durs, roots, sung=sung)
    _cache[key] = ic
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return ic


def _known(
    notes: Sequence[Note], section: PlanSection, writer: MelodyWriter | None, judged: Draft | None
) -> Draft | None:
    """The writer's judgement of exactly these notes, when it has one."""
    if judged is not None:
        return judged
    if writer is None:
        return None
    for d in writer.drafts.get(section.id, []):
        if d.notes == list(notes):
            return d
    return None


def fit(ic: float, human: float, spread: float) -> float:
    """The reward for a mean information content ``ic``: 1 anywhere within one human spread
    of the human mean (human tunes differ that much from one another, and a plain air is as
    human as a leaping reel), falling as a Gaussian beyond it."""
    if not math.isfinite(ic):
        return 0.0
    z = max(0.0, abs(ic - human) / spread - 1.0)
    return math.exp(-0.5 * z * z)


def _describe(ic: float, human: float, spread: float, sung: bool = False) -> str:
    z = (ic - human) / spread
    where = f"{ic:.2f} bits/note vs the human {human:.2f} ± {spread:.2f}"
    sung_note = " (judged on its pitches: the rhythm is the words')" if sung else ""
    if z < -1.0:
        return f"too predictable: {where}{sung_note}"
    if z > 1.0:
        return f"too surprising: {where}{sung_note}"
    return (
        f"information content {ic:.2f} bits/note, near the human {human:.2f} ± {spread:.2f}"
        + sung_note
    )


def section_likelihood(
    plan: Plan,
    section: PlanSection,
    notes: Sequence[Note],
    *,
    writer: MelodyWriter | None = None,
    judged: Draft | None = None,
) -> Verdict:
    """The likelihood verdict of one drafted lead section (notes relative to its start)."""
    from overture.compose.melody import ORIGINALITY_LIMIT, human_ic
    from overture.learn.originality import longest_match

    human, spread = human_ic(), human_spread()
    line = sorted(notes, key=lambda n: (n.start, n.pitch))
    if len(line) < 2:
        return Verdict("likelihood", 0.0, ("fewer than two notes: nothing to judge",), {})
    draft = _known(line, section, writer, judged)
    sung = bool(plan.phrases_of(section.id))  # its rhythm is the words'
    if draft is not None:
        ic, match = draft.ic, draft.longest_match
    else:
        ic = mean_information_content(
            plan, line, start_bar=section.start_bar, writer=writer, sung=sung
        )
        match = longest_match([n.pitch for n in line], [n.duration for n in line]).notes
    return _verdict(ic, match, human, spread, ORIGINALITY_LIMIT, scope="section", sung=sung)


def _verdict(
    ic: float,
    match: int,
    human: float,
    spread: float,
    limit: int,
    *,
    scope: str,
    sung: bool = False,
) -> Verdict:
    g = fit(ic, human, spread)
    reasons = [_describe(ic, human, spread, sung)]
    copy = match >= limit
    if copy:
        reasons.append(f"shares a run of {match} notes with a corpus tune: a copy, not a tune")
    details = {
        "fit": g,
        "ic": ic,
        "human_ic": human,
        "human_sd": spread,
        "z": (ic - human) / spread,
        "longest_match": float(match),
    }
    score = g * (COPY_FACTOR if copy else 1.0)
    return Verdict("likelihood", round(score, 6), tuple(reasons), json_safe(details), scope)


def score_likelihood(plan: Plan, score: Score) -> Verdict:
    """The likelihood verdict of a score's lead: each section scored as the writer scores a
    draft (so the numbers compare with the section critic's), the note-weighted mean of
    their Gaussian rewards, and the originality of the whole lead."""
    from overture.compose.melody import ORIGINALITY_LIMIT, human_ic
    from overture.learn.originality import longest_match

    human, spread = human_ic(), human_spread()
    lead = tune_part(score)
    start = {s.id: s.start_bar for s in plan.sections}
    per_section = split_by_section(plan, lead.notes) if lead is not None else {}
    total, weighted, ic_sum, reasons = 0, 0.0, 0.0, []
    worst = 0.0
    sung_notes = 0
    for sid, notes in per_section.items():
        if len(notes) < 2:
            continue
        sung = bool(plan.phrases_of(sid))
        sung_notes += len(notes) if sung else 0
        ic = mean_information_content(plan, notes, start_bar=start[sid], sung=sung)
        g = fit(ic, human, spread)
        z = (ic - human) / spread
        if abs(z) > 1.5:
            reasons.append(f"{sid}: {_describe(ic, human, spread, sung)}")
        worst = max(worst, abs(z))
        weighted += g * len(notes)
        ic_sum += ic * len(notes)
        total += len(notes)
    if not total:
        return Verdict("likelihood", 0.0, ("the score has no lead melody",), {}, "score")
    line = sorted(lead.notes, key=lambda n: (n.start, n.pitch)) if lead is not None else []
    match = longest_match([n.pitch for n in line], [n.duration for n in line]).notes
    mean_ic = ic_sum / total
    v = _verdict(
        mean_ic,
        match,
        human,
        spread,
        ORIGINALITY_LIMIT,
        scope="score",
        sung=sung_notes > total / 2,
    )
    score_value = weighted / total * (COPY_FACTOR if match >= ORIGINALITY_LIMIT else 1.0)
    details = {**v.details, "fit": weighted / total, "worst_section_abs_z": worst}
    return Verdict(
        "likelihood", round(score_value, 6), (*v.reasons, *reasons), json_safe(details), "score"
    )
