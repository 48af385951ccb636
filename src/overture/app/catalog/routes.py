"""``/api/catalog``: search and browse public tracks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from overture.app.catalog.service import MAX_QUERY, CatalogService
from overture.app.deps import Limit, Offset, optional_user, services
from overture.app.models import Track
from overture.app.views import sources_of, track_views

router = APIRouter(prefix="/api/catalog", tags=["catalog"])


def catalog(request: Request) -> CatalogService:
    return services(request).catalog


def _views(request: Request, tracks: list[Track]) -> list[dict[str, Any]]:
    user = optional_user(request)
    names = catalog(request).creator_names(tracks)
    visible = services(request).tracks.visible_ids(sources_of(tracks), user)
    return track_views(tracks, names, user, visible)


@router.get("/search")
def search(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="Words to search for.")],
    limit: Limit = 20,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Public tracks matching every word of ``q`` (title, prompt, lyrics, genre, mood and the
    creator's name; Chinese by words), most relevant first."""
    return _views(request, catalog(request).search(q, limit=limit, offset=offset))


@router.get("/tracks")
def browse(
    request: Request,
    genre: str | None = None,
    mood: str | None = None,
    sort: Annotated[str, Query(pattern="^(new|popular)$")] = "new",
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Public tracks, optionally of a genre and a mood; ``new`` (newest first) or
    ``popular`` (most played first; a listener's plays of a track count once a day)."""
    tracks = catalog(request).browse(genre=genre, mood=mood, sort=sort, limit=limit, offset=offset)
    return _views(request, tracks)


@router.get("/genres")
def genres(request: Request) -> dict[str, int]:
    """Each genre with how many public tracks it has."""
    return catalog(request).genres()


@router.get("/creators/{user_id}")
def creator(
    request: Request, user_id: int, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """A creator's display name and public tracks, newest first."""
    user, tracks = catalog(request).creator(user_id, limit=limit, offset=offset)
    return {"id": user.id, "display_name": user.display_name, "tracks": _views(request, tracks)}
