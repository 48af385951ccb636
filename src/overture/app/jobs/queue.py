"""A durable job queue in the database, with leases.

A worker *claims* a job by taking a lease on it: the job becomes ``running`` with the
worker's name (``lease_owner``) and a deadline (``lease_expires_at``). While it works it
renews the lease; a worker that dies stops renewing, the lease runs out, and the next claim
takes the job again (up to ``max_attempts``). Every write a worker makes afterwards names the
lease owner in its ``WHERE``, so a worker that lost its lease cannot overwrite the job.

The claim is one atomic step on each backend. PostgreSQL: ``SELECT ... FOR UPDATE SKIP
LOCKED`` picks the oldest claimable row in the claiming transaction, so concurrent claimers
skip the row one of them holds instead of waiting for it or taking it twice. SQLite (3.35+):
one ``UPDATE jobs ... WHERE id = (SELECT ... LIMIT 1) RETURNING``; SQLite runs one writer at
a time, so the select and the update cannot interleave with another claim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from overture.app.db import is_sqlite, session_factory, utcnow
from overture.app.errors import Conflict, NotFound, TooManyJobs
from overture.app.models import ACTIVE_STATES, Job, Track, User

log = logging.getLogger(__name__)

LeaseStatus = Literal["ok", "cancel", "lost"]
GAVE_UP = (
    "the song could not be made: the worker making it stopped responding {n} times, "
    "so it was given up"
)


class _LeaseLost(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Claim:
    """A job a worker holds the lease on, and what it needs to run it."""

    job_id: str
    owner: str
    user_id: int
    options: dict[str, Any]
    attempts: int
    publish: bool = False  # publish the track when it is made


class JobQueue:
    """The queue's operations; each is its own short transaction."""

    def __init__(self, engine: Engine, *, lease_seconds: float = 60.0, max_attempts: int = 3):
        self.engine = engine
        self.Session = session_factory(engine)
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts

    # -- the web side ------------------------------------------------------------------

    def enqueue(
        self,
        user_id: int,
        options: dict[str, Any],
        *,
        limit: int | None = None,
        publish: bool = False,
    ) -> Job:
        """Add a job for ``user_id`` (whose track is published when made, with ``publish``);
        ``TooManyJobs`` when they already have ``limit`` jobs queued or running. The user's
        row is written first, which locks it on both backends: two requests of one user
        cannot both pass the count."""
        with self.Session.begin() as s:
            locked = s.execute(
                update(User).where(User.id == user_id).values(display_name=User.display_name)
            )
            if locked.rowcount == 0:
                raise NotFound("no such user")
            if limit is not None:
                _check_room(s, user_id, limit)
            job = Job(user_id=user_id, options=options, state="queued", progress=0.0, attempts=0)
            job.cancel_requested = False
            job.publish = publish
            job.log = []
            job.created_at = utcnow()
            s.add(job)
        return job

    def check_room(self, user_id: int, limit: int) -> None:
        """``TooManyJobs`` when ``user_id`` already has ``limit`` jobs queued or running: a
        quick look before a costly request (an upload) is read, which ``enqueue`` repeats
        under its lock."""
        with self.Session() as s:
            _check_room(s, user_id, limit)

    def get(self, job_id: str) -> Job | None:
        with self.Session() as s:
            return s.get(Job, job_id)

    def list_for(self, user_id: int, *, limit: int = 50) -> list[Job]:
        with self.Session() as s:
            q = (
                select(Job)
                .where(Job.user_id == user_id)
                .order_by(Job.created_at.desc(), Job.id)
                .limit(limit)
            )
            return list(s.scalars(q))

    def cancel(self, job_id: str, user_id: int) -> Job:
        """Cancel a job of ``user_id``: a queued one at once; a running one is flagged, and
        its worker stops at its next progress report. ``Conflict`` once it has finished."""
        now = utcnow()
        with self.Session.begin() as s:
            job = s.get(Job, job_id)
            if job is None or job.user_id != user_id:
                raise NotFound("no such job")
            done = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == "queued")
                .values(state="cancelled", finished_at=now, step="cancelled")
            )
            if done.rowcount == 0:
                s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.state == "running")
                    .values(cancel_requested=True)
                )
        job = self.get(job_id)
        assert job is not None
        if job.state in ("succeeded", "failed"):
            raise Conflict(f"the job has already {job.state}")
        return job

    # -- the worker side ---------------------------------------------------------------

    def _claimable(self, now: Any) -> Any:
        expired = and_(
            Job.state == "running",
            Job.lease_expires_at < now,
            Job.attempts < self.max_attempts,
            Job.cancel_requested.is_(False),
        )
        return or_(Job.state == "queued", expired)

    def reap(self) -> int:
        """Settle jobs whose worker died and that must not run again: cancelled ones become
        ``cancelled``, ones out of attempts ``failed``. Returns how many."""
        now = utcnow()
        dead = and_(Job.state == "running", Job.lease_expires_at < now)
        gone = dict(finished_at=now, lease_owner=None, lease_expires_at=None)
        with self.Session.begin() as s:
            n = s.execute(
                update(Job)
                .where(dead, Job.cancel_requested.is_(True))
                .values(state="cancelled", step="cancelled", **gone)
            ).rowcount
            n += s.execute(
                update(Job)
                .where(dead, Job.attempts >= self.max_attempts)
                .values(state="failed", error=GAVE_UP.format(n=self.max_attempts), **gone)
            ).rowcount
        return n

    def claim(self, owner: str) -> Claim | None:
        """Lease the oldest claimable job (queued, or running with an expired lease) to
        ``owner``; None when there is none."""
        self.reap()
        now = utcnow()
        values = dict(
            state="running",
            lease_owner=owner,
            lease_expires_at=now + self.lease,
            attempts=Job.attempts + 1,
            started_at=func.coalesce(Job.started_at, now),
            step="starting",
            log=[],  # an attempt's log starts afresh
        )
        with self.Session.begin() as s:
            if is_sqlite(self.engine):
                pick = (
                    select(Job.id)
                    .where(self._claimable(now))
                    .order_by(Job.created_at, Job.id)
                    .limit(1)
                    .scalar_subquery()
                )
                job_id = s.execute(
                    update(Job).where(Job.id == pick).values(**values).returning(Job.id)
                ).scalar()
            else:
                job_id = s.execute(
                    select(Job.id)
                    .where(self._claimable(now))
                    .order_by(Job.created_at, Job.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).scalar()
                if job_id is not None:
                    s.execute(update(Job).where(Job.id == job_id).values(**values))
            if job_id is None:
                return None
            row = s.execute(
                select(Job.user_id, Job.options, Job.attempts, Job.publish).where(Job.id == job_id)
            ).one()
        return Claim(job_id, owner, row.user_id, dict(row.options), row.attempts, bool(row.publish))

    def _held(self, claim: Claim) -> Any:
        return and_(Job.id == claim.job_id, Job.lease_owner == claim.owner, Job.state == "running")

    def renew(
        self,
        claim: Claim,
        *,
        progress: float | None = None,
        step: str | None = None,
        log: list[str] | None = None,
    ) -> LeaseStatus:
        """Extend the lease (and record progress, the current step and the log of steps so
        far, when given). ``cancel`` when the job's owner asked to cancel it, ``lost`` when
        this worker no longer holds it."""
        values: dict[str, Any] = {"lease_expires_at": utcnow() + self.lease}
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, progress))
        if step is not None:
            values["step"] = step[:200]
        if log is not None:
            values["log"] = list(log)
        with self.Session.begin() as s:
            flag = s.execute(
                update(Job)
                .where(self._held(claim))
                .values(**values)
                .returning(Job.cancel_requested)
            ).scalar()
        if flag is None:
            return "lost"
        return "cancel" if flag else "ok"

    def complete(
        self, claim: Claim, make_track: Callable[[Session], Track | list[Track]]
    ) -> Track | None:
        """Mark the job succeeded with the track ``make_track`` adds (or the tracks: a job of
        variations makes one per take, the first being the job's ``track_id``), in one
        transaction: when the lease was lost meanwhile, neither happens and None is
        returned; else the (first) track."""
        try:
            with self.Session.begin() as s:
                return self._complete(s, claim, make_track)
        except _LeaseLost:
            return None

    def _complete(
        self, s: Session, claim: Claim, make_track: Callable[[Session], Track | list[Track]]
    ) -> Track:
        made = make_track(s)
        tracks = made if isinstance(made, list) else [made]
        if not tracks:
            raise ValueError("a job must make at least one track")
        s.flush()
        track = tracks[0]
        done = s.execute(
            update(Job)
            .where(self._held(claim))
            .values(
                state="succeeded",
                progress=1.0,
                step="done",
                error=None,
                track_id=track.id,
                track_ids=[t.id for t in tracks],
                finished_at=utcnow(),
                lease_owner=None,
                lease_expires_at=None,
            )
        )
        if done.rowcount == 0:
            raise _LeaseLost  # rolls the track back with the transaction
        return track

    def fail(self, claim: Claim, error: str, *, retry: bool = False) -> bool:
        """Record that the job failed with ``error`` (a sentence for the person who asked).
        With ``retry`` and attempts left it goes back to the queue instead."""
        again = retry and claim.attempts < self.max_attempts
        values: dict[str, Any] = dict(error=error, lease_owner=None, lease_expires_at=None)
        if again:
            values.update(state="queued", step="waiting to try again")
        else:
            values.update(state="failed", step="failed", finished_at=utcnow())
        with self.Session.begin() as s:
            return s.execute(update(Job).where(self._held(claim)).values(**values)).rowcount > 0

    def cancelled(self, claim: Claim) -> bool:
        """Record that the worker stopped the job because its owner cancelled it."""
        with self.Session.begin() as s:
            done = s.execute(
                update(Job)
                .where(self._held(claim))
                .values(
                    state="cancelled",
                    step="cancelled",
                    finished_at=utcnow(),
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
            return done.rowcount > 0


def _check_room(s: Session, user_id: int, limit: int) -> None:
    active = s.scalar(
        select(func.count())
        .select_from(Job)
        .where(Job.user_id == user_id, Job.state.in_(ACTIVE_STATES))
    )
    if (active or 0) >= limit:
        raise TooManyJobs(
            f"you already have {active} songs being made; wait for one to finish "
            f"(at most {limit} at a time)",
            limit=limit,
        )
