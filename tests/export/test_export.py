"""Export the real base model to ONNX (float32, int8) and OpenVINO, load it without optimum,
and check it encodes like the torch model; bad input leaves nothing behind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embedtune.cli import main
from embedtune.errors import ConfigError
from embedtune.export import EXPORT_RECORD, export_model, load_exported

TEXTS = [
    "What notice period applies when a tenant ends the lease?",
    "The landlord must return the deposit within six weeks of the keys being handed back, "
    "less documented damage beyond normal wear and tear.",
    "appeal deadline",
]


def _cosines(encoder, short_model, kind: str) -> np.ndarray:
    encode = getattr(encoder, f"encode_{kind}")
    reference = getattr(short_model, f"encode_{kind}")
    prompt = {"query": "query: ", "document": "passage: "}[kind]
    mine = encode(TEXTS)
    theirs = reference(TEXTS, prompt=prompt, convert_to_numpy=True)
    return (mine * theirs).sum(axis=1) / (
        np.linalg.norm(mine, axis=1) * np.linalg.norm(theirs, axis=1)
    )


def test_onnx_folder_has_sentence_transformers_layout_and_prompts(exports):
    folder = exports["onnx"]
    assert (folder / "onnx" / "model.onnx").is_file()
    assert not list(folder.rglob("*.safetensors")), "the torch weights are not shipped"
    modules = json.loads((folder / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "document": "passage: "}
    record = json.loads((folder / EXPORT_RECORD).read_text())
    assert (record["format"], record["precision"], record["pooling"]) == ("onnx", "fp32", "mean")
    card = (folder / "README.md").read_text()
    assert "float32" in card and 'backend="onnx"' in card and "load_exported" in card
    int8 = exports["onnx-int8"]
    assert (int8 / "onnx" / "model_qint8_quantized.onnx").is_file()
    assert "int8" in (int8 / "README.md").read_text()


def test_onnx_fp32_and_int8_encode_like_torch(exports, short_model):
    fp32 = load_exported(exports["onnx"], max_seq_length=32)
    int8 = load_exported(exports["onnx-int8"], max_seq_length=32)
    assert fp32.max_seq_length == 32 and fp32.prompts["query"] == "query: "
    for kind in ("query", "document"):  # each with the folder's own prompt
        assert _cosines(fp32, short_model, kind).min() > 0.999
        assert _cosines(int8, short_model, kind).min() > 0.98
    without_prompt = fp32.encode(TEXTS[:1])
    assert float(without_prompt[0] @ fp32.encode_query(TEXTS[:1])[0]) < 0.999  # prompt applied
    assert np.allclose(np.linalg.norm(fp32.encode(TEXTS), axis=1), 1, atol=1e-5)  # Normalize


def test_openvino_fp32_loads_and_matches(prompted_model, exports, short_model, tmp_path):
    folder = tmp_path / "ov"
    record = export_model(prompted_model, "openvino", None, folder, from_onnx=exports["onnx"])
    assert (folder / record["file"]).is_file() and record["file"].startswith("openvino/")
    encoder = load_exported(folder, max_seq_length=32)
    assert _cosines(encoder, short_model, "query").min() > 0.999


def test_openvino_int8_is_nncf_quantized_and_encodes_like_torch(
    prompted_model, exports, short_model, tmp_path
):
    """nncf's static int8 (calibrated on built-in texts): real int8 operations in the graph."""
    pytest.importorskip("nncf")
    folder = tmp_path / "ov-int8"
    record = export_model(
        prompted_model, "openvino", "int8", folder, from_onnx=exports["onnx"], calibration_size=16
    )
    assert record["file"] == "openvino/openvino_model_qint8_quantized.xml"
    quantization = json.loads((folder / EXPORT_RECORD).read_text())["graph"]["quantization"]
    assert quantization["kind"] == "static" and quantization["method"].startswith("nncf")
    assert quantization["calibration"]["texts"] == 16
    assert "statically, by nncf" in (folder / "README.md").read_text()
    assert "FakeQuantize" in (folder / record["file"]).read_text()  # int8 ranges in the graph
    encoder = load_exported(folder, max_seq_length=32)
    for kind in ("query", "document"):
        assert _cosines(encoder, short_model, kind).min() > 0.98


def test_openvino_int8_without_nncf_falls_back_and_says_so(
    monkeypatch, caplog, prompted_model, exports, tmp_path
):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "nncf" else real(name)
    )
    with caplog.at_level("WARNING", logger="embedtune.export.graph"):
        record = export_model(
            prompted_model, "openvino", "int8", tmp_path / "ov", from_onnx=exports["onnx"]
        )
    assert record["graph"]["quantization"]["kind"] == "dynamic"
    assert record["graph"]["converted_from"] == "int8 ONNX graph"
    assert (
        "nncf is not installed" in caplog.text and "pip install 'embedtune[export]'" in caplog.text
    )


def test_export_after_a_run_is_scored_with_intervals(
    base_model_path, legal, legal_encoded, tmp_path
):
    """--export's step: OUTPUT/model exported beside it, re-scored by the run's evaluator."""
    from embedtune.config import load_config
    from embedtune.deployment.encoded import evaluate_encoded
    from embedtune.export.for_run import export_for_run
    from embedtune.reporting.export_section import export_section
    from embedtune.reporting.results_view import ResultsView
    from embedtune.results_schema import ExportBlock, _check

    staging = tmp_path / "out" / ".staging"
    staging.mkdir(parents=True)
    (staging / "model").symlink_to(base_model_path)  # the saved model: the base (no prompts)
    config = load_config(
        None, output=str(tmp_path / "out"), max_seq_length=32, dims=[384, 64], export="onnx"
    )
    torch_evaluation = evaluate_encoded(legal_encoded, legal, config.dims)  # the short model's
    block = export_for_run(
        config, staging, legal, torch_evaluation, None, model_label="finetuned", latency=False
    )
    assert (staging / "model-onnx" / "onnx" / "model.onnx").is_file()
    assert block["path"] == str(tmp_path / "out" / "model-onnx")
    _check(block, ExportBlock, "export", "results.json")  # the results.json contract
    for dim in ("384", "64"):
        entry = block["vs_torch"][dim]
        low, high = entry["ci95"]
        assert low <= entry["ndcg@10_delta"] <= high and entry["significant"] is False
        assert block["torch"][dim] == round(torch_evaluation.by_dim[int(dim)].metrics["ndcg@10"], 6)
        assert block["exported"][dim] == pytest.approx(block["torch"][dim], abs=1e-3)  # fp32
    assert block["warnings"] == [] and block["largest_drop"] < 1e-3
    html = export_section(ResultsView({"export": block}))
    assert "Export: onnx" in html and "95% interval" in html and "No significant" in html
    from embedtune.reporting.summary import cli_summary
    from embedtune.run_files import drop_stale_deployment
    from tests.reporting.results_helpers import finetune_results

    summary = cli_summary({**finetune_results(), "export": block})
    assert summary["export"] == {
        "name": "onnx",
        "path": block["path"],
        "largest_drop": block["largest_drop"],
        "warnings": [],
    }
    # a later run without --export: the earlier run's export folder goes, this run's stays
    drop_stale_deployment(staging, {"export": block})
    assert (staging / "model-onnx").is_dir()
    drop_stale_deployment(staging, {})
    assert not (staging / "model-onnx").exists() and (staging / "model").exists()


def test_latency_medians_and_speedups(exports, short_model):
    from embedtune.export.latency import measure_latency, sample_texts

    queries, documents = sample_texts(queries=6, documents=8)
    encoder = load_exported(exports["onnx-int8"], max_seq_length=32, threads=1)
    latency = measure_latency(
        {"torch-fp32": short_model, "onnx-int8": encoder}, queries, documents, rounds=1
    )
    torch_figures, int8 = latency["models"]["torch-fp32"], latency["models"]["onnx-int8"]
    assert torch_figures["query_speedup"] == 1.0
    assert 0 < int8["query_ms_p50"] <= int8["query_ms_p95"]
    assert int8["query_speedup"] == round(torch_figures["query_ms_p50"] / int8["query_ms_p50"], 2)
    assert int8["corpus_docs_per_second"] > 0 and "cpu_count" in latency["hardware"]


def test_a_significant_drop_is_a_warning(legal, legal_encoded, caplog):
    from embedtune.deployment.encoded import evaluate_encoded
    from embedtune.evaluation.retrieval import DimensionResult, RetrievalEvaluation
    from embedtune.export.reevaluate import compare_to_torch

    torch_evaluation = evaluate_encoded(legal_encoded, legal, [384])
    worse = {q: {**m, "ndcg@10": 0.0} for q, m in torch_evaluation.by_dim[384].per_query.items()}
    broken = RetrievalEvaluation([384], {384: DimensionResult({"ndcg@10": 0.0}, worse)}, 0.0)
    block = compare_to_torch(torch_evaluation, broken, name="onnx-int8")
    assert block["vs_torch"]["384"]["significant"] and block["vs_torch"]["384"]["ci95"][1] < 0
    assert len(block["warnings"]) == 1 and "384 dims" in block["warnings"][0]
    assert "onnx-int8 loses" in caplog.text


def test_cli_refuses_a_folder_that_is_not_a_model(capsys, tmp_path):
    output = tmp_path / "out"
    code = main(["export", "--model", str(tmp_path), "--format", "onnx", "--output", str(output)])
    err = capsys.readouterr()
    assert code == 2 and err.out == ""
    assert "not a Sentence Transformers model folder: no modules.json" in err.err
    assert not output.exists()


def test_cli_refuses_unknown_format_and_precision(capsys, prompted_model, tmp_path):
    output = tmp_path / "out"
    for flags, message in (
        (["--format", "tflite"], "unknown export format 'tflite': choose from onnx, openvino"),
        (["--format", "onnx", "--quantize", "int4"], "unknown export precision 'int4'"),
    ):
        code = main(["export", "--model", str(prompted_model), *flags, "--output", str(output)])
        assert code == 2
        assert message in capsys.readouterr().err
        assert not output.exists()


def test_missing_package_names_the_extra(monkeypatch, prompted_model, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name)
    )
    with pytest.raises(ConfigError, match=r"needs openvino.*pip install 'embedtune\[export\]'"):
        export_model(prompted_model, "openvino", None, tmp_path / "ov")
    assert not (tmp_path / "ov").exists()


def test_default_output_is_beside_the_model(tmp_path):
    from embedtune.export.command import default_output

    model = tmp_path / "run" / "model"
    assert default_output(str(model), "onnx", "int8") == tmp_path / "run" / "model-onnx-int8"
    assert default_output(f"{model}/", "openvino", None) == tmp_path / "run" / "model-openvino"
    with pytest.raises(ConfigError, match="unknown export format 'onnxx'"):
        default_output(str(model), "onnxx", None)


def test_exported_card_names_the_base_model_of_a_finetuned_folder(
    prompted_model, exports, tmp_path
):
    import os

    import yaml

    finetuned = tmp_path / "run" / "model"
    for file in prompted_model.rglob("*"):
        if file.is_file():
            target = finetuned / file.relative_to(prompted_model)
            target.parent.mkdir(parents=True, exist_ok=True)
            if file.suffix == ".safetensors":
                os.symlink(file.resolve(), target)
            else:
                target.write_bytes(file.read_bytes())
    (finetuned / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: sentence-transformers/all-MiniLM-L6-v2\n"
        "base_model_relation: finetune\n---\n\n# a finetuned model\n"
    )
    out = tmp_path / "run" / "model-onnx-int8"
    export_model(finetuned, "onnx", "int8", out, from_onnx=exports["onnx"])
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert meta["license"] == "apache-2.0"
    assert "(sentence-transformers/all-MiniLM-L6-v2 finetuned)" in card
    assert "| base model | `sentence-transformers/all-MiniLM-L6-v2` (finetuned from it) |" in card
    record = json.loads((out / EXPORT_RECORD).read_text())
    assert record["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    # a folder whose card names no base model: no invented one
    assert "base_model" not in (exports["onnx"] / "README.md").read_text().split("---\n")[1]


@pytest.mark.slow
def test_evaluate_an_exported_folder_scores_like_its_torch_model(
    prompted_model, exports, tmp_path, capsys
):
    from tests.conftest import LEGAL

    common = ["--data", str(LEGAL), "--max-seq-length", "32", "--no-baselines"]
    scores = {}
    for name, model in (("torch", prompted_model), ("onnx", exports["onnx"])):
        output = tmp_path / name
        assert main(["evaluate", "--model", str(model), *common, "--output", str(output)]) == 0
        assert json.loads(capsys.readouterr().out)["outputs"]["results"] == str(
            output / "results.json"
        )
        scores[name] = json.loads((output / "results.json").read_text())
    exported = scores["onnx"]["exported"]
    assert (exported["format"], exported["precision"], exported["max_seq_length"]) == (
        "onnx",
        "fp32",
        32,
    )
    assert scores["onnx"]["dims"] == scores["torch"]["dims"] == [384, 256, 128, 64]
    for dim in ("384", "64"):
        torch_ndcg = scores["torch"]["model"][dim]["ndcg@10"]
        assert scores["onnx"]["model"][dim]["ndcg@10"] == pytest.approx(torch_ndcg, abs=2e-3)


def test_exported_encoder_labels_its_progress_bar(exports, capsys):
    encoder = load_exported(exports["onnx-int8"], max_seq_length=32)
    encoder.encode(TEXTS, show_progress_bar=True)
    assert f"Encoding {len(TEXTS)} texts (onnx-int8)" in capsys.readouterr().err
    encoder.encode(TEXTS, show_progress_bar=False)
    assert capsys.readouterr().err == ""
