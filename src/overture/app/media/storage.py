"""A content-addressed store: a file's key is the SHA-256 of its bytes.

The same bytes are kept once however many tracks share them, a key never changes meaning (so
it serves as an HTTP ETag and caches never go stale), and writing is idempotent: a worker
that stores a file twice after a retry wastes nothing. ``Storage`` is the interface; an
object store can implement it beside ``LocalStorage``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from overture.app.errors import NotFound

CHUNK = 1 << 20
_KEY = re.compile(r"^[0-9a-f]{64}$")

CONTENT_TYPES = {
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".mid": "audio/midi",
    ".musicxml": "application/vnd.recordare.musicxml+xml",
    ".json": "application/json",
    ".lrc": "text/plain; charset=utf-8",
}


def content_type_for(name: str) -> str:
    """The HTTP content type of a song folder's file, from its name."""
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


class Storage(Protocol):
    """Where media bytes live. Keys are lower-case hex SHA-256 digests."""

    def put(self, data: bytes | Path) -> str:
        """Store ``data`` (bytes, or the file at a path) and return its key."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The stored bytes for reading; ``NotFound`` when absent."""
        ...

    def size(self, key: str) -> int: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the bytes; nothing happens when they are already gone."""
        ...


class LocalStorage:
    """Files under ``root/ab/cd/<sha256>``: two levels of fan-out keep folders small.

    A file is written to a temporary name in its final folder and renamed into place, so a
    reader never sees part of a file and a crash leaves only a stray temporary file.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise NotFound("no such media")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes | Path) -> str:
        digest = hashlib.sha256()
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".put-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(data, bytes | bytearray | memoryview):
                    digest.update(data)
                    out.write(data)
                else:
                    with open(data, "rb") as src:
                        while chunk := src.read(CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            dest = self.path(key)
            if dest.exists():
                tmp.unlink()
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
            return key
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError:
            raise NotFound("no such media") from None

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound("no such media") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
