"""The FAQ assistant: answers questions about an article with the passage that answers them."""

from .bot import Assistant
from .corpus import CorpusError

__all__ = ["Assistant", "CorpusError"]
__version__ = "0.1.0"
