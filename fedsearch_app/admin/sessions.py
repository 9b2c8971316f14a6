"""Admin sessions, CSRF tokens and the failed-login lockout.

- A session is a row in admin.sqlite3 (so logging out or changing a password
  really ends it); the cookie carries its random id, signed with itsdangerous
  (Settings.secret_key / FEDSEARCH_SECRET_KEY, else a random key kept in
  data_dir/secret_key). HttpOnly, SameSite=Strict, path /admin, and Secure
  unless server.secure_cookies is false (local http testing).
- Each session has its CSRF token; every form carries it in a hidden field and
  every POST is refused (403) without it. The login form, before any session,
  uses a token in a short-lived cookie that the form must repeat.
- 5 failed logins for a name (or 20 from one address) within 15 minutes lock
  it for 15 minutes; the login page says until when.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from fedsearch.config import Settings
from fedsearch_app.admin.db import AdminDB, now, stamp
from fedsearch_app.admin.users import User

COOKIE = "fedsearch_admin"
LOGIN_COOKIE = "fedsearch_admin_login"
COOKIE_PATH = "/admin"
SESSION_LIFETIME = timedelta(hours=12)
LOGIN_FORM_LIFETIME = timedelta(hours=1)
MAX_FAILURES = 5  # per account name
MAX_FAILURES_PER_ADDRESS = 20
LOCKOUT = timedelta(minutes=15)
SECRET_FILE = "secret_key"  # noqa: S105 - a file name


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept (mode 600) in the data directory."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it just now
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass
class Session:
    key: str  # the stored digest of the session id
    user: User
    csrf: str
    expires_at: str


class Sessions:
    def __init__(self, db: AdminDB, secret: str, secure: bool):
        self.db = db
        self.secure = secure
        self._signer = URLSafeTimedSerializer(secret, salt="fedsearch-admin-session")
        self._login_signer = URLSafeTimedSerializer(secret, salt="fedsearch-admin-login")

    # -- sessions ---------------------------------------------------------------------------

    def create(self, user: User) -> tuple[str, Session]:
        """A new session; returns the cookie value and the session."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = stamp(now() + SESSION_LIFETIME)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (stamp(),))
            conn.execute(
                "INSERT INTO sessions (id, username, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), user.username, csrf, stamp(), expires),
            )
        return self._signer.dumps(session_id), Session(_digest(session_id), user, csrf, expires)

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            session_id = self._signer.loads(cookie, max_age=int(SESSION_LIFETIME.total_seconds()))
        except BadSignature:
            return None
        row = (
            self.db.conn()
            .execute(
                "SELECT s.id, s.csrf, s.expires_at, u.username, u.role, u.created_at, u.updated_at "
                "FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = ?",
                (_digest(str(session_id)),),
            )
            .fetchone()
        )
        if row is None or row["expires_at"] < stamp():
            return None
        user = User(row["username"], row["role"], row["created_at"], row["updated_at"])
        return Session(row["id"], user, row["csrf"], row["expires_at"])

    def end(self, session: Session) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session.key,))

    def end_others(self, session: Session) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE username = ? AND id != ?", (session.user.username, session.key))

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE,
            value,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=self.secure)

    # -- the login form's CSRF token (before there is a session) -----------------------------------

    def new_login_token(self) -> str:
        return secrets.token_urlsafe(32)

    def set_login_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            LOGIN_COOKIE,
            self._login_signer.dumps(token),
            max_age=int(LOGIN_FORM_LIFETIME.total_seconds()),
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )

    def login_token_ok(self, cookie: str | None, submitted: str | None) -> bool:
        if not cookie:
            return False
        try:
            token = self._login_signer.loads(cookie, max_age=int(LOGIN_FORM_LIFETIME.total_seconds()))
        except BadSignature:
            return False
        return same_token(str(token), submitted)


class LoginThrottle:
    """Counts failed logins per account name and per address; too many lock for LOCKOUT."""

    def __init__(self, db: AdminDB):
        self.db = db

    @staticmethod
    def keys(username: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(f"user:{(username or '').strip().lower()}", MAX_FAILURES)]
        if address:
            keys.append((f"ip:{address}", MAX_FAILURES_PER_ADDRESS))
        return keys

    def locked_until(self, username: str, address: str | None) -> datetime | None:
        """When the lock on this name or address ends; None when not locked."""
        until = None
        conn = self.db.conn()
        for key, _ in self.keys(username, address):
            row = conn.execute("SELECT locked_until FROM login_failures WHERE key = ?", (key,)).fetchone()
            if row and row["locked_until"] and row["locked_until"] > stamp():
                when = datetime.fromisoformat(row["locked_until"])
                until = max(until, when) if until else when
        return until

    def failed(self, username: str, address: str | None) -> datetime | None:
        """Count a failure; returns the end of the lock if this one locked the name or address."""
        t = now()
        locked = None
        with self.db.transaction() as conn:
            for key, limit in self.keys(username, address):
                row = conn.execute("SELECT * FROM login_failures WHERE key = ?", (key,)).fetchone()
                if (
                    row is None
                    or row["first_at"] < stamp(t - LOCKOUT)
                    or (row["locked_until"] and row["locked_until"] <= stamp(t))
                ):
                    failures, first = 1, stamp(t)
                else:
                    failures, first = row["failures"] + 1, row["first_at"]
                until = stamp(t + LOCKOUT) if failures >= limit else None
                if until:
                    locked = t + LOCKOUT
                conn.execute(
                    "INSERT OR REPLACE INTO login_failures (key, failures, first_at, locked_until) VALUES (?, ?, ?, ?)",
                    (key, failures, first, until),
                )
        return locked

    def succeeded(self, username: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (f"user:{username.strip().lower()}",))
