"""The evaluation's prompt file: reading and checking it.

Shape (``shared/eval/prompts.json``)::

    {"about": "...",
     "prompts": [{"id": "p01", "prompt": "upbeat pop song, 120 bpm, G major, 60 seconds",
                  "expect": {"tempo": 120, "key": "G major", "duration": 60,
                             "genre": "pop", "time_signature": "3/4"}}, ...]}

``expect`` holds only what the prompt states; every field is optional. An empty prompt text is
allowed (it asks the engine for its defaults); a missing or non-text ``prompt`` is an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from overture.errors import InvalidInputError
from overture.theory import Key, TimeSignature, parse_key, parse_time_signature

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Expect:
    """What a prompt states explicitly (``None``: not stated)."""

    tempo: float | None = None
    key: Key | None = None
    duration: float | None = None
    genre: str | None = None
    time_signature: TimeSignature | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tempo": self.tempo,
            "key": self.key.name if self.key else None,
            "duration": self.duration,
            "genre": self.genre,
            "time_signature": str(self.time_signature) if self.time_signature else None,
        }


@dataclass(frozen=True, slots=True)
class EvalPrompt:
    """One prompt of the evaluation set."""

    id: str
    prompt: str
    expect: Expect


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInputError(f"{what} must be a positive number, not {value!r}")
    return float(value)


def _expect(raw: Any, where: str) -> Expect:
    if raw is None:
        return Expect()
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: 'expect' must be an object")
    key = ts = None
    try:
        if raw.get("key") is not None:
            key = parse_key(str(raw["key"]))
        if raw.get("time_signature") is not None:
            ts = parse_time_signature(str(raw["time_signature"]))
    except InvalidInputError as e:
        raise InvalidInputError(f"{where}: {e}") from e
    genre = raw.get("genre")
    if genre is not None and not isinstance(genre, str):
        raise InvalidInputError(f"{where}: 'genre' must be text")
    return Expect(
        tempo=_number(raw["tempo"], f"{where}: tempo") if raw.get("tempo") is not None else None,
        key=key,
        duration=(
            _number(raw["duration"], f"{where}: duration")
            if raw.get("duration") is not None
            else None
        ),
        genre=genre,
        time_signature=ts,
    )


def load_prompts(path: str | Path) -> tuple[str, list[EvalPrompt]]:
    """(``about`` text, prompts) from a prompt file; :class:`InvalidInputError` if unusable."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"prompt file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise InvalidInputError(f"prompt file is not UTF-8 text: {path}") from e
    except json.JSONDecodeError as e:
        raise InvalidInputError(
            f"prompt file is not valid JSON: {path} (line {e.lineno}: {e.msg})"
        ) from e
    if isinstance(data, list):
        data = {"prompts": data}
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), list):
        raise InvalidInputError(f"prompt file has no 'prompts' list: {path}")
    if not data["prompts"]:
        raise InvalidInputError(f"prompt file has no prompts: {path}")
    prompts: list[EvalPrompt] = []
    seen: set[str] = set()
    for i, item in enumerate(data["prompts"]):
        where = f"prompt #{i + 1}"
        if not isinstance(item, dict):
            raise InvalidInputError(f"{where} must be an object with 'id' and 'prompt'")
        pid = item.get("id", f"p{i + 1:02d}")
        if not isinstance(pid, str) or not _ID_RE.match(pid):
            raise InvalidInputError(
                f"{where}: id {pid!r} must be 1-64 letters, digits, '_', '.' or '-'"
            )
        where = f"prompt {pid!r}"
        if pid in seen:
            raise InvalidInputError(f"{where}: duplicate id")
        seen.add(pid)
        text = item.get("prompt")
        if not isinstance(text, str):
            raise InvalidInputError(f"{where} has no prompt text")
        prompts.append(EvalPrompt(pid, text, _expect(item.get("expect"), where)))
    about = data.get("about", "")
    return (about if isinstance(about, str) else ""), prompts
