"""The studio's operations on a written song: extend it, restyle it, make variations of it,
repaint one section of it. Each reads a song folder (``load_source``), writes a new song
folder, and never touches the source; the new ``song.json`` records its lineage.

What each keeps is kept in the score exactly, note for note:

- ``extend``: every bar of the source (its tail moved after the new sections when it ends on
  an outro); new sections keep its key, tempo, instrumentation and tune, a returning kind
  (a chorus) returns as the source sang or played it, and a new kind (a bridge) is written
  from the source's own motifs.
- ``restyle``: the tune (and its lyrics), the form and the chords; the genre's band plays them.
- ``vary``: what ``keep`` names (melody, chords, structure, lyrics); the rest is new.
- ``regenerate``: every section but the one repainted.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from overture.critique.context import TUNE_PARTS, tune_part
from overture.errors import InvalidInputError
from overture.pipeline import Song, compose_thinking
from overture.plan import Plan, PlanSection
from overture.score import Note, Part, Score
from overture.spec import SongSpec
from overture.studio.source import SourceSong, load_source

Progress = Callable[[str, float], None]
KEEPABLE = ("melody", "chords", "structure", "lyrics")
MAX_VARIATIONS = 100


# ----------------------------------------------------------------------------- helpers
def _beats(plan: Plan | Score, bar: int) -> float:
    return bar * plan.time_signature.beats_per_bar


def _in(notes: Iterable[Note], lo: float, hi: float) -> list[Note]:
    return [n for n in notes if lo - 1e-9 <= n.start < hi - 1e-9]


def _moved(notes: Iterable[Note], by: float) -> list[Note]:
    return [replace(n, start=n.start + by) for n in notes]


def _clipped(notes: Iterable[Note], end: float) -> list[Note]:
    return [n if n.end <= end + 1e-9 else replace(n, duration=end - n.start) for n in notes]


def _signature(score: Score, parts: Sequence[str] | None = None) -> tuple[Any, ...]:
    """What a listener hears of a score: pitches and rhythm on a sixteenth grid, per part
    (velocities and micro-timing aside)."""
    return _signature_of({p.name: p.notes for p in score.parts if parts is None or p.name in parts})


def _stable_seed(*parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _check_out(src: SourceSong, out: Path) -> None:
    """The source folder is never written: not as the destination, nor inside it."""
    a, b = src.folder.resolve(), Path(out).resolve()
    if a == b or a in b.parents:
        raise InvalidInputError(f"--out {out} is inside the source song folder; choose another")
    if b in a.parents:
        raise InvalidInputError(f"--out {out} holds the source song folder; choose another")


def _score(plan: Plan, parts: list[Part]) -> Score:
    from overture.compose import score_of

    return score_of(plan, parts)


def _derived(
    src: SourceSong,
    spec: SongSpec,
    plan: Plan,
    score: Score,
    *,
    operation: str,
    options: dict[str, Any],
    trace: Any = None,
) -> Song:
    """The derived song, reviewed by the critics, with its lineage: the operation, its
    options and the source (carrying the source's own lineage, so the whole ancestry
    travels with every descendant)."""
    from overture.pipeline import originality, review_score, song_id

    song = Song(id=song_id(score.to_json()), spec=spec, plan=plan, score=score)
    song.lineage = {
        "operation": operation,
        "options": options,
        "parents": [src.parent_entry()],
    }
    song.originality = originality(score)
    song.trace = trace
    review_score(song)
    return song


@dataclass(frozen=True, slots=True)
class Output:
    """Where and how an operation writes its song folder(s)."""

    out: str | Path | None = None
    formats: str | Iterable[str] | None = None
    soundfont: str | Path | None = None
    workers: int = 2
    force: bool = False
    progress: Progress | None = None

    def check(self, src: SourceSong | None = None) -> None:
        """Refuse, before any work is done, what would fail only at the end: a destination
        that is not free (or is the source's own folder), an unknown format, no soundfont."""
        if self.out is None:
            return
        from overture.output import check_output
        from overture.pipeline import parse_formats
        from overture.render import resolve_soundfont

        if src is not None:
            _check_out(src, Path(self.out))
        check_output(Path(self.out), force=self.force)
        parse_formats(self.formats)
        resolve_soundfont(self.soundfont)

    def write(
        self,
        song: Song,
        folder: Path,
        *,
        progress: Progress | None = None,
        started: float | None = None,
    ) -> None:
        """Write every file of ``song`` into the existing ``folder``."""
        from overture.pipeline import parse_formats, write_song
        from overture.render import resolve_soundfont

        write_song(
            song,
            folder,
            formats=parse_formats(self.formats),
            soundfont=resolve_soundfont(self.soundfont),
            workers=self.workers,
            progress=progress or self.progress,
            started=started,
        )

    def save(self, song: Song, *, started: float | None = None) -> Song:
        """``song`` written to ``out`` (whole or not at all), when there is one."""
        if self.out is None:
            return song
        from overture.pipeline import song_folder

        with song_folder(self.out, force=self.force) as tmp:
            self.write(song, tmp, started=started)
        song.out_dir = Path(self.out)
        return song


def _section(src: SourceSong, section: str) -> PlanSection:
    for s in src.plan.sections:
        if s.id == section:
            return s
    ids = ", ".join(s.id for s in src.plan.sections)
    raise InvalidInputError(f"no section {section!r} in {src.folder} (it has {ids})")


# ----------------------------------------------------------------------------- regenerate
def regenerate(
    source: str | Path | SourceSong,
    section: str,
    *,
    seed: int | None = None,
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    workers: int = 2,
    force: bool = False,
    progress: Progress | None = None,
) -> Song:
    """Repaint one section (``"chorus2"``): its notes in every part are written again, the
    tune from the song's own motifs, the band with another seed; every other note of the
    score stays exactly as it was, and so do the form and the chords."""
    import time

    t0 = time.perf_counter()
    src = source if isinstance(source, SourceSong) else load_source(source)
    io = Output(out, formats, soundfont, workers, force, progress)
    io.check(src)
    target = _section(src, section)
    base_seed = _stable_seed("regenerate", src.id, section) if seed is None else int(seed)
    lo = _beats(src.plan, target.start_bar)
    last = target is src.plan.sections[-1]
    hi = src.score.end_beat + 1 if last else _beats(src.plan, target.end_bar)
    tune_id = _tune_id(src)
    before = {p.name: _in(p.notes, lo, hi) for p in src.score.parts}
    for attempt in range(4):
        new_seed = base_seed + attempt
        spec = replace(src.spec, seed=new_seed)
        plan = replace(src.plan, spec=spec, tune_id=tune_id)
        fresh, trace = compose_thinking(plan, progress, fresh={target.id: 1 + new_seed % 997})
        by_name = {p.name: p for p in fresh.parts}
        parts = []
        for p in src.score.parts:
            kept = [n for n in p.notes if not lo - 1e-9 <= n.start < hi - 1e-9]
            new = _in(by_name[p.name].notes, lo, hi) if p.name in by_name else []
            if not last:
                new = _clipped(new, hi)
            parts.append(replace(p, notes=sorted(kept + new, key=lambda n: (n.start, n.pitch))))
        score = replace(src.score, parts=parts)
        changed = {p.name: _in(p.notes, lo, hi) for p in parts}
        if _signature_of(changed) != _signature_of(before):
            break
    else:  # pragma: no cover - four seeds all writing the same notes
        raise InvalidInputError(f"could not write {section} any differently")
    trace.drafts = [d for d in trace.drafts if d.section == target.id]
    plan = replace(plan, spec=replace(spec, seed=src.spec.seed))
    song = _derived(
        src,
        plan.spec,
        plan,
        score,
        operation="regenerate",
        options={"section": section, "seed": new_seed},
        trace=trace,
    )
    return io.save(song, started=t0)


def _signature_of(notes: dict[str, list[Note]]) -> tuple[Any, ...]:
    return tuple(
        (k, tuple((n.pitch, round(n.start * 4), round(n.duration * 4)) for n in v))
        for k, v in sorted(notes.items())
    )


def _tune_id(src: SourceSong) -> str:
    """The identity the source's tune was drawn from (its own, or its source's)."""
    from overture.compose.melody import tune_id

    return src.plan.tune_id or tune_id(src.plan, src.spec.seed)


# ----------------------------------------------------------------------------- extend
def _added_kinds(src: SourceSong, bars: int) -> list[tuple[str, int]]:
    """New sections for ``bars`` more bars, as long as the source's choruses (or verses): a
    bridge and the chorus again, then verse and chorus pairs (themes and variations for a
    through-composed piece). Bars left over lengthen the bridge, the one section written
    new rather than returning."""
    kinds = {s.kind: s.bars for s in src.plan.sections}
    if "variation" in kinds or "theme" in kinds:
        cycle = ["bridge", "variation", "theme", "variation"]
    else:
        cycle = ["bridge", "chorus", "verse", "chorus"]
    unit = kinds.get(cycle[1]) or kinds.get(cycle[2]) or 8
    out: list[tuple[str, int]] = []
    left, i = bars, 0
    while left >= kinds.get(cycle[i % len(cycle)], unit):
        kind = cycle[i % len(cycle)]
        n = kinds.get(kind, unit)
        out.append((kind, n))
        left -= n
        i += 1
    if not out:
        return [("bridge", bars)]
    out[0] = (out[0][0], out[0][1] + left)
    return out


def extension(
    source: SourceSong, *, to: float | None = None, add: str | Sequence[str] | None = None
) -> list[tuple[str, int]]:
    """The sections ``extend`` would add (kind, bars), or ``InvalidInputError`` saying why
    the request cannot be met: it names neither or both of ``to`` and ``add``, the song is a
    loop, ``to`` is not a bar or more longer than the song, a section is unknown, or the
    result would pass the engine's limits. Instant: a service checks requests with it."""
    from overture.spec import (
        MAX_DURATION,
        MAX_SECTIONS,
        SECTION_BARS,
        parse_structure,
        release_tail,
    )

    if (to is None) == (add is None):
        raise InvalidInputError("extend needs a length to reach or sections to add (one, not both)")
    if source.score.loop:
        raise InvalidInputError("a seamless loop has no end to continue from; vary it instead")
    plan0, score0 = source.plan, source.score
    bar_s = plan0.bar_seconds
    if add is not None:
        by_kind = {s.kind: s.bars for s in plan0.sections}
        added = [(k, by_kind.get(k, SECTION_BARS[k])) for k in parse_structure(add)]
    else:
        assert to is not None
        if not score0.duration < to <= MAX_DURATION:
            raise InvalidInputError(
                f"--to {to:g} s must be longer than the song ({score0.duration:.1f} s) "
                f"and at most {MAX_DURATION:g} s"
            )
        more = int((to - release_tail(to)) / bar_s + 1e-9) - plan0.bars
        if more < 1:
            raise InvalidInputError(
                f"--to {to:g} s adds less than a bar ({bar_s:.2f} s) to the song"
            )
        added = _added_kinds(source, more)
    if len(plan0.sections) + len(added) > MAX_SECTIONS:
        raise InvalidInputError(
            f"{len(plan0.sections) + len(added)} sections is more than {MAX_SECTIONS}"
        )
    seconds = score0.duration + sum(n for _, n in added) * bar_s
    if seconds > MAX_DURATION + 1e-6:
        raise InvalidInputError(
            f"the extended song would last {seconds:.0f} s, more than {MAX_DURATION:g} s"
        )
    return added


def extend(
    source: str | Path | SourceSong,
    *,
    to: float | None = None,
    add: str | Sequence[str] | None = None,
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    workers: int = 2,
    force: bool = False,
    progress: Progress | None = None,
) -> Song:
    """Continue a song: to ``to`` seconds, or with the sections ``add`` names ("bridge
    chorus outro"). New sections go before the source's closing outro (which stays the
    ending), or after its last bar when it has none or when ``add`` brings its own outro.

    Every bar of the source is kept note for note (its final chord, no longer final, stops
    at the bar line). A section of a kind the source has (a chorus) returns with the source's
    chords and tune, sung with its words in a song with lyrics; a new kind (a bridge) is
    written from the source's own motifs (its tune identity), in its key, tempo, metre and
    instrumentation.
    """
    import time

    from overture.plan import _harmony, _sections
    from overture.spec import MAX_DURATION, duration_for_bars, release_tail

    t0 = time.perf_counter()
    src = source if isinstance(source, SourceSong) else load_source(source)
    io = Output(out, formats, soundfont, workers, force, progress)
    io.check(src)
    plan0, score0 = src.plan, src.score
    bpb = plan0.time_signature.beats_per_bar
    sections0 = list(plan0.sections)
    ends_on_outro = sections0[-1].kind == "outro" and len(sections0) > 1
    added = extension(src, to=to, add=add)
    insert_outro = ends_on_outro and not any(k == "outro" for k, _ in added)
    at = len(sections0) - 1 if insert_outro else len(sections0)  # where the new ones go
    kinds = [(s.kind, s.bars) for s in sections0[:at]] + added
    kinds += [(s.kind, s.bars) for s in sections0[at:]]
    shift_bars = sum(n for _, n in added)
    shift = shift_bars * bpb
    bars = plan0.bars + shift_bars
    at_bar = sections0[at].start_bar if at < len(sections0) else plan0.bars
    # The new form: the source's own sections as they are, the new ones as the planner
    # numbers them and sets their energy and parts.
    planned = _sections(kinds, plan0.parts)
    sections: list[PlanSection] = []
    for i, s in enumerate(planned):
        if i < at:
            sections.append(sections0[i])
        elif i >= at + len(added):
            old = sections0[i - len(added)]
            sections.append(
                replace(old, start_bar=old.start_bar + shift_bars, end_bar=old.end_bar + shift_bars)
            )
        else:
            parts = s.parts
            if "vocals" in plan0.parts:
                # The voice sings again only a kind it has sung: new sections are the band's.
                sung_kinds = {ph.kind for ph in plan0.phrases}
                parts = tuple(p for p in parts if p != "vocals")
                if s.kind in sung_kinds:
                    parts = (*parts, "vocals")
            sections.append(replace(s, parts=parts))
    new_secs = sections[at : at + len(added)]
    tempo = plan0.tempo
    if insert_outro:  # the source's ending, moved: its final chord rings as it did
        end_beat = score0.end_beat + shift
        duration = duration_for_bars(1, end_beat * 60.0 / tempo)
    elif to is not None:
        duration = float(to)
        end_beat = round((duration - release_tail(duration)) * tempo / 60.0, 6)
    else:
        end_beat = float(bars * bpb)
        duration = duration_for_bars(1, end_beat * 60.0 / tempo)
    if duration > MAX_DURATION:
        raise InvalidInputError(
            f"the extended song would last {duration:.0f} s, more than {MAX_DURATION:g} s"
        )
    # Chords: the source's for its bars; a returning kind takes its source section's chords,
    # a new kind the planner's harmony for the whole new form.
    model = _harmony(
        tuple(sections), plan0.key, plan0.style, random.Random(f"plan:{src.spec.seed}"), loop=False
    )
    chords = list(plan0.chords[:at_bar])
    copies: dict[str, PlanSection] = {}
    for s in new_secs:
        like = [o for o in sections0 if o.kind == s.kind]
        same = [o for o in like if o.bars == s.bars]
        if like:
            o = (same or like)[0]
            copies[s.id] = o
            cyc = plan0.chords[o.start_bar : o.end_bar]
            chords += [cyc[j % len(cyc)] for j in range(s.bars)]
        else:
            chords += model[s.start_bar : s.end_bar]
    chords += plan0.chords[at_bar:]
    spec = replace(src.spec, duration=duration, structure=tuple(k for k, _ in kinds))
    tune_id = _tune_id(src)
    plan = replace(
        plan0,
        spec=spec,
        bars=bars,
        end_beat=end_beat,
        duration=duration,
        sections=tuple(sections),
        chords=tuple(chords),
        tune_id=tune_id,
    )
    phrases = _extended_phrases(plan0, plan, new_secs, copies, at_bar, shift_bars)
    plan = replace(plan, phrases=tuple(phrases))
    fresh, trace = compose_thinking(plan, progress)
    by_name = {p.name: p for p in fresh.parts}
    cut = at_bar * bpb
    parts: list[Part] = []
    for p in score0.parts:
        notes = [n for n in p.notes if n.start < cut - 1e-9]
        if not insert_outro:  # the source's final chord, no longer final, stops at its bar
            notes = _clipped(notes, cut)
        for s in new_secs:
            lo, hi = _beats(plan, s.start_bar), _beats(plan, s.end_bar)
            if not insert_outro and s is new_secs[-1]:  # the song's new ending rings on
                hi = plan.end_beat + 1
            end = min(hi, plan.end_beat)
            o = copies.get(s.id)
            if p.name in TUNE_PARTS and o is not None:
                olo, ohi = _beats(plan0, o.start_bar), _beats(plan0, o.end_bar)
                notes += _clipped(_moved(_clipped(_in(p.notes, olo, ohi), ohi), lo - olo), end)
            elif p.name in by_name:
                notes += _clipped(_in(by_name[p.name].notes, lo, hi), end)
        notes += _moved([n for n in p.notes if n.start >= cut - 1e-9], shift)
        parts.append(replace(p, notes=sorted(notes, key=lambda n: (n.start, n.pitch))))
    score = _score(plan, parts)
    trace.drafts = [d for d in trace.drafts if d.section in {s.id for s in new_secs}]
    options: dict[str, Any] = {"to": to} if to is not None else {"add": [k for k, _ in added]}
    options["sections"] = [s.id for s in new_secs]
    song = _derived(src, spec, plan, score, operation="extend", options=options, trace=trace)
    return io.save(song, started=t0)


def _extended_phrases(
    plan0: Plan,
    plan: Plan,
    new_secs: list[PlanSection],
    copies: dict[str, PlanSection],
    at_bar: int,
    shift_bars: int,
) -> list[Any]:
    """The lyric phrases of the extended form: the source's (moved with its tail), and a
    returning section's again, in its new place."""
    out = []
    for ph in plan0.phrases:
        if ph.start_bar < at_bar:
            out.append(ph)
    for s in new_secs:
        o = copies.get(s.id)
        if o is None or "vocals" not in s.parts:
            continue
        for ph in plan0.phrases_of(o.id):
            out.append(
                replace(ph, section=s.id, start_bar=ph.start_bar - o.start_bar + s.start_bar)
            )
    for ph in plan0.phrases:
        if ph.start_bar >= at_bar:
            moved = plan.section_at(ph.start_bar + shift_bars)
            out.append(replace(ph, section=moved.id, start_bar=ph.start_bar + shift_bars))
    return out


# ----------------------------------------------------------------------------- restyle
def _fit_range(notes: list[Note], instrument: str) -> list[Note]:
    """``notes`` moved by whole octaves (none if they fit) into ``instrument``'s compass."""
    from overture.instruments import INSTRUMENTS

    inst = INSTRUMENTS[instrument]
    if not notes:
        return notes

    def outside(k: int) -> int:
        return sum(not inst.low <= n.pitch + 12 * k <= inst.high for n in notes)

    best = min((-2, -1, 0, 1, 2), key=lambda k: (outside(k), abs(k)))
    return notes if best == 0 else [replace(n, pitch=n.pitch + 12 * best) for n in notes]


def _band_parts(
    plan: Plan, sections: Sequence[PlanSection], tune: str | None, plays: set[str]
) -> tuple[PlanSection, ...]:
    """The sections of ``plan``'s form with the parts the new band plays in each (as the
    planner chooses them for its kind), and the tune where ``plays`` says it sounded."""
    from overture.plan import _section_parts

    counts: dict[str, int] = {}
    out = []
    band = {k: v for k, v in plan.parts.items() if k not in TUNE_PARTS}
    for s in sections:
        counts[s.kind] = counts.get(s.kind, 0) + 1
        want = set(_section_parts(s.kind, band, first=counts[s.kind] == 1)) if band else set()
        if tune is not None and s.id in plays:
            want.add(tune)
        out.append(replace(s, parts=tuple(p for p in plan.parts if p in want)))
    return tuple(out)


def _tune_sections(src: SourceSong) -> set[str]:
    """The sections in which the source's tune sounds."""
    return {s.id for s in src.plan.sections if any(p in s.parts for p in TUNE_PARTS)}


def _with_tune(plan: Plan, band: Score, tune: Part | None) -> Score:
    """``band``'s parts with ``tune`` (moved into the range of the plan's tune instrument)
    in its place in the plan's part order."""
    from overture.compose import part_of

    parts = {p.name: p for p in band.parts}
    if tune is not None:
        name = "vocals" if tune.name == "vocals" else "lead"
        instrument = plan.parts[name]
        if name == "vocals":
            parts[name] = replace(tune, notes=list(tune.notes))
        else:
            parts[name] = part_of(name, instrument, _fit_range(list(tune.notes), instrument))
    return _score(plan, [parts[k] for k in plan.parts if k in parts])


def restyle_target(
    source: SourceSong,
    prompt: str,
    *,
    tempo: float | None = None,
    instruments: list[str] | None = None,
) -> tuple[str, float, list[str]]:
    """The style, tempo and instruments ``restyle`` would use for ``prompt``, or
    ``InvalidInputError`` when it names no style or instrument, or a tempo out of range.
    Instant: a service checks requests with it."""
    from overture.prompt import parse_prompt
    from overture.spec import check_tempo

    info = parse_prompt(prompt or "")
    asked = list(instruments) if instruments is not None else list(info.instruments)
    if info.genre is None and not asked:
        raise InvalidInputError(
            f'no style or instrument in {prompt!r} to restyle to (e.g. "jazz trio")'
        )
    the_tempo = check_tempo(float(tempo or info.tempo or source.plan.tempo))
    return info.genre or source.spec.genre, the_tempo, asked


def restyle(
    source: str | Path | SourceSong,
    prompt: str,
    *,
    tempo: float | None = None,
    instruments: list[str] | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    workers: int = 2,
    force: bool = False,
    progress: Progress | None = None,
) -> Song:
    """A cover: the same tune (and lyrics), form and chords, played by the band of the style
    ``prompt`` names ("jazz trio", "lo-fi hip hop"): its instruments, groove and voicings.
    The tune moves by whole octaves only, into the new lead instrument's compass. The tempo
    stays unless ``tempo`` (or the prompt) gives one."""
    import time

    from overture.plan import VOCALS_INSTRUMENT, _arrangement
    from overture.prompt import parse_prompt
    from overture.spec import duration_for_bars
    from overture.styles import STYLES

    t0 = time.perf_counter()
    src = source if isinstance(source, SourceSong) else load_source(source)
    io = Output(out, formats, soundfont, workers, force, progress)
    io.check(src)
    info = parse_prompt(prompt or "")
    genre, the_tempo, asked = restyle_target(src, prompt, tempo=tempo, instruments=instruments)
    parts = _arrangement(STYLES[genre], tuple(asked))
    tune = tune_part(src.score)
    if tune is not None and tune.name == "vocals":
        parts = {k: v for k, v in parts.items() if k != "lead"} | {"vocals": VOCALS_INSTRUMENT}
    elif tune is not None and "lead" not in parts:
        parts["lead"] = tune.instrument
    end_s = src.score.end_beat * 60.0 / the_tempo
    duration = src.score.duration if the_tempo == src.plan.tempo else duration_for_bars(1, end_s)
    spec = replace(
        src.spec,
        prompt=prompt,
        genre=genre,
        moods=tuple(info.moods) or src.spec.moods,
        instruments=tuple(asked),
        tempo=the_tempo,
        duration=duration,
        seed=src.spec.seed if seed is None else int(seed),
        title=f"{src.title} ({genre})",
        sources={**src.spec.sources, "genre": "prompt" if info.genre else "source"},
    )
    plan = replace(
        src.plan,
        spec=spec,
        style=STYLES[genre],
        tempo=the_tempo,
        duration=duration,
        parts=parts,
        tune_id="",
    )
    tune_name = None if tune is None else ("vocals" if tune.name == "vocals" else "lead")
    plan = replace(
        plan, sections=_band_parts(plan, src.plan.sections, tune_name, _tune_sections(src))
    )
    band = replace(plan, parts={k: v for k, v in parts.items() if k not in TUNE_PARTS})
    band_score, trace = compose_thinking(band, progress)
    score = _with_tune(plan, band_score, tune)
    song = _derived(
        src,
        spec,
        plan,
        score,
        operation="restyle",
        options={"prompt": prompt, "genre": genre, "tempo": the_tempo, "seed": spec.seed},
        trace=trace,
    )
    return io.save(song, started=t0)


# ----------------------------------------------------------------------------- vary
def parse_keep(keep: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"melody,chords"`` -> the things to keep, checked."""
    if keep is None:
        return ()
    items = keep.replace(",", " ").split() if isinstance(keep, str) else list(keep)
    out = []
    for item in items:
        word = str(item).strip().lower()
        if word not in KEEPABLE:
            raise InvalidInputError(f"cannot keep {item!r} (choose from {', '.join(KEEPABLE)})")
        out.append(word)
    return tuple(dict.fromkeys(out))


def _variation(src: SourceSong, keep: set[str], seed: int, progress: Progress | None) -> Any:
    """One take: (spec, plan, score, trace) keeping ``keep`` and drawing the rest from
    ``seed``."""
    from overture.compose.harmonise import melody_chords
    from overture.plan import _harmony, make_plan

    spec = replace(src.spec, seed=seed)
    tune = tune_part(src.score)
    if keep & {"structure", "melody", "chords", "lyrics"}:
        plan = replace(src.plan, spec=spec, tune_id="")
        if "chords" not in keep:
            rng = random.Random(f"vary:{seed}")
            if "melody" in keep and tune is not None:
                chords = melody_chords(
                    tune.notes, plan.bars, plan.key, plan.time_signature, rng=rng
                )
            else:
                chords = list(_harmony(plan.sections, plan.key, plan.style, rng, loop=spec.loop))
            plan = replace(plan, chords=tuple(chords))
    else:
        plan = make_plan(replace(spec, structure=(), chords=(), melody=None))
    if "melody" in keep and tune is not None:
        band = replace(plan, parts={k: v for k, v in plan.parts.items() if k not in TUNE_PARTS})
        band_score, trace = compose_thinking(band, progress)
        score = _with_tune(plan, band_score, tune)
    else:
        score, trace = compose_thinking(plan, progress)
    return spec, plan, score, trace


def vary(
    source: str | Path | SourceSong,
    n: int = 1,
    *,
    keep: str | Iterable[str] | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    formats: str | Iterable[str] | None = None,
    soundfont: str | Path | None = None,
    workers: int = 2,
    force: bool = False,
    progress: Progress | None = None,
) -> list[Song]:
    """``n`` new takes of a song, written to ``out/var01`` ... ``out/varNN``: each keeps what
    ``keep`` names (melody, chords, structure, lyrics) exactly and draws the rest again, in
    the song's key, tempo, metre, length and style. Every take differs from the source and
    from every other take in what is heard (pitches and rhythm, not just loudness). The
    words of a sung song are always kept (the engine writes tunes, not lyrics), and so its
    form. The folder is written whole or not at all."""
    import time

    from overture.pipeline import song_folder

    t0 = time.perf_counter()
    if not 1 <= n <= MAX_VARIATIONS:
        raise InvalidInputError(f"-n {n}: make between 1 and {MAX_VARIATIONS} variations")
    kept = set(parse_keep(keep))
    src = source if isinstance(source, SourceSong) else load_source(source)
    io = Output(out, formats, soundfont, workers, force, progress)
    io.check(src)
    if src.spec.lyrics is not None:
        kept.add("lyrics")
    heard = {_signature(src.score)}
    songs: list[Song] = []
    width = max(2, len(str(n)))
    k = 0
    while len(songs) < n:
        if k >= 4 * n + 8:
            raise InvalidInputError(
                f"only {len(songs)} distinct variations could be made keeping "
                f"{', '.join(sorted(kept))}; ask for fewer, or keep less"
            )
        take_seed = _stable_seed("vary", src.id, seed, k)
        k += 1
        if progress:
            progress(f"variation {len(songs) + 1} of {n}", len(songs) / n)
        spec, plan, score, trace = _variation(src, kept, take_seed, progress)
        sig = _signature(score)
        if sig in heard:
            continue
        heard.add(sig)
        options = {
            "keep": sorted(kept),
            "take": len(songs) + 1,
            "of": n,
            "seed": take_seed,
        }
        take = _derived(src, spec, plan, score, operation="vary", options=options, trace=trace)
        take.spec = replace(take.spec, title=f"{src.title} (take {len(songs) + 1})")
        songs.append(take)
    if out is None:
        return songs
    with song_folder(out, force=force) as tmp:
        for i, take in enumerate(songs, 1):
            folder = tmp / f"var{i:0{width}d}"
            folder.mkdir()

            def sub(stage: str, fraction: float, i: int = i) -> None:
                if progress:
                    progress(f"take {i}: {stage}", (i - 1 + fraction) / n)

            io.write(take, folder, progress=sub, started=t0)
    for i, take in enumerate(songs, 1):
        take.out_dir = Path(out) / f"var{i:0{width}d}"
    return songs
