"""Search over quantized document embeddings (Sentence Transformers' `quantize_embeddings`).

Embeddings are truncated to the first `dim` components and L2-normalised first (as evaluated).
- float32: exact cosine search, the evaluator's own ranking (rank_documents).
- int8: scalar quantization per component, ranges (min/max) calibrated on the corpus; exhaustive
  search of the float32 query against the dequantized codes (asymmetric, as ST's rescoring).
- binary: 1 bit per component (sign), packed; Hamming distance between the binarised query and
  the documents picks `rescore_multiplier` x top_k candidates, rescored by the float32 query
  against the documents' bits (ST's recipe: only the binary index is needed).
Ties are broken by ascending document id throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sentence_transformers.util import quantize_embeddings

from embedtune.baselines.rankings import top_k_indices
from embedtune.errors import ConfigError
from embedtune.evaluation.metrics import MAX_K
from embedtune.evaluation.retrieval import rank_documents

FLOAT32, INT8, BINARY = "float32", "int8", "binary"
PRECISIONS = (FLOAT32, INT8, BINARY)
DEFAULT_RESCORE_MULTIPLIER = 4
_QUERY_BLOCK = 64


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ConfigError(
            f"unknown embedding precision {precision!r}: choose from {', '.join(PRECISIONS)}"
        )
    return precision


def bytes_per_document(dim: int, precision: str) -> int:
    """Index bytes per document: 4 per component (float32), 1 (int8), 1 bit rounded up (binary)."""
    check_precision(precision)
    if dim < 1:
        raise ConfigError(f"embedding dim must be at least 1, got {dim}")
    return {FLOAT32: 4 * dim, INT8: dim, BINARY: math.ceil(dim / 8)}[precision]


def truncate_normalize(embeddings: torch.Tensor | np.ndarray, dim: int) -> np.ndarray:
    """The first `dim` components, L2-normalised, as float32 numpy."""
    array = torch.as_tensor(embeddings)[:, :dim].float()
    return torch.nn.functional.normalize(array, dim=-1).cpu().numpy()


@dataclass
class QuantizedIndex:
    precision: str
    dim: int
    codes: np.ndarray  # float32 (docs, dim) | int8 (docs, dim) | uint8 packed bits (docs, dim/8)
    ranges: np.ndarray | None = None  # int8: (2, dim) min and max per component
    corpus_float: torch.Tensor | None = None  # float32 only: the full embeddings for rank_documents

    @property
    def bytes_per_document(self) -> int:
        return bytes_per_document(self.dim, self.precision)


def build_index(corpus: torch.Tensor | np.ndarray, dim: int, precision: str) -> QuantizedIndex:
    """Quantize the corpus embeddings (full dimension in, first `dim` components kept)."""
    check_precision(precision)
    if not 1 <= dim <= corpus.shape[1]:
        raise ConfigError(f"dim {dim} is outside 1..{corpus.shape[1]} (the embedding size)")
    if precision == FLOAT32:
        full = torch.as_tensor(corpus)
        return QuantizedIndex(FLOAT32, dim, np.empty((0, 0), np.float32), corpus_float=full)
    docs = truncate_normalize(corpus, dim)
    if precision == INT8:
        ranges = np.vstack((docs.min(axis=0), docs.max(axis=0)))
        return QuantizedIndex(INT8, dim, quantize_embeddings(docs, INT8, ranges=ranges), ranges)
    return QuantizedIndex(BINARY, dim, quantize_embeddings(docs, "ubinary"))


def _dequantize(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    steps = (ranges[1] - ranges[0]) / 255
    steps = np.where(steps == 0, 1, steps).astype(np.float32)
    return (codes.astype(np.float32) + 128) * steps + ranges[0].astype(np.float32)


def search(
    index: QuantizedIndex,
    queries: torch.Tensor | np.ndarray,
    corpus_ids: list[str],
    id_rank: np.ndarray,
    *,
    top_k: int = MAX_K,
    rescore_multiplier: int = DEFAULT_RESCORE_MULTIPLIER,
    exclude_ids: list[str] | None = None,
) -> list[list[str]]:
    """Top-k document ids per query (full-dimension float query embeddings in)."""
    if index.precision == FLOAT32:
        return rank_documents(
            torch.as_tensor(queries),
            index.corpus_float,
            corpus_ids,
            index.dim,
            top_k=top_k,
            exclude_ids=exclude_ids,
        )
    if rescore_multiplier < 1:
        raise ConfigError(f"rescore_multiplier must be at least 1, got {rescore_multiplier}")
    q = truncate_normalize(queries, index.dim)
    position = {doc_id: i for i, doc_id in enumerate(corpus_ids)} if exclude_ids else {}
    # binary: the XOR of a block is (block x docs x bytes): keep it near 16 MB
    step = _QUERY_BLOCK
    if index.precision == BINARY:
        step = max(1, min(step, 2**24 // max(1, index.codes.size)))
    # numpy has no int8 matrix product: the codes are widened to float32 once per search
    docs = _dequantize(index.codes, index.ranges) if index.precision == INT8 else None
    ranked: list[list[str]] = []
    for start in range(0, q.shape[0], step):
        block = q[start : start + step]
        if index.precision == INT8:
            scores = block @ docs.T
        else:
            bits = quantize_embeddings(block, "ubinary")
            hamming = np.bitwise_count(bits[:, None, :] ^ index.codes[None, :, :]).sum(axis=-1)
            scores = -hamming.astype(np.float64)
        if exclude_ids:
            for offset, query_id in enumerate(exclude_ids[start : start + step]):
                if query_id in position:
                    scores[offset, position[query_id]] = -np.inf
        for offset, row in enumerate(scores):
            if index.precision == INT8:
                chosen = top_k_indices(row, top_k, id_rank)
            else:
                candidates = top_k_indices(row, top_k * rescore_multiplier, id_rank)
                doc_bits = np.unpackbits(index.codes[candidates], axis=-1)[:, : index.dim]
                rescored = np.full(row.shape, -np.inf)
                rescored[candidates] = doc_bits.astype(np.float32) @ block[offset]
                chosen = top_k_indices(rescored, top_k, id_rank)
            ranked.append([corpus_ids[i] for i in chosen])
    return ranked
