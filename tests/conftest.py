"""Shared test set-up: offline Hugging Face, a throwaway ZenML store, the real base model, and
the paths of the committed data slices in tests/fixtures (LEGAL, ZENML_QA)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before anything imports huggingface_hub or zenml.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
if "ZENML_CONFIG_PATH" not in os.environ:  # a throwaway store (and artifact store), removed at exit
    os.environ["ZENML_CONFIG_PATH"] = tempfile.mkdtemp(prefix="embedtune-zenml-")
    atexit.register(shutil.rmtree, os.environ["ZENML_CONFIG_PATH"], ignore_errors=True)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"  # small slices of the benchmark data, with licences
LEGAL = FIXTURES / "legal_rag_synthetic"
ZENML_QA = FIXTURES / "zenml_rag_test"


def fixture_path(path: Path) -> Path:
    """A committed test data file: a missing one is a broken checkout, so fail (never skip)."""
    if not path.exists():
        raise FileNotFoundError(f"test data missing from the repository: {path}")
    return path


shared = fixture_path  # the former name, still used by some tests


@pytest.fixture(scope="session")
def base_model_path() -> str:
    from embedtune.config import default_base_model

    return default_base_model()


@pytest.fixture(scope="session")
def base_model(base_model_path):
    from embedtune.training.model_loading import load_model

    return load_model(base_model_path, max_seq_length=64)


@pytest.fixture(scope="session")
def legal():
    """The legal fixture as a BEIR task (60 test queries, 360 chunks)."""
    from embedtune.data.beir import load_beir

    return load_beir(LEGAL)


@pytest.fixture(scope="session")
def short_model(base_model_path):
    """The real base model at max_seq_length 32 (fast encodings)."""
    from embedtune.training.model_loading import load_model

    return load_model(base_model_path, max_seq_length=32)


@pytest.fixture(scope="session")
def legal_encoded(short_model, legal):
    """One encoding of the legal fixture, shared by the baseline and deployment tests."""
    from embedtune.deployment.encoded import encode_task

    return encode_task(short_model, legal)
