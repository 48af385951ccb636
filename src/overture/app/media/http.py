"""Serving a stored file over HTTP: byte ranges (seeking in an audio player), ETags (the
content key) and caching. Kept apart from the routes so that every download behaves alike."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from overture.app.media.storage import CHUNK, Storage

CACHE_CONTROL = "private, max-age=86400"  # bytes never change; only the user's browser keeps them
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class BadRange(ValueError):
    """A ``Range: bytes=...`` header that no part of the file satisfies."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte span ``(first, last)`` a ``Range`` header asks of a file of ``size``
    bytes; None to send the whole file (no header, another unit, or several ranges, which a
    server may answer in full). ``BadRange`` when the bytes asked for do not exist or the
    spec is malformed (RFC 9110 §14.1.2)."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    m = _RANGE.match(spec)
    if m is None or (not m.group(1) and not m.group(2)):
        raise BadRange(header)
    if not m.group(1):  # the last N bytes
        n = int(m.group(2))
        if n == 0 or size == 0:
            raise BadRange(header)
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size or last < first:
        raise BadRange(header)
    return first, min(last, size - 1)


def etag_matches(header: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (in a list, weak, or ``*``)."""
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def _read(storage: Storage, key: str, first: int, length: int) -> Iterator[bytes]:
    with storage.open(key) as f:
        f.seek(first)
        left = length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk


def media_response(
    request: Request,
    storage: Storage,
    key: str,
    *,
    content_type: str,
    filename: str | None = None,
    inline: bool = True,
) -> Response:
    """The response for ``GET`` of the stored file ``key``: 200, 206 with one range, 304 when
    the client's copy is current, or 416 for a range outside the file."""
    size = storage.size(key)
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Accept-Ranges": "bytes"}
    if filename:
        kind = "inline" if inline else "attachment"
        headers["Content-Disposition"] = f'{kind}; filename="{filename}"'
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    span = None
    if_range = request.headers.get("if-range")
    if not if_range or if_range.strip() == etag:
        try:
            span = parse_range(request.headers.get("range", ""), size)
        except BadRange:
            return Response(
                status_code=416,
                headers={**headers, "Content-Range": f"bytes */{size}"},
            )
    if span is None:
        headers["Content-Length"] = str(size)
        return StreamingResponse(
            _read(storage, key, 0, size), media_type=content_type, headers=headers
        )
    first, last = span
    length = last - first + 1
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        _read(storage, key, first, length),
        status_code=206,
        media_type=content_type,
        headers=headers,
    )


def bytes_response(request: Request, body: bytes, content_type: str) -> Response:
    """A response for bytes made on request (a cover, a waveform): an ETag from their hash,
    and 304 when the client's copy is current."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=content_type, headers=headers)
