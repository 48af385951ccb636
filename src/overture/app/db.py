"""The database: one engine per settings, sessions, and the schema brought up to date by
Alembic when the app or a worker starts (``migrate``), so a deploy never needs a manual step.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: the PostgreSQL advisory lock that makes concurrent start-ups migrate once.
MIGRATE_LOCK = 0x0E7E_0001


def utcnow() -> datetime:
    """Now in UTC, without a zone: every timestamp is stored so on both backends, which keeps
    comparisons in SQL (lease expiry) identical on SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def upsert_insert(bind: Engine | Connection, table: Any) -> Any:
    """An ``INSERT`` on ``table`` in the dialect of ``bind``, with PostgreSQL's and SQLite's
    shared ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def make_engine(url: str) -> Engine:
    """An engine for ``url``. A SQLite file gets its folder made, write-ahead logging (readers
    do not block the writer) and a busy timeout (writers wait for each other, not fail)."""
    u = make_url(url)
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {"future": True}
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(u, **kwargs)
    if u.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if is_sqlite(engine):
        db = engine.url.database
        if not db or db == ":memory:":
            yield
            return
        with open(f"{db}.migrate-lock", "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
    else:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATE_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATE_LOCK})
                conn.commit()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (``alembic upgrade head``), once even when
    several processes start together."""
    with _migration_lock(engine):
        alembic_command(engine, "upgrade", "head")


def alembic_command(engine: Engine, step: str, revision: str) -> None:
    """Run alembic's ``step`` ("upgrade" or "downgrade") to ``revision`` on ``engine``, in
    one transaction (no lock: ``migrate`` holds it for the service's upgrades)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)
