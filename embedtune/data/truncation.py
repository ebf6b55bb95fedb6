"""Count the texts the model will cut off at max_seq_length, so results say how much was unseen.

Counts are over unique texts, in tokens of the model's own tokenizer (special tokens and the
query/document prompt included, as the model sees them), and go to results.json under "data" as
`truncated_queries` and `truncated_documents` (training documents, negatives and the corpus).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sentence_transformers import SentenceTransformer

from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY, RetrievalData
from embedtune.data.sequence_length import CHARS_PER_TOKEN

logger = logging.getLogger(__name__)
_BATCH = 1024


def count_over_length(
    tokenizer, texts: Iterable[str], max_seq_length: int, prompt: str | None = None
) -> int:
    """How many of `texts` tokenize to more than `max_seq_length` tokens. Each text is clipped
    to what can hold max_seq_length + 1 tokens first, so a 50 MB document costs what a page
    does (issue 19: 138 s to count one)."""
    texts = list(texts)
    clip = (max_seq_length + 1) * CHARS_PER_TOKEN
    over = 0
    for start in range(0, len(texts), _BATCH):
        batch = [f"{prompt or ''}{t}"[:clip] for t in texts[start : start + _BATCH]]
        encoded = tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)
        over += sum(len(ids) > max_seq_length for ids in encoded["input_ids"])
    return over


def count_truncated(
    model: SentenceTransformer,
    data: RetrievalData,
    *,
    max_seq_length: int | None = None,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
) -> dict[str, int]:
    """{"truncated_queries": n, "truncated_documents": m}; {} when the model has no tokenizer."""
    limit = max_seq_length or model.max_seq_length
    tokenizer = getattr(model, "tokenizer", None)
    if not limit or tokenizer is None or not callable(tokenizer):
        return {}
    columns = data.train.column_names
    queries = set(data.queries.values()) | set(data.train[QUERY])
    documents = set(data.corpus.values()) | set(data.train[DOCUMENT])
    if NEGATIVE in columns:
        documents |= set(data.train[NEGATIVE])
    try:
        counts = {
            "truncated_queries": count_over_length(tokenizer, queries, limit, query_prompt),
            "truncated_documents": count_over_length(tokenizer, documents, limit, document_prompt),
        }
    except Exception as err:  # an unusual tokenizer: the count is a report, not a requirement
        logger.warning("Could not count truncated texts: %s: %s", type(err).__name__, err)
        return {}
    for kind, total in (("queries", len(queries)), ("documents", len(documents))):
        count = counts[f"truncated_{kind}"]
        if count:
            logger.warning(
                "%d of %d %s are longer than max_seq_length %d tokens and will be truncated",
                count,
                total,
                kind,
                limit,
            )
    return counts
