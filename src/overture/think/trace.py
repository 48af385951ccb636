"""The reasoning trace: what the engine planned, every draft it judged, and why it kept,
rejected or retracted each one. Written as ``trace.json`` beside the song and printed for a
person by ``overture explain DIR``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError

KEPT, REJECTED, RETRACTED = "kept", "rejected", "retracted"


@dataclass(slots=True)
class DraftEntry:
    """One draft of one section, as judged."""

    section: str  # section id, e.g. "chorus1"
    attempt: int  # 1-based, over the section's whole budget
    round: int  # 1-based: a retraction starts a new round with a changed plan
    change: str | None  # the plan change this draft was written under (None: the plan as is)
    critics: dict[str, float]  # raw score per critic
    contributions: dict[str, float]  # per critic: its share of the standardised mean
    combined: float
    status: str = REJECTED
    reason: str = ""
    notes: int = 0  # how many notes the draft has


@dataclass(slots=True)
class Trace:
    """Everything the loop did, in order."""

    budget: int
    think: str | None  # the named level, if the budget came from one
    bar: float  # a section whose best draft scores below this is retracted and re-planned
    plan: dict[str, Any] = field(default_factory=dict)
    drafts: list[DraftEntry] = field(default_factory=list)
    audio: list[dict[str, Any]] = field(default_factory=list)  # audio review and fixes
    final: dict[str, Any] = field(default_factory=dict)

    def section_drafts(self, section: str) -> list[DraftEntry]:
        return [d for d in self.drafts if d.section == section]

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "think": self.think,
            "bar": self.bar,
            "plan": self.plan,
            "drafts": [asdict(d) for d in self.drafts],
            "audio": self.audio,
            "final": self.final,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8")


def load_trace(folder: str | Path) -> dict[str, Any]:
    """The trace of the song in ``folder`` (its ``trace.json``)."""
    path = Path(folder) / "trace.json"
    if not path.is_file():
        raise InvalidInputError(
            f"no trace.json in {folder}: not a song folder written by `overture generate`"
        )
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("drafts"), list):
        raise InvalidInputError(f"{path} is not a reasoning trace")
    return data


def _critics_line(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in d.get("critics", {}).items())


def explain(trace: dict[str, Any]) -> str:
    """The trace as a person reads it: the plan, then per section what was drafted, what
    was kept, and why each withdrawn draft was withdrawn and what changed; then the audio
    review and the final scores."""
    lines: list[str] = []
    think = trace.get("think")
    level = f" ({think})" if think else ""
    lines.append(
        f"Thinking budget: {trace.get('budget')} drafts per section{level}; "
        f"a section whose best draft scores under {trace.get('bar', 0):.2f} is re-planned."
    )
    plan = trace.get("plan", {})
    if plan:
        form = " ".join(s.get("id", "?") for s in plan.get("sections", []))
        lines.append(
            f"Plan: {plan.get('key', '?')}, {plan.get('tempo', '?')} bpm, "
            f"{plan.get('time_signature', '?')}, {plan.get('bars', '?')} bars: {form}"
        )
    sections: dict[str, list[dict[str, Any]]] = {}
    for d in trace.get("drafts", []):
        sections.setdefault(d["section"], []).append(d)
    for sid, drafts in sections.items():
        kept = next((d for d in drafts if d["status"] == KEPT), None)
        head = f"\n{sid}: {len(drafts)} draft{'s' if len(drafts) != 1 else ''}"
        if kept is not None:
            head += f", kept #{kept['attempt']} (score {kept['combined']:.2f})"
        lines.append(head)
        for d in drafts:
            change = f" [plan change: {d['change']}]" if d.get("change") else ""
            lines.append(
                f"  #{d['attempt']} {d['status']:<9} {d['combined']:.2f}  "
                f"({_critics_line(d)}){change}"
            )
            if d.get("reason"):
                lines.append(f"      {d['reason']}")
    for item in trace.get("audio", []):
        lines.append(f"\nAudio review: {item.get('summary', '')}")
        for r in item.get("reasons", []):
            lines.append(f"  - {r}")
        for fix in item.get("fixes", []):
            lines.append(f"  fix: {fix}")
    final = trace.get("final", {})
    if final:
        lines.append(f"\nAnswer: combined score {final.get('score', 0):.2f}")
        for name, c in final.get("critics", {}).items():
            line = f"  {name:<11} {c.get('score', 0):.2f} (weight {c.get('weight', 1):g})"
            if c.get("not_counted"):
                line += f": not counted, {c['not_counted']}"
            lines.append(line)
    return "\n".join(lines) + "\n"
