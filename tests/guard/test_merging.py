"""Linear merging: exact at both ends, the midpoint in between, written into the model in place."""

from __future__ import annotations

import logging

import pytest
import torch

from embedtune.config import load_config
from embedtune.errors import ConfigError
from embedtune.guard.task import evaluate_guard, load_guard
from embedtune.merging.auto import choose_base_weight
from embedtune.merging.linear import load_merged, merge_state_dicts, snapshot
from embedtune.merging.run import merge_after_training
from embedtune.workflow import load_data
from tests.conftest import LEGAL, ZENML_QA


@pytest.fixture()
def operands(short_model):
    """The real base weights and a 'finetuned' copy: every float tensor moved by seeded noise."""
    base = snapshot(short_model)
    generator = torch.Generator().manual_seed(0)
    finetuned = {
        name: tensor + 0.01 * torch.randn(tensor.shape, generator=generator)
        if tensor.is_floating_point()
        else tensor.clone()
        for name, tensor in base.items()
    }
    return base, finetuned


@pytest.fixture()
def model(short_model):
    """The session model, its weights restored afterwards (other tests share it)."""
    weights = snapshot(short_model)
    yield short_model
    short_model.load_state_dict(weights)


def test_merge_is_exact_at_both_ends_and_the_midpoint_between(operands):
    base, finetuned = operands
    at_zero = merge_state_dicts(base, finetuned, 0.0)
    at_one = merge_state_dicts(base, finetuned, 1.0)
    half = merge_state_dicts(base, finetuned, 0.5)
    floats = [name for name, tensor in base.items() if tensor.is_floating_point()]
    assert len(floats) > 50
    for name in floats:
        assert torch.equal(at_zero[name], finetuned[name]), name
        assert torch.equal(at_one[name], base[name]), name
        assert not torch.equal(half[name], finetuned[name]), name
        torch.testing.assert_close(half[name], (base[name] + finetuned[name]) / 2)
    with pytest.raises(ConfigError, match=r"merge_base must be in \[0, 1\], got 1.5"):
        merge_state_dicts(base, finetuned, 1.5)


def test_non_float_and_mismatched_tensors_stay_finetuned(operands):
    base, finetuned = operands
    name = next(n for n, t in base.items() if t.is_floating_point())
    finetuned = {**finetuned, "extra.step": torch.tensor([7]), name: finetuned[name][:1]}
    merged = merge_state_dicts(base, finetuned, 1.0)
    assert torch.equal(merged["extra.step"], torch.tensor([7]))
    assert torch.equal(merged[name], finetuned[name])  # other shape than the base's: kept


def test_load_merged_writes_the_merge_into_the_model(model, operands):
    base, finetuned = operands
    count = load_merged(model, base, finetuned, 0.25)
    weights = model.state_dict()
    assert count.merged > 50 and count.merged + count.kept == len(weights)
    for name, tensor in base.items():
        if tensor.is_floating_point():
            expected = 0.25 * tensor + 0.75 * finetuned[name]
            torch.testing.assert_close(weights[name], expected, rtol=1e-5, atol=1e-6)


def test_a_fixed_ratio_merges_and_a_kept_base_skips_the_merge(model, operands, tmp_path, caplog):
    base, finetuned = operands
    config = load_config(data=str(LEGAL), merge_base=0.5, output=str(tmp_path / "out"))
    model.load_state_dict(finetuned)
    with caplog.at_level(logging.INFO, logger="embedtune.merging.run"):
        skipped = merge_after_training(model, base, config, improved=False, validation=None)
    assert skipped is None
    assert "skipped: the base model was kept" in caplog.text
    outcome = merge_after_training(model, base, config, improved=True, validation=None)
    assert outcome.block["base_weight"] == 0.5 and outcome.block["mode"] == "fixed"
    assert outcome.block["curve"] == [] and outcome.block["tensors_merged"] > 50
    name = next(n for n, t in base.items() if t.is_floating_point())
    torch.testing.assert_close(model.state_dict()[name], (base[name] + finetuned[name]) / 2)


def test_auto_keeps_the_unmerged_model_when_a_merge_wins_validation_by_noise(model, tmp_path):
    """Finetuned == base: every ratio scores the same on validation, so no merge beats the
    unmerged model significantly and base weight 0 is kept (the former rule took 1.0, the
    tie-break toward the base)."""
    config = load_config(
        data=str(LEGAL), max_seq_length=32, dims=[384, 64], output=str(tmp_path / "out")
    )
    guard_config = load_config(
        data=str(LEGAL), guard_data=str(ZENML_QA / "pairs.jsonl"), max_seq_length=32, dims=[384, 64]
    )
    validation = load_data(config)
    validation.queries = dict(list(validation.queries.items())[:20])
    weights = snapshot(model)
    guard = load_guard(guard_config)
    guard.base = evaluate_guard(model, guard, guard_config)
    choice = choose_base_weight(
        model, weights, weights, config, validation=validation, guard=guard, grid=(0.0, 0.5, 1.0)
    )
    assert choice.base_weight == 0.0
    assert "not significant" in choice.chosen_on
    assert [p["validation"] for p in choice.curve] == [choice.curve[0]["validation"]] * 3
