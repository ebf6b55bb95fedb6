"""Tokens (HF, LLM, Argilla) never appear in logs, outputs, model cards or results.json."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from embedtune import hub, secrets
from tests.conftest import ZENML_QA
from tests.reporting.results_helpers import assert_valid_results

ZENML_PAIRS = ZENML_QA / "pairs.jsonl"
CANARY = "hf_CANARYtoken0123456789abcdefXYZ"
TOKEN_ENV = {
    "HF_TOKEN": CANARY,
    "OPENAI_API_KEY": "sk-" + CANARY,
    "ARGILLA_API_KEY": "argilla." + CANARY,
}


def assert_clean(text: str | bytes, where: str) -> None:
    needle = CANARY.encode() if isinstance(text, bytes) else CANARY
    assert needle not in text, f"the token leaked into {where}"


def test_redact_and_log_filter(monkeypatch):
    for name, value in TOKEN_ENV.items():
        monkeypatch.setenv(name, value)
    assert secrets.redact(f"Authorization: Bearer {CANARY}") == "Authorization: Bearer ***"
    assert CANARY not in secrets.redact(f"key={TOKEN_ENV['OPENAI_API_KEY']}")

    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    logger = logging.getLogger("test_secrets.filter")
    handler = Collect()
    logger.addHandler(handler)
    logger.propagate = False
    secrets.install_log_redaction(logger)
    try:
        logger.error("request to https://hub/api?token=%s failed", CANARY)
        try:
            raise RuntimeError(f"401 for token {CANARY}")
        except RuntimeError:
            logger.exception("push failed")
    finally:
        logger.removeHandler(handler)
    assert len(records) == 2 and "***" in records[0]
    for record in records:
        assert_clean(record, "a log record")


def test_zenml_secret_values_are_redacted_too(monkeypatch):
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    zenml_token = "zenml-secret-" + CANARY

    class FakeSecret:
        secret_values = {"token": zenml_token}

    class FakeClient:
        def get_secret(self, name):
            assert name == "huggingface"
            return FakeSecret()

    import zenml.client

    monkeypatch.setattr(zenml.client, "Client", FakeClient)
    assert secrets.hf_token() == zenml_token
    assert secrets.redact(f"token {zenml_token}") == "token ***"


def test_failed_push_reports_without_the_token(monkeypatch, tmp_path, caplog):
    """An error that quotes the token (as some HTTP errors quote URLs) is scrubbed."""
    monkeypatch.setenv("HF_TOKEN", CANARY)
    import huggingface_hub

    class LeakyApi:
        def __init__(self, token=None):
            self.token = token

        def create_repo(self, *args, **kwargs):
            raise ConnectionError(f"cannot reach https://hub.invalid/api/repos?token={self.token}")

    monkeypatch.setattr(huggingface_hub, "HfApi", LeakyApi)
    with caplog.at_level(logging.ERROR):
        outcome = hub.push_model(tmp_path, "someone/repo")
    assert outcome["pushed"] is False and "ConnectionError" in outcome["error"]
    assert_clean(json.dumps(outcome), "the push outcome")
    assert_clean(caplog.text, "the log")


@pytest.mark.slow
def test_finetune_with_tokens_and_failed_push_leaks_nothing(tmp_path):
    """A real (tiny) CLI run with canary tokens set and --push-to-hub: the hub is unreachable,
    the push fails, the run succeeds, and no file under OUTPUT nor any output line holds a token."""
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(ZENML_PAIRS.read_text(encoding="utf-8").splitlines(True)[:30]))
    out = tmp_path / "out"
    env = {**os.environ, **TOKEN_ENV, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", "embedtune.cli", "finetune", "--verbose"]
    command += ["--data", str(data), "--output", str(out), "--push-to-hub", "someone/repo"]
    command += ["--max-seq-length", "32", "--epochs", "1", "--batch-size", "8"]
    command += ["--dims", "384,64", "--eval-every", "0.5"]
    command += ["--keep-checkpoints"]  # their pickled training args are scanned too
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_clean(done.stdout, "stdout")
    assert_clean(done.stderr, "stderr (logs)")

    results = assert_valid_results(out / "results.json")
    assert results["push_to_hub"]["pushed"] is False
    assert results["push_to_hub"]["repo"] == "someone/repo"
    assert results["push_to_hub"]["error"]
    assert "failed" in done.stderr  # the failure is reported, and the model stayed local
    assert (out / "model" / "model.safetensors").is_file()

    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "README.md" for p in files)  # the model card was scanned
    assert any(p.name == "training_args.bin" for p in files)  # and the pickled checkpoint args
    for path in files:
        assert_clean(path.read_bytes(), str(path.relative_to(out)))


def test_cli_logging_setup_installs_the_redaction(monkeypatch):
    from embedtune.logging_setup import configure_logging

    root = logging.getLogger()
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        configure_logging()
        assert any(isinstance(f, secrets.RedactingFilter) for f in handler.filters)
    finally:
        root.removeHandler(handler)


def test_pipeline_logging_setup_redacts_zenml_handlers():
    from embedtune.logging_setup import configure_logging

    configure_logging(zenml=True)  # run.py's set-up: ZenML's own console handlers
    zenml_handlers = [h for h in logging.getLogger().handlers if "ZenML" in type(h).__name__]
    assert zenml_handlers
    for handler in zenml_handlers:
        assert any(isinstance(f, secrets.RedactingFilter) for f in handler.filters)
