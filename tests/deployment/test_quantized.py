"""Quantized indexes without a model: bytes per document, refusals, and search on known vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from embedtune.baselines.rankings import id_ranks
from embedtune.deployment.matrix import deployment_matrix, recommend
from embedtune.deployment.quantized import (
    BINARY,
    FLOAT32,
    INT8,
    build_index,
    bytes_per_document,
    search,
)
from embedtune.errors import ConfigError


def test_bytes_per_document():
    assert [bytes_per_document(384, p) for p in (FLOAT32, INT8, BINARY)] == [1536, 384, 48]
    assert bytes_per_document(64, BINARY) == 8
    assert bytes_per_document(100, BINARY) == 13  # bits are packed into whole bytes
    codes = build_index(torch.randn(5, 384), 384, BINARY).codes
    assert codes.shape == (5, 48) and codes.dtype == np.uint8
    assert build_index(torch.randn(5, 384), 128, INT8).codes.shape == (5, 128)


def test_unknown_precision_is_refused_before_any_encoding():
    with pytest.raises(
        ConfigError, match="unknown embedding precision 'fp16': choose from float32"
    ):
        bytes_per_document(384, "fp16")
    # model=None: the refusal comes before the model is touched
    with pytest.raises(ConfigError, match="unknown embedding precision 'int4'"):
        deployment_matrix(None, None, [384], precisions=["float32", "int4"])  # type: ignore[arg-type]


def test_bad_dims_and_multiplier_are_refused():
    corpus = torch.randn(4, 16)
    with pytest.raises(ConfigError, match=r"dim 32 is outside 1\.\.16"):
        build_index(corpus, 32, INT8)
    index = build_index(corpus, 16, BINARY)
    ids = ["a", "b", "c", "d"]
    with pytest.raises(ConfigError, match="rescore_multiplier must be at least 1"):
        search(index, corpus, ids, id_ranks(ids), rescore_multiplier=0)


def test_binary_rescoring_and_int8_recover_the_float_ranking():
    generator = torch.Generator().manual_seed(0)
    corpus = torch.randn(500, 128, generator=generator)
    queries = corpus[:40] + 0.3 * torch.randn(40, 128, generator=generator)  # near their doc
    ids = [f"d{i:03d}" for i in range(500)]
    rank = id_ranks(ids)
    exact = search(build_index(corpus, 128, FLOAT32), queries, ids, rank, top_k=10)
    int8 = search(build_index(corpus, 128, INT8), queries, ids, rank, top_k=10)
    binary = search(build_index(corpus, 128, BINARY), queries, ids, rank, top_k=10)
    assert [r[0] for r in exact] == ids[:40]
    assert [r[0] for r in int8] == ids[:40]
    assert sum(r[0] == ids[i] for i, r in enumerate(binary)) >= 38
    # identical ids are skipped at every precision
    skipped = search(build_index(corpus, 128, BINARY), queries, ids, rank, exclude_ids=ids[:40])
    assert all(r[0] != ids[i] for i, r in enumerate(skipped))


def test_recommendation_is_the_cheapest_cell_close_to_the_best():
    def cell(dim, precision, ndcg):
        return {
            "dim": dim,
            "precision": precision,
            "bytes_per_document": bytes_per_document(dim, precision),
            "ndcg@10": ndcg,
            "search_ms_per_query": 1.0,
        }

    cells = [cell(384, FLOAT32, 0.60), cell(384, BINARY, 0.595), cell(64, BINARY, 0.40)]
    per_query = {
        (384, FLOAT32): [0.6] * 50,
        (384, BINARY): [0.595] * 50,
        (64, BINARY): [0.4] * 50,
    }
    choice = recommend(cells, per_query)
    assert choice["best"]["precision"] == FLOAT32
    assert (choice["recommended"]["dim"], choice["recommended"]["precision"]) == (384, BINARY)
    assert "within 0.01" in choice["recommended"]["reason"]
    # 0.03 below, but on noisy queries the difference is not significant: allowed, and said so
    noisy = {
        (384, FLOAT32): [1.0, 0.0] * 25,
        (384, BINARY): [1.0, 0.0] * 25,
        (64, BINARY): [1.0, 0.0] * 24 + [0.0, 0.0],
    }
    cells[2]["ndcg@10"] = 0.57
    assert recommend(cells, noisy)["recommended"]["dim"] == 64
    assert "not significantly" in recommend(cells, noisy)["recommended"]["reason"]
    assert recommend(cells, noisy, allow_not_significant=False)["recommended"]["dim"] == 384
