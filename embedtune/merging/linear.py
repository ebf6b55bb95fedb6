"""merged = w * base + (1 - w) * finetuned, for every floating-point tensor of the same shape.

Why no library: peft's `add_weighted_adapter` combines LoRA adapters, not two full models;
mergekit merges full models but is a heavyweight YAML-driven tool (and not installed); FlagEmbedding's
LM-Cocktail is this same one-line interpolation behind a model-loading wrapper. `torch.lerp` is the
interpolation, exact at both ends (w=0 gives the finetuned tensor, w=1 the base tensor, bit for bit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)
StateDict = dict[str, torch.Tensor]


@dataclass
class MergeCount:
    merged: int  # tensors interpolated
    kept: int  # tensors left as finetuned: not floating point, or absent/other shape in the base


def snapshot(model: torch.nn.Module) -> StateDict:
    """A CPU copy of the model's weights (the operands of a merge)."""
    return {k: v.detach().clone().cpu() for k, v in model.state_dict().items()}


def _mergeable(name: str, base: StateDict, tensor: torch.Tensor) -> bool:
    other = base.get(name)
    return (
        tensor.is_floating_point()
        and other is not None
        and other.is_floating_point()
        and other.shape == tensor.shape
    )


def merge_state_dicts(base: StateDict, finetuned: StateDict, base_weight: float) -> StateDict:
    """A new state dict: each mergeable tensor w * base + (1 - w) * finetuned, others finetuned."""
    check_base_weight(base_weight)
    merged: StateDict = {}
    for name, tensor in finetuned.items():
        if _mergeable(name, base, tensor):
            merged[name] = torch.lerp(tensor, base[name].to(tensor.dtype), base_weight)
        else:
            merged[name] = tensor.clone()
    return merged


def load_merged(
    model: torch.nn.Module, base: StateDict, finetuned: StateDict, base_weight: float
) -> MergeCount:
    """Write the merge into `model`'s weights in place (no third full copy in memory)."""
    check_base_weight(base_weight)
    merged = kept = 0
    with torch.no_grad():
        for name, target in model.state_dict().items():
            tensor = finetuned[name]
            if _mergeable(name, base, tensor):
                value = torch.lerp(tensor, base[name].to(tensor.dtype), base_weight)
                merged += 1
            else:
                value = tensor
                kept += 1
            target.copy_(value)
    if merged == 0:
        raise ConfigError(
            "merge_base: the finetuned model shares no floating-point weights with the base "
            "model (different architecture?), nothing to merge"
        )
    return MergeCount(merged, kept)


def check_base_weight(base_weight: float) -> None:
    if not 0.0 <= base_weight <= 1.0:
        raise ConfigError(f"merge_base must be in [0, 1], got {base_weight}")
