"""The service's commands, and the rule that the song engine never depends on the app."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from overture.cli import main

SRC = Path(__file__).resolve().parents[1] / "src" / "overture"


def test_the_engine_never_imports_the_app() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+overture\.app\b", re.MULTILINE)
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "app" not in p.relative_to(SRC).parts[:1]
        and p.name != "cli.py"
        and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_cli_loads_the_app_only_for_its_commands() -> None:
    code = "import sys, overture.cli; print(any(m.startswith('overture.app') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_worker_once_on_an_empty_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OVERTURE_DATABASE_URL", raising=False)
    monkeypatch.delenv("OVERTURE_REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "0 job(s) handled" in result.output
    assert (tmp_path / "data" / "overture.db").exists()  # made on demand
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def test_bad_settings_are_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERTURE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OVERTURE_MAX_JOBS_PER_USER", "lots")
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 2
    assert "OVERTURE_MAX_JOBS_PER_USER must be a number" in result.output


def test_serve_and_worker_are_listed() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    assert "serve" in out and "worker" in out
    assert "--port" in CliRunner().invoke(main, ["serve", "--help"]).output


def _serve_command(
    tmp_path: Path, *options: str, port: int | None = None
) -> tuple[int, list[str], dict[str, str]]:
    """(port, command, environment) of ``overture serve`` on a free port (or ``port``), on
    SQLite and files under ``tmp_path`` and the small test soundfont."""
    import os

    from app_fixtures import SMALL_SOUNDFONT, free_port

    port = free_port() if port is None else port
    env = {
        **os.environ,
        "OVERTURE_DATA_DIR": str(tmp_path / "data"),
        "OVERTURE_SOUNDFONT": str(SMALL_SOUNDFONT),
    }
    env.pop("OVERTURE_DATABASE_URL", None)
    env.pop("OVERTURE_REDIS_URL", None)
    exe = Path(sys.executable).with_name("overture")
    return port, [str(exe), "serve", "--port", str(port), *options], env


class _Served:
    """``overture serve`` in a child process, its output read as it comes (a pipe nobody
    reads would stall the server once full) and kept to show when a check fails."""

    def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
        import threading

        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self.lines.append("<exit>")
            self._seen.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        with self._seen:
            return self._seen.wait_for(
                lambda: any(text in line for line in self.lines) or "<exit>" in self.lines,
                timeout,
            ) and any(text in line for line in self.lines)

    def output(self) -> str:
        return "".join(self.lines)


def test_serve_with_workers_and_the_demo_catalog(tmp_path: Path) -> None:
    """What ``make run`` does: the server and a worker start, the URL is printed once it
    answers, the demo catalog fills in as songs are made, a Ctrl-C lets the song being made
    finish, and a second start queues nothing more."""
    import signal
    import time

    import httpx

    from overture.app.demo import DEMO_SONGS

    port, cmd, env = _serve_command(tmp_path, "--workers", "1", "--demo")
    served = _Served(cmd, env)
    try:
        assert served.wait_for("Overture is running at", 120), served.output()
        # Said only once it answers: the page is there at once.
        home = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept": "text/html"})
        assert home.status_code == 200
        assert f"Overture is running at http://localhost:{port}/" in served.output()
        assert f"{len(DEMO_SONGS)} demo songs queued" in served.output()
        public: list = []
        end = time.monotonic() + 120
        while len(public) < 2 and time.monotonic() < end:
            time.sleep(0.5)
            public = httpx.get(f"http://127.0.0.1:{port}/api/catalog/tracks").json()
        assert len(public) >= 2 and all(t["creator"] == "Overture Studio" for t in public)
        home = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept": "text/html"})
        assert home.status_code == 200 and public[0]["title"] in home.text
    finally:
        served.proc.send_signal(signal.SIGINT)
        rc = served.proc.wait(120)
    assert rc == 0, served.output()
    served = _Served(cmd, env)
    try:
        assert served.wait_for("Overture is running at", 120), served.output()
        assert "demo songs queued" not in served.output()
    finally:
        served.proc.send_signal(signal.SIGINT)
        rc = served.proc.wait(120)
    assert rc == 0, served.output()


def test_serve_stops_at_once_on_a_second_ctrl_c(tmp_path: Path) -> None:
    """A person in a hurry: the first Ctrl-C asks the workers to finish their song, the
    second stops them now, every process they started included, and the exit is clean."""
    import signal
    import time

    _, cmd, env = _serve_command(tmp_path, "--workers", "2", "--demo")
    served = _Served(cmd, env)
    try:
        assert served.wait_for("Overture is running at", 120), served.output()
        # Both workers are making a demo song (8 are queued).
        assert served.wait_for("attempt 1 on", 120), served.output()
        workers = _descendants(served.proc.pid)
        assert len(workers) >= 2, served.output()
        served.proc.send_signal(signal.SIGTERM)  # as a service manager stops it
        assert served.wait_for("Stopping: a song being made is finished first", 30), served.output()
        served.proc.send_signal(signal.SIGTERM)
        rc = served.proc.wait(60)
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
    assert rc == 0, served.output()
    end = time.monotonic() + 10  # the last of them may take a moment to be gone
    while (left := [p for p in workers if _alive(p)]) and time.monotonic() < end:
        time.sleep(0.1)
    assert left == [], served.output()


def _descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serve_on_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    _, cmd, env = _serve_command(tmp_path, "--workers", "1", port=port)
    try:
        out = subprocess.run(
            cmd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(choose another --port or --host)"
    ]
    assert not (tmp_path / "data").exists()  # nothing made before the error


def _stubborn_worker() -> None:
    """A worker that makes its own group, starts a helper process and will not stop on
    SIGTERM (a song that takes longer than the grace)."""
    import os
    import signal
    import time

    os.setpgrp()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    time.sleep(120)


def test_workers_past_their_grace_are_stopped_with_what_they_started() -> None:
    import multiprocessing
    import time

    from overture.app.serving import stop_workers

    child = multiprocessing.get_context("fork").Process(target=_stubborn_worker)
    child.start()
    assert child.pid is not None
    end = time.monotonic() + 30
    while not (helpers := _descendants(child.pid)) and time.monotonic() < end:
        time.sleep(0.05)
    assert helpers
    said: list[str] = []
    stop_workers(child, grace=1.5, on_stopping=lambda: said.append("stopping"))
    assert said == ["stopping"] and not child.is_alive()
    end = time.monotonic() + 10
    while (left := [p for p in helpers if _alive(p)]) and time.monotonic() < end:
        time.sleep(0.05)
    assert left == []
