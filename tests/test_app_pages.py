"""The HTML pages, rendered by the server: what a visitor may see, escaping of what users
write, the language switch, and HTML errors for browsers but JSON for the API."""

from __future__ import annotations

from typing import Any

import pytest

from app_fixtures import fake_track, make_client, settings, sign_up  # noqa: F401
from overture.app.demo import DEMO_EMAIL, DEMO_SONGS, seed_demo
from overture.app.models import Track
from overture.app.settings import Settings
from overture.app.web import create_app

HTML = {"Accept": "text/html"}


@pytest.fixture
def app(settings: Settings) -> Any:  # noqa: F811
    return create_app(settings)


def retitle(app: Any, track_id: str, title: str) -> None:
    with app.state.services.tracks.Session.begin() as s:
        s.get(Track, track_id).title = title


def test_home_lists_public_tracks_with_covers_and_players(app: Any, ada: Any) -> None:
    shown = fake_track(app, ada.user["id"])
    hidden = fake_track(app, ada.user["id"])
    retitle(app, shown, "Morning Song")
    retitle(app, hidden, "Secret Draft")
    ada.post(f"/api/tracks/{shown}/publish")
    page = make_client(app).get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Morning Song" in page.text and "Secret Draft" not in page.text
    assert f'data-play="{shown}"' in page.text and f"/api/tracks/{shown}/cover.svg" in page.text
    assert 'id="player"' in page.text and 'id="audio"' in page.text


def test_what_users_write_is_escaped(app: Any, ada: Any) -> None:
    track = fake_track(app, ada.user["id"])
    retitle(app, track, '<script>alert("x")</script>')
    ada.post(f"/api/tracks/{track}/publish")
    for url in ("/", f"/tracks/{track}", "/search?q=alert"):
        text = make_client(app).get(url).text
        assert "<script>alert" not in text, url
        assert "&lt;script&gt;alert" in text, url
    cover = make_client(app).get(f"/api/tracks/{track}/cover.svg").text
    assert "<script>" not in cover


def test_private_tracks_are_not_found_pages(app: Any, ada: Any) -> None:
    track = fake_track(app, ada.user["id"])
    assert ada.get(f"/tracks/{track}").status_code == 200
    other = make_client(app).get(f"/tracks/{track}")
    assert other.status_code == 404 and "Nothing here" in other.text
    # An unknown page is an HTML 404 for a browser, and JSON for the API.
    assert "Nothing here" in make_client(app).get("/nope", headers=HTML).text
    assert make_client(app).get("/api/nope").json() == {"error": "not found"}


def test_owner_sees_actions_and_visitors_do_not(app: Any, ada: Any) -> None:
    track = fake_track(app, ada.user["id"])
    ada.post(f"/api/tracks/{track}/publish")
    assert 'data-action="unpublish"' in ada.get(f"/tracks/{track}").text
    visitor = make_client(app).get(f"/tracks/{track}").text
    assert "data-action" not in visitor and "/files/song.mid" in visitor


def test_signed_out_visitors_are_sent_to_sign_in(app: Any) -> None:
    client = make_client(app)
    for page in ("/create", "/library"):
        r = client.get(page, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/signin?next={page}"
    assert "auth-form" in client.get("/signin?next=/create").text


def test_sign_in_never_redirects_off_site(app: Any) -> None:
    text = make_client(app).get("/signin?next=//evil.example/x").text
    assert 'data-next="/"' in text
    r = make_client(app).get("/lang/zh?next=https://evil.example", follow_redirects=False)
    assert r.headers["location"] == "/"
    for evil in ("/\\evil.example", "/\t/evil.example", "/\n/evil.example"):
        r = make_client(app).get("/lang/zh", params={"next": evil}, follow_redirects=False)
        assert r.headers["location"] == "/", evil
        assert 'data-next="/"' in make_client(app).get("/signin", params={"next": evil}).text
    r = make_client(app).get("/lang/zh", params={"next": "/tracks/a?x=1"}, follow_redirects=False)
    assert r.headers["location"] == "/tracks/a?x=1"


def test_language_from_the_browser_and_the_switch(app: Any) -> None:
    client = make_client(app)
    assert ">创作<" in client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert ">Create<" in client.get("/", headers={"Accept-Language": "en-US"}).text
    r = client.get("/lang/zh?next=/search", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/search"
    assert ">创作<" in client.get("/", headers={"Accept-Language": "en-US"}).text  # the cookie


def test_create_and_library_pages_for_a_creator(app: Any, ada: Any) -> None:
    job = ada.post("/api/jobs", json={"prompt": "quiet harp", "duration": 8}).json()
    create = ada.get("/create").text
    assert 'id="create-form"' in create and f'data-watch="{job["id"]}"' in create
    assert "quiet harp" in ada.get("/library").text


def test_the_demo_catalog_is_queued_once_and_leaves_the_first_admin(app: Any) -> None:
    svc = app.state.services
    assert seed_demo(svc.engine, svc.queue) == len(DEMO_SONGS)
    assert seed_demo(svc.engine, svc.queue) == 0
    with svc.queue.Session() as s:
        from sqlalchemy import func, select

        from overture.app.models import Job, User

        demo = s.scalar(select(User).where(User.email == DEMO_EMAIL))
        jobs = s.scalars(select(Job).where(Job.user_id == demo.id)).all()
        assert len(jobs) == len(DEMO_SONGS) and all(j.publish for j in jobs)
        assert s.scalar(select(func.count()).select_from(User)) == 1
    # Nobody can sign in as the demo account, and the first person is still the admin.
    r = make_client(app).post("/api/signin", json={"email": DEMO_EMAIL, "password": "x" * 8})
    assert r.status_code == 401
    first = make_client(app)
    assert sign_up(first, "first@example.com")["user"]["role"] == "admin"
