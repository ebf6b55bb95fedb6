"""LoRA (`--lora RANK`): train a low-rank adapter with peft instead of every weight.

The adapter wraps the Sentence Transformers backbone (`model[0].model`) in a `peft.PeftModel`.
Sentence Transformers' own `add_adapter` goes through transformers' peft integration, which
needs peft >= 0.22 (we have 0.21), so peft is called directly; Sentence Transformers then saves
checkpoints as adapter files (adapter_config.json + adapter_model.safetensors), a few MB each.

Its Trainer reloads a checkpoint (resume, best model at the end) as a whole model, which fails
on such a checkpoint (sentence-transformers#3402; for the best model it only logs the error and
keeps the last weights). `AdapterTrainer` loads the adapter's weights instead.

After selection the kept adapter is saved (OUTPUT/checkpoints/adapter, copied to
OUTPUT/model/adapter) and merged into the weights (`merge_and_unload`): OUTPUT/model is a plain
Sentence Transformers model that loads without peft.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer

from embedtune.config import AUTO_LEARNING_RATES, FinetuneConfig, candidate_rates
from embedtune.errors import ConfigError
from embedtune.io import write_dir_atomic

logger = logging.getLogger(__name__)

# learning_rate auto under LoRA: an adapter needs about 10x the rate of a full finetune
# (benchmarks/README.md, LoRA); the same 4x bracket as config.AUTO_LEARNING_RATES.
LORA_AUTO_LEARNING_RATES = (5e-4, 2e-3)
ADAPTER_DIR = "adapter"  # OUTPUT/checkpoints/adapter while the run builds; OUTPUT/model/adapter
ADAPTER_WEIGHTS = "adapter_model.safetensors"
StateDict = dict[str, torch.Tensor]

# The attention projections, by the module names each family uses (peft matches name suffixes).
_BERT = ("query", "key", "value")  # BERT, RoBERTa, XLM-R (bge, e5, gte-base, MiniLM)
_DECODER = ("q_proj", "k_proj", "v_proj", "o_proj")  # Qwen, Llama, Mistral, Gemma
DEFAULT_TARGET_MODULES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("bert", "roberta", "xlm-roberta", "camembert", "electra", "ernie", "megatron-bert"), _BERT
    ),
    "mpnet": ("q", "k", "v", "o"),
    "distilbert": ("q_lin", "k_lin", "v_lin", "out_lin"),
    "deberta-v2": ("query_proj", "key_proj", "value_proj"),
    "deberta": ("in_proj",),
    "modernbert": ("Wqkv", "Wo"),
    "nomic_bert": ("Wqkv", "out_proj"),
    **dict.fromkeys(("t5", "mt5", "umt5"), ("q", "k", "v", "o")),
    **dict.fromkeys(
        (
            "qwen2", "qwen3", "llama", "mistral", "gemma", "gemma2", "gemma3", "gemma3_text",
            "phi", "starcoder2", "olmo", "olmo2",
        ),
        _DECODER,
    ),
}  # fmt: skip
# An unknown model_type: the first of these sets that the model has in full.
FALLBACK_TARGET_MODULES = (_BERT, _DECODER, ("q", "k", "v", "o"), ("query_proj", "value_proj"))
_LORA_LAYER_TYPES = (torch.nn.Linear, torch.nn.Embedding, torch.nn.Conv1d, torch.nn.Conv2d)


def backbone(model: SentenceTransformer) -> torch.nn.Module:
    """The transformers model inside the first module (a PeftModel once the adapter is on)."""
    first = model[0]
    inner = getattr(first, "model", None) or getattr(first, "auto_model", None)
    if not isinstance(inner, torch.nn.Module):
        raise ConfigError(
            f"LoRA needs a transformers backbone as the model's first module; "
            f"{type(first).__name__} has none"
        )
    return inner


def _set_backbone(model: SentenceTransformer, inner: torch.nn.Module) -> None:
    model[0].model = inner


def adaptable_module_names(module: torch.nn.Module) -> list[str]:
    """The names (last part) of the layers peft's LoRA can wrap: linear, embedding, conv."""
    from transformers.pytorch_utils import Conv1D

    types = (*_LORA_LAYER_TYPES, Conv1D)
    return sorted(
        {
            name.rsplit(".", 1)[-1]
            for name, m in module.named_modules()
            if name and isinstance(m, types)
        }
    )


def target_modules(model: SentenceTransformer, config: FinetuneConfig) -> list[str]:
    """The modules the adapter wraps: `lora_target_modules`, else the architecture's default.

    Raises ConfigError, naming the layers the model has, when they are not all in the model.
    """
    inner = backbone(model)
    present = adaptable_module_names(inner)
    model_type = getattr(getattr(inner, "config", None), "model_type", None) or "unknown"
    if config.lora_target_modules:
        wanted = [m.strip() for m in config.lora_target_modules.split(",") if m.strip()]
        missing = [m for m in wanted if m not in present]
        if missing:
            raise ConfigError(
                f"lora_target_modules {', '.join(missing)}: no such layer in "
                f"{config.base_model_name} (model_type {model_type}); its layers that LoRA "
                f"can wrap: {', '.join(present) or 'none'}"
            )
        return wanted
    candidates: Iterable[tuple[str, ...]] = FALLBACK_TARGET_MODULES
    if model_type in DEFAULT_TARGET_MODULES:
        candidates = (DEFAULT_TARGET_MODULES[model_type], *FALLBACK_TARGET_MODULES)
    for modules in candidates:
        if set(modules) <= set(present):
            return list(modules)
    raise ConfigError(
        f"--lora: {config.base_model_name} (model_type {model_type}) has no layers LoRA "
        f"targets by default (attention projections such as query/key/value or "
        f"q_proj/k_proj/v_proj/o_proj); its layers that LoRA can wrap: "
        f"{', '.join(present) or 'none'}; name some with --lora-target-modules"
    )


def check_lora(model: SentenceTransformer, config: FinetuneConfig) -> None:
    """Refuse, right after the base model is loaded, LoRA settings the model cannot take."""
    if config.lora is not None:
        target_modules(model, config)


def auto_learning_rates(config: FinetuneConfig) -> tuple[float, ...]:
    """The rates `learning_rate: auto` trains with: LoRA's or a full finetune's."""
    return LORA_AUTO_LEARNING_RATES if config.lora is not None else AUTO_LEARNING_RATES


def learning_rates(config: FinetuneConfig) -> tuple[float, ...]:
    """The candidate rates of this run: auto's, the user's list, or the one rate."""
    return candidate_rates(config, auto_learning_rates(config))


def lora_alpha(config: FinetuneConfig) -> float:
    return config.lora_alpha if config.lora_alpha is not None else 2.0 * config.lora


def parameter_counts(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters."""
    trainable = total = 0
    for parameter in model.parameters():
        total += parameter.numel()
        if parameter.requires_grad:
            trainable += parameter.numel()
    return trainable, total


def has_adapter(model: SentenceTransformer) -> bool:
    from peft import PeftModel

    return isinstance(getattr(model[0], "model", None), PeftModel)


def add_lora(model: SentenceTransformer, config: FinetuneConfig) -> dict[str, Any] | None:
    """Wrap the backbone with a fresh LoRA adapter (only it trains); None without `lora`.

    Returns results.json's training "adapter" block (completed by `finish_lora`).
    """
    if config.lora is None:
        return None
    from peft import LoraConfig, get_peft_model

    modules = target_modules(model, config)
    alpha = lora_alpha(config)
    settings = LoraConfig(
        r=config.lora,
        lora_alpha=alpha,
        lora_dropout=config.lora_dropout,
        target_modules=modules,
        bias="none",
    )
    torch.manual_seed(config.seed)  # the adapter's A matrices: the same start on every run
    with warnings.catch_warnings():  # peft asks the backbone a deprecated transformers question
        warnings.simplefilter("ignore", FutureWarning)
        _set_backbone(model, get_peft_model(backbone(model), settings))
    trainable, total = parameter_counts(model)
    logger.info(
        "LoRA rank %d, alpha %g, dropout %g on %s: %s of %s parameters train (%.2f%%)",
        config.lora,
        alpha,
        config.lora_dropout,
        ",".join(modules),
        f"{trainable:,}",
        f"{total:,}",
        100 * trainable / total,
    )
    return {
        "rank": config.lora,
        "alpha": alpha,
        "dropout": config.lora_dropout,
        "target_modules": modules,
        "trainable_parameters": trainable,
        "total_parameters": total,
    }


def trained_weights(model: SentenceTransformer) -> StateDict:
    """A CPU copy of what training changes: the adapter's weights under LoRA (megabytes, not
    the whole model), every weight otherwise."""
    adapter = has_adapter(model)
    return {
        k: v.detach().clone().cpu()
        for k, v in model.state_dict().items()
        if not adapter or "lora_" in k
    }


def restore_weights(model: SentenceTransformer, weights: StateDict) -> None:
    """Load a `trained_weights` copy back (an adapter-only copy leaves the base weights as is)."""
    result = model.load_state_dict(weights, strict=not has_adapter(model))
    if result.unexpected_keys:
        raise RuntimeError(f"weights that the model does not have: {result.unexpected_keys[:3]}")


def load_adapter_checkpoint(model: SentenceTransformer, checkpoint: str | Path) -> None:
    """Set the adapter's weights from a checkpoint folder's adapter_model.safetensors."""
    from peft.utils import set_peft_model_state_dict
    from safetensors.torch import load_file

    path = Path(checkpoint) / ADAPTER_WEIGHTS
    if not path.is_file():
        raise ConfigError(
            f"{checkpoint}: no {ADAPTER_WEIGHTS}; it is not a checkpoint of a LoRA run "
            "(resume it without --lora, or start afresh without --resume)"
        )
    peft_model = backbone(model)
    device = next(peft_model.parameters()).device
    result = set_peft_model_state_dict(peft_model, load_file(str(path), device=str(device)))
    if getattr(result, "unexpected_keys", None):
        raise ConfigError(
            f"{path}: the adapter does not fit this model (e.g. {result.unexpected_keys[0]}); "
            "was it trained with other --lora settings?"
        )


class AdapterTrainer(SentenceTransformerTrainer):
    """Reloads checkpoints (resume, best model at the end) as adapter weights."""

    def _load_from_checkpoint(self, checkpoint_path: str, model=None) -> None:
        if not has_adapter(self.model):
            super()._load_from_checkpoint(checkpoint_path)
            return
        logger.info("Loading the adapter from %s", checkpoint_path)
        load_adapter_checkpoint(self.model, checkpoint_path)

    def _load_best_model(self) -> None:
        # The parent catches every error and keeps the last weights; a best checkpoint that
        # cannot be loaded must stop the run instead of shipping the wrong weights.
        if not has_adapter(self.model):
            super()._load_best_model()
            return
        logger.info(
            "Loading the best adapter from %s (score %s)",
            self.state.best_model_checkpoint,
            self.state.best_metric,
        )
        load_adapter_checkpoint(self.model, self.state.best_model_checkpoint)


def trainer_class(model: SentenceTransformer) -> type[SentenceTransformerTrainer]:
    return AdapterTrainer if has_adapter(model) else SentenceTransformerTrainer


def adapter_checkpoint(checkpoint_dir: str | Path) -> Path:
    """Where a run keeps the selected adapter until its outputs are published."""
    return Path(checkpoint_dir) / ADAPTER_DIR


def finish_lora(
    model: SentenceTransformer, block: dict[str, Any] | None, checkpoint_dir: str | Path
) -> None:
    """Save the selected adapter (CHECKPOINTS/adapter), then merge it into the weights: `model`
    becomes a plain Sentence Transformers model. Nothing to do for a full finetune."""
    if block is None or not has_adapter(model):
        return
    folder = write_dir_atomic(
        adapter_checkpoint(checkpoint_dir),
        lambda tmp: model.save_pretrained(str(tmp), safe_serialization=True),
    )
    _set_backbone(model, backbone(model).merge_and_unload())
    block["saved_to"] = f"model/{ADAPTER_DIR}"
    logger.info("Adapter saved to %s and merged into the model's weights", folder)


def publish_adapter(config: FinetuneConfig, model_dir: str | Path) -> str | None:
    """Copy the run's adapter into MODEL/adapter; returns its final path (OUTPUT/model/adapter),
    or None without LoRA."""
    if config.lora is None:
        return None
    source = adapter_checkpoint(Path(config.output) / "checkpoints")
    if not (source / ADAPTER_WEIGHTS).is_file():
        raise FileNotFoundError(f"{source}: the run's adapter is missing")
    shutil.copytree(source, Path(model_dir) / ADAPTER_DIR)
    return str(Path(config.output) / "model" / ADAPTER_DIR)


def load_adapter_model(
    adapter_dir: str | Path, base_model: str | None = None, **kwargs: Any
) -> SentenceTransformer:
    """OUTPUT/model/adapter as a Sentence Transformers model with the (unmerged) adapter: the base
    model (`base_model`, default the one in adapter_config.json) with peft's adapter on top."""
    import json

    from peft import PeftModel

    folder = Path(adapter_dir)
    settings = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    model = SentenceTransformer(base_model or settings["base_model_name_or_path"], **kwargs)
    _set_backbone(model, PeftModel.from_pretrained(backbone(model), str(folder)))
    saved = folder / "config_sentence_transformers.json"
    if saved.is_file():  # the prompts the run stored with the model
        prompts = json.loads(saved.read_text(encoding="utf-8")).get("prompts") or {}
        model.prompts = {**model.prompts, **prompts}
    return model
