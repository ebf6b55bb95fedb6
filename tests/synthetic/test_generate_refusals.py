"""`embedtune generate` refuses before it works (issue 10, items 1, 15 and 16): it never replaces
a folder it did not write, and checks --output and --llm before any document is read or any LLM
request is sent."""

from __future__ import annotations

import importlib.util
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from datasets import Dataset

from embedtune.errors import ConfigError, DataError
from embedtune.synthetic.generate import GenerateConfig, run_generate
from tests.helpers import chat_completion

HAVE_DISTILABEL = importlib.util.find_spec("distilabel") is not None
GUIDE = """# Payments runbook

## Refunds

To refund a card payment, open the admin console, find the charge by its id and press Refund.
Partial refunds are allowed up to the captured amount. Refunds settle in five to ten days.
"""


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "runbook.md").write_text(GUIDE, encoding="utf-8")
    return folder


@pytest.fixture
def unreadable_docs(tmp_path):
    """Documents whose loading fails (not UTF-8): an error about them means they were read."""
    folder = tmp_path / "bad-docs"
    folder.mkdir()
    (folder / "latin1.md").write_bytes("caf\xe9 au lait".encode("latin-1"))
    return folder


def test_a_users_dataset_folder_is_never_replaced(docs, tmp_path):
    """A save_to_disk dataset (with state.json) and a file of the user's beside it survive."""
    mine = tmp_path / "my-dataset"
    Dataset.from_dict({"query": ["q"], "document": ["d"]}).save_to_disk(str(mine))
    (mine / "notes.txt").write_text("precious")
    with pytest.raises(
        DataError, match=r"(?s)was not written by `embedtune generate`.*pass --overwrite"
    ):
        run_generate(GenerateConfig(docs=[str(docs)], output=str(mine)))
    assert (mine / "notes.txt").read_text() == "precious"
    assert (mine / "state.json").is_file()


def test_an_earlier_generate_output_is_replaced_and_overwrite_replaces_anything(docs, tmp_path):
    out = tmp_path / "generated"
    first = run_generate(GenerateConfig(docs=[str(docs)], output=str(out)))
    again = run_generate(GenerateConfig(docs=[str(docs)], output=str(out)))
    assert first["rows"] == again["rows"] > 0

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("replace me")
    run_generate(GenerateConfig(docs=[str(docs)], output=str(mine), overwrite=True))
    assert not (mine / "notes.txt").exists() and (mine / "generated.jsonl").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "generated", "mine"]


def test_output_is_checked_before_documents_are_read(unreadable_docs, tmp_path):
    a_file = tmp_path / "out.txt"
    a_file.write_text("not a folder")
    with pytest.raises(DataError, match=r"out\.txt.*exists and is not a folder"):
        run_generate(GenerateConfig(docs=[str(unreadable_docs)], output=str(a_file)))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bogus:model", "unknown LLM backend 'bogus'"),
        ("hf:/nonexistent/model", r"hf:/nonexistent/model: no such folder"),
        ("hf:./missing-model", r"no such folder"),
    ],
)
def test_llm_spec_is_checked_before_documents_are_read(unreadable_docs, tmp_path, spec, message):
    config = GenerateConfig(docs=[str(unreadable_docs)], output=str(tmp_path / "o"), llm=spec)
    with pytest.raises(ConfigError, match=message):
        run_generate(config)


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_openai_settings_are_checked_before_documents_are_read(
    unreadable_docs, tmp_path, monkeypatch
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    config = GenerateConfig(
        docs=[str(unreadable_docs)], output=str(tmp_path / "o"), llm="openai:gpt-4o-mini"
    )
    with pytest.raises(ConfigError, match="needs OPENAI_API_KEY"):
        run_generate(config)


class _CountingHandler(BaseHTTPRequestHandler):
    requests = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        type(self).requests += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        content = "## Positive\nHow are refunds paid?\n## Negative\nHow are taxes paid?"
        data = chat_completion("m", content)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_a_refused_output_costs_no_llm_call(docs, tmp_path, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _CountingHandler.requests = 0
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    try:
        with pytest.raises(DataError, match="refusing to replace it"):
            run_generate(GenerateConfig(docs=[str(docs)], output=str(mine), llm="openai:m"))
        assert _CountingHandler.requests == 0
        summary = run_generate(
            GenerateConfig(docs=[str(docs)], output=str(tmp_path / "new"), llm="openai:m")
        )
        assert summary["rows"] >= 1 and _CountingHandler.requests >= 1  # the server works
    finally:
        server.shutdown()
        server.server_close()
    assert (mine / "notes.txt").read_text() == "precious"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("llm_timeout", 0, "llm_timeout must be at least 1 second"),
        ("llm_timeout", float("nan"), "llm_timeout must be a whole number of seconds"),
        ("llm_timeout", 0.5, "llm_timeout must be a whole number of seconds"),
        ("llm_retries", -1, "llm_retries must be 0 or more"),
    ],
)
def test_bad_llm_settings_are_refused_first(unreadable_docs, tmp_path, field, value, message):
    config = GenerateConfig(docs=[str(unreadable_docs)], output=str(tmp_path / "o"))
    setattr(config, field, value)
    with pytest.raises(ConfigError, match=message):
        run_generate(config)
