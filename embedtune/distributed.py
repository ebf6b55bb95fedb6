"""One job across N processes (`torchrun` / `accelerate launch`): who we are, and rank 0's word.

The launchers set RANK, WORLD_SIZE and LOCAL_RANK; `init()` starts the process group through
Accelerate's `PartialState` (gloo on CPU, nccl on CUDA), the same state the Hugging Face Trainer
then uses for DDP. Without a launcher every helper is a no-op: rank 0 of a world of 1.

Work that needs only one answer (base evaluation, hard-negative mining, the test evaluation) runs
in `shared_encoding`: rank 0 runs the code, and every `model.encode` inside it is sharded across
all ranks by Sentence Transformers' own `distributed_evaluation`; `broadcast` then hands rank 0's
result to the others. Only rank 0 writes outputs.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def is_initialized() -> bool:
    """The process group is up (it needs torch: not imported yet means not started, and the CLI
    stays quick to answer --help)."""
    if "torch" not in sys.modules:
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def _dist() -> Any:
    import torch.distributed as dist

    return dist


def world_size() -> int:
    """Processes in the job: the process group's size once started, else the launcher's."""
    return _dist().get_world_size() if is_initialized() else _env_int("WORLD_SIZE", 1)


def rank() -> int:
    """This process's global rank (0 on its own)."""
    return _dist().get_rank() if is_initialized() else _env_int("RANK", 0)


def local_rank() -> int:
    """This process's rank on its machine (its GPU index under torchrun)."""
    return _env_int("LOCAL_RANK", 0)


def is_distributed() -> bool:
    return world_size() > 1


def is_main_process() -> bool:
    return rank() == 0


def backend() -> str | None:
    """The process group's backend ("gloo", "nccl"), or None on one process."""
    if is_initialized():
        return str(_dist().get_backend())
    if is_distributed():
        import torch

        return "nccl" if torch.cuda.is_available() else "gloo"
    return None


def init(timeout_seconds: float = 1800) -> None:
    """Start the process group when a launcher asked for several processes (idempotent).
    `timeout_seconds`: how long a rank waits for the others at a collective step (the Trainer's
    `ddp_timeout`, which does not apply once the group exists)."""
    if not is_distributed() or is_initialized():
        return
    from datetime import timedelta

    import torch
    from accelerate import PartialState

    state = PartialState(
        cpu=not torch.cuda.is_available(), timeout=timedelta(seconds=timeout_seconds)
    )
    logger.info(
        "Distributed: rank %d of %d (local rank %d), backend %s",
        state.process_index,
        state.num_processes,
        state.local_process_index,
        state.backend,
    )


def barrier() -> None:
    if is_initialized() and world_size() > 1:
        _dist().barrier()


def broadcast(value: T) -> T:
    """Rank 0's `value` on every rank (any picklable object)."""
    if not (is_initialized() and world_size() > 1):
        return value
    box = [value if is_main_process() else None]
    _dist().broadcast_object_list(box, src=0)
    return box[0]


def check_same(value: Any, what: str) -> None:
    """Raise if the ranks disagree on `value` (a decision every rank must make alike)."""
    if not (is_initialized() and world_size() > 1):
        return
    values: list[Any] = [None] * world_size()
    _dist().all_gather_object(values, value)
    if any(v != values[0] for v in values):
        raise RuntimeError(f"the ranks disagree on {what}: {values}")


@contextmanager
def main_process_first() -> Iterator[None]:
    """Rank 0 runs the block first (e.g. cleans a folder), then the other ranks."""
    if not is_main_process():
        barrier()
    try:
        yield
    finally:
        if is_main_process():
            barrier()


@contextmanager
def shared_encoding(model: Any) -> Iterator[bool]:
    """Yields True on rank 0, which runs the block; every `model.encode` there is sharded across
    all ranks (the other ranks serve encodings until the block ends, then get False).

    On one process: True; a run with `encode_processes` N > 1 (embedtune.parallel_encoding)
    encodes its large calls in N processes of this machine."""
    if not (is_initialized() and world_size() > 1):
        from embedtune.parallel_encoding import encoding_processes, run_processes

        with encoding_processes(model, run_processes()):
            yield True
        return
    from sentence_transformers.util.distributed import distributed_evaluation

    with distributed_evaluation(model) as runs_here:
        yield runs_here


def on_main(model: Any, work: Callable[[], T]) -> T:
    """`work()` run once on rank 0 with encodings sharded across the ranks; its result on all."""
    with shared_encoding(model) as runs_here:
        result = work() if runs_here else None
    return broadcast(result)  # type: ignore[return-value]


def portable(dataset: Any) -> Any:
    """A datasets.Dataset that pickles with its rows (for `broadcast`): one read from cache files
    would pickle only their paths, which another machine lacks."""
    if not getattr(dataset, "cache_files", None):
        return dataset
    from datasets import Dataset

    return Dataset.from_dict(dataset.to_dict(), features=dataset.features)


def layout(per_device_batch_size: int, gradient_accumulation_steps: int = 1) -> dict[str, Any]:
    """results.json "training": processes, batch per device and per optimizer step, backend."""
    size = world_size()
    return {
        "world_size": size,
        "per_device_batch_size": per_device_batch_size,
        "global_batch_size": per_device_batch_size * size * gradient_accumulation_steps,
        "distributed_backend": backend(),
    }
