"""Exact cosine top-k over a corpus store, one block at a time.

Scores are float32 matrix products of normalised rows (the first `dim` components), computed
QUERY_BLOCK queries x CORPUS_BLOCK documents at a time: memory stays at one block of scores and
one float32 block of the corpus, whatever the corpus size or its storage (float32, float16,
memory-mapped). Each block's top k are merged into the running top k. Order: score descending,
ties by `ranks` ascending (the evaluator passes each document id's rank, so ties go to the
smaller id, as Sentence Transformers does); a corpus smaller than one block gives exactly the
single matrix product's ranking.
"""

from __future__ import annotations

import numpy as np
import torch

CORPUS_BLOCK = 65_536  # documents per block: 256 x 65,536 float32 scores = 64 MiB
QUERY_BLOCK = 256

Embeddings = torch.Tensor | np.ndarray


def normalized_rows(embeddings: Embeddings, start: int, stop: int, dim: int) -> torch.Tensor:
    """Rows start:stop, first `dim` components, as unit float32 vectors."""
    block = embeddings[start:stop, :dim]
    if isinstance(block, np.ndarray):
        block = torch.from_numpy(np.ascontiguousarray(block))
    return torch.nn.functional.normalize(block.float(), dim=-1)


def id_ranks(corpus_ids: list[str]) -> np.ndarray:
    """Each document id's position in ascending id order (the tie-break)."""
    return np.argsort(np.argsort(np.array(corpus_ids, dtype=object)))


def _block_top_k(scores: torch.Tensor, ranks: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column numbers and scores of each row's best min(k, columns), in the (score desc, rank
    asc) order restricted to the block's top k: ties at the cut-off go to the smaller rank."""
    columns = scores.shape[1]
    k = min(k, columns)
    if k == columns:
        top = np.broadcast_to(np.arange(columns), scores.shape).copy()
        return top, scores.numpy().copy()
    values, top = torch.topk(scores, k + 1, dim=1)  # one more: is there a tie at the cut-off?
    crowded = torch.nonzero(values[:, k - 1] == values[:, k]).flatten().tolist()
    top, top_scores = top[:, :k].numpy().copy(), values[:, :k].numpy().copy()
    for row in crowded:  # more candidates tie at the cut-off than fit: the smaller ranks win
        row_scores = scores[row].numpy()
        candidates = np.flatnonzero(row_scores >= top_scores[row, -1])
        chosen = candidates[np.lexsort((ranks[candidates], -row_scores[candidates]))[:k]]
        top[row], top_scores[row] = chosen, row_scores[chosen]
    return top, top_scores


def exact_search(
    queries: Embeddings,
    corpus: Embeddings,
    k: int,
    *,
    dim: int | None = None,
    ranks: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    corpus_block: int = CORPUS_BLOCK,
    query_block: int = QUERY_BLOCK,
) -> tuple[np.ndarray, np.ndarray]:
    """(positions, scores), each (queries, min(k, documents)), best first.

    `dim`: the first dim components (default all); `ranks`: the tie-break order (default the
    row order); `exclude[i]`: a corpus row never returned for query i (-1: none). A row that has
    fewer candidates than k is padded with position -1, score -inf.
    """
    documents = corpus.shape[0]
    dim = dim or corpus.shape[1]
    k = min(k, documents)
    ranks = np.arange(documents) if ranks is None else np.asarray(ranks)
    padded_ranks = np.append(ranks, documents)  # position -1 (padding) sorts last
    q = normalized_rows(queries, 0, queries.shape[0], dim)
    if q.shape[0] == 0 or k == 0:
        return np.empty((q.shape[0], k), dtype=np.int64), np.empty((q.shape[0], k), np.float32)
    best_positions = np.empty((q.shape[0], 0), dtype=np.int64)
    best_scores = np.empty((q.shape[0], 0), dtype=np.float32)
    for start in range(0, documents, corpus_block):
        stop = min(start + corpus_block, documents)
        block = normalized_rows(corpus, start, stop, dim)
        positions, scores = [], []
        for q_start in range(0, q.shape[0], query_block):
            block_scores = (q[q_start : q_start + query_block] @ block.T).cpu()
            if exclude is not None:
                rows = np.arange(q_start, q_start + block_scores.shape[0])
                hit = (exclude[rows] >= start) & (exclude[rows] < stop)
                hit_rows = torch.from_numpy(np.flatnonzero(hit))
                block_scores[hit_rows, torch.from_numpy(exclude[rows][hit] - start)] = -np.inf
            top, top_scores = _block_top_k(block_scores, ranks[start:stop], k)
            positions.append(top + start)
            scores.append(top_scores)
        best_positions, best_scores = _merge(
            best_positions, best_scores, np.vstack(positions), np.vstack(scores), padded_ranks, k
        )
    best_positions[np.isneginf(best_scores)] = -1
    return best_positions, best_scores


def _merge(
    positions: np.ndarray,
    scores: np.ndarray,
    new_positions: np.ndarray,
    new_scores: np.ndarray,
    padded_ranks: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The best k of two per-query candidate lists, (score desc, rank asc)."""
    positions = np.concatenate([positions, new_positions], axis=1)
    scores = np.concatenate([scores, new_scores], axis=1)
    order = np.lexsort((padded_ranks[positions], -scores), axis=1)[:, :k]
    return np.take_along_axis(positions, order, axis=1), np.take_along_axis(scores, order, axis=1)
