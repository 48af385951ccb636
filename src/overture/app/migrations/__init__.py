"""Alembic migrations of the service's schema; ``overture.app.db.migrate`` runs them."""
