"""Fixtures of the web service's tests: databases on SQLite and PostgreSQL, Redis, an app
with signed-in clients, and tracks made without running the engine.

PostgreSQL: the server on 127.0.0.1:5432 when one answers (trust authentication, user
``postgres``), else a throwaway cluster made with ``initdb`` and started with ``pg_ctl`` on a
free port in a temporary folder, stopped when the tests end. PostgreSQL refuses to run as
root, so as root the cluster belongs to the ``postgres`` system user (created when missing)
and its commands run through ``runuser``. Redis: 127.0.0.1:6379 when it answers, else a
``redis-server`` on a free port. ``OVERTURE_TEST_OWN_SERVERS=1`` always starts private ones.
Each test gets a database of its own (``CREATE DATABASE``), so tests never see each other's rows.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from overture.app.settings import Settings

SMALL_SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
OWN_SERVERS = os.environ.get("OVERTURE_TEST_OWN_SERVERS") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


def _wait_for(port: int, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if _answers(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


# -- PostgreSQL -----------------------------------------------------------------------


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres(cmd: list[str]) -> list[str]:
    """``cmd`` run as the ``postgres`` system user when we are root (initdb and postgres
    refuse to run as root); as it is otherwise."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@dataclass
class PgServer:
    port: int
    folder: Path | None = None  # set when the tests started it

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.folder is None:
            return
        pg_ctl = _pg_bin("pg_ctl")
        if pg_ctl:
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(self.folder / "data"), "-m", "fast", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


def _start_postgres() -> PgServer:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (scripts/setup.sh installs it)")
    folder = Path(tempfile.mkdtemp(prefix="overture-pg-"))
    if os.geteuid() == 0:
        if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        shutil.chown(folder, "postgres")
    folder.chmod(0o700)
    data = folder / "data"
    port = free_port()
    subprocess.run(
        _as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_postgres(
            [pg_ctl, "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    server = PgServer(port, folder)
    atexit.register(server.stop)
    _wait_for(port)
    return server


_servers: dict[str, Any] = {}


def postgres_server() -> PgServer:
    """One PostgreSQL server for the whole test run."""
    if "pg" not in _servers:
        server = PgServer(5432)
        try:
            if OWN_SERVERS or not _answers(5432):
                raise OSError("start our own")
            server.admin().close()
        except Exception:
            server = _start_postgres()
        _servers["pg"] = server
    return _servers["pg"]


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    server = postgres_server()
    name = f"overture_test_{uuid.uuid4().hex[:12]}"
    with server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.url(name)
    finally:
        with server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- Redis ----------------------------------------------------------------------------


def redis_server_url() -> str:
    """A Redis for the whole test run: the local one, or a private ``redis-server``."""
    if "redis" not in _servers:
        if not OWN_SERVERS and _answers(6379):
            _servers["redis"] = "redis://127.0.0.1:6379/0"
        else:
            exe = shutil.which("redis-server")
            if exe is None:
                pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
            port = free_port()
            proc = subprocess.Popen(
                [
                    exe,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

            def stop() -> None:
                proc.terminate()
                proc.wait(10)

            atexit.register(stop)
            _wait_for(port)
            _servers["redis"] = f"redis://127.0.0.1:{port}/0"
    return _servers["redis"]


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'overture.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings of a test: SQLite and media in a temporary folder, the small soundfont, one
    render process, quick leases and polling."""
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        lease_seconds=5,
        poll_seconds=0.05,
        progress_seconds=0.05,
        render_workers=1,
        soundfont=SMALL_SOUNDFONT,
    )


def make_client(app: Any, *, https: bool = False) -> Any:
    """A test client of ``app`` (over https when asked: secure cookies)."""
    with warnings.catch_warnings():  # Starlette asks for httpx2, not yet on every mirror
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    return TestClient(app, base_url="https://testserver" if https else "http://testserver")


def sign_up(client: Any, email: str, password: str = "correct horse") -> dict[str, Any]:
    """Sign ``client`` up; from then on it sends the CSRF token as a header."""
    r = client.post("/api/signup", json={"email": email, "password": password})
    assert r.status_code == 201, r.text
    body = r.json()
    client.headers["X-CSRF-Token"] = body["csrf_token"]
    return body


def fake_track(app: Any, owner_id: int, *, audio: bytes | None = None) -> str:
    """A track stored as the worker would store one, from made-up bytes (no engine run)."""
    from overture.app.tracks.service import add_media, new_track

    svc = app.state.services
    files = {
        "song.flac": audio if audio is not None else b"fLaC" + bytes(range(256)) * 40,
        "stems/drums.flac": b"fLaC drums",
        "song.mid": b"MThd midi",
        "song.musicxml": b"<score-partwise/>",
        "song.json": b'{"title": "Test Song"}',
    }
    keys = {name: svc.storage.put(data) for name, data in files.items()}
    song = {"title": "Test Song", "seed": 3, "spec": {"genre": "pop", "tempo": 120.0}}
    with svc.queue.Session.begin() as s:
        add_media(s, svc.storage, keys)
        track = new_track(owner_id, {"prompt": "pop"}, keys, song)
        s.add(track)
        s.flush()
        return track.id


def stored_song(app: Any, owner_id: int, folder: Path, options: dict[str, Any]) -> str:
    """A track from a real song folder (made by the engine), stored as the worker stores
    one, without running a job; ``options`` are the job options it was made with."""
    from overture.app.tracks.service import add_media, new_track, read_song_json, store_folder

    svc = app.state.services
    keys = store_folder(svc.storage, folder)
    with svc.queue.Session.begin() as s:
        add_media(s, svc.storage, keys)
        track = new_track(owner_id, options, keys, read_song_json(folder))
        s.add(track)
        s.flush()
        return track.id


def midi_demo(pitches: tuple[int, ...] = (60, 62, 64, 65, 67, 65, 64, 62), bpm: int = 100) -> bytes:
    """A MIDI demo: a tune of quarter notes (one track, a tempo), as bytes."""
    import io

    import mido

    mid = mido.MidiFile()
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm)))
    for pitch in pitches:
        track.append(mido.Message("note_on", note=pitch, velocity=90, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=mid.ticks_per_beat))
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def wav_demo(
    pitches: tuple[int, ...] | None = (60, 62, 64, 65, 67, 65, 64, 62),
    *,
    beat: float = 0.6,
    seconds: float = 3.0,
    noise: bool = False,
    rate: int = 16000,
) -> bytes:
    """A 16-bit mono WAV demo: a hummed-like tune (each note a tone with two overtones, a
    short gap between notes), or with ``pitches=None`` silence (``seconds`` long), or with
    ``noise`` white noise (unpitched)."""
    import io
    import wave

    import numpy as np

    if pitches is None:
        n = int(rate * seconds)
        x = 0.3 * np.random.default_rng(0).standard_normal(n) if noise else np.zeros(n)
    else:
        t = np.arange(int(rate * beat)) / rate
        env = np.clip(np.minimum(t / 0.02, (beat - 0.08 - t) / 0.02), 0, 1)
        notes = []
        for p in pitches:
            f = 440 * 2 ** ((p - 69) / 12)
            tone = sum(a * np.sin(2 * np.pi * f * k * t) for k, a in ((1, 1), (2, 0.5), (3, 0.25)))
            notes.append(0.4 * env * tone)
        x = np.concatenate(notes)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()
