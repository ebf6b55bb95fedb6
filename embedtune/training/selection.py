"""Model selection that cannot ship a regression: validation queries, the base as a candidate.

The validation queries are carved out of the training pairs (never the test queries) the way the
test split was made: held-out documents under by-document (and under given when the source's test
documents are mostly unseen in training), held-out queries (near duplicates together) otherwise. They retrieve from a small validation corpus (their documents plus
a seeded sample of the other candidates), so an evaluation costs seconds and can run several
times per epoch. The base model is scored first (step 0) and is the score to beat: the Trainer's
best checkpoint must improve on it, and when none does, the base weights are restored.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

from transformers import TrainerCallback

from embedtune.config import FinetuneConfig
from embedtune.data.protocol import BY_DOCUMENT, BY_QUERY, GIVEN
from embedtune.data.retrieval_data import RetrievalData
from embedtune.data.split import split_by_document, split_by_query
from embedtune.errors import DataError

logger = logging.getLogger(__name__)
# Documents the validation queries retrieve from (theirs included): distractors in proportion to
# the validation documents, bounded so that an evaluation stays a small fraction of an epoch.
DISTRACTORS_PER_DOCUMENT = 5
MIN_VALIDATION_CORPUS, MAX_VALIDATION_CORPUS = 300, 1000


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


def carve_validation(data: RetrievalData, config: FinetuneConfig) -> ValidationSplit:
    """Hold out validation queries from the training pairs, the way the test split was made."""
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
    carved.corpus = _validation_corpus(carved, data, split, config.seed)
    train = RetrievalData(
        carved.train, data.queries, data.corpus, data.relevant, data.report, data.protocol
    )
    info = {
        "chosen_on": f"validation queries held out from the training pairs ({split})",
        "validation_queries": len(carved.queries),
        "validation_corpus": len(carved.corpus),
        "train_pairs": len(carved.train),
    }
    logger.info(
        "Model selection on %d validation queries (%d documents) held out from training; "
        "%d pairs left to train on",
        info["validation_queries"],
        info["validation_corpus"],
        info["train_pairs"],
    )
    return ValidationSplit(train, carved, info)


def _validation_corpus(
    carved: RetrievalData, data: RetrievalData, split: str, seed: int
) -> dict[str, str]:
    """The validation queries' documents plus a seeded sample of distractors.

    Distractors come from the training side only under by-document (test documents must not
    steer selection there); from the whole corpus otherwise, as the protocol shares it.
    """
    needed = set().union(*carved.relevant.values()) if carved.relevant else set()
    corpus = {d: carved.corpus[d] for d in needed}
    if split == BY_DOCUMENT:
        pool = dict(carved.corpus)  # every training document, keyed as the split keyed them
    else:
        pool = {**data.corpus, **carved.corpus}
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


class EvaluateAtEnd(TrainerCallback):
    """The last optimizer step is always evaluated (and saved), whatever eval_steps is."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_evaluate = True
            control.should_save = True
        return control


def validation_curve(
    evaluations: list[dict[str, float]], best_dim: int, base_score: float | None
) -> list[dict[str, float]]:
    """[{step, epoch, score}] of nDCG@10 at best_dim, the base model as step 0."""
    key = f"eval_retrieval_dim_{best_dim}_ndcg@10"
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
        "metric": f"ndcg@10@{config.best_dim}",
        "base_score": base_score,
        "best_score": best_score,
        "best_step": best_step,
        "stopped_early": stopped_early,
        "curve": curve,
    }
