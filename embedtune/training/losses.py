"""Loss construction: Matryoshka around an in-batch-negatives ranking loss.

- mnrl: MultipleNegativesRankingLoss; uses a hard-negative column when the data has one.
- cached_mnrl: the same objective with GradCache: large batches in bounded memory
  (`mini_batch_size` only bounds memory; results match mnrl at the same batch size).
- gist: GISTEmbedLoss, with the base model as guide to filter false in-batch negatives.
"""

from __future__ import annotations

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    GISTEmbedLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)
from torch import nn

from embedtune.errors import ConfigError


def build_loss(
    model: SentenceTransformer,
    name: str,
    dims: list[int],
    *,
    mini_batch_size: int = 16,
    guide: SentenceTransformer | None = None,
    gather_across_devices: bool = False,
) -> nn.Module:
    """`gather_across_devices`: under DDP, every rank's embeddings join the in-batch candidates
    (N processes with batch B score against N*B, like one process with batch N*B)."""
    gather = {"gather_across_devices": gather_across_devices}
    if name == "mnrl":
        inner = MultipleNegativesRankingLoss(model, **gather)
    elif name == "cached_mnrl":
        inner = CachedMultipleNegativesRankingLoss(model, mini_batch_size=mini_batch_size, **gather)
    elif name == "gist":
        if guide is None:
            raise ConfigError("the gist loss needs a guide model (the base model)")
        inner = GISTEmbedLoss(model, guide=guide, **gather)
    else:
        raise ConfigError(f"unknown loss {name!r}")
    return MatryoshkaLoss(model, inner, matryoshka_dims=dims)
