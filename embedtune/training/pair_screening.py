"""The run's training-data screens, as two plain functions the job calls around mining:

    data, block = filter_training_pairs(model, data, config, embeddings=...)   # --filter
    data, report = mine_and_screen(model, data, config, embeddings=...)         # mining + flags

`filter_training_pairs` drops synthetic queries that fail the query filter
(embedtune.data.query_filter) before the validation split; its block goes to results.json
`training.query_filter`. `mine_and_screen` mines hard negatives (embedtune.training.
hard_negatives), then flags and (by default) drops false negatives (embedtune.training.
false_negatives); with `review_negatives` it first pulls an Argilla review of an earlier run
(reviewed "yes": extra positive pairs; "no": confirmed negatives) and afterwards pushes the
doubtful triples for review (embedtune.annotation.negative_review). Its report is results.json
`training.hard_negative_mining`, with `false_negatives` inside.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from typing import Any

from embedtune.data.protocol import BY_DOCUMENT
from embedtune.data.retrieval_data import NEGATIVE, RetrievalData

logger = logging.getLogger(__name__)


# The Argilla review loop lives a layer up (embedtune.annotation, which needs the Argilla SDK):
# imported by name only when --review-negatives asks for it, as data/registry.py does for
# argilla: sources, so training never imports annotation.
REVIEW_BACKEND = "embedtune.annotation.negative_review"


def _review_backend() -> Any:
    return importlib.import_module(REVIEW_BACKEND)


def _cross_encoder(path: str | None) -> Any:
    if not path:
        return None
    from embedtune.training.model_loading import load_cross_encoder

    return load_cross_encoder(path)


def _shared_corpus(data: RetrievalData) -> list[str] | None:
    """The corpus documents the protocol lets training see (None under by-document)."""
    if data.protocol.get("split", BY_DOCUMENT) == BY_DOCUMENT:
        return None
    return list(data.corpus.values())


def filter_training_pairs(
    model: Any, data: RetrievalData, config: Any, *, embeddings: Any = None
) -> tuple[RetrievalData, dict[str, Any] | None]:
    """`data` with its training pairs filtered (config.filter), and the results block."""
    if not getattr(config, "filter", False):
        return data, None
    from embedtune.data.query_filter import QueryFilterSettings, filter_queries

    settings = QueryFilterSettings(
        top_k=config.filter_top_k,
        copy_fraction=config.filter_copy_fraction,
        duplicate_similarity=config.filter_duplicate_similarity,
        rules=("copy", "near_duplicate", "round_trip"),
    )
    outcome = filter_queries(
        data.train,
        model,
        settings=settings,
        corpus=_shared_corpus(data),
        cross_encoder=_cross_encoder(config.filter_cross_encoder),
        query_prompt=config.query_prompt,
        encode_documents=embeddings.embed if embeddings is not None else None,
        batch_size=config.eval_batch_size,
    )
    return dataclasses.replace(data, train=outcome.kept), outcome.summary()


def mine_and_screen(
    model: Any, data: RetrievalData, config: Any, *, embeddings: Any = None
) -> tuple[RetrievalData, dict[str, Any] | None]:
    """Hard negatives from the base model (the pool follows the protocol), screened for false
    negatives as config.false_negatives says; the mining report with `false_negatives`."""
    from embedtune.training.false_negatives import screen_false_negatives, spare_negatives
    from embedtune.training.hard_negatives import add_hard_negatives

    if not config.hard_negatives:
        return data, None
    if NEGATIVE in data.train.column_names:
        logger.info("The data has its own negatives: hard-negative mining skipped")
        return data, None
    action = getattr(config, "false_negatives", "off")
    review = getattr(config, "review_negatives", None)
    train, reviews, review_block = data.train, None, None
    if review:
        reviewer = _review_backend()
        reviews = reviewer.pull_negative_reviews(review, missing_ok=True)
        review_block = {"dataset": review, **(reviews.summary() if reviews else {"records": 0})}
        if reviews is not None:
            train, added = reviewer.add_reviewed_positives(train, reviews)
            review_block["added_pairs"] = added
    corpus = _shared_corpus(data)
    cross_encoder = _cross_encoder(config.rescore_model)
    window = config.hard_negative_range_max - config.hard_negative_range_min
    spare = spare_negatives(config.num_negatives, window) if action == "drop" else 0
    if spare:  # never more candidates than the pool holds for the query with most positives
        pool_size = len(set(train["document"]) | set(corpus or []))
        positives: dict[str, int] = {}
        for query in train["query"]:
            positives[query] = positives.get(query, 0) + 1
        spare = max(0, min(spare, pool_size - max(positives.values()) - config.num_negatives))
    mined, report = add_hard_negatives(
        train,
        model,
        num_negatives=config.num_negatives + spare,
        corpus=corpus,
        cross_encoder=cross_encoder,
        range_min=config.hard_negative_range_min,
        range_max=config.hard_negative_range_max,
        relative_margin=config.hard_negative_relative_margin,
        query_prompt=config.query_prompt,
        document_prompt=config.document_prompt,
        batch_size=config.eval_batch_size,
        seed=config.seed,
        index=config.index,
        embeddings=embeddings,
    )
    result: dict[str, Any] = report.as_dict()
    if action == "off":
        return dataclasses.replace(data, train=mined), result
    if spare:  # `pairs` stays the negatives trained with; mined/random_fallback count candidates
        result["candidates_asked"] = result["pairs"]
        result["pairs"] = len(train) * config.num_negatives
    result["spare_candidates_per_pair"] = spare
    screened, block, flagged = screen_false_negatives(
        mined,
        model,
        num_negatives=config.num_negatives,
        margin=config.false_negative_margin,
        action=action,
        cross_encoder=cross_encoder,
        confirmed=set(reviews.negatives) if reviews else (),
        pool=list(dict.fromkeys([*train["document"], *(corpus or [])])),
        query_prompt=config.query_prompt,
        encode_documents=embeddings.embed if embeddings is not None else None,
        batch_size=config.eval_batch_size,
        seed=config.seed,
    )
    if review:
        reviewed = set(reviews.positives) | set(reviews.negatives) if reviews else set()
        doubtful = [f for f in flagged if (f.query, f.negative) not in reviewed]
        review_block["pushed"] = reviewer.push_negative_reviews(doubtful, review)
        block["review"] = review_block
    result["false_negatives"] = block
    return dataclasses.replace(data, train=screened), result
