"""The whole loop from a folder of markdown files: generate -> push to Argilla -> annotate ->
`python run.py --embeddings --argilla` (real ZenML, real argilla-server, real model)."""

from __future__ import annotations

import json
import uuid

import pytest

pytest.importorskip("argilla")

from embedtune.annotation import argilla_settings as S  # noqa: E402
from embedtune.cli import main as embedtune_main  # noqa: E402

from .conftest import ArgillaServer  # noqa: E402
from .test_argilla_review import Api, dataset_id  # noqa: E402

pytestmark = [pytest.mark.argilla, pytest.mark.slow]

TOPICS = ["assert", "assignment", "break", "class", "continue", "del", "for", "global",
          "if", "import", "lambda", "pass", "raise", "return", "try", "while", "with", "yield"]  # fmt: skip


def _write_markdown_docs(folder):
    from pydoc_data.topics import topics

    folder.mkdir()
    for name in TOPICS:
        body = topics[name]
        (folder / f"{name}.md").write_text(f"# The {name} statement\n\n{body}\n", encoding="utf-8")


def test_generate_review_and_finetune_on_reviewed_records(
    argilla_server: ArgillaServer, tmp_path, monkeypatch
):
    monkeypatch.setenv("ARGILLA_API_URL", argilla_server.api_url)
    monkeypatch.setenv("ARGILLA_API_KEY", argilla_server.api_key)
    monkeypatch.setenv("ARGILLA_WORKSPACE", argilla_server.workspace)
    name = f"loop-{uuid.uuid4().hex[:6]}"
    docs = tmp_path / "docs"
    _write_markdown_docs(docs)

    assert (
        embedtune_main(
            [
                "generate",
                "--docs",
                str(docs),
                "--output",
                str(tmp_path / "gen"),
                "--max-tokens",
                "128",
                "--argilla",
                name,
            ]
        )
        == 0
    )
    generated = [
        json.loads(line) for line in (tmp_path / "gen" / "generated.jsonl").read_text().splitlines()
    ]
    assert len(generated) > 30

    # Review as an annotator would, through the REST API.
    owner = Api(argilla_server, argilla_server.api_key)
    ds_id = dataset_id(owner, name, argilla_server.workspace)
    records = owner("GET", f"/api/v1/datasets/{ds_id}/records", params={"limit": 1000})["items"]
    assert len(records) == len(generated)
    counts = {}
    for row in generated:
        counts[row["query"]] = counts.get(row["query"], 0) + 1
    unique = [r for r in records if counts[r["fields"][S.FIELD_QUERY]] == 1]
    edited, discarded = unique[0], unique[1]
    edited_query = "EDITED: how does the annotator's own question survive?"
    for record in records:
        if record["id"] == discarded["id"]:
            values = {S.QUESTION_DECISION: S.LABEL_DISCARD}
        elif record["id"] == edited["id"]:
            values = {S.QUESTION_DECISION: S.LABEL_ACCEPT, S.QUESTION_QUERY_EDIT: edited_query}
        else:
            values = {S.QUESTION_DECISION: S.LABEL_ACCEPT}
        owner(
            "POST",
            f"/api/v1/records/{record['id']}/responses",
            json={"values": {k: {"value": v} for k, v in values.items()}, "status": "submitted"},
        )

    # Tiny settings, but no max_train_pairs: every reviewed pair must reach the pipeline. What
    # is checked is the data the pipeline read, so one epoch at one learning rate is enough.
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "max_seq_length: 32\nbatch_size: 16\ndims: [384, 64]\nhard_negatives: false\n"
        "epochs: 1\nlearning_rate: 1.0e-4\n"
    )
    import run

    assert (
        run.main(
            [
                "--embeddings",
                "--argilla",
                "--argilla-dataset",
                name,
                "--config",
                str(config),
                "--output",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    assert (tmp_path / "out" / "results.json").is_file()

    # What the finetune pipeline actually read: the edit is in, the discarded record is out.
    from zenml.client import Client

    last = Client().get_pipeline("finetune_embeddings").last_run
    step = last.steps["load_and_split_data"]
    train = step.outputs["train_pairs"][0].load()
    test_set = step.outputs["test_set"][0].load()
    all_queries = set(train["query"]) | set(test_set["queries"].values())
    assert edited_query in all_queries
    assert edited["fields"][S.FIELD_QUERY] not in all_queries
    assert discarded["fields"][S.FIELD_QUERY] not in all_queries
    assert len(train) + len(test_set["queries"]) <= len(generated) - 1
