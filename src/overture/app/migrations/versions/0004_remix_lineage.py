"""Remixes: each track's lineage (how it was made from its source), an index to list a
track's remixes, and a trigger that keeps a track's credit and lineage as they were made.

A remix's ``source_track_id``, ``source_title``, ``source_creator`` and ``lineage`` are what
payouts follow, so the database itself refuses an ``UPDATE`` that changes any of them, on
either backend, whatever code sends it. Rows are never rewritten to keep a credit: a deleted
source stays as a row (``deleted_at``), so nothing needs to.

SQLite drops a table's triggers with the table: a later migration that rebuilds ``tracks``
with ``batch_alter_table`` (a column type change, a dropped column) must create the trigger
again (``create_lineage_guard``).

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GUARD = "tracks_lineage_immutable"
MESSAGE = "a track''s source and lineage cannot change"


def create_lineage_guard() -> None:
    """The trigger that refuses to change a track's source columns and lineage."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER {GUARD} "
            "BEFORE UPDATE OF source_track_id, source_title, source_creator, lineage ON tracks "
            "FOR EACH ROW WHEN OLD.source_track_id IS NOT NEW.source_track_id "
            "OR OLD.source_title IS NOT NEW.source_title "
            "OR OLD.source_creator IS NOT NEW.source_creator "
            "OR OLD.lineage IS NOT NEW.lineage "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
    else:
        # json has no equality operator: its text is compared (the same value, re-sent by an
        # ORM that updates every column, is the same text).
        op.execute(
            f"CREATE FUNCTION {GUARD}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.source_track_id IS DISTINCT FROM OLD.source_track_id "
            "OR NEW.source_title IS DISTINCT FROM OLD.source_title "
            "OR NEW.source_creator IS DISTINCT FROM OLD.source_creator "
            "OR NEW.lineage::text IS DISTINCT FROM OLD.lineage::text THEN "
            f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; "
            "END IF; RETURN NEW; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {GUARD} BEFORE UPDATE ON tracks "
            f"FOR EACH ROW EXECUTE PROCEDURE {GUARD}()"
        )


def drop_lineage_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD} ON tracks")
        op.execute(f"DROP FUNCTION IF EXISTS {GUARD}()")


def upgrade() -> None:
    op.add_column("tracks", sa.Column("lineage", sa.JSON, nullable=True))
    op.create_index("ix_tracks_source_track_id", "tracks", ["source_track_id"])
    create_lineage_guard()


def downgrade() -> None:
    drop_lineage_guard()
    op.drop_index("ix_tracks_source_track_id", "tracks")
    with op.batch_alter_table("tracks") as batch:
        batch.drop_column("lineage")
