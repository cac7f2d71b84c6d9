"""Corpus reload without downtime: the new index is built beside the old one (in a child process)
and swapped in with one assignment; requests in flight keep the assistant they started with.
A broken corpus is reported with the file's name and the last good index keeps serving.

Triggered by ``POST /api/staff/reload`` and, in a single-worker server, by SIGHUP. With
``--workers N``, SIGHUP goes to uvicorn's supervisor, which restarts the workers one by one
(each loads the fresh snapshot), and the API reload also asks the supervisor to do that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from typing import Any

from . import metrics
from .bot import Assistant
from .corpus import CorpusError
from .store import StorageError

log = logging.getLogger("assistant.reload")
SUPERVISOR_ENV = "ASSISTANT_SUPERVISOR_PID"  # set by `assistant serve --workers N`


class ReloadError(Exception):
    """The corpus could not be read; the message names the file."""


class Reloader:
    """Rebuilds the app's assistant from its corpus, one reload at a time."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self._lock = asyncio.Lock()

    async def reload(self, others: bool = True) -> dict[str, int]:
        """Re-read the corpus and swap the new assistant in; ReloadError if it is broken.

        ``others``: also have the other workers of this server restart onto the new corpus.
        """
        async with self._lock:
            settings = self.state.settings
            sync = self.state.taught_sync
            try:
                version, taught = await asyncio.to_thread(sync.read)
            except StorageError as exc:  # keep the phrasings taught so far
                log.warning("reload without fresh taught phrasings: %s", exc)
                version, taught = None, list(self.state.assistant.taught)
            try:
                bot = await asyncio.to_thread(
                    Assistant.load,
                    settings.corpus,
                    extra_questions=taught,
                    index_dir=settings.index_dir,
                    build_in_child=True,
                    cache_size=settings.answer_cache,
                )
            except CorpusError as exc:
                metrics.record_reload(False)
                log.error("reload failed, the last good index keeps serving: %s", exc)
                raise ReloadError(str(exc)) from None
            self.state.assistant = bot  # the swap: one reference assignment
            if version is not None:
                sync.version = version
            metrics.record_reload(True)
            log.info("corpus reloaded: %d passages", len(bot.passages))
            if others:
                _restart_other_workers()
            return {"passages": len(bot.passages), "documents": len(bot.documents)}

    def install_sighup(self, loop: asyncio.AbstractEventLoop) -> None:
        """Reload on SIGHUP (single-worker servers; a supervisor handles it with workers)."""
        if os.environ.get(SUPERVISOR_ENV):
            return

        def on_hup() -> None:
            task = loop.create_task(self.reload(others=False))
            task.add_done_callback(_log_failure)

        try:
            loop.add_signal_handler(signal.SIGHUP, on_hup)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            log.debug("SIGHUP reload not available in this thread")


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("SIGHUP reload failed: %s", task.exception())


def _restart_other_workers() -> None:
    """Under `serve --workers N`, ask uvicorn's supervisor for a rolling restart."""
    pid = os.environ.get(SUPERVISOR_ENV, "")
    if pid.isdigit() and int(pid) == os.getppid():
        os.kill(int(pid), signal.SIGHUP)
