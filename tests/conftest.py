"""Shared fixtures: the bundled assistant (loaded once), a fresh app per test, corpus builders."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant import Assistant
from assistant.app import create_app
from assistant.config import Settings

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "corpus" / "python-for-backend.txt"


def pytest_configure(config) -> None:
    """Keep every test's data (database, index snapshots) out of the developer's home."""
    if "ASSISTANT_TEST_KEEP_XDG" not in os.environ:
        os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="assistant-tests-")


@pytest.fixture(scope="session")
def bot() -> Assistant:
    """The assistant on the bundled article."""
    return Assistant.load()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings for a test: the bundled corpus, a database in a temporary folder."""
    return Settings.from_env({"ASSISTANT_DB": str(tmp_path / "assistant.db")})


@pytest.fixture()
def client(settings: Settings, bot: Assistant):
    """A TestClient on a fresh app that shares the already loaded assistant."""
    with TestClient(create_app(settings, bot)) as c:
        yield c


@pytest.fixture()
def write(tmp_path: Path):
    """write(name, text) -> Path: create a file under a temporary corpus folder."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write
