"""The theory critic: would a music teacher mark this line (and these voices) as correct?

For a lead section it checks, after common-practice and pop melody-writing rules (Piston,
*Harmony*; Perricone, *Melody in Songwriting*):

* pitches in the key, or justified: a chromatic note is fine as a passing tone between two
  notes a step either side, as a chromatic approach (a semitone into a chord tone) or a
  neighbour (a step away and back), or as a tone of the bar's chord (borrowed chords bring
  their own); minor keys also have their raised sixth and seventh, and blues-derived styles
  the blue notes (flat third, flat fifth, flat seventh);
* cadences: the last note of each four-bar phrase on a tone of its chord, and the section's
  last note on the tonic triad when the section closes on the tonic chord;
* leaps (a fourth or more) recovered by a step the other way (the "gap-fill" tendency, Meyer
  1956; von Hippel and Huron 2000), and no leap past an octave;
* contour: the line moves in runs and arches, not zig-zagging at every note; the share of
  turns (a change of direction between consecutive moves) is full marks up to ``TURNS_OK``,
  about the 80th percentile of human 8-bar windows (held-out corpus, 1,254 windows: median
  0.50, 90th percentile 0.66), and nothing at ``TURNS_BAD`` (Huron, *Sweet Anticipation*,
  ch. 5: melodies favour continuing in the direction they move, and arch contours);
* range: an ambitus of at most an octave and a sixth for a singable line, every note inside
  the lead instrument's range, and a tessitura where most of the time is spent within a
  ninth.

For a whole score it adds parallel fifths and octaves between the outer voices: the bass part
against the top voice of the chords and pad parts' block chords.

Each aspect is a sub-score in [0, 1]; the critic's score is their weighted geometric mean.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from overture.critique.context import (
    BLUE_NOTE_STYLES,
    PHRASE_BARS,
    SectionContext,
    lead_by_section,
    section_context,
    tune_part,
)
from overture.critique.verdict import Verdict, bar_of, make_verdict, ordered, pitch_name
from overture.plan import Plan
from overture.score import Note, Score
from overture.theory import Key

UNRESOLVED_LEAP_COST = 0.2  # per leap not stepped back from, beyond the allowance below
# Human tunes do not step back from every leap: in the 1,313 held-out corpus tunes 63 % of
# leaps are not followed by a step the other way (counting arpeggios and phrase ends too).
# Leaps left open cost only beyond half of the line's leaps, so the critic judges whether a
# line's leaps are handled, not how often it leaps.
UNRESOLVED_LEAP_ALLOWANCE = 0.5
WEIGHTS = {
    "in_key": 0.35,
    "cadence": 0.25,
    "leaps": 0.2,
    "contour": 0.15,
    "range": 0.1,
    "tessitura": 0.1,
}
TURNS_OK = 0.6  # share of turns among moves that is still a shaped line
TURNS_BAD = 0.9  # a line that turns at nearly every note has no shape
MIN_MOVES = 6  # fewer moves say nothing about a contour
SCORE_WEIGHTS = {"lead": 0.6, "voice_leading": 0.25, "lead_range": 0.15}
LEAP = 5  # semitones: a fourth or more is a leap
MAX_LEAP = 12
SINGABLE_AMBITUS = 21  # an octave and a sixth
TESSITURA_BAND = 14  # a ninth around the line's median pitch
TESSITURA_SHARE = 0.85
WRONG_NOTE_COST = 0.2  # per unjustified chromatic note; half as much again when it is exposed
_INTERVALS = {
    5: "fourth",
    6: "tritone",
    7: "fifth",
    8: "minor sixth",
    9: "major sixth",
    10: "minor seventh",
    11: "major seventh",
    12: "octave",
}


def allowed_pitch_classes(key: Key, style: str) -> frozenset[int]:
    """The key's scale, widened by minor's raised sixth and seventh and by the blue notes."""
    pcs = set(key.scale_tones)
    if style in BLUE_NOTE_STYLES:
        pcs |= {(key.tonic + 3) % 12, (key.tonic + 6) % 12, (key.tonic + 10) % 12}
    return frozenset(pcs)


def interval_name(semitones: int) -> str:
    s = abs(semitones)
    return _INTERVALS.get(s, f"{s}-semitone leap")


def _justified(ctx: SectionContext, line: Sequence[Note], i: int, allowed: frozenset[int]) -> bool:
    """Whether the chromatic note ``line[i]`` is a chord tone, a passing tone, a chromatic
    approach to a chord tone or a neighbour note."""
    n = line[i]
    if n.pitch % 12 in ctx.chord_at(n.start).pitch_classes:
        return True
    prev = line[i - 1] if i > 0 and n.start - line[i - 1].end <= 1.0 else None
    nxt = line[i + 1] if i + 1 < len(line) and line[i + 1].start - n.end <= 1.0 else None
    if nxt is not None:
        d_out = nxt.pitch - n.pitch
        if abs(d_out) == 1 and nxt.pitch % 12 in ctx.chord_at(nxt.start).pitch_classes:
            return True  # a chromatic approach, a semitone into a chord tone
        if prev is not None:
            d_in = n.pitch - prev.pitch
            if (
                1 <= abs(d_in) <= 2
                and 1 <= abs(d_out) <= 2
                and (d_in > 0) == (d_out > 0)
                and prev.pitch % 12 in allowed
                and nxt.pitch % 12 in allowed
            ):
                return True  # a passing tone between two scale notes
            if prev.pitch == nxt.pitch and 1 <= abs(d_in) <= 2 and prev.pitch % 12 in allowed:
                return True  # a neighbour: a step away from a scale note and straight back
    return False


def _strong(ctx: SectionContext, n: Note) -> bool:
    pos = n.start - bar_of(n.start, ctx.beats_per_bar) * ctx.beats_per_bar
    return pos < 1e-6 or n.duration >= 1.0 - 1e-6


def key_check(ctx: SectionContext, line: Sequence[Note]) -> tuple[float, list[str], int]:
    """(sub-score, reasons, count) for chromatic notes that nothing justifies."""
    allowed = allowed_pitch_classes(ctx.key, ctx.style)
    cost, reasons, bad = 0.0, [], 0
    for i, n in enumerate(line):
        if n.pitch % 12 in allowed or _justified(ctx, line, i, allowed):
            continue
        bad += 1
        exposed = _strong(ctx, n)
        cost += WRONG_NOTE_COST * (1.5 if exposed else 1.0)
        where = "held or on the downbeat" if exposed else "on a weak beat"
        reasons.append(
            f"bar {ctx.song_bar(n.start)}: {pitch_name(n.pitch, ctx.key)} out of key in "
            f"{ctx.key.name}, not a passing, approach, neighbour or chord tone ({where})"
        )
    return max(0.0, 1.0 - cost), reasons, bad


def phrase_spans(ctx: SectionContext) -> list[tuple[float, float]]:
    """(start, end) beats of the four-bar phrases of the section; the last may be shorter."""
    bpb = ctx.beats_per_bar
    return [
        (b * bpb, min(b + PHRASE_BARS, ctx.bars) * bpb) for b in range(0, ctx.bars, PHRASE_BARS)
    ]


def cadence_check(ctx: SectionContext, line: Sequence[Note]) -> tuple[float, list[str]]:
    """Share of phrase endings that land well (a chord tone; the tonic triad to close)."""
    key = ctx.key
    third = 3 if key.mode == "minor" else 4
    home = {key.tonic, (key.tonic + third) % 12, (key.tonic + 7) % 12}
    ok, total, reasons = 0, 0, []
    spans = phrase_spans(ctx)
    if ctx.closes:
        spans = spans[:-1]  # the closing phrase is held to the stricter test below
    for lo, hi in spans:
        inside = [n for n in line if lo - 1e-6 <= n.start < hi - 1e-6]
        if not inside:
            continue
        last = inside[-1]
        chord = ctx.chord_at(last.start)
        total += 1
        if last.pitch % 12 in chord.pitch_classes:
            ok += 1
        else:
            reasons.append(
                f"bar {ctx.song_bar(last.start)}: the phrase ends on "
                f"{pitch_name(last.pitch, key)}, not a tone of its chord "
                f"{chord.symbol(key)}"
            )
    if ctx.closes and line:
        last = line[-1]
        total += 1
        if last.pitch % 12 in home:
            ok += 1
        else:
            reasons.append(
                f"bar {ctx.song_bar(last.start)}: the section closes on the tonic chord but "
                f"its melody ends on {pitch_name(last.pitch, key)}, not on degree 1, 3 or 5"
            )
    return (ok / total if total else 1.0), reasons


def leap_check(ctx: SectionContext, line: Sequence[Note]) -> tuple[float, list[str], int, int]:
    """(sub-score, reasons, leaps, unresolved): a leap is resolved by a step the other way
    (a third the other way counts half); a leap into a phrase ending or a rest is let be, and
    so is one that goes on the same way through the tones of its chord, within an octave (an
    arpeggio).

    Each unresolved leap beyond ``UNRESOLVED_LEAP_ALLOWANCE`` of the line's leaps costs
    ``UNRESOLVED_LEAP_COST``; resolved leaps cost nothing, so a line that leaps and resolves
    scores as well as one that never leaps, and one leap left open among several is as human
    tunes are (a share of resolved leaps would favour tunes without leaps)."""
    bpb = ctx.beats_per_bar
    leaps, credit, unresolved, reasons = 0, 0.0, 0, []
    for i in range(len(line) - 1):
        a, b = line[i], line[i + 1]
        d = b.pitch - a.pitch
        if abs(d) < LEAP or b.start - a.end > 1.0:
            continue
        leaps += 1
        where = f"bar {ctx.song_bar(a.start)}"
        name = f"{interval_name(d)} {'up' if d > 0 else 'down'}"
        if abs(d) > MAX_LEAP:
            reasons.append(f"{where}: a leap of a {name} ({abs(d)} semitones) is hard to sing")
            unresolved += 1
            continue
        c = _next_move(line, i + 1, bpb)
        if c is None:
            credit += 1.0  # the leap ends the phrase: the next phrase may start anywhere
            continue
        d2 = c.pitch - b.pitch
        opposite = (d2 > 0) != (d > 0)
        tones = set(ctx.chord_at(b.start).pitch_classes)
        outline = (
            not opposite
            and abs(d + d2) <= 12
            and {a.pitch % 12, b.pitch % 12, c.pitch % 12} <= tones
        )
        if (opposite and abs(d2) <= 2) or outline:
            # Stepped back from, or the leap goes on through the chord (an arpeggio).
            credit += 1.0
        elif opposite and abs(d2) <= 4:
            credit += 0.5
        else:
            unresolved += 1
            how = "then leaps back" if opposite else "then goes on the same way"
            reasons.append(f"{where}: a leap of a {name} {how} instead of stepping back")
    excess = max(0.0, leaps - credit - UNRESOLVED_LEAP_ALLOWANCE * leaps)
    return max(0.0, 1.0 - UNRESOLVED_LEAP_COST * excess), reasons, leaps, unresolved


def _next_move(line: Sequence[Note], j: int, bpb: float) -> Note | None:
    """The first note after ``line[j]`` at another pitch (a repeated note delays the
    resolution, it does not replace it), or None when the phrase ends or rests first."""
    b = line[j]
    prev = b
    for c in line[j + 1 : j + 4]:
        if bar_of(c.start, bpb) // PHRASE_BARS != bar_of(b.start, bpb) // PHRASE_BARS:
            return None
        if c.start - prev.end > 1.0:
            return None
        if c.pitch != b.pitch:
            return c
        prev = c
    return None


def range_check(
    ctx: SectionContext, line: Sequence[Note], *, label: str = "the line"
) -> tuple[float, float, list[str], dict[str, float]]:
    """(range sub-score, tessitura sub-score, reasons, measurements)."""
    if not line:
        return 1.0, 1.0, [], {"ambitus": 0.0, "tessitura_share": 1.0}
    pitches = [n.pitch for n in line]
    lo, hi = min(pitches), max(pitches)
    ambitus = hi - lo
    reasons = []
    rng = 1.0 if ambitus <= SINGABLE_AMBITUS else max(0.0, 1.0 - (ambitus - SINGABLE_AMBITUS) / 10)
    if ambitus > SINGABLE_AMBITUS:
        reasons.append(
            f"{label} spans {ambitus} semitones ({pitch_name(lo, ctx.key)}-"
            f"{pitch_name(hi, ctx.key)}), more than an octave and a sixth"
        )
    outside = [n for n in line if not ctx.lead_low <= n.pitch <= ctx.lead_high]
    if outside:
        n = outside[0]
        rng = max(0.0, rng - 0.1 * len(outside))
        reasons.append(
            f"bar {ctx.song_bar(n.start)}: {pitch_name(n.pitch, ctx.key)} is outside the lead "
            f"instrument's range ({len(outside)} note{'s' if len(outside) > 1 else ''})"
        )
    # Duration-weighted median pitch, and the share of time spent within a ninth of it.
    by_pitch = sorted(line, key=lambda n: n.pitch)
    total = sum(n.duration for n in line) or 1.0
    acc, median = 0.0, by_pitch[-1].pitch
    for n in by_pitch:
        acc += n.duration
        if acc >= total / 2:
            median = n.pitch
            break
    half = TESSITURA_BAND / 2
    share = sum(n.duration for n in line if abs(n.pitch - median) <= half) / total
    tess = min(1.0, share / TESSITURA_SHARE)
    if tess < 1.0:
        reasons.append(
            f"{label} spends only {share:.0%} of its time within a ninth of its centre "
            f"{pitch_name(median, ctx.key)}: no settled tessitura"
        )
    return rng, tess, reasons, {"ambitus": float(ambitus), "tessitura_share": share}


def contour_check(ctx: SectionContext, line: Sequence[Note]) -> tuple[float, list[str], float]:
    """(sub-score, reasons, share of turns): does the line move in runs and arches, or turn
    back at nearly every note?"""
    moves = [b.pitch - a.pitch for a, b in itertools.pairwise(line) if b.pitch != a.pitch]
    if len(moves) < MIN_MOVES:
        return 1.0, [], 0.0
    turns = sum((x > 0) != (y > 0) for x, y in itertools.pairwise(moves))
    share = turns / (len(moves) - 1)
    score = min(1.0, max(0.0, (TURNS_BAD - share) / (TURNS_BAD - TURNS_OK)))
    reasons = []
    if score < 1.0:
        reasons.append(
            f"the line turns back at {share:.0%} of its moves: it zig-zags instead "
            "of moving in runs and arches"
        )
    return score, reasons, share


def section_theory(ctx: SectionContext, notes: Sequence[Note]) -> Verdict:
    """The theory verdict of one drafted lead section (notes relative to the section)."""
    line = ordered(notes)
    if not line:
        return make_verdict("theory", "section", {"in_key": 0.0}, WEIGHTS, ["no notes"])
    in_key, r_key, wrong = key_check(ctx, line)
    cadence, r_cad = cadence_check(ctx, line)
    leaps, r_leap, n_leaps, unresolved = leap_check(ctx, line)
    contour, r_contour, turns = contour_check(ctx, line)
    rng, tess, r_rng, meas = range_check(ctx, line)
    parts = {"in_key": in_key, "cadence": cadence, "leaps": leaps, "contour": contour}
    parts.update(range=rng, tessitura=tess)
    extra = {
        "wrong_notes": float(wrong),
        "leaps_count": float(n_leaps),
        "unresolved_leaps": float(unresolved),
        "turns": turns,
        **meas,
    }
    reasons = [*r_key, *r_cad, *r_leap, *r_contour, *r_rng]
    return make_verdict("theory", "section", parts, WEIGHTS, reasons, extra)


# ----------------------------------------------------------------------------- whole score


def _blocks(notes: Sequence[Note]) -> list[tuple[float, int]]:
    """(onset, top pitch) of every block chord: notes struck together with at least three
    pitch classes. A power chord (root, fifth, octave) or an octave doubling moves in
    parallel by design, as one thickened voice, so it is not two voices moving in fifths."""
    groups: list[list[Note]] = []
    for n in sorted(notes, key=lambda n: n.start):
        if groups and n.start - groups[-1][0].start <= 1 / 16:
            groups[-1].append(n)
        else:
            groups.append([n])
    return [
        (g[0].start, max(n.pitch for n in g)) for g in groups if len({n.pitch % 12 for n in g}) >= 3
    ]


def _sounding(bass: Sequence[Note], starts: list[float], t: float) -> int | None:
    """The bass pitch sounding at ``t`` (or struck within the beat before it)."""
    import bisect

    i = bisect.bisect_right(starts, t + 1e-6) - 1
    if i < 0:
        return None
    n = bass[i]
    return n.pitch if n.end > t - 1.0 else None


def parallels(
    upper: Sequence[Note], bass: Sequence[Note], *, beats_per_bar: float, key: Key, name: str
) -> tuple[list[str], int]:
    """Parallel fifths and octaves between ``bass`` and the top voice of ``upper``'s block
    chords: both voices move the same way into the same perfect interval (mod 12) they left.
    Returns (reasons, number of chord-to-chord moves examined)."""
    line = sorted(bass, key=lambda n: n.start)
    starts = [n.start for n in line]
    blocks = _blocks(upper)
    found, moves = [], 0
    prev: tuple[float, int, int] | None = None
    for t, top in blocks:
        low = _sounding(line, starts, t)
        if low is None:
            prev = None
            continue
        if prev is not None and t - prev[0] <= 2 * beats_per_bar:
            _t0, top0, low0 = prev
            if top != top0 or low != low0:
                moves += 1
            iv0, iv1 = (top0 - low0) % 12, (top - low) % 12
            same_way = (top - top0) * (low - low0) > 0
            if same_way and iv0 == iv1 and iv1 in (0, 7):
                kind = "fifths" if iv1 == 7 else "octaves"
                found.append(
                    f"bar {bar_of(t, beats_per_bar) + 1}: parallel {kind} between the bass "
                    f"({pitch_name(low0, key)}->{pitch_name(low, key)}) and the {name} part's top "
                    f"voice ({pitch_name(top0, key)}->{pitch_name(top, key)})"
                )
        prev = (t, top, low)
    return found, moves


def score_theory(plan: Plan, score: Score) -> Verdict:
    """The theory verdict of a whole score: the lead section by section, its overall range,
    and the outer voices' parallels."""
    sections = {s.id: s for s in plan.sections}
    per_section = lead_by_section(plan, score)
    weighted, count, reasons = 0.0, 0, []
    wrong = unresolved = 0.0
    for sid, notes in per_section.items():
        v = section_theory(section_context(plan, sections[sid]), notes)
        weighted += v.score * len(notes)
        count += len(notes)
        wrong += v.details.get("wrong_notes", 0.0)
        unresolved += v.details.get("unresolved_leaps", 0.0)
        reasons += [f"{sid} {r}" for r in v.reasons]
    lead_score = weighted / count if count else 0.0
    if not count:
        reasons.append("the score has no lead notes")
    parts_by_name = {p.name: p for p in score.parts}
    bass = parts_by_name.get("bass")
    found: list[str] = []
    moves = 0
    bpb = plan.time_signature.beats_per_bar
    if bass is not None and bass.notes:
        for name in ("chords", "pad"):
            upper = parts_by_name.get(name)
            if upper is not None and upper.notes:
                f, m = parallels(
                    upper.notes, bass.notes, beats_per_bar=bpb, key=plan.key, name=name
                )
                found += f
                moves += m
    # Pop voicings allow an occasional parallel; the sub-score falls as they become a habit.
    rate = len(found) / moves if moves else 0.0
    voice = max(0.0, 1.0 - 4.0 * rate)
    reasons += found[:8]
    if len(found) > 8:
        reasons.append(f"... and {len(found) - 8} more parallel fifths or octaves")
    lead = tune_part(score)
    whole = ordered(lead.notes) if lead is not None else []
    ctx = section_context(plan, plan.sections[0])
    rng, tess, r_rng, meas = range_check(ctx, whole, label="the lead")
    parts = {"lead": lead_score, "voice_leading": voice, "lead_range": rng * tess}
    extra = {
        "parallels": float(len(found)),
        "voice_moves": float(moves),
        "parallel_rate": rate,
        "wrong_notes": wrong,
        "unresolved_leaps": unresolved,
        "lead_ambitus": meas["ambitus"],
        "lead_tessitura_share": meas["tessitura_share"],
    }
    return make_verdict("theory", "score", parts, SCORE_WEIGHTS, [*reasons, *r_rng], extra)
