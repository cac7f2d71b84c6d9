"""The question-log writer and the taught-phrasings sync (assistant/background.py)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from assistant import Assistant
from assistant.background import QuestionLog, TaughtSync
from assistant.config import Settings
from assistant.store import StorageError, Store

REFUSED = "Who builds the salary software?"
INTEMPUS = "python-for-backend#p544a6c2f"  # the payroll platform's passage


@pytest.fixture()
def store(tmp_path):
    s = Store.open(tmp_path / "a.db")
    yield s
    s.close()


@pytest.fixture(scope="module")
def own_bot() -> Assistant:
    """An assistant of this module's own, so that teaching it leaves the shared one alone."""
    return Assistant.load(index_dir=Settings.from_env().index_dir)


def reply(answered: bool, top: str | None = "doc#p1", confidence: float = 0.9) -> dict:
    return {
        "answered": answered,
        "confidence": confidence,
        "answers": [{"id": top}] if top else [],
    }


def test_questions_are_written_in_batches_off_the_request_path(store):
    qlog = QuestionLog(lambda: store, batch=7).start()
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    for i in range(50):
        qlog.record(f"question {i}", reply(i % 2 == 0, confidence=0.25))
    qlog.record("nothing found", reply(False, top=None, confidence=0.0))
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    qlog.close()
    rows = list(store.export_questions())
    assert len(rows) == 51 and qlog.written == 51 and qlog.failed == 0
    assert all(before <= r["asked_at"] <= after for r in rows)  # when it was asked
    assert rows[0]["question"] == "question 0" and rows[0]["answered"] is True
    assert rows[0]["top_id"] == "doc#p1" and rows[0]["confidence"] == 0.25
    assert rows[-1]["top_id"] is None
    assert set(rows[0]) == {
        "id",
        "question",
        "normalized",
        "answered",
        "top_id",
        "confidence",
        "asked_at",
    }


def test_a_failed_write_is_counted_and_the_writer_keeps_going(store, caplog):
    broken = threading.Event()
    broken.set()

    def open_store() -> Store:
        if broken.is_set():
            raise StorageError("sqlite storage failed: disk I/O error")
        return store

    qlog = QuestionLog(open_store).start()
    qlog.record("lost", reply(True))
    qlog.record("lost too", reply(True))
    qlog.flush()
    assert qlog.failed == 2
    assert "not written" in caplog.text
    broken.clear()
    qlog.record("kept", reply(True))
    qlog.close()
    assert [r["question"] for r in store.export_questions()] == ["kept"]
    assert qlog.failed == 2


def test_record_never_blocks_when_the_queue_is_full(store):
    qlog = QuestionLog(lambda: store, backlog=2)  # not started: nothing drains the queue
    for _ in range(5):
        qlog.record("q", reply(True))
    assert qlog.failed == 3


def test_the_sync_applies_taught_phrasings_when_the_version_moves(store, own_bot):
    sync = TaughtSync(lambda: own_bot, lambda: store, interval=0.05)
    assert not own_bot.ask(REFUSED)["answered"]

    async def main() -> None:
        sync.start(asyncio.get_running_loop())
        try:
            store.add_taught(INTEMPUS, REFUSED, "alice")  # as another worker would
            for _ in range(100):
                await asyncio.sleep(0.02)
                if sync.version == store.taught_version():
                    break
        finally:
            sync.stop()

    try:
        asyncio.run(main())
        assert sync.version == 1
        answer = own_bot.ask(REFUSED)
        assert answer["answered"] and answer["answers"][0]["id"] == INTEMPUS
    finally:
        own_bot.set_taught([])


def test_an_older_version_never_replaces_a_newer_one(own_bot):
    sync = TaughtSync(lambda: own_bot, lambda: None)  # type: ignore[arg-type]
    try:
        sync.apply(2, [(INTEMPUS, REFUSED)])
        sync.apply(1, [])
        assert sync.version == 2 and own_bot.ask(REFUSED)["answered"]
    finally:
        own_bot.set_taught([])
