"""`embedtune finetune --pipeline` against a real local ZenML server (issue 22 item 3, issue 20
item 4): the REST store, not the SQLite file. The run's id, model version and dashboard URL are
on stdout; the model version, its metadata and the report artifact are read back through the
ZenML client (and the report's visualizations through the server's REST API, as the dashboard
reads them); the README's snippet that lists model versions runs against the same server.
"""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest

from tests.conftest import REPO_ROOT, ZENML_QA, fixture_path
from tests.pipelines.zenml_server import local_zenml_server, server_stopped

MODEL_NAME = "embedtune-finetuned-embeddings"
TINY = (
    "--max-seq-length", "32", "--dims", "384,64", "--batch-size", "16", "--epochs", "1",
    "--learning-rate", "1e-4", "--no-hard-negatives",
)  # fmt: skip

# Run by the client of the server: everything the test checks, read back through ZenML.
READ_BACK = r"""
import json, sys, urllib.request
from zenml.client import Client
from zenml.enums import StoreType

run_id, version_name, model_name = sys.argv[1:4]
client = Client()
store = client.zen_store
run = client.get_pipeline_run(run_id)
version = client.get_model_version(model_name, version_name)
report_artifact = run.steps["visualize_evaluation"].outputs["evaluation_report"][0]
report = report_artifact.load()
visualizations = []
for index in range(len(report_artifact.visualizations or [])):
    url = f"{store.url}/api/v1/artifact_versions/{report_artifact.id}/visualize?index={index}"
    with urllib.request.urlopen(url, timeout=60) as answer:  # the local server: no login
        shown = json.load(answer)
    visualizations.append({"type": shown["type"], "head": shown["value"][:40]})
print("READ_BACK", json.dumps({
    "rest": store.type == StoreType.REST,
    "store_url": store.url,
    "status": str(run.status),
    "steps": sorted(run.steps),
    "run_model_version": run.model_version.name if run.model_version else None,
    "version_run_ids": [
        str(link.pipeline_run.id)
        for link in client.list_model_version_pipeline_run_links(model_version_id=version.id)
    ],
    "metadata": version.run_metadata,
    "artifacts": sorted(
        {a.name for a in client.list_artifact_versions(model_version_id=version.id, size=100)}
    ),
    "report_results": report.results,
    "report_html": report.html[:200],
    "visualizations": visualizations,
}, default=str))
"""


def _readme_snippet() -> str:
    """The README's Python block that lists model versions with their metrics."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    found = [block for block in blocks if "list_model_versions" in block]
    assert len(found) == 1, "README.md should hold one snippet listing model versions"
    return found[0]


@pytest.fixture(scope="module")
def server_run(tmp_path_factory):
    """One local server, one `finetune --pipeline` run on tiny data against it."""
    root = tmp_path_factory.mktemp("zenml-server")
    data = root / "pairs.jsonl"
    lines = fixture_path(ZENML_QA / "pairs.jsonl").read_text(encoding="utf-8").splitlines(True)
    data.write_text("".join(lines[:40]), encoding="utf-8")
    with local_zenml_server(root) as server:
        done = server.run(
            [
                sys.executable,
                "-m",
                "embedtune",
                "finetune",
                "--pipeline",
                "--data",
                str(data),
                "--output",
                str(root / "out"),
                *TINY,
            ],  # fmt: skip
            timeout=600,
        )
        assert done.returncode == 0, server.stderr_tail()
        yield server, json.loads(done.stdout), root / "out"
    assert server_stopped(server.url), "the local ZenML server is still answering"
    shutil.rmtree(root, ignore_errors=True)  # the model, twice (OUTPUT and the artifact store)


@pytest.mark.slow
def test_finetune_pipeline_runs_against_a_zenml_server_and_reads_back(server_run):
    server, summary, out = server_run
    zenml = summary["zenml"]
    assert zenml["server"] == server.url
    assert zenml["dashboard_url"] == f"{server.url}/projects/default/runs/{zenml['run_id']}"
    assert zenml["model"] == MODEL_NAME and zenml["model_version"]

    script = server.root / "read_back.py"  # a file: ZenML takes its folder as the source root
    script.write_text(READ_BACK, encoding="utf-8")
    done = server.run(
        [sys.executable, str(script), zenml["run_id"], zenml["model_version"], MODEL_NAME],
        timeout=180,
    )
    assert done.returncode == 0, server.stderr_tail()
    # ZenML prints its warnings on stdout too: the answer is the line marked READ_BACK
    back = json.loads(done.stdout.split("READ_BACK ", 1)[1])
    assert back["rest"] and back["store_url"] == server.url  # the REST store, not SQLite
    assert back["status"] == "completed"
    assert {"load_and_split_data", "finetune_model", "visualize_evaluation"} <= set(back["steps"])
    assert back["run_model_version"] == zenml["model_version"]
    assert zenml["run_id"] in back["version_run_ids"]

    metadata = back["metadata"]
    assert {"training_parameters", "hardware", "base_evaluation", "finetuned_evaluation"} <= set(
        metadata
    )
    assert metadata["training_parameters"]["max_seq_length"] == 32
    assert {"train_pairs", "test_set", "finetuned_model", "evaluation_report"} <= set(
        back["artifacts"]
    )
    # The report artifact holds the same results as OUTPUT/results.json, and the metadata's
    # scores are the report's.
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert back["report_results"]["finetuned"] == results["finetuned"]
    assert metadata["results"]["selected_model"] == results["verdict"]["selected"]
    dim = metadata["results"]["dims"]["384"]
    assert dim["finetuned"] == round(results["finetuned"]["384"]["ndcg@10"], 4)
    assert back["report_html"].startswith("<!")
    # what the dashboard shows: the chart (PNG) and the HTML report, served by the server
    assert [v["type"] for v in back["visualizations"]] == ["image", "html"]
    assert back["visualizations"][1]["head"].startswith("<!")


@pytest.mark.slow
def test_the_readme_snippet_lists_model_versions_with_their_metrics(server_run):
    server, summary, out = server_run
    script = server.root / "readme_snippet.py"
    script.write_text(_readme_snippet(), encoding="utf-8")
    done = server.run([sys.executable, str(script)], timeout=120)
    assert done.returncode == 0, server.stderr_tail()
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    base = results["base"]["384"]["ndcg@10"]
    finetuned = results["finetuned"]["384"]["ndcg@10"]
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(MODEL_NAME)), None)
    assert line is not None, done.stdout
    assert f"({results['verdict']['selected']}) ndcg@10" in line
    assert f"384: {base:.4f} -> {finetuned:.4f}" in line
