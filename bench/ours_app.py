"""Ablations of the real app for bench/http_load.py --ablation: `create_app` as `assistant serve`
builds it, minus one piece of the request path at a time, chosen by BENCH_OURS_WITHOUT
(comma-separated):

- ``qlog``: the question log's ``record`` (queue hand-off to the writer thread) does nothing;
- ``gc``: ``gc.freeze()`` once started, so the collector no longer walks the loaded index
  and libraries;
- ``ask``: ``Assistant.ask`` returns one precomputed reply (the app's cost without the answer).

Never a baseline: it only tells which piece costs what. Served by
``python -m uvicorn bench.ours_app:create --factory`` with the settings of `assistant serve`.
"""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI

from assistant import background
from assistant.app import create_app
from assistant.cli import _load
from assistant.config import Settings


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
    if "ask" in without:
        bot = app.state.assistant
        reply = bot.ask("What is Django?")
        bot.ask = lambda question, history=None, top_k=3: reply
    if "gc" in without:
        gc.collect()
        gc.freeze()
    return app
