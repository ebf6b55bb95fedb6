"""Rank and world from the launcher's environment; rank 0 alone speaks on stdout; commands other
than finetune are refused under a multi-process launcher (they would each write the outputs)."""

from __future__ import annotations

import json
import logging

import pytest

from embedtune import distributed
from embedtune.cli import main
from tests.conftest import ZENML_QA, fixture_path


@pytest.fixture(autouse=True)
def _keep_log_level():
    """main() as rank 1 lowers embedtune's log level to WARNING: restore it for later tests."""
    logger = logging.getLogger("embedtune")
    level = logger.level
    yield
    logger.setLevel(level)


def as_rank(monkeypatch, rank: int, world: int = 2) -> None:
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("LOCAL_RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))


def test_one_process_is_rank_0_of_1(monkeypatch):
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert (distributed.rank(), distributed.world_size(), distributed.local_rank()) == (0, 1, 0)
    assert distributed.is_main_process() and not distributed.is_distributed()
    assert distributed.backend() is None
    assert distributed.broadcast({"a": 1}) == {"a": 1}
    assert distributed.on_main(None, lambda: 42) == 42
    distributed.check_same(1, "nothing")  # nobody to disagree with
    assert distributed.layout(8, 2) == {
        "world_size": 1, "per_device_batch_size": 8, "global_batch_size": 16,
        "distributed_backend": None,
    }  # fmt: skip


def test_launcher_environment_names_rank_and_world(monkeypatch):
    as_rank(monkeypatch, 1, world=4)
    assert (distributed.rank(), distributed.world_size(), distributed.local_rank()) == (1, 4, 1)
    assert distributed.is_distributed() and not distributed.is_main_process()
    assert distributed.backend() in ("gloo", "nccl")
    assert distributed.layout(8)["global_batch_size"] == 32


def test_other_ranks_print_nothing(monkeypatch, capsys):
    data = str(fixture_path(ZENML_QA / "pairs.jsonl"))
    as_rank(monkeypatch, 1)
    assert main(["finetune", "--data", data, "--dry-run"]) == 0
    assert capsys.readouterr().out == ""
    as_rank(monkeypatch, 0)
    assert main(["finetune", "--data", data, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["dry_run"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--model", "m"], "only finetune runs across processes"),
        (["finetune", "--pipeline"], "--pipeline runs as one process"),
    ],
)
def test_refused_under_a_launcher(monkeypatch, capsys, tmp_path, args, message):
    as_rank(monkeypatch, 0)
    data = str(fixture_path(ZENML_QA / "pairs.jsonl"))
    code = main([*args, "--data", data, "--output", str(tmp_path / "out")])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
