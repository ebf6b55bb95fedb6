"""Load the guard source with the data loaders, score a model on its test queries, and compare.

The guard is read like `--data` (any source embedtune reads) with the source's own protocol
(given for a BEIR folder, held-out documents for a pair file); only its test queries and corpus
are used: nothing of it is trained on. It is refused before training when it has no test query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sentence_transformers import SentenceTransformer

from embedtune.config import FinetuneConfig
from embedtune.data.retrieval_data import RetrievalData
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.errors import DataError
from embedtune.evaluation.bootstrap import compare_tables, describe_comparison, per_query_table
from embedtune.evaluation.evaluator import RetrievalEvaluator
from embedtune.evaluation.retrieval import (
    RetrievalEvaluation,
    evaluated_query_ids,
)

logger = logging.getLogger(__name__)
# A guard drop this small (nDCG@10 at best_dim) is tolerated by merge_base auto.
GUARD_TOLERANCE = 0.01


@dataclass
class Guard:
    source: str  # what --guard-data named
    data: RetrievalData  # its test queries and corpus (its training pairs are unused)
    base: RetrievalEvaluation | None = None  # the base model on it, scored before training


def load_guard(config: FinetuneConfig) -> Guard | None:
    """The guard's retrieval task, or None without --guard-data; a DataError naming the guard
    source when it cannot be read or has no test query (raised before any training)."""
    source = config.guard_data
    if source is None:
        return None
    options = DataOptions(
        source=str(source),
        seed=config.seed,
        test_fraction=config.test_fraction,
        require_train=False,
    )
    try:
        data = load_retrieval_data(options)
    except DataError as err:
        raise DataError(f"--guard-data {source}: {err}") from None
    if not evaluated_query_ids(data):
        raise DataError(
            "the guard has no test query with a relevant document to evaluate",
            path=str(source),
            hint="--guard-data needs test queries: a BEIR folder with qrels/test.tsv, or pairs",
        )
    if config.data is not None and str(config.data) == str(source):
        logger.warning("--guard-data is the training source itself: it guards nothing")
    logger.info(
        "Guard %s: %d test queries over %d documents",
        source,
        len(evaluated_query_ids(data)),
        len(data.corpus),
    )
    return Guard(str(source), data)


def evaluate_on(
    model: SentenceTransformer,
    data: RetrievalData,
    config: FinetuneConfig,
    label: str = "guard",
) -> RetrievalEvaluation:
    """`model` on `data`'s test queries at every dim: the run's evaluator, prompts and batch
    size and index (no progress bar: the guard and validation are scored often)."""
    return RetrievalEvaluator.from_config(config).evaluate(model, data, label=label)


def evaluate_guard(
    model: SentenceTransformer, guard: Guard, config: FinetuneConfig
) -> RetrievalEvaluation:
    """`model` on the guard's test queries at every dim."""
    return evaluate_on(model, guard.data, config)


def guard_change(base: RetrievalEvaluation, candidate: RetrievalEvaluation) -> dict[str, Any]:
    """Paired-bootstrap 95% interval of candidate - base on the guard, per dim."""
    return compare_tables(per_query_table({"base": base, "finetuned": candidate}))


def guard_ok(entry: dict[str, Any], tolerance: float = GUARD_TOLERANCE) -> bool:
    """A guard change is acceptable when the drop is within `tolerance` or not significant."""
    from embedtune.results_schema import read_comparison_entry

    delta, _low, high, _significant = read_comparison_entry(entry)
    return delta >= -tolerance or high >= 0


def guard_block(guard: Guard, saved: RetrievalEvaluation, config: FinetuneConfig) -> dict[str, Any]:
    """results.json "guard": the base and the saved model on the guard, the change with its
    interval per dim, and whether the change at best_dim stays within the tolerance."""
    if guard.base is None:
        raise ValueError("the guard's base evaluation is missing (evaluate it before training)")
    change = guard_change(guard.base, saved)
    for line in describe_comparison(change).splitlines():
        logger.info("Guard (saved vs base), %s", line)
    return {
        "source": guard.source,
        "test_queries": len(evaluated_query_ids(guard.data)),
        "corpus": len(guard.data.corpus),
        "base": guard.base.metrics(),
        "finetuned": saved.metrics(),
        "comparison": change,
        "tolerance": GUARD_TOLERANCE,
        "within_tolerance": guard_ok(change[str(config.verdict_dim)]),
        "best_dim": config.verdict_dim,
    }
