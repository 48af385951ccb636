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
