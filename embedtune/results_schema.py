"""results.json, schema version 2: its structure, defined once, and `validate_results`.

Every reader (chart, HTML report, model card, CLI summary, ZenML metadata) goes through
`embedtune.reporting.results_view.ResultsView`, which reads these TypedDicts; every writer builds
the blocks below. docs/results.md documents the file with an example (a test validates it).

Two kinds of run write results.json: "finetune" (base vs finetuned, selection, verdict) and
"evaluate" (one model). Keys not listed here are allowed (e.g. extra counts under "data"), so a
newer writer does not break an older reader; listed keys must have the listed types.
"""

# No `from __future__ import annotations` here: Required[...] must be a real object at class
# creation for TypedDict to tell required keys from optional ones.
import math
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from typing_extensions import Required, TypedDict, is_typeddict

from embedtune.errors import EmbedtuneError

SCHEMA_VERSION = 2
PRIMARY_METRIC = "ndcg@10"
# How `learning_rate: auto` breaks a tie on validation (training.sweep does it, the report says it)
LEARNING_RATE_TIE_RULE = "a tie goes to the lower rate"
FINETUNE, EVALUATE = "finetune", "evaluate"
FINETUNED, BASE, MODEL = "finetuned", "base", "model"  # model labels (score blocks)
WIN, LOSS, TIE = "win", "loss", "tie"

# The files of an output folder, by role.
OUTPUT_FILES = {
    "results": "results.json",
    "report": "report.html",
    "chart": "evaluation.png",
    "per_query": "per_query.json",
}
MODEL_DIR = "model"
EXPORT_RECORD = "embedtune_export.json"  # in OUTPUT/model-<format>: what was exported, how
# Written only when asked (--deployment); results.json then holds its "deployment" summary.
DEPLOYMENT_FILE = "deployment.json"

# One model's mean scores at one dim: every metric of embedtune.evaluation.metrics.
MetricScores = TypedDict(
    "MetricScores",
    {
        "ndcg@10": float,
        "mrr@10": float,
        "map@100": float,
        "recall@1": float,
        "recall@5": float,
        "recall@10": float,
        "recall@100": float,
    },
)
ScoresByDim = dict[str, MetricScores]  # "<dim>" -> scores

# The paired-bootstrap comparison at one dim (finetuned - base).
ComparisonEntry = TypedDict(
    "ComparisonEntry",
    {"ndcg@10_delta": float, "ci95": tuple[float, float], "significant": bool},
)
_DELTA_SUFFIX, _INTERVAL, _SIGNIFICANT = "_delta", "ci95", "significant"


class Protocol(TypedDict):
    split: Literal["given", "by-query", "by-document"]
    description: str
    test_queries: int
    test_queries_with_trained_documents: int
    dropped_train_pairs: int
    dropped_share: float
    ignore_identical_ids: bool


class CurvePoint(TypedDict):
    step: int
    epoch: float
    score: float


class Selection(TypedDict):
    selected: Literal["finetuned", "base"]
    chosen_on: str
    validation_queries: int
    validation_corpus: int
    metric: str  # e.g. "ndcg@10@384"
    base_score: float | None  # None: no validation split (too few pairs)
    best_score: float | None
    best_step: int | None
    stopped_early: bool
    curve: list[CurvePoint]  # the base model is step 0


class Verdict(TypedDict):
    selected: Literal["finetuned", "base"]
    improved_on_validation: bool
    test: dict[str, Literal["win", "loss", "tie"]]  # "<dim>" -> outcome on the test queries
    message: str


class DataSummary(TypedDict, total=False):
    train_pairs: int
    test_queries: Required[int]
    corpus: Required[int]
    source: str  # what --data named, or the built-in set
    layout: str  # how the columns were read (explicit, tutorial, distilabel, beir, ...)


class Hardware(TypedDict, total=False):
    accelerator: Required[str]
    platform: str
    cpu_count: int | None
    memory_gb: float
    gpu: str


class Provenance(TypedDict, total=False):
    seed: Required[int]
    data_fingerprint: Required[str]
    git_commit: Required[str | None]
    git_dirty: Required[bool | None]
    packages: Required[dict[str, str | None]]
    command_line: str


class LoraAdapter(TypedDict, total=False):
    """training.adapter of a LoRA run: the adapter trained, merged into model/, saved unmerged."""

    rank: Required[int]
    alpha: Required[float]
    dropout: Required[float]
    target_modules: Required[list[str]]
    trainable_parameters: Required[int]
    total_parameters: Required[int]
    saved_to: str  # model/adapter, relative to the output folder


class QueryFilterBlock(TypedDict):
    """--filter: the query filter on the training pairs (embedtune/data/query_filter.py)."""

    rows: int  # training pairs before the filter
    kept: int
    dropped: dict[str, int]  # rule -> pairs: copy, near_duplicate, round_trip, judge
    settings: dict[str, Any]  # top_k, copy_fraction, duplicate_similarity, rules, cross_encoder
    examples: dict[str, list[dict[str, str]]]  # rule -> a few dropped (query, document, detail)


class FalseNegativesBlock(TypedDict, total=False):
    """Mined negatives flagged as probable positives (embedtune/training/false_negatives.py)."""

    rule: Required[str]  # the rule in words, as applied
    action: Required[Literal["drop", "keep"]]
    margin: Required[float]  # flagged when base score >= positive's - margin
    cross_encoder: Required[bool]  # --rescore-model also judged relevance
    checked: Required[int]  # mined negatives looked at (pairs x num_negatives)
    flagged: Required[int]
    dropped: Required[int]  # replaced in training (action drop)
    flagged_by_margin: int
    flagged_by_cross_encoder: int
    confirmed_kept: int  # negatives a reviewer confirmed (never flagged)
    replaced_with_mined: int  # by the pair's next unflagged mined candidate
    replaced_with_random: int  # by a random document that is no positive of the query
    examples: Required[list[dict[str, Any]]]  # the most doubtful: texts (clipped) and scores
    review: dict[str, Any]  # --review-negatives: dataset, pulled answers, pushed triples


class HardNegativeMining(TypedDict, total=False):
    pairs: Required[int]  # negatives asked for (pairs x negatives mined per pair)
    mined: Required[int]
    random_fallback: Required[int]
    seconds: float
    candidates_asked: int  # with spares: pairs x (num_negatives + spare); mined counts these
    spare_candidates_per_pair: int  # mined beyond num_negatives to replace false negatives
    false_negatives: FalseNegativesBlock  # absent under --false-negatives off


class Training(TypedDict, total=False):
    """The run's settings (FinetuneConfig.public_dict) plus the training summary."""

    loss: Required[str]
    epochs: Required[int]
    batch_size: Required[int]
    learning_rate: Required[float]
    max_seq_length: Required[int]
    gradient_accumulation_steps: int
    warmup_ratio: float
    hard_negatives: bool
    num_negatives: int
    optimizer_steps: int
    train_seconds: float
    samples_per_second: float
    hard_negative_mining: HardNegativeMining | None
    query_filter: QueryFilterBlock | None  # --filter (docs/data-quality.md)
    push_to_hub: str | None
    world_size: int  # processes that trained (torchrun / accelerate launch), 1 on its own
    per_device_batch_size: int
    global_batch_size: int  # pairs per optimizer step: per device x processes x accumulation
    distributed_backend: str | None  # "gloo" or "nccl"; None: one process
    trainable_parameters: int | None  # under LoRA the adapter's (embedtune/training/lora.py)
    total_parameters: int | None
    adapter: LoraAdapter | None  # LoRA only


class PushToHub(TypedDict):
    repo: str
    pushed: bool
    error: str | None


class QueryExample(TypedDict):
    query_id: str
    query: str
    expected: list[str]  # the relevant documents' texts (clipped)
    score: float  # the candidate's per-query score
    reference_score: float | None  # the base model's, in a finetune run
    delta: float | None


class PerQueryDim(TypedDict, total=False):
    improved: int
    unchanged: int
    worse: int
    worst: Required[list[QueryExample]]  # largest regressions (or lowest scores: evaluate)
    best: Required[list[QueryExample]]  # largest gains (or highest scores: evaluate)


class PerQueryView(TypedDict):
    metric: str
    candidate: str
    reference: str | None
    dims: dict[str, PerQueryDim]


class Bm25Block(TypedDict):
    settings: dict[str, Any]  # implementation, k1, b, tokenizer, stopwords, stemmer
    metrics: MetricScores  # BM25 has no dimension: one set of scores
    seconds: float


class HybridBlock(TypedDict):
    settings: dict[str, Any]  # reciprocal rank fusion: k, depth, the dense model
    metrics: ScoresByDim  # one fusion per dense dim
    vs_dense: dict[str, ComparisonEntry]  # hybrid - dense model
    vs_bm25: dict[str, ComparisonEntry]  # hybrid - BM25


class BaselineVerdict(TypedDict):
    dim: int
    outcome: Literal["win", "loss", "tie"]  # win: the dense model beats BM25
    message: str


class BaselinesBlock(TypedDict):
    """BM25 and the hybrid on the same test queries (embedtune.baselines.block.baseline_block)."""

    dense: Literal["finetuned", "base", "model"]  # the score block they are compared with
    test_queries: int
    bm25: Bm25Block
    vs_bm25: dict[str, ComparisonEntry]  # dense model - BM25, per dim
    hybrid: HybridBlock | None  # None: no dense rankings were available
    verdict: BaselineVerdict


# One cell of the deployment matrix, as the summary names it.
DeploymentCell = TypedDict(
    "DeploymentCell",
    {
        "dim": int,
        "precision": Literal["float32", "int8", "binary"],
        "bytes_per_document": int,
        "ndcg@10": float,
    },
)
RecommendedCell = TypedDict(
    "RecommendedCell",
    {
        "dim": int,
        "precision": Literal["float32", "int8", "binary"],
        "bytes_per_document": int,
        "ndcg@10": float,
        "reason": str,
    },
)


class DeploymentSummary(TypedDict):
    """What results.json says of OUTPUT/deployment.json (the whole matrix is in that file)."""

    file: str  # DEPLOYMENT_FILE, beside results.json
    model: Literal["finetuned", "base", "model"]  # whose embeddings were quantized
    metric: str
    reference: dict[str, Any]  # {"dim", "precision"}: float32 at the largest dim
    best: DeploymentCell
    recommended: RecommendedCell
    rule: str
    cells: int


class GuardBlock(TypedDict):
    """--guard-data: the base and the saved model on an out-of-domain source (embedtune.guard)."""

    source: str
    test_queries: int
    corpus: int
    base: ScoresByDim
    finetuned: ScoresByDim  # the saved model (merged, or the base when it was kept)
    comparison: dict[str, ComparisonEntry]  # saved - base on the guard
    tolerance: float  # a drop at best_dim within this (or not significant) is acceptable
    within_tolerance: bool
    best_dim: int


class MergePoint(TypedDict):
    base_weight: float
    validation: float | None  # nDCG@10 at best_dim on the validation queries
    guard: float | None  # nDCG@10 at best_dim on the guard (None: not scored)
    guard_change: float | None  # vs the base model on the guard
    guard_ci95: tuple[float, float] | None
    guard_ok: bool | None


class MergeBlock(TypedDict):
    """--merge-base: the saved model = base_weight x base + (1 - base_weight) x finetuned."""

    base_weight: float
    mode: Literal["fixed", "auto"]
    method: str
    chosen_on: str
    metric: str
    tolerance: float
    tensors_merged: int
    tensors_kept: int
    curve: list[MergePoint]  # auto only: every base weight scored


# The corpus search of the test evaluations (embedtune.search.report; docs/scale.md).
SearchBlock = TypedDict(
    "SearchBlock",
    {
        "index": Required[Literal["exact", "faiss-flat", "faiss-hnsw"]],  # the one used
        "requested": Required[Literal["auto", "exact", "faiss-flat", "faiss-hnsw"]],
        "corpus": Required[int],  # documents searched
        "storage": Required[str],  # corpus embeddings: float32, float16, float16-memmap
        "hnsw": dict[str, int],  # M, efConstruction, efSearch (faiss-hnsw only)
        "recall@100": dict[str, dict[str, float]],  # model label -> dim -> vs exact (HNSW)
        "recall_queries": int,  # test queries sampled for recall@100
    },
    total=False,
)


class ExportLatency(TypedDict, total=False):
    """Encoding speed, torch fp32 vs the export (embedtune.export.latency.measure_latency)."""

    reference: Required[str]  # "torch-fp32"
    models: Required[dict[str, dict[str, float]]]  # name -> query_ms_p50/p95, docs/s, speedups
    settings: dict[str, Any]
    hardware: Hardware


class ExportBlock(TypedDict, total=False):
    """--export: the saved model exported, re-scored and timed (embedtune/export/for_run.py)."""

    name: Required[Literal["onnx", "onnx-int8", "openvino", "openvino-int8"]]
    format: Required[Literal["onnx", "openvino"]]
    precision: Required[Literal["fp32", "int8"]]
    path: Required[str]  # OUTPUT/model-<name>
    file: Required[str]  # the graph, relative to path
    model: Required[Literal["finetuned", "base"]]  # the torch model it was exported from
    metric: Required[str]
    torch: Required[dict[str, float]]  # "<dim>" -> the torch model's score
    exported: Required[dict[str, float]]  # "<dim>" -> the export's score
    vs_torch: Required[dict[str, ComparisonEntry]]  # exported - torch, paired bootstrap
    largest_drop: Required[float]
    warnings: Required[list[str]]  # one per dim whose interval lies below 0
    export_seconds: float
    latency: ExportLatency


class _CommonResults(TypedDict, total=False):
    schema_version: Required[int]
    kind: Required[Literal["finetune", "evaluate"]]
    dims: Required[list[int]]
    protocol: Required[Protocol]
    data: Required[DataSummary]
    hardware: Required[Hardware]
    provenance: Required[Provenance]
    per_query: PerQueryView
    output_dir: str
    total_seconds: float
    baselines: BaselinesBlock  # absent when turned off (--no-baselines)
    deployment: DeploymentSummary  # present only when asked (--deployment)
    search: SearchBlock  # how the corpus was searched (absent in files of older runs)
    timings: dict[str, float]  # seconds per phase of the run and "total" (embedtune.timings)
    sequence_length: dict[str, Any]  # the length used and why (embedtune.data.sequence_length)
    encoding_reuse: dict[str, int]  # base-model documents reused from the test encoding


class FinetuneResults(_CommonResults, total=False):
    base_model: Required[str]  # the path or hub id loaded
    base_model_name: Required[str]  # readable: all-MiniLM-L6-v2
    base: Required[ScoresByDim]
    finetuned: Required[ScoresByDim]  # the saved model's scores (the base's, when it was kept)
    comparison: Required[dict[str, ComparisonEntry]]
    selection: Required[Selection]
    verdict: Required[Verdict]
    training: Required[Training]
    model_path: Required[str]
    adapter_path: str  # LoRA: OUTPUT/model/adapter (loads with peft)
    push_to_hub: PushToHub
    guard: GuardBlock  # present only with --guard-data
    merge: MergeBlock  # present only with --merge-base (and a finetuned model to merge)
    export: ExportBlock  # present only with --export


class EvaluateResults(_CommonResults, total=False):
    model_name: Required[str]
    model: Required[ScoresByDim]


Results = FinetuneResults | EvaluateResults
SCHEMAS: dict[str, type] = {FINETUNE: FinetuneResults, EVALUATE: EvaluateResults}
SCORE_LABELS = {FINETUNE: (BASE, FINETUNED), EVALUATE: (MODEL,)}


class ResultsError(EmbedtuneError):
    """A results.json that does not match this schema."""


# -- comparison entries: the one place their keys are spelled ------------------------------------


def delta_key(metric: str = PRIMARY_METRIC) -> str:
    return f"{metric}{_DELTA_SUFFIX}"


def comparison_entry(
    delta: float, low: float, high: float, *, metric: str = PRIMARY_METRIC
) -> ComparisonEntry:
    """A comparison block entry; significant when the interval excludes 0."""
    entry: dict[str, Any] = {
        delta_key(metric): round(delta, 6),
        _INTERVAL: [round(low, 6), round(high, 6)],
        _SIGNIFICANT: bool(low > 0 or high < 0),
    }
    return entry  # type: ignore[return-value]


def read_comparison_entry(
    entry: ComparisonEntry, metric: str = PRIMARY_METRIC
) -> tuple[float, float, float, bool]:
    """(delta, low, high, significant) of a comparison entry."""
    data: dict[str, Any] = dict(entry)
    low, high = data[_INTERVAL]
    return float(data[delta_key(metric)]), float(low), float(high), bool(data[_SIGNIFICANT])


def outcome(delta: float, significant: bool) -> str:
    """win / loss / tie: a dim wins or loses only when its interval excludes 0."""
    return TIE if not significant else (WIN if delta > 0 else LOSS)


def output_paths(output_dir: str | Path) -> dict[str, str]:
    """Every file of a finished output folder, by role (results, report, chart, per_query, model)."""
    folder = Path(output_dir)
    paths = {role: str(folder / name) for role, name in OUTPUT_FILES.items()}
    return {**paths, "model": str(folder / MODEL_DIR)}


# -- validation ----------------------------------------------------------------------------------


def validate_results(results: Any, *, source: str = "results.json") -> None:
    """Raise ResultsError naming the first missing or mistyped key (e.g. `comparison.384.ci95`)."""
    if not isinstance(results, dict):
        raise ResultsError(f"{source}: expected a JSON object, got {type(results).__name__}")
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        found = "no schema_version" if version is None else f"schema_version {version!r}"
        raise ResultsError(
            f"{source}: {found}; this embedtune reads schema_version {SCHEMA_VERSION} "
            "(re-run the job to rewrite the file)"
        )
    kind = results.get("kind")
    if kind not in SCHEMAS:
        raise ResultsError(f"{source}: key 'kind' must be one of {sorted(SCHEMAS)}, got {kind!r}")
    _check(results, SCHEMAS[kind], "", source)
    _check_consistency(results, kind, source)


def _fail(source: str, path: str, message: str) -> None:
    raise ResultsError(f"{source}: key {path!r} {message}")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"


def _check(value: Any, annotation: Any, path: str, source: str) -> None:
    """Check `value` against a type annotation of this module, recursively."""
    if annotation is Any:
        return
    if is_typeddict(annotation):
        _check_typeddict(value, annotation, path, source)
        return
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        if value not in args:
            _fail(source, path, f"must be one of {list(args)}, got {_describe(value)}")
    elif origin in (Union, types.UnionType):
        for option in args:
            try:
                _check(value, option, path, source)
                return
            except ResultsError:
                continue
        _fail(source, path, f"must be {_type_name(annotation)}, got {_describe(value)}")
    elif origin is dict:
        if not isinstance(value, dict):
            _fail(source, path, f"must be an object, got {_describe(value)}")
        for key, item in value.items():
            _check(item, args[1], f"{path}.{key}", source)
    elif origin is list:
        if not isinstance(value, list):
            _fail(source, path, f"must be a list, got {_describe(value)}")
        for i, item in enumerate(value):
            _check(item, args[0], f"{path}[{i}]", source)
    elif origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            _fail(source, path, f"must be a list of {len(args)} values, got {_describe(value)}")
        for i, (item, arg) in enumerate(zip(value, args)):
            _check(item, arg, f"{path}[{i}]", source)
    else:
        _check_scalar(value, annotation, path, source)


def _check_scalar(value: Any, annotation: Any, path: str, source: str) -> None:
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: (
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        ),
        str: lambda v: isinstance(v, str),
        type(None): lambda v: v is None,
    }[annotation]
    if not ok(value):
        _fail(source, path, f"must be {_type_name(annotation)}, got {_describe(value)}")


def _check_typeddict(value: Any, schema: type, path: str, source: str) -> None:
    where = path or "(top level)"
    if not isinstance(value, dict):
        _fail(source, where, f"must be an object, got {_describe(value)}")
    hints = get_type_hints(schema)
    missing = sorted(schema.__required_keys__ - value.keys())  # type: ignore[attr-defined]
    if missing:
        names = ", ".join(repr(_join(path, key)) for key in missing)
        raise ResultsError(f"{source}: missing key{'s' if len(missing) > 1 else ''} {names}")
    for key, annotation in hints.items():
        if key in value:
            _check(value[key], annotation, _join(path, key), source)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "null"
    if get_origin(annotation) in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(annotation))
    names = {bool: "true/false", int: "an integer", float: "a finite number", str: "a string"}
    return names.get(annotation, str(annotation))


def _check_consistency(results: dict[str, Any], kind: str, source: str) -> None:
    """Cross-key rules: every per-dim block covers exactly `dims`; the verdict agrees."""
    dims = {str(d) for d in results["dims"]}
    if not dims:
        raise ResultsError(f"{source}: key 'dims' is empty")
    blocks = [*SCORE_LABELS[kind]]
    if kind == FINETUNE:
        blocks.append("comparison")
    for block in blocks:
        if set(results[block]) != dims:
            raise ResultsError(
                f"{source}: key {block!r} has dims {sorted(results[block])}, "
                f"but 'dims' lists {sorted(dims)}"
            )
    if kind == FINETUNE:
        if set(results["verdict"]["test"]) != dims:
            raise ResultsError(
                f"{source}: key 'verdict.test' does not cover the dims {sorted(dims)}"
            )
        if results["verdict"]["selected"] != results["selection"]["selected"]:
            raise ResultsError(
                f"{source}: key 'verdict.selected' ({results['verdict']['selected']}) differs "
                f"from 'selection.selected' ({results['selection']['selected']})"
            )
    if "baselines" in results:
        _check_baselines(results["baselines"], kind, dims, source)
    if "deployment" in results:
        for key in ("best", "recommended"):
            if str(results["deployment"][key]["dim"]) not in dims:
                raise ResultsError(
                    f"{source}: key 'deployment.{key}.dim' is not one of the dims {sorted(dims)}"
                )
    for key in ("base", "finetuned", "comparison") if "guard" in results else ():
        if set(results["guard"][key]) != dims:
            raise ResultsError(
                f"{source}: key 'guard.{key}' has dims {sorted(results['guard'][key])}, "
                f"but 'dims' lists {sorted(dims)}"
            )


def _check_baselines(block: dict[str, Any], kind: str, dims: set[str], source: str) -> None:
    if block["dense"] not in SCORE_LABELS[kind]:
        raise ResultsError(
            f"{source}: key 'baselines.dense' ({block['dense']}) is not a model of a {kind} run "
            f"({', '.join(SCORE_LABELS[kind])})"
        )
    covered = {"vs_bm25": block["vs_bm25"]}
    if block["hybrid"] is not None:
        covered |= {f"hybrid.{key}": block["hybrid"][key] for key in ("metrics", "vs_dense")}
        covered["hybrid.vs_bm25"] = block["hybrid"]["vs_bm25"]
    for name, per_dim in covered.items():
        if set(per_dim) != dims:
            raise ResultsError(
                f"{source}: key 'baselines.{name}' has dims {sorted(per_dim)}, "
                f"but 'dims' lists {sorted(dims)}"
            )
    if str(block["verdict"]["dim"]) not in dims:
        raise ResultsError(
            f"{source}: key 'baselines.verdict.dim' is not one of the dims {sorted(dims)}"
        )
