"""`embedtune generate --llm openai:...` at scale: concurrent requests, and a run killed with
SIGKILL half-way that `--resume` finishes without asking for any saved chunk again.

The LLM is a real HTTP server on localhost speaking the OpenAI chat-completions API (canned
answers, a small delay); the killed `embedtune generate` runs as a real subprocess, the refused
and the resumed run in this process (the same `main`, without a second interpreter start)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from embedtune.synthetic.progress import progress_path
from tests.helpers import chat_completion

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("distilabel") is None, reason="needs the synthetic extra"
)

CHUNKS = 16
CONCURRENCY = 4
KILL_AFTER = 6  # answers: the first group of four saved, the second in flight
DELAY = 0.15  # seconds per answer


class ChatServer(ThreadingHTTPServer):
    """Answers every chat completion with a query pair naming the chunk's topic; records the
    topic of each request, the requests in flight at once, and runs `on_answer` after each."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ChatHandler)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.answered = 0
        self.on_answer = lambda answered: None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ChatHandler(BaseHTTPRequestHandler):
    server: ChatServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        topic = re.search(r"topic (\w+)", user).group(1)
        server = self.server
        with server.lock:
            server.requests.append(topic)
            server.in_flight += 1
            server.most_in_flight = max(server.most_in_flight, server.in_flight)
        time.sleep(DELAY)
        content = f"## Positive\nHow does {topic} work?\n\n## Negative\nWhy did {topic} fail?"
        data = chat_completion(body["model"], content)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client was killed
        with server.lock:
            server.in_flight -= 1
            server.answered += 1
            answered = server.answered
        server.on_answer(answered)

    def log_message(self, *args) -> None:
        pass


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
    """One short document (one chunk) per topic."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(CHUNKS):
        topic = f"widget{i:02d}"
        (folder / f"{topic}.md").write_text(
            f"# Widget {i}\n\nThis page is about topic {topic}. The {topic} unit turns blue when "
            f"its battery number {i} runs low, and it restarts after {i + 3} minutes.\n",
            encoding="utf-8",
        )
    return folder


def _arguments(docs, output, *extra: str) -> list[str]:
    return [
        "generate",
        "--docs",
        str(docs),
        "--output",
        str(output),
        "--llm",
        "openai:local-model",
        "--llm-concurrency",
        str(CONCURRENCY),
        "--llm-retries",
        "0",
        *extra,
    ]


def _saved_topics(output) -> set[str]:
    lines = progress_path(output).read_text(encoding="utf-8").splitlines()[1:]
    return {json.loads(line)["query"].split()[2] for line in lines}


@pytest.mark.slow
def test_concurrent_requests_and_resume_after_sigkill(
    chat_server, docs, tmp_path, monkeypatch, capsys
):
    from embedtune.cli import main

    output = tmp_path / "generated"
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    first = subprocess.Popen(
        [sys.executable, "-m", "embedtune", *_arguments(docs, output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def kill_half_way(answered: int) -> None:
        if answered == KILL_AFTER:
            os.kill(first.pid, signal.SIGKILL)

    chat_server.on_answer = kill_half_way
    first.communicate(timeout=120)
    assert first.returncode == -signal.SIGKILL
    assert not output.exists()  # nothing that looks like a finished dataset
    assert 1 < chat_server.most_in_flight <= CONCURRENCY
    saved = _saved_topics(output)
    assert CONCURRENCY <= len(saved) < CHUNKS  # some groups saved, not all
    asked_before = len(chat_server.requests)

    # Without --resume the saved progress is not silently dropped.
    capsys.readouterr()
    assert main(_arguments(docs, output)) == 2
    assert re.search(r"unfinished `embedtune generate` run .*--resume", capsys.readouterr().err)
    assert len(chat_server.requests) == asked_before  # refused before any request

    chat_server.on_answer = lambda answered: None
    assert main(_arguments(docs, output, "--resume")) == 0
    out = capsys.readouterr().out
    asked_again = chat_server.requests[asked_before:]
    assert not saved & set(asked_again)  # no saved chunk generated twice
    assert len(asked_again) == len(set(asked_again)) == CHUNKS - len(saved)
    rows = [json.loads(line) for line in (output / "generated.jsonl").read_text().splitlines()]
    topics = [row["query"].split()[2] for row in rows]
    assert sorted(topics) == [f"widget{i:02d}" for i in range(CHUNKS)]  # each chunk once
    assert all(row["query"] == f"How does {t} work?" for row, t in zip(rows, topics, strict=True))
    assert json.loads(out)["rows"] == CHUNKS
    assert not progress_path(output).exists()  # the dataset holds the progress now


def test_progress_skips_a_line_cut_short_and_refuses_other_settings(tmp_path):
    from embedtune.errors import ConfigError
    from embedtune.synthetic.progress import GenerateProgress

    path = tmp_path / ".out.generate-progress.jsonl"
    settings = {"llm": "openai:a", "context": "", "max_new_tokens": 256}
    first = GenerateProgress.start(path, settings, resume=False)
    first.append([{"chunk_id": "c1", "query": "q?", "negative_query": "n?"}])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"chunk_id": "c2", "que')  # killed in the middle of a write
    again = GenerateProgress.start(path, settings, resume=True)
    assert set(again.done) == {"c1"}
    again.append([{"chunk_id": "c2", "dropped": True}])
    assert set(GenerateProgress.start(path, settings, resume=True).done) == {"c1", "c2"}
    with pytest.raises(ConfigError, match=r"made with other settings \(llm\)"):
        GenerateProgress.start(path, {**settings, "llm": "openai:b"}, resume=True)


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed")
def test_ray_without_ray_installed_names_the_extra(docs, tmp_path, monkeypatch):
    from embedtune.errors import ConfigError
    from embedtune.synthetic.generate import GenerateConfig, check_generate_config

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    config = GenerateConfig(
        docs=[str(docs)], output=str(tmp_path / "gen"), llm="openai:m", ray=True
    )
    with pytest.raises(
        ConfigError, match=r"needs the 'ray' package.*pip install 'embedtune\[ray\]'"
    ):
        check_generate_config(config)
    assert not (tmp_path / "gen").exists()
