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


def test_serve_with_workers_and_the_demo_catalog(tmp_path: Path) -> None:
    """What ``make run`` does: the server and a worker start, the URL is printed, the demo
    catalog fills in as songs are made, and a second start queues nothing more."""
    import os
    import signal
    import time

    import httpx

    from app_fixtures import SMALL_SOUNDFONT, free_port
    from overture.app.demo import DEMO_SONGS

    port = free_port()
    env = {
        **os.environ,
        "OVERTURE_DATA_DIR": str(tmp_path / "data"),
        "OVERTURE_SOUNDFONT": str(SMALL_SOUNDFONT),
    }
    env.pop("OVERTURE_DATABASE_URL", None)
    env.pop("OVERTURE_REDIS_URL", None)
    exe = Path(sys.executable).with_name("overture")
    cmd = [str(exe), "serve", "--port", str(port), "--workers", "1", "--demo"]

    def start() -> tuple[subprocess.Popen[str], list[str]]:
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Overture is running at" in line:
                return proc, lines
        raise AssertionError("".join(lines))

    proc, lines = start()
    try:
        assert f"http://localhost:{port}/" in lines[-1]
        assert any(f"{len(DEMO_SONGS)} demo songs queued" in line for line in lines)
        public: list = []
        end = time.monotonic() + 120
        while len(public) < 2 and time.monotonic() < end:
            time.sleep(0.5)
            public = httpx.get(f"http://127.0.0.1:{port}/api/catalog/tracks").json()
        assert len(public) >= 2 and all(t["creator"] == "Overture Studio" for t in public)
        home = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept": "text/html"})
        assert home.status_code == 200 and public[0]["title"] in home.text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(90)
    proc, lines = start()
    try:
        assert not any("demo songs queued" in line for line in lines)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(90) == 0
