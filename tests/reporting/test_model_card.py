"""The saved model's README.md: names the base model, data, recipe, protocol, the table with
intervals and the verdict; its usage snippet runs against the real saved model."""

from __future__ import annotations

import re

import pytest
import torch

from embedtune.reporting.model_card import write_model_card
from tests.reporting.results_helpers import evaluate_results, finetune_results

MIXED = {384: 0.04, 256: 0.03, 128: 0.0, 64: -0.05}
PLACEHOLDERS = re.compile(r"\b(Unknown|None|null|TODO|More Information Needed|nan)\b|<|\?\?")


def _snippet(card: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    assert len(blocks) == 1, "one usage snippet"
    return blocks[0]


def test_card_names_base_data_recipe_protocol_and_the_table(tmp_path):
    path = write_model_card(tmp_path, finetune_results(MIXED))
    card = path.read_text(encoding="utf-8")
    assert path == tmp_path / "README.md"
    assert card.startswith("---\nlibrary_name: sentence-transformers\n")
    assert "base_model: sentence-transformers/all-MiniLM-L6-v2" in card
    assert "# all-MiniLM-L6-v2 finetuned for retrieval" in card
    assert "940 (query, document) pairs from tests/fixtures/legal_rag_synthetic" in card
    assert "- Source: tests/fixtures/legal_rag_synthetic" in card
    assert "- Size: 940 training pairs (94 queries held out for model selection)" in card
    assert "- Layout: (query, positive document, 1 mined hard negative), read with the beir" in card
    assert "MatryoshkaLoss around MultipleNegativesRankingLoss, dims 384, 256, 128, 64" in card
    assert "Learning rate: 2e-05" in card and "base model (step 0) 0.7100" in card
    assert "**given**: the source's own train/test queries" in card
    assert "| 384 | 0.6450 | 0.6850 | +0.0400 | [+0.0200, +0.0600] | significant gain |" in card
    assert "| 64 | 0.4840 | 0.4340 | -0.0500 | [-0.0700, -0.0300] | significant loss |" in card
    assert (
        "| dims | ndcg@10 | mrr@10 | map@100 | recall@1 | recall@5 | recall@10 | recall@100 |"
        in card
    )
    assert "**Verdict:** Finetuned model kept" in card
    assert "site-packages" not in card
    assert not PLACEHOLDERS.search(card), PLACEHOLDERS.search(card)
    snippet = _snippet(card)
    assert f'SentenceTransformer("{tmp_path}", truncate_dim=256)' in snippet
    assert "encode_query(" in snippet and "encode_document(" in snippet


def test_card_of_a_base_kept_run_says_the_model_is_the_base(tmp_path):
    card = write_model_card(tmp_path, finetune_results(base_kept=True)).read_text("utf-8")
    assert "# all-MiniLM-L6-v2 (unchanged: finetuning did not beat it)" in card
    assert "**This folder holds the base model all-MiniLM-L6-v2, unchanged.**" in card
    assert "(ndcg@10@384: base 0.7100 on 94 validation queries)" in card
    assert "| dims | base | this model (= base) |" in card
    assert "base_model_relation" not in card  # nothing was finetuned into it
    assert not PLACEHOLDERS.search(card), PLACEHOLDERS.search(card)


def test_card_uses_the_hub_repo_when_pushed(tmp_path):
    results = finetune_results()
    results["push_to_hub"] = {"repo": "my-org/legal-minilm", "pushed": True, "error": None}
    card = write_model_card(tmp_path, results).read_text("utf-8")
    assert 'SentenceTransformer("my-org/legal-minilm", truncate_dim=256)' in _snippet(card)


def test_no_card_for_an_evaluation(tmp_path):
    with pytest.raises(ValueError, match="finetune run's results, not an evaluation"):
        write_model_card(tmp_path, evaluate_results())
    assert not (tmp_path / "README.md").exists()


def test_usage_snippet_runs_on_the_saved_model(tmp_path, base_model, capsys):
    model_dir = tmp_path / "model"
    base_model.save_pretrained(str(model_dir), safe_serialization=True)
    results = finetune_results()
    results["model_path"] = str(model_dir)
    card = write_model_card(model_dir, results).read_text("utf-8")
    namespace: dict = {}
    exec(compile(_snippet(card), "README.md", "exec"), namespace)  # noqa: S102 - our own card
    model = namespace["model"]
    assert model.get_sentence_embedding_dimension() == 256  # truncate_dim applied
    similarity = namespace["model"].similarity(namespace["queries"], namespace["documents"])
    assert similarity.shape == (1, 2)
    assert torch.argmax(similarity[0]).item() == 0  # the API-keys document answers the query
    assert "tensor(" in capsys.readouterr().out


def _front_matter(card: str) -> dict:
    import yaml

    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_card_written_in_staging_names_the_final_model_folder(tmp_path):
    staging = tmp_path / "run" / ".staging" / "model"
    staging.mkdir(parents=True)
    card = write_model_card(staging, finetune_results()).read_text("utf-8")
    assert ".staging" not in card
    assert f'SentenceTransformer("{tmp_path / "run" / "model"}", truncate_dim=256)' in card


def test_card_metadata_has_license_datasets_and_model_index(tmp_path, base_model_path):
    results = finetune_results()
    results["base_model"] = base_model_path  # its README says license: apache-2.0
    results["data"]["source"] = "my-org/legal-qa:train"
    meta = _front_matter(write_model_card(tmp_path, results).read_text("utf-8"))
    assert meta["license"] == "apache-2.0"
    assert meta["datasets"] == ["my-org/legal-qa"]
    assert meta["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    (index,) = meta["model-index"]
    assert index["name"] == "all-MiniLM-L6-v2 finetuned with embedtune"
    by_dim = {r["dataset"]["name"].rsplit(", ", 1)[1]: r for r in index["results"]}
    assert sorted(by_dim) == sorted(f"{d} dims" for d in results["dims"])
    for dim in results["dims"]:
        entry = by_dim[f"{dim} dims"]
        assert entry["task"]["type"] == "information-retrieval"
        metrics = {m["type"]: m["value"] for m in entry["metrics"]}
        assert metrics["cosine_ndcg@10"] == pytest.approx(results["finetuned"][str(dim)]["ndcg@10"])
        assert len(metrics) == len(results["finetuned"][str(dim)])


def test_card_without_known_license_or_hub_data_leaves_them_out(tmp_path):
    results = finetune_results()
    results["base_model_name"] = "my-org/never-downloaded"  # neither a folder nor cached
    meta = _front_matter(write_model_card(tmp_path, results).read_text("utf-8"))
    assert meta["base_model"] == "my-org/never-downloaded"
    assert "license" not in meta and "datasets" not in meta  # a local folder of data
    assert "model-index" in meta


def test_data_and_path_text_is_escaped_in_the_card(tmp_path):
    """The Hub renders a card's raw HTML and Markdown: a data path (or a base model name) that
    holds markup is shown as text (issue 19, item 14)."""
    payload = "<img src=x onerror=alert(1)>"
    results = finetune_results()
    results["data"]["source"] = f"/data/{payload}[click](javascript:x).jsonl"
    results["base_model_name"] = f"<script>alert(2)</script>{payload}"
    results["model_name"] = results["base_model_name"]
    card = write_model_card(tmp_path, results).read_text("utf-8")
    body = card.split("\n---\n", 1)[1]  # the front matter is YAML (quoted), never rendered
    assert "<img" not in body and "<script" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert r"\[click\](javascript:x).jsonl" in body
    assert "- Source: /data/&lt;img" in body


def test_card_and_report_show_the_learning_rate_sweep(tmp_path):
    """`learning_rate: auto`: each candidate's validation score, which went on and why, and the
    training time of them all, in the card and in report.html."""
    from embedtune.reporting.html_report import render_html_report

    results = finetune_results()
    results["training"]["learning_rate"] = 5e-5
    results["training"]["learning_rate_sweep"] = [
        {"learning_rate": 5e-5, "slice_steps": 14, "slice_score": 0.76012, "slice_seconds": 70.2,
         "continued": True, "best_score": 0.771},
        {"learning_rate": 2e-4, "slice_steps": 14, "slice_score": 0.75398, "slice_seconds": 68.9,
         "continued": False, "best_score": None},
    ]  # fmt: skip
    card = write_model_card(tmp_path, results).read_text(encoding="utf-8")
    assert "Learning_rate auto chose 5e-05 by successive halving" in card
    assert "validation (ndcg@10@384) at step 14: lr 5e-05 0.7601, lr 0.0002 0.7540" in card
    assert "a tie goes to the lower rate" in card
    assert "training time of all candidates 123 s" in card
    page = render_html_report(results)
    assert "Learning rate: auto" in page
    row = re.sub(r"<[^>]+>", "|", page.split("Learning rate: auto")[1].split("</table>")[0])
    assert re.search(r"0\.0002\|+0\.7540\|+69\|+stopped", row), row
    assert re.search(r"5e-05\|+0\.7601\|+70\|+went on, chosen", row), row


def test_card_says_the_training_time_of_one_rate(tmp_path):
    card = write_model_card(tmp_path, finetune_results()).read_text(encoding="utf-8")
    assert "- Training time: 123 s" in card and "learning_rate auto" not in card
