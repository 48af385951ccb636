"""The web service under load: many listeners streaming a track at once, and how many songs a
minute two workers make.

Everything runs on this machine, over loopback: a fresh data folder (SQLite in it, or the
PostgreSQL database given), the real server as a subprocess (``overture serve``; with
``--server-workers N`` uvicorn's own N processes), an account made through ``/api/signup``,
and one track made by ``overture worker --once`` and published, to stream.

* **Streaming**: ``--clients`` concurrent clients (asyncio and httpx, one connection each, as
  browsers have) play the track for ``--seconds``: each asks ``GET /api/tracks/{id}/audio``
  over and over, most requests with a ``Range`` of 64 KiB at a random offset (a player
  buffering and seeking: 206), one in ten for the whole file read to the end (200). Printed:
  requests and requests per second, time to first byte (request sent to the headers and the
  first bytes of the body) p50, p99 and max, MB/s of audio served, the errors by kind, and
  the CPU time the clients spent: a Python client on few cores can be the bottleneck itself
  (``--client-processes K`` splits the clients over K processes).
* **Jobs**: ``overture worker --concurrency W`` (``--workers``, 2) beside the server; after
  one short warm-up song per worker (imports, the renderer's processes: what a long-running
  worker has paid already), ``--jobs`` songs of ``--job-duration`` seconds (think
  ``medium``, a few styles, fixed seeds) are submitted at once and followed until they end.
  Printed: jobs per minute (first submission to last success, as the client saw them), the
  mean and p50 seconds per job from created to finished, the time queued and making, and the
  failures.

The server and workers share the machine with the clients, so on a small machine the numbers
are the whole system's, not the server's alone.

    .venv/bin/python bench/serve.py [--clients 200] [--seconds 30] [--client-processes 1]
        [--jobs 8] [--job-duration 30] [--workers 2] [--server-workers 1]
        [--database sqlite|postgresql --database-url URL] [--redis URL]
        [--signed-in] [--skip-stream] [--skip-jobs] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

RANGE_BYTES = 64 * 1024
FULL_EVERY = 10  # one request in this many streams the whole file
STYLES = (
    "upbeat pop song, 120 bpm, G major",
    "calm lo-fi piano, 80 bpm, A minor",
    "driving rock with electric guitar and drums, 140 bpm, E minor",
    "gentle folk waltz with acoustic guitar, 3/4, D major",
    "dark cinematic strings, 70 bpm, C minor",
    "funky disco groove with bass and brass, 118 bpm, F major",
)
BIN = Path(sys.executable).parent


# --- the processes -------------------------------------------------------------------------


@dataclass
class Stack:
    """The subprocesses started here (each in its own process group) and their logs."""

    work: Path
    env: dict[str, str]
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.work / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
        """SIGTERM to the process's group (a worker finishes its song first), then SIGKILL."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # children left behind, too
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        self.procs = [(n, p) for n, p in self.procs if p is not proc]

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            self.stop(proc, grace=5.0)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.work / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def log_problems(self, name: str) -> Counter[str]:
        """Lines of a log that speak of trouble, counted by their first 120 characters."""
        path = self.work / f"{name}.log"
        found: Counter[str] = Counter()
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                if any(w in line for w in ("Traceback", "ERROR", "Error", "Exception", "WARNING")):
                    found[line.strip()[:120]] += 1
        return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(stack: Stack, port: int, server_workers: int) -> str:
    """The server on ``port``; its base URL once ``/healthz`` answers."""
    if server_workers <= 1:
        cmd = [str(BIN / "overture"), "serve", "--port", str(port)]
    else:
        # The schema first, in one process, so that uvicorn's processes do not race to migrate.
        migrate = (
            "from overture.app.settings import Settings;"
            "from overture.app.db import make_engine, migrate;"
            "migrate(make_engine(Settings.from_env().database_url))"
        )
        subprocess.run([sys.executable, "-c", migrate], env=stack.env, check=True)
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "overture.app.web:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(server_workers),
            "--log-level",
            "warning",
        ]
    proc = stack.start("server", cmd)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped at start:\n{stack.log_tail('server')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return base
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz in 90 s:\n{stack.log_tail('server')}")


# --- the API -------------------------------------------------------------------------------


def sign_up(base: str) -> httpx.Client:
    """A client signed in to a new account (an admin when it is the database's first, else a
    creator: both may make songs), which sends the CSRF token with every request."""
    client = httpx.Client(base_url=base, timeout=30)
    r = client.post(
        "/api/signup",
        json={
            "email": f"bench-{os.getpid()}-{int(time.time())}@example.com",
            "password": "bench-password-123",
            "display_name": "b",
        },
    )
    r.raise_for_status()
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


def submit(api: httpx.Client, prompt: str, duration: float, seed: int) -> dict[str, Any]:
    r = api.post(
        "/api/jobs",
        json={"prompt": prompt, "duration": duration, "seed": seed, "think": "medium"},
    )
    if r.status_code != 201:
        raise SystemExit(f"POST /api/jobs: {r.status_code} {r.text}")
    return r.json()


def follow(
    api: httpx.Client, ids: list[str], timeout: float, poll: float = 0.25
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """Poll the jobs until each has ended: their last views, and when (monotonic) each was
    first seen ended."""
    last: dict[str, dict[str, Any]] = {}
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(ids) and time.monotonic() < deadline:
        for job_id in ids:
            if job_id in seen:
                continue
            r = api.get(f"/api/jobs/{job_id}")
            if r.status_code != 200:
                continue
            last[job_id] = r.json()
            if last[job_id]["state"] in ("succeeded", "failed", "cancelled"):
                seen[job_id] = time.monotonic()
        time.sleep(poll)
    return last, seen


def make_track(stack: Stack, api: httpx.Client, duration: float) -> tuple[str, int]:
    """A published track to stream, made by ``overture worker --once``: (id, audio bytes)."""
    job = submit(api, STYLES[0], duration, 1)
    t = time.perf_counter()
    seed_worker = stack.start("seed-worker", [str(BIN / "overture"), "worker", "--once"])
    if seed_worker.wait() != 0:
        raise SystemExit(f"`overture worker --once` failed:\n{stack.log_tail('seed-worker')}")
    view = api.get(f"/api/jobs/{job['id']}").json()
    if view["state"] != "succeeded":
        raise SystemExit(f"the track to stream was not made: {view['state']} {view['error']}")
    track_id = view["track_id"]
    api.post(f"/api/tracks/{track_id}/publish").raise_for_status()
    size = len(api.get(f"/api/tracks/{track_id}/audio").content)
    print(
        f"track to stream: {track_id}, {size / 1e6:.2f} MB of FLAC for {duration:g} s of song "
        f"(made in {time.perf_counter() - t:.1f} s by `overture worker --once`)"
    )
    return track_id, size


# --- streaming -----------------------------------------------------------------------------


@dataclass
class StreamResult:
    ttfb: list[float] = field(default_factory=list)  # seconds, requests answered 200/206
    ranged: int = 0
    full: int = 0
    nbytes: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    cpu: float = 0.0

    def merge(self, other: StreamResult) -> None:
        self.ttfb += other.ttfb
        self.ranged += other.ranged
        self.full += other.full
        self.nbytes += other.nbytes
        self.errors.update(other.errors)
        self.wall = max(self.wall, other.wall)
        self.cpu += other.cpu


async def _listener(
    client: httpx.AsyncClient, url: str, size: int, deadline: float, rng: random.Random
) -> StreamResult:
    res = StreamResult()
    while time.monotonic() < deadline:
        full = rng.randrange(FULL_EVERY) == 0
        headers = {}
        if not full:
            first = rng.randrange(max(1, size - RANGE_BYTES))
            headers["Range"] = f"bytes={first}-{min(size, first + RANGE_BYTES) - 1}"
        t = time.perf_counter()
        try:
            async with client.stream("GET", url, headers=headers) as r:
                got, first_at = 0, None
                async for chunk in r.aiter_raw():
                    if first_at is None:
                        first_at = time.perf_counter()
                    got += len(chunk)
            if r.status_code != (200 if full else 206):
                res.errors[f"HTTP {r.status_code}"] += 1
                continue
            expected = size if full else min(size, first + RANGE_BYTES) - first
            if got != expected:
                res.errors["short body"] += 1
                continue
            res.ttfb.append((first_at or time.perf_counter()) - t)
            res.nbytes += got
            if full:
                res.full += 1
            else:
                res.ranged += 1
        except httpx.HTTPError as e:
            res.errors[type(e).__name__] += 1
            await asyncio.sleep(0.05)  # a refused connection must not spin
    return res


async def _stream_async(
    base: str, track_id: str, size: int, clients: int, seconds: float, seed: int, cookies: dict
) -> StreamResult:
    url = f"{base}/api/tracks/{track_id}/audio"
    timeout = httpx.Timeout(60.0, connect=30.0)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    pool = [
        httpx.AsyncClient(timeout=timeout, limits=limits, cookies=cookies) for _ in range(clients)
    ]
    try:
        deadline = time.monotonic() + seconds
        t = time.perf_counter()
        parts = await asyncio.gather(
            *(
                _listener(c, url, size, deadline, random.Random(seed * 100_003 + i))
                for i, c in enumerate(pool)
            )
        )
        wall = time.perf_counter() - t
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    total = StreamResult()
    for part in parts:
        total.merge(part)
    total.wall = wall
    return total


def stream_part(
    base: str, track_id: str, size: int, clients: int, seconds: float, seed: int, cookies: dict
) -> dict[str, Any]:
    """One process's share of the listeners (the CPU time is this process's own), as plain
    values to cross from a client process."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    res = asyncio.run(_stream_async(base, track_id, size, clients, seconds, seed, cookies))
    after = resource.getrusage(resource.RUSAGE_SELF)
    res.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**vars(res), "errors": dict(res.errors)}


def _result(values: dict[str, Any]) -> StreamResult:
    return StreamResult(**{**values, "errors": Counter(values["errors"])})


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def run_stream(
    base: str,
    track_id: str,
    size: int,
    clients: int,
    seconds: float,
    procs: int,
    cookies: dict,
    server_pids: list[int],
) -> None:
    server_cpu = _cpu_of(server_pids)
    if procs <= 1:
        res = _result(stream_part(base, track_id, size, clients, seconds, 1, cookies))
    else:
        shares = [clients // procs + (i < clients % procs) for i in range(procs)]
        with multiprocessing.get_context("spawn").Pool(procs) as pool:
            parts = pool.starmap(
                stream_part,
                [(base, track_id, size, n, seconds, i + 1, cookies) for i, n in enumerate(shares)],
            )
        res = StreamResult()
        for part in parts:
            res.merge(_result(part))
    server_cpu = _cpu_of(server_pids) - server_cpu
    done = len(res.ttfb)
    ms = sorted(x * 1000 for x in res.ttfb)
    errors = sum(res.errors.values())
    print(
        f"\nstreaming: {clients} clients ({procs} process{'es' if procs > 1 else ''}) "
        f"for {seconds:g} s, wall {res.wall:.1f} s"
    )
    print(
        f"  requests ok      {done} ({res.ranged} ranges of {RANGE_BYTES // 1024} KiB, "
        f"{res.full} whole files), errors {errors}" + (f": {dict(res.errors)}" if errors else "")
    )
    print(f"  requests/s       {done / res.wall:.1f}")
    print(
        f"  TTFB ms          p50 {_pct(ms, 0.5):.1f}  p99 {_pct(ms, 0.99):.1f}  "
        f"max {(ms[-1] if ms else float('nan')):.1f}  mean "
        f"{(statistics.fmean(ms) if ms else float('nan')):.1f}"
    )
    print(f"  served           {res.nbytes / res.wall / 1e6:.1f} MB/s")
    print(
        f"  CPU              clients {res.cpu:.1f} s ({res.cpu / res.wall:.0%} of a core), "
        f"server {server_cpu:.1f} s ({server_cpu / res.wall:.0%} of a core); "
        f"{os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f}"
    )


def _cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds so far of these processes and their children (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in _with_children(pids):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _with_children(pids: list[int]) -> list[int]:
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = (task / "children").read_text().split()
                todo += [int(c) for c in children]
    return out


# --- jobs ----------------------------------------------------------------------------------


def _t(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s.removesuffix("Z")) if s else None


def run_jobs(
    stack: Stack, api: httpx.Client, jobs: int, duration: float, workers: int, timeout: float
) -> None:
    proc = stack.start("worker", [str(BIN / "overture"), "worker", "--concurrency", str(workers)])
    try:
        t = time.perf_counter()
        warm = [submit(api, STYLES[0], 3, 1000 + i)["id"] for i in range(workers)]
        views, _ = follow(api, warm, timeout)
        bad = [v["state"] for v in views.values() if v["state"] != "succeeded"]
        if len(views) < len(warm) or bad:
            raise SystemExit(f"warm-up songs failed: {bad}\n{stack.log_tail('worker')}")
        print(
            f"\njobs: {workers} workers (`overture worker --concurrency {workers}`), warm-up of "
            f"{workers} 3 s songs took {time.perf_counter() - t:.1f} s"
        )

        t0 = time.monotonic()
        ids = [submit(api, STYLES[i % len(STYLES)], duration, 7 + i)["id"] for i in range(jobs)]
        views, seen = follow(api, ids, timeout)
        if proc.poll() is not None:
            print(f"  the worker stopped:\n{stack.log_tail('worker')}")
    finally:
        stack.stop(proc, grace=30.0)

    ok = [v for v in views.values() if v["state"] == "succeeded"]
    failed = [v for v in views.values() if v["state"] != "succeeded"]
    unfinished = len(ids) - len(seen)
    end = max((seen[v["id"]] for v in ok), default=t0)
    span = end - t0
    per_job = sorted(
        (_t(v["finished_at"]) - _t(v["created_at"])).total_seconds()  # type: ignore[operator]
        for v in ok
    )
    queued = [(_t(v["started_at"]) - _t(v["created_at"])).total_seconds() for v in ok]  # type: ignore[operator]
    making = [(_t(v["finished_at"]) - _t(v["started_at"])).total_seconds() for v in ok]  # type: ignore[operator]
    print(f"  {jobs} songs of {duration:g} s (think medium, {min(jobs, len(STYLES))} styles)")
    print(
        f"  jobs/minute      {len(ok) / span * 60 if ok and span > 0 else 0.0:.1f}  "
        f"({len(ok)} succeeded in {span:.1f} s from the first submission)"
    )
    if ok:
        print(
            f"  s/job created→finished  mean {statistics.fmean(per_job):.1f}  "
            f"p50 {statistics.median(per_job):.1f}  max {per_job[-1]:.1f}  "
            "(the API's times are to the second)"
        )
        print(
            f"  s/job queued     mean {statistics.fmean(queued):.1f};  making: mean "
            f"{statistics.fmean(making):.1f}  p50 {statistics.median(making):.1f}"
        )
    print(
        f"  failures         {len(failed)}"
        + "".join(f"\n    {v['id']}: {v['state']} {v['error']}" for v in failed)
        + (f"; {unfinished} not finished within {timeout:g} s" if unfinished else "")
    )
    retried = sum(1 for v in views.values() if (v.get("attempts") or 0) > 1)
    if retried:
        print(f"  jobs taken more than once: {retried}")


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=200, help="concurrent streaming clients")
    ap.add_argument("--seconds", type=float, default=30.0, help="how long they stream")
    ap.add_argument("--client-processes", type=int, default=1, help="split the clients")
    ap.add_argument("--signed-in", action="store_true", help="stream with the session cookie")
    ap.add_argument("--jobs", type=int, default=8, help="songs submitted for the jobs part")
    ap.add_argument("--job-duration", type=float, default=30.0, help="their length, seconds")
    ap.add_argument("--job-timeout", type=float, default=900.0, help="seconds to wait for them")
    ap.add_argument("--workers", type=int, default=2, help="songs made at a time")
    ap.add_argument("--server-workers", type=int, default=1, help="uvicorn processes")
    ap.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--database-url", default=None, help="with --database postgresql")
    ap.add_argument("--redis", default=None, help="Redis URL for progress and limits")
    ap.add_argument("--skip-stream", action="store_true")
    ap.add_argument("--skip-jobs", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the data folder and the logs")
    args = ap.parse_args()
    if args.database == "postgresql" and not args.database_url:
        ap.error("--database postgresql needs --database-url")

    work = Path(tempfile.mkdtemp(prefix="overture-bench-serve-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OVERTURE_")}
    keep = ("OVERTURE_SOUNDFONT", "OVERTURE_POLL_SECONDS", "OVERTURE_RENDER_WORKERS")
    env.update({k: os.environ[k] for k in keep if k in os.environ})
    env.update(
        OVERTURE_DATA_DIR=str(work / "data"),
        OVERTURE_MAX_JOBS_PER_USER="1000",
        OVERTURE_SECRET_KEY="bench-secret-key-not-for-production",
    )
    if args.database == "postgresql":
        env["OVERTURE_DATABASE_URL"] = args.database_url
    if args.redis:
        env["OVERTURE_REDIS_URL"] = args.redis
    stack = Stack(work, env)
    # Ctrl-C and SIGTERM both unwind through the finally below, which stops every process.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        port = _free_port()
        base = start_server(stack, port, args.server_workers)
        print(
            f"server: {base} ({args.server_workers} uvicorn process"
            f"{'es' if args.server_workers > 1 else ''}), database {args.database}, "
            f"redis {'yes' if args.redis else 'no'}; data in {work}"
        )
        api = sign_up(base)
        if not args.skip_stream:
            track_id, size = make_track(stack, api, args.job_duration)
            cookies = dict(api.cookies) if args.signed_in else {}
            server = [p.pid for n, p in stack.procs if n == "server"]
            run_stream(
                base,
                track_id,
                size,
                args.clients,
                args.seconds,
                args.client_processes,
                cookies,
                server,
            )
            problems = stack.log_problems("server")
            if problems:
                print("  server log, lines that speak of trouble:")
                for line, n in problems.most_common(8):
                    print(f"    {n:>5} × {line}")
        if not args.skip_jobs:
            run_jobs(stack, api, args.jobs, args.job_duration, args.workers, args.job_timeout)
        api.close()
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the server and the workers")
    finally:
        stack.stop_all()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
