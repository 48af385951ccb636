"""A progress bar on the terminal for the command line (nothing when stderr is not one)."""

from __future__ import annotations

from typing import Any


class ProgressBar:
    """``with ProgressBar(enabled) as bar: bar(stage, fraction)``; a ``Progress`` callback."""

    def __init__(self, enabled: bool, *, width: int = 34) -> None:
        self.width = width
        self.progress: Any = None
        self.task: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn(f"{{task.description:<{width}}}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> ProgressBar:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("starting", total=1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, stage: str, fraction: float) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(
                self.task, description=stage[: self.width], completed=min(1.0, fraction)
            )
