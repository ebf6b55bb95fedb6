"""One model's document embeddings keyed by text: each document is encoded once per model.

The base model's test encoding (`EncodedTask`) seeds the cache; hard-negative mining and the
validation corpus then ask it for the documents they rank, and only the texts it has not seen are
encoded. On a shared corpus (protocols given and by-query) this removes mining's second encoding
of the whole corpus, the largest repeated cost of a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.retrieval import EncodedTask, encode_texts

if TYPE_CHECKING:
    from embedtune.config import FinetuneConfig

# A ranker: (query texts, pool texts, k) -> per query the pool positions of its top k, best first
Ranker = Callable[[list[str], list[str], int], list[list[int]]]


class DocumentEmbeddings:
    """Full-dimension, L2-normalised float32 document embeddings of one model and prompt."""

    def __init__(
        self, model: SentenceTransformer, *, prompt: str | None = None, batch_size: int = 64
    ) -> None:
        self.model, self.prompt, self.batch_size = model, prompt, batch_size
        self._rows: dict[str, tuple[int, int]] = {}  # text -> (block, row)
        self._blocks: list[torch.Tensor | np.ndarray] = []
        self.encoded = 0  # documents this cache encoded
        self.reused = 0  # documents served without encoding

    @classmethod
    def from_encoded(
        cls,
        model: SentenceTransformer,
        encoded: EncodedTask,
        data: RetrievalData,
        *,
        prompt: str | None = None,
        batch_size: int = 64,
    ) -> DocumentEmbeddings:
        """A cache holding `encoded`'s corpus (the test encoding of `data` by `model`)."""
        encoded.check_matches(data)
        cache = cls(model, prompt=prompt, batch_size=batch_size)
        block = len(cache._blocks)
        cache._blocks.append(encoded.corpus)
        for row, doc_id in enumerate(encoded.corpus_ids):
            cache._rows.setdefault(data.corpus[doc_id], (block, row))
        return cache

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, text: str) -> bool:
        return text in self._rows

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), full dim) normalised float32 rows; unseen texts are encoded (once)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
        if missing:
            fresh = self.model.encode_document(
                missing, prompt=self.prompt, batch_size=self.batch_size, convert_to_numpy=True
            )
            block = len(self._blocks)
            self._blocks.append(fresh)
            for row, text in enumerate(missing):
                self._rows[text] = (block, row)
            self.encoded += len(missing)
        self.reused += len(texts) - len(missing)
        out = np.empty((len(texts), self._dim()), dtype=np.float32)
        for i, text in enumerate(texts):
            block, row = self._rows[text]
            vector = self._blocks[block][row]
            out[i] = vector.float().cpu().numpy() if isinstance(vector, torch.Tensor) else vector
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _dim(self) -> int:
        return (
            int(self._blocks[0].shape[1]) if self._blocks else self.model.get_embedding_dimension()
        )


def candidate_ranker(
    model: SentenceTransformer, embeddings: DocumentEmbeddings, config: FinetuneConfig
) -> Ranker:
    """Ranks a pool of documents for queries with `model` (exact cosine at full dimension),
    the documents' embeddings taken from `embeddings`: the base model's candidates for the
    validation corpus (embedtune.training.selection)."""

    def rank(queries: list[str], pool: list[str], k: int) -> list[list[int]]:
        if not queries or not pool:
            return [[] for _ in queries]
        documents = torch.from_numpy(embeddings.embed(pool))
        encoded = encode_texts(
            model,
            queries,
            kind="query",
            prompt=config.query_prompt,
            batch_size=config.eval_batch_size,
        )
        encoded = torch.nn.functional.normalize(encoded.float().cpu(), dim=1)
        top = []
        for start in range(0, len(queries), 256):  # bounded memory: 256 queries x pool
            scores = encoded[start : start + 256] @ documents.T
            top.extend(scores.topk(min(k, len(pool)), dim=1).indices.tolist())
        return top

    return rank
