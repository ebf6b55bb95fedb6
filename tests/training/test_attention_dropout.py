"""Attention dropout is set for the training only: the modules get the model's value back."""

from __future__ import annotations

import torch

from embedtune.training.attention_dropout import _attention_modules, attention_dropout


def _values(model) -> list[float]:
    return [m.dropout.p for m in _attention_modules(model) if hasattr(m, "dropout")]


def test_attention_dropout_is_zero_inside_and_restored_after(base_model):
    before = _values(base_model)
    assert before and all(p == 0.1 for p in before)  # all-MiniLM-L6-v2's own, 6 layers
    with attention_dropout(base_model, 0.0) as changed:
        assert changed == len(before) == 6
        assert all(p == 0.0 for p in _values(base_model))
        # hidden-layer dropout is untouched
        hidden = [
            m.p
            for name, m in base_model.named_modules()
            if isinstance(m, torch.nn.Dropout) and "attention.self" not in name
        ]
        assert hidden and all(p == 0.1 for p in hidden)
    assert _values(base_model) == before


def test_none_leaves_the_model_as_it_is(base_model):
    before = _values(base_model)
    with attention_dropout(base_model, None) as changed:
        assert changed == 0 and _values(base_model) == before


def test_restored_even_when_training_fails(base_model):
    before = _values(base_model)
    try:
        with attention_dropout(base_model, 0.0):
            raise RuntimeError("a failed training")
    except RuntimeError:
        pass
    assert _values(base_model) == before
