"""Live progress of running jobs. The worker reports many times a second; writing each
report to the database would be wasteful, so with Redis configured every report goes to a
hash per job (``overture:job:<id>``) and the database gets one now and then; without it only
the throttled database writes happen. Readers prefer Redis when it has the job."""

from __future__ import annotations

import time
from typing import Any

KEY = "overture:job:{}"
TTL_SECONDS = 24 * 3600


class RedisProgress:
    """Progress and step of running jobs in Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, decode_responses=True)

    def write(self, job_id: str, progress: float, step: str) -> None:
        key = KEY.format(job_id)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping={"progress": f"{progress:.4f}", "step": step, "at": time.time()})
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()

    def read(self, job_id: str) -> tuple[float, str] | None:
        got = self.client.hgetall(KEY.format(job_id))
        if not got:
            return None
        return float(got.get("progress", 0.0)), got.get("step", "")

    def clear(self, job_id: str) -> None:
        self.client.delete(KEY.format(job_id))
