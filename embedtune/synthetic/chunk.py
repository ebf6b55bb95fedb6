"""The unit of text that queries are generated for and that the corpus is made of."""

from __future__ import annotations

from dataclasses import dataclass

# Columns of a generated dataset: the layout `embedtune finetune` reads without flags.
GENERATED_COLUMNS = (
    "chunk_id",
    "document",
    "query",
    "negative_query",
    "source",
    "section",
    "token_count",
)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: its text plus where it came from."""

    id: str
    text: str
    source: str  # file path (or other origin) the chunk was cut from
    section: str  # heading path, e.g. "Install > Linux"
    token_count: int  # tokens by the base model's tokenizer (or whitespace words if none given)
