"""Catalog search: an FTS5 index on SQLite, a segmented ``search`` column with a GIN index on
PostgreSQL. Both hold text already segmented by jieba (see ``overture.app.catalog.service``);
the service fills them as tracks are published, unpublished, edited or deleted.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # The indexed text of each public track; the FTS5 table takes its content from here.
        op.create_table(
            "track_search",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("track_id", sa.String(32), nullable=False, unique=True),
            sa.Column("title", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
        )
        op.execute(
            "CREATE VIRTUAL TABLE track_fts USING fts5("
            "title, body, content='track_search', content_rowid='id', tokenize='unicode61')"
        )
    else:
        op.add_column("tracks", sa.Column("search_title", sa.Text))
        op.add_column("tracks", sa.Column("search", sa.Text))
        op.execute(
            "CREATE INDEX ix_tracks_search ON tracks USING GIN (to_tsvector('simple', search))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE track_fts")
        op.drop_table("track_search")
    else:
        op.execute("DROP INDEX ix_tracks_search")
        op.drop_column("tracks", "search")
        op.drop_column("tracks", "search_title")
