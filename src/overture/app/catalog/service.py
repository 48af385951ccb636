"""The catalog: full-text search and browsing of public, not-deleted tracks.

Text is segmented with jieba (``lcut_for_search``) both when indexed and when searched, so
Chinese is found by its words (月亮 finds 月亮照在小河上). On SQLite the segmented text goes
into the external-content FTS5 table ``track_fts`` (its content in ``track_search``), ranked
by bm25 with the title weighted above the rest; on PostgreSQL into the ``tracks.search`` and
``tracks.search_title`` columns (not mapped on ``Track``: they exist there only), matched with
``plainto_tsquery('simple', ...)`` through a GIN index and ranked by ``ts_rank``.
The index is kept by ``reindex``, which the track service calls whenever a track is
published, unpublished, edited or deleted.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from overture.app.db import is_sqlite, session_factory
from overture.app.errors import Invalid, NotFound
from overture.app.models import Track, User

MAX_QUERY = 200
TITLE_WEIGHT = 10.0  # bm25 weight of the title column against the other text
SORTS = ("new", "popular")

_jieba: Any = None
_jieba_lock = threading.Lock()


def _segmenter() -> Any:
    """jieba, imported and initialised once, with its logging silenced."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def tokens(value: str | None) -> list[str]:
    """The lower-cased words of ``value`` (Chinese segmented by jieba); punctuation dropped."""
    if not value:
        return []
    words = _segmenter().lcut_for_search(value.lower())
    return [w.strip() for w in words if any(ch.isalnum() for ch in w)]


def segment(value: str | None) -> str:
    """``value`` as space-separated words, as it is indexed and searched."""
    return " ".join(tokens(value))


def fts5_query(q: str) -> str:
    """An FTS5 match expression for the words of ``q``: every word a quoted string (inner
    quotes doubled), so no input can inject FTS5 syntax; all words must match."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in tokens(q))


def _public() -> Any:
    return (Track.visibility == "public") & Track.deleted_at.is_(None)


def _index_text(s: Session, track: Track) -> tuple[str, str]:
    owner = s.get(User, track.owner_id)
    rest = [track.prompt, track.lyrics, track.genre, track.mood]
    rest.append(owner.display_name if owner else None)
    return segment(track.title), " ".join(segment(v) for v in rest if v)


def reindex(s: Session, track: Track) -> None:
    """Bring ``track``'s search entry up to date in session ``s``: indexed when public and not
    deleted, removed otherwise."""
    listed = track.visibility == "public" and track.deleted_at is None
    if s.get_bind().dialect.name == "sqlite":
        old = s.execute(
            text("SELECT id, title, body FROM track_search WHERE track_id = :t"), {"t": track.id}
        ).first()
        if old is not None:
            s.execute(
                text(
                    "INSERT INTO track_fts(track_fts, rowid, title, body) "
                    "VALUES ('delete', :id, :title, :body)"
                ),
                {"id": old.id, "title": old.title, "body": old.body},
            )
            s.execute(text("DELETE FROM track_search WHERE id = :id"), {"id": old.id})
        if listed:
            title, body = _index_text(s, track)
            rowid = s.execute(
                text(
                    "INSERT INTO track_search(track_id, title, body) "
                    "VALUES (:t, :title, :body) RETURNING id"
                ),
                {"t": track.id, "title": title, "body": body},
            ).scalar_one()
            s.execute(
                text("INSERT INTO track_fts(rowid, title, body) VALUES (:id, :title, :body)"),
                {"id": rowid, "title": title, "body": body},
            )
    else:
        title, body = _index_text(s, track) if listed else (None, None)
        search = f"{title} {body}" if listed else None
        s.execute(
            text("UPDATE tracks SET search_title = :title, search = :search WHERE id = :t"),
            {"title": title, "search": search, "t": track.id},
        )


class CatalogService:
    """Search and browse public tracks; nothing here needs a signed-in user."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.Session = session_factory(engine)

    def search(self, q: str, *, limit: int = 20, offset: int = 0) -> list[Track]:
        """Public tracks matching every word of ``q``, most relevant first."""
        if not q or not q.strip():
            raise Invalid("q: give some words to search for")
        if len(q) > MAX_QUERY:
            raise Invalid(f"q: at most {MAX_QUERY} characters")
        page = {"limit": limit, "offset": offset}
        if is_sqlite(self.engine):
            match = fts5_query(q)
            if not match:
                return []
            sql = text(
                "SELECT s.track_id FROM track_fts JOIN track_search s ON s.id = track_fts.rowid "
                "WHERE track_fts MATCH :m "
                f"ORDER BY bm25(track_fts, {TITLE_WEIGHT}, 1.0), s.track_id "
                "LIMIT :limit OFFSET :offset"
            )
            params: dict[str, Any] = {"m": match, **page}
        else:
            words = segment(q)
            if not words:
                return []
            sql = text(
                "SELECT id FROM tracks, plainto_tsquery('simple', :q) AS query "
                "WHERE to_tsvector('simple', search) @@ query "
                "AND visibility = 'public' AND deleted_at IS NULL "
                "ORDER BY ts_rank(setweight(to_tsvector('simple', "
                "coalesce(search_title, '')), 'A') || to_tsvector('simple', search), query) "
                "DESC, id LIMIT :limit OFFSET :offset"
            )
            params = {"q": words, **page}
        with self.Session() as s:
            ids = list(s.execute(sql, params).scalars())
            found = {t.id: t for t in s.scalars(select(Track).where(Track.id.in_(ids), _public()))}
            return [found[i] for i in ids if i in found]

    def browse(
        self,
        *,
        genre: str | None = None,
        mood: str | None = None,
        sort: str = "new",
        limit: int = 50,
        offset: int = 0,
    ) -> list[Track]:
        """Public tracks, optionally of one genre and with a mood (a word of the track's
        moods, case-insensitive): ``new`` newest first, ``popular`` most played first (a
        listener's plays count once a day), newest first among equals."""
        if sort not in SORTS:
            raise Invalid(f"sort: one of {', '.join(SORTS)}")
        q = select(Track).where(_public())
        if genre:
            q = q.where(func.lower(Track.genre) == genre.strip().lower())
        if mood:
            q = q.where(func.lower(Track.mood).contains(mood.strip().lower(), autoescape=True))
        order = [Track.published_at.desc(), Track.id]
        if sort == "popular":
            order.insert(0, Track.play_count.desc())
        q = q.order_by(*order).limit(limit).offset(offset)
        with self.Session() as s:
            return list(s.scalars(q))

    def genres(self) -> dict[str, int]:
        """Genre -> how many public tracks have it (tracks without a genre are left out)."""
        q = (
            select(Track.genre, func.count())
            .where(_public(), Track.genre.is_not(None))
            .group_by(Track.genre)
            .order_by(Track.genre)
        )
        with self.Session() as s:
            return {genre: count for genre, count in s.execute(q)}

    def creator(
        self, user_id: int, *, limit: int = 50, offset: int = 0
    ) -> tuple[User, list[Track]]:
        """A creator and their public tracks, newest first; ``NotFound`` for no such user."""
        with self.Session() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound("no such creator")
            q = (
                select(Track)
                .where(_public(), Track.owner_id == user_id)
                .order_by(Track.published_at.desc(), Track.id)
                .limit(limit)
                .offset(offset)
            )
            return user, list(s.scalars(q))

    def remixes(self, track_id: str, *, limit: int = 50) -> list[Track]:
        """The public tracks made from ``track_id``, newest first."""
        q = (
            select(Track)
            .where(_public(), Track.source_track_id == track_id)
            .order_by(Track.published_at.desc(), Track.id)
            .limit(limit)
        )
        with self.Session() as s:
            return list(s.scalars(q))

    def creator_names(self, tracks: list[Track]) -> dict[int, str]:
        """Owner id -> display name, for the owners of ``tracks``, in one query."""
        ids = {t.owner_id for t in tracks}
        if not ids:
            return {}
        with self.Session() as s:
            rows = s.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
            return {uid: name for uid, name in rows}
