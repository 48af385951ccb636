from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


@pytest.fixture(scope="session")
def small_soundfont() -> Path:
    """The small TimGM6mb soundfont keeps rendering tests fast."""
    if not TIMGM.exists():
        pytest.fail("timgm6mb-soundfont is not installed: run `make test`, which installs it")
    return TIMGM


@pytest.fixture(autouse=True)
def _no_user_soundfont(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own OVERTURE_SOUNDFONT must not change what the tests hear.
    if "OVERTURE_SOUNDFONT" in os.environ:
        monkeypatch.delenv("OVERTURE_SOUNDFONT")


@pytest.fixture(scope="session", autouse=True)
def _private_soundfont_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Decoded soundfont samples go to a folder of the test session, not the user's cache.
    os.environ["OVERTURE_CACHE_DIR"] = str(tmp_path_factory.mktemp("overture-cache"))


@pytest.fixture
def ada(app: Any) -> Any:
    """A signed-in test client of the module's ``app`` fixture (the web service's tests),
    with the CSRF header set and ``.user`` holding Ada's account."""
    from app_fixtures import make_client, sign_up

    client = make_client(app)
    client.user = sign_up(client, "ada@example.com")["user"]
    return client


SUNG_PROMPT = "gentle folk"
SUNG_LYRICS = "[Verse]\nRiver running to the sea\nCarry all my songs with me\n"


@pytest.fixture(scope="session")
def sung_song(tmp_path_factory: pytest.TempPathFactory, small_soundfont: Path) -> Path:
    """A real, short sung song folder made once by the engine (about 4 s), for the web
    service's remix tests to store as a track (``app_fixtures.stored_song``)."""
    from overture.lyrics import parse_lyrics
    from overture.pipeline import generate

    out = tmp_path_factory.mktemp("sung") / "song"
    generate(
        SUNG_PROMPT,
        lyrics=parse_lyrics(SUNG_LYRICS),
        duration=8,
        think="none",
        seed=1,
        out=out,
        soundfont=small_soundfont,
        workers=1,
    )
    return out


@pytest.fixture(scope="session")
def transcribe_bench() -> ModuleType:
    """``bench/transcribe.py``, which makes demo recordings with known notes (played by the
    synthesiser, sung by the engine's voice) and scores transcriptions of them."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "bench" / "transcribe.py"
    spec = importlib.util.spec_from_file_location("bench_transcribe", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_transcribe"] = module
    spec.loader.exec_module(module)
    return module
