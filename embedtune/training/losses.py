"""Loss construction: Matryoshka around an in-batch-negatives ranking loss.

- mnrl: MultipleNegativesRankingLoss; uses a hard-negative column when the data has one.
- cached_mnrl: the same objective with GradCache: large batches in bounded memory
  (`mini_batch_size` only bounds memory; results match mnrl at the same batch size).
- gist: GISTEmbedLoss, with the base model as guide to filter false in-batch negatives.
"""

from __future__ import annotations

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss
from torch import nn

from embedtune.errors import ConfigError
from embedtune.loss_registry import LOSS_SPECS


def build_loss(
    model: SentenceTransformer,
    name: str,
    dims: list[int],
    *,
    mini_batch_size: int = 16,
    guide: SentenceTransformer | None = None,
    gather_across_devices: bool = False,
) -> nn.Module:
    """MatryoshkaLoss around the loss `name` (embedtune/loss_registry.py).
    `gather_across_devices`: under DDP, every rank's embeddings join the in-batch candidates
    (N processes with batch B score against N*B, like one process with batch N*B)."""
    spec = LOSS_SPECS.get(name)
    if spec is None:
        raise ConfigError(f"unknown loss {name!r}; known: {sorted(LOSS_SPECS)}")
    if spec.needs_guide and guide is None:
        raise ConfigError(f"the {name} loss needs a guide model (the base model)")
    inner = spec.build(
        model,
        guide=guide,
        mini_batch_size=mini_batch_size,
        gather_across_devices=gather_across_devices,
    )
    return MatryoshkaLoss(model, inner, matryoshka_dims=dims)
