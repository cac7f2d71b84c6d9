"""Staff credentials: argon2id password hashes, random secrets (API tokens, session ids, CSRF
tokens) and the SHA-256 digests under which the store keeps them.

Nothing here touches the web or the database: staff.py and cli.py put the pieces together.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 10  # characters
MAX_PASSWORD = 1000  # argon2 takes any length; this only bounds the work a login can cause


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """argon2-cffi's hasher with its defaults (argon2id, RFC 9106 low-memory profile)."""
    return PasswordHasher()


def check_password(password: str) -> str:
    """The password if it is acceptable for a new account; ValueError saying why not."""
    if not password.strip():
        raise ValueError("the password is empty")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"the password is too long: use at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    """An argon2id hash of the password (salted, in PHC string format)."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches the hash; a missing hash costs the same time."""
    if len(password) > MAX_PASSWORD:
        return False
    try:  # an unknown name does the same work, so that timing tells nothing
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    return _hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def new_secret() -> str:
    """A new random secret (256 bits, URL-safe): an API token, a session id or a CSRF token."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a token or session id is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets; False if either is missing or empty."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())
