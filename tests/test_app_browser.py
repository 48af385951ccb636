"""The web app end to end in headless Chromium (Debian's, driven by Playwright; never a
browser download): sign up, make a song and watch it think, play it (the audio advances),
seek (answered 206), change pages while it plays, download its MIDI; remix another
creator's song in one click; and the pages in Chinese and at a phone's width. Screenshots
go to ``test-artifacts/`` to be looked at."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app_fixtures import free_port, settings, stored_song  # noqa: F401  (settings: a fixture)
from conftest import SUNG_LYRICS, SUNG_PROMPT
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
def served(settings: Settings) -> Iterator[tuple[str, Any]]:  # noqa: F811
    """The app on a free port and a worker beside it, both in this process: (its address,
    the app)."""
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
    yield f"http://127.0.0.1:{port}", app
    worker.stopping.set()
    web.should_exit = True
    work_thread.join(60)
    web_thread.join(10)


@pytest.fixture
def server(served: tuple[str, Any]) -> str:
    """The address of the app (``served``)."""
    return served[0]


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


def sign_up_as(page: Any, server: str, name: str, then: str) -> None:
    page.goto(f"{server}/signup?next={then}")
    page.fill("input[name=display_name]", name)
    page.fill("input[name=email]", f"{name.lower()}@example.com")
    page.fill("input[name=password]", "correct horse")
    page.click("#auth-form button[type=submit]")
    page.wait_for_url(f"{server}{then}")


def test_remix_another_creators_song_in_one_click(
    served: tuple[str, Any], browser: Any, sung_song: Path
) -> None:
    server, app = served
    # Ada has published a sung song (made by the engine, stored as the worker would).
    ada = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_up_as(ada, server, "Ada", "/create")
    ada_id = ada.evaluate("fetch('/api/me').then(r => r.json())")["user"]["id"]
    options = {"prompt": SUNG_PROMPT, "lyrics": SUNG_LYRICS, "seed": 1}
    source = stored_song(app, ada_id, sung_song, options)
    ada.goto(f"{server}/tracks/{source}")
    ada.click("[data-action=publish]")
    ada.wait_for_selector("[data-action=unpublish]")
    title = ada.locator("#track-title").inner_text()

    # Bob, another creator, opens it: a style the engine does not know is refused at once.
    bob = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_up_as(bob, server, "Bob", f"/tracks/{source}")
    bob.fill("#remix-style", "xyz")
    bob.click("#remix-submit")
    bob.wait_for_selector("#remix-error:not([hidden])")
    assert "no style or instrument in 'xyz'" in bob.locator("#remix-error").inner_text()
    assert bob.locator("#job-panel").is_hidden()
    # One click on Remix (no style: a variation): the job is followed in the page.
    bob.fill("#remix-style", "")
    bob.click("#remix-submit")
    bob.wait_for_selector("#job-panel:not([hidden])")
    bob.wait_for_selector("#job-open:not([hidden])", timeout=60_000)
    assert bob.locator("#job-state").inner_text() == "Done"
    assert bob.locator("#remix-error").is_hidden()
    bob.screenshot(path=str(ARTIFACTS / "remix-made.png"), full_page=True)

    # The remix's page credits its source and links to it; Bob publishes it.
    bob.click("#job-open")
    bob.wait_for_selector("#credit")
    assert bob.url != f"{server}/tracks/{source}"
    credit = bob.locator("#credit").inner_text()
    assert credit.startswith(f"Remix of {title}") and "by Ada" in credit
    assert "a variation keeping its lyrics, melody, structure" in credit
    assert bob.locator("#source-link").get_attribute("href") == f"/tracks/{source}"
    bob.click("[data-action=publish]")
    bob.wait_for_selector("[data-action=unpublish]")
    remix_title = bob.locator("#track-title").inner_text()
    remix_url = bob.url
    bob.screenshot(path=str(ARTIFACTS / "remix-page.png"), full_page=True)

    # The source's page lists it among its remixes, for everyone.
    bob.click("#source-link")
    bob.wait_for_url(f"{server}/tracks/{source}")
    grid = bob.locator("section:has(h2:text('Remixes')) .card-title")
    assert grid.all_inner_texts() == [remix_title]
    bob.screenshot(path=str(ARTIFACTS / "remix-source-lists-it.png"), full_page=True)

    # In Chinese at a phone's width, for a visitor: the credit, and a Remix link to sign in.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.goto(remix_url)
    assert phone.locator("#credit").inner_text().startswith(f"二创自 {title}")
    assert phone.locator("#remix-sign-in").inner_text() == "⟲ 二创"
    phone.screenshot(path=str(ARTIFACTS / "remix-zh-phone.png"), full_page=True)


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


def test_arrange_a_midi_demo_on_the_create_page(server: str, browser: Any) -> None:
    from app_fixtures import midi_demo

    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_up_as(page, server, "Ada", "/create")
    # From words is shown first; From a demo switches to the upload form.
    assert page.is_visible("#create-form") and page.is_hidden("#arrange-form")
    page.click("#mode-demo")
    assert page.is_visible("#arrange-form") and page.is_hidden("#create-form")
    # A text file is refused by the service, in words, and nothing is queued.
    text_file = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"la la la"}
    page.set_input_files("#demo-file", files=[text_file])
    page.click("#arrange-submit")
    page.wait_for_selector("#arrange-error:not([hidden])")
    assert (
        page.locator("#arrange-error")
        .inner_text()
        .startswith("notes.txt is not a demo the studio can read")
    )
    assert page.locator("#job-panel").is_hidden()
    # A MIDI tune, arranged as a jazz piano trio, followed in the page.
    tune = {"name": "tune.mid", "mimeType": "audio/midi", "buffer": midi_demo()}
    page.set_input_files("#demo-file", files=[tune])
    page.fill("#arrange-prompt", "jazz piano trio")
    page.click("#arrange-submit")
    page.wait_for_selector("#job-panel:not([hidden])")
    page.wait_for_selector("#job-open:not([hidden])", timeout=90_000)
    assert page.locator("#job-state").inner_text() == "Done"
    assert page.locator("#arrange-error").is_hidden()
    log = page.locator("#job-log li").all_inner_texts()
    assert log[:2] == ["starting", "reading the demo"]
    page.screenshot(path=str(ARTIFACTS / "arrange-done.png"), full_page=True)
    job = page.evaluate("fetch('/api/jobs').then(r => r.json())")["jobs"][0]
    assert job["options"]["demo_name"] == "tune.mid" and job["options"]["demo_kind"] == "midi"
    # The arranged song: it says what it was made from, and it plays.
    page.click("#job-open")
    page.wait_for_selector("#credit")
    credit = page.locator("#credit").inner_text()
    assert credit.startswith("Arranged from a demo") and "tune.mid" in credit
    assert page.locator("p.eyebrow").inner_text().endswith("JAZZ")
    page.click("#track-play")
    page.wait_for_function("document.querySelector('#audio').currentTime > 0.3", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "arranged-track.png"), full_page=True)
    # In the library like any other song, and the job list names the demo.
    page.click("nav.nav a[href='/library']")
    page.wait_for_url(f"{server}/library")
    assert page.locator(".card-title").count() == 1
    page.click("nav.nav a[href='/create']")
    page.wait_for_url(f"{server}/create")
    assert "Arrange · tune.mid · jazz piano trio" in page.locator("#job-list").inner_text()


def test_repaint_a_section_from_the_track_page(
    served: tuple[str, Any], browser: Any, sung_song: Path
) -> None:
    server, app = served
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    sign_up_as(page, server, "Ada", "/library")
    ada_id = page.evaluate("fetch('/api/me').then(r => r.json())")["user"]["id"]
    options = {"prompt": SUNG_PROMPT, "lyrics": SUNG_LYRICS, "seed": 1}
    source = stored_song(app, ada_id, sung_song, options)
    page.goto(f"{server}/tracks/{source}")
    title = page.locator("#track-title").inner_text()
    # The studio: Extend is chosen first; a section the engine does not know is refused at
    # once, in its words (a length shorter than the song, the browser itself refuses).
    assert page.is_hidden("#derive-form")  # folded until asked for
    page.click("#studio summary")
    assert page.is_visible("#derive-form [data-op=extend]")
    assert page.get_attribute("#derive-form input[name=to]", "min") == "9"
    page.fill("#derive-form input[name=add]", "bridge xyz")
    page.click("#derive-submit")
    page.wait_for_selector("#derive-error:not([hidden])")
    assert page.locator("#derive-error").inner_text().startswith("unknown section 'xyz'")
    assert page.locator("#job-panel").is_hidden()
    # Repaint a section: its select lists the song's sections.
    page.click("#derive-form .op:has-text('Repaint a section')")
    assert page.is_visible("select[name=section]") and page.is_hidden("input[name=to]")
    sections = page.locator("select[name=section] option").all_inner_texts()
    assert sections == ["verse1 · 0:00–0:07"]
    page.select_option("select[name=section]", "verse1")
    page.screenshot(path=str(ARTIFACTS / "repaint-form.png"), full_page=True)
    page.click("#derive-submit")
    page.wait_for_selector("#job-panel:not([hidden])")
    page.wait_for_selector("#job-open:not([hidden])", timeout=60_000)
    assert page.locator("#job-state").inner_text() == "Done"
    assert page.locator("#job-open").inner_text() == "Open the new version"
    assert page.locator("#derive-error").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "repaint-made.png"), full_page=True)
    # The new version says what it is, and links back to its source.
    page.click("#job-open")
    page.wait_for_selector("#credit")
    assert page.url != f"{server}/tracks/{source}"
    assert page.locator("#track-title").inner_text() == f"{title} (new verse1)"
    credit = page.locator("#credit").inner_text()
    assert credit == f"Repainted from {title} · verse1 written anew"
    assert page.locator("#source-link").get_attribute("href") == f"/tracks/{source}"
    page.screenshot(path=str(ARTIFACTS / "repaint-page.png"), full_page=True)
    # Back on the source: two takes at once, each its own song; the page lists the versions.
    page.click("#source-link")
    page.wait_for_url(f"{server}/tracks/{source}")
    page.click("#studio summary")
    page.click("#derive-form .op:has-text('Variations')")
    page.check("#derive-form input[name=keep][value=chords]")
    page.fill("#derive-form input[name=n]", "2")
    page.click("#derive-submit")
    page.wait_for_selector("#job-library:not([hidden])", timeout=60_000)
    assert page.locator("#job-library").inner_text() == "All 2 takes are in your library"
    page.goto(f"{server}/tracks/{source}")
    versions = page.locator("#versions .card-title").all_inner_texts()
    assert sorted(versions) == sorted(
        [f"{title} (new verse1)", f"{title} (take 1)", f"{title} (take 2)"]
    )
    page.screenshot(path=str(ARTIFACTS / "versions.png"), full_page=True)
    # At a phone's width, in Chinese.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{server}/tracks/{source}")
    assert phone.locator("#studio h2").inner_text() == "做一个新版本"
    phone.click("#studio summary")
    phone.click("#derive-form .op:has-text('变奏')")
    assert phone.is_visible("#derive-form input[name=keep][value=lyrics]")
    phone.screenshot(path=str(ARTIFACTS / "studio-zh-phone.png"), full_page=True)
