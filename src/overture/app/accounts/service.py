"""Sign-up, sign-in and sessions.

Passwords are kept as Argon2id hashes (argon2-cffi's defaults, re-hashed on sign-in when the
defaults grow stronger). A session is an opaque random token in the browser's cookie; the
database keeps only its SHA-256, so a leaked database copy signs nobody in. CSRF tokens are
derived from the session (an HMAC under the service's secret key), so each session has its
own and the server stores nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError

from overture.app.db import session_factory, utcnow
from overture.app.demo import DEMO_EMAIL
from overture.app.errors import Conflict, Invalid, NotFound, Unauthorized
from overture.app.models import ROLES, AuthSession, User

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()
# Verified against when the email is unknown, so that a wrong email takes as long as a wrong
# password and response times do not tell which addresses have accounts.
_DUMMY_HASH = _hasher.hash("overture: no such account")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the user and the token for their cookie (never stored as it is)."""

    user: User
    token: str
    expires_in: timedelta


class AccountService:
    def __init__(self, engine: Engine, *, secret_key: str, session_days: float = 30.0) -> None:
        self.Session = session_factory(engine)
        self.secret = secret_key.encode("utf-8")
        self.session_length = timedelta(days=session_days)

    # -- accounts ----------------------------------------------------------------------

    def sign_up(self, email: str, password: str, display_name: str = "") -> SignedIn:
        """Create an account and sign it in. The first person's account is an admin (the
        demo catalog's account does not count); later ones are creators (they make songs)."""
        email = email.strip().lower()
        if not _EMAIL.match(email) or len(email) > 320:
            raise Invalid("that does not look like an email address")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise Invalid(f"the password must be at least {MIN_PASSWORD} characters long")
        name = display_name.strip()[:100] or email.split("@", 1)[0]
        with self.Session.begin() as s:
            if s.scalar(select(User.id).where(User.email == email)) is not None:
                raise Conflict("an account with that email already exists")
            people = select(func.count()).select_from(User).where(User.email != DEMO_EMAIL)
            first = not s.scalar(people)
            user = User(
                email=email,
                display_name=name,
                password_hash=_hasher.hash(password),
                role="admin" if first else "creator",
                created_at=utcnow(),
            )
            s.add(user)
            try:
                s.flush()
            except IntegrityError:  # signed up twice at once
                raise Conflict("an account with that email already exists") from None
        return self._new_session(user)

    def sign_in(self, email: str, password: str) -> SignedIn:
        """A new session for the right email and password; ``Unauthorized`` otherwise (the
        same answer for an unknown email as for a wrong password)."""
        email = email.strip().lower()
        with self.Session.begin() as s:
            user = s.scalar(select(User).where(User.email == email))
            try:
                _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                user = None
            if user is None:
                raise Unauthorized("wrong email or password")
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
        return self._new_session(user)

    def set_role(self, email: str, role: str) -> User:
        if role not in ROLES:
            raise Invalid(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
        with self.Session.begin() as s:
            user = s.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                raise NotFound(f"no account with the email {email!r}")
            user.role = role
        return user

    # -- sessions ----------------------------------------------------------------------

    def _new_session(self, user: User) -> SignedIn:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.Session.begin() as s:
            s.add(
                AuthSession(
                    token_hash=token_hash(token),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + self.session_length,
                )
            )
            s.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        return SignedIn(user, token, self.session_length)

    def user_for(self, token: str | None) -> User | None:
        """The user a session token belongs to, while the session lasts."""
        if not token:
            return None
        with self.Session() as s:
            return s.scalar(
                select(User)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(AuthSession.token_hash == token_hash(token))
                .where(AuthSession.expires_at > utcnow())
            )

    def sign_out(self, token: str) -> None:
        with self.Session.begin() as s:
            s.execute(delete(AuthSession).where(AuthSession.token_hash == token_hash(token)))

    def csrf_token(self, session_token: str) -> str:
        """The CSRF token of a session."""
        return hmac.new(self.secret, b"csrf:" + session_token.encode(), "sha256").hexdigest()

    def csrf_ok(self, session_token: str, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf_token(session_token), given or "")
