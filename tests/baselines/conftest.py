"""The legal fixture (60 test queries, 360 chunks) and the real base model at max_seq_length 32."""

from __future__ import annotations

import pytest

from embedtune.data.beir import load_beir
from tests.conftest import LEGAL


@pytest.fixture(scope="session")
def legal():
    return load_beir(LEGAL)


@pytest.fixture(scope="session")
def short_model(base_model_path):
    from embedtune.training.model_loading import load_model

    return load_model(base_model_path, max_seq_length=32)


@pytest.fixture(scope="session")
def legal_encoded(short_model, legal):
    from embedtune.deployment.encoded import encode_task

    return encode_task(short_model, legal)
