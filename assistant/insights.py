"""What visitors asked, for staff: near-duplicate questions grouped, and CSV exports that a
spreadsheet opens safely."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any

from rapidfuzz import fuzz, process

from .store import normalize

SIMILAR = 90  # rapidfuzz score (0-100) from which two questions are the same question
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula


def group_questions(rows: Iterable[dict], taught: Iterable[str] = ()) -> list[dict]:
    """Merge near-duplicate questions, most asked first.

    ``rows`` are the store's question_stats (already grouped by normalized text). Two questions
    are near-duplicates when their normalized texts score at least SIMILAR with rapidfuzz's
    ``ratio`` (typos: "payrol") or ``token_sort_ratio`` (word order). ``token_set_ratio`` is not
    used: it scores 100 whenever one question's words are a subset of the other's, which would
    fold "what is django security" into "what is django". A group keeps its most asked phrasing
    as the label, sums the counts and keeps the latest time; ``taught`` marks a group whose
    question is one of these phrasings.
    """
    groups: list[dict] = []
    keys: list[str] = []
    for row in sorted(rows, key=lambda r: (-r["count"], _sortable(r["last_asked"]))):
        key = normalize(row["question"])
        hit = None
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            hit = hit or process.extractOne(key, keys, scorer=scorer, score_cutoff=SIMILAR)
        if hit is None:
            keys.append(key)
            groups.append({**row, "variants": []})
            continue
        group = groups[hit[2]]
        group["count"] += row["count"]
        group["last_asked"] = max(group["last_asked"], row["last_asked"])
        group["answered"] = bool(group.get("answered")) or bool(row.get("answered"))
        group["variants"].append(row["question"])
    known = {normalize(q) for q in taught}
    for group in groups:
        group["taught"] = any(
            normalize(q) in known for q in [group["question"], *group["variants"]]
        )
    groups.sort(key=lambda g: (-g["count"], _sortable(g["last_asked"])))
    return groups


def _sortable(when: datetime) -> float:
    """Most recent first, as a sort key."""
    return -when.timestamp()


def safe_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a leading = + - @ gets a quote before it."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def write_csv(rows: Iterable[dict], columns: Sequence[str]) -> IO[str]:
    """The rows as CSV in a temporary file (in memory while small), rewound for reading."""
    out = tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+", newline="", encoding="utf-8")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    out.seek(0)
    return out
