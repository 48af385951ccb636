"""Pictures of a track: a cover drawn from the song itself, and the peaks of its waveform.

``cover_svg`` turns a ``song.json`` (and, when given, the ``score.json`` beside it) into
album art as SVG text. Nothing in it is random: the same song gives the same bytes, and every
choice that is not read off the music is drawn from a generator seeded with a hash of the
song's id (or seed), so two songs differ in their shapes as well as their colours. What the
picture encodes:

* the palette: the key signature's place on the circle of fifths picks the hue (neighbouring
  keys have neighbouring colours; a minor key shares its relative major's), the mode its
  light (major: a bright sky and a sun; minor: a night and a moon), and the moods shift it
  (sad is colder and greyer, dark darker, happy brighter, calm softer, energetic more
  saturated);
* the hills: one per section of the form, in order from the far one to the near one, each
  cresting where its section falls in the song, as wide as the section is long and as high
  as its energy;
* the line across the sky: the melody's contour (the vocals, else the lead, of the score),
  or without a score the roots of the planned chords;
* the orb: its size is the song's mean energy; the stars (minor) or motes (major): the tempo.

Title and creator are set at the bottom, XML-escaped (titles are the user's), in a font
stack that has CJK faces. A ``{}`` song (a lost ``song.json``) still gets a cover, from the
title alone.

``waveform_peaks`` reads an audio file in blocks and answers the loudest sample of each of
``points`` equal slices, for the browser to draw the waveform.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from overture.errors import InvalidInputError
from overture.theory import parse_key

FONT_STACK = (
    "'Helvetica Neue', Helvetica, Arial, 'Noto Sans', 'Noto Sans CJK SC', 'Noto Sans SC', "
    "'Source Han Sans SC', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', sans-serif"
)
WAVEFORM_FILE = "waveform.json"  # stored beside a track's song files by the worker
WAVEFORM_POINTS = 800
BLOCK_FRAMES = 1 << 16  # frames read at a time by ``waveform_peaks``
MELODY_POINTS = 32  # points of the contour line
MAX_HILLS = 12  # sections drawn; a longer form is drawn in groups of neighbours
HILL_POINTS = 16  # segments of each hill's outline

# Mood -> (hue target or None, pull towards it 0..1, saturation change, lightness change).
_MOODS: dict[str, tuple[float | None, float, float, float]] = {
    "happy": (50, 0.25, 0.12, 0.08),
    "cheerful": (45, 0.25, 0.12, 0.08),
    "upbeat": (35, 0.2, 0.15, 0.06),
    "bright": (55, 0.25, 0.1, 0.1),
    "playful": (320, 0.15, 0.12, 0.06),
    "energetic": (10, 0.25, 0.2, 0.0),
    "aggressive": (0, 0.4, 0.2, -0.08),
    "tense": (350, 0.2, 0.05, -0.06),
    "epic": (25, 0.15, 0.12, -0.05),
    "calm": (190, 0.2, -0.15, 0.05),
    "peaceful": (170, 0.2, -0.15, 0.06),
    "relaxed": (180, 0.15, -0.12, 0.04),
    "chill": (200, 0.2, -0.1, 0.0),
    "gentle": (330, 0.1, -0.15, 0.06),
    "dreamy": (275, 0.3, -0.05, 0.02),
    "sad": (220, 0.35, -0.18, -0.06),
    "melancholic": (230, 0.3, -0.15, -0.05),
    "lonely": (215, 0.3, -0.18, -0.05),
    "dark": (260, 0.25, -0.05, -0.12),
    "suspenseful": (250, 0.25, -0.05, -0.1),
    "mysterious": (270, 0.3, 0.0, -0.08),
    "romantic": (340, 0.35, 0.05, 0.02),
    "warm": (30, 0.3, 0.05, 0.03),
    "nostalgic": (30, 0.3, -0.2, 0.0),
    "smooth": (290, 0.15, -0.05, 0.0),
    "hopeful": (45, 0.2, 0.05, 0.06),
    "groovy": (300, 0.2, 0.1, 0.0),
}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHORD_ROOT = re.compile(r"^\s*([A-Ga-g])([#b♯♭]?)")
_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def cover_svg(
    song: dict[str, Any],
    *,
    title: str,
    creator: str | None = None,
    size: int = 600,
    score: dict[str, Any] | None = None,
) -> str:
    """A square cover for ``song`` (a parsed ``song.json``, ``{}`` when lost) as SVG text.

    ``score`` is the parsed ``score.json``; with it the line across the sky is the melody.
    Deterministic: the same arguments give byte-identical text, about 10 KB.
    """
    song = song if isinstance(song, dict) else {}
    spec = _dict(song.get("spec"))
    plan = _dict(song.get("plan"))
    s = float(max(64, int(size)))
    title = _clean(title).strip() or "Untitled"
    creator = _clean(creator or "").strip()
    if song.get("id"):
        ident = f"id:{song['id']}"
    elif song.get("seed") is not None:
        ident = f"seed:{song['seed']}"
    else:
        ident = f"title:{title}"
    digest = hashlib.sha256(ident.encode("utf-8")).hexdigest()
    uid = "c" + digest[:8]  # ids unique to this cover, so two covers can share a page

    def rng(part: str) -> random.Random:
        """A generator of its own for each part, so one part's draws never move another's."""
        return random.Random(hashlib.sha256(f"{digest}:{part}".encode()).digest())

    pal = _palette(spec.get("key") or plan.get("key"), spec.get("moods"), rng("palette"))
    sections = _sections(song, rng("form"))
    mean_energy = sum(e * (b - a) for a, b, e in sections) / max(
        1e-9, sum(b - a for a, b, _ in sections)
    )
    tempo = _num(spec.get("tempo") or plan.get("tempo"), 100.0)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(s)}" height="{int(s)}" '
        f'viewBox="0 0 {int(s)} {int(s)}" role="img">',
        f"<title>{_esc(title + (' — ' + creator if creator else ''))}</title>",
    ]
    out.append(_defs(uid, pal, s, rng("sky")))
    out.append(f'<rect width="{_f(s)}" height="{_f(s)}" fill="url(#{uid}-sky)"/>')

    # The orb: a sun for major, a moon for minor, as large as the song is energetic.
    place = rng("orb")
    ox, oy = s * place.uniform(0.26, 0.74), s * place.uniform(0.2, 0.34)
    radius = s * (0.09 + 0.11 * mean_energy)
    out.append(
        f'<circle cx="{_f(ox)}" cy="{_f(oy)}" r="{_f(radius * 2.6)}" fill="url(#{uid}-glow)"/>'
    )
    out.append(f'<circle cx="{_f(ox)}" cy="{_f(oy)}" r="{_f(radius)}" fill="url(#{uid}-orb)"/>')
    if pal["minor"]:
        out.append(
            f'<circle cx="{_f(ox)}" cy="{_f(oy)}" r="{_f(radius * 1.35)}" fill="none" '
            f'stroke="{pal["orb"]}" stroke-opacity="0.25" stroke-width="{_f(s * 0.003)}"/>'
        )

    out.append(_specks(pal, s, tempo, rng("specks")))
    contour = _melody(score) or _chord_roots(plan, pal["tonic"])
    if len(contour) >= 2:
        out.append(_contour_line(contour, s, rng("line")))
    out.append(_hills(sections, pal, s, tempo, rng("hills")))
    out.append(
        f'<rect y="{_f(s * 0.55)}" width="{_f(s)}" height="{_f(s * 0.45)}" '
        f'fill="url(#{uid}-scrim)"/>'
    )
    out.append(_text(title, creator, spec, s))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def waveform_peaks(path: Path, *, points: int = 800) -> list[float]:
    """The loudest sample (of any channel) in each of ``points`` equal slices of the audio
    file at ``path``, the loudest slice being 1.0, rounded to 3 decimals.

    Read in blocks, so a long file is never held whole. Silence gives zeros; a file shorter
    than ``points`` frames repeats each frame over the slices it spans. ``ValueError`` when
    the file cannot be read as audio.
    """
    if points < 1:
        raise ValueError(f"points must be at least 1, not {points}")
    path = Path(path)
    peaks = np.zeros(points, dtype=np.float64)
    filled = np.zeros(points, dtype=bool)
    try:
        with sf.SoundFile(str(path)) as f:
            frames = f.frames
            start = 0
            while start < frames:
                block = f.read(min(BLOCK_FRAMES, frames - start), dtype="float32", always_2d=True)
                if len(block) == 0:
                    break
                level = np.nan_to_num(np.abs(block).max(axis=1))
                slot = (np.arange(start, start + len(block), dtype=np.int64) * points) // frames
                firsts = np.flatnonzero(np.diff(slot, prepend=-1))
                where = slot[firsts]
                peaks[where] = np.maximum(peaks[where], np.maximum.reduceat(level, firsts))
                filled[where] = True
                start += len(block)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise ValueError(f"cannot read {path.name} as audio: {exc}") from exc
    if not filled.any():
        return [0.0] * points
    # Fewer frames than slices: an empty slice shows the frame before it.
    last = np.maximum.accumulate(np.where(filled, np.arange(points), 0))
    peaks = peaks[last]
    top = float(peaks.max())
    if top <= 0.0:
        return [0.0] * points
    return [round(float(v), 3) for v in peaks / top]


# -- the cover's parts ----------------------------------------------------------------------


def _palette(key: Any, moods: Any, rng: random.Random) -> dict[str, Any]:
    """Colours from the key (hue from its key signature's place on the circle of fifths,
    light from the mode) and the moods."""
    try:
        k = parse_key(str(key)) if key else None
    except InvalidInputError:
        k = None
    if k is None:  # no key: a hue of the hash, and a mode of a coin toss
        tonic, minor = rng.randrange(12), rng.random() < 0.4
    else:
        tonic, minor = k.tonic, k.mode == "minor"
    major_tonic = (tonic + 3) % 12 if minor else tonic  # a minor key takes its relative's hue
    hue = ((major_tonic * 7) % 12) * 30.0 + 15.0 + rng.uniform(-8, 8)
    sat, light = (0.55, 0.2) if minor else (0.62, 0.62)
    for mood in moods if isinstance(moods, list) else []:
        target, pull, ds, dl = _MOODS.get(str(mood), (None, 0.0, 0.0, 0.0))
        if target is not None:
            hue += ((target - hue + 180.0) % 360.0 - 180.0) * pull
        sat, light = sat + ds, light + dl
    hue %= 360.0
    sat = min(0.9, max(0.18, sat))
    light = min(0.74, max(0.1, light)) if not minor else min(0.32, max(0.08, light))
    turn = -38.0 if minor else 34.0  # the sky runs cooler (minor) or warmer (major) downwards
    if minor:
        orb = _hsl(hue + 40.0, 0.35, 0.9)
        orb_edge = _hsl(hue + 40.0, 0.3, 0.74)
    else:  # a sun is golden whatever the sky: its hue halfway to gold
        sun = hue + ((45.0 - hue + 180.0) % 360.0 - 180.0) * 0.5
        orb = _hsl(sun, 0.95, 0.93)
        orb_edge = _hsl(sun - 8.0, 0.9, 0.72)
    return {
        "tonic": tonic,
        "minor": minor,
        "hue": hue,
        "sat": sat,
        "light": light,
        "sky_top": _hsl(hue - turn * 0.5, sat * 0.9, light + (0.02 if minor else 0.1)),
        "sky_bottom": _hsl(hue + turn, sat, light + (0.12 if minor else -0.04)),
        "orb": orb,
        "orb_edge": orb_edge,
        "glow": _hsl(hue + 20.0, 0.8, 0.8),
    }


def _defs(uid: str, pal: dict[str, Any], s: float, rng: random.Random) -> str:
    angle = rng.uniform(-0.25, 0.25)
    x2, y2 = 0.5 + math.sin(angle) * 0.5, 0.5 + math.cos(angle) * 0.5
    x1, y1 = 1.0 - x2, 1.0 - y2
    glow_op = "0.35" if pal["minor"] else "0.55"
    return (
        "<defs>"
        f'<linearGradient id="{uid}-sky" x1="{x1:.3f}" y1="{y1:.3f}" x2="{x2:.3f}" y2="{y2:.3f}">'
        f'<stop offset="0" stop-color="{pal["sky_top"]}"/>'
        f'<stop offset="1" stop-color="{pal["sky_bottom"]}"/></linearGradient>'
        f'<radialGradient id="{uid}-glow"><stop offset="0" stop-color="{pal["glow"]}" '
        f'stop-opacity="{glow_op}"/><stop offset="1" stop-color="{pal["glow"]}" '
        'stop-opacity="0"/></radialGradient>'
        f'<radialGradient id="{uid}-orb" cx="0.4" cy="0.38" r="0.7">'
        f'<stop offset="0" stop-color="{pal["orb"]}"/>'
        f'<stop offset="1" stop-color="{pal["orb_edge"]}"/></radialGradient>'
        f'<linearGradient id="{uid}-scrim" x1="0" y1="0" x2="0" y2="1">'
        '<stop offset="0" stop-color="#000" stop-opacity="0"/>'
        '<stop offset="1" stop-color="#000" stop-opacity="0.55"/></linearGradient>'
        "</defs>"
    )


def _sections(song: dict[str, Any], rng: random.Random) -> list[tuple[float, float, float]]:
    """The form as (start, end, energy) with times as fractions of the song; one made-up
    section per hill when the song has no plan."""
    form = _dict(song.get("plan")).get("form")
    rows: list[tuple[float, float, float]] = []
    for sec in form if isinstance(form, list) else []:
        if not isinstance(sec, dict):
            continue
        a, b = _num(sec.get("start"), -1.0), _num(sec.get("end"), -1.0)
        if 0.0 <= a < b:
            rows.append((a, b, min(1.0, max(0.0, _num(sec.get("energy"), 0.5)))))
    if not rows:
        n = rng.randint(3, 5)
        return [(i / n, (i + 1) / n, rng.uniform(0.3, 0.8)) for i in range(n)]
    rows.sort()
    if len(rows) > MAX_HILLS:  # a long form: neighbours share a hill, at their mean energy
        groups = [
            rows[i * len(rows) // MAX_HILLS : (i + 1) * len(rows) // MAX_HILLS]
            for i in range(MAX_HILLS)
        ]
        rows = [
            (g[0][0], g[-1][1], sum(e * (b - a) for a, b, e in g) / sum(b - a for a, b, _ in g))
            for g in groups
        ]
    end = max(b for _, b, _ in rows)
    return [(a / end, b / end, e) for a, b, e in rows]


def _hills(
    sections: list[tuple[float, float, float]],
    pal: dict[str, Any],
    s: float,
    tempo: float,
    rng: random.Random,
) -> str:
    """The energy curve of the whole song as a far ridge, then one hill per section, far to
    near: each crests over its section's place in the song, as wide as the section and as
    high as its energy; faster songs ripple more."""
    n = len(sections)
    ripples = 1.5 + min(6.0, tempo / 30.0)
    parts = ["<g>"]

    def energy(u: float) -> float:
        weights = [
            (math.exp(-(((u - (a + b) / 2.0) / max(0.05, b - a)) ** 2)), e) for a, b, e in sections
        ]
        return sum(w * e for w, e in weights) / max(1e-9, sum(w for w, _ in weights))

    ridge = [
        (j / HILL_POINTS * s, s * (0.6 - 0.2 * energy(j / HILL_POINTS)))
        for j in range(HILL_POINTS + 1)
    ]
    far = _hsl(
        pal["hue"] + (-20.0 if pal["minor"] else 10.0),
        pal["sat"] * 0.6,
        pal["light"] * (1.15 if pal["minor"] else 0.92),
    )
    d = _smooth(ridge) + f" L{_f(s)},{_f(s)} L0,{_f(s)} Z"
    parts.append(f'<path d="{d}" fill="{far}" fill-opacity="0.55"/>')
    for i, (a, b, e) in enumerate(sections):
        depth = (i + 1) / n  # 0 far .. 1 near
        base = s * (0.62 + 0.28 * depth)
        height = s * (0.06 + 0.3 * e) * (1.0 - 0.35 * depth)
        centre = (a + b) / 2.0
        width = max(0.08, (b - a) * 0.55)
        phase = rng.uniform(0.0, math.tau)
        wobble = rng.uniform(0.012, 0.025) * s
        pts = []
        for j in range(HILL_POINTS + 1):
            u = j / HILL_POINTS
            bump = math.exp(-(((u - centre) / width) ** 2))
            ripple = math.sin(u * ripples * math.tau + phase) * wobble * (0.4 + 0.6 * bump)
            pts.append((u * s, base - height * bump + ripple))
        if pal["minor"]:
            colour = _hsl(
                pal["hue"] - 25.0 * depth,
                pal["sat"] * (0.6 + 0.3 * e),
                pal["light"] * (0.95 - 0.6 * depth) + 0.03,
            )
        else:
            colour = _hsl(
                pal["hue"] - 35.0 * depth,
                pal["sat"] * (0.75 + 0.25 * e),
                pal["light"] * (0.8 - 0.62 * depth),
            )
        d = _smooth(pts) + f" L{_f(s)},{_f(s)} L0,{_f(s)} Z"
        parts.append(f'<path d="{d}" fill="{colour}" fill-opacity="0.95"/>')
    parts.append("</g>")
    return "".join(parts)


def _specks(pal: dict[str, Any], s: float, tempo: float, rng: random.Random) -> str:
    """Stars in a minor sky, soft motes in a major one; more of them the faster the song."""
    count = int(10 + min(40.0, tempo / 4.0))
    parts = ['<g fill="#fff">']
    for _ in range(count):
        x, y = rng.uniform(0.0, s), rng.uniform(0.0, s * 0.6)
        if pal["minor"]:
            r, op = s * rng.uniform(0.0012, 0.0035), rng.uniform(0.3, 0.9)
        else:
            r, op = s * rng.uniform(0.004, 0.02), rng.uniform(0.05, 0.18)
        parts.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" opacity="{op:.2f}"/>')
    parts.append("</g>")
    return "".join(parts)


def _melody(score: dict[str, Any] | None) -> list[float]:
    """The vocals' (else the lead's) pitch, sampled at even times through the song."""
    if not isinstance(score, dict) or not isinstance(score.get("parts"), list):
        return []
    parts = {p.get("name"): p for p in score["parts"] if isinstance(p, dict)}
    for name in ("vocals", "lead", "melody"):
        notes = _notes(parts.get(name))
        if len(notes) >= 2:
            break
    else:
        return []
    notes.sort()
    end = max(t + d for t, _, d in notes)
    # The mean pitch sounding in each of MELODY_POINTS windows (a rest holds the last one),
    # then smoothed: the shape of the tune, not every note of it.
    line: list[float] = []
    for j in range(MELODY_POINTS):
        a, b = end * j / MELODY_POINTS, end * (j + 1) / MELODY_POINTS
        weight = total = 0.0
        for t, pitch, d in notes:
            overlap = min(b, t + d) - max(a, t)
            if overlap > 0:
                weight, total = weight + overlap, total + overlap * pitch
        line.append(total / weight if weight else (line[-1] if line else math.nan))
    first = next((v for v in line if not math.isnan(v)), notes[0][1])
    line = [first if math.isnan(v) else v for v in line]
    return [
        (line[max(0, i - 1)] + 2.0 * v + line[min(len(line) - 1, i + 1)]) / 4.0
        for i, v in enumerate(line)
    ]


def _notes(part: Any) -> list[tuple[float, float, float]]:
    """(start, pitch, duration) of a score part's rows ``[pitch, start, duration, ...]``."""
    rows = part.get("notes") if isinstance(part, dict) else None
    notes = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, list | tuple) and len(row) >= 3:
            try:
                notes.append((float(row[1]), float(row[0]), float(row[2])))
            except (TypeError, ValueError):
                continue
    return notes


def _chord_roots(plan: dict[str, Any], tonic: int) -> list[float]:
    """Without a melody: the roots of the planned chords, as steps above the tonic."""
    chords = plan.get("chords")
    line = []
    for name in chords if isinstance(chords, list) else []:
        m = _CHORD_ROOT.match(str(name))
        if m:
            pc = _PC[m.group(1).upper()] + {"#": 1, "♯": 1, "b": -1, "♭": -1}.get(m.group(2), 0)
            line.append(float((pc - tonic) % 12))
    return line


def _contour_line(values: Sequence[float], s: float, rng: random.Random) -> str:
    lo, hi = min(values), max(values)
    span = max(hi - lo, 7.0)
    mid = (hi + lo) / 2.0
    top, bottom = s * rng.uniform(0.12, 0.2), s * rng.uniform(0.42, 0.5)
    n = len(values)
    pts = [
        (s * (-0.02 + 1.04 * i / (n - 1)), (top + bottom) / 2.0 - (v - mid) / span * (bottom - top))
        for i, v in enumerate(values)
    ]
    d = _smooth(pts)
    return (
        '<g fill="none" stroke="#fff" stroke-linecap="round" stroke-linejoin="round">'
        f'<path d="{d}" stroke-opacity="0.12" stroke-width="{_f(s * 0.028)}"/>'
        f'<path d="{d}" stroke-opacity="0.8" stroke-width="{_f(s * 0.005)}"/></g>'
    )


def _text(title: str, creator: str, spec: dict[str, Any], s: float) -> str:
    """The title (one or two lines, shrunk to fit), the creator below it, and a small line of
    genre, key and tempo at the top."""
    pad, room = s * 0.065, s * 0.87
    size, lines = s * 0.085, [title]
    while size > s * 0.06 and _width(title) * size > room:
        size -= s * 0.005
    if _width(title) * size > room:  # two lines, as large as they fit (down to a floor)
        size = s * 0.075
        lines = _wrap(title, room / size)
        while size > s * 0.045 and lines[-1].endswith("…"):
            size -= s * 0.005
            lines = _wrap(title, room / size)
    small = s * 0.032
    y = s - pad - (small * 1.6 if creator else 0.0)
    y -= size * 1.1 * (len(lines) - 1)
    out = [f'<g font-family="{FONT_STACK}" fill="#fff">']
    for line in lines:
        out.append(
            f'<text x="{_f(pad)}" y="{_f(y)}" font-size="{_f(size)}" font-weight="700" '
            f'letter-spacing="{_f(-size * 0.01)}">{_esc(line)}</text>'
        )
        y += size * 1.1
    if creator:
        y += small * 1.6 - size * 1.1
        shown = _fit(creator, room / small)
        out.append(
            f'<text x="{_f(pad)}" y="{_f(y)}" font-size="{_f(small)}" fill-opacity="0.85">'
            f"{_esc(shown)}</text>"
        )
    key = str(spec.get("key") or "").upper()
    if len(key) > 1 and key[1] in "B#":  # "EB MAJOR" would misread: E♭ MAJOR
        key = key[0] + ("♭" if key[1] == "B" else "♯") + key[2:]
    meta = [str(spec.get("genre") or "").upper(), key]
    if _num(spec.get("tempo"), 0.0) > 0:
        meta.append(f"{round(_num(spec.get('tempo'), 0.0))} BPM")
    label = "  ·  ".join(m for m in meta if m)
    if label:
        tiny = s * 0.022
        out.append(
            f'<text x="{_f(pad)}" y="{_f(pad * 0.6 + tiny)}" font-size="{_f(tiny)}" '
            f'letter-spacing="{_f(tiny * 0.25)}" fill-opacity="0.8">'
            f"{_esc(_fit(label, s * 0.85 / (tiny * 1.25)))}</text>"
        )
    out.append("</g>")
    return "".join(out)


# -- helpers --------------------------------------------------------------------------------


def _width(text: str) -> float:
    """The width of ``text`` in ems when bold, erring wide (a fallback font may be broad):
    wide (CJK) characters 1, capitals 0.76, the rest 0.64, spaces 0.34."""
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            total += 1.0
        elif ch.isspace():
            total += 0.34
        elif ch.isupper() or ch in "mwMW@%":
            total += 0.76
        else:
            total += 0.64
    return total


def _fit(text: str, ems: float) -> str:
    """``text`` cut (with an ellipsis) to at most ``ems`` wide."""
    if _width(text) <= ems:
        return text
    while text and _width(text + "…") > ems:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, ems: float) -> list[str]:
    """``text`` on two lines of at most ``ems``: broken at a space where there is one (else
    anywhere, as CJK is), the second line cut short when it is still too long."""
    cut = len(text)
    while cut > 1 and _width(text[:cut]) > ems:
        cut -= 1
    space = text.rfind(" ", 0, cut + 1)
    if space > cut // 2:
        cut = space
    return [text[:cut].rstrip(), _fit(text[cut:].strip(), ems)]


def _smooth(pts: Sequence[tuple[float, float]]) -> str:
    """A path through ``pts`` as cubic Béziers (Catmull-Rom)."""
    d = [f"M{_f(pts[0][0])},{_f(pts[0][1])}"]
    for i in range(len(pts) - 1):
        p0, p1, p2 = pts[max(0, i - 1)], pts[i], pts[i + 1]
        p3 = pts[min(len(pts) - 1, i + 2)]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6.0, p1[1] + (p2[1] - p0[1]) / 6.0)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6.0, p2[1] - (p3[1] - p1[1]) / 6.0)
        d.append(f"C{_f(c1[0])},{_f(c1[1])} {_f(c2[0])},{_f(c2[1])} {_f(p2[0])},{_f(p2[1])}")
    return " ".join(d)


def _hsl(h: float, s: float, l: float) -> str:  # noqa: E741
    r, g, b = colorsys.hls_to_rgb((h % 360.0) / 360.0, min(1.0, max(0.0, l)), min(1.0, max(0.0, s)))
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def _f(x: float) -> str:
    """A coordinate with one decimal, never ``-0.0``."""
    text = f"{x:.1f}"
    return "0.0" if text == "-0.0" else text


def _num(value: Any, default: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _clean(text: str) -> str:
    """``text`` without the characters XML cannot hold at all (controls, lone surrogates)."""
    return _INVALID_XML.sub("", str(text))


def _esc(text: str) -> str:
    """``text`` safe as XML character data or a quoted attribute value."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )
