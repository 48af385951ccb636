"""Running the web app with workers beside it (``overture serve``): listen first, say where
only once listening, and stop cleanly on Ctrl-C at any moment.

Stopping is in two steps. The first Ctrl-C (or SIGTERM) stops the web server and asks the
workers to finish the song they are making; a second one, or ``grace`` seconds without them
finishing, stops them at once. Workers run in a process group of their own, so that stopping
them at once also stops the processes they started (more workers, render pools) instead of
leaving them behind; a song cut off that way is made again by the next worker to start.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from overture.errors import OvertureError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from overture.app.settings import Settings


STOP_GRACE_S = 60.0  # how long the first Ctrl-C waits for a song being made


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or a clear error (the port is taken, the address is
    not this machine's) before anything else is started."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise OvertureError(
            f"cannot listen on {host}:{port}: {e.strerror or e} (choose another --port or --host)"
        ) from None
    return sock


def serve(
    app: Any,
    sock: socket.socket,
    *,
    settings: Settings,
    workers: int = 0,
    on_ready: Callable[[], None] | None = None,
    on_stopping: Callable[[], None] | None = None,
    grace: float = STOP_GRACE_S,
) -> None:
    """Serve ``app`` on the bound ``sock`` until Ctrl-C or SIGTERM, with ``workers`` song
    makers beside it (stopped with it). ``on_ready`` is called once requests are accepted;
    ``on_stopping`` when the workers are still finishing a song a moment after the stop."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started and on_ready is not None:
                on_ready()

    # The server stops on SIGTERM as on Ctrl-C, then raises the signal again: as an exception
    # here, not the default action, which would end this process and orphan the workers.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    # No lifespan events are used; proxy headers give the client's address behind a proxy.
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app, host=host, port=port, proxy_headers=True, log_level="warning", lifespan="off"
    )
    server = Server(config)
    child = None
    try:
        if workers:
            ctx = multiprocessing.get_context("spawn")
            child = ctx.Process(
                target=_run_workers, args=(settings, workers), name="overture-workers"
            )
            child.start()
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # the stop the server caught, raised again; or one before it ran
        pass
    finally:
        if child is not None and child.pid is not None:
            stop_workers(child, grace=grace, on_stopping=on_stopping)


def stop_workers(
    child: BaseProcess, *, grace: float, on_stopping: Callable[[], None] | None = None
) -> None:
    """Ask the workers' process to finish its song and stop; after ``grace`` seconds, or at
    a Ctrl-C while waiting, stop its whole process group at once."""
    try:
        child.terminate()  # a worker finishes the song it is making, then stops
        child.join(min(1.0, grace))
        if child.is_alive():
            if on_stopping is not None:
                on_stopping()
            child.join(max(0.0, grace - 1.0))
    except KeyboardInterrupt:
        pass
    if child.is_alive():
        _kill_group(child)
        child.join(10)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _kill_group(child: BaseProcess) -> None:
    pid = child.pid
    if pid is None:
        return
    try:
        if os.getpgid(pid) == pid:  # the group the workers made for themselves
            os.killpg(pid, signal.SIGKILL)
            return
    except ProcessLookupError:
        return
    child.kill()


def _run_workers(settings: Settings, concurrency: int) -> None:
    # A group of its own: a terminal's Ctrl-C reaches the server only, which stops the
    # workers in order; and stopping them at once reaches every process they started.
    os.setpgrp()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from overture.app.jobs.worker import run_workers

    run_workers(settings, concurrency=concurrency)
