"""The service's configuration, read once from the environment into one frozen value."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from overture.errors import InvalidInputError

DEFAULT_DATA_DIR = Path("data")
SECRET_FILE = "secret_key"


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum:g}, got {raw}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the web app and the worker are configured by.

    ``secret_key`` signs the CSRF tokens; when ``OVERTURE_SECRET_KEY`` is not set it is
    generated once and kept in ``data_dir/secret_key`` so that restarts keep sessions valid.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    redis_url: str | None = None
    max_jobs_per_user: int = 2
    lease_seconds: float = 60.0
    max_attempts: int = 3
    session_days: float = 30.0
    secret_key: str = field(default="", repr=False)
    # The worker: how often it looks for work when idle and writes progress to the database.
    poll_seconds: float = 1.0
    progress_seconds: float = 1.0
    render_workers: int = 2
    soundfont: Path | None = None  # None: the engine's own choice ($OVERTURE_SOUNDFONT, ...)
    # The largest demo upload (``POST /api/jobs/arrange``): larger ones are refused with 413
    # before they are read whole.
    max_upload_bytes: int = 25 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.database_url:
            db = (self.data_dir / "overture.db").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{db}")

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def with_secret(self) -> Settings:
        """These settings with a secret key: the given one, or the one stored in the data
        folder (made on first use, readable only by its owner)."""
        if self.secret_key:
            return self
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(secrets.token_urlsafe(48))
        return replace(self, secret_key=path.read_text(encoding="utf-8").strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``OVERTURE_*`` variables; unset ones take their defaults."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("OVERTURE_DATA_DIR") or DEFAULT_DATA_DIR)
        soundfont = env.get("OVERTURE_SOUNDFONT")
        return cls(
            data_dir=data_dir,
            database_url=env.get("OVERTURE_DATABASE_URL", ""),
            redis_url=env.get("OVERTURE_REDIS_URL") or None,
            max_jobs_per_user=int(_number(env, "OVERTURE_MAX_JOBS_PER_USER", 2, minimum=1)),
            lease_seconds=_number(env, "OVERTURE_LEASE_SECONDS", 60.0, minimum=1),
            max_attempts=int(_number(env, "OVERTURE_MAX_ATTEMPTS", 3, minimum=1)),
            session_days=_number(env, "OVERTURE_SESSION_DAYS", 30.0, minimum=0.01),
            secret_key=env.get("OVERTURE_SECRET_KEY", ""),
            poll_seconds=_number(env, "OVERTURE_POLL_SECONDS", 1.0, minimum=0.01),
            render_workers=int(_number(env, "OVERTURE_RENDER_WORKERS", 2, minimum=1)),
            soundfont=Path(soundfont) if soundfont else None,
            max_upload_bytes=int(
                _number(env, "OVERTURE_MAX_UPLOAD_MB", 25, minimum=0.01) * 1024 * 1024
            ),
        ).with_secret()
