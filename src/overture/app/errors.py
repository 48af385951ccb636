"""The service's typed errors: raised by the domain services, turned into an HTTP status and
a ``{"error": "..."}`` body once, in ``overture.app.web``."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A request that cannot be served; ``status`` is its HTTP status code."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class Invalid(AppError):
    status = 422


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class TooLarge(AppError):
    """An upload over its size limit (refused before it is read whole)."""

    status = 413


class UnsupportedMedia(AppError):
    status = 415


class TooManyJobs(AppError):
    status = 429


class TooManyRequests(AppError):
    """A rate limit was hit; ``retry_after`` (seconds) goes into the body and the header."""

    status = 429
