"""One base-model encoding of the corpus serves the test evaluation, mining and validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from embedtune.config import load_config
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.evaluation.embedding_cache import DocumentEmbeddings, candidate_ranker
from embedtune.evaluation.retrieval import encode_task
from embedtune.training.hard_negatives import add_hard_negatives
from embedtune.training.selection import carve_validation
from tests.conftest import LEGAL


class EncodeCounter:
    """Counts the documents `model.encode_document` is asked for (the real method runs)."""

    def __init__(self, model):
        self.model, self.original, self.documents = model, model.encode_document, 0

    def __enter__(self):
        def counting(texts, *args, **kwargs):
            self.documents += 1 if isinstance(texts, str) else len(texts)
            return self.original(texts, *args, **kwargs)

        self.model.encode_document = counting
        return self

    def __exit__(self, *exc):
        del self.model.encode_document  # the class's method again


def _legal(max_train_pairs: int = 60):
    data = load_retrieval_data(DataOptions(source=str(LEGAL), max_train_pairs=max_train_pairs))
    # BEIR-style shared corpus: mining may draw from the whole corpus
    return dataclasses.replace(data, protocol={**data.protocol, "split": "by-query"})


@pytest.mark.slow
def test_mining_reuses_the_test_encoding_and_mines_the_same_negatives(base_model):
    data = _legal()
    encoded = encode_task(base_model, data)
    cache = DocumentEmbeddings.from_encoded(base_model, encoded, data)
    corpus = list(data.corpus.values())
    with EncodeCounter(base_model) as fresh:
        plain, _ = add_hard_negatives(data.train, base_model, corpus=corpus)
    with EncodeCounter(base_model) as cached:
        reused, _ = add_hard_negatives(data.train, base_model, corpus=corpus, embeddings=cache)
    assert fresh.documents >= len(data.corpus)  # without the cache the pool is encoded again
    assert cached.documents < len(data.corpus) // 4  # with it, only texts outside the corpus
    assert cache.reused >= len(data.corpus)
    # the same negatives for all but a rare near-tie (the stored encoding is the same model's)
    same = np.mean([a == b for a, b in zip(plain["negative"], reused["negative"])])
    assert same > 0.95


@pytest.mark.slow
def test_the_validation_corpus_holds_the_base_models_hard_candidates(base_model, base_model_path):
    data = _legal(120)
    config = load_config(data=str(LEGAL), max_seq_length=64, dims=[384, 64])
    cache = DocumentEmbeddings.from_encoded(base_model, encode_task(base_model, data), data)
    hard = carve_validation(data, config, ranker=candidate_ranker(base_model, cache, config))
    easy = carve_validation(data, config)
    assert hard.validation.queries == easy.validation.queries  # the same held-out queries
    assert hard.info["validation_distractors"] == "base-model top candidates"
    from embedtune.evaluation.retrieval import evaluate_retrieval

    def score(split):
        evaluation = evaluate_retrieval(base_model, split.validation, [384])
        return evaluation.by_dim[384].metrics["ndcg@10"]

    # hard candidates make validation harder for the base, as the test corpus is: random
    # distractors had made it easy (0.87-0.92 against 0.65-0.74 on test in issue 18)
    assert score(hard) < score(easy)
