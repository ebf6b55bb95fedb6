"""Corpus search at scale: seconds and peak memory for 10k, 100k and 1M documents.

Random unit vectors (384 dims, float16 store as embedtune keeps a large corpus: memory-mapped
from 512 MiB), 1,000 queries, each a noisy copy of one document (its one relevant document, so
nDCG@10 is defined). Each (size, index) runs in its own process, so its peak RSS
(resource.getrusage) is its own: exact blocked search, FAISS flat, FAISS HNSW (its recall@100
against exact search measured on 200 queries, as a run does). The base model's encode
throughput at max_seq_length 256 (a sample of legal documents) extrapolates end-to-end time.

    nice -n 10 .venv/bin/python benchmarks/scale.py            # ~40 min on 2 busy shared cores
    nice -n 10 .venv/bin/python benchmarks/scale.py --sizes 10000 100000
    nice -n 10 .venv/bin/python benchmarks/scale.py --real   # + HNSW recall on real embeddings
    nice -n 10 .venv/bin/python benchmarks/scale.py --encode-workers   # docs/s, 1 and 2 processes

`--encode-workers`: the same encode sample by 1 process and by 2 worker processes
(embedtune.parallel_encoding: Sentence Transformers' multi-process pool, one thread each), and
by 1 process with 2 threads (what a run without encode_processes gets on 2 cores); docs/s of
each, the hours 1M documents would take, the load average around them (~2 min).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

from common import LEGAL, RESULTS, load, quiet, say, write_result

DIM = 384
QUERIES = 1000
NOISE = 4.0  # norm of the noise added to a query's document: its rank-1 odds fall with size
INDEXES = ("exact", "faiss-flat", "faiss-hnsw")
SIZES = (10_000, 100_000, 1_000_000)
ENCODE_SAMPLE = 128
SEQ = 256


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def search_worker(size: int, index: str, seed: int = 0) -> dict:
    """One (size, index): build the float16 store, search 1,000 queries at k=100."""
    import numpy as np
    import torch

    from embedtune.search import CorpusIndex, storage_kind
    from embedtune.search.store import allocate_store

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    store = allocate_store(size, DIM)
    for start in range(0, size, 65_536):
        block = rng.standard_normal((min(65_536, size - start), DIM), dtype=np.float32)
        store[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    relevant = rng.choice(size, QUERIES, replace=False)
    noise = rng.standard_normal((QUERIES, DIM), dtype=np.float32) * (NOISE / math.sqrt(DIM))
    queries = torch.from_numpy(store[relevant].astype(np.float32) + noise)
    corpus = torch.from_numpy(store)
    ids = [f"doc-{i:07d}" for i in range(size)]
    prepare = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    corpus_index = CorpusIndex(corpus, kind=index, corpus_ids=ids)
    build = time.perf_counter() - started
    started = time.perf_counter()
    found = corpus_index.search(queries, 100)
    search = time.perf_counter() - started
    cpu = time.process_time() - cpu
    hits = found.positions[:, :10] == relevant[:, None]
    gains = np.where(hits, 1 / np.log2(np.arange(2, 12)), 0.0).sum(axis=1)
    result = {
        "documents": size,
        "index": index,
        "storage": storage_kind(store),
        "prepare_seconds": round(prepare, 2),
        "build_seconds": round(build, 2),
        "search_seconds": round(search, 2),
        "seconds": round(build + search, 2),
        "cpu_seconds": round(cpu, 2),  # build + search: unlike wall time, not skewed by load
        "ndcg@10": round(float(gains.mean()), 4),
        "relevant_at_rank_1": round(float(hits[:, 0].mean()), 4),
    }
    if corpus_index.approximate:
        started = time.perf_counter()
        result["recall@100"] = round(corpus_index.recall_against_exact(queries, found), 4)
        result["recall_seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def encode_worker(processes: int = 1) -> dict:
    """The base model's documents per second at max_seq_length 256 (legal documents), encoded
    by this process or by `processes` worker processes (their start not timed: a warm-up call
    starts them)."""
    quiet()
    import torch

    from embedtune.config import default_base_model
    from embedtune.data.beir import load_beir
    from embedtune.parallel_encoding import encoding_processes
    from embedtune.training.model_loading import load_model

    texts = list(load_beir(LEGAL).corpus.values())[:ENCODE_SAMPLE]
    model = load_model(default_base_model(), max_seq_length=SEQ)
    threads = torch.get_num_threads()
    with encoding_processes(model, processes, min_texts=1) as pool:
        model.encode_document(texts[:8], batch_size=8)  # warm-up (and the workers' start)
        started = time.perf_counter()
        model.encode_document(texts, batch_size=32)
        seconds = time.perf_counter() - started
        start_seconds = pool.start_seconds if pool is not None else 0.0
    return {
        "documents": len(texts),
        "max_seq_length": SEQ,
        "processes": processes,
        "threads_per_process": max(1, threads // processes),
        "workers_start_seconds": round(start_seconds, 2),
        "seconds": round(seconds, 2),
        "docs_per_second": round(len(texts) / seconds, 2),
        "hours_for_1m_documents": round(1e6 * seconds / len(texts) / 3600, 1),
        "peak_rss_mb": peak_rss_mb(),  # this process; the workers share the weights
    }


def encode_workers() -> dict:
    """docs/s of 1 process and of 2 worker processes (one thread each), and of 1 process with
    2 threads; the load average before and after (the machine is shared: not measured alone)."""
    out: dict = {"load_average_start": load(), "runs": []}
    for processes, threads in ((1, 1), (2, 2), (1, 2)):
        run = run_child("--worker", "encode", "--processes", str(processes), threads=threads)
        out["runs"].append({"omp_threads": threads, **run})
        say("encode", out["runs"][-1])
    out["load_average_end"] = load()
    rates = {(r["processes"], r["omp_threads"]): r.get("docs_per_second") for r in out["runs"]}
    if rates.get((1, 1)) and rates.get((2, 2)):
        out["speedup_2_workers_vs_1"] = round(rates[(2, 2)] / rates[(1, 1)], 2)
    out["alone"] = False  # other engineers' tests ran on the same 2 cores: see the load average
    return out


def real_worker() -> dict:
    """The three indexes on real embeddings: legal_rag_synthetic's whole corpus, base model."""
    quiet()
    from embedtune.config import default_base_model
    from embedtune.data.beir import load_beir
    from embedtune.evaluation.retrieval import encode_task, evaluate_retrieval
    from embedtune.training.model_loading import load_model

    data = load_beir(LEGAL)
    model = load_model(default_base_model(), max_seq_length=128)
    encoded = encode_task(model, data)
    dims = [384, 128, 64]
    out: dict = {"documents": len(data.corpus), "queries": len(encoded.query_ids), "dims": dims}
    for index in INDEXES:
        started = time.perf_counter()
        evaluation = evaluate_retrieval(None, data, dims, encoded=encoded, index=index)
        out[index] = {
            "ndcg@10": {str(d): round(evaluation.by_dim[d].metrics["ndcg@10"], 4) for d in dims},
            "seconds": round(time.perf_counter() - started, 2),
            **({"recall@100": evaluation.search["recall@100"]} if index == "faiss-hnsw" else {}),
        }
    return out


def run_child(*args: str, timeout: float | None = None, threads: int = 1) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    try:
        done = subprocess.run(
            [sys.executable, __file__, *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s (shared machine)"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:], "returncode": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def scaling(runs: list[dict], key: str = "seconds") -> dict:
    """Per index: log(time ratio) / log(size ratio) between successive sizes (1.0 = linear)."""
    out: dict[str, list[float]] = {}
    for index in INDEXES:
        timed = sorted((r["documents"], r[key]) for r in runs if r["index"] == index and key in r)
        out[index] = [
            round(math.log(t2 / t1) / math.log(n2 / n1), 2)
            for (n1, t1), (n2, t2) in zip(timed, timed[1:])
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--indexes", nargs="+", default=list(INDEXES), choices=INDEXES)
    parser.add_argument("--worker", choices=("search", "encode", "real"), help=argparse.SUPPRESS)
    parser.add_argument("--real", action="store_true", help="only: the indexes on legal embeddings")
    parser.add_argument(
        "--encode-workers", action="store_true", help="only: docs/s of 1 and 2 processes"
    )
    parser.add_argument("--processes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--name", default="scale")
    parser.add_argument("--update", action="store_true", help="replace only these runs")
    parser.add_argument("--no-encode", action="store_true", help="keep the encode figures")
    parser.add_argument("--timeout", type=float, default=2400, help="seconds per run")
    args = parser.parse_args()
    if args.worker == "search":
        print(json.dumps(search_worker(args.size, args.index)))
        return
    if args.worker == "encode":
        print(json.dumps(encode_worker(args.processes)))
        return
    if args.worker == "real":
        print(json.dumps(real_worker()))
        return
    if args.encode_workers:  # only the encoders' docs/s, added to the results file
        path = RESULTS / f"{args.name}.json"
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload["encode_workers"] = encode_workers()
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        return
    if args.real:  # only the real-embedding check, added to the results file
        path = RESULTS / f"{args.name}.json"
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload["real_embeddings"] = run_child("--worker", "real")
        say("real", payload["real_embeddings"])
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        return
    started_load = load()
    runs: list[dict] = []
    encode: dict = {}
    previous = RESULTS / f"{args.name}.json"
    if args.update and previous.is_file():  # keep the other runs of the file, replace these
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        encode = earlier.get("encode", {}) if args.no_encode else {}
        asked = {(n, i) for n in args.sizes for i in args.indexes}
        runs = [r for r in earlier["runs"] if (r["documents"], r["index"]) not in asked]
    for index in args.indexes:  # exact and flat at every size first: HNSW at 1M builds longest
        for size in args.sizes:
            child = run_child(
                "--worker", "search", "--size", str(size), "--index", index, timeout=args.timeout
            )
            runs.append({"documents": size, "index": index, **child})
            say(runs[-1])
            write_result(args.name, _payload(encode, runs, started_load))
    if not args.no_encode:
        encode = run_child("--worker", "encode")
        say("encode", encode)
    runs.sort(key=lambda r: (INDEXES.index(r["index"]), r["documents"]))
    write_result(args.name, _payload(encode, runs, started_load))


def _payload(encode: dict, runs: list[dict], started_load: list[float]) -> dict:
    by_size: dict[int, dict[str, float]] = {}
    rate = encode.get("docs_per_second")
    for run in runs:
        if rate and "seconds" in run:
            run["encode_seconds_extrapolated"] = round(run["documents"] / rate, 1)
            run["end_to_end_seconds_extrapolated"] = round(
                run["documents"] / rate + run["seconds"], 1
            )
        if "ndcg@10" in run:
            by_size.setdefault(run["documents"], {})[run["index"]] = run["ndcg@10"]
    return {
        "settings": {"dim": DIM, "queries": QUERIES, "k": 100, "noise": NOISE, "threads": 1},
        "load_average_start": started_load,
        "load_average_end": load(),
        "encode": encode,
        "runs": runs,
        "time_scaling_exponent": scaling(runs),
        "cpu_time_scaling_exponent": scaling(runs, "cpu_seconds"),
        "exact_equals_faiss_flat_ndcg": {
            str(n): v.get("exact") == v.get("faiss-flat")
            for n, v in by_size.items()
            if "exact" in v and "faiss-flat" in v
        },
    }


if __name__ == "__main__":
    main()
