"""Output folders written as a whole or not at all.

A command writes into a temporary folder beside its destination and moves it into place at the
end, so a failure never leaves a half-written folder behind; an existing non-empty destination
is replaced only with ``force``, and only once the new one is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from overture.errors import OutputError


def check_output(dest: Path, *, force: bool) -> None:
    """Refuse a destination that is a file, or a non-empty folder without ``force``."""
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"output path exists and is not a folder: {dest}")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise OutputError(f"output folder is not empty: {dest} (use --force to replace it)")


def start_output(dest: Path, *, force: bool) -> Path:
    """Check that ``dest`` may be written and make the temporary folder beside it."""
    check_output(dest, force=force)
    parent = dest.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=parent))
    except OSError as e:
        raise OutputError(f"cannot write to {parent}: {e.strerror or e}") from e


def finish_output(tmp: Path, dest: Path, *, force: bool) -> None:
    """Move the finished folder into place; an old one (with ``force``) goes only after."""
    old = None
    if dest.exists():
        if any(dest.iterdir()) and not force:
            raise OutputError(f"output folder is not empty: {dest} (use --force to replace it)")
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        dest.rename(old)
    try:
        tmp.rename(dest)
    except OSError:
        if old is not None:
            old.rename(dest)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
