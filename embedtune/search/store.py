"""Corpus embeddings in bounded memory: encoded in streamed chunks, stored compactly.

A corpus under STREAM_DOCUMENTS documents is encoded in one call and kept as the model returns it
(float32), so small evaluations are exactly what they always were. From STREAM_DOCUMENTS on, the
corpus is encoded CHUNK_DOCUMENTS at a time under one progress bar and stored as float16 (half the
bytes; cosine scores move by about 1e-4): in RAM, or, from MEMMAP_BYTES on, in a memory-mapped
.npy file in the temp folder (TMPDIR), which the OS can page out and which is deleted with the
array. Searches read the store a block at a time (embedtune.search.exact / faiss_index).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import weakref
from pathlib import Path

import numpy as np
import torch
from sentence_transformers import SentenceTransformer
from tqdm.auto import tqdm

from embedtune.progress import encode_bar_label, leaves_bars

STREAM_DOCUMENTS = 100_000  # from this corpus size: chunked encoding, float16 storage
CHUNK_DOCUMENTS = 8_192  # documents per encode call when streaming
MEMMAP_BYTES = 512 * 2**20  # float16 stores from this size are memory-mapped files
STORE_DTYPE = np.float16
# Tensors over a temp file, by id (a WeakSet would compare tensors with ==).
_MEMORY_MAPPED: weakref.WeakValueDictionary[int, torch.Tensor] = weakref.WeakValueDictionary()


def allocate_store(rows: int, dim: int, *, memmap_bytes: int = MEMMAP_BYTES) -> np.ndarray:
    """An uninitialised float16 (rows, dim) array: in RAM, or a memory-mapped temp .npy file
    when it takes `memmap_bytes` or more (the file goes when the array is garbage-collected)."""
    if rows * dim * np.dtype(STORE_DTYPE).itemsize < memmap_bytes:
        return np.empty((rows, dim), dtype=STORE_DTYPE)
    folder = tempfile.mkdtemp(prefix="embedtune-corpus-")
    array = np.lib.format.open_memmap(
        Path(folder) / "corpus.npy", mode="w+", dtype=STORE_DTYPE, shape=(rows, dim)
    )
    weakref.finalize(array, shutil.rmtree, folder, True)
    return array


def storage_kind(corpus: torch.Tensor | np.ndarray) -> str:
    """How corpus embeddings are held: float32, float16, or float16-memmap."""
    if isinstance(corpus, torch.Tensor):
        name = str(corpus.dtype).removeprefix("torch.")
        return f"{name}-memmap" if _MEMORY_MAPPED.get(id(corpus)) is corpus else name
    return f"{corpus.dtype}-memmap" if isinstance(corpus, np.memmap) else str(corpus.dtype)


def encode_corpus(
    model: SentenceTransformer,
    texts: list[str],
    *,
    prompt: str | None = None,
    batch_size: int = 64,
    show_progress_bar: bool = False,
    description: str = "Encoding corpus",
    stream_documents: int = STREAM_DOCUMENTS,
    chunk_documents: int = CHUNK_DOCUMENTS,
    memmap_bytes: int = MEMMAP_BYTES,
) -> torch.Tensor:
    """Full-dimension document embeddings: float32 in one call below `stream_documents`, else
    float16 encoded `chunk_documents` at a time (one bar on stderr, `description`),
    memory-mapped from `memmap_bytes`."""
    if len(texts) < stream_documents:
        with encode_bar_label(description):
            return model.encode_document(
                texts,
                prompt=prompt,
                batch_size=batch_size,
                convert_to_tensor=True,
                show_progress_bar=show_progress_bar,
            )
    store: np.ndarray | None = None
    with tqdm(
        total=len(texts),
        desc=description,
        unit="doc",
        disable=not show_progress_bar,
        leave=leaves_bars(),
        file=sys.stderr,
    ) as bar:
        for start in range(0, len(texts), chunk_documents):
            chunk = model.encode_document(
                texts[start : start + chunk_documents],
                prompt=prompt,
                batch_size=batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if store is None:
                store = allocate_store(len(texts), chunk.shape[1], memmap_bytes=memmap_bytes)
            store[start : start + len(chunk)] = chunk
            bar.update(len(chunk))
    embeddings = torch.from_numpy(store)
    if isinstance(store, np.memmap):
        store.flush()
        _MEMORY_MAPPED[id(embeddings)] = embeddings
    return embeddings
