"""Hard-negative mining with the base model, guarded against false negatives.

For every training (query, document) pair, the base model ranks the candidate documents (the
training documents, plus the rest of the corpus when the protocol shares it) and the nearest
misses become the pair's negatives (`negative`, or `negative_1..n`). MultipleNegativesRankingLoss then scores each query
against its positive, its own hard negative, and every other document in the batch.

The guard against false negatives (a "negative" that actually answers the query, which would teach
the model the wrong thing):

- every document paired with the same query text is a positive, never a negative;
- `range_min` skips the top-ranked candidates, `range_max` bounds the window looked at;
- `relative_margin` keeps a candidate only if its similarity is at least that fraction of the
  positive's score below the positive's (NV-Retriever's TopK-PercPos, 0.05 = 95%).

A pair whose window holds too few candidates that pass gets random other candidates (seeded), so
mining never drops training pairs. An optional cross-encoder rescores the candidates first.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.util.hard_negatives import mine_hard_negatives

from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY
from embedtune.errors import ConfigError
from embedtune.evaluation.embedding_cache import DocumentEmbeddings
from embedtune.progress import encode_bar_label, encode_bars_follow_quiet
from embedtune.search.mining import mining_search_options

logger = logging.getLogger(__name__)


@dataclass
class MiningReport:
    pairs: int  # negatives asked for: training pairs x num_negatives
    mined: int  # negatives that passed the window and the margin
    random_fallback: int  # negatives that are a random candidate document instead
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return self.__dict__.copy()


def _fallback_negative(
    rng: random.Random, documents: list[str], positives: set[str], tries: int = 20
) -> str | None:
    for _ in range(tries):
        candidate = documents[rng.randrange(len(documents))]
        if candidate not in positives:
            return candidate
    others = [d for d in documents if d not in positives]
    return rng.choice(others) if others else None


def negative_column_names(count: int) -> list[str]:
    """`negative` for one negative per pair; `negative_1` ... `negative_n` for several."""
    return [NEGATIVE] if count == 1 else [f"{NEGATIVE}_{i}" for i in range(1, count + 1)]


def _positives_by_query(queries: list[str], documents: list[str]) -> dict[str, set[str]]:
    positives: dict[str, set[str]] = {}
    for query, document in zip(queries, documents):
        positives.setdefault(query, set()).add(document)
    return positives


def _mine(
    queries: list[str],
    documents: list[str],
    model: SentenceTransformer,
    *,
    corpus: list[str],
    num_negatives: int,
    range_min: int,
    range_max: int,
    relative_margin: float | None,
    cross_encoder: Any | None,
    query_prompt: str | None,
    document_prompt: str | None,
    batch_size: int,
    index: str = "exact",
    embeddings: DocumentEmbeddings | None = None,
) -> dict[tuple[str, str], list[str]]:
    """(query, document) -> up to num_negatives mined negatives, hardest first."""
    candidates = len(set(corpus) | set(documents)) - 1
    if candidates < 1:
        return {}
    window_max = min(range_max, candidates)
    window_min = min(range_min, max(window_max - num_negatives, 0))
    others = [d for d in corpus if d not in set(documents)] or None
    with tempfile.TemporaryDirectory(prefix="embedtune-mining-") as cache_folder:
        if embeddings is not None:
            _seed_corpus_cache(cache_folder, model, embeddings, others, documents, document_prompt)
        mined = _mine_with_st(
            queries,
            documents,
            model,
            others=others,
            cross_encoder=cross_encoder,
            window=(window_min, window_max),
            relative_margin=relative_margin,
            num_negatives=num_negatives,
            query_prompt=query_prompt,
            document_prompt=document_prompt,
            batch_size=batch_size,
            search_options=mining_search_options(index, candidates + 1),
            cache_folder=cache_folder if embeddings is not None else None,
        )
    positives = _positives_by_query(queries, documents)
    found: dict[tuple[str, str], list[str]] = {}
    for query, document, negative in zip(mined[QUERY], mined[DOCUMENT], mined[NEGATIVE]):
        chosen = found.setdefault((query, document), [])
        if negative not in positives.get(query, ()) and negative not in chosen:  # belt and braces
            chosen.append(negative)
    return found


def _seed_corpus_cache(
    folder: str,
    model: SentenceTransformer,
    embeddings: DocumentEmbeddings,
    others: list[str] | None,
    documents: list[str],
    document_prompt: str | None,
) -> None:
    """Write the mining pool's embeddings where `mine_hard_negatives(cache_folder=...)` looks
    for them, so mining reuses the run's one encoding of the corpus instead of encoding it again.

    The file name is Sentence Transformers' own cache key (a hash of the model name, the prompt
    and the de-duplicated pool in its order); if a future version keys it otherwise, mining
    simply encodes the pool itself, with the same result.
    """
    pool = list(dict.fromkeys((others or documents) + documents))
    model_name = model.model_card_data.base_model or ""
    key = hashlib.sha256(
        repr((model_name, document_prompt, None, pool)).encode(), usedforsecurity=False
    ).hexdigest()
    np.save(os.path.join(folder, f"corpus_embeddings_{key}.npy"), embeddings.embed(pool))


def _mine_with_st(
    queries: list[str],
    documents: list[str],
    model: SentenceTransformer,
    *,
    others: list[str] | None,
    cross_encoder: Any | None,
    window: tuple[int, int],
    relative_margin: float | None,
    num_negatives: int,
    query_prompt: str | None,
    document_prompt: str | None,
    batch_size: int,
    search_options: dict,
    cache_folder: str | None,
) -> Dataset:
    window_min, window_max = window
    # --quiet: the miner's own bars too; otherwise they say what they are
    with encode_bars_follow_quiet(model), encode_bar_label("Mining hard negatives (base model)"):
        return mine_hard_negatives(
            Dataset.from_dict({QUERY: queries, DOCUMENT: documents}),
            model,
            anchor_column_name=QUERY,
            positive_column_name=DOCUMENT,
            corpus=others,
            cross_encoder=cross_encoder,
            range_min=window_min,
            range_max=window_max,
            relative_margin=relative_margin,
            num_negatives=min(num_negatives, window_max - window_min),
            sampling_strategy="top",
            query_prompt=query_prompt,
            corpus_prompt=document_prompt,
            output_format="triplet",  # one row per (pair, negative), hardest first
            batch_size=batch_size,
            verbose=False,
            cache_folder=cache_folder,
            **search_options,  # FAISS when --index asks (or auto)
        )


def add_hard_negatives(
    train: Dataset,
    model: SentenceTransformer,
    *,
    num_negatives: int = 1,
    corpus: list[str] | None = None,
    cross_encoder: Any | None = None,
    range_min: int = 0,
    range_max: int = 30,
    relative_margin: float | None = 0.05,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    seed: int = 42,
    index: str = "exact",
    embeddings: DocumentEmbeddings | None = None,
) -> tuple[Dataset, MiningReport]:
    """`train` (query, document) with `num_negatives` negative columns: same rows, same order.

    Candidates are the training documents plus `corpus` (the protocol decides: under by-document
    only training documents, otherwise the whole corpus); a query's own positives never qualify.
    `cross_encoder` rescores the candidates (the margin then applies to its scores), which filters
    false negatives the bi-encoder cannot see. `index` (config.index) picks Sentence
    Transformers' FAISS search for a large pool (embedtune.search.mining). `embeddings`: the
    model's document embeddings already computed (the test encoding): reused, not recomputed.
    """
    if NEGATIVE in train.column_names:
        raise ConfigError("the training data already has a negative column; nothing to mine")
    if range_min < 0 or range_max <= range_min:
        raise ConfigError(
            f"hard-negative window needs 0 <= range_min < range_max, got {range_min}, {range_max}"
        )
    if relative_margin is not None and not 0 <= relative_margin < 1:
        raise ConfigError(f"relative_margin must be in [0, 1), got {relative_margin}")
    start = time.perf_counter()
    queries, documents = list(train[QUERY]), list(train[DOCUMENT])
    pool = list(dict.fromkeys([*documents, *(corpus or [])]))
    found = _mine(
        queries,
        documents,
        model,
        corpus=pool,
        num_negatives=num_negatives,
        range_min=range_min,
        range_max=range_max,
        relative_margin=relative_margin,
        cross_encoder=cross_encoder,
        query_prompt=query_prompt,
        document_prompt=document_prompt,
        batch_size=batch_size,
        index=index,
        embeddings=embeddings,
    )
    positives = _positives_by_query(queries, documents)
    rng = random.Random(seed)
    columns: list[list[str]] = [[] for _ in range(num_negatives)]
    mined = fallback = 0
    for query, document in zip(queries, documents):
        chosen = list(found.get((query, document), []))[:num_negatives]
        mined += len(chosen)
        while len(chosen) < num_negatives:
            negative = _fallback_negative(rng, pool, positives[query] | set(chosen))
            if negative is None:
                raise ConfigError(
                    "cannot pick a negative: every training document answers the same query"
                )
            chosen.append(negative)
            fallback += 1
        for column, negative in zip(columns, chosen):
            column.append(negative)
    report = MiningReport(
        len(queries) * num_negatives, mined, fallback, round(time.perf_counter() - start, 2)
    )
    logger.info(
        "Hard negatives: %d of %d mined from %d candidate documents (ranks %d-%d, relative "
        "margin %s%s); %d random fallbacks, %.0fs",
        mined,
        report.pairs,
        len(pool),
        range_min,
        range_max,
        relative_margin,
        ", cross-encoder rescored" if cross_encoder is not None else "",
        fallback,
        report.seconds,
    )
    for name, column in zip(negative_column_names(num_negatives), columns):
        train = train.add_column(name, column)
    return train, report
