"""The HTTP API: jobs (validation, limits, cancel), track visibility and media downloads
with ranges and ETags."""

from __future__ import annotations

from typing import Any

import pytest

from app_fixtures import fake_track, make_client, settings, sign_up  # noqa: F401
from overture.app.settings import Settings
from overture.app.web import create_app

TINY = {"prompt": "upbeat pop", "duration": 8, "think": "none"}


@pytest.fixture
def app(settings: Settings) -> Any:  # noqa: F811
    return create_app(settings)


@pytest.fixture
def bob(app: Any) -> Any:
    client = make_client(app)
    client.user = sign_up(client, "bob@example.com")["user"]
    return client


def test_healthz(app: Any) -> None:
    r = make_client(app).get("/healthz")
    assert r.status_code == 200 and r.json()["ok"] is True


def test_submit_follow_and_cancel_a_job(ada: Any, bob: Any) -> None:
    r = ada.post("/api/jobs", json={**TINY, "seed": 5})
    assert r.status_code == 201
    job = r.json()
    assert job["state"] == "queued" and job["progress"] == 0
    assert job["options"]["seed"] == 5 and job["options"]["prompt"] == "upbeat pop"
    assert ada.get(f"/api/jobs/{job['id']}").json()["state"] == "queued"
    assert [j["id"] for j in ada.get("/api/jobs").json()["jobs"]] == [job["id"]]
    assert bob.get(f"/api/jobs/{job['id']}").status_code == 404  # not theirs
    assert bob.post(f"/api/jobs/{job['id']}/cancel").status_code == 404
    cancelled = ada.post(f"/api/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert ada.get("/api/jobs/nope").json() == {"error": "no such job"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"duration": 2000}, "duration"),
        ({"tempo": "fast"}, "tempo"),
        ({"key": "H major"}, "unknown key"),
        ({"chords": "Xyz7"}, "chord"),
        ({"think": "hard"}, "think"),
        ({"voice": "robot", "lyrics": "la la"}, "voice"),
        ({"soundfont": "/etc/passwd"}, "soundfont"),
        ({"structure": "verse fish"}, "fish"),
    ],
)
def test_bad_options_are_refused_at_once(ada: Any, options: dict[str, Any], message: str) -> None:
    r = ada.post("/api/jobs", json={"prompt": "pop", **options})
    assert r.status_code == 422
    assert message in r.json()["error"].lower()


def test_lyrics_are_sung_text_never_a_file(ada: Any, tmp_path: Any) -> None:
    secret = tmp_path / "words.txt"
    secret.write_text("[Verse]\nconfidential private phrase\n", encoding="utf-8")
    r = ada.post("/api/jobs", json={**TINY, "lyrics": str(secret)})
    assert r.status_code == 201
    from overture.app.jobs.service import generate_kwargs

    sheet = generate_kwargs(r.json()["options"])["lyrics"]
    assert "confidential" not in repr(sheet)


def test_the_per_user_limit_answers_429(ada: Any, bob: Any) -> None:
    for _ in range(2):
        assert ada.post("/api/jobs", json=TINY).status_code == 201
    r = ada.post("/api/jobs", json=TINY)
    assert r.status_code == 429
    assert r.json()["limit"] == 2 and "at most 2" in r.json()["error"]
    assert bob.post("/api/jobs", json=TINY).status_code == 201


def test_signed_out_requests_get_401(app: Any) -> None:
    client = make_client(app)
    assert client.post("/api/jobs", json=TINY).status_code == 401
    assert client.get("/api/jobs").json() == {"error": "sign in first"}


def test_private_tracks_are_only_their_owners(app: Any, ada: Any, bob: Any) -> None:
    track_id = fake_track(app, ada.user["id"])
    anon = make_client(app)
    mine = ada.get(f"/api/tracks/{track_id}")
    assert mine.status_code == 200
    view = mine.json()
    assert view["visibility"] == "private" and view["mine"] and view["creator"] == "ada"
    assert {f["name"] for f in view["files"]} >= {"song.flac", "stems/drums.flac", "song.mid"}
    for who in (bob, anon):
        assert who.get(f"/api/tracks/{track_id}").status_code == 404
        assert who.get(f"/api/tracks/{track_id}/audio").status_code == 404
        assert who.get(f"/api/tracks/{track_id}/files/song.mid").status_code == 404
    assert bob.post(f"/api/tracks/{track_id}/publish").status_code == 404
    assert [t["id"] for t in ada.get("/api/tracks").json()["tracks"]] == [track_id]
    assert bob.get("/api/tracks").json()["tracks"] == []

    published = ada.post(f"/api/tracks/{track_id}/publish").json()
    assert published["visibility"] == "public" and published["published_at"]
    assert bob.get(f"/api/tracks/{track_id}").json()["mine"] is False
    assert anon.get(f"/api/tracks/{track_id}/audio").status_code == 200
    assert [t["id"] for t in anon.get("/api/tracks/public").json()["tracks"]] == [track_id]
    assert bob.post(f"/api/tracks/{track_id}/unpublish").status_code == 403
    assert bob.delete(f"/api/tracks/{track_id}").status_code == 403

    assert ada.post(f"/api/tracks/{track_id}/unpublish").json()["visibility"] == "private"
    assert anon.get(f"/api/tracks/{track_id}").status_code == 404
    assert ada.delete(f"/api/tracks/{track_id}").status_code == 204
    assert ada.get(f"/api/tracks/{track_id}").status_code == 404


def test_an_admin_may_take_down_a_public_track(app: Any, ada: Any, bob: Any) -> None:
    track_id = fake_track(app, bob.user["id"])  # ada signed up first: the admin
    assert ada.get(f"/api/tracks/{track_id}").status_code == 404  # private even to an admin
    bob.post(f"/api/tracks/{track_id}/publish")
    assert ada.post(f"/api/tracks/{track_id}/unpublish").status_code == 200
    assert ada.post(f"/api/tracks/{track_id}/publish").status_code == 404


AUDIO = bytes(range(256)) * 40  # 10240 bytes


@pytest.fixture
def track(app: Any, ada: Any) -> str:
    return fake_track(app, ada.user["id"], audio=AUDIO)


def test_audio_ranges(ada: Any, track: str) -> None:
    url = f"/api/tracks/{track}/audio"
    full = ada.get(url)
    assert full.status_code == 200 and full.content == AUDIO
    assert full.headers["content-type"] == "audio/flac"
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-length"] == str(len(AUDIO))
    assert "max-age" in full.headers["cache-control"]
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=100-": (100, len(AUDIO) - 1),
        "bytes=-16": (len(AUDIO) - 16, len(AUDIO) - 1),
        "bytes=10000-99999": (10000, len(AUDIO) - 1),
        "bytes=5000-5000": (5000, 5000),
    }
    for header, (first, last) in cases.items():
        r = ada.get(url, headers={"Range": header})
        assert r.status_code == 206, header
        assert r.content == AUDIO[first : last + 1], header
        assert r.headers["content-range"] == f"bytes {first}-{last}/{len(AUDIO)}"
        assert r.headers["content-length"] == str(last - first + 1)
    for bad in ("bytes=10240-", "bytes=20000-30000", "bytes=9-3", "bytes=-0", "bytes=x-y"):
        r = ada.get(url, headers={"Range": bad})
        assert r.status_code == 416, bad
        assert r.headers["content-range"] == f"bytes */{len(AUDIO)}"
    # Another unit, or several ranges, may be answered with the whole file.
    assert ada.get(url, headers={"Range": "items=0-1"}).status_code == 200


def test_audio_etag(ada: Any, track: str) -> None:
    import hashlib

    url = f"/api/tracks/{track}/audio"
    etag = ada.get(url).headers["etag"]
    assert etag == f'"{hashlib.sha256(AUDIO).hexdigest()}"'
    r = ada.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    assert ada.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # A range against an older copy gets the whole new file.
    stale = ada.get(url, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.content == AUDIO
    fresh = ada.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206


def test_file_downloads(ada: Any, track: str) -> None:
    expected = {
        "song.mid": ("audio/midi", b"MThd midi"),
        "song.musicxml": ("application/vnd.recordare.musicxml+xml", b"<score-partwise/>"),
        "song.json": ("application/json", b'{"title": "Test Song"}'),
        "stems/drums.flac": ("audio/flac", b"fLaC drums"),
    }
    for name, (ctype, data) in expected.items():
        r = ada.get(f"/api/tracks/{track}/files/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith(ctype) and r.content == data
        base = name.rsplit("/", 1)[-1]
        assert r.headers["content-disposition"] == f'attachment; filename="{base}"'
    for missing in ("song.lrc", "stems/nothing.flac", "../../etc/passwd", "trace.json"):
        assert ada.get(f"/api/tracks/{track}/files/{missing}").status_code == 404
