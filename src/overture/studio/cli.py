"""The studio's commands: ``overture arrange``, ``extend``, ``restyle``, ``vary``,
``regenerate`` and ``lineage``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from overture.errors import OvertureError
from overture.progress import ProgressBar


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--out, --format, --soundfont and --force, as ``overture generate`` has them."""
    f = click.option("--force", is_flag=True, help="Replace a non-empty output folder.")(f)
    f = click.option(
        "--soundfont",
        type=click.Path(path_type=Path),
        help="SF2/SF3 soundfont (default: $OVERTURE_SOUNDFONT or MuseScore General).",
    )(f)
    f = click.option(
        "--format",
        "formats",
        default="flac",
        show_default=True,
        help="Comma list of flac, wav, mp3, ogg (song.flac is always written).",
    )(f)
    f = click.option(
        "--out",
        "out",
        type=click.Path(path_type=Path),
        required=True,
        help="Folder to write the new song into (the source is never changed).",
    )(f)
    return f


def _run(what: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    try:
        with ProgressBar(sys.stderr.isatty()) as bar:
            return what(*args, progress=bar, **kw)
    except OvertureError as e:
        _fail(str(e))


def _done(song: Any) -> None:
    spec = song.spec
    click.echo(
        f"{spec.title}: {spec.genre}, {spec.key.name}, {spec.tempo:g} bpm, "
        f"{round(song.score.duration, 1):g} s -> {song.out_dir}/song.flac "
        f"(critique {song.critique.get('score', 0):.2f})"
    )


@click.command("arrange")
@click.argument("demo", type=click.Path(path_type=Path))
@click.option("--prompt", default="", help='The style to arrange it in, e.g. "indie folk".')
@click.option(
    "--keep-voice",
    is_flag=True,
    help="Keep the recording itself as the lead stem, time-aligned; the song follows its "
    "tempo and key.",
)
@click.option("--duration", type=float, help="Length in seconds (default: the melody's).")
@click.option(
    "--transcriber",
    type=click.Choice(["auto", "f0", "basic-pitch"]),
    default="auto",
    show_default=True,
    help="How audio is transcribed: a pitch track (f0) or basic-pitch's model.",
)
@click.option(
    "--think",
    type=click.Choice(["none", "low", "medium", "high"], case_sensitive=False),
    help="How hard to think: 1, 2, 4 or 8 drafts per section (default medium).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@_output_options
def arrange_command(
    demo: Path,
    prompt: str,
    keep_voice: bool,
    duration: float | None,
    transcriber: str,
    think: str | None,
    seed: int,
    **out: Any,
) -> None:
    """Arrange the melody of DEMO (a hummed, sung or played recording: wav, flac, mp3, ogg or
    m4a of 2-60 s; or a MIDI file) as a full song in the --prompt's style."""
    from overture.studio.arrange import arrange

    song = _run(
        arrange,
        demo,
        prompt,
        keep_voice=keep_voice,
        duration=duration,
        method=transcriber,
        think=think,
        seed=seed,
        **out,
    )
    _done(song)


@click.command("extend")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--to", "to", type=float, metavar="SECONDS", help="The new length in seconds.")
@click.option("--add", metavar="SECTIONS", help='Sections to add: "bridge chorus outro".')
@_output_options
def extend_command(src: Path, to: float | None, add: str | None, **out: Any) -> None:
    """Continue the song in SRC with new sections in its key, tempo, instrumentation and
    motifs; every bar of it is kept."""
    from overture.studio import extend

    _done(_run(extend, src, to=to, add=add, **out))


@click.command("restyle")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--prompt", required=True, help='The new style, e.g. "jazz trio".')
@click.option("--tempo", type=float, help="A new tempo (default: the song's).")
@click.option("--seed", type=int, help="Random seed for the new band (default: the song's).")
@_output_options
def restyle_command(
    src: Path, prompt: str, tempo: float | None, seed: int | None, **out: Any
) -> None:
    """A cover of the song in SRC: the same melody, form, chords (and lyrics), played by the
    band of the --prompt's style."""
    from overture.studio import restyle

    _done(_run(restyle, src, prompt, tempo=tempo, seed=seed, **out))


@click.command("vary")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("-n", "n", type=int, default=1, show_default=True, help="How many takes (1-100).")
@click.option(
    "--keep",
    metavar="LIST",
    help="What to keep: any of melody, chords, structure, lyrics (comma separated).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@_output_options
def vary_command(src: Path, n: int, keep: str | None, seed: int, **out: Any) -> None:
    """New takes of the song in SRC, written to OUT/var01 ... OUT/varNN: each keeps what --keep
    names and changes the rest, and each is distinct."""
    from overture.studio import vary

    songs = _run(vary, src, n, keep=keep, seed=seed, **out)
    for song in songs:
        _done(song)


@click.command("regenerate")
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--section", required=True, help='The section to write again, e.g. "chorus2".')
@click.option("--seed", type=int, help="Random seed for the new take of it.")
@_output_options
def regenerate_command(src: Path, section: str, seed: int | None, **out: Any) -> None:
    """Repaint one section of the song in SRC; every other note stays exactly as it is."""
    from overture.studio import regenerate

    _done(_run(regenerate, src, section, seed=seed, **out))


@click.command("lineage")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--under",
    type=click.Path(path_type=Path),
    help="Where to look for songs derived from it (default: the folder holding FOLDER).",
)
def lineage_command(folder: Path, under: Path | None) -> None:
    """Print the lineage of the song in FOLDER: what it was made from, operation by
    operation, and the songs made from it."""
    from overture.studio.lineage import lineage_tree

    try:
        click.echo(lineage_tree(folder, under=under), nl=False)
    except OvertureError as e:
        _fail(str(e))


COMMANDS = {
    "arrange": arrange_command,
    "extend": extend_command,
    "restyle": restyle_command,
    "vary": vary_command,
    "regenerate": regenerate_command,
    "lineage": lineage_command,
}
