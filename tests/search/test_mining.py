"""Hard-negative mining through FAISS when the index asks for it: same negatives as exact."""

from __future__ import annotations

from embedtune.search import AUTO_FAISS_DOCUMENTS
from embedtune.search.mining import mining_search_options
from embedtune.training.hard_negatives import add_hard_negatives


def test_mining_options_follow_the_index_and_bound_the_score_matrix():
    assert mining_search_options("exact", 10**6)["use_faiss"] is False
    assert mining_search_options("faiss-flat", 50)["use_faiss"] is True
    assert mining_search_options("faiss-hnsw", 50)["use_faiss"] is True  # ST mines flat
    assert mining_search_options("auto", AUTO_FAISS_DOCUMENTS - 1)["use_faiss"] is False
    assert mining_search_options("auto", AUTO_FAISS_DOCUMENTS)["use_faiss"] is True
    batch = mining_search_options("exact", 10**6)["faiss_batch_size"]
    assert batch * 10**6 * 4 <= 256 * 2**20  # queries x documents float32 scores stay bounded
    assert mining_search_options("exact", 300)["faiss_batch_size"] == 16_384  # ST's default


def test_faiss_mining_finds_the_exact_negatives(short_model, legal):
    train = legal.train.select(range(24))
    corpus = list(legal.corpus.values())[:80]
    exact, _ = add_hard_negatives(train, short_model, corpus=corpus, index="exact")
    flat, report = add_hard_negatives(train, short_model, corpus=corpus, index="faiss-flat")
    assert flat["negative"] == exact["negative"]
    assert report.mined > 0
