"""LLM query generation: wall-clock for --llm-concurrency 1, 4, 16 against an OpenAI-compatible
server on localhost that answers each request after a random 0.1-0.5 s (a stand-in for an LLM
server whose answers vary in length; the same seeded delays for every setting).

Measures embedtune's own side: distilabel's async client, groups of N requests in flight, the
progress file written after every group. A real vLLM/TGI server adds its own batching effects.

    nice -n 10 .venv/bin/python benchmarks/generate_concurrency.py            # ~2 min
    nice -n 10 .venv/bin/python benchmarks/generate_concurrency.py --chunks 200 --levels 1 8 32
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import load, quiet, say, write_result

ANSWER = "## Positive\nHow does it work?\n\n## Negative\nWhy did it fail?"


class DelayedChat(BaseHTTPRequestHandler):
    delays: list[float] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            delay = self.delays.pop() if self.delays else 0.3
        time.sleep(delay)
        data = json.dumps(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": ANSWER},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=96)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    quiet()

    server = ThreadingHTTPServer(("127.0.0.1", 0), DelayedChat)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    os.environ["OPENAI_API_KEY"] = "sk-local"

    from embedtune.synthetic.chunking import Chunk
    from embedtune.synthetic.llm_queries import generate_llm_examples
    from embedtune.synthetic.progress import GenerateProgress

    chunks = [
        Chunk(id=f"c{i}", text=f"chunk {i} text", source="bench", section="", token_count=3)
        for i in range(args.chunks)
    ]
    rows = []
    for level in args.levels:
        seeded = random.Random(0)
        DelayedChat.delays = [seeded.uniform(0.1, 0.5) for _ in chunks]
        with tempfile.TemporaryDirectory() as folder:
            progress = GenerateProgress.start(
                Path(folder) / "progress.jsonl", {"llm": "openai:m"}, resume=False
            )
            started = time.perf_counter()
            examples = generate_llm_examples(
                chunks, "openai:m", concurrency=level, progress=progress
            )
            seconds = time.perf_counter() - started
        rows.append(
            {
                "concurrency": level,
                "chunks": len(examples),
                "seconds": round(seconds, 2),
                "chunks_per_second": round(len(examples) / seconds, 2),
                "load": load(),
            }
        )
        say(f"concurrency {level}: {len(examples)} chunks in {seconds:.1f} s")
    server.shutdown()
    base = rows[0]["seconds"]
    for row in rows:
        row["speedup_vs_first"] = round(base / row["seconds"], 2)
    write_result(
        "generate_concurrency",
        {"chunks": args.chunks, "server_delay_s": "uniform 0.1-0.5", "rows": rows},
    )


if __name__ == "__main__":
    main()
