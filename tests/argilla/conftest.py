"""A real argilla-server 2.8.0 for the tests marked ``argilla`` (see README.md here).

The session fixture ``argilla_server`` runs scripts/argilla_test_server.sh (creates the server
venv and installs redis-server when missing), then starts redis-server and argilla-server on free
127.0.0.1 ports with an SQLite database in a temporary folder, the ``sql`` search engine from
sql_search_engine.py standing in for Elasticsearch, and an owner user with a known API key. It
stops both at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SETUP_SCRIPT = REPO_ROOT / "scripts" / "argilla_test_server.sh"
SERVER_VENV = Path(os.environ.get("ARGILLA_SERVER_VENV", REPO_ROOT / ".venv-argilla-server"))

OWNER_USERNAME = "owner"
OWNER_PASSWORD = "owner-password-123"
OWNER_API_KEY = "embedtune.test.owner.apikey"
WORKSPACE = "argilla"
STARTUP_TIMEOUT_S = 90

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass(frozen=True)
class ArgillaServer:
    api_url: str
    api_key: str
    workspace: str
    log_path: Path

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(home: Path, redis_port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ARGILLA_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(
        ARGILLA_HOME_PATH=str(home),
        ARGILLA_DATABASE_URL=f"sqlite+aiosqlite:///{home / 'argilla.db'}",
        ARGILLA_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        ARGILLA_SEARCH_ENGINE="sql",
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path, what: str) -> None:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not open port {port} in {STARTUP_TIMEOUT_S}s")


def _wait_for_http(url: str, proc: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"argilla-server exited with {proc.returncode}:\n{log.read_text()[-4000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v1/version", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(
        f"argilla-server not ready in {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-4000:]}"
    )


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def argilla_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArgillaServer]:
    started = time.monotonic()
    setup = subprocess.run(
        ["bash", str(SETUP_SCRIPT)], capture_output=True, text=True, timeout=1200
    )
    if setup.returncode != 0:
        pytest.fail(
            f"{SETUP_SCRIPT.name} failed (exit {setup.returncode}):\n"
            f"{setup.stdout[-3000:]}\n{setup.stderr[-3000:]}"
        )
    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        pytest.fail("redis-server is not on PATH after running the setup script")
    python = SERVER_VENV / "bin" / "python"

    home = tmp_path_factory.mktemp("argilla-server")
    redis_port = free_port()
    server_port = free_port()
    while server_port == redis_port:
        server_port = free_port()
    env = _server_env(home, redis_port)
    redis_log, server_log = home / "redis.log", home / "server.log"
    redis_proc = server_proc = None
    try:
        with redis_log.open("w") as out:
            redis_proc = subprocess.Popen(
                [redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(home), "--protected-mode", "yes"],
                stdout=out, stderr=subprocess.STDOUT, cwd=home,
            )  # fmt: skip
        _wait_for_port(redis_port, redis_proc, "redis-server", redis_log)

        _run([str(python), "-m", "argilla_server", "database", "migrate"], env, home, "migrate")
        _run(
            [str(python), "-m", "argilla_server", "database", "users", "create",
             "--first-name", "Owner", "--username", OWNER_USERNAME, "--role", "owner",
             "--password", OWNER_PASSWORD, "--api-key", OWNER_API_KEY, "--workspace", WORKSPACE],
            env, home, "creating the owner user",
        )  # fmt: skip

        with server_log.open("w") as out:
            server_proc = subprocess.Popen(
                [str(python), str(HERE / "run_argilla_server.py"), "--host", "127.0.0.1",
                 "--port", str(server_port)],
                env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home,
            )  # fmt: skip
        api_url = f"http://127.0.0.1:{server_port}"
        _wait_for_http(api_url, server_proc, server_log)
        print(
            f"\nargilla-server ready at {api_url} after {time.monotonic() - started:.1f}s",
            file=sys.stderr,
        )
        yield ArgillaServer(api_url, OWNER_API_KEY, WORKSPACE, server_log)
    finally:
        _stop(server_proc)
        _stop(redis_proc)


@pytest.fixture
def no_argilla_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Argilla connection settings from the environment (nor a ZenML secret lookup)."""
    for name in ("ARGILLA_API_URL", "ARGILLA_API_KEY", "ARGILLA_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    from embedtune.annotation import argilla_client

    monkeypatch.setattr(argilla_client, "_zenml_secret", lambda: {})
