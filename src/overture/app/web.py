"""The web app: ``create_app(settings)`` wires the domain routers, the CSRF guard and the
error handling together. Every error leaves as a 4xx/5xx with a ``{"error": "..."}`` body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from overture.app.accounts.routes import router as accounts_router
from overture.app.accounts.service import AccountService
from overture.app.catalog.routes import router as catalog_router
from overture.app.catalog.service import CatalogService
from overture.app.db import make_engine, migrate
from overture.app.deps import Services, csrf_guard, services
from overture.app.errors import AppError
from overture.app.jobs.progress import RedisProgress
from overture.app.jobs.queue import JobQueue
from overture.app.jobs.routes import router as jobs_router
from overture.app.limits import DatabaseCounter, RateLimiter, RedisCounter
from overture.app.media.storage import LocalStorage
from overture.app.settings import Settings
from overture.app.tracks.routes import router as tracks_router
from overture.app.tracks.service import TrackService
from overture.app.ui import routes as ui

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    """The services for ``settings``, with the database schema brought up to date."""
    settings = settings.with_secret()
    engine = make_engine(settings.database_url)
    migrate(engine)
    progress = RedisProgress(settings.redis_url) if settings.redis_url else None
    counter = RedisCounter(progress.client) if progress else DatabaseCounter(engine)
    return Services(
        settings=settings,
        engine=engine,
        accounts=AccountService(
            engine, secret_key=settings.secret_key, session_days=settings.session_days
        ),
        queue=JobQueue(
            engine, lease_seconds=settings.lease_seconds, max_attempts=settings.max_attempts
        ),
        tracks=TrackService(engine),
        storage=LocalStorage(settings.media_dir),
        progress=progress,
        catalog=CatalogService(engine),
        limiter=RateLimiter(counter),
    )


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    msg = str(first.get("msg", "invalid"))
    return f"{'.'.join(loc)}: {msg}" if loc else msg


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Overture web service (the API under ``/api``, documented at ``/docs``)."""
    from overture import __version__

    svc = build_services(settings or Settings.from_env())
    app = FastAPI(
        title="Overture",
        version=__version__,
        description="Make songs from prompts: accounts, a job queue and a track library.",
        dependencies=[Depends(csrf_guard)],
    )
    app.state.services = svc

    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        headers = {}
        if "retry_after" in exc.extra:
            headers["Retry-After"] = str(exc.extra["retry_after"])
        return JSONResponse(
            {"error": exc.message, **exc.extra}, status_code=exc.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_message(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            if _wants_page(request):
                return ui.not_found(request)
            message = "not found"
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)

    @app.get("/healthz", tags=["service"])
    def healthz(request: Request) -> dict[str, Any]:
        """Whether the service can reach its database (and Redis, when configured)."""
        s = services(request)
        with s.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        redis_ok = None
        if s.progress is not None:
            redis_ok = bool(s.progress.client.ping())
        return {"ok": True, "database": s.engine.dialect.name, "redis": redis_ok}

    app.include_router(accounts_router)
    app.include_router(jobs_router)
    app.include_router(tracks_router)
    app.include_router(catalog_router)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=ui.HERE / "static"), name="static")
    return app


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a file): it gets an HTML answer."""
    path = request.url.path
    if path.startswith(("/api/", "/static/")) or request.method != "GET":
        return False
    return "text/html" in request.headers.get("accept", "")
