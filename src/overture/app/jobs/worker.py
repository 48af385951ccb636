"""The worker: claims jobs, makes their songs, stores the files and the tracks, and reports
progress on the way. A job's stored options say what it makes (``operation_of``): a song
from a prompt (``overture.generate``); a remix (the studio's ``restyle`` or ``vary`` on
another track's song: ``overture.app.jobs.remix``); a new version of one's own song
(``extend``, ``regenerate``, ``restyle``, ``vary``: ``overture.app.jobs.derive``); or an
arrangement of an uploaded demo (``arrange``: ``overture.app.jobs.arrange``).

While ``generate`` runs, a background thread renews the job's lease every third of its
length, so only a dead (or stuck) worker's lease runs out. The engine calls the progress
callback often; the callback is also where a job stops: when its owner cancels it, or this
worker's lease was lost, the callback raises and ``generate`` unwinds, removing its
half-written folder. Nothing becomes visible until the song is complete: the files go into
the content-addressed store first, then the track row and the job's success in one
transaction, which checks that this worker still holds the lease.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from overture.app.db import make_engine, migrate
from overture.app.jobs.arrange import ARRANGE, ArrangeOptions, fetch_demo, make_arrangement
from overture.app.jobs.derive import (
    DERIVE_WORDS,
    OPERATIONS,
    DeriveOptions,
    derived_title,
    make_derived,
)
from overture.app.jobs.progress import RedisProgress
from overture.app.jobs.queue import Claim, JobQueue, LeaseStatus
from overture.app.jobs.remix import (
    REMIX,
    RemixOptions,
    credit,
    make_remix,
    materialise,
    operation_of,
    remix_source,
)
from overture.app.jobs.service import generate_kwargs
from overture.app.media.storage import LocalStorage, Storage
from overture.app.models import Track
from overture.app.settings import Settings
from overture.app.tracks.art import WAVEFORM_FILE, WAVEFORM_POINTS, waveform_peaks
from overture.app.tracks.service import (
    add_media,
    new_track,
    publish,
    read_song_json,
    store_folder,
)
from overture.errors import OvertureError

log = logging.getLogger(__name__)

MAX_LOG = 2000  # lines of a job's log of steps; a longer log ends with an ellipsis
GENERIC_ERROR = "the song could not be made because of an error in the service; try again later"


class Stopped(Exception):
    """Raised from the progress callback to stop ``generate`` part-way."""


class Cancelled(Stopped):
    """The job's owner cancelled it."""


class LeaseLost(Stopped):
    """Another worker holds the job now (this one was too slow to renew its lease)."""


class JobReporter:
    """The progress callback for one job, and the lease renewal thread beside it."""

    def __init__(
        self,
        queue: JobQueue,
        claim: Claim,
        *,
        redis: RedisProgress | None = None,
        db_every: float = 1.0,
    ) -> None:
        self.queue = queue
        self.claim = claim
        self.redis = redis
        self.db_every = db_every
        self.stop: Stopped | None = None
        self.log: list[str] = []  # the steps so far, each once in a row
        self._sent_redis = 0
        self._sent_db = 0
        self._last_db = 0.0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def _apply(self, status: LeaseStatus) -> None:
        if status == "cancel" and self.stop is None:
            self.stop = Cancelled("cancelled")
        elif status == "lost":
            self.stop = LeaseLost("lease lost")

    def __call__(self, stage: str, fraction: float) -> None:
        if self.stop is not None:
            raise self.stop
        fraction = max(0.0, min(1.0, float(fraction)))
        step = str(stage)[:200]
        self._note(step)
        if self.redis is not None:
            try:
                self.redis.write(self.claim.job_id, fraction, step, self.log[self._sent_redis :])
                self._sent_redis = len(self.log)
            except Exception:  # progress is a nicety: a Redis hiccup must not fail the song
                log.warning("could not write progress to Redis", exc_info=True)
        now = time.monotonic()
        if now - self._last_db >= self.db_every:
            self._last_db = now
            self._write_db(fraction, step)
        if self.stop is not None:
            raise self.stop

    def _note(self, step: str) -> None:
        if self.log and self.log[-1] == step:
            return
        if len(self.log) < MAX_LOG:
            self.log.append(step)
        elif self.log[-1] != "…":
            self.log.append("…")

    def _write_db(self, fraction: float | None, step: str | None) -> None:
        fresh = len(self.log) != self._sent_db
        status = self.queue.renew(
            self.claim, progress=fraction, step=step, log=self.log if fresh else None
        )
        self._sent_db = len(self.log)
        self._apply(status)

    def flush(self) -> None:
        """Write the log so far to the database now (before the job ends)."""
        if len(self.log) != self._sent_db:
            self._write_db(None, None)

    def _renew(self, every: float) -> None:
        while not self._done.wait(every):
            try:
                self._apply(self.queue.renew(self.claim))
            except Exception:  # the database may be back before the lease runs out
                log.warning("could not renew the lease of job %s", self.claim.job_id, exc_info=True)
            if isinstance(self.stop, LeaseLost):
                return

    def start(self) -> None:
        every = max(0.05, self.queue.lease.total_seconds() / 3)
        self._thread = threading.Thread(
            target=self._renew, args=(every,), name=f"lease-{self.claim.job_id}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()


def worker_name() -> str:
    """A name unique to this worker, that says where it runs (for the logs)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """One worker: a loop of claim, make, store."""

    def __init__(
        self,
        settings: Settings,
        *,
        queue: JobQueue | None = None,
        storage: Storage | None = None,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        if queue is None:
            engine = make_engine(settings.database_url)
            migrate(engine)
            queue = JobQueue(
                engine,
                lease_seconds=settings.lease_seconds,
                max_attempts=settings.max_attempts,
            )
        self.queue = queue
        self.storage = storage or LocalStorage(settings.media_dir)
        self.redis = RedisProgress(settings.redis_url) if settings.redis_url else None
        self.name = name or worker_name()
        self.stopping = threading.Event()

    def run_one(self) -> bool:
        """Claim one job and make it; False when there was none."""
        claim = self.queue.claim(self.name)
        if claim is None:
            return False
        self.process(claim)
        return True

    def run(self, *, once: bool = False) -> int:
        """Work until stopped (SIGTERM or SIGINT finish the current job first); with ``once``,
        until the queue is empty. Returns the number of jobs handled."""
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stopping.set())
        handled = 0
        while not self.stopping.is_set():
            if self.run_one():
                handled += 1
            elif once:
                break
            else:
                self.stopping.wait(self.settings.poll_seconds)
        return handled

    def process(self, claim: Claim) -> None:
        """Make the song of a claimed job, and record how it ended."""
        log.info("job %s: attempt %d on %s", claim.job_id, claim.attempts, self.name)
        reporter = JobReporter(
            self.queue, claim, redis=self.redis, db_every=self.settings.progress_seconds
        )
        prefix = f"overture-job-{claim.job_id}-"
        # An earlier attempt's worker that was killed left its folder: this lease is ours now.
        for old in Path(tempfile.gettempdir()).glob(prefix + "*"):
            shutil.rmtree(old, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=prefix))
        reporter.start()
        try:
            self._make(claim, reporter, tmp)
        except Cancelled:
            self.queue.cancelled(claim)
            log.info("job %s: cancelled", claim.job_id)
        except LeaseLost:
            log.warning("job %s: lease lost; another worker has it now", claim.job_id)
        except OvertureError as e:
            reporter.flush()
            self.queue.fail(claim, str(e))
            log.info("job %s: failed: %s", claim.job_id, e)
        except Exception:
            log.exception("job %s: unexpected error", claim.job_id)
            self.queue.fail(claim, GENERIC_ERROR, retry=True)
        finally:
            reporter.close()
            shutil.rmtree(tmp, ignore_errors=True)
            if self.redis is not None:
                try:
                    self.redis.clear(claim.job_id)
                except Exception:
                    log.warning("could not clear progress in Redis", exc_info=True)

    def _make(self, claim: Claim, reporter: JobReporter, tmp: Path) -> None:
        reporter(
            "starting" if claim.attempts == 1 else f"starting again (attempt {claim.attempts})", 0.0
        )
        operation = operation_of(claim.options)
        if operation == "generate":
            self._generate(claim, reporter, tmp / "song")
        elif operation == REMIX:
            self._remix(claim, reporter, tmp)
        elif operation in OPERATIONS:
            self._derive(claim, reporter, tmp)
        elif operation == ARRANGE:
            self._arrange(claim, reporter, tmp)
        else:
            raise OvertureError(f"this service cannot make a job of kind {operation!r}")

    def _generate(self, claim: Claim, reporter: JobReporter, out: Path) -> None:
        from overture.pipeline import generate

        kw = generate_kwargs(claim.options)
        prompt = kw.pop("prompt", "")
        generate(
            prompt,
            **kw,
            out=out,
            soundfont=self.settings.soundfont,
            workers=self.settings.render_workers,
            progress=reporter,
        )
        self._store(claim, reporter, out, claim.options)

    def _remix(self, claim: Claim, reporter: JobReporter, tmp: Path) -> None:
        """A remix job: the source's song folder read back from the store, the studio
        operation run on it, and the result stored crediting the source."""
        options = RemixOptions.model_validate(claim.options)
        source = remix_source(self.queue.Session, options.source_track_id, claim.user_id)
        reporter("reading the song to remix", 0.0)
        song = materialise(self.storage, source, tmp / "source")
        out = make_remix(
            song,
            options,
            tmp / "remix",
            soundfont=self.settings.soundfont,
            workers=self.settings.render_workers,
            progress=reporter,
        )
        meta = read_song_json(out)
        track_options = {"prompt": meta.get("spec", {}).get("prompt", ""), "lyrics": source.lyrics}
        self._store(claim, reporter, out, track_options, credit(source, meta))

    def _derive(self, claim: Claim, reporter: JobReporter, tmp: Path) -> None:
        """A new version of the asker's own song, as a remix is made: the song read back
        from the store, the operation run on it, and each song it wrote (a take of ``vary``
        each) stored as a track crediting it."""
        options = DeriveOptions.model_validate(claim.options)
        source = remix_source(
            self.queue.Session,
            options.source_track_id,
            claim.user_id,
            words=DERIVE_WORDS,
            owner_only=True,
        )
        reporter("reading the song", 0.0)
        song = materialise(self.storage, source, tmp / "source", DERIVE_WORDS)
        folders = make_derived(
            song,
            options,
            tmp / "new",
            soundfont=self.settings.soundfont,
            workers=self.settings.render_workers,
            progress=reporter,
        )
        made = []
        for folder in folders:
            meta = read_song_json(folder)
            fields = credit(source, meta)
            title = derived_title(options, source.title)
            if title is not None:
                fields["title"] = title
            prompt = meta.get("spec", {}).get("prompt", "")
            made.append((folder, {"prompt": prompt, "lyrics": source.lyrics}, fields))
        self._store_all(claim, reporter, made)

    def _arrange(self, claim: Claim, reporter: JobReporter, tmp: Path) -> None:
        """An uploaded demo, fetched from the store and arranged; the track records the
        engine's lineage (the demo's name and SHA-256: its key in the store)."""
        options = ArrangeOptions.model_validate(claim.options)
        reporter("reading the demo", 0.0)
        demo = fetch_demo(self.storage, options, tmp / "demo")
        out = make_arrangement(
            demo,
            options,
            tmp / "song",
            soundfont=self.settings.soundfont,
            workers=self.settings.render_workers,
            progress=reporter,
        )
        meta = read_song_json(out)
        lineage = meta.get("lineage")
        if not isinstance(lineage, dict):
            raise RuntimeError("the engine wrote an arrangement without its lineage")
        track_options = {"prompt": options.prompt, "seed": options.seed}
        self._store(claim, reporter, out, track_options, {"lineage": lineage})

    def _store(
        self,
        claim: Claim,
        reporter: JobReporter,
        out: Path,
        options: dict[str, Any],
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Store a made song folder as the job's track (with ``fields`` set on it), and
        mark the job succeeded, in one transaction."""
        self._store_all(claim, reporter, [(out, options, fields or {})])

    def _store_all(
        self,
        claim: Claim,
        reporter: JobReporter,
        made: list[tuple[Path, dict[str, Any], dict[str, Any]]],
    ) -> None:
        """Store made song folders, each with the options it was made with and ``fields``
        to set on its track, as the job's tracks (in order), and mark the job succeeded,
        all in one transaction."""
        reporter("storing the files", 1.0)
        reporter.flush()
        stored = []
        for out, options, fields in made:
            try:
                peaks = waveform_peaks(out / "song.flac", points=WAVEFORM_POINTS)
                (out / WAVEFORM_FILE).write_text(json.dumps({"peaks": peaks}), encoding="utf-8")
            except ValueError:  # the player draws a flat line; the song itself is fine
                log.warning("job %s: no waveform", claim.job_id, exc_info=True)
            stored.append((store_folder(self.storage, out), read_song_json(out), options, fields))
        if reporter.stop is not None:
            raise reporter.stop

        def make_tracks(s: Session) -> list[Track]:
            tracks = []
            for keys, song, options, fields in stored:
                add_media(s, self.storage, keys)
                track = new_track(claim.user_id, options, keys, song)
                for name, value in fields.items():
                    setattr(track, name, value)
                s.add(track)
                if claim.publish:
                    s.flush()
                    publish(s, track)
                tracks.append(track)
            return tracks

        track = self.queue.complete(claim, make_tracks)
        if track is None:
            raise LeaseLost("lease lost")
        log.info("job %s: done, %d track(s), first %s", claim.job_id, len(stored), track.id)


def run_workers(settings: Settings, *, concurrency: int = 1, once: bool = False) -> int:
    """Run ``concurrency`` workers: this process and, beyond one, child processes (the engine
    keeps per-process render state, so workers do not share a process)."""
    if concurrency <= 1:
        return Worker(settings).run(once=once)
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    children = [
        ctx.Process(target=_child, args=(settings, once), daemon=False)
        for _ in range(concurrency - 1)
    ]
    for c in children:
        c.start()
    try:
        return Worker(settings).run(once=once)
    finally:
        for c in children:
            if not once:  # stopping: each child finishes its current job first
                c.terminate()
        for c in children:
            c.join()


def _child(settings: Settings, once: bool) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    Worker(settings).run(once=once)
