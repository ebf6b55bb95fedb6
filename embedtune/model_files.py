"""Checks of a model folder before any weights load: a Sentence Transformers model with
safetensors weights and no pickle anywhere (loading a pickle can run code), or a cross-encoder
for --rescore-model. The config runs them as it is built, so bad folders are refused first."""

from __future__ import annotations

import json
import os
from pathlib import Path

from embedtune.errors import ConfigError

# Weight formats read with pickle (torch.load): loading one can run arbitrary code.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_CONVERT = (
    "convert the weights in a trusted environment into a new folder, e.g. "
    "`SentenceTransformer(path).save_pretrained(new_path, safe_serialization=True)`, and use "
    "new_path (or, if the .safetensors files already hold the same weights, as in Hub repos "
    "that ship both, delete the pickle files)"
)


def _files(root: Path) -> list[Path]:
    """Every file under root, following symlinked folders (a module may be a link) once each."""
    found: list[Path] = []
    seen: set[str] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a symlink loop or a folder linked twice
            subfolders.clear()
            continue
        seen.add(real)
        found.extend(Path(folder) / name for name in names)
    return found


def pickled_weight_files(path: Path) -> list[Path]:
    """Files in a model folder (sub-module folders included) that would be read with pickle."""
    return sorted(f for f in _files(path) if f.suffix.lower() in PICKLE_SUFFIXES)


def check_model_folder(path: Path) -> None:
    """Refuse folders that are not a model, or that hold any pickled weights file.

    Safetensors beside a pickle are not enough: a module (Dense, a PEFT adapter, an older
    checkpoint layout) may still read the pickle, so any pickle anywhere in the folder refuses it.
    """
    if not path.is_dir():
        raise ConfigError(f"{path}: a model must be a folder (or a Hugging Face model id)")
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ConfigError(
            f"{path}: not a Sentence Transformers model (no modules.json or config.json); "
            "give the folder written by `SentenceTransformer.save_pretrained` or a model id"
        )
    files = _files(path)
    if not any(f.suffix == ".safetensors" for f in files):
        raise ConfigError(
            f"{path}: no .safetensors weights; embedtune does not load pickled weights "
            f"(pytorch_model.bin); {_CONVERT}"
        )
    pickled = pickled_weight_files(path)
    if not pickled:
        return
    first = pickled[0]
    listed = ", ".join(str(f.relative_to(path)) for f in pickled[:3])
    more = f" and {len(pickled) - 3} more" if len(pickled) > 3 else ""
    beside = any(f.suffix == ".safetensors" for f in first.parent.iterdir())
    why = (
        "pickled weights beside .safetensors; a module may still read the pickle"
        if beside
        else "pickled weights without .safetensors beside them"
    )
    raise ConfigError(
        f"{first}: {why}; embedtune does not load pickles, so it refuses a model folder "
        f"holding any ({listed}{more}); {_CONVERT}"
    )


def check_cross_encoder_folder(folder: Path) -> None:
    """Refuse, before any model is loaded, a --rescore-model that is not a cross-encoder."""
    config_file = folder / "config.json"
    if not folder.is_dir() or not config_file.is_file():
        raise ConfigError(
            f"--rescore-model {folder}: not a model folder (no config.json); give a local "
            "cross-encoder saved with CrossEncoder.save_pretrained"
        )
    try:
        architectures = json.loads(config_file.read_text(encoding="utf-8")).get("architectures")
    except ValueError as err:
        raise ConfigError(f"--rescore-model {config_file}: invalid JSON: {err}") from None
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures or []):
        raise ConfigError(
            f"--rescore-model {folder}: not a cross-encoder (architectures {architectures}; "
            "a cross-encoder is a *ForSequenceClassification model); a bi-encoder such as the "
            "base model cannot rescore pairs"
        )
    if not any(folder.glob("*.safetensors")):
        raise ConfigError(f"--rescore-model {folder}: no .safetensors weights")
