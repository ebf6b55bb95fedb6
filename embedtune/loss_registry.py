"""The losses a run can train with, by name: what each is called, whether it needs a guide
model, and how it is built (Sentence Transformers' classes, imported only when built, so the
config can check a name without importing the library).

A new loss is one `LossSpec` here (and a test in tests/training/test_losses_and_prompts.py):
the config's choices, the model card's wording and training read this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LossSpec:
    name: str
    label: str  # as the model card names it
    # build(model, guide=..., mini_batch_size=..., gather_across_devices=...) -> the inner loss
    build: Callable[..., Any]
    needs_guide: bool = False  # trained beside a frozen copy of the base model (GIST)


def _mnrl(model: Any, *, gather_across_devices: bool, **_: Any) -> Any:
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    return MultipleNegativesRankingLoss(model, gather_across_devices=gather_across_devices)


def _cached_mnrl(model: Any, *, mini_batch_size: int, gather_across_devices: bool, **_: Any) -> Any:
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
    )

    return CachedMultipleNegativesRankingLoss(
        model, mini_batch_size=mini_batch_size, gather_across_devices=gather_across_devices
    )


def _gist(model: Any, *, guide: Any, gather_across_devices: bool, **_: Any) -> Any:
    from sentence_transformers.sentence_transformer.losses import GISTEmbedLoss

    return GISTEmbedLoss(model, guide=guide, gather_across_devices=gather_across_devices)


LOSS_SPECS: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        # uses a hard-negative column when the data has one
        LossSpec("mnrl", "MultipleNegativesRankingLoss", _mnrl),
        # GradCache: large batches in bounded memory (mini_batch_size bounds memory only)
        LossSpec("cached_mnrl", "CachedMultipleNegativesRankingLoss", _cached_mnrl),
        # the base model as guide filters false in-batch negatives
        LossSpec("gist", "GISTEmbedLoss (the base model as guide)", _gist, needs_guide=True),
    )
}
LOSSES = tuple(LOSS_SPECS)
