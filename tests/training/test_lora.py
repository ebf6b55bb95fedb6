"""LoRA: only the adapter trains (with gradient checkpointing wired), the best checkpoint's adapter
is the one kept, OUTPUT/model is a plain model equal to base + adapter and OUTPUT/model/adapter
loads with peft; LoRA settings a model cannot take are refused before any work."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer

from embedtune.config import load_config
from embedtune.data.sources import DataOptions, load_retrieval_data
from embedtune.errors import ConfigError
from embedtune.training.finetune import finetune
from embedtune.training.lora import (
    ADAPTER_WEIGHTS,
    LORA_AUTO_LEARNING_RATES,
    add_lora,
    backbone,
    check_lora,
    finish_lora,
    has_adapter,
    load_adapter_model,
    publish_adapter,
)
from embedtune.training.model_loading import load_model
from embedtune.training.selection import carve_validation
from tests.conftest import LEGAL
from tests.helpers import TINY_RUN, cli_error
from tests.reporting.results_helpers import assert_valid_results

TINY = TINY_RUN
# all-MiniLM-L6-v2: 6 layers x (query, key, value) x (A: r x 384 + B: 384 x r)
ADAPTER_PARAMETERS_PER_RANK = 6 * 3 * 2 * 384
TEXTS = [
    "Which court decided the appeal on the contract dispute?",
    "The appellate court affirmed the judgment of the district court.",
    "What remedy did the plaintiff seek for the breach?",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.slow
def test_only_the_adapter_trains_and_the_best_checkpoint_is_merged_and_saved(
    tmp_path, base_model_path
):
    config = load_config(
        **TINY, lora=8, learning_rate=2e-3, gradient_checkpointing=True, output=str(tmp_path)
    )
    data = load_retrieval_data(DataOptions(source=str(LEGAL), max_train_pairs=48))
    carved = carve_validation(data, config)
    model = load_model(base_model_path, max_seq_length=32)
    base = {k: v.clone() for k, v in model.state_dict().items()}
    block = add_lora(model, config)
    checkpoints = tmp_path / "checkpoints"
    summary = finetune(model, carved.train.train, carved.validation, config, checkpoints)

    # gradient checkpointing reached the backbone the Trainer trained
    bert = backbone(model).get_base_model()
    assert bert.is_activation_checkpointing
    assert all(layer.gradient_checkpointing for layer in bert.encoder.layer)
    assert summary.trainable_parameters == block["trainable_parameters"]
    assert summary.trainable_parameters == 8 * ADAPTER_PARAMETERS_PER_RANK
    assert summary.trainable_parameters < 0.01 * summary.total_parameters
    assert block["alpha"] == 16 and block["target_modules"] == ["query", "key", "value"]
    # load_best_model_at_end: the adapter in memory is the best checkpoint's
    from peft.utils import get_peft_model_state_dict

    assert summary.best_checkpoint is not None
    kept = load_file(f"{summary.best_checkpoint}/{ADAPTER_WEIGHTS}")
    current = get_peft_model_state_dict(backbone(model))
    assert kept.keys() == current.keys()
    assert all(torch.equal(kept[k], current[k].cpu()) for k in kept)
    assert any(v.abs().max() > 0 for k, v in kept.items() if "lora_B" in k)  # it trained
    last = load_file(f"{checkpoints}/checkpoint-{summary.optimizer_steps}/{ADAPTER_WEIGHTS}")
    if summary.best_checkpoint != f"{checkpoints}/checkpoint-{summary.optimizer_steps}":
        assert not all(torch.equal(last[k], current[k].cpu()) for k in last)  # not the last

    finish_lora(model, block, checkpoints)
    assert not has_adapter(model) and block["saved_to"] == "model/adapter"
    merged = model.state_dict()
    assert merged.keys() == base.keys()  # a plain model again
    changed = {k for k in base if not torch.equal(base[k], merged[k])}
    assert changed and all(k.rsplit(".", 2)[-2] in ("query", "key", "value") for k in changed)

    folder = tmp_path / "model"
    model.save_pretrained(str(folder), safe_serialization=True)
    assert publish_adapter(config, folder) == str(tmp_path / "model" / "adapter")
    assert not (folder / "adapter_config.json").exists()
    assert not any(
        "lora" in k or "base_layer" in k for k in load_file(folder / "model.safetensors")
    )
    plain = SentenceTransformer(str(folder))  # no adapter files to read: peft is not involved
    assert not has_adapter(plain)
    with_adapter = load_adapter_model(folder / "adapter")  # base + unmerged adapter, via peft
    assert has_adapter(with_adapter)
    settings = json.loads((folder / "adapter" / "adapter_config.json").read_text())
    assert settings["r"] == 8 and set(settings["target_modules"]) == {"query", "key", "value"}
    for m in (plain, with_adapter):
        m.max_seq_length = 32
    merged_embeddings, adapter_embeddings = plain.encode(TEXTS), with_adapter.encode(TEXTS)
    assert _cosines(merged_embeddings, adapter_embeddings).min() > 0.9999
    base_embeddings = load_model(base_model_path, max_seq_length=32).encode(TEXTS)
    assert not np.allclose(merged_embeddings, base_embeddings, atol=1e-4)


@pytest.mark.slow
def test_a_lora_run_sweeps_lora_rates_and_records_the_adapter(tmp_path, base_model_path):
    from embedtune.workflow import run_finetune

    out = tmp_path / "out"
    config = load_config(
        **{**TINY, "eval_every": 1.0}, lora=4, learning_rate="auto", output=str(out)
    )
    results = run_finetune(config)

    training = assert_valid_results(out / "results.json")["training"]
    assert training["lora"] == 4
    sweep = [entry["learning_rate"] for entry in training["learning_rate_sweep"]]
    assert sweep == list(LORA_AUTO_LEARNING_RATES)
    adapter = training["adapter"]
    assert adapter["rank"] == 4 and adapter["alpha"] == 8 and adapter["dropout"] == 0.1
    assert adapter["target_modules"] == ["query", "key", "value"]
    assert training["trainable_parameters"] == 4 * ADAPTER_PARAMETERS_PER_RANK
    assert training["total_parameters"] > 100 * training["trainable_parameters"]
    assert results["adapter_path"] == str(out / "model" / "adapter")
    assert (out / "model" / "adapter" / "adapter_model.safetensors").is_file()
    saved = load_model(str(out / "model"), max_seq_length=32).encode(TEXTS)
    base = load_model(base_model_path, max_seq_length=32).encode(TEXTS)
    if results["selection"]["selected"] == "base":  # the untrained adapter merged: the base
        assert np.allclose(saved, base, atol=1e-6)
    else:
        assert not np.allclose(saved, base, atol=1e-4)


def test_target_modules_the_model_lacks_are_refused_before_any_work(capsys, tmp_path):
    args = ["finetune", "--data", str(LEGAL), "--lora", "8", "--max-seq-length", "32"]
    err = cli_error(capsys, [*args, "--lora-target-modules", "q_proj,value"], tmp_path / "out")
    assert "lora_target_modules q_proj: no such layer" in err
    assert "its layers that LoRA can wrap: dense, key, position_embeddings, query" in err


def test_a_model_without_default_target_modules_is_refused(short_model):
    from transformers import GPT2Config, GPT2Model

    model = copy.deepcopy(short_model)
    model[0].model = GPT2Model(GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16))
    config = load_config(lora=8)
    with pytest.raises(ConfigError, match=r"model_type gpt2\) has no layers LoRA targets") as err:
        check_lora(model, config)
    assert "c_attn, c_fc, c_proj" in str(err.value) and "--lora-target-modules" in str(err.value)
    check_lora(model, load_config(lora=8, lora_target_modules="c_attn"))  # named: accepted
    check_lora(model, load_config())  # no LoRA: nothing to check
