"""``overture eval``: generate every prompt of a prompt file, measure, compare, report.

For each prompt the engine makes a full song (rendered, into ``OUT/songs/<id>/``) and, for the
melody statistics, ``melodies_per_prompt - 1`` more scores with the next seeds (symbolic only,
instant). Measured:

* adherence on the rendered audio and score: stated tempo (beat tracking, within 2 %; a
  half/double-tempo lock is reported separately), duration (within 1 s or 2 %), key (chroma
  profile; the relative major/minor counts), time signature (from the score);
* the symbolic metrics of :mod:`overture.evaluate.metrics` on the lead melody, for the same
  melodies' two baselines (:mod:`overture.evaluate.baselines`) and for the held-out human
  melodies of the corpus (the "human band" is their mean +- 1 sd);
* MGEval overlapping area and KL divergence per feature (:mod:`overture.evaluate.mgeval`) and
  the Fréchet distance (:mod:`overture.evaluate.frechet`) of the generated melodies and of each
  baseline against the human melodies;
* the longest run each melody shares with a corpus tune, when the originality index exists.

Writes ``OUT/report.md``, ``OUT/report.json`` and ``OUT/plots/*.png``.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from overture.errors import InvalidInputError
from overture.evaluate import audio as audio_mod
from overture.evaluate.baselines import MarkovBaseline, Target, random_in_key, rng_for
from overture.evaluate.frechet import (
    FEATURE_NAMES,
    feature_table,
    frechet_features,
    mean_shift,
)
from overture.evaluate.metrics import (
    MELODY_METRICS,
    Notes,
    drum_in_pattern_rate,
    melody_metrics,
)
from overture.evaluate.mgeval import FEATURES as MGEVAL_FEATURES
from overture.evaluate.mgeval import FeatureComparison, compare_sets
from overture.evaluate.prompts import EvalPrompt, load_prompts
from overture.output import check_output, finish_output, start_output

Progress = Callable[[str, float], None]

OA_TARGET = 0.7
KEY_TARGET = 0.9
FD_TARGET = 0.5  # generated FD at most half of the Markov baseline's
MAX_HUMAN = 2000  # held-out melodies used (a fixed random subset when there are more)
SETS = ("generated", "human", "random", "markov")


# --- helpers ---------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _stats(values: Sequence[float]) -> dict[str, float]:
    a = np.asarray([v for v in values if v is not None and math.isfinite(v)], float)
    if len(a) == 0:
        return {"mean": math.nan, "sd": math.nan, "n": 0}
    return {"mean": float(a.mean()), "sd": float(a.std()), "n": len(a)}


def _notes_from_corpus(m: Any) -> Notes:
    return Notes.make(
        m.pitches,
        m.onsets,
        m.durations,
        beats_per_bar=float(m.beats_per_bar),
        tonic=int(m.tonic),
        mode=str(m.mode),
    )


def tune_notes(score: Any) -> list[Any]:
    """The song's tune: the lead (or the sung line) in the first section of each kind (verse1,
    pre-chorus1, chorus1, bridge1, ...), joined end to end in song order.

    A folk tune in the corpus is its melody stated once; a song's lead states its verse and
    chorus over and over (repeats that are the arrangement, not new melody). Comparing whole
    song leads with folk tunes would measure song length and repetition instead of melody, so
    the evaluation compares tunes with tunes. The final note is capped at a bar (see below).
    """
    from overture.critique.context import tune_part

    part = tune_part(score)  # the lead, or the sung line of a song with lyrics
    if part is None:
        return []
    bpb = score.time_signature.beats_per_bar
    notes = sorted(part.notes, key=lambda n: n.start)
    seen: set[str] = set()
    out: list[Any] = []
    at = 0.0  # where the next kept section starts in the tune
    for sec in score.sections:
        a, b = sec.start_bar * bpb, sec.end_bar * bpb
        inside = [n for n in notes if a - 1e-9 <= n.start < b - 1e-9]
        if sec.kind in seen or not inside:
            continue
        seen.add(sec.kind)
        out += [replace(n, start=n.start - a + at) for n in inside]
        at += b - a
    if out and out[-1].duration > bpb:
        # The song's last note rings on until the song ends: that is the arrangement's ending,
        # not melody. As written, the tune's final note fills its bar.
        out[-1] = replace(out[-1], duration=bpb)
    return out


def _lead(song: Any) -> Notes | None:
    score = song.score
    notes = tune_notes(score)
    if not notes:
        return None
    return Notes.from_score_notes(
        notes,
        beats_per_bar=score.time_signature.beats_per_bar,
        tonic=score.key.tonic,
        mode=score.key.mode,
    )


def _drum_rate(song: Any) -> float:
    drums = [p for p in song.score.parts if p.is_drums]
    if not drums:
        return math.nan
    ts = song.score.time_signature
    notes = Notes.make(
        [n.pitch for p in drums for n in p.notes],
        [n.start for p in drums for n in p.notes],
        [n.duration for p in drums for n in p.notes],
        beats_per_bar=ts.beats_per_bar,
    )
    meter = "triple" if ts.numerator % 3 == 0 else "duple"
    return drum_in_pattern_rate(notes, meter)


# --- the corpus side -------------------------------------------------------------------------


def load_human(max_melodies: int = MAX_HUMAN, seed: int = 0) -> tuple[list[Notes], str | None]:
    """Held-out human melodies as :class:`Notes` (a fixed subset), or ``([], why)``."""
    try:
        from overture.learn.corpus import load_melodies

        melodies = load_melodies("heldout")
    except (ImportError, OSError, ValueError) as e:
        return [], f"human melodies unavailable ({type(e).__name__}: {e})"
    if len(melodies) > max_melodies:
        idx = np.sort(rng_for("human", seed).choice(len(melodies), max_melodies, replace=False))
        melodies = [melodies[i] for i in idx]
    return [_notes_from_corpus(m) for m in melodies], None


def load_markov() -> tuple[MarkovBaseline | None, str | None]:
    """The first-order Markov baseline: the trained model at order 1, else fitted counts."""
    try:
        from overture.learn.melody_model import MelodyModel

        return MarkovBaseline.from_model(MelodyModel.load()), None
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    try:
        from overture.learn.corpus import load_melodies

        return MarkovBaseline.fit(load_melodies("train")), None
    except (ImportError, OSError, ValueError) as e:
        return None, f"Markov baseline unavailable ({type(e).__name__}: {e})"


def _originality() -> Callable[[Notes], int] | None:
    try:
        from overture.learn.originality import longest_match
    except ImportError:
        return None

    def run(notes: Notes) -> int:
        return int(longest_match(list(notes.pitches), list(notes.durations)).notes)

    return run


# --- one prompt ------------------------------------------------------------------------------


def adherence_checks(p: EvalPrompt, song: Any, analysis: audio_mod.AudioAnalysis) -> dict[str, Any]:
    """What the prompt stated (tempo, duration, key, metre) against the audio and the score."""
    e = p.expect
    spec, score = song.spec, song.score
    out: dict[str, Any] = {}
    if e.tempo is not None:
        t = audio_mod.tempo_check(analysis.tempo, e.tempo)
        t.update(stated=e.tempo, score=score.tempo, score_ok=abs(score.tempo / e.tempo - 1) <= 0.02)
        out["tempo"] = t
    if e.duration is not None:
        out["duration"] = {
            "stated": e.duration,
            "measured": analysis.duration,
            "ok": audio_mod.duration_ok(analysis.duration, e.duration),
        }
    if e.key is not None:
        match = audio_mod.key_match((analysis.key_tonic, analysis.key_mode), e.key)
        score_match = audio_mod.key_match((score.key.tonic, score.key.mode), e.key)
        out["key"] = {
            "stated": e.key.name,
            "measured": analysis.key_name,
            "match": match,
            "ok": match != "wrong",
            "score": score.key.name,
            "score_ok": score_match != "wrong",
        }
    if e.time_signature is not None:
        out["time_signature"] = {
            "stated": str(e.time_signature),
            "score": str(score.time_signature),
            "ok": str(score.time_signature) == str(e.time_signature),
        }
    if e.genre is not None:
        out["genre"] = {"stated": e.genre, "engine": spec.genre}  # a hint, not a check
    return out


def _evaluate_prompt(
    p: EvalPrompt,
    songs_dir: Path,
    *,
    seed: int,
    soundfont: str | Path | None,
    workers: int,
    melodies_per_prompt: int,
    markov: MarkovBaseline | None,
    originality: Callable[[Notes], int] | None,
    progress: Callable[[str, float], None],
) -> tuple[dict[str, Any], dict[str, list[Notes]], Notes | None]:
    """(result, melodies per set, the rendered song's lead) for one prompt."""
    from overture.pipeline import generate

    t0 = time.perf_counter()
    folder = songs_dir / p.id
    song = generate(
        p.prompt,
        seed=seed,
        out=folder,
        soundfont=soundfont,
        workers=workers,
        progress=lambda stage, f: progress(stage, 0.8 * f),
    )
    t_generate = time.perf_counter() - t0
    progress("analysing audio", 0.8)
    t1 = time.perf_counter()
    analysis = audio_mod.analyse_audio(folder / "song.flac")
    t_analyse = time.perf_counter() - t1
    progress("melody metrics", 0.95)

    melodies: dict[str, list[Notes]] = {"generated": [], "random": [], "markov": []}
    rows: list[dict[str, Any]] = []
    rendered_lead: Notes | None = None
    for k in range(melodies_per_prompt):
        s = song if k == 0 else generate(p.prompt, seed=seed + k)
        lead = _lead(s)
        if lead is None:
            continue
        if k == 0:
            rendered_lead = lead
        target = Target.like(lead)
        row: dict[str, Any] = {"seed": seed + k, "n_notes": len(lead), "key": s.score.key.name}
        sets = {
            "generated": lead,
            "random": random_in_key(target, rng_for("random", seed, p.id, k)),
        }
        if markov is not None:
            sets["markov"] = markov.generate(target, rng_for("markov", seed, p.id, k))
        for name, notes in sets.items():
            melodies[name].append(notes)
            row[name] = melody_metrics(notes)
            if originality is not None:
                row[name]["longest_match"] = float(originality(notes))
        rows.append(row)

    spec = song.spec
    result = {
        "id": p.id,
        "prompt": p.prompt,
        "expect": p.expect.to_dict(),
        "song_dir": f"songs/{p.id}",
        "song": {
            "id": song.id,
            "title": spec.title,
            "genre": spec.genre,
            "tempo": spec.tempo,
            "key": spec.key.name,
            "time_signature": str(spec.time_signature),
            "duration": spec.duration,
            "parts": [q.name for q in song.score.parts],
        },
        "audio": analysis.to_dict(),
        "checks": adherence_checks(p, song, analysis),
        "drum_in_pattern_rate": _drum_rate(song),
        "melodies": rows,
        "seconds": {"generate": t_generate, "analyse": t_analyse},
    }
    return result, melodies, rendered_lead


# --- the whole run ---------------------------------------------------------------------------


def _failed_prompt(p: EvalPrompt, error: BaseException) -> dict[str, Any]:
    """The result of a prompt whose song could not be made or measured: every stated check
    fails."""
    e = p.expect
    checks: dict[str, Any] = {}
    if e.tempo is not None:
        checks["tempo"] = {
            "estimate": math.nan,
            "ok": False,
            "octave_ok": False,
            "ratio": math.nan,
            "stated": e.tempo,
            "score": math.nan,
            "score_ok": False,
        }
    if e.duration is not None:
        checks["duration"] = {"stated": e.duration, "measured": math.nan, "ok": False}
    if e.key is not None:
        checks["key"] = {
            "stated": e.key.name,
            "measured": None,
            "match": "error",
            "ok": False,
            "score": None,
            "score_ok": False,
        }
    if e.time_signature is not None:
        checks["time_signature"] = {"stated": str(e.time_signature), "score": None, "ok": False}
    message = f"{type(error).__name__}: {error}"
    return {
        "id": p.id,
        "prompt": p.prompt,
        "expect": p.expect.to_dict(),
        "error": message,
        "checks": checks,
        "melodies": [],
    }


def _summary(prompts: list[dict[str, Any]]) -> dict[str, Any]:
    def count(kind: str, field: str = "ok") -> dict[str, Any]:
        checked = [r["checks"][kind] for r in prompts if kind in r["checks"]]
        ok = sum(bool(c[field]) for c in checked)
        failed = [r["id"] for r in prompts if kind in r["checks"] and not r["checks"][kind][field]]
        return {"ok": ok, "stated": len(checked), "failed": failed}

    tempo = count("tempo")
    tempo["octave_only"] = [
        r["id"] for r in prompts if "tempo" in r["checks"] and r["checks"]["tempo"]["octave_ok"]
    ]
    tempo["score_ok"] = count("tempo", "score_ok")["ok"]
    key = count("key")
    key["exact"] = sum(1 for r in prompts if r["checks"].get("key", {}).get("match") == "exact")
    key["score_ok"] = count("key", "score_ok")["ok"]
    return {
        "tempo": tempo,
        "duration": count("duration"),
        "key": key,
        "time_signature": count("time_signature"),
        "errors": [r["id"] for r in prompts if r.get("error")],
    }


def _metric_table(per_set: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for metric in MELODY_METRICS:
        row = {name: _stats([v[metric] for v in values]) for name, values in per_set.items()}
        h, g = row.get("human"), row.get("generated")
        if h and g and h["n"] and g["n"]:
            row["generated_in_band"] = abs(g["mean"] - h["mean"]) <= h["sd"]
        else:
            row["generated_in_band"] = None
        table[metric] = row
    return table


def run_eval(
    prompts_path: str | Path,
    out_dir: str | Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    soundfont: str | Path | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    force: bool = False,
    melodies_per_prompt: int = 4,
    human: Sequence[Notes] | None = None,
    markov: MarkovBaseline | None = None,
    max_human: int = MAX_HUMAN,
) -> dict[str, Any]:
    """Run the evaluation and write ``out_dir/report.md``, ``report.json`` and ``plots/``.

    ``progress(stage, fraction)`` is called with e.g. ``("p03 2/24: rendering", 0.09)``.
    ``human`` (held-out human melodies) and ``markov`` (the Markov baseline) default to the
    shipped corpus; pass them to evaluate against other material. Returns the report as a
    dict (the content of ``report.json``).
    """
    if limit is not None and limit < 1:
        raise InvalidInputError(f"limit must be at least 1, not {limit}")
    if melodies_per_prompt < 1:
        raise InvalidInputError("melodies_per_prompt must be at least 1")
    started = time.perf_counter()
    about, prompts = load_prompts(prompts_path)
    if limit is not None:
        prompts = prompts[:limit]
    dest = Path(out_dir)
    check_output(dest, force=force)
    from overture.render import resolve_soundfont

    sf_path = resolve_soundfont(soundfont)
    tmp = start_output(dest, force=force)
    notes: list[str] = []
    try:
        say = progress or (lambda stage, fraction: None)
        say("loading corpus", 0.0)
        if human is None:
            human_list, why = load_human(max_human, seed)
            if why:
                notes.append(why)
        else:
            human_list = list(human)
        if markov is None:
            markov, why = load_markov()
            if why:
                notes.append(why)
        originality = _originality()
        if originality is None:
            notes.append(
                "originality: overture.learn.originality is not installed; longest corpus "
                "matches were not measured"
            )

        songs_dir = tmp / "songs"
        songs_dir.mkdir()
        results: list[dict[str, Any]] = []
        melodies: dict[str, list[Notes]] = {"generated": [], "random": [], "markov": []}
        first_leads: list[Notes | None] = []
        n = len(prompts)
        for i, p in enumerate(prompts):
            label = f"{p.id} {i + 1}/{n}"

            def sub(stage: str, fraction: float, i: int = i, label: str = label) -> None:
                say(f"{label}: {stage}", (i + min(max(fraction, 0.0), 1.0)) / n)

            try:
                result, sets, lead = _evaluate_prompt(
                    p,
                    songs_dir,
                    seed=seed,
                    soundfont=sf_path,
                    workers=workers,
                    melodies_per_prompt=melodies_per_prompt,
                    markov=markov,
                    originality=originality,
                    progress=sub,
                )
            except Exception as e:  # one broken prompt must not end the evaluation
                result, sets, lead = _failed_prompt(p, e), {}, None
                notes.append(f"{p.id}: generation or analysis failed: {result['error']}")
            results.append(result)
            first_leads.append(lead)
            for name, ms in sets.items():
                melodies[name].extend(ms)
        say("comparing with human melodies", 1.0)
        if not melodies["markov"]:
            melodies.pop("markov")
        all_sets = {"generated": melodies["generated"], "human": human_list}
        all_sets.update({k: v for k, v in melodies.items() if k != "generated"})
        report = _assemble(
            about=about,
            prompts_path=Path(prompts_path),
            seed=seed,
            soundfont=sf_path,
            melodies_per_prompt=melodies_per_prompt,
            results=results,
            sets=all_sets,
            markov=markov,
            originality=originality is not None,
            notes=notes,
        )
        from overture.evaluate.plots import write_plots

        rendered = [
            (r["id"], n) for r, n in zip(results, first_leads, strict=True) if n is not None
        ]
        report["plots"] = write_plots(
            tmp / "plots",
            report,
            all_sets,
            report.pop("_mgeval"),
            rendered,
            report.pop("_metric_values"),
        )
        from overture.evaluate.markdown import render_markdown

        report["run"]["seconds"] = time.perf_counter() - started
        report = _clean(report)
        (tmp / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        (tmp / "report.md").write_text(render_markdown(report), encoding="utf-8")
        finish_output(tmp, dest, force=force)
        tmp = None
        return report
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _assemble(
    *,
    about: str,
    prompts_path: Path,
    seed: int,
    soundfont: Path,
    melodies_per_prompt: int,
    results: list[dict[str, Any]],
    sets: dict[str, list[Notes]],
    markov: MarkovBaseline | None,
    originality: bool,
    notes: list[str],
) -> dict[str, Any]:
    from overture import __version__

    metric_values = {name: [melody_metrics(m) for m in ms] for name, ms in sets.items()}
    human = sets["human"]
    compared = [k for k in ("generated", "random", "markov") if k in sets]
    mg: dict[str, dict[str, FeatureComparison]] = {}
    fd: dict[str, float] = {}
    shifts: dict[str, dict[str, float]] = {}
    if human:
        human_features = feature_table(human)
        for name in compared:
            if sets[name]:
                mg[name] = compare_sets(sets[name], human)
                table = feature_table(sets[name])
                fd[name] = frechet_features(table, human_features)
                z = mean_shift(table, human_features)
                shifts[name] = dict(zip(FEATURE_NAMES, z.tolist(), strict=True))
    else:
        notes.append("no human melodies: MGEval, Fréchet distance and the human band are skipped")

    summary = _summary(results)
    oa = {f: c.oa for f, c in mg.get("generated", {}).items()}
    summary["mgeval_oa"] = {
        "target": OA_TARGET,
        "passed": [f for f, v in oa.items() if v is not None and v >= OA_TARGET],
        "failed": [f for f, v in oa.items() if not (v is not None and v >= OA_TARGET)],
    }
    fd_g, fd_m = fd.get("generated", math.nan), fd.get("markov", math.nan)
    ratio = fd_g / fd_m if fd_m and math.isfinite(fd_m) and fd_m > 0 else math.nan
    summary["frechet"] = {
        "generated": fd_g,
        "markov": fd_m,
        "random": fd.get("random", math.nan),
        "ratio_to_markov": ratio,
        "target_ratio": FD_TARGET,
        "ok": bool(math.isfinite(ratio) and ratio <= FD_TARGET),
    }
    originality_table: dict[str, Any] = {}
    if originality:
        for name in compared:
            values = [
                row[name]["longest_match"]
                for r in results
                for row in r["melodies"]
                if name in row and "longest_match" in row[name]
            ]
            if values:
                a = np.asarray(values)
                originality_table[name] = {
                    "median": float(np.median(a)),
                    "p90": float(np.percentile(a, 90)),
                    "max": float(a.max()),
                    "values": [int(v) for v in a],
                }
    return {
        "about": about,
        "run": {
            "prompts_file": str(prompts_path),
            "prompts": len(results),
            "seed": seed,
            "soundfont": str(soundfont),
            "melodies_per_prompt": melodies_per_prompt,
            "engine_version": __version__,
            "python": platform.python_version(),
            "markov_baseline": markov.source if markov else None,
            "human_melodies": len(human),
        },
        "summary": summary,
        "prompts": results,
        "melody_metrics": {
            "descriptions": MELODY_METRICS,
            "sets": {k: len(v) for k, v in sets.items()},
            "table": _metric_table(metric_values),
        },
        "mgeval": {
            "features": list(MGEVAL_FEATURES),
            "target_oa": OA_TARGET,
            "sets": {name: {f: c.to_dict() for f, c in res.items()} for name, res in mg.items()},
        },
        "frechet": {"features": list(FEATURE_NAMES), **fd, "mean_shift_sd": shifts},
        "originality": originality_table,
        "notes": notes,
        "_mgeval": mg,
        "_metric_values": metric_values,
    }
