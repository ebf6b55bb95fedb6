"""Hard-negative mining with the base model, guarded against false negatives.

For every training (query, document) pair, the base model ranks the *training* documents (the
`document` column: never a test document, so the held-out evaluation stays unseen) and one
near-miss becomes the pair's `negative`. MultipleNegativesRankingLoss then scores each query
against its positive, its own hard negative, and every other document in the batch.

The guard against false negatives (a "negative" that actually answers the query, which would teach
the model the wrong thing):

- every document paired with the same query text is a positive, never a negative;
- `range_min` skips the top-ranked candidates, `range_max` bounds the window looked at;
- `relative_margin` keeps a candidate only if its similarity is at least that fraction of the
  positive's score below the positive's (NV-Retriever's TopK-PercPos, 0.05 = 95%).

A pair whose window holds no candidate that passes keeps a random other training document as its
negative (seeded), so mining never drops training pairs.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.util.hard_negatives import mine_hard_negatives

from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, QUERY
from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass
class MiningReport:
    pairs: int
    mined: int  # pairs whose negative passed the window and the margin
    random_fallback: int  # pairs that got a random training document instead
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


def add_hard_negatives(
    train: Dataset,
    model: SentenceTransformer,
    *,
    range_min: int = 0,
    range_max: int = 30,
    relative_margin: float | None = 0.05,
    query_prompt: str | None = None,
    document_prompt: str | None = None,
    batch_size: int = 64,
    seed: int = 42,
) -> tuple[Dataset, MiningReport]:
    """`train` (query, document[, ...]) with a `negative` column: same rows, same order."""
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
    corpus = list(dict.fromkeys(documents))  # training documents only
    positives: dict[str, set[str]] = {}
    for query, document in zip(queries, documents):
        positives.setdefault(query, set()).add(document)

    negatives: dict[tuple[str, str], str] = {}
    candidates = len(corpus) - 1
    if candidates >= 1:
        window_max = min(range_max, candidates)
        window_min = min(range_min, window_max - 1)
        mined = mine_hard_negatives(
            Dataset.from_dict({QUERY: queries, DOCUMENT: documents}),
            model,
            anchor_column_name=QUERY,
            positive_column_name=DOCUMENT,
            range_min=window_min,
            range_max=window_max,
            relative_margin=relative_margin,
            num_negatives=1,
            sampling_strategy="top",
            query_prompt=query_prompt,
            corpus_prompt=document_prompt,
            output_format="triplet",
            batch_size=batch_size,
            verbose=False,
        )
        for query, document, negative in zip(mined[QUERY], mined[DOCUMENT], mined[NEGATIVE]):
            if negative not in positives.get(query, ()):  # belt and braces
                negatives[(query, document)] = negative

    rng = random.Random(seed)
    column: list[str] = []
    found = fallback = 0
    for query, document in zip(queries, documents):
        negative = negatives.get((query, document))
        if negative is not None:
            found += 1
        else:
            negative = _fallback_negative(rng, corpus, positives[query])
            if negative is None:
                raise ConfigError(
                    "cannot pick a negative: every training document answers the same query"
                )
            fallback += 1
        column.append(negative)
    report = MiningReport(len(queries), found, fallback, round(time.perf_counter() - start, 2))
    logger.info(
        "Hard negatives: %d of %d pairs mined from %d training documents (ranks %d-%d, "
        "relative margin %s); %d random fallbacks, %.0fs",
        found,
        len(queries),
        len(corpus),
        range_min,
        range_max,
        relative_margin,
        fallback,
        report.seconds,
    )
    return train.add_column(NEGATIVE, column), report
