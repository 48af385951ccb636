"""The web app end to end in headless Chromium (Debian's, driven by Playwright; never a
browser download): sign up, make a song and watch it think, play it (the audio advances),
seek (answered 206), change pages while it plays, download its MIDI; and the pages in
Chinese and at a phone's width. Screenshots go to ``test-artifacts/`` to be looked at."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app_fixtures import free_port, settings  # noqa: F401  (settings: a fixture)
from overture.app.jobs.worker import Worker
from overture.app.settings import Settings
from overture.app.web import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:  # noqa: F811
    """The app on a free port and a worker beside it, both in this process."""
    import uvicorn

    settings = replace(settings, lease_seconds=30)
    app = create_app(settings)
    port = free_port()
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    web_thread = threading.Thread(target=web.run, daemon=True)
    web_thread.start()
    svc = app.state.services
    worker = Worker(settings, queue=svc.queue, storage=svc.storage)
    work_thread = threading.Thread(target=worker.run, daemon=True)
    work_thread.start()
    end = time.monotonic() + 20
    while not web.started and time.monotonic() < end:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    worker.stopping.set()
    web.should_exit = True
    work_thread.join(60)
    web_thread.join(10)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/setup.sh"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def audio_time(page: Any) -> float:
    return float(page.evaluate("document.querySelector('#audio').currentTime"))


def test_sign_up_make_play_seek_browse_and_download(server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    ranges: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: (
            ranges.append((r.status, r.request.headers.get("range", "")))
            if r.url.endswith("/audio")
            else None
        ),
    )
    # Sign up: the form goes on to the create page.
    page.goto(f"{server}/signup?next=/create")
    page.fill("input[name=display_name]", "Ada")
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(f"{server}/create")
    assert page.locator(".account .me").inner_text() == "Ada"

    # Make a song and watch it: the state, then the engine's drafts and verdicts.
    page.fill("textarea[name=prompt]", "upbeat pop song, piano")
    page.fill("input[name=duration]", "16")
    page.select_option("select[name=think]", "low")
    page.click("#create-submit")
    page.wait_for_selector("#job-panel:not([hidden])")
    page.wait_for_selector("#job-log li.kept", timeout=90_000)
    page.wait_for_selector("#job-open:not([hidden])", timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / "create-done.png"), full_page=True)
    log = page.locator("#job-log li").all_inner_texts()
    assert any(line.startswith("drafting ") for line in log)
    assert any(" draft 1: " in line for line in log)
    assert page.locator("#job-state").inner_text() == "Done"
    assert page.url == f"{server}/create"  # the form was sent to the API, not as a page
    assert page.input_value("textarea[name=prompt]") == "upbeat pop song, piano"
    assert not page.is_visible("#job-cancel")
    job = page.evaluate("fetch('/api/jobs').then(r => r.json())")["jobs"][0]
    assert job["options"] == {
        "prompt": "upbeat pop song, piano",
        "duration": 16,
        "think": "low",
        "seed": 0,
        "loop": False,
    }

    # The track page: play it, and the audio advances.
    page.click("#job-open")
    page.wait_for_selector("#track-play")
    track_url = page.url
    title = page.locator("#track-title").inner_text()
    page.click("#track-play")
    page.wait_for_function("document.querySelector('#audio').currentTime > 0.5", timeout=20_000)
    assert page.locator("#player-title").inner_text() == page.locator("#track-title").inner_text()
    page.screenshot(path=str(ARTIFACTS / "track-playing.png"), full_page=True)

    # Seek on the waveform, to about three quarters: the browser asks for a byte range.
    box = page.locator("#waveform").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    duration = float(page.evaluate("document.querySelector('#audio').duration"))
    page.wait_for_function(
        f"document.querySelector('#audio').currentTime > {duration * 0.6}", timeout=10_000
    )
    assert any(status == 206 and r.startswith("bytes=") for status, r in ranges), ranges

    # Change pages while it plays: the player bar stays and the audio goes on.
    before = audio_time(page)
    page.click("nav.nav a[href='/']")
    page.wait_for_url(f"{server}/")
    page.wait_for_selector("section.hero")
    time.sleep(1.0)
    assert not page.evaluate("document.querySelector('#audio').paused")
    assert audio_time(page) > before
    page.click("nav.nav a[href='/library']")
    page.wait_for_url(f"{server}/library")
    assert page.locator(".card-title").count() == 1  # the new song, private
    assert not page.evaluate("document.querySelector('#audio').paused")
    page.screenshot(path=str(ARTIFACTS / "library-while-playing.png"), full_page=True)

    # Download the MIDI.
    page.goto(track_url)
    with page.expect_download() as download:
        page.click("a[href$='/files/song.mid']")
    midi = Path(download.value.path()).read_bytes()
    assert midi[:4] == b"MThd"

    # Publish: the song appears on the home page for a visitor.
    page.click("[data-action=publish]")
    page.wait_for_selector("[data-action=unpublish]")
    visitor = browser.new_page(viewport={"width": 1280, "height": 860})
    visitor.goto(server)
    shelf = visitor.locator("section:has(a[href='/browse?sort=new']) .card-title")
    assert shelf.all_inner_texts() == [title]
    visitor.screenshot(path=str(ARTIFACTS / "home-visitor.png"), full_page=True)


def test_chinese_and_phone_pages(server: str, browser: Any) -> None:
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.goto(f"{server}/signup")
    assert phone.locator("html").get_attribute("lang") == "zh-CN"
    assert phone.locator("nav.nav a[href='/create']").inner_text() == "创作"
    phone.screenshot(path=str(ARTIFACTS / "signup-zh-phone.png"), full_page=True)
    # The switch in the header turns it to English and remembers it.
    phone.click("a.lang")
    phone.wait_for_url(f"{server}/signup")
    assert phone.locator("nav.nav a[href='/create']").inner_text() == "Create"
    phone.goto(f"{server}/no/such/page")
    assert "Nothing here" in phone.locator("h1").inner_text()
    # Signed-out visitors are sent to sign in before making songs.
    phone.goto(f"{server}/create")
    assert phone.url.endswith("/signin?next=/create")


def test_lyrics_light_up_in_time(server: str, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{server}/signup?next=/create")
    page.fill("input[name=email]", "singer@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(f"{server}/create")
    page.fill("textarea[name=prompt]", "gentle folk")
    page.fill(
        "textarea[name=lyrics]",
        "[Verse]\nRiver running to the sea\nCarry all my songs with me\n",
    )
    page.select_option("select[name=think]", "none")
    page.click("#create-submit")
    page.wait_for_selector("#job-open:not([hidden])", timeout=120_000)
    page.click("#job-open")
    page.wait_for_selector("#lyrics .lyric")
    lines = page.locator("#lyrics .lyric").all_inner_texts()
    assert lines == ["River running to the sea", "Carry all my songs with me"]
    page.click("#track-play")
    page.wait_for_function("document.querySelector('#audio').currentTime > 0.2", timeout=20_000)
    page.locator("#lyrics .lyric").nth(1).click()  # a line seeks to its time
    page.wait_for_selector("#lyrics .lyric.now >> text=Carry", timeout=10_000)
    page.wait_for_selector("#lyrics .lyric.now span.sung", timeout=10_000)
    assert page.locator("#lyrics .lyric.now").count() == 1
    page.screenshot(path=str(ARTIFACTS / "lyrics-in-time.png"), full_page=True)
