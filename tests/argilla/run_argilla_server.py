"""Start argilla-server with the SQL search engine registered (run with the server venv's python).

Usage: python run_argilla_server.py --host 127.0.0.1 --port 6900

The server reads its other settings from ARGILLA_* environment variables (ARGILLA_DATABASE_URL,
ARGILLA_REDIS_URL, ...); ARGILLA_SEARCH_ENGINE defaults to "sql" here.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("ARGILLA_SEARCH_ENGINE", "sql")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import sql_search_engine  # noqa: E402,F401  (registers the "sql" engine)
import uvicorn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6900)
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args()
    from argilla_server import app

    uvicorn.run(
        app, host=args.host, port=args.port, access_log=args.access_log, log_level="warning"
    )


if __name__ == "__main__":
    main()
