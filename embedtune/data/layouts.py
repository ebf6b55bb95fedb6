"""Which column holds the query and which the document.

Two common layouts share the names `anchor`/`positive` with opposite meanings:
- distilabel (`GenerateSentencePair`): anchor = document chunk, positive = question,
  negative = an unrelated *question* (not a document, so it is not a usable hard negative);
- the Sentence Transformers tutorial layout: anchor = question, positive = document.
A layout is accepted only when the column names and the text lengths agree; otherwise the user is
told which flags to pass. Nothing is guessed silently: the decision and its evidence are logged.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from embedtune.errors import DataError

logger = logging.getLogger(__name__)

# Unambiguous (query column, document column, negative-document column or None).
_NAMED_LAYOUTS: list[tuple[str, str, str | None]] = [
    ("query", "document", "negative"),
    ("query", "positive", "negative"),
    ("query", "passage", "negative"),
    ("question", "context", None),
    ("question", "passage", None),
    ("question", "document", None),
]
_DISTILABEL_MARKERS = ("distilabel_metadata", "model_name", "generated_questions")
# Documents are expected to be clearly longer than queries.
_LENGTH_RATIO = 1.5

FLAG_HINT = (
    "pass --query-column COL --document-column COL (and --negative-column COL for a "
    "hard-negative document)"
)


@dataclass(frozen=True)
class ColumnMapping:
    query: str
    document: str
    negative: str | None = None
    layout: str = "explicit"


def _median_words(values: Sequence[object]) -> float:
    lengths = [len(str(v).split()) for v in values if v is not None and str(v).strip()]
    return statistics.median(lengths) if lengths else 0.0


def resolve_columns(
    columns: Sequence[str],
    sample: Sequence[dict],
    *,
    source: str,
    query_column: str | None = None,
    document_column: str | None = None,
    negative_column: str | None = None,
) -> ColumnMapping:
    """Map a dataset's columns to (query, document[, negative]) or raise a DataError saying how."""
    columns = list(columns)
    explicit = [c for c in (query_column, document_column, negative_column) if c]
    for name in explicit:
        if name not in columns:
            raise DataError(
                f"column {name!r} not found; the columns are {columns}",
                path=source,
                column=name,
                hint="check the --query-column/--document-column/--negative-column flags",
            )
    if query_column and document_column:
        if query_column == document_column:
            raise DataError(
                "the query and document columns must differ", path=source, column=query_column
            )
        return ColumnMapping(query_column, document_column, negative_column, "explicit")
    if query_column or document_column:
        raise DataError(
            "give both --query-column and --document-column, or neither",
            path=source,
            hint=FLAG_HINT,
        )

    for q, d, n in _NAMED_LAYOUTS:
        if q in columns and d in columns:
            neg = negative_column or (n if n in columns else None)
            logger.info("Recognised layout: query=%r, document=%r, negative=%r", q, d, neg)
            return ColumnMapping(q, d, neg, f"{q}/{d}")

    if "anchor" in columns and "positive" in columns:
        return _resolve_anchor_positive(columns, sample, source, negative_column)

    raise DataError(
        f"cannot tell which columns hold queries and documents; the columns are {columns}",
        path=source,
        hint=FLAG_HINT,
    )


def _resolve_anchor_positive(
    columns: list[str], sample: Sequence[dict], source: str, negative_column: str | None
) -> ColumnMapping:
    anchor_len = _median_words([row.get("anchor") for row in sample])
    positive_len = _median_words([row.get("positive") for row in sample])
    markers = [m for m in _DISTILABEL_MARKERS if m in columns]
    anchor_is_document = anchor_len >= _LENGTH_RATIO * max(positive_len, 1)
    positive_is_document = positive_len >= _LENGTH_RATIO * max(anchor_len, 1)
    evidence = f"median words: anchor {anchor_len:g}, positive {positive_len:g}"
    both_ways = (
        "if anchor holds the questions: --query-column anchor --document-column positive; "
        "if anchor holds the documents: --query-column positive --document-column anchor"
    )

    if markers and anchor_is_document:
        if "negative" in columns and negative_column is None:
            logger.info(
                "distilabel layout: column 'negative' holds unrelated questions, not documents; "
                "it is not used as a hard negative"
            )
        logger.info(
            "Recognised the distilabel layout (anchor=document, positive=query): %s present, %s",
            markers,
            evidence,
        )
        return ColumnMapping("positive", "anchor", negative_column, "distilabel")
    if not markers and positive_is_document:
        negative = negative_column or ("negative" if "negative" in columns else None)
        logger.info(
            "Recognised the tutorial layout (anchor=query, positive=document): %s", evidence
        )
        return ColumnMapping("anchor", "positive", negative, "anchor/positive")
    why = (
        f"distilabel columns {markers} say anchor=document but the lengths disagree"
        if markers
        else "the texts are of similar length"
    )
    raise DataError(
        f"columns 'anchor'/'positive' are ambiguous ({why}; {evidence})",
        path=source,
        column="anchor",
        hint=both_ways,
    )
