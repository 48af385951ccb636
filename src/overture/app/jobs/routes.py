"""``/api/jobs``: submit a song (from a prompt, or a demo to arrange), follow it, cancel
it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from overture.app.deps import CurrentUser, services
from overture.app.errors import Forbidden, NotFound
from overture.app.jobs.arrange import ARRANGE_OPENAPI, accept_demo, read_upload
from overture.app.jobs.service import JobOptions, validate_options
from overture.app.models import Job, User
from overture.app.views import job_view

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def _view(request: Request, job: Job, log_from: int | None = None) -> dict[str, Any]:
    live = None
    progress = services(request).progress
    if progress is not None and job.state == "running":
        try:
            live = progress.read(job.id)
        except Exception:  # fall back on the database's slightly older figures
            live = None
    return job_view(job, live, log_from=log_from)


def _mine(request: Request, job_id: str, user: User) -> Job:
    job = services(request).queue.get(job_id)
    if job is None or job.user_id != user.id:
        raise NotFound("no such job")
    return job


@router.post("", status_code=201)
def submit(request: Request, options: JobOptions, user: CurrentUser) -> dict[str, Any]:
    """Ask for a song. The options are checked at once (422 with the reason when the engine
    could not use them); 429 when you already have the most songs in progress allowed.
    Answers with the queued job; follow it with ``GET /api/jobs/{id}``."""
    if user.role not in ("creator", "admin"):
        raise Forbidden("listeners cannot make songs")
    stored = validate_options(options)
    svc = services(request)
    job = svc.queue.enqueue(user.id, stored, limit=svc.settings.max_jobs_per_user)
    return job_view(job)


@router.post("/arrange", status_code=201, openapi_extra=ARRANGE_OPENAPI)
async def arrange_demo(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Arrange a demo: a recording (hummed, sung or played; wav, flac, mp3, ogg or m4a,
    2-60 s) or a MIDI file becomes the lead of a song in the style of ``prompt``. With
    ``keep_voice`` (a recording only) the recording itself stays as the lead.

    Send ``multipart/form-data`` with the file in ``demo`` and the options as fields
    (``prompt``, ``keep_voice``, ``duration``, ``seed``, ``think``), and the CSRF header. A
    demo larger than the limit (25 MB unless configured) is refused with 413 before it is
    read whole; a file that is not a recording nor MIDI by its name with 415; one the engine
    cannot use (an archive renamed ``.wav``, a header claiming hours, a MIDI without a
    melody, options it cannot resolve) with 422 and its reason. Some demos are found wanting
    only when transcribed (silence, no pitched notes): that job fails with the engine's
    reason. Answers with the queued job; its track records the demo (its name and
    SHA-256) in its lineage. 429 when you already have the most songs in progress allowed."""
    if user.role not in ("creator", "admin"):
        raise Forbidden("listeners cannot make songs")
    svc = services(request)
    limit = svc.settings.max_jobs_per_user
    await run_in_threadpool(svc.queue.check_room, user.id, limit)  # before reading the upload
    with tempfile.TemporaryDirectory(prefix="overture-upload-") as tmp:
        path, fields = await read_upload(request, Path(tmp), svc.settings.max_upload_bytes)
        stored = await run_in_threadpool(accept_demo, svc.storage, svc.tracks.Session, path, fields)
    job = await run_in_threadpool(svc.queue.enqueue, user.id, stored, limit=limit)
    return job_view(job)


@router.get("")
def my_jobs(request: Request, user: CurrentUser) -> dict[str, Any]:
    """Your most recent jobs, newest first."""
    return {"jobs": [_view(request, j) for j in services(request).queue.list_for(user.id)]}


@router.get("/{job_id}")
def get_job(
    request: Request,
    job_id: str,
    user: CurrentUser,
    since: Annotated[int, Query(ge=0, description="The first line of the log to send.")] = 0,
) -> dict[str, Any]:
    """A job of yours: its state (queued, running, succeeded, failed, cancelled), progress
    (0..1), the current step of the engine's reasoning and its log of steps and verdicts
    from line ``since`` on ("chorus1 draft 2: 0.71", "retracted verse1 round 1: ..."), the
    error in words when it failed, and the track when it succeeded."""
    return _view(request, _mine(request, job_id, user), log_from=since)


@router.post("/{job_id}/cancel")
def cancel_job(request: Request, job_id: str, user: CurrentUser) -> dict[str, Any]:
    """Cancel a job: a queued one at once, a running one at the worker's next progress
    report (its state stays ``running`` with ``cancel_requested`` until then). 409 once it
    has finished."""
    return _view(request, services(request).queue.cancel(job_id, user.id))
