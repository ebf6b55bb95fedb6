"""Training throughput: embedtune's finetune() vs a bare Sentence Transformers trainer script, and
peak memory of MNRL vs cached MNRL at batch 64.

Throughput: the same pairs (legal_rag_synthetic subset), model, loss (Matryoshka around MNRL),
batch size, sequence length, sampler and learning-rate schedule. Samples/s is measured over the
training loop (first step to the end of the epoch, by a trainer callback) and over the whole call
(embedtune also evaluates, checkpoints and reloads the best epoch; the bare script does none of it).

Memory: each loss trains a few steps in its own process; its peak RSS (getrusage) is reported next
to the RSS after loading the model, so the difference is what training at batch 64 costs.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/train_throughput.py
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import LEGAL, load, quiet, say, write_result

DIMS = [384, 256, 128, 64]


class LoopTimer:
    """Trainer callback: wall time from the start of training to the end of the last epoch."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        timer = self

        class _Callback(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                timer.start = time.perf_counter()

            def on_epoch_end(self, args, state, control, **kwargs):
                timer.end = time.perf_counter()

        self.callback = _Callback()
        self.start = self.end = 0.0

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _throughput(n: int, loop_seconds: float, total_seconds: float, reported: float) -> dict:
    """Samples/s over the training loop alone and over the whole call."""
    return {
        "loop_s": round(loop_seconds, 2),
        "loop_samples_per_s": round(n / loop_seconds, 3),
        "total_s": round(total_seconds, 2),
        "total_samples_per_s": round(n / total_seconds, 3),
        "trainer_reported_samples_per_s": reported,
    }


def pairs_data(source: str, n: int, seed: int = 42):
    from embedtune.data.beir import load_beir

    data = load_beir(source)
    data.train = data.train.shuffle(seed=seed).select(range(min(n, len(data.train))))
    return data


def run_pipeline(data, args, workdir: str) -> dict:
    """embedtune.training.finetune with hard negatives off (the same pairs as the bare script)."""
    from embedtune.config import FinetuneConfig, default_base_model
    from embedtune.data.retrieval_data import RetrievalData
    from embedtune.training import finetune as finetune_module
    from embedtune.training.model_loading import load_model

    timer = LoopTimer()
    real_trainer = finetune_module.SentenceTransformerTrainer

    class TimedTrainer(real_trainer):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.add_callback(timer.callback)

    config = FinetuneConfig(
        max_seq_length=args.max_seq_length,
        batch_size=args.batch_size,
        epochs=1,
        hard_negatives=False,
        save_total_limit=1,
    )
    model = load_model(default_base_model(), max_seq_length=args.max_seq_length)
    # A small evaluation task: the per-epoch evaluation is part of the pipeline, kept cheap here.
    qids = sorted(data.queries)[:50]
    relevant = {q: data.relevant[q] for q in qids}
    docs = set().union(*relevant.values()) | set(sorted(data.corpus)[:150])
    small = RetrievalData(
        data.train,
        {q: data.queries[q] for q in qids},
        {d: data.corpus[d] for d in sorted(docs)},
        relevant,
    )
    finetune_module.SentenceTransformerTrainer = TimedTrainer
    try:
        t = time.perf_counter()
        summary = finetune_module.finetune(model, small, config, DIMS, workdir)
        total = time.perf_counter() - t
    finally:
        finetune_module.SentenceTransformerTrainer = real_trainer
    return _throughput(len(data.train), timer.seconds, total, summary.samples_per_second)


BARE_SCRIPT = """
# What a user would write with Sentence Transformers alone (same settings as embedtune's defaults).
model = SentenceTransformer(base_model)
model.max_seq_length = max_seq_length
loss = MatryoshkaLoss(model, MultipleNegativesRankingLoss(model), matryoshka_dims=dims)
args = SentenceTransformerTrainingArguments(
    output_dir=output_dir, num_train_epochs=1, per_device_train_batch_size=batch_size,
    learning_rate=learning_rate, warmup_steps=0.1, lr_scheduler_type="cosine", weight_decay=0.01,
    batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no", report_to="none",
    logging_steps=10, seed=42, data_seed=42,
)
trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss)
"""


def run_bare(data, args, workdir: str) -> dict:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import (
        MatryoshkaLoss,
        MultipleNegativesRankingLoss,
    )
    from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer
    from sentence_transformers.sentence_transformer.training_args import (
        SentenceTransformerTrainingArguments,
    )

    from embedtune.config import FinetuneConfig, default_base_model

    namespace = {
        "SentenceTransformer": SentenceTransformer,
        "BatchSamplers": BatchSamplers,
        "MatryoshkaLoss": MatryoshkaLoss,
        "MultipleNegativesRankingLoss": MultipleNegativesRankingLoss,
        "SentenceTransformerTrainer": SentenceTransformerTrainer,
        "SentenceTransformerTrainingArguments": SentenceTransformerTrainingArguments,
        "base_model": default_base_model(),
        "max_seq_length": args.max_seq_length,
        "dims": DIMS,
        "output_dir": workdir,
        "batch_size": args.batch_size,
        "learning_rate": FinetuneConfig().learning_rate,
        "train": data.train.select_columns(["query", "document"]),
    }
    exec(BARE_SCRIPT, namespace)
    trainer = namespace["trainer"]
    timer = LoopTimer()
    trainer.add_callback(timer.callback)
    t = time.perf_counter()
    output = trainer.train()
    total = time.perf_counter() - t
    reported = round(output.metrics["train_samples_per_second"], 3)
    return _throughput(len(data.train), timer.seconds, total, reported)


def memory_child(loss_name: str, args) -> None:
    """Runs in its own process: a few training steps, then prints its RSS figures as JSON."""
    quiet()
    import psutil
    from sentence_transformers.sentence_transformer.trainer import SentenceTransformerTrainer

    from embedtune.config import FinetuneConfig, default_base_model
    from embedtune.training.arguments import build_training_arguments
    from embedtune.training.losses import build_loss
    from embedtune.training.model_loading import load_model

    data = pairs_data(args.data, args.memory_batch_size * args.memory_steps)
    model = load_model(default_base_model(), max_seq_length=args.max_seq_length)
    config = FinetuneConfig(
        batch_size=args.memory_batch_size,
        mini_batch_size=args.mini_batch_size,
        max_seq_length=args.max_seq_length,
        loss=loss_name,
        extra={"eval_strategy": "no", "save_strategy": "no", "load_best_model_at_end": False},
    )
    rss_loaded = psutil.Process().memory_info().rss
    with tempfile.TemporaryDirectory() as tmp:
        trainer = SentenceTransformerTrainer(
            model=model,
            args=build_training_arguments(config, tmp, best_dim=384),
            train_dataset=data.train.select_columns(["query", "document"]),
            loss=build_loss(model, loss_name, DIMS, mini_batch_size=args.mini_batch_size),
        )
        t = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        "MEMORY_JSON "
        + json.dumps(
            {
                "loss": loss_name,
                "batch_size": args.memory_batch_size,
                "mini_batch_size": args.mini_batch_size if loss_name == "cached_mnrl" else None,
                "steps": args.memory_steps,
                "rss_after_load_mb": round(rss_loaded / 2**20),
                "peak_rss_mb": round(peak_kb / 1024),
                "training_extra_mb": round(peak_kb / 1024 - rss_loaded / 2**20),
                "seconds": round(seconds, 1),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(LEGAL))
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--memory-batch-size", type=int, default=64)
    parser.add_argument("--mini-batch-size", type=int, default=16)
    parser.add_argument("--memory-steps", type=int, default=2)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--memory-child", choices=["mnrl", "cached_mnrl"])
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args)
        return
    quiet()

    results: dict = {"load_average": {"start": load()}}
    if not args.skip_throughput:
        data = pairs_data(args.data, args.pairs)
        say(f"throughput: {len(data.train)} pairs, batch {args.batch_size}, load {load()}")
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            bare = run_bare(data, args, a)
            say("bare Sentence Transformers:", bare)
            pipeline = run_pipeline(data, args, b)
            say("embedtune finetune():", pipeline)
        overhead = 1 - pipeline["loop_samples_per_s"] / bare["loop_samples_per_s"]
        results["throughput"] = {
            "pairs": len(data.train),
            "batch_size": args.batch_size,
            "max_seq_length": args.max_seq_length,
            "bare_sentence_transformers": bare,
            "embedtune_finetune": pipeline,
            "loop_overhead": round(overhead, 4),
            "target_overhead_le_5pct": overhead <= 0.05,
        }
        results["load_average"]["after_throughput"] = load()
        print(f"\ntraining-loop overhead of embedtune vs bare: {overhead:+.1%}")

    memory = {}
    for loss_name in ("mnrl", "cached_mnrl"):
        say(f"memory: {loss_name} at batch {args.memory_batch_size}")
        child = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--memory-child", loss_name]
            + [f"--data={args.data}", f"--max-seq-length={args.max_seq_length}"]
            + [f"--memory-batch-size={args.memory_batch_size}"]
            + [f"--mini-batch-size={args.mini_batch_size}", f"--memory-steps={args.memory_steps}"],
            capture_output=True,
            text=True,
            check=True,
        )
        line = next(x for x in child.stdout.splitlines() if x.startswith("MEMORY_JSON "))
        memory[loss_name] = json.loads(line.split(" ", 1)[1])
        say(memory[loss_name])
    results["memory"] = memory
    results["load_average"]["end"] = load()
    write_result("train_throughput", results)


if __name__ == "__main__":
    main()
