"""The calibration statistics shipped with the critics (``calibration.json``).

``python -m overture.critique.calibrate`` rebuilds the file. Until a critic has been
calibrated it falls back to ``DEFAULT_REFERENCE``, a deliberately wide prior (mean 0.5,
sd 0.2) under which no critic's standardised score is extreme.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
DEFAULT_REFERENCE = (0.5, 0.2)
MIN_SD = 0.05  # a critic that barely varies in calibration must not turn noise into z = 3
DEFAULT_HUMAN_SD = 0.6  # bits/note, until calibration has measured the corpus spread


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """The calibration file as a dict (empty when it is missing)."""
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


_override: dict[str, Any] | None = None


def current() -> dict[str, Any]:
    """The calibration in use: the shipped file, unless :func:`calibration_in_use` says else."""
    return _override if _override is not None else load_calibration()


@contextmanager
def calibration_in_use(data: dict[str, Any]) -> Iterator[None]:
    """Use ``data`` as the calibration inside the ``with`` block (the calibration command
    uses its fresh corpus spread while it measures the critics; tests use known numbers)."""
    global _override
    saved, _override = _override, data
    try:
        yield
    finally:
        _override = saved


def reference(scope: str, critic: str) -> tuple[float, float]:
    """(mean, sd) of ``critic``'s raw score over the calibration drafts or songs of ``scope``."""
    entry = current().get("critics", {}).get(f"{scope}.{critic}")
    if not entry:
        return DEFAULT_REFERENCE
    return float(entry["mean"]), max(MIN_SD, float(entry["sd"]))


def human_spread() -> float:
    """Standard deviation (bits/note) of the mean information content of held-out corpus
    tunes, cut into section-sized windows: how far from ``human_ic()`` human tunes stray."""
    value = current().get("likelihood", {}).get("human_sd")
    return float(value) if value else DEFAULT_HUMAN_SD
