"""An index that needs a missing package is refused before any work, naming the install command.
The missing package is simulated (sys.modules["faiss"] = None makes `import faiss` fail)."""

from __future__ import annotations

import sys

import pytest

from embedtune.cli import main
from embedtune.config import default_base_model, load_config
from embedtune.errors import ConfigError
from embedtune.search import require_index_package, resolve_index
from embedtune.workflow import run_evaluate, run_finetune
from tests.conftest import LEGAL

INSTALL = r"pip install 'embedtune\[faiss\]'"


@pytest.fixture
def no_faiss(monkeypatch):
    monkeypatch.setitem(sys.modules, "faiss", None)


def test_faiss_index_without_faiss_is_a_config_error(no_faiss):
    for index in ("faiss-flat", "faiss-hnsw"):
        with pytest.raises(
            ConfigError, match=f"--index {index} needs the faiss package.*{INSTALL}"
        ):
            require_index_package(index)
    require_index_package("exact")
    require_index_package("auto")
    assert resolve_index("auto", 10**7) == "exact"  # auto falls back, it never refuses


def test_runs_refuse_before_writing_anything(no_faiss, tmp_path):
    output = tmp_path / "out"
    config = load_config(data=str(LEGAL), output=str(output), index="faiss-hnsw")
    with pytest.raises(ConfigError, match=INSTALL):
        run_evaluate(default_base_model(), config)
    with pytest.raises(ConfigError, match=INSTALL):
        run_finetune(config)
    from embedtune.pipelines.finetune_embeddings import run_pipeline

    with pytest.raises(ConfigError, match=INSTALL):
        run_pipeline(config)
    assert not output.exists()


def test_cli_exits_2_with_the_install_command(no_faiss, tmp_path, capsys):
    output = tmp_path / "cli"
    code = main(
        [
            "evaluate",
            "--model",
            default_base_model(),
            "--data",
            str(LEGAL),
            "--index",
            "faiss-flat",
            "--output",
            str(output),
        ]
    )
    assert code == 2
    assert "pip install 'embedtune[faiss]'" in capsys.readouterr().err
    assert not output.exists()
