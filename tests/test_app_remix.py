"""Remixes in the web service: ``POST /api/tracks/{id}/remix`` checked before anything is
queued, real remix jobs made by the worker with the engine's ``restyle`` and ``vary`` (on
SQLite and PostgreSQL), the credit and lineage they store, the pages that link a remix and
its source, why a remix whose source went away fails, and the guards that keep a credit as
it was made (the API, the ORM and a database trigger), including migration 0004."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app_fixtures import (  # noqa: F401  (database_url, settings: fixtures)
    database_url,
    fake_track,
    make_client,
    settings,
    sign_up,
    stored_song,
)
from conftest import SUNG_LYRICS, SUNG_PROMPT
from overture.app.db import make_engine
from overture.app.jobs import remix as remix_jobs
from overture.app.jobs.worker import Worker
from overture.app.models import LineageChanged, Track
from overture.app.settings import Settings
from overture.app.web import create_app
from overture.errors import InvalidInputError

HTML = {"Accept": "text/html"}
SUNG = {"prompt": SUNG_PROMPT, "lyrics": SUNG_LYRICS, "seed": 1}


@pytest.fixture
def app(settings: Settings) -> Any:  # noqa: F811
    return create_app(settings)


def person(app: Any, email: str) -> Any:
    client = make_client(app)
    client.user = sign_up(client, email)["user"]
    return client


def published_song(app: Any, owner: Any, folder: Path) -> str:
    track_id = stored_song(app, owner.user["id"], folder, SUNG)
    assert owner.post(f"/api/tracks/{track_id}/publish").status_code == 200
    return track_id


def remix(client: Any, track_id: str, **body: Any) -> Any:
    return client.post(f"/api/tracks/{track_id}/remix", json=body)


def engine_error(call: Any) -> str:
    with pytest.raises(InvalidInputError) as e:
        call()
    return str(e.value)


def test_remix_requests_are_checked_before_anything_is_queued(
    app: Any, ada: Any, sung_song: Path
) -> None:
    from overture.studio import parse_keep, restyle

    source = published_song(app, ada, sung_song)
    secret = stored_song(app, ada.user["id"], sung_song, SUNG)  # private
    bob = person(app, "bob@example.com")
    # Signed out, a listener, and tracks bob may not see.
    assert remix(make_client(app), source).status_code == 401
    lis = person(app, "lis@example.com")
    app.state.services.accounts.set_role("lis@example.com", "listener")
    r = remix(lis, source, style="jazz trio")
    assert r.status_code == 403 and r.json() == {"error": "listeners cannot make songs"}
    assert remix(bob, "nosuchtrack").status_code == 404
    hidden = remix(bob, secret)
    assert hidden.status_code == 404 and hidden.json() == {"error": "no such track"}
    # Options the engine cannot use: its own words, at once.
    said = remix(bob, source, style="xyz")
    assert said.status_code == 422
    assert said.json()["error"] == engine_error(lambda: restyle(sung_song, "xyz"))
    fast = remix(bob, source, style="rock at 500 bpm").json()["error"]
    assert fast == engine_error(lambda: restyle(sung_song, "rock at 500 bpm"))
    kept = remix(bob, source, keep=["melody", "tempo"]).json()["error"]
    assert kept == engine_error(lambda: parse_keep(["melody", "tempo"]))
    both = remix(bob, source, style="jazz trio", keep=["melody"])
    assert both.status_code == 422 and "keep only for a variation" in both.json()["error"]
    for bad in ({"style": "x" * 1001}, {"seed": -1}, {"prompt": "pop"}, {"keep": "melody"}):
        assert remix(bob, source, **bad).status_code == 422, bad
    # A track whose score was not kept (made before scores were stored) cannot be remixed.
    scoreless = fake_track(app, ada.user["id"])
    ada.post(f"/api/tracks/{scoreless}/publish")
    r = remix(bob, scoreless)
    assert r.status_code == 422 and r.json()["error"] == remix_jobs.NOT_REMIXABLE
    assert bob.get("/api/jobs").json()["jobs"] == []  # nothing bad was queued

    # A restyle and a variation: queued, with their stored options exact.
    cover = remix(bob, source, style=" jazz trio ", seed=5)
    assert cover.status_code == 201, cover.text
    assert cover.json()["options"] == {
        "operation": "remix",
        "source_track_id": source,
        "style": "jazz trio",
        "seed": 5,
    }
    take = remix(bob, source, style="")
    assert take.status_code == 201
    assert take.json()["options"] == {
        "operation": "remix",
        "source_track_id": source,
        "keep": ["melody", "structure"],
        "seed": 0,
    }
    job = bob.get(f"/api/jobs/{cover.json()['id']}").json()
    assert job["state"] == "queued" and job["options"]["style"] == "jazz trio"
    # The per-user limit holds for remixes as for other songs.
    assert remix(bob, source).status_code == 429
    # One's own private track may be remixed; a deleted one is gone for everyone.
    assert remix(ada, secret, keep=["melody", "chords"]).status_code == 201
    assert ada.delete(f"/api/tracks/{secret}").status_code == 204
    assert remix(ada, secret).status_code == 404


def test_a_remix_is_made_credited_and_linked(
    settings: Settings,  # noqa: F811
    database_url: str,  # noqa: F811
    sung_song: Path,
) -> None:
    settings = replace(settings, database_url=database_url)
    app = create_app(settings)
    ada, bob = person(app, "ada@example.com"), person(app, "bob@example.com")
    source = published_song(app, ada, sung_song)
    source_song = json.loads((sung_song / "song.json").read_text(encoding="utf-8"))

    job = remix(bob, source, style="jazz trio", seed=1).json()
    assert Worker(settings).run(once=True) == 1
    done = bob.get(f"/api/jobs/{job['id']}").json()
    assert done["state"] == "succeeded", done
    assert done["log"][:2] == ["starting", "reading the song to remix"]
    assert done["log"][-1] == "storing the files"
    cover = bob.get(done["track_url"]).json()
    assert cover["title"] == f"{source_song['title']} (jazz)" and cover["genre"] == "jazz"
    assert cover["lyrics"] == SUNG_LYRICS and cover["prompt"] == "jazz trio"
    assert cover["source"] == {
        "track_id": source,
        "title": source_song["title"],
        "creator": "ada",
        "url": f"/tracks/{source}",
        "api_url": f"/api/tracks/{source}",
    }
    # The lineage: the engine's, from the remix's song.json, with the source's ids added.
    lineage = cover["lineage"]
    assert lineage["operation"] == "restyle"
    assert lineage["options"]["genre"] == "jazz" and lineage["options"]["seed"] == 1
    [parent] = lineage["parents"]
    assert parent["id"] == source_song["id"]  # the source song's own id
    assert parent["track_id"] == source and parent["creator_id"] == ada.user["id"]
    assert parent["creator"] == "ada" and parent["lineage"] is None
    cover_song = bob.get(f"/api/tracks/{cover['id']}/files/song.json").json()
    added = {"track_id": source, "creator_id": ada.user["id"], "creator": "ada"}
    written = cover_song["lineage"]
    assert lineage == {**written, "parents": [{**written["parents"][0], **added}]}
    names = {f["name"] for f in cover["files"]}
    assert {"song.flac", "song.lrc", "score.json", "song.json", "stems/vocals.flac"} <= names

    # Published, the remix is listed on its source's page, and links back to it.
    assert bob.post(f"/api/tracks/{cover['id']}/publish").status_code == 200
    visitor = make_client(app)
    listed = visitor.get(f"/api/tracks/{source}/remixes").json()["tracks"]
    assert [t["id"] for t in listed] == [cover["id"]]
    page = visitor.get(f"/tracks/{source}").text
    assert ">Remixes<" in page and f'href="/tracks/{cover["id"]}"' in page
    page = visitor.get(f"/tracks/{cover['id']}").text
    assert "Remix of" in page and f'<a href="/tracks/{source}" id="source-link">' in page
    assert "by ada" in page and "restyled as jazz" in page

    # A variation of the remix: its lineage carries the whole ancestry, with track ids.
    take = remix(ada, cover["id"], seed=3).json()
    assert Worker(settings).run(once=True) == 1
    done = ada.get(f"/api/jobs/{take['id']}").json()
    assert done["state"] == "succeeded", done
    second = ada.get(done["track_url"]).json()
    assert second["lineage"]["operation"] == "vary"
    assert second["lineage"]["options"]["keep"] == ["lyrics", "melody", "structure"]
    [parent] = second["lineage"]["parents"]
    assert parent["track_id"] == cover["id"] and parent["creator"] == "bob"
    assert parent["id"] == cover_song["id"]
    assert parent["lineage"] == lineage  # the cover's lineage as its track records it
    assert second["source"]["title"] == cover["title"] and second["lyrics"] == SUNG_LYRICS
    assert (
        "a variation keeping its lyrics, melody, structure"
        in ada.get(f"/tracks/{second['id']}").text
    )


def add_remix(app: Any, owner: Any, source: str, **fields: Any) -> str:
    """A remix track stored straight in the database (no audio made)."""
    values: dict[str, Any] = {
        "title": "Cover",
        "prompt": "",
        "mix_key": "0" * 64,
        "source_track_id": source,
        "source_title": "Test Song",
        "source_creator": "ada",
        "lineage": {"operation": "restyle", "options": {"genre": "jazz"}, "parents": []},
    }
    values.update(fields)
    with app.state.services.tracks.Session.begin() as s:
        track = Track(owner_id=owner.user["id"], visibility="private", **values)
        s.add(track)
        s.flush()
        return track.id


def credit_of(client: Any, track_id: str) -> tuple[Any, Any]:
    view = client.get(f"/api/tracks/{track_id}").json()
    return view["source"], view["lineage"]


def test_a_credit_never_changes_and_outlives_its_source(
    settings: Settings,  # noqa: F811
    database_url: str,  # noqa: F811
) -> None:
    app = create_app(replace(settings, database_url=database_url))
    ada, bob = person(app, "ada@example.com"), person(app, "bob@example.com")
    source = fake_track(app, ada.user["id"])
    ada.post(f"/api/tracks/{source}/publish")
    cover = add_remix(app, bob, source)
    assert bob.post(f"/api/tracks/{cover}/publish").status_code == 200
    before = credit_of(bob, cover)
    assert before[0]["track_id"] == source and before[0]["url"] == f"/tracks/{source}"

    # No route changes a track's credit: no edit route at all, and the others leave it.
    change = {"source_track_id": None, "source_title": "Mine", "lineage": None}
    for method in ("PATCH", "PUT"):
        assert bob.request(method, f"/api/tracks/{cover}", json=change).status_code == 405
    assert bob.post(f"/api/tracks/{cover}/unpublish", json=change).status_code == 200
    assert bob.post(f"/api/tracks/{cover}/publish", json=change).status_code == 200
    assert credit_of(bob, cover) == before
    # Below the API: the ORM refuses the change, and so does the database itself.
    svc = app.state.services
    with pytest.raises(LineageChanged), svc.tracks.Session.begin() as s:
        s.get(Track, cover).source_title = "Mine"
    for column in ("source_track_id", "lineage"):
        refused = pytest.raises(IntegrityError, match="source and lineage cannot change")
        with refused, svc.engine.begin() as conn:
            conn.execute(text(f"UPDATE tracks SET {column} = NULL WHERE id = :t"), {"t": cover})
    with svc.engine.begin() as conn:  # other columns change as before
        conn.execute(text("UPDATE tracks SET title = 'Cover 2' WHERE id = :t"), {"t": cover})
    assert credit_of(bob, cover) == before

    # The source made private, then deleted: the credit stays, without a link to follow.
    for step in ("unpublish", "delete"):
        if step == "delete":
            assert ada.delete(f"/api/tracks/{source}").status_code == 204
        else:
            assert ada.post(f"/api/tracks/{source}/unpublish").status_code == 200
        for viewer in (bob, make_client(app)):
            got, lineage = credit_of(viewer, cover)
            assert got == {**before[0], "url": None, "api_url": None} and lineage == before[1]
            page = viewer.get(f"/tracks/{cover}").text
            assert "Remix of" in page and "Test Song" in page and "by ada" in page
            assert f'href="/tracks/{source}"' not in page
        assert make_client(app).get(f"/tracks/{source}", headers=HTML).status_code == 404
    # The owner still sees the link while their source is private.
    ada_cover = add_remix(app, ada, fake_track(app, ada.user["id"]))
    assert credit_of(ada, ada_cover)[0]["url"] is not None


def test_a_remix_whose_source_went_away_fails_in_words(
    app: Any,
    settings: Settings,  # noqa: F811
    sung_song: Path,
) -> None:
    ada, bob = person(app, "ada@example.com"), person(app, "bob@example.com")
    svc = app.state.services

    def outcome(source: str, before_work: Any) -> dict[str, Any]:
        job = remix(bob, source, style="jazz trio").json()
        assert job["state"] == "queued", job
        before_work()
        assert Worker(settings).run(once=True) == 1
        return bob.get(f"/api/jobs/{job['id']}").json()

    gone = published_song(app, ada, sung_song)
    job = outcome(gone, lambda: ada.delete(f"/api/tracks/{gone}"))
    assert job["state"] == "failed" and job["error"] == remix_jobs.DELETED
    assert job["attempts"] == 1  # not retried: it would fail again

    hidden = published_song(app, ada, sung_song)
    job = outcome(hidden, lambda: ada.post(f"/api/tracks/{hidden}/unpublish"))
    assert job["state"] == "failed" and job["error"] == remix_jobs.HIDDEN

    # The stored score lost from the media store, or damaged: a clear failure, no crash.
    lost = published_song(app, ada, sung_song)
    score_key = svc.tracks.get(lost, None).extra_files["score.json"]
    job = outcome(lost, lambda: svc.storage.delete(score_key))
    assert job["state"] == "failed" and job["error"] == remix_jobs.NO_FILES
    damaged = published_song(app, ada, sung_song)

    def damage() -> None:
        bad = svc.storage.put(b'{"not": "a score"}')
        with svc.engine.begin() as conn:
            conn.execute(
                text("UPDATE tracks SET extra_files = :f WHERE id = :t"),
                {"f": json.dumps({"score.json": bad}), "t": damaged},
            )

    job = outcome(damaged, damage)
    assert job["state"] == "failed" and job["error"] == remix_jobs.DAMAGED
    assert bob.get("/api/tracks").json()["tracks"] == []


def test_the_remix_button_is_shown_to_those_who_may_remix(
    app: Any, ada: Any, sung_song: Path
) -> None:
    public = published_song(app, ada, sung_song)
    private = stored_song(app, ada.user["id"], sung_song, SUNG)
    scoreless = fake_track(app, ada.user["id"])
    ada.post(f"/api/tracks/{scoreless}/publish")
    bob = person(app, "bob@example.com")
    page = bob.get(f"/tracks/{public}").text
    assert 'id="remix-form"' in page and f'data-id="{public}"' in page
    assert 'id="job-panel"' in page and "Open the remix" in page
    # On one's own track (private or not), the studio's operations take the Remix form's place.
    own = ada.get(f"/tracks/{private}").text
    assert 'id="remix-form"' not in own and 'id="derive-form"' in own
    assert 'id="remix-form"' not in bob.get(f"/tracks/{scoreless}").text
    visitor = make_client(app).get(f"/tracks/{public}").text
    assert 'id="remix-form"' not in visitor
    assert f'id="remix-sign-in" href="/signin?next=/tracks/{public}"' in visitor
    lis = person(app, "lis@example.com")
    app.state.services.accounts.set_role("lis@example.com", "listener")
    page = lis.get(f"/tracks/{public}").text
    assert 'id="remix-form"' not in page and 'id="remix-sign-in"' not in page
    # In Chinese; and a remix job in the list of one's songs says what it is.
    bob.cookies.set("overture_lang", "zh")
    assert "⟲ 二创</button>" in bob.get(f"/tracks/{public}").text
    remix(bob, public, style="jazz trio")
    bob.cookies.set("overture_lang", "en")
    assert "Remix · jazz trio" in bob.get("/create").text


def test_migration_0004_keeps_old_credits_and_guards_them(database_url: str) -> None:  # noqa: F811
    from overture.app.db import alembic_command

    engine = make_engine(database_url)

    alembic_command(engine, "upgrade", "0003")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, display_name, password_hash, role, created_at) "
                "VALUES (1, 'a@example.com', 'Ada', 'x', 'creator', CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO tracks (id, owner_id, title, prompt, visibility, mix_key, stems, "
                "extra_files, source_track_id, source_title, source_creator, created_at) "
                "VALUES ('old', 1, 'Old cover', '', 'public', :k, '{}', '{}', 'src', "
                "'Old song', 'Bea', CURRENT_TIMESTAMP)"
            ),
            {"k": "0" * 64},
        )
    alembic_command(engine, "upgrade", "head")
    with engine.begin() as conn:
        row = conn.execute(text("SELECT source_title, lineage FROM tracks")).one()
        assert tuple(row) == ("Old song", None)
        conn.execute(text("UPDATE tracks SET title = 'Renamed'"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE tracks SET source_creator = 'Someone else'"))
    alembic_command(engine, "downgrade", "0003")
    with engine.begin() as conn:  # the guard went with the migration
        conn.execute(text("UPDATE tracks SET source_creator = 'Bea'"))
    alembic_command(engine, "upgrade", "head")
    engine.dispose()
