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
from overture.app.jobs.derive import track_sections
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


def _clock(seconds: float | None) -> str:
    """A time in a song, as m:ss (0:00 at its start)."""
    s = round(seconds or 0)
    return f"{s // 60}:{s % 60:02d}"


templates.env.filters["minutes"] = _minutes
templates.env.filters["clock"] = _clock


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

    svc = services(request)
    jobs = [job_view(j) for j in svc.queue.list_for(user.id, limit=10)]
    return page(
        request,
        "create.html",
        jobs=jobs,
        think_levels=list(THINK_LEVELS),
        max_upload=svc.settings.max_upload_bytes,
        max_upload_mb=f"{svc.settings.max_upload_bytes / 2**20:.3g}",
    )


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
    # Made from this track: remixes by others (published), and new versions by its creator
    # (the published ones, and for the creator the private ones too).
    remixes = [t for t in svc.catalog.remixes(track.id) if t.owner_id != track.owner_id]
    versions = [t for t in svc.tracks.derived(track.id, user) if t.owner_id == track.owner_id]
    # Who may make something of it: its creator, new versions (the studio's operations); any
    # other creator, a remix (on a track they can see: public); a visitor, on a public track,
    # a link to sign in first.
    remix = studio = None
    sections: list[dict[str, Any]] = []
    maker = user is not None and user.role in ("creator", "admin")
    if source_keys(track) is not None:
        if maker and user is not None and user.id == track.owner_id:
            studio = "yes"
            sections = track_sections(svc.storage, track)
        elif maker:
            remix = "yes"
        elif user is None and track.visibility == "public":
            remix = "sign_in"
    lang = language(request)
    return page(
        request,
        "track.html",
        track=view,
        files=files,
        remixes=_tracks(request, remixes, user),
        versions=_tracks(request, versions, user),
        remix=remix,
        studio=studio,
        sections=sections,
        keep_words=KEEP_WORDS,
        credit=credit_line(track, lang),
    )


def credit_line(track: Track, lang: str) -> dict[str, Any] | None:
    """How a track credits what it was made from, in words: ``label`` goes before the
    source's title ("Remix of"; for a new version of one's own song "Extended from",
    "Repainted from", ...; "Arranged from a demo" for a demo, which has no track), ``note``
    after it says how it was made ("restyled as jazz", "chorus2 written anew"), and ``own``
    is true for a song made from one's own. None for a song made from a prompt."""
    lineage = track.lineage if isinstance(track.lineage, dict) else {}
    t = translator(lang)
    operation = lineage.get("operation")
    options = lineage.get("options") or {}
    parents = [p for p in lineage.get("parents") or [] if isinstance(p, dict)]
    if operation == "arrange":
        demo = parents[0].get("file") if parents else None
        notes = [str(demo)] if demo else []
        if options.get("keep_voice"):
            notes.append(t("with_recorded_voice"))
        return {"label": t("arranged_from_demo"), "note": " · ".join(notes) or None, "own": True}
    if not (track.source_track_id or track.source_title):
        return None
    own = bool(parents) and parents[0].get("creator_id") == track.owner_id
    if not own:
        return {"label": t("remix_of"), "note": lineage_note(lineage, lang), "own": False}
    comma = "、" if lang == "zh" else ", "
    label, note = t("remix_of"), None
    if operation == "extend":
        label = t("extended_from")
        if options.get("add"):
            note = t("with_sections", sections=comma.join(str(k) for k in options["add"]))
        elif options.get("to"):
            note = t("to_length", length=_minutes(float(options["to"])))
    elif operation == "regenerate":
        label = t("repainted_from")
        if options.get("section"):
            note = t("section_anew", section=options["section"])
    elif operation == "restyle":
        label = t("restyled_from")
        if options.get("genre"):
            note = t("as_genre", genre=options["genre"])
    elif operation == "vary":
        label = t("variation_of")
        notes = []
        kept = [t(f"keep_{k}") for k in options.get("keep") or [] if k in KEEP_WORDS]
        if kept:
            notes.append(t("keeping", keep=comma.join(kept)))
        if (options.get("of") or 1) > 1:
            notes.append(t("take_of", take=options.get("take"), of=options.get("of")))
        note = " · ".join(notes) or None
    return {"label": label, "note": note, "own": True}


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
