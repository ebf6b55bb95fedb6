"""An endpoint that trickles its answer a byte at a time no longer holds a run forever (issue 19,
item 11): each request ends within --llm-timeout seconds in total, then is retried
--llm-retries times, then the run stops with the usual clear error."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time

import pytest

from embedtune.cli import main

HAVE_DISTILABEL = importlib.util.find_spec("distilabel") is not None
TEXT = (
    "To restart the service run acmectl restart on the host. The service drains connections "
    "for thirty seconds before it stops, then starts again with its configuration file."
)


@pytest.fixture
def trickling_server():
    """An HTTP server on localhost that answers every request one byte every 0.3 s (the
    headers of a 200 answer, then a body that never ends), so no single read ever times out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()
    requests: list[float] = []

    def trickle(conn: socket.socket) -> None:
        conn.recv(65536)
        requests.append(time.monotonic())
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b" " * 10_000
        try:
            for byte in answer:
                if stop.is_set():
                    break
                conn.sendall(bytes([byte]))
                time.sleep(0.3)
        except OSError:  # the client gave up: as it should
            pass
        finally:
            conn.close()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1", requests
    stop.set()
    thread.join(5)
    server.close()


@pytest.mark.skipif(not HAVE_DISTILABEL, reason="distilabel (synthetic extra) is not installed")
def test_a_trickling_endpoint_stops_at_the_deadline(
    trickling_server, monkeypatch, tmp_path, capsys
):
    url, requests = trickling_server
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(f"# Restart\n\n{TEXT}\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["generate", "--docs", str(docs), "--output", str(out), "--llm", "openai:m"]
    args += ["--llm-timeout", "2", "--llm-retries", "1", "--llm-concurrency", "1"]
    outcome: list[int] = []
    worker = threading.Thread(target=lambda: outcome.append(main(args)), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(60)  # two tries of 2 s and the client's back-off: well under a minute
    assert not worker.is_alive(), "generate still waiting on a trickling endpoint after 60 s"
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert outcome == [2], err
    assert "no answer from the LLM endpoint" in err and "within 2 s, tried 2 time(s)" in err
    assert len(requests) == 2 and elapsed < 30
    assert not out.exists()
