"""Two "nodes" on one machine: two launcher agents (one process each) that meet through a
rendezvous on 127.0.0.1 run ONE `embedtune finetune` job (gloo, CPU, tiny data): one
results.json with world size 2, one JSON summary on stdout. With torchrun (c10d rendezvous) and
with `accelerate launch --multi_gpu --num_machines 2` (its static rendezvous; on a machine
without GPUs it runs gloo processes). And a rendezvous that never completes (the second node
never comes): the launcher gives up after its join timeout, within a bounded time, and nothing
is written."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO_ROOT, ZENML_QA, fixture_path
from tests.distributed.test_torchrun import TINY


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _torchrun_node(port: int, join_timeout: int) -> list[str]:
    """One node's torchrun: 2 nodes of 1 process, c10d rendezvous on 127.0.0.1."""
    return [
        sys.executable, "-m", "torch.distributed.run",
        "--nnodes", "2", "--nproc_per_node", "1",
        "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}",
        "--rdzv-id", f"embedtune-test-{port}", "--rdzv-conf", f"join_timeout={join_timeout}",
        "--local-addr", "127.0.0.1",
    ]  # fmt: skip


def _accelerate_node(port: int, machine_rank: int, timeout: int = 300) -> list[str]:
    """One machine's `accelerate launch`: 2 machines, 2 processes in all, rank 0 at 127.0.0.1;
    its static rendezvous waits `timeout` seconds for the other machine."""
    return [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_machines", "2", "--machine_rank", str(machine_rank), "--num_processes", "2",
        "--main_process_ip", "127.0.0.1", "--main_process_port", str(port),
        "--mixed_precision", "no", "--dynamo_backend", "no", "--rdzv_conf", f"timeout={timeout}",
    ]  # fmt: skip


def _node(launcher: str, port: int, node: int) -> list[str]:
    if launcher == "torchrun":
        return _torchrun_node(port, join_timeout=300)
    return _accelerate_node(port, node)


def _finetune(output) -> list[str]:
    data = str(fixture_path(ZENML_QA / "pairs.jsonl"))
    return ["-m", "embedtune", "finetune", "--data", data, "--output", str(output), *TINY]


def _environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_nodes_meet_on_localhost_and_write_one_run(tmp_path, launcher):
    out = tmp_path / "run"
    port = _free_port()
    nodes = [
        subprocess.Popen(
            [*_node(launcher, port, node), *_finetune(out)],
            cwd=REPO_ROOT,
            env=_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for node in range(2)
    ]
    done = [node.communicate(timeout=600) for node in nodes]
    for node, (_, err) in zip(nodes, done):
        assert node.returncode == 0, err[-4000:]
    printed = [stdout for stdout, _ in done if stdout.strip()]
    assert len(printed) == 1  # rank 0's summary; the other node printed nothing
    assert json.loads(printed[0])["kind"] == "finetune"
    assert sum("rank 0 of 2" in err for _, err in done) == 1

    assert list(out.rglob("results.json")) == [out / "results.json"]
    results = json.loads((out / "results.json").read_text())
    training = results["training"]
    assert training["world_size"] == 2 and training["distributed_backend"] == "gloo"
    assert training["global_batch_size"] == 2 * training["per_device_batch_size"]
    assert (out / "model" / "model.safetensors").is_file()


@pytest.mark.parametrize(
    ("launcher", "message"),
    [
        ("torchrun", "RendezvousTimeoutError"),
        ("accelerate", "waiting for clients. 1/2 clients joined"),
    ],
)
def test_a_rendezvous_that_never_completes_fails_in_bounded_time(tmp_path, launcher, message):
    """Only one of the two nodes starts: the launcher stops waiting after its timeout (here 3 s;
    torchrun's join_timeout and Accelerate's static rendezvous timeout are 600 s by default)
    and exits non-zero; embedtune never started, nothing written."""
    out = tmp_path / "run"
    port = _free_port()
    if launcher == "torchrun":
        lone = _torchrun_node(port, join_timeout=3)
    else:
        lone = _accelerate_node(port, 0, timeout=3)
    started = time.monotonic()
    done = subprocess.run(
        [*lone, *_finetune(out)],
        cwd=REPO_ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert message in done.stderr, done.stderr[-3000:]
    assert time.monotonic() - started < 60
    assert done.stdout == "" and not out.exists()
