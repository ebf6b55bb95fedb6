"""The results.json "guard" and "merge" blocks of a finetuning run."""

from __future__ import annotations

from typing import Any

from sentence_transformers import SentenceTransformer

from embedtune.config import FinetuneConfig
from embedtune.guard.task import Guard, evaluate_guard, guard_block
from embedtune.merging.run import MergeOutcome


def guard_and_merge_blocks(
    model: SentenceTransformer,
    config: FinetuneConfig,
    *,
    selected: str,
    guard: Guard | None,
    merge: MergeOutcome | None,
) -> dict[str, Any]:
    """{"merge": ..., "guard": ...} as the run had them; the saved model is scored on the guard
    once (not again when it is the base, or when auto already scored it)."""
    blocks: dict[str, Any] = {}
    if merge is not None:
        blocks["merge"] = merge.block
    if guard is not None:
        if selected == "base":
            saved = guard.base
        elif merge is not None and merge.guard_evaluation is not None:
            saved = merge.guard_evaluation
        else:
            saved = evaluate_guard(model, guard, config)
        blocks["guard"] = guard_block(guard, saved, config)
    return blocks
