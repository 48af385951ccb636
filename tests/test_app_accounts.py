"""Accounts over HTTP: hashes, sign-in, cookies, CSRF and roles."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app_fixtures import make_client, settings, sign_up  # noqa: F401  (settings: a fixture)
from overture.app.models import AuthSession, User
from overture.app.settings import Settings
from overture.app.web import create_app


@pytest.fixture
def app(settings: Settings) -> Any:  # noqa: F811
    return create_app(settings)


def test_sign_up_keeps_an_argon2_hash_and_the_first_user_is_admin(app: Any) -> None:
    client = make_client(app)
    body = sign_up(client, "Ada@Example.com", "correct horse")
    assert body["user"]["email"] == "ada@example.com" and body["user"]["role"] == "admin"
    second = sign_up(make_client(app), "bob@example.com")
    assert second["user"]["role"] == "creator"
    svc = app.state.services
    with svc.queue.Session() as s:
        user = s.scalar(select(User).where(User.email == "ada@example.com"))
        assert user.password_hash.startswith("$argon2id$")
        assert "correct horse" not in user.password_hash
        token = client.cookies["overture_session"]
        hashes = list(s.scalars(select(AuthSession.token_hash)))
        assert token not in hashes and len(hashes) == 2  # only hashes of tokens are kept


def test_sign_in_and_out(app: Any) -> None:
    sign_up(make_client(app), "ada@example.com", "correct horse")
    client = make_client(app)
    wrong = client.post("/api/signin", json={"email": "ada@example.com", "password": "nope nope"})
    assert wrong.status_code == 401 and wrong.json() == {"error": "wrong email or password"}
    unknown = client.post("/api/signin", json={"email": "who@example.com", "password": "x" * 9})
    assert unknown.status_code == 401
    assert client.get("/api/me").status_code == 401
    ok = client.post("/api/signin", json={"email": "ADA@example.com", "password": "correct horse"})
    assert ok.status_code == 200
    me = client.get("/api/me").json()
    assert me["user"]["email"] == "ada@example.com" and me["csrf_token"] == ok.json()["csrf_token"]
    out = client.post("/api/signout", headers={"X-CSRF-Token": me["csrf_token"]})
    assert out.status_code == 200
    assert client.get("/api/me").status_code == 401


def test_sign_up_refuses_bad_input(app: Any) -> None:
    client = make_client(app)
    assert (
        client.post("/api/signup", json={"email": "x", "password": "long enough"}).status_code
        == 422
    )
    short = client.post("/api/signup", json={"email": "a@example.com", "password": "short"})
    assert short.status_code == 422 and "8 characters" in short.json()["error"]
    sign_up(client, "a@example.com")
    again = make_client(app).post(
        "/api/signup", json={"email": "a@example.com", "password": "x" * 9}
    )
    assert again.status_code == 409


def cookie_header(response: Any, name: str) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith(name + "="))


def test_cookie_flags(app: Any) -> None:
    plain = make_client(app).post(
        "/api/signup", json={"email": "a@example.com", "password": "x" * 9}
    )
    session = cookie_header(plain, "overture_session")
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" not in session
    csrf = cookie_header(plain, "overture_csrf")
    assert "HttpOnly" not in csrf  # the page's scripts read it
    secure = make_client(app, https=True).post(
        "/api/signup", json={"email": "b@example.com", "password": "x" * 9}
    )
    assert "Secure" in cookie_header(secure, "overture_session")
    assert "Secure" in cookie_header(secure, "overture_csrf")


def test_csrf_is_required_with_a_session_cookie(app: Any) -> None:
    client = make_client(app)
    token = sign_up(client, "a@example.com")["csrf_token"]
    del client.headers["X-CSRF-Token"]
    job = {"prompt": "pop", "duration": 8, "think": "none"}
    missing = client.post("/api/jobs", json=job)
    assert missing.status_code == 403 and "CSRF" in missing.json()["error"]
    wrong = client.post("/api/jobs", json=job, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    # Another session's token does not do either.
    other = sign_up(make_client(app), "b@example.com")["csrf_token"]
    assert client.post("/api/jobs", json=job, headers={"X-CSRF-Token": other}).status_code == 403
    assert client.post("/api/jobs", json=job, headers={"X-CSRF-Token": token}).status_code == 201
    # Reading needs no token.
    assert client.get("/api/jobs").status_code == 200


def test_form_posts(app: Any) -> None:
    sign_up(make_client(app), "a@example.com", "correct horse")
    client = make_client(app)
    r = client.post(
        "/api/signin",
        data={"email": "a@example.com", "password": "correct horse", "next": "/library"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/library"
    assert "overture_session" in client.cookies
    evil = make_client(app).post(
        "/api/signin",
        data={"email": "a@example.com", "password": "correct horse", "next": "//evil.example"},
        follow_redirects=False,
    )
    assert evil.status_code == 200  # no redirect off the site
    slashed = make_client(app).post(
        "/api/signin",
        data={"email": "a@example.com", "password": "correct horse", "next": "/\\evil.example"},
        follow_redirects=False,
    )
    assert slashed.status_code == 200  # a browser reads /\host as //host
    # A form carries the CSRF token as a field.
    assert (
        client.post("/api/signout", data={"next": "/"}, follow_redirects=False).status_code == 403
    )
    token = client.cookies["overture_csrf"]
    out = client.post(
        "/api/signout", data={"csrf_token": token, "next": "/"}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_listeners_cannot_make_songs(app: Any) -> None:
    sign_up(make_client(app), "admin@example.com")
    client = make_client(app)
    sign_up(client, "listener@example.com")
    app.state.services.accounts.set_role("listener@example.com", "listener")
    r = client.post("/api/jobs", json={"prompt": "pop"})
    assert r.status_code == 403


def test_set_role_command(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    from click.testing import CliRunner

    from overture.cli import main

    app = create_app(settings)
    sign_up(make_client(app), "first@example.com")
    sign_up(make_client(app), "second@example.com")
    monkeypatch.setenv("OVERTURE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OVERTURE_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(main, ["set-role", "second@example.com", "admin"])
    assert result.exit_code == 0, result.output
    assert "second@example.com is now admin" in result.output
    missing = CliRunner().invoke(main, ["set-role", "nobody@example.com", "admin"])
    assert missing.exit_code == 2 and "no account" in missing.output
