"""Turn raw rows into clean (query, document[, negative]) pairs, counting what was dropped.

Documented handling: rows with a null, empty or whitespace-only text are dropped; exact duplicate
pairs are dropped; pairs whose query equals its document are dropped (they teach nothing). Every
count is logged with the first row affected and reported in results.json under "data".
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

from datasets import Dataset

from embedtune.data.layouts import ColumnMapping
from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY
from embedtune.errors import DataError

logger = logging.getLogger(__name__)


def _text(value: object, *, source: str, row: int, column: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas/CSV
        return None
    if not isinstance(value, str):
        raise DataError(
            f"expected text, found {type(value).__name__}", path=source, row=row, column=column
        )
    return value if value.strip() else None


def clean_pairs(
    rows: Iterable[dict], mapping: ColumnMapping, *, source: str, first_row: int = 1
) -> tuple[Dataset, dict[str, int]]:
    """Pairs dataset with columns query, document[, negative] and a report of dropped rows."""
    queries: list[str] = []
    documents: list[str] = []
    negatives: list[str] = []
    seen: set[tuple[str, str, str | None]] = set()
    dropped: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    total = 0

    def drop(reason: str, row: int) -> None:
        dropped[reason] += 1
        first_seen.setdefault(reason, row)

    for offset, raw in enumerate(rows):
        total += 1
        row = first_row + offset
        query = _text(raw.get(mapping.query), source=source, row=row, column=mapping.query)
        document = _text(raw.get(mapping.document), source=source, row=row, column=mapping.document)
        negative = None
        if mapping.negative:
            negative = _text(
                raw.get(mapping.negative), source=source, row=row, column=mapping.negative
            )
        if query is None or document is None or (mapping.negative and negative is None):
            drop("dropped_empty_text", row)
            continue
        if query.strip() == document.strip():
            drop("dropped_query_equals_document", row)
            continue
        key = (query, document, negative)
        if key in seen:
            drop("dropped_duplicates", row)
            continue
        seen.add(key)
        queries.append(query)
        documents.append(document)
        if mapping.negative:
            negatives.append(negative)

    if total == 0:
        raise DataError("the dataset is empty", path=source)
    for reason, count in dropped.items():
        logger.warning(
            "%s: %s: %d of %d rows (first at row %d)",
            source,
            reason.replace("_", " "),
            count,
            total,
            first_seen[reason],
        )
    if not queries:
        raise DataError(
            f"no usable (query, document) pairs among {total} rows ({dict(dropped)})",
            path=source,
            column=mapping.query,
        )
    data = {QUERY: queries, DOCUMENT: documents}
    if mapping.negative:
        data[NEGATIVE] = negatives
    report = {"input_rows": total, **dict(dropped)}
    return Dataset.from_dict(data), report
