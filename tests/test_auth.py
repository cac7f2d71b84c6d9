"""Password hashing, secrets and digests (assistant/auth.py)."""

from __future__ import annotations

import hashlib

import pytest

from assistant import auth


def test_passwords_are_hashed_with_argon2id_and_salted():
    first, second = (
        auth.hash_password("correct horse battery"),
        auth.hash_password("correct horse battery"),
    )
    assert first.startswith("$argon2id$") and first != second
    assert auth.verify_password(first, "correct horse battery")
    assert not auth.verify_password(first, "correct horse batterY")
    assert not auth.needs_rehash(first)


def test_an_unknown_account_or_a_broken_hash_never_verifies():
    assert not auth.verify_password(None, "anything at all")
    assert not auth.verify_password("not a hash", "anything at all")
    assert not auth.verify_password(auth.hash_password("x" * 10), "x" * (auth.MAX_PASSWORD + 1))


@pytest.mark.parametrize(
    ("password", "why"),
    [("", "empty"), ("   ", "empty"), ("short", "too short"), ("x" * 1001, "too long")],
)
def test_weak_passwords_are_refused_with_the_reason(password, why):
    with pytest.raises(ValueError, match=why):
        auth.check_password(password)


def test_a_ten_character_password_is_enough():
    assert auth.check_password("0123456789") == "0123456789"


def test_secrets_are_random_and_stored_as_sha256():
    token = auth.new_secret()
    assert len(token) >= 43 and token != auth.new_secret()
    assert auth.digest(token) == hashlib.sha256(token.encode()).hexdigest()


def test_same_compares_secrets_and_refuses_missing_ones():
    assert auth.same("abc", "abc")
    assert not auth.same("abc", "abd")
    assert not auth.same("", "")
    assert not auth.same(None, "abc")
