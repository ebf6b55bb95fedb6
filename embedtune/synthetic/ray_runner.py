"""`embedtune generate --ray`: the chunks left to do go through distilabel's own Ray runner.

distilabel turns a pipeline into a Ray job with ``Pipeline.ray()``: the query task runs as
``replicas`` Ray actors (``--llm-concurrency``; each sends ``--llm-batch-size`` chunks per
call), spread over the Ray cluster that ``ray.init`` finds (``RAY_ADDRESS``, or a job submitted
with ``ray job submit``; else a local one). distilabel caches each finished batch under
``cache_dir``, so a Ray run that is killed continues from its cache when run again; its answers
are then added to embedtune's own progress file like any other batch.

A ``RAY_ADDRESS`` whose head does not answer is refused before any work, within
``CONNECT_TIMEOUT`` seconds (``check_ray_address``): ``ray.init`` itself would wait for it far
longer. Ray comes with the ``ray`` extra: ``pip install 'embedtune[ray]'``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from embedtune.errors import ConfigError, ServiceError
from embedtune.synthetic.chunking import Chunk

logger = logging.getLogger(__name__)

RAY_INSTALL = "pip install 'embedtune[ray]'"
PIPELINE_NAME = "embedtune-generate-queries"
CONNECT_TIMEOUT = 10.0  # seconds for a RAY_ADDRESS's head to answer
# Ports when RAY_ADDRESS names none: Ray Client (ray://) and the head's GCS.
CLIENT_PORT, GCS_PORT = 10001, 6379
# The HTTP/2 client preface and an empty SETTINGS frame: a Ray head (GCS or Ray Client, both gRPC
# servers) answers them with its own SETTINGS; a port that accepts and stays silent does not.
_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def check_ray() -> None:
    """Refuse --ray before any work when Ray is not installed."""
    if importlib.util.find_spec("ray") is None:
        raise ConfigError(
            "--ray runs distilabel's pipeline on a Ray cluster and needs the 'ray' package, "
            f"which is not installed: {RAY_INSTALL}"
        )
    check_ray_address()


def check_ray_address(address: str | None = None, *, timeout: float = CONNECT_TIMEOUT) -> None:
    """Refuse a Ray cluster that does not answer, within `timeout` seconds, before any work.

    `address`: default ``RAY_ADDRESS``; unset, ``auto`` or ``local`` (a cluster on this machine,
    found or started by ``ray.init``) are not checked. ``host:port`` (the head's GCS, default
    port 6379) and ``ray://host:port`` (Ray Client, default 10001) must accept a connection and
    answer gRPC's greeting."""
    address = (os.environ.get("RAY_ADDRESS", "") if address is None else address).strip()
    if address in ("", "auto", "local"):
        return
    host, port = _host_port(address)
    deadline = time.monotonic() + timeout
    hint = (
        "start the head there (`ray start --head`), or fix RAY_ADDRESS (unset it to run a "
        "local Ray cluster on this machine)"
    )
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(max(deadline - time.monotonic(), 0.1))
            connection.sendall(_HTTP2_HELLO)
            answer = connection.recv(9)
    except TimeoutError:
        raise ServiceError(
            f"the Ray cluster at RAY_ADDRESS={address} did not answer within {timeout:g} s: {hint}"
        ) from None
    except OSError as err:
        raise ServiceError(
            f"the Ray cluster at RAY_ADDRESS={address} cannot be reached "
            f"({err.strerror or err}): {hint}"
        ) from err
    if not answer:
        raise ServiceError(
            f"RAY_ADDRESS={address} closed the connection without answering: is it a Ray head "
            f"(its GCS port, or ray:// and the Ray Client port)? {hint}"
        )


def _host_port(address: str) -> tuple[str, int]:
    """(host, port) of a Ray address: ``host[:port]``, ``ray://host[:port]`` (or the dashboard's
    ``http://host[:port]`` that ``ray job submit`` takes)."""
    scheme, _, rest = address.rpartition("://")
    default = {"ray": CLIENT_PORT, "http": 8265, "https": 8265}.get(scheme, GCS_PORT)
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host:
        raise ConfigError(f"RAY_ADDRESS={address!r} is not host:port or ray://host:port")
    return host, port or default


def generate_rows_with_ray(
    chunks: Sequence[Chunk],
    llm: Any,
    *,
    make_task: Callable[..., Any],
    task_name: str,
    context: str,
    hard_negative: bool,
    batch_size: int,
    replicas: int,
    cache_dir: Path,
) -> dict[str, dict]:
    """distilabel's output row of each chunk (chunk id -> row) from a Ray run of the query
    task; a chunk without a row is missing from the result (the caller counts it as dropped).
    `make_task`: the query task's factory (llm_queries.sentence_pair_task), passed in so this
    runner does not import the module that calls it."""
    check_ray()
    from distilabel.pipeline import Pipeline
    from distilabel.steps import LoadDataFromDicts, StepResources

    with Pipeline(name=PIPELINE_NAME, cache_dir=str(cache_dir)) as pipeline:
        load = LoadDataFromDicts(
            name="chunks",
            data=[{"chunk_id": c.id, "anchor": c.text} for c in chunks],
            batch_size=batch_size,
        )
        task = make_task(
            llm,
            context,
            hard_negative,
            batch_size,
            name=task_name,
            resources=StepResources(replicas=replicas),
        )
        load >> task
    logger.info(
        "Generating queries for %d chunks on Ray (%d replicas, cache %s)",
        len(chunks),
        replicas,
        cache_dir,
    )
    with _root_logging_kept():  # distilabel swaps the root logger's handlers for a queue's
        distiset = pipeline.ray().run(use_cache=True)
    rows = distiset["default"]["train"] if "default" in distiset else distiset[task_name]["train"]
    return {row["chunk_id"]: dict(row) for row in rows}


@contextmanager
def _root_logging_kept() -> Iterator[None]:
    """The root logger's handlers and level as they were before: distilabel's setup_logging
    replaces them with a QueueHandler whose queue is closed once the pipeline ends, so every
    later log record of the process would fail ("--- Logging error ---")."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
