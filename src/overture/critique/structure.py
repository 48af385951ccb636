"""The structure critic: does the line have phrases, motifs, and a form a listener can follow?

For a lead section:

* phrases: every four-bar phrase has notes, and each phrase ends with a breath (a rest or a
  held note), so the line falls into 4- and 8-bar units instead of running on;
* motif recurrence: three-interval figures (intervals with their durations, so transposed
  repeats count) that recur inside the section (bars whose rhythm comes back are reported);
  tunes are built from a few motifs repeated and varied (Schoenberg, *Fundamentals of Musical
  Composition*, ch. 2-5), and such self-similarity measures are the usual symbolic proxies
  for it (Wu and Yang 2020's grooving similarity; n-gram repetition in music LM evaluation);
* identity: a chorus whose earlier copy is known must be that chorus again, or a recognisable
  variation of it (most of its notes in place, or its rhythm with the notes transposed);
* contrast: a verse after a chorus (or a chorus after a verse) must differ from it in register
  or density, ideally the chorus higher and busier (Temperley, *The Musical Language of Rock*,
  ch. 7: the chorus is the peak of register and energy).

For a whole score it also checks that the chorus comes back, that a motif is shared between
sections, the section lengths (whole four-bar phrases), and the energy curve: the measured
intensity of the sections follows the plan's and peaks at the last chorus.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence

from overture.critique.context import (
    PHRASE_BARS,
    SectionContext,
    lead_by_section,
    section_context,
)
from overture.critique.verdict import Verdict, bar_of, clamp01, make_verdict, ordered
from overture.plan import CHORUS_KINDS, VERSE_KINDS, Plan, PlanSection
from overture.score import Note, Score

WEIGHTS = {"phrases": 0.35, "motif": 0.35, "identity": 0.3, "contrast": 0.3}
SCORE_WEIGHTS = {
    "sections": 0.25,
    "chorus_identity": 0.2,
    "motif_sharing": 0.15,
    "contrast": 0.15,
    "phrase_lengths": 0.1,
    "energy": 0.15,
}
# Figure recurrence (the share of three-step figures, intervals with their durations, that
# come back inside the section) at which a section is full marks: the median of 8-bar windows
# of held-out human tunes (1,254 windows: quartiles 0, 0.16 and 0.40). Bar rhythms that recur
# are reported but not rewarded: human windows repeat them a lot (median 0.75), yet the writer
# already keeps to a small rhythmic vocabulary, so rewarding them made the chosen tunes more
# regular from bar to bar than human ones (MusPy's groove consistency, 0.5 human sd above).
MOTIF_TARGET = 0.16
IDENTITY_TARGET = 0.6  # a variation that keeps 60 % of the chorus is still the chorus
REGISTER_CONTRAST = 3.0  # semitones of mean pitch
DENSITY_CONTRAST = 0.4  # octaves of notes-per-bar ratio (x1.32)
RHYTHM_LIKENESS = 0.4  # the shared rhythm alone counts for this much of a likeness
_TICKS = 12  # per beat: sixteenths and triplets alike


def _q(x: float) -> int:
    return round(x * _TICKS)


def phrase_check(ctx: SectionContext, line: Sequence[Note]) -> tuple[float, list[str]]:
    """Share of four-bar phrase slots with notes and with a breath at their end."""
    bpb = ctx.beats_per_bar
    slots = [(b, min(b + PHRASE_BARS, ctx.bars)) for b in range(0, ctx.bars, PHRASE_BARS)]
    good, reasons = 0.0, []
    for i, (b0, b1) in enumerate(slots):
        lo, hi = b0 * bpb, b1 * bpb
        inside = [n for n in line if lo - 1e-6 <= n.start < hi - 1e-6]
        where = f"bars {ctx.start_bar + b0 + 1}-{ctx.start_bar + b1}"
        if len(inside) < 2:
            reasons.append(f"{where}: the phrase has {'no' if not inside else 'one'} note")
            continue
        last = inside[-1]
        following = [n.start for n in line if n.start > last.start + 1e-6]
        after = following[0] if following else hi
        breath = last.duration >= 1.0 - 1e-6 or after - last.end >= 0.5 - 1e-6
        if breath or i == len(slots) - 1:
            good += 1.0
        else:
            good += 0.5
            reasons.append(f"{where}: the phrase runs into the next without a breath")
    return (good / len(slots) if slots else 1.0), reasons


def bar_rhythms(line: Sequence[Note], bpb: float) -> dict[int, tuple[int, ...]]:
    """Onset pattern (in ticks from the bar line) of every bar that has notes."""
    out: dict[int, list[int]] = {}
    for n in line:
        b = bar_of(n.start, bpb)
        out.setdefault(b, []).append(_q(n.start - b * bpb))
    return {b: tuple(v) for b, v in out.items()}


def figures(line: Sequence[Note], n: int = 3) -> list[tuple[tuple[int, int], ...]]:
    """Every run of ``n`` steps as (interval, next duration in ticks): a transposable motif."""
    steps = [(b.pitch - a.pitch, _q(b.duration)) for a, b in itertools.pairwise(line)]
    return [tuple(steps[i : i + n]) for i in range(len(steps) - n + 1)]


def motif_check(
    ctx: SectionContext, line: Sequence[Note]
) -> tuple[float, list[str], dict[str, float]]:
    """Recurrence of bar rhythms and of three-step figures inside the section."""
    rhythms = bar_rhythms(line, ctx.beats_per_bar)
    counts = Counter(rhythms.values())
    rhythm_rec = sum(1 for r in rhythms.values() if counts[r] > 1) / len(rhythms) if rhythms else 0
    figs = figures(line)
    fc = Counter(figs)
    figure_rec = sum(1 for f in figs if fc[f] > 1) / len(figs) if figs else 0.0
    score = min(1.0, figure_rec / MOTIF_TARGET)
    reasons = []
    if score < 1.0:
        reasons.append(
            f"{ctx.id}: little motivic recurrence ({rhythm_rec:.0%} of bars repeat a rhythm, "
            f"{figure_rec:.0%} of figures recur)"
        )
    distinct = {(n.pitch, _q(n.duration)) for n in line}
    if len(rhythms) >= 4 and len(counts) == 1 and len(distinct) == 1:
        score *= 0.5
        reasons.append(f"{ctx.id}: every bar is the same note in the same rhythm: no development")
    return score, reasons, {"rhythm_recurrence": rhythm_rec, "figure_recurrence": figure_rec}


def similarity(a: Sequence[Note], b: Sequence[Note]) -> float:
    """How much of ``b`` returns in ``a``: the best of the share of (onset, pitch) pairs in
    common, the same at any transposition (x0.9), and the shared onsets alone (x0.4: the
    rhythm without the tune is a faint likeness)."""
    if not a or not b:
        return 0.0
    pa = Counter((_q(n.start), n.pitch) for n in a)
    pb = Counter((_q(n.start), n.pitch) for n in b)
    size = max(sum(pa.values()), sum(pb.values()))
    exact = sum((pa & pb).values()) / size
    best = exact
    for shift in range(-12, 13):
        if shift:
            moved = Counter({(t, p + shift): c for (t, p), c in pa.items()})
            best = max(best, 0.9 * sum((moved & pb).values()) / size)
    oa = Counter(_q(n.start) for n in a)
    ob = Counter(_q(n.start) for n in b)
    rhythm = sum((oa & ob).values()) / max(sum(oa.values()), sum(ob.values()))
    return max(best, RHYTHM_LIKENESS * rhythm)


def profile(line: Sequence[Note], bars: int) -> tuple[float, float]:
    """(duration-weighted mean pitch, notes per bar)."""
    total = sum(n.duration for n in line) or 1.0
    return sum(n.pitch * n.duration for n in line) / total, len(line) / max(1, bars)


def contrast_score(
    verse: tuple[float, float], chorus: tuple[float, float]
) -> tuple[float, float, float]:
    """(score, register difference, density ratio in octaves), chorus minus verse; the
    expected direction (chorus higher, busier) earns full credit, the other half."""
    reg = chorus[0] - verse[0]
    dens = math.log2(max(chorus[1], 1e-6) / max(verse[1], 1e-6))
    r = reg / REGISTER_CONTRAST if reg > 0 else -reg / (2 * REGISTER_CONTRAST)
    d = dens / DENSITY_CONTRAST if dens > 0 else -dens / (2 * DENSITY_CONTRAST)
    # A chorus sparser than its verse loses the lift a chorus should bring, whatever else.
    sparser = max(0.0, 1.0 + min(0.0, dens) / DENSITY_CONTRAST)
    return clamp01(max(r, d) * sparser), reg, dens


def _contrast(
    verse: tuple[float, float],
    chorus: tuple[float, float],
    parts: dict[str, float],
    extra: dict[str, float],
    reasons: list[str],
    label: str,
) -> None:
    """Score the verse/chorus contrast into ``parts``, ``extra`` and ``reasons``."""
    c, reg, dens = contrast_score(verse, chorus)
    parts["contrast"] = c
    extra.update(register_difference=reg, density_ratio_octaves=dens)
    if c < 1.0:
        reasons.append(
            f"{label} {reg:+.1f} semitones in register, x{2**dens:.2f} in notes per bar: "
            "too little verse/chorus contrast"
        )


def _relation(
    plan: Plan, section: PlanSection, previous: Mapping[str, Sequence[Note]] | None
) -> tuple[str, str | None]:
    """("identity", id) when an earlier copy of this chorus is known; ("contrast", id) for a
    verse against an earlier chorus or a chorus against an earlier verse; ("", None) else."""
    if not previous:
        return "", None
    kinds = {s.id: s.kind for s in plan.sections}
    earlier = [sid for sid in previous if sid != section.id and previous[sid]]
    order = {s.id: i for i, s in enumerate(plan.sections)}
    earlier.sort(key=lambda sid: order.get(sid, 0))
    if section.kind in CHORUS_KINDS:
        same = [sid for sid in earlier if kinds.get(sid) == section.kind]
        if same:
            return "identity", same[0]
        other = [sid for sid in earlier if kinds.get(sid) in VERSE_KINDS]
        return ("contrast", other[-1]) if other else ("", None)
    if section.kind in VERSE_KINDS:
        other = [sid for sid in earlier if kinds.get(sid) in CHORUS_KINDS]
        return ("contrast", other[-1]) if other else ("", None)
    return "", None


def section_structure(
    plan: Plan,
    section: PlanSection,
    notes: Sequence[Note],
    previous: Mapping[str, Sequence[Note]] | None = None,
) -> Verdict:
    """The structure verdict of one drafted lead section (notes relative to its start)."""
    ctx = section_context(plan, section)
    line = ordered(notes)
    if not line:
        return make_verdict("structure", "section", {"phrases": 0.0}, WEIGHTS, ["no notes"])
    phrases, reasons = phrase_check(ctx, line)
    motif, r_motif, extra = motif_check(ctx, line)
    parts = {"phrases": phrases, "motif": motif}
    reasons += r_motif
    how, other_id = _relation(plan, section, previous)
    if how and other_id is not None and previous is not None:
        other = ordered(previous[other_id])
        if how == "identity":
            sim = similarity(line, other)
            parts["identity"] = min(1.0, sim / IDENTITY_TARGET)
            extra["identity_similarity"] = sim
            if sim < IDENTITY_TARGET:
                reasons.append(
                    f"{section.id} keeps only {sim:.0%} of {other_id}: not recognisably the "
                    "same chorus"
                )
        else:
            bars_other = next((s.bars for s in plan.sections if s.id == other_id), ctx.bars)
            mine, theirs = profile(line, ctx.bars), profile(other, bars_other)
            verse, chorus = (theirs, mine) if section.kind in CHORUS_KINDS else (mine, theirs)
            _contrast(
                verse, chorus, parts, extra, reasons, f"{section.id} against {other_id}: chorus"
            )
    return make_verdict("structure", "section", parts, WEIGHTS, reasons, extra)


# ----------------------------------------------------------------------------- whole score


def section_energy(plan: Plan, score: Score) -> dict[str, float]:
    """Measured intensity of each section from the score: the share of parts playing, their
    mean loudness (velocity) and their density (onsets per beat, saturating at 8)."""
    bpb = plan.time_signature.beats_per_bar
    parts = [p for p in score.parts if p.notes]
    out: dict[str, float] = {}
    for s in plan.sections:
        lo, hi = s.start_bar * bpb, s.end_bar * bpb
        active, vel, onsets = 0, [], 0
        for p in parts:
            inside = [n for n in p.notes if lo - 1e-6 <= n.start < hi - 1e-6]
            if inside:
                active += 1
                vel += [n.velocity for n in inside]
                onsets += len(inside)
        share = active / len(parts) if parts else 0.0
        loud = sum(vel) / len(vel) / 127 if vel else 0.0
        density = min(1.0, onsets / max(1e-6, hi - lo) / 8.0)
        out[s.id] = 0.4 * share + 0.3 * loud + 0.3 * density
    return out


def _spearman(a: Sequence[float], b: Sequence[float]) -> float:
    def ranks(x: Sequence[float]) -> list[float]:
        order = sorted(range(len(x)), key=lambda i: x[i])
        r = [0.0] * len(x)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    ra, rb = ranks(a), ranks(b)
    n = len(a)
    if n < 2:
        return 0.0
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else 0.0


def energy_check(plan: Plan, score: Score) -> tuple[float, list[str], dict[str, float]]:
    """The sections' measured intensity follows the plan's energy and peaks where the plan
    peaks (the last chorus of a song form)."""
    measured = section_energy(plan, score)
    planned = [s.energy for s in plan.sections]
    got = [measured[s.id] for s in plan.sections]
    if len(got) < 2:
        return 1.0, [], {}
    peak_i = max(range(len(planned)), key=lambda i: (planned[i], i))
    peak = plan.sections[peak_i]
    top = max(got)
    peak_share = got[peak_i] / top if top > 0 else 0.0
    rho = _spearman(planned, got)
    reasons = []
    if peak_share < 0.97:
        loudest = plan.sections[got.index(top)].id
        reasons.append(
            f"the energy peaks in {loudest}, not in {peak.id} where the plan puts the climax"
        )
    if rho < 0.5:
        reasons.append(f"the sections' intensity barely follows the planned curve (rho {rho:.2f})")
    score_value = 0.5 * min(1.0, peak_share / 0.97) + 0.5 * clamp01((rho + 1) / 2)
    return score_value, reasons, {"energy_peak_share": peak_share, "energy_rho": rho}


def score_structure(plan: Plan, score: Score) -> Verdict:
    """The structure verdict of a whole score's lead and arrangement."""
    sections = {s.id: s for s in plan.sections}
    per = lead_by_section(plan, score)
    reasons: list[str] = []
    # Each section judged as a draft would be, against the sections before it.
    previous: dict[str, list[Note]] = {}
    section_scores = []
    for s in plan.sections:
        notes = per.get(s.id)
        if not notes:
            continue
        v = section_structure(plan, s, notes, previous)
        section_scores.append(v.score)
        reasons += v.reasons[:2]  # the section's worst, to keep the list readable
        previous[s.id] = notes
    parts: dict[str, float] = {
        "sections": sum(section_scores) / len(section_scores) if section_scores else 0.0
    }
    extra: dict[str, float] = {}
    choruses = [sid for sid in per if sections[sid].kind in CHORUS_KINDS]
    verses = [sid for sid in per if sections[sid].kind in VERSE_KINDS]
    planned_choruses = [s for s in plan.sections if s.kind in CHORUS_KINDS]
    if len(planned_choruses) >= 2:
        if len(choruses) >= 2:
            first = ordered(per[choruses[0]])
            sims = [similarity(ordered(per[c]), first) for c in choruses[1:]]
            parts["chorus_identity"] = min(1.0, (sum(sims) / len(sims)) / IDENTITY_TARGET)
            extra["chorus_similarity"] = sum(sims) / len(sims)
        else:
            parts["chorus_identity"] = 0.0
            reasons.append("the chorus never returns with its melody")
    # A motif shared between sections: a four-step figure heard in another section.
    figs = {sid: set(figures(ordered(notes), 4)) for sid, notes in per.items()}
    if len(figs) >= 2:
        shared = sum(
            1 for sid, f in figs.items() if any(f & g for o, g in figs.items() if o != sid)
        )
        parts["motif_sharing"] = shared / len(figs)
        if shared < len(figs) / 2:
            reasons.append("few sections share a motif with another: the song does not cohere")
    if choruses and verses:
        v_prof = _pooled(plan, per, verses)
        c_prof = _pooled(plan, per, choruses)
        _contrast(v_prof, c_prof, parts, extra, reasons, "choruses against verses:")
    whole = list(plan.sections[:-1])  # the last section may carry a tag of odd length
    odd = [s.id for s in whole if s.bars % PHRASE_BARS]
    parts["phrase_lengths"] = 1.0 - len(odd) / len(whole) if whole else 1.0
    if odd:
        reasons.append(f"sections not in whole four-bar phrases: {', '.join(odd)}")
    energy, r_energy, e_extra = energy_check(plan, score)
    parts["energy"] = energy
    reasons += r_energy
    extra.update(e_extra)
    return make_verdict("structure", "score", parts, SCORE_WEIGHTS, reasons, extra)


def _pooled(plan: Plan, per: Mapping[str, list[Note]], ids: list[str]) -> tuple[float, float]:
    bars = {s.id: s.bars for s in plan.sections}
    notes = [n for sid in ids for n in per[sid]]
    return profile(notes, sum(bars[sid] for sid in ids))
