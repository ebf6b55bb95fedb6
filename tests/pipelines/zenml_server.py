"""A real local ZenML server (`zenml login --local`: uvicorn + the REST store + the dashboard)
in its own ZENML_CONFIG_PATH, stopped when the block ends, also when the block fails (its
daemon's pid file is read and the process terminated; the config folder is thrown away).

Used by tests/pipelines/test_zenml_server.py and scripts/zenml_dashboard_screenshots.py.
Commands that talk to it run in subprocesses with `server.env`: the test session's own ZenML
client stays on its throwaway SQLite store (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ZENML = Path(sys.executable).with_name("zenml")  # the venv's zenml command


@dataclass(frozen=True)
class LocalServer:
    url: str
    env: dict[str, str]  # ZENML_CONFIG_PATH of a client connected to the server
    root: Path

    def run(self, command: list[str], timeout: float, cwd: Path | None = None):
        """Run a command as a client of the server (stdout captured, stderr to a log file)."""
        log = self.root / "commands.log"
        with log.open("a", encoding="utf-8") as err:
            return subprocess.run(
                command,
                cwd=cwd or self.root,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                timeout=timeout,
            )

    def stderr_tail(self, chars: int = 4000) -> str:
        log = self.root / "commands.log"
        return log.read_text(encoding="utf-8", errors="replace")[-chars:] if log.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _zenml(env: dict[str, str], root: Path, *args: str, timeout: float) -> tuple[int, str]:
    log = root / "zenml-cli.log"
    # To a file, not a pipe: the server daemon must not hold our pipe open.
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ zenml {' '.join(args)}\n")
        out.flush()
        done = subprocess.run(
            [str(ZENML), *args],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    return done.returncode, log.read_text(encoding="utf-8", errors="replace")[-4000:]


def _server_pids(config: Path) -> list[int]:
    pids = []
    for pid_file in config.rglob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pids.append(int(pid_file.read_text().strip()))
    return pids


@contextlib.contextmanager
def local_zenml_server(root: Path, start_timeout: float = 240) -> Iterator[LocalServer]:
    """Start `zenml login --local` on a free port with ZENML_CONFIG_PATH=root/config."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config"
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(config),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_AUTO_OPEN_DASHBOARD": "false",
        "ZENML_ENABLE_RICH_TRACEBACK": "false",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    env.pop("ZENML_STORE_URL", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        code, output = _zenml(
            env, root, "login", "--local", "--port", str(port), timeout=start_timeout
        )
        if code != 0:
            raise RuntimeError(f"zenml login --local failed (exit {code}):\n{output}")
        with urllib.request.urlopen(f"{url}/health", timeout=30) as answer:
            if answer.status != 200:
                raise RuntimeError(f"the ZenML server at {url} answered {answer.status} on /health")
        yield LocalServer(url=url, env=env, root=root)
    finally:  # stop the daemon itself (`zenml logout --local` would spend seconds importing)
        pids = _server_pids(config)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for pid in pids:
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_stopped(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/health", timeout=2)
    except OSError:
        return True
    return False
