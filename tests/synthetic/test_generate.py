"""`embedtune generate`: folder of documents -> generated dataset, as a function and as the ZenML
pipeline `generate_synthetic_data`; the finetune loader reads the result without flags."""

from __future__ import annotations

import json

import pytest

from embedtune.cli import main
from embedtune.data.sources import DataOptions, load_pairs

DOCS = {
    "runbook.md": """# Payments runbook

## Refunds

To refund a card payment, open the admin console, find the charge by its id and press Refund.
Partial refunds are allowed up to the captured amount. Refunds settle in five to ten business days.

## Chargebacks

A chargeback is opened by the cardholder's bank. Upload the receipt and the delivery proof within
seven days, otherwise the dispute is lost automatically.
""",
    "deploy.rst": """Deployments
===========

Deploy the payments service with make deploy ENV=prod. Roll back with make rollback, which restores
the previous container image. Write to ops@example.com when a deploy fails twice in a row.
""",
    "faq.html": """<html><body><h1>FAQ</h1><h2>Currencies</h2><p>We settle in euro, pound and
dollar. Other currencies are converted at the daily rate published by the central bank.</p></body></html>""",
}


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_generate_offline_then_finetune_loader_reads_it(docs, tmp_path, capsys):
    out = tmp_path / "generated"
    assert main(["generate", "--docs", str(docs), "--output", str(out), "--drop-pii"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pii"]["email"] == 1  # ops@example.com, and its chunk is dropped
    rows = [json.loads(line) for line in (out / "generated.jsonl").read_text().splitlines()]
    assert rows and not any("ops@example.com" in r["document"] for r in rows)
    assert {r["source"].rsplit("/", 1)[-1] for r in rows} == {"runbook.md", "faq.html"}
    pairs, mapping, _ = load_pairs(DataOptions(source=str(out)))
    assert (mapping.query, mapping.document) == ("query", "document")
    assert len(pairs) == len(rows)


@pytest.mark.slow
def test_generate_synthetic_data_pipeline(docs, tmp_path):
    from zenml.client import Client

    from embedtune.pipelines.generate_synthetic_data import run_generate_pipeline
    from embedtune.synthetic.generate import GenerateConfig

    published = run_generate_pipeline(
        GenerateConfig(docs=[str(docs)], output=str(tmp_path / "gen"))
    )
    assert published["rows"] > 0 and (tmp_path / "gen" / "generated.jsonl").is_file()
    run = Client().get_pipeline("generate_synthetic_data").last_run
    assert run.status == "completed"
    pii = run.steps["scan_for_pii"].outputs["pii_report"][0].load()
    assert pii["counts"]["email"] == 1
    generated = run.steps["generate_queries"].outputs["generated_dataset"][0].load()
    assert len(generated) == published["rows"]
