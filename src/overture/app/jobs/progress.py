"""Live progress of running jobs. The worker reports many times a second; writing each
report to the database would be wasteful, so with Redis configured every report goes to a
hash per job (``overture:job:<id>``), and each new line of the job's log of steps to a list
beside it (``overture:job:<id>:log``), while the database gets them now and then; without
Redis only the throttled database writes happen. Readers prefer Redis when it has the job."""

from __future__ import annotations

import time
from typing import Any

KEY = "overture:job:{}"
LOG_KEY = "overture:job:{}:log"
TTL_SECONDS = 24 * 3600


class RedisProgress:
    """Progress and step of running jobs in Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, decode_responses=True)

    def write(
        self, job_id: str, progress: float, step: str, new_lines: list[str] | None = None
    ) -> None:
        key, log_key = KEY.format(job_id), LOG_KEY.format(job_id)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping={"progress": f"{progress:.4f}", "step": step, "at": time.time()})
        pipe.expire(key, TTL_SECONDS)
        if new_lines:
            pipe.rpush(log_key, *new_lines)
            pipe.expire(log_key, TTL_SECONDS)
        pipe.execute()

    def read(self, job_id: str) -> tuple[float, str, list[str]] | None:
        """(progress, step, log) of a running job; None when Redis does not have it."""
        pipe = self.client.pipeline()
        pipe.hgetall(KEY.format(job_id))
        pipe.lrange(LOG_KEY.format(job_id), 0, -1)
        got, log = pipe.execute()
        if not got:
            return None
        return float(got.get("progress", 0.0)), got.get("step", ""), list(log)

    def clear(self, job_id: str) -> None:
        self.client.delete(KEY.format(job_id), LOG_KEY.format(job_id))
