"""Load a Sentence Transformers model safely: SDPA attention, safetensors only, no remote code."""

from __future__ import annotations

import logging
from pathlib import Path

from sentence_transformers import SentenceTransformer

from embedtune.errors import ConfigError
from embedtune.model_files import (
    check_cross_encoder_folder,
    check_model_folder,
)
from embedtune.secrets import redact

logger = logging.getLogger(__name__)


def load_model(
    model_id_or_path: str,
    *,
    max_seq_length: int | None = None,
    trust_remote_code: bool = False,
    device: str | None = None,
    dtype: str = "float32",
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
            model_kwargs={"attn_implementation": "sdpa", "use_safetensors": True, "dtype": dtype},
        )
    except Exception as err:
        raise ConfigError(
            redact(f"cannot load model {model_id_or_path!r}: {type(err).__name__}: {err}")
        ) from None
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


def embedding_dimension(model: SentenceTransformer) -> int:
    getter = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(getter())


def load_cross_encoder(path: str):
    """A local cross-encoder (safetensors only) for rescoring mined negatives."""
    from sentence_transformers import CrossEncoder

    folder = Path(path).expanduser()
    check_cross_encoder_folder(folder)
    try:
        return CrossEncoder(str(folder), model_kwargs={"use_safetensors": True})
    except Exception as err:
        raise ConfigError(
            redact(f"cannot load cross-encoder {path!r}: {type(err).__name__}: {err}")
        ) from None
