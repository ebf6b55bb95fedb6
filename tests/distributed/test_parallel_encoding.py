"""Corpus encoding across worker processes of one machine (embedtune.parallel_encoding): the
test evaluation, hard-negative mining, the deployment matrix and the streamed float16 store
encode through Sentence Transformers' multi-process pool (2 workers, real model at
max_seq_length 32) and score exactly as one process does."""

from __future__ import annotations

import os

import pytest
import torch

from embedtune import distributed
from embedtune.data.retrieval_data import NEGATIVE
from embedtune.deployment.matrix import deployment_matrix
from embedtune.evaluation.retrieval import encode_task, evaluate_retrieval
from embedtune.parallel_encoding import PoolInference, encoding_processes, for_run, run_processes
from embedtune.search import encode_corpus, storage_kind
from embedtune.training.hard_negatives import add_hard_negatives

DIMS = [384, 64]
QUALITY = ("dim", "precision", "ndcg@10", "recall@10", "recall@100")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _quality(matrix: dict) -> list[dict]:
    return [{k: cell.get(k) for k in QUALITY} for cell in matrix["cells"]]


def test_evaluation_mining_and_deployment_encode_in_two_processes_as_one(
    short_model, legal, legal_encoded
):
    train = legal.train.select(range(16))
    corpus = list(legal.corpus.values())
    pool_texts = corpus[:48]  # mining's candidate pool: the training documents and these
    alone, _ = add_hard_negatives(train, short_model, corpus=pool_texts, seed=7)
    with encoding_processes(short_model, 2, min_texts=16) as pool:
        encoded = encode_task(short_model, legal)  # the test evaluation's (and matrix's) encoding
        mined, _ = add_hard_negatives(train, short_model, corpus=pool_texts, seed=7)
        streamed = encode_corpus(  # the bounded-memory path of a large corpus, scaled down
            short_model, corpus[:96], stream_documents=64, chunk_documents=32
        )
        workers = {worker.pid for worker in pool.pool["processes"]}
        assert len(workers) == 2 and os.getpid() not in workers
    assert pool.texts >= len(corpus) + len(encoded.query_ids) + len(train) + 96
    assert pool.pool is None and not any(_alive(pid) for pid in workers)  # gone with the block
    assert short_model._distributed_inference is None

    torch.testing.assert_close(encoded.corpus, legal_encoded.corpus, atol=1e-5, rtol=0)
    torch.testing.assert_close(encoded.queries, legal_encoded.queries, atol=1e-5, rtol=0)
    one = evaluate_retrieval(None, legal, DIMS, encoded=legal_encoded).to_dict()["per_query"]
    two = evaluate_retrieval(None, legal, DIMS, encoded=encoded).to_dict()["per_query"]
    assert two == one  # every query's every metric, at every dim
    assert _quality(deployment_matrix(None, legal, DIMS, encoded=encoded)) == _quality(
        deployment_matrix(None, legal, DIMS, encoded=legal_encoded)
    )
    assert mined[NEGATIVE] == alone[NEGATIVE]
    assert storage_kind(streamed) == "float16"
    torch.testing.assert_close(streamed.float(), legal_encoded.corpus[:96], atol=2e-3, rtol=0)


def test_a_run_setting_reaches_every_shared_encoding_block(short_model):
    """`for_run(2)` (what encode_processes sets) makes each distributed.shared_encoding block,
    the test evaluations, validation and mining, encode through a pool; the pool starts only
    for a large call (none here) and the hook goes with the block."""
    assert run_processes() == 1
    with for_run(2):
        assert run_processes() == 2
        with distributed.shared_encoding(short_model) as runs_here:
            assert runs_here
            hook = short_model._distributed_inference
            assert isinstance(hook, PoolInference) and hook.processes == 2
            short_model.encode_document(["a short text"])  # under min_texts: encoded here
            assert hook.pool is None and hook.texts == 0
        assert short_model._distributed_inference is None
    assert run_processes() == 1
    with encoding_processes(short_model, 1) as none:  # one process: nothing changes
        assert none is None and short_model._distributed_inference is None


def test_the_setting_is_checked_and_offered_to_finetune_and_evaluate():
    from embedtune.cli_parser import build_parser
    from embedtune.config import FinetuneConfig
    from embedtune.errors import ConfigError

    with pytest.raises(ConfigError, match=r"encode_processes must be at least 1, got 0"):
        FinetuneConfig(encode_processes=0)
    parser = build_parser()
    for command in ("finetune", "evaluate"):
        extra = ["--model", "m"] if command == "evaluate" else []
        parsed = parser.parse_args([command, *extra, "--encode-processes", "2"])
        assert parsed.encode_processes == 2
