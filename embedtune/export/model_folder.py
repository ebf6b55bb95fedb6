"""Read what an exported (or exportable) Sentence Transformers folder says about its pipeline:
the transformer at the root, its Pooling config, an optional Normalize, prompts and max length.

Only the JSON files are read (no weights). Both Pooling config layouts are understood: Sentence
Transformers 6 (`"pooling_mode": "mean"`) and the older flags (`"pooling_mode_mean_tokens": true`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError

POOLING_MODES = ("mean", "cls", "max", "mean_sqrt_len_tokens", "lasttoken")
_LEGACY_FLAGS = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_lasttoken": "lasttoken",
}
_ALIASES = {"mean_tokens": "mean", "cls_token": "cls", "max_tokens": "max"}
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".h5")


@dataclass(frozen=True)
class StPipeline:
    """The parts of a Sentence Transformers folder an exported encoder needs."""

    folder: Path
    pooling: str  # one of POOLING_MODES
    normalize: bool
    dimension: int | None
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None
    max_seq_length: int | None = None
    module_paths: tuple[str, ...] = ()  # the module folders ("" is the root)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: not readable JSON ({err})") from None


def _not_a_model(folder: Path, why: str) -> ConfigError:
    return ConfigError(
        f"{folder} is not a Sentence Transformers model folder: {why} (give the folder that "
        "holds modules.json, e.g. OUTPUT/model of a finetune run)"
    )


def _pooling_mode(config: dict[str, Any], path: Path) -> str:
    mode = config.get("pooling_mode")
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if mode is None:
        chosen = [name for flag, name in _LEGACY_FLAGS.items() if config.get(flag)]
        if len(chosen) != 1:
            raise ConfigError(
                f"{path}: pooling {chosen or 'none'} is not supported by embedtune's exported "
                f"encoder (one of {', '.join(POOLING_MODES)})"
            )
        mode = chosen[0]
    mode = _ALIASES.get(str(mode), str(mode))
    if mode not in POOLING_MODES:
        raise ConfigError(
            f"{path}: pooling_mode {mode!r} is not supported (one of {', '.join(POOLING_MODES)})"
        )
    if config.get("include_prompt") is False:
        raise ConfigError(
            f"{path}: include_prompt false (prompt tokens left out of pooling) is not supported "
            "by embedtune's exported encoder"
        )
    return mode


def read_pipeline(folder: str | Path) -> StPipeline:
    """Transformer -> Pooling [-> Normalize]; anything else is refused with the reason."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise _not_a_model(folder, "no such folder")
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        raise _not_a_model(folder, "no modules.json")
    modules = _json(modules_file)
    if not isinstance(modules, list) or not modules:
        raise _not_a_model(folder, "modules.json lists no modules")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if (
        kinds[0] != "Transformer"
        or (folder / modules[0].get("path", "") / "config.json").is_file() is False
    ):
        raise _not_a_model(folder, "its first module is not a Transformer with a config.json")
    if modules[0].get("path", "") != "":
        raise ConfigError(f"{modules_file}: the Transformer module must be at the folder's root")
    unsupported = [k for k in kinds[1:] if k not in ("Pooling", "Normalize")]
    if "Pooling" not in kinds or unsupported:
        raise ConfigError(
            f"{modules_file}: modules {kinds} are not supported for export (Transformer, "
            "Pooling and an optional Normalize are)"
        )
    pooling_path = folder / modules[kinds.index("Pooling")].get("path", "") / "config.json"
    pooling = _json(pooling_path) if pooling_path.is_file() else {}
    if not pooling_path.is_file():
        raise _not_a_model(folder, f"no {pooling_path.relative_to(folder)}")
    st_config_file = folder / "config_sentence_transformers.json"
    st_config = _json(st_config_file) if st_config_file.is_file() else {}
    bert_config_file = folder / "sentence_bert_config.json"
    bert_config = _json(bert_config_file) if bert_config_file.is_file() else {}
    dimension = pooling.get("embedding_dimension", pooling.get("word_embedding_dimension"))
    return StPipeline(
        folder=folder,
        pooling=_pooling_mode(pooling, pooling_path),
        normalize="Normalize" in kinds,
        dimension=int(dimension) if dimension else None,
        prompts=dict(st_config.get("prompts") or {}),
        default_prompt_name=st_config.get("default_prompt_name"),
        max_seq_length=bert_config.get("max_seq_length"),
        module_paths=tuple(str(m.get("path", "")) for m in modules),
    )


def copy_files(source: Path, target: Path) -> list[str]:
    """Every file of the Sentence Transformers folder but weights, model cards, backend folders
    and checkpoints (what the exported graph replaces). Returns the copied names."""
    import shutil

    copied = []
    for file in sorted(source.rglob("*")):
        relative = file.relative_to(source)
        top = relative.parts[0]
        if (
            not file.is_file()
            or file.suffix.lower() in WEIGHT_SUFFIXES
            or relative.as_posix() == "README.md"
            or top in ("onnx", "openvino", ".git")
            or top.startswith(("checkpoint-", "."))
        ):
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target / relative)
        copied.append(relative.as_posix())
    return copied
