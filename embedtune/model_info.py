"""What a run needs to know about a model before loading its weights: dimension and lengths.

Read from the small JSON files of a Sentence Transformers folder (modules.json, the Pooling and
Dense configs, sentence_bert_config.json, the transformer's config.json), locally or through the
Hugging Face cache, so a configuration is resolved and validated without loading any weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedtune.errors import ConfigError


@dataclass(frozen=True)
class ModelInfo:
    dimension: int  # the sentence embedding's dimension
    # The model's own default: sentence_bert_config.json's max_seq_length (Sentence
    # Transformers < 6), else tokenizer_config.json's model_max_length (where 6.x saves it)
    max_seq_length: int | None
    position_limit: int | None  # the transformer's max_position_embeddings (minus padding)


def _reader(model: str):
    """A function `name -> parsed JSON or None` for a local folder or a hub id."""
    path = Path(model).expanduser()
    if path.is_dir():

        def read(name: str) -> Any:
            file = path / name
            return json.loads(file.read_text(encoding="utf-8")) if file.is_file() else None

        return read

    def read_hub(name: str) -> Any:
        from huggingface_hub import hf_hub_download

        try:
            file = hf_hub_download(model, name)
        except Exception:  # missing file, no network, not cached: treated as absent
            return None
        return json.loads(Path(file).read_text(encoding="utf-8"))

    return read_hub


def read_model_info(model: str) -> ModelInfo:
    """Dimension, default sequence length and position limit of a Sentence Transformers model."""
    read = _reader(model)
    try:
        modules = read("modules.json")
        transformer_config = read("config.json") or {}
        st_config = read("sentence_bert_config.json") or {}
        tokenizer_config = read("tokenizer_config.json") or {}
        dimension = None
        if modules:
            for module in modules:
                kind, folder = module.get("type", ""), module.get("path", "")
                prefix = f"{folder}/" if folder else ""
                if kind.endswith("Pooling"):
                    pooling = read(f"{prefix}config.json") or {}
                    dimension = pooling.get("word_embedding_dimension", dimension)
                elif kind.endswith("Dense"):
                    dense = read(f"{prefix}config.json") or {}
                    dimension = dense.get("out_features", dimension)
                elif kind.endswith("Transformer") and folder:
                    transformer_config = read(f"{prefix}config.json") or transformer_config
                    st_config = read(f"{prefix}sentence_bert_config.json") or st_config
                    tokenizer_config = read(f"{prefix}tokenizer_config.json") or tokenizer_config
    except (OSError, ValueError) as err:
        raise ConfigError(f"{model}: cannot read the model's configuration files: {err}") from err
    if dimension is None:
        dimension = transformer_config.get("hidden_size") or transformer_config.get("d_model")
    if not dimension:
        raise ConfigError(
            f"{model}: cannot tell the embedding dimension (no modules.json with a Pooling "
            "module, no config.json with hidden_size); is it a Sentence Transformers model?"
        )
    limit = transformer_config.get("max_position_embeddings")
    if limit and transformer_config.get("model_type") in ("roberta", "xlm-roberta", "camembert"):
        limit -= 2  # RoBERTa-style position ids start after the padding index
    return ModelInfo(int(dimension), _saved_length(st_config, tokenizer_config), limit)


def _saved_length(st_config: dict, tokenizer_config: dict) -> int | None:
    """The length the model was saved with, read the way Sentence Transformers reads it."""
    if st_config.get("max_seq_length"):
        return int(st_config["max_seq_length"])
    length = tokenizer_config.get("model_max_length")
    # tokenizers without a limit store a huge sentinel (int(1e30)): not a length
    return int(length) if isinstance(length, int | float) and 0 < length < 1_000_000 else None
