"""What a finetuning run will do, counted before any weights load (the `--dry-run` plan).

Trainings, optimizer steps, validation evaluations and document encodings follow from the data
sizes and the settings the same way the run derives them (embedtune.training.finetune,
embedtune.training.sweep), so a user sees the cost of a configuration before paying it.
"""

from __future__ import annotations

import math
from typing import Any

from embedtune.config import FinetuneConfig
from embedtune.data.protocol import BY_DOCUMENT
from embedtune.data.retrieval_data import DOCUMENT, NEGATIVE, RetrievalData
from embedtune.training.finetune import eval_steps, steps_per_epoch
from embedtune.training.lora import learning_rates
from embedtune.training.selection import (
    candidates_per_query,
    carve_validation,
    require_validation,
)
from embedtune.training.sweep import HALVING_FRACTION, slice_steps


def run_plan(config: FinetuneConfig, data: RetrievalData) -> dict[str, Any]:
    """{"trainings": ..., "optimizer_steps": ..., "evaluations": ..., "encodings": ...}."""
    require_validation(data, config)  # the run's refusal, said by the dry run too
    carved = carve_validation(data, config)  # the same split the run makes (seeded)
    pairs = len(carved.train.train)
    rates = learning_rates(config)
    per_epoch = steps_per_epoch(config, pairs)
    total = per_epoch * config.epochs
    validated = carved.validation is not None
    cut = slice_steps(config, pairs) if validated and len(rates) > 1 else None
    every = eval_steps(config, pairs)
    evaluations = math.ceil(total / every) if validated else 0
    if cut is not None:
        evaluations += (len(rates) - 1) * (cut // every)
    elif validated:
        evaluations *= len(rates)
    # halving: 1 + (n - 1) x the slice; a run too short to cut trains every rate in full
    equivalents = (
        1 + (len(rates) - 1) * cut / total if cut else float(len(rates) if validated else 1)
    )
    corpus = len(data.corpus)
    shared = data.protocol.get("split", BY_DOCUMENT) != BY_DOCUMENT
    mines = config.hard_negatives and NEGATIVE not in data.train.column_names
    queries = len(carved.validation.queries) if validated else 0
    validation_docs = queries * (1 + candidates_per_query(queries)) if validated else 0
    return {
        "train_pairs": pairs,
        "validation_queries": queries,
        "learning_rates": list(rates),
        "trainings": {
            "candidates": len(rates),
            "successive_halving_slice_steps": cut,
            "halving_fraction": HALVING_FRACTION if cut else None,
            "full_training_equivalents": round(equivalents, 3),
        },
        "optimizer_steps_per_training": total,
        "steps_per_epoch": per_epoch,
        "validation_evaluations": evaluations + (1 if validated else 0),  # + the base, step 0
        "encodings": {
            "test_corpus_documents": corpus,
            "test_corpus_encodings": 2,  # the base, then the finetuned model (if it is kept)
            "mining_documents": (
                0 if not mines else (len(set(carved.train.train[DOCUMENT])) if not shared else 0)
            ),
            "validation_documents_per_evaluation_at_most": validation_docs,
        },
    }
