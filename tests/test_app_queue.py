"""The durable job queue, on SQLite and on PostgreSQL: atomic claims, leases that run out,
attempts, cancellation and the per-user limit."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app_fixtures import database_url  # noqa: F401  (a fixture)
from overture.app.db import make_engine, migrate, session_factory
from overture.app.errors import Conflict, NotFound, TooManyJobs
from overture.app.jobs.queue import JobQueue
from overture.app.models import Job, Track, User


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:  # noqa: F811
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


def add_user(engine: Engine, email: str = "a@example.com") -> int:
    with session_factory(engine).begin() as s:
        user = User(email=email, display_name="A", password_hash="x", role="creator")
        s.add(user)
        s.flush()
        return user.id


def test_migrations_run_twice_and_claim_is_fifo(engine: Engine) -> None:
    migrate(engine)  # a second start-up finds the schema current
    q = JobQueue(engine)
    uid = add_user(engine)
    first = q.enqueue(uid, {"prompt": "one"})
    time.sleep(0.01)
    q.enqueue(uid, {"prompt": "two"})
    claim = q.claim("w1")
    assert claim is not None and claim.job_id == first.id
    assert claim.options == {"prompt": "one"} and claim.attempts == 1
    job = q.get(first.id)
    assert job.state == "running" and job.lease_owner == "w1" and job.started_at is not None
    assert q.claim("w2").options == {"prompt": "two"}
    assert q.claim("w3") is None


def test_concurrent_claims_never_share_a_job(engine: Engine) -> None:
    q = JobQueue(engine)
    uid = add_user(engine)
    ids = {q.enqueue(uid, {"n": i}).id for i in range(40)}
    got: list[tuple[str, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(name: str) -> None:
        start.wait()
        while (claim := q.claim(name)) is not None:
            with lock:
                got.append((claim.job_id, name))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts = Counter(job_id for job_id, _ in got)
    assert set(counts) == ids
    assert max(counts.values()) == 1  # no job went to two workers
    with session_factory(engine)() as s:
        for job_id, name in got:
            assert s.get(Job, job_id).lease_owner == name


def test_a_dead_workers_job_is_claimed_again_and_completes(engine: Engine) -> None:
    q = JobQueue(engine, lease_seconds=0.3)
    uid = add_user(engine)
    job = q.enqueue(uid, {"prompt": "p"})
    dead = q.claim("dead-worker")
    assert q.claim("other") is None  # the lease still holds
    time.sleep(0.5)  # the dead worker never renews
    alive = q.claim("live-worker")
    assert alive is not None and alive.job_id == job.id and alive.attempts == 2
    # The worker that lost its lease can change nothing any more.
    assert q.renew(dead) == "lost"
    assert q.fail(dead, "late") is False
    assert q.renew(alive) == "ok"
    assert q.fail(alive, "the engine said no") is True
    done = q.get(job.id)
    assert done.state == "failed" and done.error == "the engine said no"


def test_a_lost_lease_rolls_back_the_track(engine: Engine) -> None:
    q = JobQueue(engine, lease_seconds=0.2)
    uid = add_user(engine)
    q.enqueue(uid, {})
    stale = q.claim("slow")
    time.sleep(0.3)
    assert q.claim("fast") is not None

    def make_track(s: Session) -> Track:
        track = Track(owner_id=uid, title="t", mix_key="0" * 64, stems={}, extra_files={})
        s.add(track)
        return track

    assert q.complete(stale, make_track) is None
    with session_factory(engine)() as s:
        assert s.query(Track).count() == 0


def test_renewal_keeps_the_lease(engine: Engine) -> None:
    q = JobQueue(engine, lease_seconds=0.4)
    uid = add_user(engine)
    q.enqueue(uid, {})
    claim = q.claim("w")
    for _ in range(4):
        time.sleep(0.2)
        assert q.renew(claim, progress=0.5, step="drafting the chorus") == "ok"
    assert q.claim("thief") is None
    job = q.get(claim.job_id)
    assert job.progress == 0.5 and job.step == "drafting the chorus"


def test_after_max_attempts_the_job_fails_with_a_reason(engine: Engine) -> None:
    q = JobQueue(engine, lease_seconds=0.2, max_attempts=2)
    uid = add_user(engine)
    job = q.enqueue(uid, {})
    assert q.claim("a") is not None
    time.sleep(0.3)
    assert q.claim("b") is not None
    time.sleep(0.3)
    assert q.claim("c") is None
    failed = q.get(job.id)
    assert failed.state == "failed" and failed.attempts == 2
    assert "stopped responding 2 times" in failed.error


def test_retry_requeues_until_attempts_run_out(engine: Engine) -> None:
    q = JobQueue(engine, max_attempts=2)
    uid = add_user(engine)
    job = q.enqueue(uid, {})
    assert q.fail(q.claim("a"), "boom", retry=True)
    assert q.get(job.id).state == "queued"
    assert q.fail(q.claim("a"), "boom", retry=True)
    assert q.get(job.id).state == "failed"
    assert q.claim("a") is None


def test_cancellation(engine: Engine) -> None:
    q = JobQueue(engine)
    uid = add_user(engine)
    other = add_user(engine, "b@example.com")
    queued = q.enqueue(uid, {"n": 1})
    running = q.enqueue(uid, {"n": 2})
    with pytest.raises(NotFound):
        q.cancel(queued.id, other)  # not theirs
    assert q.cancel(queued.id, uid).state == "cancelled"  # at once
    claim = q.claim("w")
    assert claim.job_id == running.id  # the cancelled job is never claimed
    flagged = q.cancel(running.id, uid)
    assert flagged.state == "running" and flagged.cancel_requested
    assert q.renew(claim) == "cancel"  # the worker hears of it
    assert q.cancelled(claim)
    assert q.get(running.id).state == "cancelled"
    done = q.enqueue(uid, {})
    c = q.claim("w")
    q.fail(c, "x")
    with pytest.raises(Conflict):
        q.cancel(done.id, uid)


def test_a_cancelled_job_whose_worker_died_is_not_run_again(engine: Engine) -> None:
    q = JobQueue(engine, lease_seconds=0.2)
    uid = add_user(engine)
    job = q.enqueue(uid, {})
    q.claim("dies")
    q.cancel(job.id, uid)
    time.sleep(0.3)
    assert q.claim("w") is None
    assert q.get(job.id).state == "cancelled"


def test_per_user_limit_holds_under_concurrent_submissions(engine: Engine) -> None:
    q = JobQueue(engine)
    uid = add_user(engine)
    other = add_user(engine, "b@example.com")
    results: list[str] = []
    start = threading.Barrier(6)

    def submit() -> None:
        start.wait()
        try:
            q.enqueue(uid, {}, limit=2)
            results.append("ok")
        except TooManyJobs:
            results.append("429")

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 2 and results.count("429") == 4
    q.enqueue(other, {}, limit=2)  # the limit is per user
    # A finished job frees a place.
    c = q.claim("w")
    q.fail(c, "x")
    q.enqueue(uid, {}, limit=2)
