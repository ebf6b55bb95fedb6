"""Attention-probability dropout while training, set apart from the model's saved config.

With dropout on the attention probabilities PyTorch's fused scaled-dot-product attention cannot
be used and the math fallback runs instead: on this 2-core CPU a MiniLM training step (32 pairs
plus one negative at 256 tokens) took 17 s with the model's 0.1 and 9.8 s with 0, hidden-layer
dropout kept in both (benchmarks/README.md, cost). `config.attention_dropout` sets the value
for the training only; the modules get the model's own value back afterwards, so the saved model
(and any later training of it) is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


def _attention_modules(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Self-attention modules of a transformers backbone (BERT-style `*SelfAttention` holding
    an `nn.Dropout`, or decoder-style `*Attention` holding a float `attention_dropout`)."""
    for module in model.modules():
        name = type(module).__name__
        if name.endswith("Attention") and "Output" not in name:
            yield module


@contextmanager
def attention_dropout(model: torch.nn.Module, probability: float | None) -> Iterator[int]:
    """Within the block, attention dropout is `probability` (None: left as it is); yields the
    number of attention modules changed."""
    if probability is None:
        yield 0
        return
    saved: list[tuple[torch.nn.Module, str, float]] = []
    for module in _attention_modules(model):
        dropout = getattr(module, "dropout", None)
        if isinstance(dropout, torch.nn.Dropout):
            saved.append((dropout, "p", dropout.p))
            dropout.p = probability
        if isinstance(getattr(module, "attention_dropout", None), float):
            saved.append((module, "attention_dropout", module.attention_dropout))
            module.attention_dropout = probability
    try:
        yield len(saved)
    finally:
        for owner, attribute, value in saved:
            setattr(owner, attribute, value)
