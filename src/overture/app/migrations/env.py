"""Alembic's entry point. ``overture.app.db.migrate`` hands it an open connection; run from
the ``alembic`` command instead, it connects to ``OVERTURE_DATABASE_URL``."""

from __future__ import annotations

from alembic import context

from overture.app.models import Base


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from overture.app.db import make_engine
    from overture.app.settings import Settings

    engine = make_engine(Settings.from_env().database_url)
    with engine.begin() as conn:
        _run(conn)
