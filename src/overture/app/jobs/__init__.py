"""Jobs: the durable queue of song requests (``queue``), their validation and limits
(``service``), live progress (``progress``), the worker that makes the songs (``worker``)
and the HTTP routes (``routes``)."""
