"""`embedtune generate --filter`: the query filter on generated rows, dropped rows saved beside."""

from __future__ import annotations

import json

import pytest

from embedtune.errors import ConfigError, DataError
from embedtune.synthetic.dataset import FILTERED_NAME, JSONL_NAME, MARKER_NAME
from embedtune.synthetic.generate import GenerateConfig, run_generate

from .test_generate import DOCS

# Each sentence is its own keyword query (5 content words): every query of it is a copy.
COPIES = "Cardholders upload signed receipts quickly. Merchants refund captured amounts promptly.\n"


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in {**DOCS, "notes.txt": COPIES}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_filtered_rows_are_saved_beside_the_kept_ones_with_their_reason(docs, tmp_path):
    output = tmp_path / "generated"
    summary = run_generate(
        GenerateConfig(docs=[str(docs)], output=str(output), filter=True, filter_top_k=1)
    )
    kept = [json.loads(line) for line in (output / JSONL_NAME).read_text().splitlines()]
    dropped = [json.loads(line) for line in (output / FILTERED_NAME).read_text().splitlines()]
    report = summary["filter"]
    assert summary["rows"] == len(kept) == report["kept"]
    assert report["rows"] == len(kept) + len(dropped)
    assert sum(report["dropped"].values()) == len(dropped)
    assert report["dropped"]["copy"] == 2
    assert set(report["dropped"]) == {"copy", "near_duplicate", "round_trip", "judge"}
    assert report["dropped"]["judge"] == 0  # no judge given
    for row in dropped:
        assert row["reason"] in report["dropped"] and row["detail"]
        assert {"query", "document", "chunk_id"} <= set(row)
    marker = json.loads((output / MARKER_NAME).read_text())
    assert FILTERED_NAME in marker["files"]  # a rerun may replace it


def test_a_filter_that_drops_every_row_writes_nothing(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text(COPIES, encoding="utf-8")
    output = tmp_path / "generated"
    with pytest.raises(DataError, match="would drop every one of the 2 rows"):
        run_generate(GenerateConfig(docs=[str(docs)], output=str(output), filter=True))
    assert not output.exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"filter": True, "filter_top_k": 0}, "filter_top_k must be"),
        ({"filter": True, "filter_copy_fraction": 2.0}, "filter_copy_fraction must be in"),
        ({"filter_judge": "openai:gpt-4o-mini"}, "filter_judge is set but the filter is off"),
    ],
)
def test_bad_filter_settings_are_refused_before_documents_are_read(tmp_path, settings, message):
    missing = tmp_path / "no-such-docs"
    with pytest.raises(ConfigError, match=message):
        run_generate(GenerateConfig(docs=[str(missing)], output=str(tmp_path / "out"), **settings))


@pytest.mark.parametrize(
    ("answer", "needs_passage"),
    [
        ("YES", True),
        ("No.", False),
        ("## Positive\nyes, it refers to the passage", True),
        ("I cannot tell", None),
        (None, None),
    ],
)
def test_the_judges_answer_is_read_from_its_first_yes_or_no(answer, needs_passage):
    from embedtune.synthetic.query_judge import parse_judgement

    assert parse_judgement(answer) is needs_passage


def test_the_generate_command_takes_the_filter_flags(tmp_path, capsys):
    from embedtune.cli import main

    code = main(
        ["generate", "--docs", str(tmp_path / "none"), "--output", str(tmp_path / "out"),
         "--filter", "--filter-top-k", "0"]
    )  # fmt: skip
    assert code == 2 and "filter_top_k must be" in capsys.readouterr().err
    assert "--filter-judge SPEC" in _generate_help(capsys)


def _generate_help(capsys) -> str:
    from embedtune.cli import main

    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    return capsys.readouterr().out
