"""Sign-in rate limits (in the database, or in Redis when configured), play counts and the
``popular`` order, and jobs that publish their track when done (the demo catalog's)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import overture.pipeline
from app_fixtures import (  # noqa: F401  (database_url, settings: fixtures)
    database_url,
    fake_track,
    make_client,
    redis_server_url,
    settings,
    sign_up,
)
from overture.app.jobs.worker import Worker
from overture.app.limits import SIGNIN_PER_EMAIL, SIGNIN_PER_IP
from overture.app.settings import Settings
from overture.app.web import create_app
from test_app_worker import fake_song


@pytest.fixture(params=["database", "redis"])
def app(request: pytest.FixtureRequest, settings: Settings, database_url: str) -> Any:  # noqa: F811
    settings = replace(settings, database_url=database_url)
    if request.param == "redis":
        import redis

        url = redis_server_url()
        client = redis.Redis.from_url(url)
        for key in client.scan_iter("overture:limit:*"):
            client.delete(key)
        settings = replace(settings, redis_url=url)
    return create_app(settings)


def sign_in(client: Any, email: str, password: str) -> Any:
    return client.post("/api/signin", json={"email": email, "password": password})


def test_wrong_passwords_are_limited_per_account(app: Any) -> None:
    ada = make_client(app)
    sign_up(ada, "ada@example.com")
    guesser = make_client(app)
    for _ in range(SIGNIN_PER_EMAIL.limit):
        assert sign_in(guesser, "ada@example.com", "wrong password").status_code == 401
    r = sign_in(guesser, "ADA@example.com", "wrong password")
    assert r.status_code == 429, r.text
    assert "too many attempts" in r.json()["error"]
    assert 0 < int(r.headers["retry-after"]) <= SIGNIN_PER_EMAIL.window
    # Even the right password waits now: a guesser cannot tell when they hit it.
    assert sign_in(guesser, "ada@example.com", "correct horse").status_code == 429
    # Another account is not locked by it.
    sign_up(make_client(app), "bob@example.com")
    assert sign_in(make_client(app), "bob@example.com", "correct horse").status_code == 200


def test_a_right_password_clears_the_account_count(app: Any) -> None:
    sign_up(make_client(app), "ada@example.com")
    client = make_client(app)
    for _ in range(3):
        for _ in range(SIGNIN_PER_EMAIL.limit - 1):
            assert sign_in(client, "ada@example.com", "nope nope").status_code == 401
        assert sign_in(make_client(app), "ada@example.com", "correct horse").status_code == 200


def test_one_address_guessing_many_accounts_is_limited(app: Any) -> None:
    client = make_client(app)
    codes = [
        sign_in(client, f"user{i}@example.com", "whatever1").status_code
        for i in range(SIGNIN_PER_IP.limit + 1)
    ]
    assert codes[:-1] == [401] * SIGNIN_PER_IP.limit and codes[-1] == 429


def test_plays_count_once_a_day_per_listener_and_order_popular(app: Any) -> None:
    ada = make_client(app)
    ada.user = sign_up(ada, "ada@example.com")["user"]
    quiet, hit = (fake_track(app, ada.user["id"]) for _ in range(2))
    for t in (quiet, hit):
        assert ada.post(f"/api/tracks/{t}/publish").status_code == 200
    new = [t["id"] for t in ada.get("/api/catalog/tracks?sort=new").json()]
    assert new == [hit, quiet]
    assert ada.post(f"/api/tracks/{quiet}/play").json() == {"counted": False}  # own plays
    listeners = [make_client(app) for _ in range(3)]
    for i, listener in enumerate(listeners):
        listener.headers["user-agent"] = f"browser {i}"
        assert listener.post(f"/api/tracks/{quiet}/play").json() == {"counted": True}
        assert listener.post(f"/api/tracks/{quiet}/play").json() == {"counted": False}
    bob = make_client(app)
    sign_up(bob, "bob@example.com")
    assert bob.post(f"/api/tracks/{quiet}/play").json() == {"counted": True}
    assert ada.get(f"/api/tracks/{quiet}").json()["plays"] == 4
    popular = [t["id"] for t in ada.get("/api/catalog/tracks?sort=popular").json()]
    assert popular == [quiet, hit]
    # A private track cannot be played (or probed) by others.
    assert ada.post(f"/api/tracks/{hit}/unpublish").status_code == 200
    assert bob.post(f"/api/tracks/{hit}/play").status_code == 404


def test_a_publishing_job_puts_its_track_in_the_catalog(
    app: Any,
    settings: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def generate(prompt: str, *, out: Path, progress: Any, **kw: Any) -> None:
        fake_song(out, title="Demo Tune")

    monkeypatch.setattr(overture.pipeline, "generate", generate)
    svc = app.state.services
    ada = make_client(app)
    user = sign_up(ada, "ada@example.com")["user"]
    job = svc.queue.enqueue(user["id"], {"prompt": "demo"}, publish=True)
    private = ada.post("/api/jobs", json={"prompt": "mine", "duration": 8}).json()
    worker = Worker(svc.settings, queue=svc.queue, storage=svc.storage)
    assert worker.run(once=True) == 2
    public = make_client(app).get("/api/catalog/tracks").json()
    assert [t["title"] for t in public] == ["Demo Tune"]
    assert public[0]["id"] == ada.get(f"/api/jobs/{job.id}").json()["track_id"]
    assert make_client(app).get("/api/catalog/search", params={"q": "demo"}).json()
    mine = ada.get(f"/api/jobs/{private['id']}").json()
    assert ada.get(mine["track_url"]).json()["visibility"] == "private"
