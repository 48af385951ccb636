"""Lineage: where a song came from and what was made from it.

A derived song's ``song.json`` holds ``lineage``: the operation that made it, its options,
and its parents, each carrying its own lineage in turn, so a song folder alone knows its
whole ancestry (a demo recording, the songs it was arranged, extended or restyled from).
What was made *from* a song is found by looking through song folders for children that
name its id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError

MAX_SCAN = 5000  # song.json files looked at when searching for descendants
MAX_DEPTH = 4


def _describe_op(lineage: dict[str, Any] | None, meta: dict[str, Any]) -> str:
    if not lineage:
        spec = meta.get("spec") or {}
        prompt = spec.get("prompt", meta.get("prompt", ""))
        return f'generated from "{prompt}", seed {spec.get("seed", meta.get("seed", 0))}'
    op = lineage.get("operation", "?")
    opts = lineage.get("options") or {}
    shown = ", ".join(
        f"{k} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in opts.items()
        if v not in (None, [], "")
    )
    return f"{op} ({shown})" if shown else op


def _line(title: str, song_id: str, what: str, where: str = "") -> str:
    return f"{title} [{song_id}] {what}" + (f"  {where}" if where else "")


def _ancestors(meta: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """The chain from ``meta`` up: (entry, its lineage) for each ancestor along the first
    parent, nearest first."""
    out = []
    lineage = meta.get("lineage")
    seen = 0
    while lineage and lineage.get("parents") and seen < 1000:
        parent = lineage["parents"][0]
        out.append((parent, parent.get("lineage")))
        lineage = parent.get("lineage")
        seen += 1
    return out


def _read_meta(folder: Path) -> dict[str, Any]:
    path = folder / "song.json"
    if not path.is_file():
        raise InvalidInputError(f"no song.json in {folder}: not a song folder")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(f"cannot read {path}: {e}") from e
    if not isinstance(meta, dict):
        raise InvalidInputError(f"{path} is not a song description")
    return meta


def find_songs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Song folders under ``root`` (a few levels deep), with their ``song.json``."""
    found: list[tuple[Path, dict[str, Any]]] = []
    root = Path(root)
    base = len(root.parts)
    scanned = 0
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).parts) - base
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if depth >= MAX_DEPTH:
            dirnames[:] = []
        if "song.json" in filenames:
            scanned += 1
            if scanned > MAX_SCAN:
                break
            try:
                found.append((Path(dirpath), _read_meta(Path(dirpath))))
            except InvalidInputError:
                continue
    return found


def lineage_tree(folder: str | Path, *, under: str | Path | None = None) -> str:
    """The tree of the song in ``folder``: its ancestors down to it (marked), and below it
    every song derived from it found in song folders under ``under`` (by default the folder
    holding ``folder``)."""
    folder = Path(folder)
    meta = _read_meta(folder)
    me = str(meta.get("id", "?"))
    chain = list(reversed(_ancestors(meta)))
    lines: list[str] = []
    depth = 0
    for entry, lineage in chain:
        if entry.get("kind") == "demo":
            what = f"demo recording, sha256 {str(entry.get('sha256', ''))[:12]}"
            text = f"{entry.get('file', '?')} {what}"
        else:
            text = _line(
                str(entry.get("title", "?")),
                str(entry.get("id", "?")),
                _describe_op(lineage, entry),
            )
        lines.append(("   " * (depth - 1) + "└─ " if depth else "") + text)
        depth += 1
    mine = _line(str(meta.get("title", "?")), me, _describe_op(meta.get("lineage"), meta))
    lines.append(("   " * (depth - 1) + "└─ " if depth else "") + mine + "  ◀ this song")
    root = Path(under) if under is not None else folder.resolve().parent
    children: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for path, m in find_songs(root):
        for parent in (m.get("lineage") or {}).get("parents", []):
            if parent.get("kind") == "song" and parent.get("id"):
                children.setdefault(str(parent["id"]), []).append((path, m))

    def below(song_id: str, indent: str, trail: set[str]) -> None:
        kids = sorted(children.get(song_id, []), key=lambda x: str(x[0]))
        kids = [(p, m) for p, m in kids if str(m.get("id", "?")) not in trail]
        for i, (path, m) in enumerate(kids):
            cid = str(m.get("id", "?"))
            last = i == len(kids) - 1
            text = _line(str(m.get("title", "?")), cid, _describe_op(m.get("lineage"), m))
            lines.append(indent + ("└─ " if last else "├─ ") + text + f"  {path}")
            below(cid, indent + ("   " if last else "│  "), trail | {cid})

    below(me, "   " * depth, {me})
    return "\n".join(lines) + "\n"
