"""Model selection that cannot ship a regression: validation queries, the base as a candidate.

The validation queries are carved out of the training pairs (never the test queries) the way the
test split was made: held-out documents under by-document (and under given when the source's test
documents are mostly unseen in training), held-out queries (near duplicates together) otherwise.

They retrieve from a small validation corpus that discriminates like the test corpus: their
documents plus, for every validation query, the base model's top candidates from the pool the
protocol allows (random distractors made validation far easier than test, 0.87-0.92 against
0.65-0.74 for the same base model, so it barely separated checkpoints). Without a ranker (no
model at hand) a seeded random sample is used. An evaluation costs seconds and runs several times
per epoch. The base model is scored first (step 0) and is the score to beat: the Trainer's best
checkpoint must improve on it, and when none does, the base weights are restored.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transformers import TrainerCallback

from embedtune.config import FinetuneConfig
from embedtune.data.protocol import BY_DOCUMENT, BY_QUERY, GIVEN
from embedtune.data.retrieval_data import RetrievalData
from embedtune.data.split import split_by_document, split_by_query
from embedtune.errors import DataError
from embedtune.evaluation.trainer_evaluator import describe_selection_metric, selection_key

if TYPE_CHECKING:
    from embedtune.evaluation.embedding_cache import Ranker

logger = logging.getLogger(__name__)
# Documents the validation queries retrieve from (theirs included): distractors in proportion to
# the validation documents, bounded so that an evaluation stays a small fraction of an epoch.
DISTRACTORS_PER_DOCUMENT = 5
MIN_VALIDATION_CORPUS, MAX_VALIDATION_CORPUS = 300, 1000
# Hard candidates per validation query (the base model's top k), within a corpus budget: fewer
# per query when there are many queries, never fewer than MIN_CANDIDATES.
MAX_CANDIDATES, MIN_CANDIDATES, CANDIDATE_BUDGET = 10, 3, 300
# Below this many validation (or test) queries a gain of a few points cannot be told from noise.
FEW_QUERIES = 50


@dataclass
class ValidationSplit:
    train: RetrievalData  # the pairs the trainer sees (test task unchanged)
    validation: RetrievalData | None  # None: too few pairs to hold any out
    info: dict


def validation_protocol(data: RetrievalData) -> str:
    """How to carve validation so that it looks like the test split.

    by-document and by-query carve the same way. Under given, the source's own split decides:
    when most test queries' documents are not in the training pairs (e.g. a corpus re-split by
    chunk), validation holds out documents too; otherwise it holds out queries.
    """
    protocol = data.protocol
    split = protocol.get("split", BY_DOCUMENT)
    if split != GIVEN:
        return split
    test_queries = protocol.get("test_queries") or len(data.queries) or 1
    shared = protocol.get("test_queries_with_trained_documents", 0) / test_queries
    return BY_QUERY if shared >= 0.5 else BY_DOCUMENT


def require_validation(data: RetrievalData, config: FinetuneConfig) -> None:
    """Refuse, before any weights load, training pairs too few to hold out validation queries:
    without them no checkpoint can be checked against the base model."""
    split = validation_protocol(data)
    splitter = split_by_document if split == BY_DOCUMENT else split_by_query
    try:
        splitter(
            data.train,
            test_fraction=config.validation_fraction,
            seed=config.seed,
            source="training pairs",
        )
    except DataError as err:
        raise DataError(
            f"{len(data.train)} training pairs are too few to hold out validation queries for "
            f"model selection ({err})",
            hint="give more pairs (or a larger --validation-fraction)",
        ) from None


def carve_validation(
    data: RetrievalData, config: FinetuneConfig, *, ranker: Ranker | None = None
) -> ValidationSplit:
    """Hold out validation queries from the training pairs, the way the test split was made.
    `ranker` (the base model's, embedtune.evaluation.embedding_cache) picks the validation
    corpus's hard candidates; None: random distractors."""
    split = validation_protocol(data)
    splitter = split_by_document if split == BY_DOCUMENT else split_by_query
    try:
        carved = splitter(
            data.train,
            test_fraction=config.validation_fraction,
            seed=config.seed,
            source="training pairs",
        )
    except DataError as err:
        logger.warning("No validation split (%s): the finetuned model is kept unchecked", err)
        return ValidationSplit(data, None, {"chosen_on": "nothing (no validation split)"})
    queries = sorted(carved.queries)
    random.Random(config.seed).shuffle(queries)
    keep = set(queries[: config.max_validation_queries])
    carved.queries = {q: t for q, t in carved.queries.items() if q in keep}
    carved.relevant = {q: r for q, r in carved.relevant.items() if q in keep}
    if ranker is None:
        carved.corpus = _validation_corpus(carved, data, split, config.seed)
        distractors = "random"
    else:
        carved.corpus = _hard_validation_corpus(carved, data, split, ranker)
        distractors = "base-model top candidates"
    train = RetrievalData(
        carved.train, data.queries, data.corpus, data.relevant, data.report, data.protocol
    )
    info = {
        "chosen_on": f"validation queries held out from the training pairs ({split})",
        "validation_queries": len(carved.queries),
        "validation_corpus": len(carved.corpus),
        "validation_distractors": distractors,
        "train_pairs": len(carved.train),
    }
    if len(carved.queries) < FEW_QUERIES:
        info["warning"] = few_queries_warning("validation", len(carved.queries))
        logger.warning("%s", info["warning"])
    logger.info(
        "Model selection on %d validation queries (%d documents) held out from training; "
        "%d pairs left to train on",
        info["validation_queries"],
        info["validation_corpus"],
        info["train_pairs"],
    )
    return ValidationSplit(train, carved, info)


def few_queries_warning(kind: str, count: int) -> str:
    return (
        f"only {count} {kind} queries (fewer than {FEW_QUERIES}): a gain of a few points of "
        "nDCG@10 cannot be told from noise; more pairs give a firmer answer"
    )


def _pool(carved: RetrievalData, data: RetrievalData, split: str) -> dict[str, str]:
    """Where validation distractors may come from: the training side only under by-document
    (test documents must not steer selection there); the whole corpus otherwise."""
    if split == BY_DOCUMENT:
        return dict(carved.corpus)  # every training document, keyed as the split keyed them
    return {**data.corpus, **carved.corpus}


def candidates_per_query(queries: int) -> int:
    """The base model's top candidates taken per validation query (see CANDIDATE_BUDGET)."""
    return max(MIN_CANDIDATES, min(MAX_CANDIDATES, CANDIDATE_BUDGET // max(1, queries)))


def _hard_validation_corpus(
    carved: RetrievalData, data: RetrievalData, split: str, ranker: Ranker
) -> dict[str, str]:
    """The validation queries' documents plus each query's top candidates by the base model."""
    needed = set().union(*carved.relevant.values()) if carved.relevant else set()
    corpus = {d: carved.corpus[d] for d in needed}
    pool = _pool(carved, data, split)
    texts = set(corpus.values())
    others = sorted(d for d, text in pool.items() if d not in corpus and text not in texts)
    query_ids = sorted(carved.queries)
    per_query = candidates_per_query(len(query_ids))
    top = ranker([carved.queries[q] for q in query_ids], [pool[d] for d in others], per_query)
    for positions in top:
        for position in positions:
            corpus.setdefault(others[position], pool[others[position]])
    return corpus


def _validation_corpus(
    carved: RetrievalData, data: RetrievalData, split: str, seed: int
) -> dict[str, str]:
    """The validation queries' documents plus a seeded sample of distractors.

    Distractors come from the training side only under by-document (test documents must not
    steer selection there); from the whole corpus otherwise, as the protocol shares it.
    """
    needed = set().union(*carved.relevant.values()) if carved.relevant else set()
    corpus = {d: carved.corpus[d] for d in needed}
    pool = _pool(carved, data, split)
    texts = set(corpus.values())
    others = sorted(d for d, text in pool.items() if d not in corpus and text not in texts)
    random.Random(seed).shuffle(others)
    size = min(
        MAX_VALIDATION_CORPUS, max(MIN_VALIDATION_CORPUS, DISTRACTORS_PER_DOCUMENT * len(corpus))
    )
    for doc_id in others[: max(0, size - len(corpus))]:
        corpus[doc_id] = pool[doc_id]
    return corpus


class BaseModelAsCandidate(TrainerCallback):
    """Seeds the Trainer's best metric with the base model's validation score (step 0), so a
    checkpoint is 'best' only if it beats the base, and early stopping counts from there."""

    def __init__(self, base_score: float) -> None:
        self.base_score = base_score

    def on_train_begin(self, args, state, control, **kwargs):
        if state.best_metric is None:  # a resumed run keeps the best it had
            state.best_metric = self.base_score
        return control


class StopAtStep(TrainerCallback):
    """Ends training after optimizer step `step`, once its evaluation and checkpoint are done
    (the Trainer evaluates and saves after on_step_end, then honours should_training_stop)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_evaluate = True
            control.should_save = True
            control.should_training_stop = True
        return control


class EvaluateAtEnd(TrainerCallback):
    """The last optimizer step is always evaluated (and saved), whatever eval_steps is."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_evaluate = True
            control.should_save = True
        return control


def validation_curve(
    evaluations: list[dict[str, float]], best_dim: int | None, base_score: float | None
) -> list[dict[str, float]]:
    """[{step, epoch, score}] of the selection metric, the base model as step 0."""
    key = f"eval_retrieval_{selection_key(best_dim)}"
    curve = [] if base_score is None else [{"step": 0, "epoch": 0.0, "score": base_score}]
    for entry in evaluations:
        if key in entry:
            curve.append(
                {
                    "step": int(entry.get("step", 0)),
                    "epoch": round(float(entry.get("epoch", 0.0)), 3),
                    "score": round(float(entry[key]), 6),
                }
            )
    return curve


def selection_block(
    config: FinetuneConfig,
    info: dict,
    *,
    selected: str,
    base_score: float | None,
    best_score: float | None,
    curve: list[dict[str, float]],
    best_checkpoint: str | None,
    stopped_early: bool,
) -> dict:
    """results.json "selection": which model was kept and the evidence."""
    best_step = None
    if best_checkpoint:
        try:
            best_step = int(Path(best_checkpoint).name.rsplit("-", 1)[-1])
        except ValueError:
            best_step = None
    return {
        "selected": selected,
        "chosen_on": info.get("chosen_on", ""),
        "validation_queries": info.get("validation_queries", 0),
        "validation_corpus": info.get("validation_corpus", 0),
        "metric": describe_selection_metric(config.best_dim, config.dims),
        "validation_distractors": info.get("validation_distractors"),
        **({"warning": info["warning"]} if info.get("warning") else {}),
        "base_score": base_score,
        "best_score": best_score,
        "best_step": best_step,
        "stopped_early": stopped_early,
        "curve": curve,
    }
