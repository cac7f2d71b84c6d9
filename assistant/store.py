"""Storage: questions log, feedback, staff accounts and taught phrasings, on SQLite or PostgreSQL.

One code path over SQLAlchemy Core. SQLite (the default) runs in WAL mode, and transactions
that write start with ``BEGIN IMMEDIATE``, so that concurrent writers queue on the busy timeout
instead of failing on a lock upgrade. PostgreSQL is used when a URL is given.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError

from .logs import UtcSeconds


class StorageError(Exception):
    """The back end failed (locked, full, unreachable); the original is the __cause__."""


class UTCDateTime(sa.TypeDecorator):
    """Timezone-aware UTC datetimes on both back ends (naive UTC text on SQLite)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store in UTC; a naive value is taken to be UTC already."""
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Hand back an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_utc(value: datetime) -> str:
    """A datetime as UTCDateTime stores it on SQLite: naive UTC text with microseconds."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


_LOG_COLUMNS = ("question", "normalized", "answered", "top_id", "confidence", "asked_at")
_SQLITE_LOG_QUESTION = f"INSERT INTO question_log ({', '.join(_LOG_COLUMNS)}) VALUES "
_SQLITE_ROWS = 150  # rows per INSERT: 900 parameters, under SQLite's oldest limit of 999
# (question, answered, top_id, confidence, asked_at: a datetime or a Unix time)
AskedRow = tuple[str, bool, str | None, float, datetime | float]


@lru_cache(maxsize=32)
def _sqlite_insert(rows: int) -> str:
    """The multi-row INSERT of question-log rows on SQLite."""
    return _SQLITE_LOG_QUESTION + ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)


_sqlite_second = UtcSeconds("%Y-%m-%d %H:%M:%S")


def _sqlite_time(at: datetime | float) -> str:
    """A datetime, or a Unix time, as UTCDateTime stores it on SQLite."""
    if type(at) is not float:
        return _sqlite_utc(at)  # type: ignore[arg-type]
    second = int(at)
    return f"{_sqlite_second(second)}.{int((at - second) * 1_000_000):06d}"


def _aware(at: datetime | float) -> datetime:
    """A datetime, or a Unix time, as an aware datetime."""
    return datetime.fromtimestamp(at, UTC) if type(at) is float else at  # type: ignore[return-value]


# The schema, as it is at the latest version. BigId is INTEGER on SQLite (a rowid alias).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Col, Text, When, Bool = sa.Column, sa.Text, UTCDateTime, sa.Boolean
metadata = sa.MetaData()
# fmt: off
questions = sa.Table("question_log", metadata,
    Col("id", BigId, primary_key=True),
    Col("question", Text, nullable=False),
    Col("normalized", Text, nullable=False, index=True),  # see normalize()
    Col("answered", Bool, nullable=False),
    Col("top_id", Text),
    Col("confidence", sa.Float, nullable=False),
    Col("asked_at", When, nullable=False, index=True))
feedback = sa.Table("feedback", metadata,
    Col("id", BigId, primary_key=True),
    Col("question", Text, nullable=False),
    Col("answer_id", Text, nullable=False, index=True),
    Col("helpful", Bool, nullable=False),
    Col("created_at", When, nullable=False, index=True))
staff = sa.Table("staff", metadata,
    Col("id", sa.Integer, primary_key=True),
    Col("name", Text, nullable=False, unique=True),
    Col("password_hash", Text, nullable=False),
    Col("created_at", When, nullable=False))
tokens = sa.Table("api_token", metadata,
    Col("id", sa.Integer, primary_key=True),
    Col("staff_id", sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True),
    Col("token_hash", Text, nullable=False, unique=True),  # sha256 hex of the token
    Col("created_at", When, nullable=False),
    Col("revoked_at", When))
sessions = sa.Table("staff_session", metadata,
    Col("id", sa.Integer, primary_key=True),
    Col("staff_id", sa.ForeignKey("staff.id", ondelete="CASCADE"), nullable=False, index=True),
    Col("session_hash", Text, nullable=False, unique=True),
    Col("csrf", Text, nullable=False),
    Col("created_at", When, nullable=False),
    Col("expires_at", When, nullable=False),
    Col("revoked_at", When))
taught_table = sa.Table("taught_phrasing", metadata,
    Col("id", sa.Integer, primary_key=True),
    Col("passage_id", Text, nullable=False),
    Col("question", Text, nullable=False),
    Col("created_by", Text, nullable=False),
    Col("created_at", When, nullable=False),
    Col("removed_by", Text),
    Col("removed_at", When))
meta = sa.Table("meta", metadata,
    Col("key", Text, primary_key=True),
    Col("value", sa.BigInteger, nullable=False))
# fmt: on


def _create_v1(conn: Connection) -> None:
    """Version 1: every table above, and the taught-phrasings counter."""
    metadata.create_all(conn)
    conn.execute(sa.insert(meta).values(key="taught_version", value=0))


# Schema versions in order: a new database runs create_all (the tables above are always the
# latest schema) and is stamped with the latest version; an existing one runs the steps after
# its version. To change the schema, append a list of DDL strings that work on both back ends
# and change the tables above to match.
MIGRATIONS: list[Callable[[Connection], None] | list[str]] = [_create_v1]
_PG_LOCK = 7_305_117_041  # pg_advisory_xact_lock key taken by migrate()
_FAILURES = (SQLAlchemyError, sqlite3.Error, OSError)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


_WORD = re.compile(r"\w+")


def normalize(question: str) -> str:
    """Case, spacing and punctuation folded: "What is Flask?" -> "what is flask"."""
    return " ".join(_WORD.findall(question.casefold()))


_normalized = lru_cache(maxsize=4096)(normalize)  # visitors ask the same questions again


def _storage_error(exc: BaseException, backend: str) -> StorageError:
    """A StorageError naming the cause in one line, without SQL or parameters."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return StorageError(f"{backend} storage failed: {lines[0] if lines else type(orig).__name__}")


def _sqlite_engine(path: Path, busy_timeout_ms: int) -> Engine:
    """An engine on a SQLite file: WAL, busy timeout, foreign keys, and our own BEGIN."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(URL.create("sqlite", database=str(path)))
    pragmas = ("synchronous = NORMAL", "foreign_keys = ON")

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite must not BEGIN by itself: _on_begin does
        dbapi_conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}").close()
        _wal(dbapi_conn, busy_timeout_ms / 1000)
        for pragma in pragmas:
            dbapi_conn.execute(f"PRAGMA {pragma}").close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL. Several processes opening a new file at once (the workers of
    `serve --workers N` on a first start) race for the switch, and SQLite answers the loser
    "database is locked" at once, busy timeout or not: retry until the timeout."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() == "wal":
                return
            why: Exception = sqlite3.OperationalError(f"journal mode stayed {mode}")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            why = exc
        if time.monotonic() + pause > deadline:
            raise why
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _pg_url(url: str) -> URL:
    """A postgresql:// URL pointed at the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError("the database URL must be a postgresql:// URL")
    return parsed.set(drivername="postgresql+psycopg")


class Store:
    """The assistant's storage: one per process, safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend: str = engine.dialect.name
        self._writer = engine.execution_options(immediate=True)

    @classmethod
    def open(
        cls, db_path: Path | None = None, database_url: str = "", busy_timeout_ms: int = 5000
    ) -> Store:
        """Open and migrate PostgreSQL when a URL is given, else the SQLite file."""
        if database_url:
            args = {"connect_timeout": 10}
            engine = sa.create_engine(_pg_url(database_url), pool_pre_ping=True, connect_args=args)
        else:
            if db_path is None:
                from assistant.config import Settings

                db_path = Settings().db_path
            try:
                engine = _sqlite_engine(Path(db_path), busy_timeout_ms)
            except OSError as exc:
                raise _storage_error(exc, "sqlite") from exc
        store = cls(engine)
        try:
            store.migrate()
        except StorageError:
            store.close()
            raise
        return store

    @classmethod
    def from_settings(cls, settings: Any) -> Store:
        """Open the store that assistant.config.Settings names."""
        return cls.open(settings.db_path, settings.database_url)

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        """One transaction (BEGIN IMMEDIATE on SQLite if it writes); failures -> StorageError."""
        try:
            with (self._writer if write else self.engine).begin() as conn:
                yield conn
        except _FAILURES as exc:
            raise _storage_error(exc, self.backend) from exc

    def _rows(self, stmt: sa.Executable) -> list[dict]:
        """The rows of a query, as dicts."""
        with self._transaction(write=False) as conn:
            return [dict(row) for row in conn.execute(stmt).mappings()]

    def _scalar(self, stmt: sa.Executable) -> Any:
        """The first column of the first row of a query, or None."""
        with self._transaction(write=False) as conn:
            return conn.execute(stmt).scalar()

    def _insert(self, table: sa.Table, **row: Any) -> int:
        """Insert one row in its own transaction; return its id."""
        with self._transaction(write=True) as conn:
            return conn.execute(sa.insert(table).values(row)).inserted_primary_key[0]

    def _change(self, stmt: sa.Executable) -> int:
        """Run an UPDATE or DELETE in its own transaction; return how many rows it touched."""
        with self._transaction(write=True) as conn:
            return conn.execute(stmt).rowcount

    def migrate(self) -> int:
        """Bring the schema to the latest version, under a lock; return that version."""
        latest = len(MIGRATIONS)
        with self._transaction(write=True) as conn:
            if self.backend == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
                current = conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar()
            else:
                current = conn.exec_driver_sql("PRAGMA user_version").scalar()
            current = current or 0
            if current > latest:
                raise StorageError(f"the database is at schema {current}, newer than {latest}")
            for step in MIGRATIONS[:1] if current == 0 else MIGRATIONS[current:]:
                if callable(step):
                    step(conn)
                else:
                    for statement in step:
                        conn.exec_driver_sql(statement)
            if current != latest and self.backend == "postgresql":
                conn.exec_driver_sql("DELETE FROM schema_version")
                conn.execute(sa.text("INSERT INTO schema_version VALUES (:v)"), {"v": latest})
            elif current != latest:
                conn.exec_driver_sql(f"PRAGMA user_version = {latest:d}")
        return latest

    def ping(self) -> bool:
        """True when the database answers SELECT 1."""
        try:
            return self._scalar(sa.select(1)) == 1
        except StorageError:
            return False

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # visitors

    def log_questions(self, rows: Sequence[dict | AskedRow]) -> None:
        """Log asked questions: dicts (keys: question, answered, top_id, confidence and,
        optionally, asked_at), or tuples (question, answered: bool, top_id, confidence: float,
        asked_at), asked_at an aware datetime or a Unix time (``time.time()``): how the
        question log queues them, without a dict or a datetime per request."""
        rows = [
            (r["question"], bool(r["answered"]), r.get("top_id"), float(r["confidence"]),
             r.get("asked_at") or utcnow()) if type(r) is dict else r
            for r in rows
        ]  # fmt: skip
        if not rows:
            return
        with self._transaction(write=True) as conn:
            if self.backend != "sqlite":
                values = [
                    dict(zip(_LOG_COLUMNS, (q, normalize(q), a, t, c, _aware(at)), strict=True))
                    for q, a, t, c, at in rows
                ]
                conn.execute(sa.insert(questions), values)
                return
            # The writer runs beside the request handlers, and every microsecond it holds the
            # GIL is one they wait: on SQLite the rows go to the driver as one flat tuple of
            # plain values (SQLAlchemy's per-row parameter handling was ~20 us a row), the
            # normalized text of a question asked before is remembered, the time is written
            # as UTCDateTime stores it from a text made once a second; one multi-row INSERT
            # per 150 rows, not executemany: the driver releases and takes back the GIL around
            # every statement it steps, and each hand-off can stall the request handlers.
            flat: list[Any] = []
            add = flat.extend
            for q, answered, top_id, confidence, at in rows:
                add((q, _normalized(q), answered, top_id, confidence, _sqlite_time(at)))
            step = 6 * _SQLITE_ROWS
            for i in range(0, len(flat), step):
                chunk = flat[i : i + step]
                conn.exec_driver_sql(_sqlite_insert(len(chunk) // 6), tuple(chunk))

    def log_question(
        self, question: str, answered: bool, top_id: str | None, confidence: float
    ) -> None:
        """Log one asked question."""
        row = {"question": question, "answered": answered, "top_id": top_id}
        self.log_questions([{**row, "confidence": confidence}])

    def add_feedback(self, question: str, answer_id: str, helpful: bool) -> int:
        """Record whether an answer helped; return the feedback id."""
        row = {"question": question, "answer_id": answer_id, "helpful": helpful}
        return self._insert(feedback, **row, created_at=utcnow())

    # insights

    def question_stats(
        self, only_unanswered: bool = True, low_confidence: float | None = None, limit: int = 200
    ) -> list[dict]:
        """Questions grouped by normalized text: most asked first, then most recently asked.

        The filters add up: unanswered asks, or asks with confidence below low_confidence.
        A group's `answered` is True when any of its counted asks was answered; it is shown
        with the phrasing of its latest counted ask, and that ask's best passage (`top_id`).
        """

        def counted(c: Any) -> Any:
            wanted = [c.answered.is_(False)] if only_unanswered else []
            if low_confidence is not None:
                wanted.append(c.confidence < low_confidence)
            return sa.or_(*wanted) if wanted else sa.true()

        q = questions.c
        latest = questions.alias("latest")

        def of_latest(column: Any) -> Any:
            """A column of the group's latest counted ask."""
            return (
                sa.select(column)
                .where(latest.c.normalized == q.normalized, counted(latest.c))
                .order_by(latest.c.asked_at.desc(), latest.c.id.desc())
                .limit(1)
                .scalar_subquery()
            )

        count, last = sa.func.count().label("count"), sa.func.max(q.asked_at).label("last_asked")
        answered = sa.func.max(sa.case((q.answered, 1), else_=0)).label("answered")
        stmt = (
            sa.select(
                of_latest(latest.c.question).label("question"),
                count,
                last,
                answered,
                of_latest(latest.c.top_id).label("top_id"),
            )
            .where(counted(q))
            .group_by(q.normalized)
            .order_by(count.desc(), last.desc(), q.normalized)
            .limit(limit)
        )
        return [{**row, "answered": bool(row["answered"])} for row in self._rows(stmt)]

    def not_helpful_passages(self, limit: int = 20) -> list[dict]:
        """Passages voted not helpful, most such votes first, with up to 5 of their questions."""
        f = feedback.c
        bad = sa.func.sum(sa.case((f.helpful, 0), else_=1)).label("not_helpful")
        good = sa.func.sum(sa.case((f.helpful, 1), else_=0)).label("helpful")
        top = sa.select(f.answer_id, bad, good).group_by(f.answer_id).having(bad > 0)
        rows = self._rows(top.order_by(bad.desc(), f.answer_id).limit(limit))
        found: dict[str, list[str]] = {row["answer_id"]: [] for row in rows}
        last = sa.func.max(f.created_at)
        asked = (
            sa.select(f.answer_id, f.question)
            .where(f.answer_id.in_(list(found)), f.helpful.is_(False))
            .group_by(f.answer_id, f.question)
            .order_by(last.desc())
        )
        for row in self._rows(asked) if found else []:
            if len(found[row["answer_id"]]) < 5:
                found[row["answer_id"]].append(row["question"])
        return [{**row, "questions": found[row["answer_id"]]} for row in rows]

    def export_questions(self) -> Iterator[dict]:
        """Every question-log row, oldest first."""
        return self._stream(sa.select(questions).order_by(questions.c.id))

    def export_feedback(self) -> Iterator[dict]:
        """Every feedback row, oldest first."""
        return self._stream(sa.select(feedback).order_by(feedback.c.id))

    def _stream(self, stmt: sa.Select) -> Iterator[dict]:
        """The rows of a query as dicts, fetched in batches."""
        with self._transaction(write=False) as conn:
            for row in conn.execution_options(yield_per=500).execute(stmt).mappings():
                yield dict(row)

    def purge(self, older_than_days: int, now: datetime | None = None) -> int:
        """Delete question-log and feedback rows older than that, and staff sessions that
        have expired or were signed out (they can never be used again); return how many
        question-log and feedback rows went."""
        now = now or utcnow()
        cutoff = now - timedelta(days=older_than_days)
        dead = sa.or_(sessions.c.expires_at <= now, sessions.c.revoked_at.is_not(None))
        with self._transaction(write=True) as conn:
            done = conn.execute(sa.delete(questions).where(questions.c.asked_at < cutoff))
            gone = conn.execute(sa.delete(feedback).where(feedback.c.created_at < cutoff))
            conn.execute(sa.delete(sessions).where(dead))
            return done.rowcount + gone.rowcount

    def backup(self, path: Path) -> None:
        """Copy the SQLite database to path with SQLite's online backup API."""
        if self.backend != "sqlite":
            raise StorageError("back up a PostgreSQL database with pg_dump")
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            raw, target = self.engine.raw_connection(), sqlite3.connect(path)
            try:
                raw.driver_connection.backup(target)
            finally:
                target.close()
                raw.close()
        except _FAILURES as exc:
            raise _storage_error(exc, self.backend) from exc

    # staff accounts: the caller hashes; only hashes are stored

    def add_staff(self, name: str, password_hash: str) -> int:
        """Create a staff account; ValueError if the name is taken."""
        with self._transaction(write=True) as conn:
            try:
                stmt = sa.insert(staff).values(name=name, password_hash=password_hash)
                return conn.execute(stmt.values(created_at=utcnow())).inserted_primary_key[0]
            except IntegrityError:
                raise ValueError(f"a staff account named {name!r} already exists") from None

    def remove_staff(self, name: str) -> bool:
        """Delete an account with its tokens and sessions; False if there was none."""
        return self._change(sa.delete(staff).where(staff.c.name == name)) > 0

    def get_staff(self, name: str) -> dict | None:
        """The account's id, name and password_hash, or None."""
        stmt = sa.select(staff.c.id, staff.c.name, staff.c.password_hash)
        return next(iter(self._rows(stmt.where(staff.c.name == name))), None)

    def set_password_hash(self, name: str, password_hash: str) -> None:
        """Replace an account's password hash; ValueError if there is no such account."""
        stmt = sa.update(staff).where(staff.c.name == name).values(password_hash=password_hash)
        if self._change(stmt) == 0:
            raise ValueError(f"no staff account named {name!r}")

    def _staff_id(self, conn: Connection, name: str) -> int:
        """The id of a staff account; ValueError if there is none."""
        found = conn.execute(sa.select(staff.c.id).where(staff.c.name == name)).scalar()
        if found is None:
            raise ValueError(f"no staff account named {name!r}")
        return found

    def add_token(self, name: str, token_hash: str) -> None:
        """Keep the hash of a new API token for an account."""
        with self._transaction(write=True) as conn:
            row = {"staff_id": self._staff_id(conn, name), "token_hash": token_hash}
            conn.execute(sa.insert(tokens).values({**row, "created_at": utcnow()}))

    def staff_for_token(self, token_hash: str) -> str | None:
        """The account name of a live (unrevoked) token, or None."""
        live = (tokens.c.token_hash == token_hash, tokens.c.revoked_at.is_(None))
        return self._scalar(sa.select(staff.c.name).join(tokens).where(*live))

    def revoke_tokens(self, name: str) -> int:
        """Revoke every live token of an account; return how many."""
        owner = sa.select(staff.c.id).where(staff.c.name == name).scalar_subquery()
        live = (tokens.c.staff_id == owner, tokens.c.revoked_at.is_(None))
        return self._change(sa.update(tokens).where(*live).values(revoked_at=utcnow()))

    def create_session(self, name: str, session_hash: str, csrf: str, expires_at: datetime) -> None:
        """Keep a new login session (its hash and CSRF value) until expires_at."""
        row = {"session_hash": session_hash, "csrf": csrf, "expires_at": expires_at}
        with self._transaction(write=True) as conn:
            row |= {"staff_id": self._staff_id(conn, name), "created_at": utcnow()}
            conn.execute(sa.insert(sessions).values(row))

    def get_session(self, session_hash: str, now: datetime | None = None) -> dict | None:
        """The session's name, csrf and expires_at, unless it is expired, revoked or unknown."""
        s = sessions.c
        live = (
            s.session_hash == session_hash,
            s.revoked_at.is_(None),
            s.expires_at > (now or utcnow()),
        )
        stmt = sa.select(staff.c.name, s.csrf, s.expires_at).join(sessions).where(*live)
        return next(iter(self._rows(stmt)), None)

    def revoke_session(self, session_hash: str) -> None:
        """End a session (logout)."""
        live = (sessions.c.session_hash == session_hash, sessions.c.revoked_at.is_(None))
        self._change(sa.update(sessions).where(*live).values(revoked_at=utcnow()))

    # teaching

    def _bump(self, conn: Connection) -> None:
        """Increase taught_version so that other processes notice the change."""
        key = meta.c.key == "taught_version"
        conn.execute(sa.update(meta).where(key).values(value=meta.c.value + 1))

    def add_taught(self, passage_id: str, question: str, by: str) -> int:
        """Teach a phrasing for a passage; return its id."""
        row = {"passage_id": passage_id, "question": question, "created_by": by}
        with self._transaction(write=True) as conn:
            stmt = sa.insert(taught_table).values({**row, "created_at": utcnow()})
            taught_id = conn.execute(stmt).inserted_primary_key[0]
            self._bump(conn)
        return taught_id

    def remove_taught(self, taught_id: int, by: str) -> bool:
        """Withdraw a taught phrasing, keeping who and when; False if it was not live."""
        t = taught_table.c
        stmt = sa.update(taught_table).where(t.id == taught_id, t.removed_at.is_(None))
        with self._transaction(write=True) as conn:
            if conn.execute(stmt.values(removed_by=by, removed_at=utcnow())).rowcount == 0:
                return False
            self._bump(conn)
        return True

    def taught(self, include_removed: bool = False) -> list[dict]:
        """Taught phrasings, oldest first, with their audit fields."""
        stmt = sa.select(taught_table).order_by(taught_table.c.id)
        live = taught_table.c.removed_at.is_(None)
        return self._rows(stmt if include_removed else stmt.where(live))

    def taught_version(self) -> int:
        """A counter that increases on every addition or removal of a taught phrasing."""
        return int(self._scalar(sa.select(meta.c.value).where(meta.c.key == "taught_version")))
