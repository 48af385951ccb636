"""What the section critics need to know about a section, taken from the ``Plan`` once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from overture.instruments import INSTRUMENTS
from overture.plan import Plan, PlanSection
from overture.score import Note, Part, Score
from overture.theory import Chord, Key

PHRASE_BARS = 4
# Genres whose melodies bend the third, the fifth and the seventh (the blue notes).
BLUE_NOTE_STYLES = frozenset({"blues", "jazz", "funk", "r&b", "lo-fi", "rock"})


@dataclass(frozen=True, slots=True)
class SectionContext:
    """A section's harmony and frame: its chords bar by bar, the key, the metre, the lead's
    instrument range. Notes handed to the critics are relative to ``start_bar``."""

    id: str
    kind: str
    start_bar: int
    bars: int
    key: Key
    chords: tuple[Chord, ...]  # one per bar of the section
    beats_per_bar: float
    style: str
    lead_low: int
    lead_high: int
    closes: bool  # the section ends on the tonic chord: its melody should come home

    def chord_at(self, beat: float) -> Chord:
        """The chord at ``beat`` (beats from the section start), clamped to the section."""
        bar = int(beat // self.beats_per_bar + 1e-9)
        return self.chords[min(len(self.chords) - 1, max(0, bar))]

    def song_bar(self, beat: float) -> int:
        """1-based bar number in the song, as a musician counts, for the reasons."""
        return self.start_bar + max(0, int(beat // self.beats_per_bar + 1e-9)) + 1


# The parts that carry a song's tune, in order of preference: the instrumental lead, or the
# sung line of a song with lyrics. The critics judge whichever the song has as its lead.
TUNE_PARTS = ("lead", "vocals")


def tune_part(score: Score) -> Part | None:
    """The score's tune: its lead, or its sung part (see ``TUNE_PARTS``)."""
    by_name = {p.name: p for p in score.parts}
    return next((by_name[n] for n in TUNE_PARTS if n in by_name), None)


def tune_instrument(plan: Plan) -> str:
    """The instrument of the plan's tune part ("" when it has none)."""
    return next((plan.parts[n] for n in TUNE_PARTS if n in plan.parts), "")


def section_context(plan: Plan, section: PlanSection) -> SectionContext:
    lead = INSTRUMENTS.get(tune_instrument(plan))
    n = len(plan.chords)
    chords = tuple(plan.chords[min(n - 1, b)] for b in range(section.start_bar, section.end_bar))
    if not chords:
        chords = (plan.chords[-1],)
    return SectionContext(
        id=section.id,
        kind=section.kind,
        start_bar=section.start_bar,
        bars=max(1, section.bars),
        key=plan.key,
        chords=chords,
        beats_per_bar=plan.time_signature.beats_per_bar,
        style=plan.style.name,
        lead_low=lead.low if lead else 0,
        lead_high=lead.high if lead else 127,
        closes=chords[-1].root == plan.key.tonic,
    )


def lead_by_section(plan: Plan, score: Score) -> dict[str, list[Note]]:
    """The score's lead cut into the plan's sections, each relative to its section's start
    (the shape ``MelodyWriter.draft_section`` returns), for sections that have lead notes."""
    lead = tune_part(score)
    if lead is None:
        return {}
    return split_by_section(plan, lead.notes)


def split_by_section(plan: Plan, notes: Sequence[Note]) -> dict[str, list[Note]]:
    bpb = plan.time_signature.beats_per_bar
    line = sorted(notes, key=lambda n: (n.start, n.pitch))
    out: dict[str, list[Note]] = {}
    for s in plan.sections:
        lo, hi = s.start_bar * bpb, s.end_bar * bpb
        if s is plan.sections[-1]:
            hi = max(hi, plan.end_beat + 1.0)
        part = [
            Note(n.pitch, n.start - lo, n.duration, n.velocity)
            for n in line
            if lo - 1e-6 <= n.start < hi - 1e-6
        ]
        if part:
            out[s.id] = part
    return out
