"""The studio's operations in the web service: new versions of one's own song (``POST
/api/tracks/{id}/derive``: extend, repaint a section, restyle, variations) checked against
the song by the engine's rules before anything is queued, and made by the worker with an
exact lineage; and arranging an uploaded demo (``POST /api/jobs/arrange``): the size limit
enforced while the upload streams in, bad files refused with the engine's words, a MIDI and
a recorded demo arranged end to end, a demo that is found silent only when transcribed, and
a retry after a killed worker. Also the track and create pages that offer them, and
migration 0005 (``jobs.track_ids``)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import struct
import time
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app_fixtures import (  # noqa: F401  (database_url, settings: fixtures)
    database_url,
    fake_track,
    make_client,
    midi_demo,
    settings,
    sign_up,
    stored_song,
    wav_demo,
)
from conftest import SUNG_LYRICS, SUNG_PROMPT
from overture.app.db import make_engine
from overture.app.jobs import arrange as arrange_jobs
from overture.app.jobs import derive as derive_jobs
from overture.app.jobs.worker import Worker
from overture.app.models import MediaObject, Track
from overture.app.settings import Settings
from overture.app.web import create_app
from overture.errors import InvalidInputError

SUNG = {"prompt": SUNG_PROMPT, "lyrics": SUNG_LYRICS, "seed": 1}
ARRANGE = "/api/jobs/arrange"


@pytest.fixture
def app(settings: Settings) -> Any:  # noqa: F811
    return create_app(settings)


def person(app: Any, email: str) -> Any:
    client = make_client(app)
    client.user = sign_up(client, email)["user"]
    return client


def derive(client: Any, track_id: str, **body: Any) -> Any:
    return client.post(f"/api/tracks/{track_id}/derive", json=body)


def upload(client: Any, name: str, data: bytes, **fields: Any) -> Any:
    return client.post(ARRANGE, files={"demo": (name, data)}, data=fields)


def engine_error(call: Any) -> str:
    with pytest.raises(InvalidInputError) as e:
        call()
    return str(e.value)


def run_job(settings: Settings, client: Any, job: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    assert job.get("state") == "queued", job
    assert Worker(settings).run(once=True) == 1
    return client.get(f"/api/jobs/{job['id']}").json()


def song_json(client: Any, track_id: str) -> dict[str, Any]:
    return client.get(f"/api/tracks/{track_id}/files/song.json").json()


def demo_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- new versions of one's own song --------------------------------------------------------


def test_new_versions_are_checked_before_anything_is_queued(
    app: Any, ada: Any, sung_song: Path
) -> None:
    from overture.studio import extend, parse_keep, regenerate, restyle

    song = stored_song(app, ada.user["id"], sung_song, SUNG)
    bob = person(app, "bob@example.com")
    bobs = stored_song(app, bob.user["id"], sung_song, SUNG)
    assert bob.post(f"/api/tracks/{bobs}/publish").status_code == 200
    # Signed out, a listener, a track one may not see, and another creator's song.
    assert derive(make_client(app), song, operation="vary").status_code == 401
    lis = person(app, "lis@example.com")
    app.state.services.accounts.set_role("lis@example.com", "listener")
    r = derive(lis, bobs, operation="vary")
    assert r.status_code == 403 and r.json() == {"error": "listeners cannot make songs"}
    assert derive(ada, "nosuchtrack", operation="vary").status_code == 404
    r = derive(bob, song, operation="vary")  # ada's private song
    assert r.status_code == 404 and r.json() == {"error": "no such track"}
    r = derive(ada, bobs, operation="extend", add="chorus")  # bob's public song: remix it
    assert r.status_code == 403 and r.json() == {"error": derive_jobs.NOT_YOURS}

    # What the engine cannot make, in its own words, at once.
    def said(**body: Any) -> str:
        r = derive(ada, song, **body)
        assert r.status_code == 422, (body, r.text)
        return r.json()["error"]

    assert said(operation="extend", to=5) == engine_error(lambda: extend(sung_song, to=5))
    assert said(operation="extend", to=8.5) == engine_error(lambda: extend(sung_song, to=8.5))
    neither = engine_error(lambda: extend(sung_song))
    assert said(operation="extend") == neither
    assert said(operation="extend", add="chorus", to=30) == neither
    assert said(operation="extend", add="chorus solo xyz") == engine_error(
        lambda: extend(sung_song, add="chorus solo xyz")
    )
    many = " ".join(["chorus"] * 64)  # 65 sections with the verse
    assert said(operation="extend", add=many) == engine_error(lambda: extend(sung_song, add=many))
    long = " ".join(["bridge"] * 40)  # well over 15 minutes
    assert said(operation="extend", add=long) == engine_error(lambda: extend(sung_song, add=long))
    assert "would last" in said(operation="extend", add=long)
    missing = engine_error(lambda: regenerate(sung_song, "chorus2"))
    assert said(operation="regenerate", section="chorus2") == missing.replace(
        str(sung_song), "this song"
    )
    assert said(operation="regenerate", section="chorus2") == (
        "no section 'chorus2' in this song (it has verse1)"
    )
    assert said(operation="vary", keep=["melody", "tempo"]) == engine_error(
        lambda: parse_keep(["melody", "tempo"])
    )
    assert said(operation="restyle", style="xyz") == engine_error(lambda: restyle(sung_song, "xyz"))
    assert said(operation="restyle", style="jazz", tempo=500) == engine_error(
        lambda: restyle(sung_song, "jazz", tempo=500)
    )
    assert said(operation="restyle", style="   ") == 'give a style to restyle to (e.g. "jazz trio")'
    # The request's own shape: each operation takes its own fields only.
    for bad in (
        {"operation": "vary", "n": 0},
        {"operation": "vary", "n": 11},
        {"operation": "vary", "keep": "melody"},
        {"operation": "extend", "add": "chorus", "seed": 1},
        {"operation": "extend", "to": -4},
        {"operation": "regenerate"},
        {"operation": "regenerate", "section": "verse1", "seed": -1},
        {"operation": "restyle"},
        {"operation": "remix"},
        {"section": "verse1"},
    ):
        assert derive(ada, song, **bad).status_code == 422, bad
    # A song whose score was not kept cannot be changed.
    scoreless = fake_track(app, ada.user["id"])
    r = derive(ada, scoreless, operation="vary")
    assert r.status_code == 422 and r.json()["error"] == derive_jobs.NOT_DERIVABLE
    assert ada.get("/api/jobs").json()["jobs"] == []  # nothing bad was queued

    # Good requests are queued with their options as the engine takes them.
    r = derive(ada, song, operation="extend", add=" Bridge, chorus ")
    assert r.status_code == 201, r.text
    assert r.json()["options"] == {
        "operation": "extend",
        "source_track_id": song,
        "source_title": "Gentle Folk",
        "add": ["bridge", "chorus"],
    }
    r = derive(ada, song, operation="vary", n=3, keep=["Chords"])
    assert r.status_code == 201
    assert r.json()["options"] == {
        "operation": "vary",
        "source_track_id": song,
        "source_title": "Gentle Folk",
        "keep": ["chords"],
        "n": 3,
        "seed": 0,
    }
    # The per-user limit holds as for every song.
    assert derive(ada, song, operation="regenerate", section="verse1").status_code == 429
    create = ada.get("/create").text
    assert "Extend · Gentle Folk · bridge chorus" in create
    assert "Variations · Gentle Folk · ×3" in create
    # A deleted song is gone.
    assert ada.delete(f"/api/tracks/{song}").status_code == 204
    assert derive(ada, song, operation="vary").status_code == 404


def test_a_songs_sections_are_listed_for_those_who_may_see_it(
    app: Any, ada: Any, sung_song: Path
) -> None:
    song = stored_song(app, ada.user["id"], sung_song, SUNG)
    got = ada.get(f"/api/tracks/{song}/sections").json()
    assert got == {"sections": [{"id": "verse1", "kind": "verse", "start": 0.0, "end": 7.36}]}
    assert make_client(app).get(f"/api/tracks/{song}/sections").status_code == 404
    scoreless = fake_track(app, ada.user["id"])
    assert ada.get(f"/api/tracks/{scoreless}/sections").json() == {"sections": []}


def test_a_repainted_section_and_variations_are_made_and_credited(
    settings: Settings,  # noqa: F811
    database_url: str,  # noqa: F811
    sung_song: Path,
) -> None:
    settings = replace(settings, database_url=database_url)
    app = create_app(settings)
    ada = person(app, "ada@example.com")
    song = stored_song(app, ada.user["id"], sung_song, SUNG)
    source_song = json.loads((sung_song / "song.json").read_text(encoding="utf-8"))

    done = run_job(
        settings, ada, derive(ada, song, operation="regenerate", section="verse1").json()
    )
    assert done["state"] == "succeeded", done
    assert done["log"][:2] == ["starting", "reading the song"]
    assert done["log"][-1] == "storing the files"
    assert done["track_ids"] == [done["track_id"]]
    new = ada.get(done["track_url"]).json()
    assert new["visibility"] == "private" and new["title"] == "Gentle Folk (new verse1)"
    assert new["lyrics"] == SUNG_LYRICS and new["duration"] == pytest.approx(8, abs=0.5)
    # Credited to its source (one's own song), with the engine's lineage and the track ids.
    assert new["source"]["track_id"] == song and new["source"]["creator"] == "ada"
    assert new["source"]["url"] == f"/tracks/{song}"
    written = song_json(ada, new["id"])["lineage"]
    assert written["operation"] == "regenerate" and written["options"]["section"] == "verse1"
    added = {"track_id": song, "creator_id": ada.user["id"], "creator": "ada"}
    assert new["lineage"] == {**written, "parents": [{**written["parents"][0], **added}]}
    assert new["lineage"]["parents"][0]["id"] == source_song["id"]
    page = ada.get(f"/tracks/{new['id']}").text
    assert 'data-operation="regenerate">Repainted from' in page
    assert f'<a href="/tracks/{song}" id="source-link">Gentle Folk</a>' in page
    assert "verse1 written anew" in page and "by ada" not in page  # one's own: no "by"

    # Two takes: two private tracks, both listed by the job, in the library like any other.
    job = derive(ada, song, operation="vary", n=2, keep=["melody"], seed=4).json()
    done = run_job(settings, ada, job)
    assert done["state"] == "succeeded", done
    assert len(done["track_ids"]) == 2 and done["track_id"] == done["track_ids"][0]
    takes = [ada.get(f"/api/tracks/{t}").json() for t in done["track_ids"]]
    assert [t["title"] for t in takes] == ["Gentle Folk (take 1)", "Gentle Folk (take 2)"]
    for i, take in enumerate(takes, 1):
        assert take["visibility"] == "private" and take["source"]["track_id"] == song
        assert take["lineage"]["operation"] == "vary"
        options = take["lineage"]["options"]
        assert options["take"] == i and options["of"] == 2
        assert options["keep"] == ["lyrics", "melody"]  # a sung song keeps its words
        assert take["lineage"] == {
            **song_json(ada, take["id"])["lineage"],
            "parents": [{**song_json(ada, take["id"])["lineage"]["parents"][0], **added}],
        }
    assert "keeping its lyrics, melody · take 2 of 2" in ada.get(f"/tracks/{takes[1]['id']}").text
    library = {t["id"] for t in ada.get("/api/tracks").json()["tracks"]}
    assert library == {song, new["id"], *done["track_ids"]}
    assert all(f'href="/tracks/{t}"' in ada.get("/library").text for t in library)
    # The source's page lists its versions: all three for ada; a published one for everyone.
    page = ada.get(f"/tracks/{song}").text
    assert 'id="versions"' in page and 'id="remixes"' not in page
    assert all(f'href="/tracks/{t}"' in page for t in (new["id"], *done["track_ids"]))
    assert ada.post(f"/api/tracks/{song}/publish").status_code == 200
    assert ada.post(f"/api/tracks/{takes[0]['id']}/publish").status_code == 200
    seen = make_client(app).get(f"/tracks/{song}").text
    assert f'href="/tracks/{takes[0]["id"]}"' in seen and f'href="/tracks/{new["id"]}"' not in seen
    assert ">Versions<" in seen and ">Remixes<" not in seen
    # The take's credit is for good, as a remix's is.
    assert ada.get(f"/api/tracks/{takes[0]['id']}").json()["lineage"] == takes[0]["lineage"]


def test_an_extended_song_keeps_its_bars_and_says_how_it_grew(
    settings: Settings,  # noqa: F811
    sung_song: Path,
) -> None:
    app = create_app(settings)
    ada = person(app, "ada@example.com")
    song = stored_song(app, ada.user["id"], sung_song, SUNG)
    done = run_job(settings, ada, derive(ada, song, operation="extend", add="chorus").json())
    assert done["state"] == "succeeded", done
    longer = ada.get(done["track_url"]).json()
    assert longer["title"] == "Gentle Folk (extended)"
    assert longer["duration"] > 8 + 2  # a chorus of two bars at 75 bpm: 6.4 s more
    assert longer["lineage"]["operation"] == "extend"
    assert longer["lineage"]["options"] == {"add": ["chorus"], "sections": ["chorus1"]}
    assert longer["lineage"]["parents"][0]["track_id"] == song
    # Every note of the source is still there, where it was (the engine's promise).
    source = json.loads((sung_song / "score.json").read_text(encoding="utf-8"))
    score = ada.get(f"/api/tracks/{longer['id']}/files/score.json").json()

    def notes(score: dict[str, Any], end: float) -> set[tuple[Any, ...]]:
        return {
            (p["name"], n[0], round(n[1], 3))  # the last chord is cut at its bar line
            for p in score["parts"]
            for n in p["notes"]
            if n[1] < end
        }

    bars_end = 2 * 4  # the source's two bars, in beats
    assert notes(source, bars_end) <= notes(score, bars_end)
    page = ada.get(f"/tracks/{longer['id']}").text
    assert 'data-operation="extend">Extended from' in page and "with chorus added" in page
    # In Chinese.
    ada.cookies.set("overture_lang", "zh")
    page = ada.get(f"/tracks/{longer['id']}").text
    assert "延长自" in page and "添加了 chorus" in page


def test_a_new_version_whose_song_went_away_fails_in_words(
    app: Any,
    ada: Any,
    settings: Settings,  # noqa: F811
    sung_song: Path,
) -> None:
    svc = app.state.services

    def outcome(before_work: Any) -> dict[str, Any]:
        song = stored_song(app, ada.user["id"], sung_song, SUNG)
        job = derive(ada, song, operation="regenerate", section="verse1").json()
        before_work(song)
        return run_job(settings, ada, job)

    job = outcome(lambda song: ada.delete(f"/api/tracks/{song}"))
    assert job["state"] == "failed" and job["error"] == derive_jobs.DERIVE_WORDS.deleted
    assert job["attempts"] == 1

    def lose(song: str) -> None:
        with svc.tracks.Session() as s:
            svc.storage.delete(s.get(Track, song).extra_files["score.json"])

    job = outcome(lose)
    assert job["state"] == "failed" and job["error"] == derive_jobs.DERIVE_WORDS.no_files


def test_the_studio_is_offered_to_the_songs_creator(app: Any, ada: Any, sung_song: Path) -> None:
    song = stored_song(app, ada.user["id"], sung_song, SUNG)
    page = ada.get(f"/tracks/{song}").text
    assert 'id="derive-form"' in page and f'data-id="{song}"' in page
    for op in ("extend", "regenerate", "restyle", "vary"):
        assert f'name="operation" value="{op}"' in page
    assert '<option value="verse1">verse1 · 0:00–0:07</option>' in page
    assert 'name="keep" value="melody" checked' in page
    assert 'name="keep" value="chords" >' in page
    assert "Open the new version" in page and 'id="remix-form"' not in page
    # Another creator sees the Remix form; a song without a score offers neither.
    assert ada.post(f"/api/tracks/{song}/publish").status_code == 200
    bob = person(app, "bob@example.com").get(f"/tracks/{song}").text
    assert 'id="remix-form"' in bob and 'id="derive-form"' not in bob
    scoreless = fake_track(app, ada.user["id"])
    page = ada.get(f"/tracks/{scoreless}").text
    assert 'id="derive-form"' not in page and 'id="job-panel"' not in page
    # A listener's own song (made before the role changed) offers nothing to make.
    app.state.services.accounts.set_role("ada@example.com", "listener")
    assert 'id="derive-form"' not in ada.get(f"/tracks/{song}").text
    # In Chinese.
    app.state.services.accounts.set_role("ada@example.com", "creator")
    ada.cookies.set("overture_lang", "zh")
    page = ada.get(f"/tracks/{song}").text
    assert "做一个新版本" in page and "重写一段" in page


# -- arranging a demo ------------------------------------------------------------------------


def ten_hour_wav() -> bytes:
    """A WAV header that claims ten hours over a few bytes of data."""
    data = 10 * 3600 * 44100 * 2
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16)
    head = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + fmt
    return head + b"data" + struct.pack("<I", data) + bytes(4000)


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("song.txt", "la la la " * 100)
    return out.getvalue()


def test_demo_uploads_are_checked_before_anything_is_queued(
    app: Any, ada: Any, tmp_path: Path
) -> None:
    from overture.melody_input import read_melody
    from overture.studio import arrange
    from overture.studio.demo_audio import probe_audio

    svc = app.state.services
    midi = midi_demo()
    assert upload(make_client(app), "tune.mid", midi).status_code == 401
    lis = person(app, "lis@example.com")
    app.state.services.accounts.set_role("lis@example.com", "listener")
    r = upload(lis, "tune.mid", midi)
    assert r.status_code == 403 and r.json() == {"error": "listeners cannot make songs"}
    # Without the CSRF header, a multipart body is refused unread.
    r = ada.post(ARRANGE, files={"demo": ("tune.mid", midi)}, headers={"X-CSRF-Token": ""})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]

    def refused(name: str, data: bytes, status: int = 422, **fields: Any) -> str:
        r = upload(ada, name, data, **fields)
        assert r.status_code == status, (name, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json"
        return r.json()["error"]

    # Not a recording nor MIDI, by its name.
    assert refused("notes.txt", b"la la la", 415) == arrange_jobs.not_a_demo("notes.txt")
    assert refused("..\\..\\etc\\passwd", b"root", 415) == arrange_jobs.not_a_demo("passwd")
    # The engine's checks of the file, in its words (it names the file, not where it lay).
    for name, data in (
        ("song.wav", zip_bytes()),  # an archive renamed .wav
        ("long.wav", ten_hour_wav()),  # a header that claims ten hours
        ("empty.wav", b""),
        ("short.wav", wav_demo((60,), beat=1.0)),  # one second
        ("tune.wav", midi),  # MIDI named .wav
        ("hum.mp3", b"\x00" * 5000),  # no audio stream at all
    ):
        path = demo_file(tmp_path, name, data)
        expected = engine_error(lambda: probe_audio(path))  # noqa: B023
        assert refused(name, data) == expected
    assert "looks like a zip archive" in refused("song.wav", zip_bytes())
    assert "36000.0 s" in refused("long.wav", ten_hour_wav())
    bad_midi = b"MThd\x00\x00\x00\x06garbage"
    assert refused("tune.mid", bad_midi) == engine_error(
        lambda: read_melody(demo_file(tmp_path, "tune.mid", bad_midi))
    )
    one_note = midi_demo((60,))
    assert refused("one.mid", one_note) == engine_error(
        lambda: read_melody(demo_file(tmp_path, "one.mid", one_note))
    )
    keep = refused("tune.mid", midi, keep_voice="true")
    assert keep == engine_error(
        lambda: arrange(demo_file(tmp_path, "tune.mid", midi), keep_voice=True)
    )
    assert refused("tune.mid", midi, prompt="pop", duration="0.5").startswith("duration:")
    assert refused("tune.mid", midi, seed="-1").startswith("seed:")
    assert refused("tune.mid", midi, think="lots").startswith("think:")
    assert refused("tune.mid", midi, tempo="90").startswith("tempo:")  # not a field here
    # The request's shape.
    r = ada.post(ARRANGE, json={"prompt": "pop"})
    assert r.status_code == 415 and r.json()["error"] == arrange_jobs.NOT_MULTIPART
    r = ada.post(ARRANGE, data={"prompt": "pop"}, files={"other": ("a.mid", midi)})
    assert r.status_code == 422
    r = ada.post(ARRANGE, files=[("demo", ("a.mid", midi)), ("demo", ("b.mid", midi))])
    assert r.status_code == 400 and "Too many files" in r.json()["error"]
    r = ada.post(ARRANGE, files={"prompt": (None, "pop")})
    assert r.status_code == 422 and r.json()["error"] == arrange_jobs.NO_DEMO
    assert ada.get("/api/jobs").json()["jobs"] == []  # nothing bad was queued
    with svc.tracks.Session() as s:
        assert s.query(MediaObject).count() == 0  # nor stored

    # A good one: stored under its key, queued with what the engine needs.
    r = upload(ada, "My Tune (v2).MID", midi, prompt=" jazz piano ", seed="3", keep_voice="")
    assert r.status_code == 201, r.text
    key = hashlib.sha256(midi).hexdigest()
    assert r.json()["options"] == {
        "operation": "arrange",
        "prompt": "jazz piano",
        "keep_voice": False,
        "seed": 3,
        "demo_key": key,
        "demo_name": "My Tune _v2_.mid",
        "demo_kind": "midi",
        "demo_notes": 8,
    }
    assert svc.storage.exists(key)
    with svc.tracks.Session() as s:
        assert s.get(MediaObject, key).content_type == "audio/midi"
    assert "Arrange · My Tune _v2_.mid · jazz piano" in ada.get("/create").text
    # The per-user limit is checked before the upload is read.
    assert upload(ada, "tune.mid", midi).status_code == 201
    r = upload(ada, "tune.mid", midi)
    assert r.status_code == 429 and r.json()["limit"] == 2


def test_file_names_are_made_plain() -> None:
    plain = arrange_jobs.safe_name
    assert plain("C:\\Users\\ada\\hum.WAV") == "hum.wav"
    assert plain("../../hum.wav") == "hum.wav"
    assert plain("哼唱 1.m4a") == "哼唱 1.m4a"
    assert plain("a\x00b;rm -rf.mid") == "a_b_rm -rf.mid"
    assert plain(".wav") == "wav" and plain("...") == "demo" and plain(None) == "demo"
    assert plain("x" * 300 + ".flac") == "x" * 80 + ".flac"
    with pytest.raises(ValueError):
        arrange_jobs.ArrangeOptions(demo_key="0" * 64, demo_name="../x.wav", demo_kind="audio")


DISCONNECT = b"(the client went away)"


def asgi_post(app: Any, client: Any, path: str, headers: dict[str, str], chunks: Any) -> Any:
    """POST a body to ``app`` chunk by chunk, straight through ASGI (the test client reads a
    body whole before it sends it): (status, JSON body, chunks the app read)."""
    sent: list[Any] = []
    read = 0
    cookies = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    raw = {**headers, "cookie": cookies, "x-csrf-token": client.headers["X-CSRF-Token"]}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in raw.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    source = iter(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        if chunk is DISCONNECT:
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), read


def test_an_upload_over_the_limit_is_refused_before_it_is_read_whole(
    settings: Settings,  # noqa: F811
) -> None:
    limit = 1024 * 1024
    app = create_app(replace(settings, max_upload_bytes=limit))
    ada = person(app, "ada@example.com")
    message = {"error": "the demo is too large: at most 1 MB"}
    # The declared length: refused at once.
    big = wav_demo(seconds=40, pitches=None)  # 1.3 MB
    r = upload(ada, "big.wav", big)
    assert r.status_code == 413 and r.json() == message
    # No length declared (chunked): counted as it streams, and refused part-way.
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="demo"; filename="big.wav"'
        "\r\nContent-Type: audio/wav\r\n\r\n"
    ).encode()
    total = 1000  # 64 MB, if it were all read

    def body() -> Any:
        yield head
        for _ in range(total):
            yield bytes(64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    ctype = {"content-type": f"multipart/form-data; boundary={boundary}"}
    status, got, read = asgi_post(app, ada, ARRANGE, ctype, body())
    assert status == 413 and got == message
    assert read < 20  # about 1 MB of the 64 read, no more
    # The same, declaring a small length but sending more: the count is what holds.
    lying = {**ctype, "content-length": "1000"}
    status, got, read = asgi_post(app, ada, ARRANGE, lying, body())
    assert status == 413 and read < 20
    # A client that goes away part-way.
    cut = iter([head, bytes(1000), DISCONNECT])
    status, got, _ = asgi_post(app, ada, ARRANGE, ctype, cut)
    assert status == 400 and got == {"error": "the upload was cut off before it ended"}
    # Just under the limit streams in whole and is judged by the engine.
    small = wav_demo()  # 4.8 s of tune, 150 kB
    parts = [head, small, f"\r\n--{boundary}--\r\n".encode()]
    status, got, _ = asgi_post(app, ada, ARRANGE, ctype, iter(parts))
    assert status == 201, got
    assert got["options"]["demo_kind"] == "audio" and got["options"]["demo_name"] == "big.wav"
    assert got["options"]["demo_seconds"] == pytest.approx(4.8)
    # Nothing refused was stored.
    with app.state.services.tracks.Session() as s:
        assert [m.key for m in s.query(MediaObject)] == [hashlib.sha256(small).hexdigest()]


def test_a_midi_demo_is_arranged_end_to_end(
    settings: Settings,  # noqa: F811
    database_url: str,  # noqa: F811
) -> None:
    settings = replace(settings, database_url=database_url)
    app = create_app(settings)
    ada = person(app, "ada@example.com")
    midi = midi_demo()
    job = upload(ada, "tune.mid", midi, prompt="jazz piano trio", seed="2", think="none").json()
    done = run_job(settings, ada, job)
    assert done["state"] == "succeeded", done
    assert done["log"][:2] == ["starting", "reading the demo"]
    song = ada.get(done["track_url"]).json()
    assert song["prompt"] == "jazz piano trio" and song["genre"] == "jazz"
    assert song["visibility"] == "private" and song["source"] is None and song["seed"] == 2
    # The melody sets the length: eight beats at 100 bpm, two bars.
    assert song["duration"] == pytest.approx(5.2, abs=0.5) and song["tempo"] == 100
    lineage = song["lineage"]
    assert lineage == song_json(ada, song["id"])["lineage"]
    assert lineage["operation"] == "arrange"
    assert lineage["parents"] == [
        {"kind": "demo", "file": "tune.mid", "sha256": hashlib.sha256(midi).hexdigest()}
    ]
    assert lineage["options"]["notes"] == 8 and lineage["options"]["keep_voice"] is False
    # Its notes are the demo's, as the lead.
    score = ada.get(f"/api/tracks/{song['id']}/files/score.json").json()
    leads = [p for p in score["parts"] if p["name"] == "lead"]
    assert [n[0] for n in leads[0]["notes"]] == [60, 62, 64, 65, 67, 65, 64, 62]
    page = ada.get(f"/tracks/{song['id']}").text
    assert 'data-operation="arrange">Arranged from a demo' in page
    assert '<span class="how">tune.mid</span>' in page
    assert song["id"] in {t["id"] for t in ada.get("/api/tracks").json()["tracks"]}


def test_a_demo_outlives_a_killed_worker(settings: Settings) -> None:  # noqa: F811
    settings = replace(settings, lease_seconds=1)
    app = create_app(settings)
    ada = person(app, "ada@example.com")
    job = upload(ada, "tune.mid", midi_demo(), think="none").json()
    svc = app.state.services
    # A worker takes the job and dies with it (its temporary folders are gone with it).
    assert svc.queue.claim("dead-worker") is not None
    time.sleep(1.2)
    done = run_job(settings, ada, {**job, "state": "queued"})
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    # The bytes lost from the store: a clear failure.
    job = upload(ada, "other.mid", midi_demo((67, 65, 64, 62)), think="none").json()
    svc.storage.delete(job["options"]["demo_key"])
    done = run_job(settings, ada, job)
    assert done["state"] == "failed" and done["error"] == arrange_jobs.DEMO_GONE


def transcriber() -> Any:
    """``overture.studio.transcribe`` if it can be imported here (someone else's work in
    progress when this was written); the test is skipped otherwise."""
    try:
        from overture.studio import transcribe
    except ImportError as e:
        pytest.skip(f"overture.studio.transcribe cannot be imported yet: {e}")
    return transcribe


def test_a_recorded_demo_is_arranged_end_to_end(settings: Settings) -> None:  # noqa: F811
    transcriber()
    app = create_app(settings)
    ada = person(app, "ada@example.com")
    hum = wav_demo()
    r = upload(ada, "hum.wav", hum, prompt="lo-fi hip hop", think="none")
    assert r.status_code == 201, r.text
    assert r.json()["options"]["demo_seconds"] == pytest.approx(4.8)
    done = run_job(settings, ada, r.json())
    assert done["state"] == "succeeded", done
    assert "transcribing the demo" in done["log"]
    song = ada.get(done["track_url"]).json()
    lineage = song["lineage"]
    assert lineage["operation"] == "arrange"
    assert lineage["options"]["method"] in transcriber().available_methods()
    assert lineage["options"]["notes"] == 8
    assert lineage["parents"][0] == {
        "kind": "demo",
        "file": "hum.wav",
        "sha256": hashlib.sha256(hum).hexdigest(),
        "seconds": pytest.approx(4.8, abs=0.01),
    }
    # With the voice kept: the recording is the lead stem, and the page says so.
    r = upload(ada, "hum.wav", hum, keep_voice="on", think="none")
    assert r.status_code == 201 and r.json()["options"]["keep_voice"] is True
    done = run_job(settings, ada, r.json())
    assert done["state"] == "succeeded", done
    kept = ada.get(done["track_url"]).json()
    assert kept["lineage"]["options"]["keep_voice"] is True
    assert "stems/lead.flac" in {f["name"] for f in kept["files"]}
    assert "tune.mid" not in ada.get(f"/tracks/{kept['id']}").text
    assert "hum.wav · with the recorded voice</span>" in ada.get(f"/tracks/{kept['id']}").text


@pytest.mark.parametrize("kind", ["silence", "noise"])
def test_a_demo_without_a_tune_fails_in_the_engines_words(
    settings: Settings,  # noqa: F811
    tmp_path: Path,
    kind: str,
) -> None:
    transcribe = transcriber()
    app = create_app(settings)
    ada = person(app, "ada@example.com")
    data = wav_demo(None, seconds=3, noise=kind == "noise")
    name = f"{kind}.wav"
    r = upload(ada, name, data)  # its header is fine: it is queued
    assert r.status_code == 201, r.text
    done = run_job(settings, ada, r.json())
    expected = engine_error(lambda: transcribe.transcribe(demo_file(tmp_path, name, data)))
    assert done["state"] == "failed" and done["error"] == expected and done["attempts"] == 1
    assert ("is silent" if kind == "silence" else "has no melody in it") in expected
    assert ada.get("/api/tracks").json()["tracks"] == []


def test_the_upload_limit_is_configured_in_megabytes(tmp_path: Path) -> None:
    env = {"OVERTURE_DATA_DIR": str(tmp_path), "OVERTURE_SECRET_KEY": "x"}
    assert Settings.from_env(env).max_upload_bytes == 25 * 2**20
    assert Settings.from_env({**env, "OVERTURE_MAX_UPLOAD_MB": "2.5"}).max_upload_bytes == int(
        2.5 * 2**20
    )
    with pytest.raises(InvalidInputError):
        Settings.from_env({**env, "OVERTURE_MAX_UPLOAD_MB": "lots"})


def test_the_create_page_offers_a_demo_to_arrange(app: Any, ada: Any) -> None:
    page = ada.get("/create").text
    assert 'id="arrange-form"' in page and 'name="demo"' in page and 'accept=".wav,' in page
    assert 'data-max="26214400"' in page and "at most 25 MB" in page
    assert 'name="keep_voice"' in page and 'id="mode-demo"' in page
    ada.cookies.set("overture_lang", "zh")
    assert "用小样" in ada.get("/create").text
    lis = person(app, "lis@example.com")
    app.state.services.accounts.set_role("lis@example.com", "listener")
    assert 'id="arrange-form"' not in lis.get("/create").text


# -- migration 0005 --------------------------------------------------------------------------


def test_migration_0005_lists_a_jobs_tracks(database_url: str) -> None:  # noqa: F811
    from overture.app.db import alembic_command
    from overture.app.jobs.queue import JobQueue
    from overture.app.views import job_view

    engine = make_engine(database_url)

    alembic_command(engine, "upgrade", "0004")
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
                "extra_files, created_at) VALUES ('t1', 1, 'Old', '', 'private', :k, '{}', "
                "'{}', CURRENT_TIMESTAMP)"
            ),
            {"k": "0" * 64},
        )
        conn.execute(
            text(
                "INSERT INTO jobs (id, user_id, options, state, progress, attempts, "
                "cancel_requested, track_id, created_at, publish) VALUES ('j1', 1, '{}', "
                "'succeeded', 1.0, 1, false, 't1', CURRENT_TIMESTAMP, false)"
            )
        )
    alembic_command(engine, "upgrade", "head")
    job = JobQueue(engine).get("j1")
    assert job is not None and job.track_ids is None
    assert job_view(job)["track_ids"] == ["t1"]  # an older job's one track
    alembic_command(engine, "downgrade", "0004")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT track_id FROM jobs")).scalar() == "t1"
    alembic_command(engine, "upgrade", "head")
    engine.dispose()
