"""``report.md``: the evaluation report as tables a person can read."""

from __future__ import annotations

import math
from typing import Any

SET_LABELS = {"generated": "Overture", "human": "human", "random": "random", "markov": "Markov"}


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _pm(stats: dict[str, Any] | None, digits: int = 2) -> str:
    if not stats or not stats.get("n"):
        return "—"
    return f"{_f(stats['mean'], digits)} ± {_f(stats['sd'], digits)}"


def _pass(ok: bool | None) -> str:
    if ok is None:
        return "—"
    return "pass" if ok else "**FAIL**"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def _ratio(ok: int, total: int) -> str:
    if not total:
        return "none stated"
    return f"{ok}/{total} ({100 * ok / total:.0f} %)"


def summary_rows(report: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, result, passed) for each headline target."""
    s = report["summary"]
    rows: list[tuple[str, str, bool | None]] = []
    t = s["tempo"]
    extra = f"; half/double tempo: {', '.join(t['octave_only'])}" if t["octave_only"] else ""
    rows.append(
        (
            "Stated tempo within 2 % (beat tracking on the audio)",
            _ratio(t["ok"], t["stated"]) + extra + f"; score tempo right {t['score_ok']}",
            (t["ok"] == t["stated"]) if t["stated"] else None,
        )
    )
    d = s["duration"]
    rows.append(
        (
            "Stated duration within 1 s or 2 % (file length)",
            _ratio(d["ok"], d["stated"]),
            (d["ok"] == d["stated"]) if d["stated"] else None,
        )
    )
    k = s["key"]
    rows.append(
        (
            "Stated key found in the audio, exact or relative: ≥ 90 %",
            _ratio(k["ok"], k["stated"]) + f"; exact {k['exact']}; score key right {k['score_ok']}",
            (k["ok"] >= 0.9 * k["stated"]) if k["stated"] else None,
        )
    )
    ts = s["time_signature"]
    rows.append(
        (
            "Stated time signature (score)",
            _ratio(ts["ok"], ts["stated"]),
            (ts["ok"] == ts["stated"]) if ts["stated"] else None,
        )
    )
    oa = s["mgeval_oa"]
    n_oa = len(oa["passed"]) + len(oa["failed"])
    failed = f"; below: {', '.join(oa['failed'])}" if oa["failed"] else ""
    rows.append(
        (
            f"MGEval overlapping area ≥ {oa['target']} on every feature",
            (f"{len(oa['passed'])}/{n_oa}" + failed) if n_oa else "not measured",
            (not oa["failed"]) if n_oa else None,
        )
    )
    table = report["melody_metrics"]["table"]
    in_band = [m for m, row in table.items() if row.get("generated_in_band") is not None]
    if in_band:
        inside = [m for m in in_band if table[m]["generated_in_band"]]
        rows.append(
            (
                "Melody metrics with the Overture mean inside the human band (information)",
                f"{len(inside)}/{len(in_band)}; outside: "
                + (", ".join(m for m in in_band if m not in inside) or "none"),
                None,
            )
        )
    fd = s["frechet"]
    ratio = fd["ratio_to_markov"]
    rows.append(
        (
            "Fréchet distance to human ≥ 50 % lower than the Markov baseline's",
            f"Overture {_f(fd['generated'])} vs Markov {_f(fd['markov'])}"
            + (f": {100 * ratio:.0f} % of the Markov FD" if ratio is not None else ""),
            fd["ok"] if ratio is not None else None,
        )
    )
    if s.get("errors"):
        rows.append(("Every prompt makes a song", f"failed: {', '.join(s['errors'])}", False))
    return rows


def headline(report: dict[str, Any]) -> str:
    """One line: every target's result."""
    s = report["summary"]
    fd = s["frechet"]
    oa = s["mgeval_oa"]
    n_oa = len(oa["passed"]) + len(oa["failed"])
    parts = [
        f"tempo {s['tempo']['ok']}/{s['tempo']['stated']}",
        f"duration {s['duration']['ok']}/{s['duration']['stated']}",
        f"key {s['key']['ok']}/{s['key']['stated']}",
        f"time signature {s['time_signature']['ok']}/{s['time_signature']['stated']}",
        f"MGEval OA≥{oa['target']} {len(oa['passed'])}/{n_oa}",
        f"FD {_f(fd['generated'])} (Markov {_f(fd['markov'])}, random {_f(fd['random'])})",
    ]
    if s.get("errors"):
        parts.append(f"failed prompts: {', '.join(s['errors'])}")
    return ", ".join(parts)


def _adherence_rows(report: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in report["prompts"]:
        c = r["checks"]
        text = r["prompt"] if len(r["prompt"]) <= 48 else r["prompt"][:47] + "…"
        if r.get("error"):
            error = r["error"] if len(r["error"]) <= 90 else r["error"][:89] + "…"
            rows.append([r["id"], text or "(empty)", f"error: {error}"] + ["—"] * 5 + ["**ERROR**"])
            continue
        song = r["song"]
        audio = r["audio"]
        verdicts = [c[k]["ok"] for k in ("tempo", "duration", "key", "time_signature") if k in c]
        if "tempo" in c:
            t = c["tempo"]
            mark = "✓" if t["ok"] else ("½×/2× ✗" if t["octave_ok"] else "✗")
            tempo = f"{_f(t['stated'], 0)} → {_f(t['estimate'], 1)} {mark}"
        else:
            tempo = f"({_f(song['tempo'], 0)} → {_f(audio['tempo'], 1)})"
        if "duration" in c:
            d = c["duration"]
            duration = f"{_f(d['stated'], 0)} → {_f(d['measured'], 1)} {'✓' if d['ok'] else '✗'}"
        else:
            duration = f"({_f(audio['duration'], 1)})"
        if "key" in c:
            k = c["key"]
            mark = {"exact": "✓", "relative": "✓ rel."}.get(k["match"], "✗")
            key = f"{k['stated']} → {k['measured']} {mark}"
        else:
            key = f"({song['key']} → {audio['key']})"
        if "time_signature" in c:
            ts = c["time_signature"]
            tsig = f"{ts['stated']} → {ts['score']} {'✓' if ts['ok'] else '✗'}"
        else:
            tsig = f"({song['time_signature']})"
        genre = f"{c['genre']['stated']} / {song['genre']}" if "genre" in c else song["genre"]
        rows.append(
            [
                r["id"],
                text or "(empty)",
                tempo,
                duration,
                key,
                tsig,
                genre,
                _f(r["drum_in_pattern_rate"]),
                _pass(all(verdicts)) if verdicts else "—",
            ]
        )
    return rows


def render_markdown(report: dict[str, Any]) -> str:
    """The whole ``report.md``."""
    run = report["run"]
    lines = [
        "# Overture evaluation",
        "",
        f"{run['prompts']} prompts from `{run['prompts_file']}`, seed {run['seed']}, "
        f"soundfont `{run['soundfont']}`, engine {run['engine_version']}, "
        f"{_f(run.get('seconds'), 0)} s. Melody statistics use {run['melodies_per_prompt']} "
        f"lead melodies per prompt (the rendered song's and the next seeds' scores), "
        f"{run['human_melodies']} held-out human melodies, and a Markov baseline from "
        f"{run['markov_baseline'] or '(none)'}.",
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["target", "result", "verdict"],
        [[a, b, _pass(c)] for a, b, c in summary_rows(report)],
    )
    lines += [
        "",
        "## Adherence per prompt",
        "",
        "Stated → measured; values in parentheses were not stated (engine's choice → measured). "
        "Tempo: beat tracking on the mix (½×/2×: locked to half or double the tempo). "
        "Key: chroma profile of the mix (rel.: the relative major/minor). "
        "Drums on grid: MusPy drum-in-pattern rate.",
        "",
    ]
    lines += _table(
        [
            "id",
            "prompt",
            "tempo",
            "duration (s)",
            "key",
            "time sig.",
            "genre (hint / engine)",
            "drums on grid",
            "result",
        ],
        _adherence_rows(report),
    )

    mm = report["melody_metrics"]
    sets = mm["sets"]
    cols = [k for k in ("generated", "human", "random", "markov") if k in sets]
    lines += [
        "",
        "## Melody metrics",
        "",
        "Mean ± sd over melodies (n: "
        + ", ".join(f"{SET_LABELS[k]} {sets[k]}" for k in cols)
        + "). Human band: held-out human mean ± 1 sd; *in band*: the Overture mean lies in it. "
        "MusPy definitions (H1/H4/GS: the Jazz Transformer's).",
        "",
    ]
    header = ["metric", "Overture", "human band", "in band", "random", "Markov"]
    rows = []
    for metric, row in mm["table"].items():
        rows.append(
            [
                f"{metric} — {mm['descriptions'][metric]}",
                _pm(row.get("generated")),
                _pm(row.get("human")),
                _f(row.get("generated_in_band")),
                _pm(row.get("random")),
                _pm(row.get("markov")),
            ]
        )
    lines += _table(header, rows)

    mg = report["mgeval"]["sets"]
    lines += [
        "",
        "## MGEval (Yang & Lerch 2018)",
        "",
        "Overlapping area (OA, 1 = same) and KL divergence (KLD, 0 = same) between the "
        "human melodies' intra-set distance distribution and the inter-set distances to each "
        f"set. Target: Overture OA ≥ {report['mgeval']['target_oa']} on every feature.",
        "",
    ]
    if mg:
        names = [k for k in ("generated", "random", "markov") if k in mg]
        header = ["feature"]
        for k in names:
            header += [f"OA {SET_LABELS[k]}", f"KLD {SET_LABELS[k]}"]
        header.append("target")
        rows = []
        for feature in report["mgeval"]["features"]:
            row = [feature]
            for k in names:
                row += [_f(mg[k][feature]["oa"], 3), _f(mg[k][feature]["kld"], 3)]
            oa = mg.get("generated", {}).get(feature, {}).get("oa")
            row.append(_pass(oa >= report["mgeval"]["target_oa"]) if oa is not None else "—")
            rows.append(row)
        lines += _table(header, rows)
    else:
        lines.append("Not measured (no human melodies).")

    fd = report["frechet"]
    lines += [
        "",
        "## Fréchet distance to the human melodies",
        "",
        "Over per-melody features standardised by the human set (0 = same distribution): "
        + ", ".join(fd["features"])
        + ".",
        "",
    ]
    rows = [[SET_LABELS[k], _f(fd[k])] for k in ("generated", "random", "markov") if k in fd]
    lines += _table(["set", "FD"], rows) if rows else ["Not measured (no human melodies)."]
    shifts = fd.get("mean_shift_sd") or {}
    if shifts:
        names = [k for k in ("generated", "random", "markov") if k in shifts]
        lines += [
            "",
            "Where the distance comes from: each set's mean feature value, in human standard "
            "deviations from the human mean (0 = the human mean).",
            "",
        ]
        lines += _table(
            ["feature", *(SET_LABELS[k] for k in names)],
            [[feature, *(_f(shifts[k].get(feature)) for k in names)] for feature in fd["features"]],
        )

    lines += ["", "## Originality", ""]
    if report["originality"]:
        rows = [
            [SET_LABELS[k], _f(v["median"], 1), _f(v["p90"], 1), _f(v["max"], 0)]
            for k, v in report["originality"].items()
        ]
        lines += [
            "Longest run of notes a melody shares with a corpus tune (same intervals and "
            "duration ratios, in any transposition and tempo).",
            "",
        ]
        lines += _table(["set", "median", "90th percentile", "max"], rows)
    else:
        lines.append("Not measured (see notes).")

    if report.get("plots"):
        lines += ["", "## Plots", ""]
        for name in report["plots"]:
            lines += [f"![{name}]({name})", ""]

    lines += ["", "## Notes", ""]
    lines += [f"- {n}" for n in report["notes"]] or ["- none"]
    return "\n".join(lines) + "\n"
