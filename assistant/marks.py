"""A passage split for display around its best sentence (the reply's `highlight`).

The server-rendered page (no JavaScript) emphasises that sentence; web/static/chat.js does the
same in the browser and also marks the visitor's words. This only splits text: the template
inserts every part as escaped text.
"""

from __future__ import annotations

from typing import NamedTuple


class Part(NamedTuple):
    """A run of a passage's text; `best` when it is the sentence that answers best."""

    best: bool
    text: str


def passage_parts(text: str, highlight: str = "") -> list[Part]:
    """The passage as up to three parts: before the highlight, the highlight, after it."""
    at = text.find(highlight) if highlight else -1
    if at < 0:
        return [Part(False, text)] if text else []
    runs = [Part(False, text[:at]), Part(True, highlight), Part(False, text[at + len(highlight) :])]
    return [run for run in runs if run.text]
