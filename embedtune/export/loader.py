"""Encode with an exported folder without Sentence Transformers' backends (they need optimum):
tokenizer -> ONNX Runtime or OpenVINO -> the folder's Pooling -> Normalize, with its prompts.

`ExportedEncoder` has the `encode`, `encode_query` and `encode_document` calls embedtune's
evaluator uses, so an exported model is scored exactly like the torch model it came from.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from embedtune.errors import ConfigError
from embedtune.export.formats import (
    EXPORT_RECORD,
    ONNX,
    ExportTarget,
    check_packages,
    export_target,
)
from embedtune.export.model_folder import StPipeline, read_pipeline

logger = logging.getLogger(__name__)
_UNLIMITED = 10**6  # tokenizers report a huge model_max_length when none is set


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    mask = mask.astype(hidden.dtype)[..., None]
    if mode == "cls":
        return hidden[:, 0]
    if mode == "lasttoken":
        last = mask[..., 0].sum(axis=1).astype(int) - 1  # right padding
        return hidden[np.arange(hidden.shape[0]), last]
    if mode == "max":
        return np.where(mask > 0, hidden, -1e9).max(axis=1)
    total = (hidden * mask).sum(axis=1)
    count = np.clip(mask.sum(axis=1), 1e-9, None)
    return total / (np.sqrt(count) if mode == "mean_sqrt_len_tokens" else count)


def _onnx_runner(path: Path, threads: int | None) -> Callable[[dict], np.ndarray]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return lambda feed: session.run(None, {n: feed[n] for n in names})[0]


def _openvino_runner(path: Path, threads: int | None) -> Callable[[dict], np.ndarray]:
    import openvino

    core = openvino.Core()
    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = core.compile_model(str(path), "CPU", config)
    request = compiled.create_infer_request()
    names = [port.any_name for port in compiled.inputs]
    output = compiled.outputs[0]
    return lambda feed: request.infer({n: feed[n] for n in names})[output].copy()


class ExportedEncoder:
    """An exported folder, ready to encode (see load_exported)."""

    def __init__(
        self,
        folder: Path,
        pipeline: StPipeline,
        target: ExportTarget,
        tokenizer: Any,
        runner: Callable[[dict], np.ndarray],
        input_names: list[str],
        max_seq_length: int,
    ) -> None:
        self.folder = folder
        self.pipeline = pipeline
        self.target = target
        self.tokenizer = tokenizer
        self._run = runner
        self.input_names = input_names
        self.max_seq_length = max_seq_length

    @property
    def prompts(self) -> dict[str, str]:
        return self.pipeline.prompts

    def get_sentence_embedding_dimension(self) -> int | None:
        return self.pipeline.dimension

    def __repr__(self) -> str:
        return f"ExportedEncoder({str(self.folder)!r}, {self.target.name}, {self.pipeline.pooling})"

    def _prompt(self, prompt: str | None, prompt_name: str | None) -> str:
        if prompt is not None:
            return prompt
        name = prompt_name or self.pipeline.default_prompt_name
        if name is None:
            return ""
        if name not in self.prompts:
            raise ValueError(f"prompt name {name!r} is not one of {sorted(self.prompts)}")
        return self.prompts[name]

    def _batch(self, texts: list[str]) -> np.ndarray:
        features = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="np",
        )
        feed = {name: np.asarray(features[name], dtype=np.int64) for name in self.input_names}
        hidden = self._run(feed)
        pooled = _pool(hidden, feed["attention_mask"], self.pipeline.pooling)
        if self.pipeline.normalize:
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32)

    def encode(
        self,
        sentences: str | list[str],
        *,
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        convert_to_tensor: bool = False,
        convert_to_numpy: bool = True,
        show_progress_bar: bool | None = None,
        **_: Any,
    ) -> np.ndarray | torch.Tensor:
        """Sentence embeddings, as SentenceTransformer.encode (sorted by length in batches)."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        prefix = self._prompt(prompt, prompt_name)
        texts = [prefix + t for t in texts]
        order = np.argsort([-len(t) for t in texts], kind="stable")
        dim = self.pipeline.dimension or 0
        out = np.zeros((len(texts), dim), dtype=np.float32)
        chunks = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc=f"Encoding {len(texts):,} texts ({self.target.name})")
        for start in chunks:
            idx = order[start : start + batch_size]
            vectors = self._batch([texts[i] for i in idx])
            if out.shape[1] != vectors.shape[1]:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
                if start:
                    raise ValueError("the embedding size changed between batches")
            out[idx] = vectors
        if normalize_embeddings:
            out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
        result: np.ndarray | torch.Tensor = torch.from_numpy(out) if convert_to_tensor else out
        return result[0] if single else result

    def encode_query(self, sentences: str | list[str], **kwargs: Any) -> np.ndarray | torch.Tensor:
        """As SentenceTransformer.encode_query: the "query" prompt unless one is given."""
        if kwargs.get("prompt") is None and kwargs.get("prompt_name") is None:
            if "query" in self.prompts:
                kwargs["prompt_name"] = "query"
        return self.encode(sentences, **kwargs)

    def encode_document(
        self, sentences: str | list[str], **kwargs: Any
    ) -> np.ndarray | torch.Tensor:
        """As SentenceTransformer.encode_document: the document/passage/corpus prompt."""
        if kwargs.get("prompt") is None and kwargs.get("prompt_name") is None:
            for name in ("document", "passage", "corpus"):
                if name in self.prompts:
                    kwargs["prompt_name"] = name
                    break
        return self.encode(sentences, **kwargs)


def read_record(folder: Path) -> dict[str, Any]:
    """FOLDER/embedtune_export.json (what export_model wrote), or a clear error."""
    path = folder / EXPORT_RECORD
    if not path.is_file():
        raise ConfigError(
            f"{folder} is not a folder written by `embedtune export` (no {EXPORT_RECORD})"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError(f"{path}: not readable JSON ({err})") from None


def _max_length(pipeline: StPipeline, tokenizer: Any, override: int | None) -> int:
    if override:
        return int(override)
    if pipeline.max_seq_length:
        return int(pipeline.max_seq_length)
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _UNLIMITED:
        return limit
    return 512


def load_exported(
    folder: str | Path, *, max_seq_length: int | None = None, threads: int | None = None
) -> ExportedEncoder:
    """The exported folder as an encoder (`threads`: the runtime's intra-op threads; None: its
    default). `max_seq_length` overrides the folder's own."""
    folder = Path(folder).expanduser()
    record = read_record(folder)
    target = export_target(record["format"], record["precision"])
    check_packages(target)
    pipeline = read_pipeline(folder)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    path = folder / target.file
    if not path.is_file():
        raise ConfigError(f"{folder}: the exported model file {target.file} is missing")
    runner = (_onnx_runner if target.format == ONNX else _openvino_runner)(path, threads)
    names = list(record.get("graph", {}).get("inputs") or ["input_ids", "attention_mask"])
    return ExportedEncoder(
        folder,
        pipeline,
        target,
        tokenizer,
        runner,
        names,
        _max_length(pipeline, tokenizer, max_seq_length),
    )
