"""Overture: an open AI music studio."""
