"""`embedtune generate --ray` on a real local Ray cluster (2 CPUs), against the suite's local
OpenAI-compatible server: one row per chunk, the same rows as the local runner; and a Ray
address that does not answer, refused within a bounded time before any work."""

from __future__ import annotations

import importlib.util
import json
import signal
import socket
import threading
import time

import pytest

from embedtune.synthetic.generate import ray_cache_path
from embedtune.synthetic.progress import progress_path
from tests.synthetic.test_generate_resume import ChatServer

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("distilabel") is None, reason="needs the synthetic extra"
    ),
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the ray extra"),
]

CHUNKS = 6


@pytest.fixture
def chat_server():
    server = ChatServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(CHUNKS):
        topic = f"valve{i:02d}"
        (folder / f"{topic}.md").write_text(
            f"# Valve {i}\n\nThis page is about topic {topic}. The {topic} valve closes when the "
            f"pressure passes {i + 2} bar, and it opens again after {i + 5} seconds.\n",
            encoding="utf-8",
        )
    return folder


@pytest.fixture
def llm_env(chat_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return chat_server


def _arguments(docs, output, *extra: str) -> list[str]:
    return [
        "generate", "--docs", str(docs), "--output", str(output), "--llm", "openai:local-model",
        "--llm-concurrency", "2", "--llm-batch-size", "2", "--llm-retries", "0", "--seed", "7",
        *extra,
    ]  # fmt: skip


def _rows(output) -> list[dict]:
    lines = (output / "generated.jsonl").read_text(encoding="utf-8").splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda row: row["query"])


@pytest.fixture
def local_ray_cluster(tmp_path_factory):
    """A Ray cluster on this machine with 2 CPUs (a head node: its GCS and raylet processes),
    shut down after the test."""
    import ray

    handler = signal.getsignal(signal.SIGINT)  # distilabel installs its own
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        signal.signal(signal.SIGINT, handler)


@pytest.mark.slow
def test_ray_runs_the_task_on_a_local_cluster_with_the_local_runners_rows(
    local_ray_cluster, llm_env, docs, tmp_path, capsys
):
    import ray

    from embedtune.cli import main

    assert ray.cluster_resources()["CPU"] == 2
    local, on_ray = tmp_path / "local", tmp_path / "on-ray"
    assert main(_arguments(docs, local)) == 0
    asked_locally = len(llm_env.requests)
    assert asked_locally == CHUNKS
    capsys.readouterr()

    assert main(_arguments(docs, on_ray, "--ray")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == summary["chunks"] == CHUNKS
    asked_on_ray = llm_env.requests[asked_locally:]
    assert sorted(asked_on_ray) == [f"valve{i:02d}" for i in range(CHUNKS)]  # each chunk once
    rows = _rows(on_ray)
    assert len(rows) == CHUNKS and len({row["chunk_id"] for row in rows}) == CHUNKS
    assert rows == _rows(local)  # the same rows, ids and texts, as the local runner's
    assert not progress_path(on_ray).exists() and not ray_cache_path(str(on_ray)).exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_ray_address_that_refuses_is_an_error_before_any_work(
    llm_env, docs, tmp_path, capsys, monkeypatch
):
    from embedtune.cli import main

    output = tmp_path / "generated"
    address = f"127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    started = time.monotonic()
    code = main(_arguments(docs, output, "--ray"))
    err = capsys.readouterr().err
    assert code == 2, err
    assert time.monotonic() - started < 30  # ray.init would wait minutes (measured: 5+)
    assert f"Ray cluster at RAY_ADDRESS={address} cannot be reached" in err
    assert "ray start --head" in err
    assert not output.exists() and not progress_path(output).exists()
    assert llm_env.requests == []  # no request sent


def test_a_ray_address_that_accepts_and_stays_silent_times_out():
    """A port that accepts connections but never answers (a hung head, a wrong service):
    refused after the timeout, not after ray.init's own much longer wait."""
    from embedtune.errors import ServiceError
    from embedtune.synthetic.ray_runner import check_ray_address

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"ray://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(ServiceError, match=r"did not answer within 1 s"):
            check_ray_address(address, timeout=1.0)
        assert time.monotonic() - started < 5
    with pytest.raises(Exception, match=r"is not host:port"):
        check_ray_address("ray://:oops")
