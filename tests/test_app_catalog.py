"""The catalog: full-text search (English and Chinese words, ranking, injection-like input),
browsing by genre and mood, genre counts and creator pages, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app_fixtures import database_url, make_client, settings, sign_up  # noqa: F401
from overture.app.models import Track
from overture.app.settings import Settings
from overture.app.web import create_app


@pytest.fixture
def app(settings: Settings, database_url: str) -> Any:  # noqa: F811
    return create_app(replace(settings, database_url=database_url))


def add_track(app: Any, owner: Any, *, publish: bool = True, **fields: Any) -> str:
    """A track stored straight in the database (no audio made), published through the API."""
    values: dict[str, Any] = {"title": "Untitled", "prompt": "", "mix_key": "0" * 64}
    values.update(fields)
    with app.state.services.tracks.Session.begin() as s:
        track = Track(owner_id=owner.user["id"], visibility="private", **values)
        s.add(track)
        s.flush()
        track_id = track.id
    if publish:
        assert owner.post(f"/api/tracks/{track_id}/publish").status_code == 200
    return track_id


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()]


def test_english_search_ranks_title_above_lyrics(app: Any, ada: Any) -> None:
    lyric = add_track(app, ada, title="Night Drive", lyrics="a lighthouse on the shore")
    titled = add_track(app, ada, title="Lighthouse", lyrics="waves and wind")
    add_track(app, ada, title="Other", lyrics="nothing here", genre="jazz")
    found = ids(ada.get("/api/catalog/search", params={"q": "LIGHTHOUSE"}))
    assert found == [titled, lyric]
    first = ada.get("/api/catalog/search", params={"q": "lighthouse"}).json()[0]
    assert first["title"] == "Lighthouse" and first["creator"] == "ada" and first["mine"]
    assert ids(make_client(app).get("/api/catalog/search", params={"q": "jazz"}))
    assert ids(ada.get("/api/catalog/search", params={"q": "lighthouse", "offset": 1})) == [lyric]


def test_chinese_words_are_found(app: Any, ada: Any) -> None:
    moon = add_track(app, ada, title="小河", lyrics="月亮照在小河上")
    add_track(app, ada, title="太阳", lyrics="太阳照在山上")
    add_track(app, ada, title="Moonlight", lyrics="the moon is bright")
    assert ids(ada.get("/api/catalog/search", params={"q": "月亮"})) == [moon]
    assert ids(ada.get("/api/catalog/search", params={"q": "小河 月亮"})) == [moon]


def test_private_deleted_and_unpublished_tracks_are_never_found(app: Any, ada: Any) -> None:
    shown = add_track(app, ada, title="Comet song")
    add_track(app, ada, title="Comet secret", publish=False)
    gone = add_track(app, ada, title="Comet gone")
    later = add_track(app, ada, title="Comet later")
    assert sorted(ids(ada.get("/api/catalog/search", params={"q": "comet"}))) == sorted(
        [shown, gone, later]
    )
    assert ada.delete(f"/api/tracks/{gone}").status_code == 204
    assert ada.post(f"/api/tracks/{later}/unpublish").status_code == 200
    assert ids(ada.get("/api/catalog/search", params={"q": "comet"})) == [shown]
    assert ids(ada.get("/api/catalog/tracks")) == [shown]
    assert ada.get("/api/catalog/genres").json() == {}
    assert ada.post(f"/api/tracks/{later}/publish").status_code == 200
    assert len(ids(ada.get("/api/catalog/search", params={"q": "comet"}))) == 2


@pytest.mark.parametrize(
    "q", ['" OR 1=1 --', "*", "NEAR(", "title:x", "a AND", "'; DROP TABLE tracks; --", '""']
)
def test_injection_like_input_is_harmless(app: Any, ada: Any, q: str) -> None:
    add_track(app, ada, title="Harmless")
    r = ada.get("/api/catalog/search", params={"q": q})
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)
    assert len(ids(ada.get("/api/catalog/search", params={"q": "harmless"}))) == 1


@pytest.mark.parametrize("q", ["", "   ", "x" * 201])
def test_bad_queries_are_refused(app: Any, q: str) -> None:
    r = make_client(app).get("/api/catalog/search", params={"q": q})
    assert r.status_code == 422 and "error" in r.json()
    assert make_client(app).get("/api/catalog/search").status_code == 422


def test_browse_by_genre_and_mood_and_count_genres(app: Any, ada: Any) -> None:
    a = add_track(app, ada, title="A", genre="pop", mood="happy, bright")
    b = add_track(app, ada, title="B", genre="pop", mood="sad")
    c = add_track(app, ada, title="C", genre="rock")
    add_track(app, ada, title="D", genre="rock", publish=False)
    assert ada.get("/api/catalog/genres").json() == {"pop": 2, "rock": 1}
    assert ids(ada.get("/api/catalog/tracks", params={"genre": "pop"})) == [b, a]
    assert ids(ada.get("/api/catalog/tracks", params={"genre": "pop", "mood": "happy"})) == [a]
    assert ids(ada.get("/api/catalog/tracks", params={"sort": "popular"})) == [c, b, a]
    assert ada.get("/api/catalog/tracks", params={"sort": "loud"}).status_code == 422


def test_creator_page(app: Any, ada: Any) -> None:
    shown = add_track(app, ada, title="Public one")
    add_track(app, ada, title="Private one", publish=False)
    r = make_client(app).get(f"/api/catalog/creators/{ada.user['id']}")
    assert r.status_code == 200
    body = r.json()
    assert body["display_name"] == ada.user["display_name"]
    assert [t["id"] for t in body["tracks"]] == [shown]
    assert make_client(app).get("/api/catalog/creators/99999").status_code == 404
    by_name = ids(ada.get("/api/catalog/search", params={"q": ada.user["display_name"]}))
    assert by_name == [shown]
