"""A large corpus encoded by several processes of this machine (`encode_processes`).

Sentence Transformers' own multi-process pool does the work: `start_multi_process_pool` starts
N worker processes that share the model's weights (shared memory, no copy) and encode chunks of
the texts they are sent; `_multi_process` sends the chunks and puts the answers back in order.
`encoding_processes(model, n)` routes every large `model.encode*` call through such a pool by
the same hook that Sentence Transformers' `distributed_evaluation` uses for torchrun's ranks
(`model._distributed_inference`), so the test evaluation, hard-negative mining (and its document
cache), the validation corpus and the deployment matrix, which all encode through the model,
are spread over the processes without a change of their own.

Why this and not Ray Data or torch.distributed: across machines, embedtune already shards every
encoding across torchrun's ranks (embedtune.distributed.shared_encoding); on one machine, the
pool is what Sentence Transformers maintains for exactly this, runs the same `_inference` code
(same prompts, truncation, normalisation), needs no extra package, no cluster and no conversion
of the embeddings, and its workers start in seconds. Ray Data would add a dependency and a
cluster to a job that needs neither.

Memory stays bounded as on one process: the texts of one call are queued in chunks (a large
corpus is already encoded 8,192 documents per call into a float16 store,
embedtune.search.store), the workers share the weights, and each holds one batch's activations.
Calls with fewer than `min_texts` texts (a handful of validation queries) are encoded here:
starting the workers costs seconds. The pool starts at the first large call and stops when the
context ends, so weights that change later (training) are never encoded with stale workers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

MIN_TEXTS = 1024  # a call with fewer texts is encoded in this process
_run_processes = 1  # for the run in progress (`for_run`): read by distributed.shared_encoding


class PoolInference:
    """`model._distributed_inference` for one context: large calls go to a pool of
    `processes` workers (started on first use), small ones to the model itself.

    `texts` and `calls` count what the pool encoded; `start_seconds` what starting it took."""

    def __init__(self, model: Any, processes: int, *, min_texts: int = MIN_TEXTS) -> None:
        self.model, self.processes, self.min_texts = model, processes, min_texts
        self.pool: dict[str, Any] | None = None
        self.texts = 0
        self.calls = 0
        self.start_seconds = 0.0

    def __call__(self, inputs: list, **kwargs: Any) -> Any:
        if len(inputs) < self.min_texts:
            return self.model._inference(inputs, **kwargs)
        pool = self.pool if self.pool is not None else self._start()
        kwargs["show_progress_bar"] = False  # the caller's bar (if any) counts the calls
        output = self.model._multi_process(
            inputs, pool=pool, chunk_size=_chunk_size(len(inputs), self.processes), **kwargs
        )
        self.texts += len(inputs)
        self.calls += 1
        device = self.model.device
        if device.type != "cpu" and not kwargs.get("save_to_cpu"):
            output = output.to(device) if hasattr(output, "to") else output
        return output

    def _start(self) -> dict[str, Any]:
        """The pool: CPU workers with an equal share of this process's threads (or one worker
        per GPU). The hook is off while the model is pickled for the workers."""
        import torch

        started = time.perf_counter()
        device = self.model.device
        if torch.cuda.is_available():
            targets = [f"cuda:{i % torch.cuda.device_count()}" for i in range(self.processes)]
        else:
            targets = ["cpu"] * self.processes
        threads = max(1, torch.get_num_threads() // self.processes)
        previous = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(threads)  # read by each worker's torch at import
        hook, self.model._distributed_inference = self.model._distributed_inference, None
        try:
            self.pool = self.model.start_multi_process_pool(targets)
        finally:
            self.model._distributed_inference = hook
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        self.model.to(device)  # starting the pool moved the model to the CPU
        self.start_seconds = time.perf_counter() - started
        logger.info(
            "Encoding in %d processes (%s, %d thread(s) each; started in %.1f s)",
            self.processes,
            targets[0],
            threads,
            self.start_seconds,
        )
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.model.stop_multi_process_pool(self.pool)
            self.pool = None
            logger.info("Encoded %d texts in %d processes", self.texts, self.processes)


def _chunk_size(texts: int, processes: int) -> int:
    """Texts per chunk sent to a worker: about 4 chunks per worker (a slow chunk does not leave
    the others idle for long), at most 2,048 (bounded queue messages)."""
    return max(1, min(-(-texts // (4 * processes)), 2048))


def can_pool(model: Any) -> bool:
    """A Sentence Transformers model (an exported ONNX/OpenVINO folder encodes by itself)."""
    return hasattr(model, "start_multi_process_pool") and hasattr(model, "_multi_process")


@contextmanager
def encoding_processes(
    model: Any, processes: int, *, min_texts: int = MIN_TEXTS
) -> Iterator[PoolInference | None]:
    """Within the block, `model.encode*` calls of `min_texts` texts or more run in `processes`
    worker processes of this machine. Yields the hook (its counters), or None when nothing
    changes: one process, a model that cannot pool, or encodings already shared (torchrun)."""
    if processes <= 1 or not can_pool(model) or model._distributed_inference is not None:
        yield None
        return
    hook = PoolInference(model, processes, min_texts=min_texts)
    model._distributed_inference = hook
    try:
        yield hook
    finally:
        model._distributed_inference = None
        hook.close()


def run_processes() -> int:
    """The processes the run in progress encodes with (1 outside `for_run`)."""
    return _run_processes


@contextmanager
def for_run(processes: int) -> Iterator[None]:
    """For one run (`encode_processes`): every `distributed.shared_encoding` block (test
    evaluations, validation, mining) encodes in `processes` processes of this machine. Under
    torchrun the ranks already share the encodings: the setting is then left aside."""
    global _run_processes
    ranks = _launcher_world_size()
    if processes > 1 and ranks > 1:
        logger.warning(
            "encode_processes %d left aside: under a launcher the %d ranks share the encodings",
            processes,
            ranks,
        )
        processes = 1
    previous, _run_processes = _run_processes, max(1, int(processes))
    try:
        yield
    finally:
        _run_processes = previous


def _launcher_world_size() -> int:
    """The job's processes (as embedtune.distributed.world_size reads them; not imported from
    there: distributed imports this module)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1
