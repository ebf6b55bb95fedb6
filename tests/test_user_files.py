"""Nothing of the user's is ever deleted (issue 19, items 1-5, 9 and 13): a run writes only into
a new or empty folder, or its own earlier run's, and replaces only the files embedtune recorded
there (OUTPUT/.embedtune-run.json); settings that would send files elsewhere are refused.

Each case runs the real CLI (`embedtune.cli.main`) on real files and expects exit code 2, the
message on stderr and the user's files untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from embedtune.cli import main
from embedtune.output_folder import RUN_MARKER, check_output_folder
from tests.helpers import TINY_RUN, pairs, write_jsonl

GUIDE = """# Runbook

## Restarting the service

Run `acmectl restart` on the host. The service drains connections for thirty seconds before it
stops, then starts again with the configuration in /etc/acme/acme.toml.

## Rotating the logs

Logs rotate nightly; run `acmectl rotate` to rotate them now. Old logs are kept for two weeks.
"""


def error_of(capsys, args: list[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "embedtune: error:" in err
    return err


def users_folder(folder: Path) -> Path:
    """What the probe found deleted: a folder of the user's with model/, report.html and
    per_query.json of their own."""
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "notes.txt").write_text("mine")
    (folder / "report.html").write_text("<p>my report</p>")
    (folder / "per_query.json").write_text("{}")
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def data(tmp_path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", pairs(16))


@pytest.fixture
def docs(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "runbook.md").write_text(GUIDE, encoding="utf-8")
    return folder


# --- 1: a folder that is not an embedtune run -----------------------------------------------


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_finetune_never_replaces_a_users_model_folder(tmp_path, capsys, data, overwrite):
    folder = users_folder(tmp_path / "F")
    before = snapshot(folder)
    err = error_of(capsys, ["finetune", "--data", str(data), "--output", str(folder), *overwrite])
    assert "embedtune did not write" in err
    assert "model/notes.txt" in err and "per_query.json" in err and "report.html" in err
    assert snapshot(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == ["model", "per_query.json", "report.html"]


def test_a_non_empty_folder_without_a_run_is_refused_before_work(
    tmp_path, capsys, data, base_model_path
):
    folder = tmp_path / "F"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    err = error_of(capsys, ["finetune", "--data", str(data), "--output", str(folder)])
    assert "is not empty and holds no embedtune run (notes.txt)" in err
    assert "--overwrite" in err
    args = ["evaluate", "--model", base_model_path, "--data", str(data), "--output", str(folder)]
    err = error_of(capsys, args)
    assert "holds no embedtune run" in err
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_a_file_added_to_a_recorded_run_is_never_replaced(tmp_path, capsys, data):
    """A recorded run's folder is reused; a file the user put among its files is refused, with
    or without --overwrite."""
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "model" / "model.safetensors").write_bytes(b"weights")
    (run / "results.json").write_text(json.dumps({"kind": "finetune"}))
    record = {"written_by": "embedtune", "kind": "finetune"}
    record["files"] = ["model/model.safetensors", "results.json"]
    (run / RUN_MARKER).write_text(json.dumps(record))
    check_output_folder(run, "finetune")  # its own files only: reused
    (run / "model" / "README-mine.md").write_text("mine")
    for extra in ([], ["--overwrite"]):
        err = error_of(capsys, ["finetune", "--data", str(data), "--output", str(run), *extra])
        assert "model/README-mine.md" in err
    assert (run / "model" / "README-mine.md").read_text() == "mine"


@pytest.mark.slow
def test_overwrite_writes_beside_the_users_files_and_records_its_own(
    tmp_path, capsys, base_model_path
):
    """--overwrite on a folder holding only files a run never writes: the run goes ahead, the
    user's file stays, and the marker lists exactly what the run wrote."""
    folder = tmp_path / "F"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY_RUN, "base_model": base_model_path}))
    args = ["finetune", "--config", str(config), "--output", str(folder)]
    assert main([*args, "--overwrite"]) == 0, capsys.readouterr().err
    assert (folder / "notes.txt").read_text() == "mine"
    marker = json.loads((folder / RUN_MARKER).read_text())
    assert marker["kind"] == "finetune"
    assert "notes.txt" not in marker["files"]
    assert {"results.json", "report.html", "model/model.safetensors"} <= set(marker["files"])
    check_output_folder(folder, "finetune")  # the next run of the same kind may reuse it
    (folder / "model" / "notes.txt").write_text("mine too")
    err = error_of(capsys, args)
    assert "model/notes.txt" in err
    assert (folder / "model" / "notes.txt").read_text() == "mine too"


# --- 2: an empty --output -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["finetune"],
        ["evaluate", "--model", "m"],
        ["generate", "--docs", "docs"],
        ["export", "--model", "m", "--format", "onnx"],
        ["curve"],
    ],
    ids=lambda a: a[0],
)
@pytest.mark.parametrize("empty", ["", " "], ids=["empty", "blank"])
def test_an_empty_output_is_refused_everywhere(tmp_path, monkeypatch, capsys, args, empty):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    err = error_of(capsys, [*args, "--output", empty])
    assert "--output is empty" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_an_empty_output_in_the_config_is_refused(tmp_path, monkeypatch, capsys, data):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"output": "", "data": str(data)}))
    err = error_of(capsys, ["finetune", "--config", str(config)])
    assert "--output is empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.jsonl", "run.yaml"]


# --- 3, 4: generate -------------------------------------------------------------------------


def test_generate_never_deletes_a_file_added_to_its_output(tmp_path, capsys, docs):
    out = tmp_path / "generated"
    args = ["generate", "--docs", str(docs), "--output", str(out)]
    assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(args) == 0  # its own earlier output: replaced
    capsys.readouterr()
    (out / "notes.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        err = error_of(capsys, [*args, *extra])
        assert "did not write (notes.txt)" in err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "generated.jsonl").is_file()


@pytest.mark.parametrize("where", ["docs inside output", "output inside docs", "same"])
def test_generate_refuses_docs_and_output_that_overlap(tmp_path, capsys, where):
    project = tmp_path / "P"
    docs = project / "docs"
    docs.mkdir(parents=True)
    (docs / "runbook.md").write_text(GUIDE, encoding="utf-8")
    output = {"docs inside output": project, "output inside docs": docs / "out", "same": docs}
    err = error_of(
        capsys,
        ["generate", "--docs", str(docs), "--output", str(output[where]), "--overwrite"],
    )
    assert "overlap" in err
    assert [p.name for p in docs.iterdir()] == ["runbook.md"]
    assert (docs / "runbook.md").read_text(encoding="utf-8") == GUIDE


# --- 5: training arguments embedtune owns ---------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {"output_dir": "elsewhere"},
        {"logging_dir": "elsewhere"},
        {"seed": 7},
        {"data_seed": 7},
        {"report_to": "tensorboard"},
        {"resume_from_checkpoint": "x"},
        {"push_to_hub": True},
        {"hub_model_id": "me/model"},
        {"save_strategy": "no"},
    ],
    ids=lambda e: next(iter(e)),
)
def test_extra_training_arguments_embedtune_owns_are_refused(
    tmp_path, monkeypatch, capsys, data, extra
):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"data": str(data), "extra": {**extra, "max_grad_norm": 1}}))
    err = error_of(capsys, ["finetune", "--config", str(config), "--output", "out"])
    assert f"extra: ['{next(iter(extra))}'] are set by embedtune itself" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "elsewhere").exists()


def test_the_refused_extra_arguments_are_documented():
    from embedtune.config import OWNED_ARGUMENTS

    text = (Path(__file__).parents[1] / "docs" / "data-handling.md").read_text(encoding="utf-8")
    missing = [name for name in (*OWNED_ARGUMENTS, "hub_*") if f"`{name}`" not in text]
    assert not missing


# --- 9: one seed range ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["-1", str(10**23)])
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["run", "dry-run"])
def test_a_seed_out_of_range_is_refused(tmp_path, capsys, data, seed, dry_run):
    out = tmp_path / "out"
    args = ["finetune", "--data", str(data), "--seed", seed, "--output", str(out), *dry_run]
    err = error_of(capsys, args)
    assert "seed must be a whole number from 0 to 4294967295" in err
    assert not out.exists()


def test_generate_refuses_a_negative_seed(tmp_path, capsys, docs):
    out = tmp_path / "generated"
    err = error_of(capsys, ["generate", "--docs", str(docs), "--seed", "-5", "--output", str(out)])
    assert "seed must be a whole number from 0" in err
    assert not out.exists()


# --- 13: duplicate keys in a YAML config ----------------------------------------------------


def test_a_key_given_twice_in_the_config_is_refused(tmp_path, capsys, data):
    config = tmp_path / "run.yaml"
    config.write_text(f"data: {data}\nseed: 1\nepochs: 1\nseed: 2\n")
    err = error_of(capsys, ["finetune", "--config", str(config), "--dry-run"])
    assert "the key 'seed' is given twice (lines 2 and 4)" in err
    assert str(config) in err
    nested = tmp_path / "nested.yaml"
    nested.write_text("extra:\n  max_grad_norm: 1\n  max_grad_norm: 2\n")
    err = error_of(capsys, ["finetune", "--config", str(nested), "--dry-run"])
    assert "'max_grad_norm' is given twice (lines 2 and 3)" in err


# --- 12: the dry run refuses what the run refuses -------------------------------------------


def test_dry_run_refuses_an_output_folder_the_run_would_refuse(tmp_path, capsys, data):
    folder = users_folder(tmp_path / "F")
    err = error_of(capsys, ["finetune", "--data", str(data), "--output", str(folder), "--dry-run"])
    assert "model/notes.txt" in err
    other = tmp_path / "G"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    err = error_of(capsys, ["finetune", "--data", str(data), "--output", str(other), "--dry-run"])
    assert "holds no embedtune run" in err


def test_an_export_beside_the_model_counts_as_embedtunes(tmp_path):
    """`embedtune export --model OUT/model` writes OUT/model-onnx (with its export record)
    outside a run's swap: a later run may still reuse OUT; a model-onnx/ of the user's may not."""
    from embedtune.errors import ConfigError
    from embedtune.export.formats import EXPORT_RECORD

    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "model" / "model.safetensors").write_bytes(b"weights")
    record = {"written_by": "embedtune", "kind": "finetune", "files": ["model/model.safetensors"]}
    (run / RUN_MARKER).write_text(json.dumps(record))
    (run / "model-onnx").mkdir()
    (run / "model-onnx" / "model.onnx").write_bytes(b"onnx")
    with pytest.raises(ConfigError, match="model-onnx/model.onnx"):
        check_output_folder(run, "finetune")
    (run / "model-onnx" / EXPORT_RECORD).write_text("{}")
    check_output_folder(run, "finetune")
