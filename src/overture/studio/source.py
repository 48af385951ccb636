"""A song folder read back as the engine's own values: the score as written, and the spec
and plan it was made from, rebuilt from ``score.json`` and ``song.json``.

Every studio operation starts here. The plan is read off the score (its form, chords, parts
and metre) rather than planned again, so a song that was itself derived (extended, restyled,
arranged from a demo) is read exactly as it is.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError
from overture.plan import ENERGY, LyricPhrase, Plan, PlanSection
from overture.score import Score
from overture.spec import SongSpec
from overture.styles import STYLES
from overture.theory import parse_chord

MAX_SONG_JSON = 8 * 1024 * 1024  # a 15-minute song's files are far smaller
MAX_SCORE_JSON = 64 * 1024 * 1024


@dataclass(slots=True)
class SourceSong:
    """A song folder: its id, ``song.json``, the score, and the spec and plan behind it."""

    folder: Path
    id: str
    meta: dict[str, Any]  # song.json
    score: Score
    spec: SongSpec
    plan: Plan

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.spec.title)

    def parent_entry(self) -> dict[str, Any]:
        """How a derived song names this one among its parents: the id, title and seed, and
        this song's own lineage, so that the whole ancestry travels with every descendant."""
        return {
            "kind": "song",
            "id": self.id,
            "title": self.title,
            "prompt": self.spec.prompt,
            "seed": self.spec.seed,
            "lineage": self.meta.get("lineage"),
        }


def _read_json(path: Path, limit: int) -> Any:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InvalidInputError(f"cannot read {path}: {e.strerror or e}") from e
    if size > limit:
        raise InvalidInputError(f"{path} is {size} bytes, too large for a song file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(f"cannot read {path}: {e}") from e


def load_source(folder: str | Path) -> SourceSong:
    """Read the song folder ``folder`` (written by ``overture generate`` or a studio
    operation); ``InvalidInputError`` says what is missing or wrong."""
    from overture.pipeline import song_id

    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInputError(f"song folder not found: {folder}")
    score_path, song_path = folder / "score.json", folder / "song.json"
    for p in (score_path, song_path):
        if not p.is_file():
            raise InvalidInputError(
                f"no {p.name} in {folder}: not a song folder written by `overture generate`"
            )
    data = _read_json(score_path, MAX_SCORE_JSON)
    meta = _read_json(song_path, MAX_SONG_JSON)
    if not isinstance(meta, dict) or not isinstance(meta.get("spec"), dict):
        raise InvalidInputError(f"{song_path} is not a song description")
    try:
        score = Score.from_dict(data)
    except (KeyError, TypeError, ValueError, InvalidInputError) as e:
        raise InvalidInputError(f"{score_path} is not a readable score: {e}") from e
    if not score.sections or not score.parts or len(score.chords) < score.bars:
        raise InvalidInputError(f"{score_path} is not a whole score (no form, parts or chords)")
    spec = spec_of(meta, score)
    plan = plan_of(score, spec, meta)
    return SourceSong(
        folder=folder,
        id=str(meta.get("id") or song_id(score.to_json())),
        meta=meta,
        score=score,
        spec=spec,
        plan=plan,
    )


def sheet_of(meta: dict[str, Any]) -> Any:
    """The lyric sheet of a sung song, parsed again from the sections and lines that
    ``song.json`` lists (None for an instrumental song)."""
    from overture.lyrics import parse_lyrics

    lyrics = meta.get("lyrics")
    if not isinstance(lyrics, dict) or not lyrics.get("sections"):
        return None
    blocks = []
    for sec in lyrics["sections"]:
        tag = str(sec.get("label") or sec.get("type") or "verse").replace("]", "")
        lines = [str(line["text"]) for line in sec.get("lines", [])]
        blocks.append("\n".join([f"[{tag}]", *lines]))
    return parse_lyrics("\n\n".join(blocks))


def spec_of(meta: dict[str, Any], score: Score) -> SongSpec:
    """The spec of a written song: what ``song.json`` says was asked, with the tempo, key,
    metre and length the score actually has."""
    s = meta["spec"]
    genre = str(s.get("genre", ""))
    if genre not in STYLES:
        raise InvalidInputError(f"song.json names an unknown genre {genre!r}")
    thinking = s.get("thinking") or {}
    words = s.get("prompt_words") or {}
    sheet = sheet_of(meta)
    return SongSpec(
        prompt=str(s.get("prompt", "")),
        genre=genre,
        moods=tuple(s.get("moods", ())),
        instruments=tuple(s.get("instruments", ())),
        tempo=score.tempo,
        key=score.key,
        time_signature=score.time_signature,
        duration=score.duration,
        seed=int(s.get("seed", meta.get("seed", 0))),
        title=str(meta.get("title") or s.get("title") or ""),
        sources=dict(s.get("sources", {})),
        used_words=tuple(words.get("used", ())),
        ignored_words=tuple(words.get("ignored", ())),
        loop=score.loop,
        budget=int(thinking.get("budget", 4)),
        think=thinking.get("level"),
        lyrics=sheet,
        voice=str(s.get("voice") or (meta.get("lyrics") or {}).get("voice") or "female"),
    )


def plan_of(score: Score, spec: SongSpec, meta: dict[str, Any] | None = None) -> Plan:
    """The plan a score was written from: its form (with the energies ``song.json`` records),
    chords, parts and, for a sung song, the lyric phrases as the vocals sing them."""
    bpb = score.time_signature.beats_per_bar
    form = {f.get("id"): f for f in ((meta or {}).get("plan") or {}).get("form", [])}
    parts = {p.name: p.instrument for p in score.parts}
    sections = []
    for m in score.sections:
        recorded = form.get(m.id, {})
        lo, hi = m.start_bar * bpb, m.end_bar * bpb
        if m is score.sections[-1]:
            hi = math.inf
        playing = set(recorded.get("instruments", {})) or {
            p.name for p in score.parts if any(lo <= n.start < hi for n in p.notes)
        }
        sections.append(
            PlanSection(
                id=m.id,
                kind=m.kind,
                start_bar=m.start_bar,
                end_bar=m.end_bar,
                energy=float(recorded.get("energy", ENERGY.get(m.kind, 0.5))),
                parts=tuple(p for p in parts if p in playing),
            )
        )
    try:
        chords = tuple(parse_chord(c) for c in score.chords[: score.bars])
    except InvalidInputError as e:
        raise InvalidInputError(f"score.json: {e}") from e
    plan = Plan(
        spec=spec,
        style=STYLES[spec.genre],
        key=score.key,
        tempo=score.tempo,
        time_signature=score.time_signature,
        bars=score.bars,
        end_beat=score.end_beat,
        duration=score.duration,
        sections=tuple(sections),
        chords=chords,
        parts=parts,
        tune_id=str(((meta or {}).get("plan") or {}).get("tune_id", "")),
    )
    if spec.lyrics is not None and "vocals" in parts:
        from dataclasses import replace

        plan = replace(plan, phrases=tuple(sung_phrases(score, plan)))
    return plan


def sung_phrases(score: Score, plan: Plan) -> list[LyricPhrase]:
    """The lyric phrases as the score's vocals sing them: each of the sheet's phrases (its
    lines, long ones cut as the setter cuts them) takes its syllables' notes in order, and its
    section and bars are where those notes fall."""
    from overture.compose.setting import sung_lines, syllable_groups

    assert plan.spec.lyrics is not None
    bpb = plan.time_signature.beats_per_bar
    groups = syllable_groups(score.part("vocals").notes)
    lines = [ln for sec in plan.spec.lyrics.sections for ln in sung_lines(sec.lines)]
    starts: list[tuple[Any, int]] = []
    k = 0
    for line in lines:
        if k + len(line.syllables) > len(groups):
            raise InvalidInputError("score.json: the vocals sing fewer syllables than the lyrics")
        got = [g[0].lyric for g in groups[k : k + len(line.syllables)]]
        if got != [s.text for s in line.syllables]:
            raise InvalidInputError(
                f"score.json: the vocals do not sing the lyrics of song.json ({line.text!r})"
            )
        starts.append((line, int(groups[k][0].start // bpb + 1e-9)))
        k += len(line.syllables)
    out: list[LyricPhrase] = []
    index: dict[str, int] = {}
    for i, (line, bar) in enumerate(starts):
        s = plan.section_at(bar)
        nxt = starts[i + 1][1] if i + 1 < len(starts) else s.end_bar
        end = min(s.end_bar, nxt) if nxt > bar else s.end_bar
        out.append(LyricPhrase(line, s.id, s.kind, index.get(s.id, 0), bar, max(1, end - bar)))
        index[s.id] = index.get(s.id, 0) + 1
    return out
