"""The sequence length a run trains and evaluates at: what the documents need, not the model's cap.

Unless `max_seq_length` is set, a run uses the LENGTH_PERCENTILE-th percentile of its documents'
token lengths (a seeded sample of the corpus and training documents, prompt and special tokens
included), rounded up to a multiple of LENGTH_MULTIPLE and capped at the model's own limit.
Attention cost grows with length and Sentence Transformers pads each batch to its longest text,
so a few very long documents would otherwise set the cost of every batch they fall into.

The measurement is recorded in results.json (`sequence_length`): the length chosen and why, the
share of documents it truncates, and the padding a random training batch carries at that length.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

LENGTH_PERCENTILE = 95
LENGTH_MULTIPLE = 16
LENGTH_SAMPLE = 2000  # documents tokenized to measure; plenty for a 95th percentile
MIN_LENGTH = 32
# Characters per token is above 2 for every tokenizer we know: tokenizing the first
# CHARS_PER_TOKEN x limit characters tells whether a text is over the limit, so a 50 MB
# single-line document costs no more than a normal one.
CHARS_PER_TOKEN = 12


def token_lengths(tokenizer: Any, texts: list[str], *, cap: int, prompt: str | None) -> list[int]:
    """Token counts (special tokens and prompt included) of `texts`, each at most `cap` + 1."""
    clipped = [f"{prompt or ''}{t}"[: (cap + 1) * CHARS_PER_TOKEN] for t in texts]
    lengths: list[int] = []
    for start in range(0, len(clipped), 512):
        encoded = tokenizer(
            clipped[start : start + 512], add_special_tokens=True, truncation=False, verbose=False
        )
        lengths.extend(min(len(ids), cap + 1) for ids in encoded["input_ids"])
    return lengths


def padding_fraction(lengths: list[int], length: int, batch_size: int, seed: int) -> float:
    """Share of padding tokens in random batches of `batch_size` documents truncated at
    `length` (each batch padded to its longest text, as Sentence Transformers does)."""
    if not lengths:
        return 0.0
    order = list(lengths)
    random.Random(seed).shuffle(order)
    padded = real = 0
    for start in range(0, len(order), batch_size):
        batch = [min(n, length) for n in order[start : start + batch_size]]
        padded += max(batch) * len(batch)
        real += sum(batch)
    return round(1 - real / padded, 4) if padded else 0.0


def choose_length(
    tokenizer: Any,
    documents: list[str],
    *,
    model_limit: int,
    setting: int | None,
    prompt: str | None = None,
    batch_size: int = 32,
    seed: int = 42,
) -> dict[str, Any]:
    """results.json `sequence_length`: `max_seq_length` (the length to use) and its evidence.
    `setting`: the user's max_seq_length (kept as is); None: from the data."""
    unique = sorted(set(documents))
    sample = random.Random(seed).sample(unique, min(LENGTH_SAMPLE, len(unique)))
    lengths = token_lengths(tokenizer, sample, cap=model_limit, prompt=prompt)
    percentile = float(np.percentile(lengths, LENGTH_PERCENTILE)) if lengths else float(MIN_LENGTH)
    if setting is not None:
        chosen, source = setting, "setting"
    else:
        rounded = LENGTH_MULTIPLE * math.ceil(percentile / LENGTH_MULTIPLE)
        chosen, source = min(model_limit, max(MIN_LENGTH, rounded)), "data"
    truncated = sum(n > chosen for n in lengths)
    return {
        "max_seq_length": int(chosen),
        "source": source,
        "rule": (
            f"{LENGTH_PERCENTILE}th percentile of document tokens, rounded up to a multiple of "
            f"{LENGTH_MULTIPLE}, capped at the model's {model_limit}"
            if source == "data"
            else "max_seq_length as set"
        ),
        "model_limit": int(model_limit),
        "documents_measured": len(lengths),
        f"p{LENGTH_PERCENTILE}_tokens": round(percentile, 1),
        "truncated_documents_fraction": round(truncated / len(lengths), 4) if lengths else 0.0,
        "padding_fraction": padding_fraction(lengths, chosen, batch_size, seed),
    }
