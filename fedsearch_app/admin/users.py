"""Local admin accounts: argon2 password hashes, two roles, and `fedsearch admin create-user`.

Roles: `admin` manages accounts and everything else; `librarian` manages
sources and harvests.
"""

from __future__ import annotations

import getpass
import re
import sys
from dataclasses import dataclass
from typing import Literal, TextIO

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from fedsearch.config import Settings
from fedsearch.errors import FedsearchError
from fedsearch_app.admin.db import AdminDB, stamp

Role = Literal["admin", "librarian"]
ROLES: tuple[Role, ...] = ("admin", "librarian")
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._@-]{1,62}$"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_hasher = PasswordHasher()
# Verified when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class AccountError(FedsearchError, ValueError):
    """A username, role or password that can't be used; the message says why."""

    error_code = "admin.account"


@dataclass
class User:
    username: str
    role: Role
    created_at: str
    updated_at: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not re.match(USERNAME_PATTERN, name):
        raise AccountError(
            "a username has 2 to 63 characters: Latin letters, digits and . _ @ -, starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return password


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise AccountError(f"the role must be one of: {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


class UserStore:
    def __init__(self, db: AdminDB):
        self.db = db

    def _user(self, row) -> User:
        return User(row["username"], row["role"], row["created_at"], row["updated_at"])

    def get(self, username: str) -> User | None:
        row = self.db.conn().execute("SELECT * FROM users WHERE username = ?", ((username or "").lower(),)).fetchone()
        return self._user(row) if row else None

    def all(self) -> list[User]:
        return [self._user(r) for r in self.db.conn().execute("SELECT * FROM users ORDER BY username")]

    def create(self, username: str, password: str, role: str) -> User:
        name, role = check_username(username), check_role(role)
        digest = _hasher.hash(check_password(password))
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM users WHERE username = ?", (name,)).fetchone():
                raise AccountError(f"there is already an account named {name!r}")
            conn.execute(
                "INSERT INTO users (username, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (name, role, digest, stamp(), stamp()),
            )
        return self.get(name)  # type: ignore[return-value]

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password is theirs; None otherwise (same time either way)."""
        row = (
            self.db.conn()
            .execute("SELECT * FROM users WHERE username = ?", ((username or "").strip().lower(),))
            .fetchone()
        )
        try:
            _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password[:MAX_PASSWORD])
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            self._set_hash(row["username"], _hasher.hash(password))
        return self._user(row)

    def _set_hash(self, username: str, digest: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?", (digest, stamp(), username)
            )

    def set_password(self, username: str, password: str) -> None:
        """A new password; the user's other sessions end."""
        self._set_hash(username, _hasher.hash(check_password(password)))
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE username = ?", (username,))

    def set_role(self, username: str, role: str) -> None:
        role = check_role(role)
        with self.db.transaction() as conn:
            if role != "admin":
                self._keep_an_admin(conn, username)
            conn.execute("UPDATE users SET role = ?, updated_at = ? WHERE username = ?", (role, stamp(), username))

    def delete(self, username: str) -> None:
        with self.db.transaction() as conn:
            self._keep_an_admin(conn, username)
            conn.execute("DELETE FROM users WHERE username = ?", (username,))

    @staticmethod
    def _keep_an_admin(conn, username: str) -> None:
        others = conn.execute(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND username != ?", (username,)
        ).fetchone()[0]
        is_admin = conn.execute("SELECT 1 FROM users WHERE username = ? AND role = 'admin'", (username,)).fetchone()
        if is_admin and others == 0:
            raise AccountError("this is the last admin account; make another account admin first")


def read_password(stdin: TextIO | None = None, stderr: TextIO | None = None) -> str:
    """From stdin when it is not a terminal (one line); otherwise prompted twice."""
    stdin, stderr = stdin or sys.stdin, stderr or sys.stderr
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ", stream=stderr)
    second = getpass.getpass("Password again: ", stream=stderr)
    if first != second:
        raise AccountError("the two passwords are not the same")
    return first


def create_user_cli(settings: Settings, username: str, role: str) -> int:
    """`fedsearch admin create-user NAME [--role admin|librarian]`."""
    from fedsearch_app.admin.audit import AuditLog

    db = AdminDB.for_data_dir(settings.data_dir)
    try:
        name = check_username(username)
        check_role(role)
        if UserStore(db).get(name):
            raise AccountError(f"there is already an account named {name!r}")
        user = UserStore(db).create(name, read_password(), role)
    except AccountError as err:
        print(f"fedsearch admin create-user: {err}", file=sys.stderr)
        return 1
    AuditLog(db).record("command line", "user.create", user.username, {"role": user.role})
    where = settings.config_path.resolve() if settings.config_path else "no configuration file: built-in defaults"
    print(
        f"created the {user.role} account {user.username!r} in {db.path}\n"
        f"  data_dir {settings.data_dir} (configuration: {where}); a server must use this data_dir to accept it"
    )
    return 0
