"""The HTML pages. Each renders on the server from the same services and views as the API,
so a page is complete without scripts; ``static/app.js`` adds the player bar, soft page
changes (the player keeps playing), live job progress and the buttons that call the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from overture.app.deps import optional_user, safe_path, services, session_token
from overture.app.errors import AppError, NotFound
from overture.app.jobs.remix import source_keys
from overture.app.models import Track, User
from overture.app.ui.i18n import LANG_COOKIE, LANGS, SCRIPT_KEYS, language, translator
from overture.app.views import job_view, sources_of, track_views, user_view

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

HOME_SHELF = 12
KEEP_WORDS = ("melody", "chords", "structure", "lyrics")


def _minutes(seconds: float | None) -> str:
    if not seconds:
        return "–"
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


templates.env.filters["minutes"] = _minutes


def _tracks(request: Request, tracks: list[Track], user: User | None) -> list[dict[str, Any]]:
    svc = services(request)
    visible = svc.tracks.visible_ids(sources_of(tracks), user)
    return track_views(tracks, svc.catalog.creator_names(tracks), user, visible)


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page in the visitor's language, with who is signed in and their CSRF token."""
    lang = language(request)
    t = translator(lang)
    user = optional_user(request)
    csrf = None
    if user is not None:
        csrf = services(request).accounts.csrf_token(session_token(request) or "")
    script = {
        "lang": lang,
        "words": {k: t(k) for k in SCRIPT_KEYS},
        "user": user_view(user) if user else None,
    }
    return templates.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang,
            "other_lang": "zh" if lang == "en" else "en",
            "user": user,
            "csrf": csrf,
            "script_json": json.dumps(script, ensure_ascii=False),
            "path": request.url.path,
            **context,
        },
        status_code=status,
    )


def not_found(request: Request) -> Response:
    return page(request, "not_found.html", status=404)


def _sign_in_first(request: Request) -> Response:
    return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    svc, user = services(request), optional_user(request)
    new = svc.catalog.browse(sort="new", limit=HOME_SHELF)
    popular = svc.catalog.browse(sort="popular", limit=HOME_SHELF)
    return page(
        request,
        "home.html",
        new=_tracks(request, new, user),
        popular=_tracks(request, popular, user),
        genres=svc.catalog.genres(),
    )


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = "") -> Response:
    svc, user = services(request), optional_user(request)
    q = q.strip()[:200]
    found: list[Track] = []
    if q:
        try:
            found = svc.catalog.search(q, limit=50)
        except AppError:
            found = []
    t = translator(language(request))
    return page(
        request,
        "list.html",
        heading=t("results_for", q=q) if q else t("search"),
        tracks=_tracks(request, found, user),
        q=q,
    )


@router.get("/browse", response_class=HTMLResponse)
def browse(
    request: Request, genre: str | None = None, mood: str | None = None, sort: str = "new"
) -> Response:
    svc, user = services(request), optional_user(request)
    t = translator(language(request))
    if sort not in ("new", "popular"):
        sort = "new"
    tracks = svc.catalog.browse(genre=genre, mood=mood, sort=sort, limit=100)
    heading = (
        t("genre_tracks", genre=genre)
        if genre
        else t("mood_tracks", mood=mood)
        if mood
        else t("popular_tracks" if sort == "popular" else "new_tracks")
    )
    return page(request, "list.html", heading=heading, tracks=_tracks(request, tracks, user))


@router.get("/create", response_class=HTMLResponse)
def create(request: Request) -> Response:
    user = optional_user(request)
    if user is None:
        return _sign_in_first(request)
    from overture.think import THINK_LEVELS  # the engine's levels, by name

    jobs = [job_view(j) for j in services(request).queue.list_for(user.id, limit=10)]
    return page(request, "create.html", jobs=jobs, think_levels=list(THINK_LEVELS))


@router.get("/library", response_class=HTMLResponse)
def library(request: Request) -> Response:
    user = optional_user(request)
    if user is None:
        return _sign_in_first(request)
    svc = services(request)
    tracks = svc.tracks.list_mine(user, limit=200)
    jobs = [
        job_view(j)
        for j in svc.queue.list_for(user.id, limit=10)
        if j.state in ("queued", "running", "failed")
    ]
    return page(request, "library.html", tracks=_tracks(request, tracks, user), jobs=jobs)


@router.get("/tracks/{track_id}", response_class=HTMLResponse)
def track_page(request: Request, track_id: str) -> Response:
    svc, user = services(request), optional_user(request)
    try:
        track = svc.tracks.get(track_id, user)
    except NotFound:
        return not_found(request)
    view = _tracks(request, [track], user)[0]
    files = {f["name"]: f["url"] for f in view["files"]}
    remixes = _tracks(request, svc.catalog.remixes(track.id), user)
    # Who gets the Remix button: a creator (on any track they can see: public, or theirs);
    # a visitor, on a public track, a link to sign in first.
    remix = None
    if source_keys(track) is not None:
        if user is not None and user.role in ("creator", "admin"):
            remix = "yes"
        elif user is None and track.visibility == "public":
            remix = "sign_in"
    lang = language(request)
    return page(
        request,
        "track.html",
        track=view,
        files=files,
        remixes=remixes,
        remix=remix,
        lineage_note=lineage_note(track.lineage, lang),
    )


def lineage_note(lineage: dict[str, Any] | None, lang: str) -> str | None:
    """How a remix was made, in words: "restyled as jazz", "a variation keeping its melody
    and structure"; None for a track that is not a remix (or an operation not named here)."""
    if not isinstance(lineage, dict):
        return None
    t = translator(lang)
    options = lineage.get("options") or {}
    if lineage.get("operation") == "restyle" and options.get("genre"):
        return t("restyled_as", genre=options["genre"])
    if lineage.get("operation") == "vary":
        kept = [t(f"keep_{k}") for k in options.get("keep") or [] if k in KEEP_WORDS]
        if kept:
            return t("variation_keeping", keep=("、" if lang == "zh" else ", ").join(kept))
        return t("variation")
    return None


@router.get("/creators/{user_id}", response_class=HTMLResponse)
def creator_page(request: Request, user_id: int) -> Response:
    svc, user = services(request), optional_user(request)
    try:
        creator, tracks = svc.catalog.creator(user_id, limit=200)
    except NotFound:
        return not_found(request)
    return page(request, "creator.html", creator=creator, tracks=_tracks(request, tracks, user))


@router.get("/signin", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/") -> Response:
    return page(request, "signin.html", mode="signin", next=safe_path(next) or "/")


@router.get("/signup", response_class=HTMLResponse)
def sign_up_page(request: Request, next: str = "/") -> Response:
    return page(request, "signin.html", mode="signup", next=safe_path(next) or "/")


@router.get("/lang/{code}")
def set_language(request: Request, code: str, next: str = "/") -> Response:
    """Switch the interface language (a cookie for a year) and go back to ``next``."""
    response = RedirectResponse(safe_path(next) or "/", status_code=303)
    if code in LANGS:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response
