"""Issue 23: does filtering synthetic queries help on human queries, and does the false-negative
flag catch hidden positives (and does dropping flagged negatives help)?

Data: ../shared/data/arguana_genq (BEIR ArguAna): training queries written by a T5 doc2query
model (GenQ), test queries written by people (arguments; BEIR's ignore-identical-ids rule). A
seeded reduced copy: --test-queries human test queries, --candidates GenQ training pairs, corpus
cut to --max-corpus documents (the sampled pairs' and test queries' documents first).

A. Query filter: the same N (--pairs) training pairs, first N of the seeded candidate order,
   unfiltered vs after the filter (copy, near duplicate, round trip top --top-k under the base
   model); same steps (N / batch x epochs), same seed; nDCG@10 of each on the human test queries,
   paired bootstrap (embedtune.evaluation.bootstrap) of filtered - unfiltered.
B. False-negative flag: copies of --plant positives (an exact duplicate, a sentence-shuffled
   copy, a copy without its last sentence, in turn) are added to the mining pool under new ids,
   as if unlabelled. Mining (default window and relative margin, and without a margin) then
   picks some of them as negatives; recall = planted copies among the mined negatives that the
   flag catches, precision = flagged negatives that are planted copies (a lower bound: ArguAna
   has unlabelled near-duplicate arguments of its own), per margin.
C. Dropping flagged negatives: the unfiltered N pairs mined from the pool with the planted
   copies, flagged negatives kept (as before issue 23) vs dropped (replaced by the next
   candidate), and the same on the plain pool; paired bootstrap of drop - keep.

Plain training (no validation selection: a fixed number of steps), batch 32, lr --lr, 2 epochs,
max_seq_length 128, one mined negative. The CPU is shared: load averages are recorded, timings
are not claims.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/data_quality.py > benchmarks/results/data_quality.log 2>&1
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from common import LEGAL, SHARED_DATA, load, print_ndcg_tables, quiet, say, write_result
from quality import reduced_beir

ARGUANA = SHARED_DATA / "arguana_genq"
MARGINS = (0.0, 0.02, 0.05, 0.1)


def planted_copy(text: str, kind: int) -> str:
    """A hidden positive: an exact duplicate (0), the sentences shuffled (1), or all but the last
    sentence (2); texts of one sentence are duplicated."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
    if kind == 0 or len(sentences) < 2:
        return text.strip() + " "
    if kind == 1:
        return " ".join(sentences[1:] + sentences[:1])
    return " ".join(sentences[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--test-queries", type=int, default=300)
    parser.add_argument("--max-corpus", type=int, default=2000)
    parser.add_argument("--plant", type=int, default=100, help="positives given a hidden copy")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--margin", type=float, default=0.05, help="flag margin of part C")
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--parts", default="A,B,C", help="N: part C on the natural pool only")
    parser.add_argument("--dataset", default="arguana", choices=("arguana", "legal"))
    parser.add_argument("--name", default="data_quality")
    args = parser.parse_args()
    quiet()

    from datasets import Dataset

    from embedtune.config import load_config
    from embedtune.data.query_filter import QueryFilterSettings, filter_queries
    from embedtune.evaluation.bootstrap import compare_tables, per_query_table
    from embedtune.evaluation.embedding_cache import DocumentEmbeddings
    from embedtune.training.false_negatives import find_false_negatives, screen_false_negatives
    from embedtune.training.finetune import finetune
    from embedtune.training.hard_negatives import add_hard_negatives
    from embedtune.workflow import evaluate, load_base_model, load_data

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="embedtune-data-quality-"))
    source = ARGUANA if args.dataset == "arguana" else LEGAL
    folder = reduced_beir(
        source,
        workdir / args.dataset,
        test_queries=args.test_queries,
        train_pairs=args.candidates,
        corpus=args.max_corpus,
        seed=args.seed,
    )
    settings = {
        "data": str(folder),
        "ignore_identical_ids": args.dataset == "arguana",  # BEIR's rule for ArguAna
        "max_seq_length": 128,
        "learning_rate": args.lr,
        "epochs": 2,
        "batch_size": 32,
        "seed": args.seed,
        "baselines": False,
        "output": str(workdir / "out"),
    }
    config = load_config(**settings)
    data = load_data(config)
    base = load_base_model(config)
    corpus = list(data.corpus.values())
    cache = DocumentEmbeddings(base, batch_size=config.eval_batch_size)
    cache.embed(corpus)  # one encoding of the pool serves the filter, mining and the flag
    say(f"data {data.summary()}; load {load()}")
    order = list(range(len(data.train)))
    random.Random(args.seed).shuffle(order)
    candidates = data.train.select(order)
    unfiltered = candidates.select(range(min(args.pairs, len(candidates))))

    evaluations: dict[str, Any] = {"base": evaluate(base, data, config)}
    runs: dict[str, Any] = {}
    out: dict[str, Any] = {
        "settings": {**vars(args), **{k: v for k, v in settings.items() if k != "output"}},
        "data": data.summary(),
        "load_start": load(),
    }

    def mine(train: Dataset, pool: list[str], *, spare: int, margin: float | None = 0.05):
        mined, report = add_hard_negatives(
            train,
            base,
            num_negatives=1 + spare,
            corpus=pool,
            relative_margin=margin,
            batch_size=config.eval_batch_size,
            seed=args.seed,
            embeddings=cache,
        )
        return mined, report.as_dict()

    def train_and_score(name: str, train: Dataset, note: dict[str, Any]) -> None:
        say(f"{name}: training on {len(train)} pairs (load {load()})")
        t = time.perf_counter()
        model = load_base_model(config)
        summary = finetune(model, train, None, config, workdir / name)
        evaluations[name] = evaluate(model, data, config)
        runs[name] = {
            **note,
            "pairs": len(train),
            "optimizer_steps": summary.optimizer_steps,
            "seconds": round(time.perf_counter() - t, 1),
            "load": load(),
        }
        say(f"{name}: ndcg@10 {_ndcg(evaluations[name], config.dims)} ({runs[name]})")
        del model
        gc.collect()
        shutil.rmtree(workdir / name, ignore_errors=True)

    def summarise() -> None:
        per_query = per_query_table(evaluations)
        pairs_compared = [("filtered", "unfiltered"), ("drop", "unfiltered")]
        pairs_compared += [("planted_drop", "planted_keep")]
        comparisons = {
            f"{a}_vs_{b}": compare_tables(per_query, base=b, candidate=a)
            for a, b in pairs_compared
            if a in evaluations and b in evaluations
        }
        comparisons.update(
            {
                f"{r}_vs_base": compare_tables(per_query, base="base", candidate=r)
                for r in evaluations
                if r != "base"
            }
        )
        ndcg = {r: _ndcg(e, config.dims) for r, e in evaluations.items()}
        print_ndcg_tables(config.dims, ndcg, comparisons)
        write_result(
            args.name,
            {
                **out,
                "ndcg@10": ndcg,
                "comparisons": comparisons,
                "runs": runs,
                "load_end": load(),
                "total_seconds": round(time.perf_counter() - started, 1),
            },
        )

    parts = set(args.parts.split(","))
    try:
        if "A" in parts:
            outcome = filter_queries(
                candidates,
                base,
                settings=QueryFilterSettings(
                    top_k=args.top_k, rules=("copy", "near_duplicate", "round_trip")
                ),
                corpus=corpus,
                encode_documents=cache.embed,
                batch_size=config.eval_batch_size,
            )
            filtered = outcome.kept.select(range(min(args.pairs, len(outcome.kept))))
            out["filter"] = outcome.summary(examples=3)
            say(f"filter: {out['filter']['dropped']} kept {len(outcome.kept)} of {len(candidates)}")
            if len(filtered) < len(unfiltered):
                say(f"only {len(filtered)} pairs pass the filter: comparing {len(filtered)} each")
                unfiltered = unfiltered.select(range(len(filtered)))
            for name, pairs in (("unfiltered", unfiltered), ("filtered", filtered)):
                mined, report = mine(pairs, corpus, spare=0)
                train_and_score(name, mined, {"mining": report})
        if ("C" in parts or "N" in parts) and "unfiltered" in evaluations:  # N: natural pool only
            mined, report = mine(unfiltered, corpus, spare=1)
            screened, block, _ = screen_false_negatives(
                mined, base, num_negatives=1, margin=args.margin, pool=corpus,
                encode_documents=cache.embed, seed=args.seed,
            )  # fmt: skip
            out["drop_natural"] = {k: v for k, v in block.items() if k != "examples"}
            out["drop_natural_examples"] = block["examples"][:3]
            train_and_score("drop", screened, {"mining": report})
        if "B" in parts or "C" in parts:
            rng = random.Random(args.seed + 1)
            chosen = rng.sample(range(len(unfiltered)), min(args.plant, len(unfiltered)))
            planted = {}
            for n, row in enumerate(chosen):
                positive = unfiltered[row]["document"]
                planted[planted_copy(positive, n % 3)] = positive
            pool = corpus + [t for t in planted if t not in set(corpus)]
            flag_table = []
            for relative in (0.05, None):
                mined, _ = mine(unfiltered, pool, spare=0, margin=relative)
                negatives = mined["negative"]
                hidden = [
                    i
                    for i, n in enumerate(negatives)
                    if n in planted and planted[n] == mined[i]["document"]
                ]
                for margin in MARGINS:
                    flags, checked, _ = find_false_negatives(
                        mined, base, margin=margin, encode_documents=cache.embed
                    )
                    rows = {f.row for f in flags}
                    caught = sum(1 for i in hidden if i in rows)
                    flag_table.append(
                        {
                            "relative_margin_in_mining": relative,
                            "flag_margin": margin,
                            "negatives": checked,
                            "hidden_positives_mined": len(hidden),
                            "flagged": len(rows),
                            "caught": caught,
                            "recall": round(caught / len(hidden), 4) if hidden else None,
                            "precision": round(caught / len(rows), 4) if rows else None,
                        }
                    )
                    say(f"flag: {flag_table[-1]}")
            out["flag"] = {"planted": len(planted), "table": flag_table, "cross_encoder": None}
            summarise()
        if "C" in parts:
            for action in ("keep", "drop"):
                mined, report = mine(unfiltered, pool, spare=1 if action == "drop" else 0)
                screened, block, _ = screen_false_negatives(
                    mined, base, num_negatives=1, margin=args.margin, action=action, pool=pool,
                    encode_documents=cache.embed, seed=args.seed,
                )  # fmt: skip
                out[f"planted_{action}"] = {k: v for k, v in block.items() if k != "examples"}
                hidden = sum(1 for n in screened["negative"] if n in planted)
                out[f"planted_{action}"]["planted_copies_left_as_negatives"] = hidden
                train_and_score(f"planted_{action}", screened, {"mining": report})
    finally:
        summarise()
        shutil.rmtree(workdir, ignore_errors=True)


def _ndcg(evaluation, dims: list[int]) -> dict[str, float]:
    return {str(d): round(evaluation.by_dim[d].metrics["ndcg@10"], 4) for d in dims}


if __name__ == "__main__":
    main()
