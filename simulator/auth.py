"""Users, roles and passwords (argon2id via argon2-cffi).

There are no default passwords: the first admin is created by whoever installs Tenang
(``needs_first_admin`` tells the app to ask for one; ``python -m simulator users add`` does the
same from the command line). Error messages name the field and the value, never the password.
"""

from __future__ import annotations

import re
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from simulator.store.models import NAME_MAX, ROLES, Role
from simulator.store.repository import UserRecord, normalize_email

if TYPE_CHECKING:
    from simulator.store.repository import Repository

__all__ = [
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "ROLES",
    "Role",
    "authenticate",
    "create_user",
    "hash_password",
    "needs_first_admin",
    "set_password",
    "validate_name",
    "validate_password",
    "verify_password",
]

PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # hashing is deliberately slow; do not let anyone hash megabytes
# Letters/digits/underscore of any script, plus . @ + - ' , ( ), words separated by single spaces
# ("Bu Ratna (Admin)", "Dewi O'Neil"). Names are always shown escaped, never as markup.
_NAME_RE = re.compile(r"[\w.@+\-'(),]+(?: [\w.@+\-'(),]+)*")

#: argon2id parameters: the OWASP Password Storage Cheat Sheet's first recommended configuration
#: (m = 19 MiB, t = 2, p = 1). About 0.1 s per hash on one core here (0.3 s on a busy machine),
#: where the library's default (RFC 9106 low-memory: 64 MiB, t = 3, p = 4) took 0.5-0.9 s per
#: sign-in. Hashes made with other parameters are upgraded at the next successful sign-in
#: (``authenticate`` checks ``check_needs_rehash``).
HASH_TIME_COST = 2
HASH_MEMORY_KIB = 19 * 1024
HASH_PARALLELISM = 1
_hasher = PasswordHasher(time_cost=HASH_TIME_COST, memory_cost=HASH_MEMORY_KIB, parallelism=HASH_PARALLELISM)
_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def validate_name(name: object) -> str:
    """A user name: 1-64 characters; letters, digits, ``_ . @ + -`` and single inner spaces."""
    if not isinstance(name, str):
        raise ValueError(f"name: expected a string, got {type(name).__name__}")
    if not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"name: must be 1-{NAME_MAX} characters, got {len(name)}: {name!r}")
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"name: only letters, digits, '_', '.', '@', '+', '-', an apostrophe, ',', '(', ')' and single "
            f"spaces between words "
            f"are allowed, got {name!r}"
        )
    return name


def validate_role(role: object) -> str:
    if role not in ROLES:
        raise ValueError(f"role: unknown value {role!r}; expected one of {', '.join(ROLES)}")
    return str(role)


def validate_password(password: object) -> str:
    """At least 8 and at most 1024 characters. The message never contains the password."""
    if not isinstance(password, str):
        raise ValueError("password: expected a string")
    if len(password) < PASSWORD_MIN:
        raise ValueError(f"password: must be at least {PASSWORD_MIN} characters")
    if len(password) > PASSWORD_MAX:
        raise ValueError(f"password: must be at most {PASSWORD_MAX} characters")
    if not password.strip():
        raise ValueError("password: must not be only whitespace")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(validate_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _burn_verify(password: str) -> None:
    """Spend about as long as a real verification, so an unknown name takes no less time."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(32))  # random, never stored
    verify_password(_dummy_hash, password)


def create_user(
    repo: Repository, name: str, role: str, password: str, email: str | None = None, ui_lang: str = "en"
) -> UserRecord:
    """Validate and add a password user with interface language ``ui_lang``. ValueError
    (ConflictError for a taken name/email)."""
    validate_name(name)
    validate_role(role)
    validate_password(password)
    normalize_email(email)
    return repo.add_user(name, role, _hasher.hash(password), email=email, ui_lang=ui_lang)


def set_password(repo: Repository, user_id: int, password: str) -> None:
    """Replace a user's password (the repository raises NotFoundError for an unknown id) and
    sign out every browser that user was signed in on."""
    from simulator.signins import revoke_user

    repo.set_password_hash(user_id, hash_password(password))
    revoke_user(repo, user_id)


def authenticate(repo: Repository, name: str, password: str) -> UserRecord | None:
    """The user when ``name``/``password`` match an active user, else None.

    Unknown names and users without a password still cost one argon2 verification; inactive
    users are checked after verification, so timing does not reveal which case applied. A hash
    made with outdated parameters is upgraded on a successful login.
    """
    if not isinstance(name, str) or not isinstance(password, str) or len(password) > PASSWORD_MAX:
        _burn_verify("")
        return None
    user = repo.get_user_by_name(name) if 1 <= len(name) <= NAME_MAX else None
    stored = repo.get_password_hash(user.id) if user is not None else None
    if user is None or stored is None:
        _burn_verify(password)
        return None
    if not verify_password(stored, password):
        return None
    if not user.active:
        return None
    try:
        needs_rehash = _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        needs_rehash = False
    if needs_rehash:
        repo.set_password_hash(user.id, _hasher.hash(password))
    return user


#: Failed sign-ins for one name within LOCKOUT before further attempts are refused unchecked.
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)


class TooManyAttempts(Exception):
    """Sign-in refused without checking the password: too many recent failures for this name."""

    def __init__(self, minutes: int):
        self.minutes = minutes
        super().__init__(f"too many failed sign-ins; try again in {minutes} minutes")


def sign_in(repo: Repository, name: str, password: str, now: datetime | None = None) -> UserRecord | None:
    """:func:`authenticate`, rate limited per name: failures are kept in the audit log (shared by
    every app replica), and after MAX_FAILED_SIGN_INS within LOCKOUT the name is refused, even
    with the right password, until the window has passed (``TooManyAttempts``)."""
    from simulator.store.teams import TeamStore

    audit = TeamStore(repo)
    now = now or datetime.now(UTC)
    key = name.strip()[:NAME_MAX] if isinstance(name, str) else ""
    if audit.count_events("sign_in_failed", key, now - LOCKOUT) >= MAX_FAILED_SIGN_INS:
        raise TooManyAttempts(int(LOCKOUT.total_seconds() // 60))
    user = authenticate(repo, name, password)
    if user is None:
        audit.record(None, "sign_in_failed", key)
    return user


def needs_first_admin(repo: Repository) -> bool:
    """True while there are no users at all: the app must ask for the first admin."""
    return repo.count_users() == 0
