"""Rate limits: fixed-window counters shared by every process of the service.

With Redis configured the counters live there (``INCR`` and ``EXPIRE``, atomic across
processes and machines); without it, in the ``rate_limits`` table, where one upsert per hit
starts a new window or adds to the current one, so concurrent hits never lose a count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, case, delete, select

from overture.app.db import session_factory, upsert_insert, utcnow
from overture.app.errors import TooManyRequests
from overture.app.models import RateLimit

REDIS_KEY = "overture:limit:{}"


@dataclass(frozen=True, slots=True)
class Rule:
    """At most ``limit`` hits per ``window`` seconds, for each key."""

    name: str
    limit: int
    window: float


# Failed sign-ins, per address and per account; sign-ups per address.
SIGNIN_PER_IP = Rule("signin-ip", 30, 600)
SIGNIN_PER_EMAIL = Rule("signin-email", 10, 600)
SIGNUP_PER_IP = Rule("signup-ip", 20, 3600)


class Counter(Protocol):
    def hit(self, key: str, window: float) -> tuple[int, float]:
        """Count one hit on ``key``; (hits in the current window, seconds it has left)."""
        ...

    def peek(self, key: str, window: float) -> tuple[int, float]:
        """The current window's hits and seconds left, without counting one."""
        ...

    def reset(self, key: str) -> None: ...


class DatabaseCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.Session = session_factory(engine)

    def hit(self, key: str, window: float) -> tuple[int, float]:
        now = utcnow()
        expired = RateLimit.window_start < now - timedelta(seconds=window)
        stmt = upsert_insert(self.engine, RateLimit).values(key=key, window_start=now, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "count": case((expired, 1), else_=RateLimit.count + 1),
                "window_start": case((expired, now), else_=RateLimit.window_start),
            },
        ).returning(RateLimit.count, RateLimit.window_start)
        with self.Session.begin() as s:
            count, start = s.execute(stmt).one()
        return count, _left(start, now, window)

    def peek(self, key: str, window: float) -> tuple[int, float]:
        now = utcnow()
        with self.Session() as s:
            row = s.execute(
                select(RateLimit.count, RateLimit.window_start).where(RateLimit.key == key)
            ).first()
        if row is None or row.window_start < now - timedelta(seconds=window):
            return 0, 0.0
        return row.count, _left(row.window_start, now, window)

    def reset(self, key: str) -> None:
        with self.Session.begin() as s:
            s.execute(delete(RateLimit).where(RateLimit.key == key))


def _left(start: Any, now: Any, window: float) -> float:
    return max(0.0, window - (now - start).total_seconds())


class RedisCounter:
    def __init__(self, client: Any) -> None:
        self.client = client

    def hit(self, key: str, window: float) -> tuple[int, float]:
        k = REDIS_KEY.format(key)
        pipe = self.client.pipeline()
        pipe.incr(k)
        pipe.expire(k, math.ceil(window), nx=True)
        pipe.ttl(k)
        count, _, ttl = pipe.execute()
        return int(count), float(max(ttl, 0))

    def peek(self, key: str, window: float) -> tuple[int, float]:
        k = REDIS_KEY.format(key)
        pipe = self.client.pipeline()
        pipe.get(k)
        pipe.ttl(k)
        count, ttl = pipe.execute()
        return int(count or 0), float(max(ttl, 0))

    def reset(self, key: str) -> None:
        self.client.delete(REDIS_KEY.format(key))


class RateLimiter:
    """Checks and counts hits against ``Rule``s on a shared ``Counter``."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    @staticmethod
    def _key(rule: Rule, subject: str) -> str:
        return f"{rule.name}:{subject}"[:200]

    def check(self, rule: Rule, subject: str) -> None:
        """``TooManyRequests`` when ``subject`` has used up ``rule``'s window."""
        count, left = self.counter.peek(self._key(rule, subject), rule.window)
        if count >= rule.limit:
            raise _too_many(left)

    def hit(self, rule: Rule, subject: str) -> None:
        """Count a hit; ``TooManyRequests`` when it goes over the limit."""
        count, left = self.counter.hit(self._key(rule, subject), rule.window)
        if count > rule.limit:
            raise _too_many(left)

    def reset(self, rule: Rule, subject: str) -> None:
        self.counter.reset(self._key(rule, subject))


def _too_many(left: float) -> TooManyRequests:
    wait = max(1, math.ceil(left))
    minutes = math.ceil(wait / 60)
    return TooManyRequests(
        f"too many attempts; try again in {minutes} minute{'s' if minutes > 1 else ''}",
        retry_after=wait,
    )
