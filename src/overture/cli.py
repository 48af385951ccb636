"""The ``overture`` command: a thin edge over the engine's Python API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from overture.errors import OvertureError
from overture.progress import ProgressBar

if TYPE_CHECKING:
    from overture.app.settings import Settings


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="overture", prog_name="overture")
def main() -> None:
    """Overture: an open AI music studio. Prompt in, finished song out, offline."""


@main.command()
@click.argument("prompt", default="", required=False)
@click.option("--duration", type=float, help="Length in seconds (1-900).")
@click.option("--tempo", type=float, help="Tempo in beats per minute (30-300).")
@click.option("--key", "key_", metavar="KEY", help='Key, e.g. "A minor", "Bb major", "B flat".')
@click.option("--time-signature", metavar="N/D", help="Time signature, e.g. 3/4 or 6/8.")
@click.option("--instruments", metavar="LIST", help='Instruments to use, e.g. "piano, strings".')
@click.option("--chords", metavar="LIST", help='Chords to follow, one per bar: "Am F C G".')
@click.option(
    "--structure",
    metavar="LIST",
    help='Sections in order: "intro verse chorus verse chorus bridge chorus outro".',
)
@click.option(
    "--melody",
    type=click.Path(path_type=Path),
    help="A MIDI file whose melody becomes the lead, harmonised and arranged around it.",
)
@click.option(
    "--lyrics",
    type=click.Path(path_type=Path),
    help="A UTF-8 text file of lyrics (English, Chinese or both) to sing; they set the form.",
)
@click.option(
    "--voice",
    type=click.Choice(["female", "male", "breathy"], case_sensitive=False),
    help="The voice that sings the --lyrics: female (the default), male, or breathy (a soft "
    "female voice with more air).",
)
@click.option(
    "--loop", is_flag=True, help="A seamless loop: whole bars, the end runs into the start."
)
@click.option(
    "--think",
    type=click.Choice(["none", "low", "medium", "high"], case_sensitive=False),
    help="How hard to think: 1, 2, 4 or 8 drafts per section (default medium).",
)
@click.option(
    "--budget",
    type=int,
    metavar="N",
    help="Drafts considered per section, candidates and retries together (1-32).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("out/song"),
    show_default=True,
    help="Folder to write the song into.",
)
@click.option(
    "--format",
    "formats",
    default="flac",
    show_default=True,
    help="Comma list of flac, wav, mp3, ogg (song.flac is always written).",
)
@click.option(
    "--soundfont",
    type=click.Path(path_type=Path),
    help="SF2/SF3 soundfont (default: $OVERTURE_SOUNDFONT or MuseScore General).",
)
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
def generate(
    prompt: str,
    duration: float | None,
    tempo: float | None,
    key_: str | None,
    time_signature: str | None,
    instruments: str | None,
    chords: str | None,
    structure: str | None,
    melody: Path | None,
    lyrics: Path | None,
    voice: str | None,
    loop: bool,
    think: str | None,
    budget: int | None,
    seed: int,
    out: Path,
    formats: str,
    soundfont: Path | None,
    force: bool,
) -> None:
    """Make a finished song from PROMPT (English or Chinese) into the folder --out.

    Options override what the prompt says. Writes song.flac (and each --format), stems/,
    song.mid, song.musicxml, score.json, song.json and trace.json (the reasoning; read it
    with `overture explain DIR`). With --lyrics the lead is sung, and the folder also gets
    song_instrumental.flac and the timed lyrics song.lrc.
    """
    from overture.pipeline import generate as run
    from overture.prompt import parse_prompt

    inst_list = None
    if instruments is not None:
        inst_list = parse_prompt(instruments).instruments
        if not inst_list:
            _fail(f"no known instrument in --instruments {instruments!r}")
    try:
        with ProgressBar(sys.stderr.isatty()) as bar:
            song = run(
                prompt,
                duration=duration,
                tempo=tempo,
                key=key_,
                time_signature=time_signature,
                instruments=inst_list,
                seed=seed,
                chords=chords,
                structure=structure,
                melody=melody,
                lyrics=lyrics,
                voice=voice.lower() if voice else None,
                loop=loop,
                think=think,
                budget=budget,
                out=out,
                formats=formats,
                soundfont=soundfont,
                force=force,
                progress=bar,
            )
    except OvertureError as e:
        _fail(str(e))
    spec = song.spec
    click.echo(
        f"{spec.title}: {spec.genre}, {spec.key.name}, {spec.tempo:g} bpm, "
        f"{spec.time_signature}, {round(spec.duration, 1):g} s -> {song.out_dir}/song.flac "
        f"({song.timings.get('total', 0):.1f} s, critique {song.critique.get('score', 0):.2f})"
    )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
def explain(folder: Path) -> None:
    """Print the reasoning behind the song in FOLDER: the plan, every draft judged, why each
    withdrawn draft was withdrawn and what changed, the audio review and the final scores."""
    from overture.think import explain as explain_trace
    from overture.think import load_trace

    try:
        click.echo(explain_trace(load_trace(folder)), nl=False)
    except OvertureError as e:
        _fail(str(e))


def _app_settings() -> Settings:
    """The web service's settings; the app's packages load only for its commands, so that
    ``overture generate`` stays quick and needs none of them."""
    try:
        from overture.app.settings import Settings
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        _fail(f"the web service needs the app extra (pip install 'overture[app]'): {e}")
    try:
        return Settings.from_env()
    except OvertureError as e:
        _fail(str(e))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Also make songs here, this many at a time (0: leave it to `overture worker`).",
)
@click.option("--demo", is_flag=True, help="On first start, queue a demo catalog of songs.")
def serve(host: str, port: int, workers: int, demo: bool) -> None:
    """Run the web app: the pages at /, the API under /api, its documentation at /docs.

    Configured by OVERTURE_DATABASE_URL, OVERTURE_DATA_DIR, OVERTURE_REDIS_URL and the other
    OVERTURE_* variables (README: Web app). Songs are made by `overture worker` processes,
    or by the ones `--workers N` starts beside the server (stopped with it).
    """
    import logging

    from overture.app.serving import listen
    from overture.app.serving import serve as run_server

    try:
        sock = listen(host, port)  # first: a taken port is an error before anything is made
    except OvertureError as e:
        _fail(str(e))
    settings = _app_settings()
    from overture.app.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app(settings)
    if demo:
        from overture.app.demo import seed_demo

        svc = app.state.services
        queued = seed_demo(svc.engine, svc.queue)
        if queued:
            click.echo(f"First start: {queued} demo songs queued; they appear as they are made.")
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    bound = sock.getsockname()[1]  # --port 0: the port the system chose

    def ready() -> None:
        click.echo(f"Overture is running at http://{shown}:{bound}/  (Ctrl-C stops it)")

    def stopping() -> None:
        click.echo("Stopping: a song being made is finished first (Ctrl-C again stops now).")

    run_server(app, sock, settings=settings, workers=workers, on_ready=ready, on_stopping=stopping)


@main.command()
@click.option("--once", is_flag=True, help="Make the songs waiting now, then exit.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Songs made at a time (one process each).",
)
def worker(once: bool, concurrency: int) -> None:
    """Make the songs people ask the web service for: claim jobs from the queue, run the
    engine, store the files and the tracks."""
    import logging

    settings = _app_settings()
    from overture.app.jobs.worker import run_workers

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    handled = run_workers(settings, concurrency=concurrency, once=once)
    if once:
        click.echo(f"{handled} job(s) handled")


@main.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["listener", "creator", "admin"]))
def set_role(email: str, role: str) -> None:
    """Give the web service's account EMAIL the ROLE (listener, creator or admin)."""
    settings = _app_settings()
    from overture.app.accounts.service import AccountService
    from overture.app.db import make_engine, migrate
    from overture.app.errors import AppError

    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        user = AccountService(engine, secret_key=settings.secret_key).set_role(email, role)
    except AppError as e:
        _fail(e.message)
    click.echo(f"{user.email} is now {user.role}")


def _register() -> None:
    from overture.evaluate.cli import eval_command
    from overture.learn.cli import train_command
    from overture.studio.cli import COMMANDS

    main.add_command(train_command, "train")
    main.add_command(eval_command, "eval")
    for name, command in COMMANDS.items():
        main.add_command(command, name)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
