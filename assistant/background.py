"""Work the web app does off the request path: writing the question log, and keeping this
process's taught phrasings in step with the store (and so with every other worker)."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from . import metrics
from .bot import Assistant
from .store import AskedRow, Store

log = logging.getLogger("assistant")
BATCH = 500  # rows per INSERT
LINGER = 0.5  # seconds a batch waits for more rows after its first
BACKLOG = 50_000  # questions waiting to be written; past it they are counted as failed
_STOP = object()


class QuestionLog:
    """Visitor questions queued by the request handlers and written by one thread in batches.

    ``record`` never waits for the database, never raises, and costs a deque append: the
    writer thread is woken once per batch (not once per row), sleeps out its linger, then
    drains whatever arrived. Rows that could not be written (storage down, or more than
    ``backlog`` waiting) are counted in ``failed`` and logged.
    """

    def __init__(
        self,
        open_store: Callable[[], Store],
        batch: int = BATCH,
        linger: float = LINGER,
        backlog: int = BACKLOG,
    ) -> None:
        self.linger = linger
        self.open_store = open_store
        self.batch = batch
        self.backlog = backlog
        self.failed = 0  # rows lost: exposed as a metric
        self.written = 0
        # rows, and markers: a threading.Event set once the rows before it are written, or
        # _STOP; deque appends and pops are atomic, so the request path takes no lock
        self._items: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()  # something is waiting to be written
        self._hurry = threading.Event()  # a flush or close is waiting: don't linger
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run_safely, name="question-log", daemon=True)

    def start(self) -> QuestionLog:
        """Start the writer thread."""
        self._thread.start()
        return self

    def record(self, question: str, reply: dict[str, Any]) -> None:
        """Queue one asked question with what the assistant replied (no address, no cookie)."""
        if len(self._items) >= self.backlog:
            self._lost(1, "the queue is full")
            return
        answers = reply.get("answers")
        self._items.append(  # a row as Store.log_questions takes it; the time as a Unix time
            (
                question,
                bool(reply.get("answered")),
                answers[0]["id"] if answers else None,
                float(reply.get("confidence") or 0.0),
                time.time(),
            )
        )
        if not self._wake.is_set():  # the first row of a batch wakes the writer
            self._wake.set()

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every question queued so far has been written (or counted as failed)."""
        if not self._thread.is_alive():
            return
        done = threading.Event()
        self._items.append(done)
        self._hurry.set()
        self._wake.set()
        done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        if self._thread.is_alive():
            self._items.append(_STOP)
            self._hurry.set()
            self._wake.set()
            self._thread.join(timeout)

    def _write(self, batch: list[AskedRow]) -> None:
        """One INSERT for the batch; if that fails, row by row, so one row that cannot be
        stored does not lose the others queued with it."""
        try:
            store = self.open_store()
            store.log_questions(batch)
            self.written += len(batch)
            return
        except Exception as exc:
            if len(batch) == 1:
                self._lost(1, exc)
                return
        for row in batch:
            try:
                self.open_store().log_questions([row])
                self.written += 1
            except Exception as exc:
                self._lost(1, exc)

    def _lost(self, n: int, why: object) -> None:
        with self._lock:
            self.failed += n
        for _ in range(n):
            metrics.record_question_log_failure()
        log.warning("question log: %d question(s) not written: %s", n, why)

    def _run(self) -> None:
        """Sleep until rows arrive, linger a little for more (under load one transaction per
        request would cost more CPU, and GIL, than answering did), write them in batches."""
        while True:
            self._wake.wait()
            self._hurry.wait(self.linger)
            self._wake.clear()  # before draining: a row added from now on wakes us again
            self._hurry.clear()
            batch: list[AskedRow] = []
            stop = False
            while self._items:
                item = self._items.popleft()
                if type(item) is tuple:
                    batch.append(item)
                    if len(batch) >= self.batch:
                        self._write(batch)
                        batch = []
                    continue
                if batch:
                    self._write(batch)
                    batch = []
                if item is _STOP:
                    stop = True
                else:
                    item.set()  # a flush: everything before it is written
            if batch:
                self._write(batch)
            if stop:
                return

    def _run_safely(self) -> None:
        """The writer thread: ``_run``, restarted if anything unforeseen escapes it."""
        while True:
            try:
                self._run()
                return
            except Exception:  # never let the log die with the process still serving
                log.exception("question log: writer failed; restarting it")


class TaughtSync:
    """Applies the store's taught phrasings to the app's assistant, at start and whenever
    ``taught_version`` changes (checked every ``interval`` seconds on a thread).

    The index is changed only on the event loop, where the handlers that search it run, so a
    search never sees it half rebuilt; versions only move forward.
    """

    def __init__(
        self,
        assistant: Callable[[], Assistant | None],
        open_store: Callable[[], Store],
        interval: float = 1.0,
    ) -> None:
        self.assistant = assistant
        self.open_store = open_store
        self.interval = interval
        self.version: int | None = None  # the version applied to the assistant
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="taught-sync", daemon=True)

    def read(self) -> tuple[int, list[tuple[str, str]]]:
        """The store's version and live taught (passage id, question) pairs (blocking I/O).

        The version is read first: pairs newer than it are harmless, the next check reloads.
        """
        store = self.open_store()
        version = store.taught_version()
        return version, [(row["passage_id"], row["question"]) for row in store.taught()]

    def apply(self, version: int, pairs: list[tuple[str, str]]) -> None:
        """Give the assistant these taught phrasings unless a newer version is applied already.

        Call it on the event loop (or before the app serves).
        """
        bot = self.assistant()
        if bot is None or (self.version is not None and version < self.version):
            return
        bot.set_taught(pairs)
        self.version = version

    def start(self, loop: asyncio.AbstractEventLoop) -> TaughtSync:
        """Check the store every interval; changes are applied on ``loop``."""
        self._loop = loop
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop checking."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def check(self) -> bool:
        """Read the store's version; schedule an update if it moved. True when it did."""
        store = self.open_store()
        if store.taught_version() == self.version:
            return False
        version, pairs = self.read()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.apply, version, pairs)
        return True

    def _run(self) -> None:
        failing = False  # log a failure once, not every second
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # storage down, loop closed...: keep checking
                if not failing:
                    log.warning("taught phrasings not checked: %s", exc)
                failing = True
            else:
                if failing:
                    log.info("taught phrasings checked again")
                failing = False
