"""The FAQ assistant: answers questions about an article with the passage that answers them."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["Assistant", "CorpusError"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .bot import Assistant
    from .corpus import CorpusError


def __getattr__(name: str):
    """Import the heavy parts (scikit-learn) only when they are used: a process that only
    touches storage or settings starts fast."""
    if name == "Assistant":
        from .bot import Assistant

        return Assistant
    if name == "CorpusError":
        from .corpus import CorpusError

        return CorpusError
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
