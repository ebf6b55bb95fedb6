"""Load a Sentence Transformers model safely: SDPA attention, safetensors only, no remote code."""

from __future__ import annotations

import logging
from pathlib import Path

from sentence_transformers import SentenceTransformer

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)


def load_model(
    model_id_or_path: str,
    *,
    max_seq_length: int | None = None,
    trust_remote_code: bool = False,
    device: str | None = None,
) -> SentenceTransformer:
    path = Path(model_id_or_path)
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"{path}: a model must be a folder (or a Hugging Face model id)")
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ConfigError(
                f"{path}: not a Sentence Transformers model (no modules.json or config.json)"
            )
        if not any(path.rglob("*.safetensors")):
            raise ConfigError(f"{path}: no .safetensors weights; embedtune does not load pickles")
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
            f"cannot load model {model_id_or_path!r}: {type(err).__name__}: {err}"
        ) from None
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


def embedding_dimension(model: SentenceTransformer) -> int:
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(getter())
