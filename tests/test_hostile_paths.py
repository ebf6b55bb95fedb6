"""Hostile paths (issue 19, items 7, 8 and 12): file names that are not UTF-8, names over the
file system's limit, and what --dry-run checks. Each ends in a clear error (exit 2, nothing
written) or documented handling, never a traceback; the real CLI on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embedtune.cli import main
from tests.helpers import pairs, write_jsonl

LATIN1 = os.fsdecode(b"caf\xe9")  # a name that is not UTF-8 (surrogate-escaped by Python)
LONG = "a" * 300  # over the 255-byte name limit of common file systems
TEXT = (
    "# Restarting\n\nRun acmectl restart on the host. The service drains connections for "
    "thirty seconds before it stops, then starts again with the configuration file.\n"
)


def error_of(capsys, args: list[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "embedtune: error:" in err and "Traceback" not in err
    return err


@pytest.fixture
def data(tmp_path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", pairs(16))


# --- 7: names that are not UTF-8 ------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["run", "dry-run"])
def test_an_output_path_that_is_not_utf8_is_refused_before_work(tmp_path, capsys, data, dry_run):
    out = tmp_path / LATIN1
    err = error_of(capsys, ["finetune", "--data", str(data), "--output", str(out), *dry_run])
    assert "caf\\xe9: the path is not valid UTF-8" in err
    assert not out.exists()


def test_a_document_whose_name_is_not_utf8_is_read(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"{LATIN1}.md").write_text(TEXT, encoding="utf-8")
    out = tmp_path / "generated"
    code = main(["generate", "--docs", str(docs), "--output", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = (out / "generated.jsonl").read_text(encoding="utf-8")
    assert '"source": "caf\\\\xe9.md"' in rows  # the name's bytes shown as \xNN


# --- 8: names over the file system's limit --------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "command"),
    [
        ("--output", ["finetune"]),
        ("--data", ["finetune", "--dry-run"]),
        ("--data", ["finetune"]),
        ("--output", ["generate", "--docs", "DOCS"]),
        ("--docs", ["generate"]),
        ("--output", ["evaluate", "--model", "m"]),
    ],
)
def test_a_name_over_the_limit_is_refused(tmp_path, capsys, data, flag, command):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(TEXT, encoding="utf-8")
    args = [str(docs) if a == "DOCS" else a for a in command]
    if flag != "--data" and command[0] == "finetune":
        args += ["--data", str(data)]
    if flag != "--output":
        args += ["--output", str(tmp_path / "out")]
    err = error_of(capsys, [*args, flag, str(tmp_path / f"{LONG}.jsonl")])
    assert "longer than the file system allows" in err
    assert flag in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "pairs.jsonl"]


# --- 12: --dry-run checks what the run checks before loading weights ------------------------


def test_dry_run_refuses_a_missing_guard_data_file(tmp_path, capsys, data):
    missing = tmp_path / "no-guard.jsonl"
    args = ["finetune", "--data", str(data), "--guard-data", str(missing), "--dry-run"]
    err = error_of(capsys, [*args, "--output", str(tmp_path / "out")])
    assert "no-guard.jsonl" in err and "not found" in err
    assert not (tmp_path / "out").exists()


# --- 16: --config that is no regular file ----------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_config_that_is_a_folder_or_a_fifo_is_named_as_such(tmp_path, capsys):
    folder = tmp_path / "configs"
    folder.mkdir()
    fifo = tmp_path / "run.yaml"
    os.mkfifo(fifo)  # opening it would block the run
    err = error_of(capsys, ["finetune", "--config", str(folder), "--dry-run"])
    assert f"--config {folder} is a folder" in err
    err = error_of(capsys, ["finetune", "--config", str(fifo), "--dry-run"])
    assert "is not a regular file (a FIFO, socket or device)" in err
