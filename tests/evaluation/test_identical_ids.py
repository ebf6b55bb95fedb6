"""BEIR's ignore_identical_ids: a query that is itself in the corpus must not retrieve itself."""

from __future__ import annotations

import torch

from embedtune.evaluation.retrieval import rank_documents


def test_the_query_own_id_is_never_returned():
    corpus_ids = ["q1", "d1", "d2"]
    corpus = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    queries = torch.tensor([[1.0, 0.0]])
    assert rank_documents(queries, corpus, corpus_ids, 2)[0][0] == "q1"
    ranked = rank_documents(queries, corpus, corpus_ids, 2, exclude_ids=["q1"])[0]
    assert ranked == ["d1", "d2"]
