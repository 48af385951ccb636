"""Bad input at the command line: one clear line on stderr, a non-zero exit, nothing left."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from overture.cli import main


def _run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "0"], "duration 0 s is outside 1-900 s"),
        (["--duration", "901"], "duration 901 s is outside 1-900 s"),
        (["--tempo", "29"], "tempo 29 bpm is outside 30-300 bpm"),
        (["--tempo", "301"], "tempo 301 bpm is outside 30-300 bpm"),
        (["--key", "H major"], "unknown key: 'H major'"),
        (["--time-signature", "5/3"], "unknown time signature: '5/3'"),
        (["--format", "flac,aiff"], "unknown audio format 'aiff'"),
        (["--soundfont", "/nonexistent/x.sf2"], "/nonexistent/x.sf2"),
        (["--instruments", "theremin-ish"], "no known instrument"),
    ],
)
def test_bad_options_fail_cleanly(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "song"
    code, _, stderr = _run(["generate", "pop song", "--out", str(out), *args])
    assert code != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_out_of_range_values_in_the_prompt_are_refused(tmp_path: Path) -> None:
    code, _, stderr = _run(["generate", "pop at 1000 bpm", "--out", str(tmp_path / "s")])
    assert code != 0 and "tempo 1000 bpm is outside" in stderr
    assert list(tmp_path.iterdir()) == []


def test_non_empty_out_is_refused_without_force(tmp_path: Path) -> None:
    out = tmp_path / "song"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, stderr = _run(["generate", "pop", "--out", str(out)])
    assert code != 0 and "not empty" in stderr and "--force" in stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song"]


def test_unwritable_out_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, stderr = _run(["generate", "pop", "--out", str(blocker / "song")])
    assert code != 0 and stderr.startswith("error: cannot write to")
    code, _, stderr = _run(["generate", "pop", "--out", str(blocker)])
    assert code != 0 and "not a folder" in stderr
    assert blocker.read_text() == "x"


def test_help_on_every_command() -> None:
    code, stdout, _ = _run(["--help"])
    assert code == 0 and "generate" in stdout
    code, stdout, _ = _run(["generate", "--help"])
    assert code == 0
    for option in [
        "--duration",
        "--tempo",
        "--key",
        "--time-signature",
        "--seed",
        "--out",
        "--format",
        "--soundfont",
        "--force",
    ]:
        assert option in stdout
