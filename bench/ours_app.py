"""Ablations of the real app for bench/http_load.py --ablation: `create_app` as `assistant serve`
builds it, minus one piece of the request path at a time, chosen by BENCH_OURS_WITHOUT
(comma-separated):

- ``qlog``: the question log's ``record`` (queue hand-off to the writer thread) does nothing;
- ``qwake``: the question log's writer thread, once a row arrived, sleeps out its linger and
  then drains the queue, instead of waiting on the queue (and so being woken, and taking the
  GIL) for every row: what a writer without per-request wake-ups would cost;
- ``gc``: ``gc.freeze()`` once started, so the collector no longer walks the loaded index
  and libraries;
- ``ask``: ``Assistant.ask`` returns one precomputed reply (the app's cost without the answer).

Never a baseline: it only tells which piece costs what. Served by
``python -m uvicorn bench.ours_app:create --factory`` with the settings of `assistant serve`.
"""

from __future__ import annotations

import gc
import os
import queue
import time

from fastapi import FastAPI

from assistant import background
from assistant.app import create_app
from assistant.cli import _load
from assistant.config import Settings


def _run_without_wakeups(self: background.QuestionLog) -> None:
    """QuestionLog._run, but sleeping out the linger instead of waiting on the queue."""
    stop = False
    while not stop:
        rows = [self._queue.get()]
        if rows[0] is not background._STOP:
            time.sleep(self.linger)
        while len(rows) < self.batch and rows[-1] is not background._STOP:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        stop = any(row is background._STOP for row in rows)
        batch = [row for row in rows if row is not background._STOP]
        try:
            if batch:
                self._write(batch)
        except Exception as exc:
            self._lost(len(batch), exc)
        finally:
            for _ in rows:
                self._queue.task_done()


def create() -> FastAPI:
    """The app of `assistant serve`, with the pieces named in BENCH_OURS_WITHOUT left out."""
    without = set(filter(None, os.environ.get("BENCH_OURS_WITHOUT", "").split(",")))
    try:  # as cmd_serve does before it loads
        from assistant.logs import configure_logging

        configure_logging("INFO")
    except ImportError:
        pass
    settings = Settings.from_env()
    app = create_app(settings, _load(settings))
    if "qlog" in without:
        background.QuestionLog.record = lambda self, question, reply: None
    if "qwake" in without:  # before the lifespan starts the writer thread
        background.QuestionLog._run = _run_without_wakeups
    if "ask" in without:
        bot = app.state.assistant
        reply = bot.ask("What is Django?")
        bot.ask = lambda question, history=None, top_k=3: reply
    if "gc" in without:
        gc.collect()
        gc.freeze()
    return app
