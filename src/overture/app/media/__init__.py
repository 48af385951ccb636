"""Media: the content-addressed store for song files, and serving them over HTTP."""

from overture.app.media.storage import LocalStorage, Storage, content_type_for

__all__ = ["LocalStorage", "Storage", "content_type_for"]
