"""The compact corpus store: float16, memory-mapped above a size, streamed with one bar."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import torch

from embedtune.search import encode_corpus, search, storage_kind
from embedtune.search.store import allocate_store


def test_memory_mapped_store_round_trips_and_is_deleted():
    small = allocate_store(10, 4, memmap_bytes=1 << 20)
    assert not isinstance(small, np.memmap) and small.dtype == np.float16
    mapped = allocate_store(1000, 8, memmap_bytes=1000)
    assert isinstance(mapped, np.memmap)
    path = Path(mapped.filename)
    values = np.random.default_rng(0).standard_normal((1000, 8)).astype(np.float32)
    mapped[:] = values
    mapped.flush()
    assert np.array_equal(np.load(path), values.astype(np.float16))  # a real .npy on disk
    assert storage_kind(mapped) == "float16-memmap"
    del mapped
    gc.collect()
    assert not path.parent.exists()


def test_streamed_encoding_matches_one_call(short_model, legal, capsys):
    texts = list(legal.corpus.values())[:40]
    whole = encode_corpus(short_model, texts)
    assert whole.dtype == torch.float32 and storage_kind(whole) == "float32"
    streamed = encode_corpus(
        short_model,
        texts,
        show_progress_bar=True,
        stream_documents=10,
        chunk_documents=16,
        memmap_bytes=0,
    )
    err = capsys.readouterr().err
    assert "Encoding corpus" in err and "Batches" not in err  # our one bar, not one per chunk
    encode_corpus(short_model, texts, show_progress_bar=True, description="Encoding 40 documents")
    err = capsys.readouterr().err
    assert "Encoding 40 documents" in err and "Batches" not in err  # one call, labelled
    assert streamed.dtype == torch.float16 and storage_kind(streamed) == "float16-memmap"
    np.testing.assert_allclose(streamed.float().numpy(), whole.cpu().numpy(), atol=2e-3)
    queries = whole[:5].cpu()
    assert search(queries, streamed, 1).positions[:, 0].tolist() == [0, 1, 2, 3, 4]
