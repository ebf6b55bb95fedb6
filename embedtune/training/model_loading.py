"""Load a Sentence Transformers model safely: SDPA attention, safetensors only, no remote code."""

from __future__ import annotations

import logging
from pathlib import Path

from sentence_transformers import SentenceTransformer

from embedtune.errors import ConfigError
from embedtune.secrets import redact

logger = logging.getLogger(__name__)


def load_model(
    model_id_or_path: str,
    *,
    max_seq_length: int | None = None,
    trust_remote_code: bool = False,
    device: str | None = None,
) -> SentenceTransformer:
    path = Path(model_id_or_path).expanduser()
    if path.exists():
        check_model_folder(path)
        model_id_or_path = str(path)
    elif model_id_or_path.startswith(("/", ".", "~")) or model_id_or_path.count("/") > 1:
        raise ConfigError(
            f"{model_id_or_path}: no such model folder (a Hugging Face model id looks like "
            "owner/name)"
        )
    if trust_remote_code:
        logger.warning("trust_remote_code is on: the model's own Python code will run")
    try:
        model = SentenceTransformer(
            model_id_or_path,
            device=device,
            trust_remote_code=trust_remote_code,
            model_kwargs={"attn_implementation": "sdpa", "use_safetensors": True},
        )
    except Exception as err:
        raise ConfigError(
            redact(f"cannot load model {model_id_or_path!r}: {type(err).__name__}: {err}")
        ) from None
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


def check_model_folder(path: Path) -> None:
    """Refuse folders that are not a model, or that hold pickled weights without safetensors."""
    if not path.is_dir():
        raise ConfigError(f"{path}: a model must be a folder (or a Hugging Face model id)")
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ConfigError(
            f"{path}: not a Sentence Transformers model (no modules.json or config.json); "
            "give the folder written by `SentenceTransformer.save_pretrained` or a model id"
        )
    convert = (
        "convert the weights in a trusted environment, e.g. "
        "`SentenceTransformer(path).save_pretrained(path, safe_serialization=True)`"
    )
    if not any(path.rglob("*.safetensors")):
        raise ConfigError(
            f"{path}: no .safetensors weights; embedtune does not load pickled weights "
            f"(pytorch_model.bin); {convert}"
        )
    for pickled in sorted(path.rglob("pytorch_model*.bin")):
        if not any(pickled.parent.glob("*.safetensors")):
            raise ConfigError(
                f"{pickled}: pickled weights without .safetensors beside them; embedtune does "
                f"not load pickles; {convert}"
            )


def embedding_dimension(model: SentenceTransformer) -> int:
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(getter())
