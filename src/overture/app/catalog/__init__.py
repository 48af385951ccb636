"""Catalog: search and browse of public tracks."""
