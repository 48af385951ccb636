"""What every route needs: the services of the running app, the signed-in user, and the
CSRF check. Routes receive these through FastAPI dependencies and hold no state of their own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy import Engine
from starlette.responses import Response

from overture.app.accounts.service import AccountService, SignedIn
from overture.app.catalog.service import CatalogService
from overture.app.errors import Forbidden, Unauthorized
from overture.app.jobs.progress import RedisProgress
from overture.app.jobs.queue import JobQueue
from overture.app.limits import RateLimiter
from overture.app.media.storage import Storage
from overture.app.models import User
from overture.app.settings import Settings
from overture.app.tracks.service import TrackService

SESSION_COOKIE = "overture_session"
CSRF_COOKIE = "overture_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SAFE_PATH = re.compile(r"/(?!/)[^\\\s\x00-\x1f\x7f]*")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(slots=True)
class Services:
    """The app's domain services, made once by ``create_app``."""

    settings: Settings
    engine: Engine
    accounts: AccountService
    queue: JobQueue
    tracks: TrackService
    storage: Storage
    progress: RedisProgress | None
    catalog: CatalogService
    limiter: RateLimiter


def services(request: Request) -> Services:
    return request.app.state.services


def safe_path(value: object) -> str | None:
    """``value`` when it is a path on this site, to redirect to; None otherwise. No open
    redirects: a browser reads ``//host`` and ``/\\host`` as another site, and drops tabs
    and newlines first (``/<tab>/host``), so no backslash, space or control character passes."""
    if isinstance(value, str) and _SAFE_PATH.fullmatch(value):
        return value
    return None


def client_ip(request: Request) -> str:
    """The address the request came from (the proxy's, behind one)."""
    return request.client.host if request.client else "unknown"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def optional_user(request: Request) -> User | None:
    """The signed-in user, or None. Looked up once per request."""
    if not hasattr(request.state, "user"):
        request.state.user = services(request).accounts.user_for(session_token(request))
    return request.state.user


def current_user(request: Request) -> User:
    """The signed-in user; 401 when nobody is signed in."""
    user = optional_user(request)
    if user is None:
        raise Unauthorized("sign in first")
    return user


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() in FORM_TYPES


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "multipart/form-data"


async def csrf_guard(request: Request) -> None:
    """Refuse a state-changing request that carries a valid session cookie without the
    session's CSRF token, both in the ``overture_csrf`` cookie and in the ``X-CSRF-Token``
    header (or a plain form's ``csrf_token`` field). Another site can make a browser send the
    cookies, but cannot read them to copy the token into the request.

    A ``multipart/form-data`` body is an upload, read only by its own route within its size
    limit (``POST /api/jobs/arrange``): it must carry the header, and is never read here."""
    if request.method in SAFE_METHODS:
        return
    token = session_token(request)
    if token is None or optional_user(request) is None:
        return  # no session: the request carries no authority to abuse
    given = request.headers.get(CSRF_HEADER)
    if not given and is_form(request) and not is_multipart(request):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    accounts = services(request).accounts
    if not accounts.csrf_ok(token, given) or request.cookies.get(CSRF_COOKIE) != given:
        raise Forbidden("missing or wrong CSRF token: send the overture_csrf cookie's value")


def set_session_cookies(request: Request, response: Response, signed: SignedIn) -> str:
    """Put a new session in the browser; returns its CSRF token."""
    secure = request.url.scheme == "https"
    age = int(signed.expires_in.total_seconds())
    csrf = services(request).accounts.csrf_token(signed.token)
    common: dict[str, Any] = {"max_age": age, "secure": secure, "samesite": "lax", "path": "/"}
    response.set_cookie(SESSION_COOKIE, signed.token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)  # scripts must read it
    return csrf


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


CurrentUser = Annotated[User, Depends(current_user)]
Limit = Annotated[int, Query(ge=1, le=200, description="How many to list.")]
Offset = Annotated[int, Query(ge=0, description="How many to skip.")]
