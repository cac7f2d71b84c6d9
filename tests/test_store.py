"""Store: every test runs on SQLite and on PostgreSQL (ASSISTANT_TEST_DATABASE_URL)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from assistant.config import Settings
from assistant.store import MIGRATIONS, StorageError, Store, _pg_url, normalize

PG_URL = os.environ.get("ASSISTANT_TEST_DATABASE_URL", "").strip()
NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path):
    """Store.open keyword arguments for an empty database: a SQLite file, or a fresh schema."""
    if request.param == "sqlite":
        yield {"db_path": tmp_path / "data" / "assistant.db"}
        return
    if not PG_URL:
        message = 'set ASSISTANT_TEST_DATABASE_URL: eval "$(scripts/setup-postgres | tail -1)"'
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"PostgreSQL tests must run in CI: {message}")
        pytest.skip(f"PostgreSQL tests skipped: {message}")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_pg_url(PG_URL))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    options = f"-csearch_path={schema} -csynchronous_commit=off"  # throwaway data
    url = _pg_url(PG_URL).update_query_dict({"options": options})
    yield {"database_url": url.render_as_string(hide_password=False)}
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture()
def store(target: dict):
    """A migrated store on the empty database."""
    s = Store.open(**target)
    yield s
    s.close()


def count(store: Store, table: str) -> int:
    """Rows in a table, read directly."""
    with store.engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()


def test_migrate_is_idempotent_and_records_the_version(target: dict, store: Store) -> None:
    assert store.backend == ("sqlite" if "db_path" in target else "postgresql")
    assert store.migrate() == store.migrate() == len(MIGRATIONS) == 1
    store.add_feedback("q", "p1", True)
    again = Store.open(**target)
    assert again.migrate() == 1 and count(again, "feedback") == 1
    again.close()
    if store.backend == "sqlite":
        with sqlite3.connect(target["db_path"]) as raw:
            assert raw.execute("PRAGMA user_version").fetchone() == (1,)
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    else:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version FROM schema_version").all() == [(1,)]
    assert store.ping()


def test_writes_begin_immediate_and_reads_do_not(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db")
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    store.add_feedback("q", "p1", True)
    assert seen[0] == "BEGIN IMMEDIATE"
    seen.clear()
    store.question_stats()
    assert seen[0] == "BEGIN"
    store.close()


def test_question_stats_group_normalized_questions_most_asked_first(store: Store) -> None:
    def ask(question: str, hours_ago: float, answered: bool = False, confidence: float = 0.1):
        at = NOW - timedelta(hours=hours_ago)
        row = {"question": question, "answered": answered, "top_id": None, "asked_at": at}
        return {**row, "confidence": confidence}

    store.log_questions(
        [ask("What is Flask?", 5), ask("what is   flask", 4), ask("WHAT IS FLASK!!", 3)]
        + [ask("Older once", 9), ask("Newer once", 1), ask("How to deploy?", 8)]
        + [ask("how to deploy", 7), ask("Is Django fast?", 2, answered=True, confidence=0.9)]
        + [ask("Is it unsure?", 2, answered=True, confidence=0.2)]
    )
    stats = store.question_stats()
    assert [(s["question"], s["count"]) for s in stats] == [
        ("WHAT IS FLASK!!", 3),  # one group, shown with its latest phrasing
        ("how to deploy", 2),
        ("Newer once", 1),  # same count: the most recently asked first
        ("Older once", 1),
    ]
    assert stats[0]["last_asked"] == NOW - timedelta(hours=3)
    assert stats[0]["last_asked"].tzinfo is not None and not stats[0]["answered"]
    everything = store.question_stats(only_unanswered=False)
    assert {s["question"] for s in everything if s["answered"]} == {
        "Is Django fast?",
        "Is it unsure?",
    }
    unsure = store.question_stats(low_confidence=0.5)
    assert "Is it unsure?" in [s["question"] for s in unsure]
    assert "Is Django fast?" not in [s["question"] for s in unsure]
    assert len(store.question_stats(limit=2)) == 2
    store.log_question("Brand new?", False, "p1", 0.05)
    fresh = store.question_stats()[0]  # ties broken by recency
    assert normalize(fresh["question"]) == "what is flask"
    assert [s for s in store.question_stats() if s["question"] == "Brand new?"]
    assert count(store, "question_log") == 10


def test_feedback_and_not_helpful_passages(store: Store) -> None:
    first = store.add_feedback("q1", "p1", False)
    assert store.add_feedback("q1", "p1", False) > first
    store.add_feedback("q2", "p1", False)
    store.add_feedback("q3", "p1", True)
    store.add_feedback("q9", "p2", False)
    store.add_feedback("q4", "p3", True)
    for i in range(7):
        store.add_feedback(f"many {i}", "p4", False)
    store.add_feedback("many 0", "p4", False)
    bad = store.not_helpful_passages()
    assert [(b["answer_id"], b["not_helpful"], b["helpful"]) for b in bad] == [
        ("p4", 8, 0),
        ("p1", 3, 1),
        ("p2", 1, 0),
    ]
    assert sorted(bad[1]["questions"]) == ["q1", "q2"]  # distinct, not-helpful votes only
    assert len(bad[0]["questions"]) == 5 and len(set(bad[0]["questions"])) == 5
    assert [b["answer_id"] for b in store.not_helpful_passages(limit=1)] == ["p4"]
    rows = list(store.export_feedback())
    assert len(rows) == 14 and rows[0]["question"] == "q1" and rows[0]["helpful"] is False
    assert rows[0]["created_at"].tzinfo is not None


def test_export_questions_streams_every_row(store: Store) -> None:
    store.log_questions([{"question": f"q{i}", "answered": i % 2 == 0, "confidence": 0.5}
                         for i in range(1200)])  # fmt: skip
    rows = list(store.export_questions())
    assert len(rows) == 1200 and rows[0]["question"] == "q0" and rows[0]["answered"] is True
    assert set(rows[0]) >= {"id", "question", "answered", "top_id", "confidence", "asked_at"}


def test_purge_removes_only_old_rows(store: Store) -> None:
    old, new = NOW - timedelta(days=100), NOW - timedelta(days=10)
    store.log_questions([{"question": "old", "answered": False, "confidence": 0, "asked_at": old},
                         {"question": "new", "answered": False, "confidence": 0, "asked_at": new}])  # fmt: skip
    store.add_feedback("recent", "p1", True)
    assert store.purge(90) == 1
    assert [r["question"] for r in store.export_questions()] == ["new"]
    assert count(store, "feedback") == 1
    assert store.purge(90, now=NOW + timedelta(days=95)) == 2
    assert count(store, "question_log") == count(store, "feedback") == 0


def test_purge_removes_staff_sessions_that_can_never_be_used_again(store: Store) -> None:
    store.add_staff("ann", "hash")
    store.create_session("ann", "expired", "c1", NOW - timedelta(hours=1))
    store.create_session("ann", "signed-out", "c2", NOW + timedelta(hours=8))
    store.create_session("ann", "live", "c3", NOW + timedelta(hours=8))
    store.revoke_session("signed-out")
    store.purge(90, now=NOW)
    assert count(store, "staff_session") == 1
    assert store.get_session("live", now=NOW)["name"] == "ann"


def test_backup_can_be_opened_as_a_store(store: Store, tmp_path: Path) -> None:
    if store.backend == "postgresql":
        with pytest.raises(StorageError, match="pg_dump"):
            store.backup(tmp_path / "b.db")
        return
    store.add_feedback("q", "p1", False)
    store.add_staff("ann", "hash")
    store.backup(tmp_path / "backups" / "copy.db")
    store.add_feedback("after the backup", "p1", False)
    restored = Store.open(tmp_path / "backups" / "copy.db")
    assert [r["question"] for r in restored.export_feedback()] == ["q"]
    assert restored.get_staff("ann")["password_hash"] == "hash"
    restored.close()


def test_staff_accounts_and_cascading_removal(store: Store) -> None:
    ann = store.add_staff("ann", "h1")
    with pytest.raises(ValueError, match="ann"):
        store.add_staff("ann", "other")
    assert store.get_staff("ann") == {"id": ann, "name": "ann", "password_hash": "h1"}
    assert store.get_staff("nobody") is None
    store.set_password_hash("ann", "h2")
    assert store.get_staff("ann")["password_hash"] == "h2"
    with pytest.raises(ValueError):
        store.set_password_hash("nobody", "h")
    store.add_token("ann", "t" * 64)
    store.create_session("ann", "s1", "csrf", NOW + timedelta(hours=1))
    assert store.remove_staff("ann") is True
    assert count(store, "api_token") == count(store, "staff_session") == 0
    assert store.staff_for_token("t" * 64) is None and store.get_session("s1") is None
    assert store.remove_staff("ann") is False


def test_tokens_are_found_until_revoked(store: Store) -> None:
    store.add_staff("ann", "h")
    store.add_staff("bob", "h")
    store.add_token("ann", "a1")
    store.add_token("ann", "a2")
    store.add_token("bob", "b1")
    assert store.staff_for_token("a2") == "ann" and store.staff_for_token("b1") == "bob"
    assert store.staff_for_token("unknown") is None
    assert store.revoke_tokens("ann") == 2
    assert store.staff_for_token("a1") is None and store.staff_for_token("b1") == "bob"
    assert store.revoke_tokens("ann") == 0
    with pytest.raises(ValueError):
        store.add_token("nobody", "x")


def test_sessions_expire_and_can_be_revoked(store: Store) -> None:
    store.add_staff("ann", "h")
    expires = NOW + timedelta(hours=1)
    store.create_session("ann", "s1", "csrf-1", expires)
    store.create_session("ann", "s2", "csrf-2", expires)
    assert store.get_session("s1") == {"name": "ann", "csrf": "csrf-1", "expires_at": expires}
    assert store.get_session("s1", now=expires + timedelta(seconds=1)) is None
    assert store.get_session("unknown") is None
    store.revoke_session("s1")
    assert store.get_session("s1") is None and store.get_session("s2")["csrf"] == "csrf-2"
    with pytest.raises(ValueError):
        store.create_session("nobody", "s3", "c", expires)


def test_taught_phrasings_keep_an_audit_trail_and_bump_the_version(target: dict) -> None:
    store, other_worker = Store.open(**target), Store.open(**target)
    v0 = other_worker.taught_version()
    first = store.add_taught("doc#p1", "who made flask", by="ann")
    second = store.add_taught("doc#p2", "is it fast", by="bob")
    assert second > first and other_worker.taught_version() == v0 + 2
    assert store.remove_taught(first, by="carol") is True
    assert other_worker.taught_version() == v0 + 3
    assert store.remove_taught(first, by="carol") is False  # already removed: no bump
    assert store.remove_taught(999, by="carol") is False
    assert other_worker.taught_version() == v0 + 3
    assert [t["id"] for t in store.taught()] == [second]
    removed = store.taught(include_removed=True)[0]
    assert removed["passage_id"] == "doc#p1" and removed["created_by"] == "ann"
    assert removed["removed_by"] == "carol" and removed["removed_at"] >= removed["created_at"]
    assert removed["created_at"].tzinfo is not None
    store.close()
    other_worker.close()


def _write_rows(target: dict, start: multiprocessing.synchronize.Barrier, worker: int) -> None:
    """In a child process: open (and migrate) the store, then write 200 + 200 rows."""
    start.wait(timeout=60)
    store = Store.open(**target)
    for i in range(200):
        store.add_feedback(f"w{worker} q{i}", f"p{i % 7}", i % 3 == 0)
        store.log_question(f"w{worker} q{i}", i % 2 == 0, None, 0.5)
    store.close()


def test_four_processes_writing_at_once_lose_no_rows(target: dict) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(4)
    workers = [ctx.Process(target=_write_rows, args=(target, start, w)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    store = Store.open(**target)
    assert len(list(store.export_feedback())) == len(list(store.export_questions())) == 800
    assert len({r["question"] for r in store.export_questions()}) == 800
    store.close()


def test_a_database_locked_past_the_timeout_raises_storage_error(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "a.db", busy_timeout_ms=100)
    holder = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    began = time.monotonic()
    with pytest.raises(StorageError, match="locked") as caught:
        store.log_question("q", False, None, 0.1)
    assert time.monotonic() - began < 3
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    assert "INSERT" not in str(caught.value)
    with pytest.raises(StorageError):
        store.add_taught("p", "q", by="ann")
    holder.execute("ROLLBACK")
    holder.close()
    store.log_question("q", False, None, 0.1)
    assert count(store, "question_log") == 1 and store.taught_version() == 0
    store.close()


def test_an_unwritable_path_raises_storage_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(StorageError):
        Store.open(tmp_path / "a-file" / "sub" / "assistant.db")
    with pytest.raises(StorageError):
        Store.open(tmp_path)  # a folder, not a database file


def test_an_unreachable_postgresql_raises_storage_error_without_secrets() -> None:
    with pytest.raises(StorageError) as caught:
        Store.open(database_url="postgresql://someone:s3cret-pw@127.0.0.1:1/nothing")
    assert "s3cret-pw" not in str(caught.value)
    engine = sa.create_engine("postgresql+psycopg://someone:pw@127.0.0.1:1/nothing")
    assert Store(engine).ping() is False


def test_from_settings_opens_the_configured_sqlite_file(tmp_path: Path) -> None:
    settings = Settings.from_env({"ASSISTANT_DB": str(tmp_path / "deep" / "x.db")})
    store = Store.from_settings(settings)
    assert store.backend == "sqlite" and (tmp_path / "deep" / "x.db").is_file()
    store.close()
    for wrong in ("mysql://x@localhost/db", "not a url"):
        with pytest.raises(ValueError):
            Store.open(database_url=wrong)


def test_normalize_folds_case_space_and_punctuation() -> None:
    assert normalize("  What is   Flask? ") == normalize("what is flask") == "what is flask"
    assert normalize("Qu'est-ce que c'est ?") == "qu est ce que c est"


def test_questions_logged_with_a_unix_time_read_back_as_with_a_datetime(store: Store) -> None:
    """A row as the question log queues it (a tuple, the time as time.time() gives it) is
    stored as the same row given as a dict with a datetime."""
    at = datetime(2026, 11, 26, 6, 30, 1, 250000, tzinfo=UTC)
    store.log_questions([{"question": "What is Flask?", "answered": True, "top_id": "d#p1",
                          "confidence": 0.75, "asked_at": at}])  # fmt: skip
    store.log_questions([("What is Flask?", True, "d#p1", 0.75, at.timestamp())])
    first, second = ({k: v for k, v in r.items() if k != "id"} for r in store.export_questions())
    assert first == second
    assert second["asked_at"] == at and second["normalized"] == "what is flask"
    assert store.question_stats(only_unanswered=False)[0]["count"] == 2


def test_a_large_batch_of_logged_questions_keeps_every_row_and_value(store: Store) -> None:
    rows = [
        {
            "question": f"Question {i}?",
            "answered": i % 2 == 0,
            "top_id": None if i % 3 else f"doc#p{i}",
            "confidence": i / 1000,
            "asked_at": NOW - timedelta(seconds=i),
        }
        for i in range(401)  # several multi-row INSERTs on SQLite, and a short last one
    ]
    store.log_questions(rows)
    got = sorted(store.export_questions(), key=lambda r: r["question"])
    want = sorted(rows, key=lambda r: r["question"])
    assert len(got) == 401
    for g, w in zip(got, want, strict=True):
        assert (g["question"], g["answered"], g["top_id"]) == (
            w["question"],
            w["answered"],
            w["top_id"],
        )
        assert g["confidence"] == pytest.approx(w["confidence"])
        assert g["asked_at"] == w["asked_at"] and g["normalized"] == g["question"].lower().rstrip(
            "?"
        )
