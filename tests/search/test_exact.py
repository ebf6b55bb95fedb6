"""Exact blocked search equals one full matrix product's top k, whatever the block sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedtune.search import exact_search, search


def _unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(rows, dim, generator=generator), dim=-1)


@pytest.mark.parametrize(
    ("corpus_block", "query_block"), [(7, 5), (64, 256), (1000, 33), (5000, 1)]
)
def test_blocked_search_equals_the_full_matrix_product(corpus_block, query_block):
    queries, corpus = _unit(40, 24, 0), _unit(2000, 24, 1)
    full = (queries @ corpus.T).numpy()
    expected = np.argsort(-full, axis=1, kind="stable")[:, :50]
    positions, scores = exact_search(
        queries, corpus, 50, corpus_block=corpus_block, query_block=query_block
    )
    assert positions.shape == scores.shape == (40, 50)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), atol=1e-6)
    # blocks may move a score by one ulp: rows can differ only where two scores (nearly) tie
    differ = positions != expected
    assert differ.mean() < 0.01
    assert np.all(np.abs(np.diff(scores, axis=1))[differ[:, 1:] | differ[:, :-1]] < 1e-6)


def test_ties_go_to_the_smaller_rank_across_blocks():
    corpus = _unit(300, 8, 2)
    corpus[[250, 10, 120]] = corpus[5].clone()  # four identical documents in different blocks
    ranks = np.arange(300)[::-1].copy()  # the tie-break order: higher rows first
    positions, scores = exact_search(corpus[5:6], corpus, 3, ranks=ranks, corpus_block=64)
    assert positions[0].tolist() == [250, 120, 10]  # three of four ties fit: smallest ranks
    assert scores[0] == pytest.approx([1.0, 1.0, 1.0], abs=1e-6)


def test_matryoshka_prefix_and_exclusion():
    queries, corpus = _unit(10, 16, 3), _unit(500, 16, 4)
    prefix = torch.nn.functional.normalize(corpus[:, :4], dim=-1)
    expected = (torch.nn.functional.normalize(queries[:, :4], dim=-1) @ prefix.T).argmax(1)
    found = search(queries, corpus, 5, dim=4)
    assert found.positions[:, 0].tolist() == expected.tolist()
    ids = [f"d{i:03d}" for i in range(500)]
    excluded = [ids[p] for p in expected.tolist()]
    again = search(queries, corpus, 5, dim=4, corpus_ids=ids, exclude_ids=excluded)
    for query, row in enumerate(again.ids(ids)):
        assert excluded[query] not in row and len(row) == 5


def test_float16_store_ranks_like_float32():
    queries, corpus = _unit(20, 32, 5), _unit(3000, 32, 6)
    exact32 = search(queries, corpus, 10)
    exact16 = search(queries, corpus.half().numpy(), 10)
    assert (exact32.positions[:, 0] == exact16.positions[:, 0]).all()
    np.testing.assert_allclose(exact16.scores, exact32.scores, atol=2e-3)
