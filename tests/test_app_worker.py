"""The worker: a real tiny song end to end into a track, progress through Redis, lease
renewal, cancellation part-way, a dead worker's job taken over, and errors in words."""

from __future__ import annotations

import glob
import json
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import overture.pipeline
from app_fixtures import (  # noqa: F401  (database_url, settings: fixtures)
    database_url,
    make_client,
    redis_server_url,
    settings,
    sign_up,
)
from overture.app.jobs.worker import GENERIC_ERROR, Worker
from overture.app.settings import Settings
from overture.app.web import create_app
from overture.errors import InvalidInputError

TINY = {"prompt": "upbeat pop", "duration": 8, "think": "none", "seed": 2}


def wait_until(check: Any, seconds: float = 20) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = check()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError("timed out")


def leftover_folders(job_id: str) -> list[str]:
    return glob.glob(str(Path(tempfile.gettempdir()) / f"overture-job-{job_id}-*"))


def test_a_real_song_becomes_a_track(settings: Settings, database_url: str) -> None:  # noqa: F811
    settings = replace(settings, database_url=database_url)
    app = create_app(settings)
    client = make_client(app)
    sign_up(client, "ada@example.com")
    job = client.post("/api/jobs", json={**TINY, "duration": 12}).json()  # a drafted verse
    assert Worker(settings).run(once=True) == 1
    done = client.get(f"/api/jobs/{job['id']}").json()
    assert done["state"] == "succeeded", done
    assert done["progress"] == 1 and done["attempts"] == 1 and done["track_id"]
    # The engine's reasoning, as a person watching the job saw it: drafts, verdicts, keeps.
    log = done["log"]
    assert log[0] == "starting" and log[-1] == "storing the files"
    drafted = [line for line in log if line.startswith("drafting ")]
    judged = [line for line in log if " draft " in line and ": " in line]
    kept = [line for line in log if line.startswith("kept ")]
    assert drafted and len(judged) == len(drafted) and kept
    track = client.get(done["track_url"]).json()
    assert track["visibility"] == "private" and track["duration"] == pytest.approx(12, abs=1)
    assert track["genre"] and track["tempo"] and track["key"] and track["seed"] == 2
    names = {f["name"] for f in track["files"]}
    assert {"song.flac", "song.mid", "song.musicxml", "song.json", "score.json"} <= names
    assert any(n.startswith("stems/") for n in names)
    audio = client.get(track["audio_url"])
    assert audio.status_code == 200 and audio.content[:4] == b"fLaC"
    song = client.get(f"/api/tracks/{track['id']}/files/song.json").json()
    assert song["title"] == track["title"]
    peaks = client.get(track["waveform_url"]).json()["peaks"]
    assert len(peaks) == 800 and max(peaks) == 1.0 and min(peaks) < 0.5
    cover = client.get(track["cover_url"])
    assert cover.status_code == 200 and cover.headers["content-type"].startswith("image/svg")
    assert track["title"] in cover.text
    again = client.get(track["cover_url"], headers={"If-None-Match": cover.headers["etag"]})
    assert again.status_code == 304
    assert leftover_folders(job["id"]) == []


def fake_song(out: Path, title: str = "Fake") -> None:
    (out / "stems").mkdir(parents=True)
    (out / "song.flac").write_bytes(b"fLaC " + title.encode())
    (out / "stems" / "lead.flac").write_bytes(b"fLaC lead " + title.encode())
    (out / "song.json").write_text(json.dumps({"title": title, "spec": {}}), encoding="utf-8")


@pytest.fixture
def app(settings: Settings) -> Any:  # noqa: F811
    return create_app(settings)


@pytest.fixture
def client(app: Any) -> Any:
    c = make_client(app)
    sign_up(c, "ada@example.com")
    return c


def start_worker(settings: Settings, **kw: Any) -> tuple[Worker, threading.Thread]:  # noqa: F811
    worker = Worker(settings, **kw)
    thread = threading.Thread(target=worker.run, kwargs={"once": True})
    thread.start()
    return worker, thread


def test_progress_goes_through_redis(
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = replace(settings, redis_url=redis_server_url(), progress_seconds=60)
    app = create_app(settings)
    client = make_client(app)
    sign_up(client, "ada@example.com")
    go_on = threading.Event()

    def generate(prompt: str, *, out: Path, progress: Any, **kw: Any) -> None:
        progress("drafting the chorus", 0.4)
        assert go_on.wait(20)
        fake_song(out)

    monkeypatch.setattr(overture.pipeline, "generate", generate)
    job_id = client.post("/api/jobs", json=TINY).json()["id"]
    worker, thread = start_worker(settings)
    live = wait_until(
        lambda: (
            (j := client.get(f"/api/jobs/{job_id}").json())["step"] == "drafting the chorus" and j
        )
    )
    assert live["state"] == "running" and live["progress"] == pytest.approx(0.4)
    steps = ["starting", "drafting the chorus"]
    assert worker.redis is not None and worker.redis.read(job_id) == (0.4, steps[-1], steps)
    # The database is written once a minute here: the live log came from Redis.
    assert live["log"] == steps and live["log_size"] == 2
    assert client.get(f"/api/jobs/{job_id}?since=1").json()["log"] == steps[1:]
    go_on.set()
    thread.join(30)
    done = client.get(f"/api/jobs/{job_id}").json()
    assert done["state"] == "succeeded"
    assert done["log"] == [*steps, "storing the files"]  # the whole log, kept in the database
    assert worker.redis.read(job_id) is None  # the database has the final word


def test_the_lease_is_renewed_while_the_engine_works(
    app: Any,
    client: Any,
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = replace(settings, lease_seconds=0.3)

    def generate(prompt: str, *, out: Path, progress: Any, **kw: Any) -> None:
        time.sleep(1.2)  # four leases long, without a single progress report
        fake_song(out)

    monkeypatch.setattr(overture.pipeline, "generate", generate)
    job_id = client.post("/api/jobs", json=TINY).json()["id"]
    _, thread = start_worker(settings)
    wait_until(lambda: client.get(f"/api/jobs/{job_id}").json()["state"] == "running")
    thief = app.state.services.queue
    for _ in range(5):
        assert thief.claim("thief") is None
        time.sleep(0.2)
    thread.join(30)
    done = client.get(f"/api/jobs/{job_id}").json()
    assert done["state"] == "succeeded" and done["attempts"] == 1


def test_cancelling_a_running_job_stops_it(
    app: Any,
    client: Any,
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports = []

    def generate(prompt: str, *, out: Path, progress: Any, **kw: Any) -> None:
        out.mkdir(parents=True)
        (out / "song.flac").write_bytes(b"half")
        for i in range(1000):
            reports.append(i)
            progress("rendering", i / 1000)
            time.sleep(0.01)
        fake_song(out)

    monkeypatch.setattr(overture.pipeline, "generate", generate)
    job_id = client.post("/api/jobs", json=TINY).json()["id"]
    _, thread = start_worker(settings)
    wait_until(lambda: len(reports) > 5)
    r = client.post(f"/api/jobs/{job_id}/cancel")
    assert r.status_code == 200 and r.json()["cancel_requested"]
    thread.join(30)
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "cancelled" and job["track_id"] is None
    assert len(reports) < 1000
    assert client.get("/api/tracks").json()["tracks"] == []
    assert leftover_folders(job_id) == []


def test_a_dead_workers_job_is_finished_by_another(
    app: Any,
    client: Any,
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from overture.app.jobs.queue import JobQueue

    monkeypatch.setattr(
        overture.pipeline, "generate", lambda prompt, *, out, **kw: fake_song(out, "Second")
    )
    job_id = client.post("/api/jobs", json=TINY).json()["id"]
    engine = app.state.services.engine
    dying = JobQueue(engine, lease_seconds=0.2)
    assert dying.claim("dies-before-renewing").job_id == job_id
    time.sleep(0.3)
    assert Worker(settings).run(once=True) == 1
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "succeeded" and job["attempts"] == 2
    assert client.get(job["track_url"]).json()["title"] == "Second"


def test_engine_errors_fail_the_job_in_words(
    client: Any,
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def generate(prompt: str, **kw: Any) -> None:
        raise InvalidInputError("a duration of 8 s is too short for these lyrics; try 20 s")

    monkeypatch.setattr(overture.pipeline, "generate", generate)
    job_id = client.post("/api/jobs", json=TINY).json()["id"]
    assert Worker(settings).run(once=True) == 1
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "failed" and job["attempts"] == 1  # not retried: it would fail again
    assert job["error"] == "a duration of 8 s is too short for these lyrics; try 20 s"


def test_unexpected_errors_are_retried_then_fail(
    client: Any,
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = []

    def generate(prompt: str, **kw: Any) -> None:
        calls.append(1)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(overture.pipeline, "generate", generate)
    job_id = client.post("/api/jobs", json=TINY).json()["id"]
    assert Worker(settings).run(once=True) == 3
    job = client.get(f"/api/jobs/{job_id}").json()
    assert len(calls) == 3 and job["attempts"] == 3
    assert job["state"] == "failed" and job["error"] == GENERIC_ERROR
    assert "disk on fire" in caplog.text  # the details go to the log, not to the user


def test_a_killed_worker_process_and_a_restarted_server_lose_nothing(
    settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A real ``overture worker`` process killed (SIGKILL) in the middle of a song: after
    its lease runs out, a new worker finishes the job. Then the server restarts (a new app
    on the same data): the session, the job and the files are all still there."""
    import os
    import signal
    import subprocess
    import sys

    settings = replace(settings, lease_seconds=2)
    app = create_app(settings)
    client = make_client(app)
    sign_up(client, "ada@example.com")
    job_id = client.post("/api/jobs", json={**TINY, "duration": 90, "think": "high"}).json()["id"]
    env = {
        **os.environ,
        "OVERTURE_DATA_DIR": str(settings.data_dir),
        "OVERTURE_SECRET_KEY": settings.secret_key,
        "OVERTURE_LEASE_SECONDS": "2",
        "OVERTURE_SOUNDFONT": str(settings.soundfont),
        "OVERTURE_RENDER_WORKERS": "1",
    }
    env.pop("OVERTURE_DATABASE_URL", None)
    env.pop("OVERTURE_REDIS_URL", None)
    exe = str(Path(sys.executable).with_name("overture"))
    proc = subprocess.Popen([exe, "worker"], env=env, start_new_session=True)
    try:
        running = wait_until(
            lambda: (
                (j := client.get(f"/api/jobs/{job_id}").json())["state"] == "running"
                and j["progress"] > 0
                and j
            ),
            seconds=60,
        )
        assert running["attempts"] == 1
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its render processes
        proc.wait(10)
    assert client.get(f"/api/jobs/{job_id}").json()["state"] == "running"  # nobody knows yet
    time.sleep(2.5)  # the lease runs out
    assert Worker(settings).run(once=True) == 1
    done = client.get(f"/api/jobs/{job_id}").json()
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    assert leftover_folders(job_id) == []

    restarted = create_app(settings)  # the server restarted
    again = make_client(restarted)
    again.cookies = client.cookies
    assert again.get("/api/me").json()["user"]["email"] == "ada@example.com"
    assert again.get(f"/api/jobs/{job_id}").json()["state"] == "succeeded"
    track = again.get(done["track_url"]).json()
    audio = again.get(track["audio_url"])
    assert audio.status_code == 200 and audio.content[:4] == b"fLaC"
