"""Cross-device negatives: in a real 2-process gloo group, each rank's loss scores its B queries
against 2*B documents when gathering (like one process with batch 2*B), and against its own B
without. The loss is embedtune's own (`build_loss`); the test only records the shape of the
similarity matrices the ranking loss computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from embedtune.training.losses import build_loss

BATCH = 3
DIMS = [384, 64]
QUERIES = ["how do I cache steps", "what is a stack", "how to run on kubernetes",
           "where are artifacts stored", "how to log metadata", "what is a pipeline"]  # fmt: skip
DOCUMENTS = ["Step caching reuses outputs.", "A stack is a set of components.",
             "The Kubernetes orchestrator runs steps in pods.", "Artifacts live in the store.",
             "log_metadata attaches metadata.", "A pipeline is a graph of steps."]  # fmt: skip


def _worker(rank: int, folder: str, model) -> None:
    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=2
    )
    torch.manual_seed(0)
    mine = slice(rank * BATCH, (rank + 1) * BATCH)  # each rank its own B pairs
    features = [model.tokenize(QUERIES[mine]), model.tokenize(DOCUMENTS[mine])]
    seen: dict[str, list[list[int]]] = {}
    for gather in (True, False):
        loss = build_loss(model, "mnrl", DIMS, gather_across_devices=gather)
        inner = loss.loss
        shapes: list[list[int]] = []
        original = inner.similarity_fct

        def recording(a, b, original=original, shapes=shapes):
            shapes.append([a.shape[0], b.shape[0]])  # (this rank's queries, candidates)
            return original(a, b)

        inner.similarity_fct = recording
        value = loss(features, torch.zeros(BATCH))
        value.backward()  # gradients flow back through the gathered embeddings
        assert torch.isfinite(value), value
        seen["gather" if gather else "local"] = shapes
        model.zero_grad()
    Path(folder, f"rank{rank}.json").write_text(json.dumps(seen))
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.slow
def test_gathering_doubles_the_in_batch_candidates(tmp_path, short_model):
    # fork: the ranks inherit the loaded model and libraries (spawning re-imports them: slow)
    mp.start_processes(
        _worker, args=(str(tmp_path), short_model), nprocs=2, join=True, start_method="fork"
    )
    for rank in (0, 1):
        seen = json.loads((tmp_path / f"rank{rank}.json").read_text())
        # one similarity matrix per Matryoshka dim: B queries of this rank against ...
        assert seen["gather"] == [[BATCH, 2 * BATCH]] * len(DIMS)  # ... both ranks' documents
        assert seen["local"] == [[BATCH, BATCH]] * len(DIMS)  # ... its own documents only
