"""configs/remote.yaml: the remote-stack settings reach the ZenML run (Docker settings on the
pipeline, resources on the finetune and evaluation steps, the step operator by name), the run
still finishes on the local orchestrator, and every output is an artifact OUTPUT can be rebuilt
from (as after a remote run)."""

from __future__ import annotations

import json
import re

import pytest

from embedtune.errors import ConfigError
from embedtune.pipelines.remote_settings import (
    EVALUATION_STEPS,
    FINETUNE_STEP,
    RemoteSettings,
    load_remote_settings,
    project_requirements,
    step_configurations,
)
from tests.conftest import REPO_ROOT, ZENML_QA


def _tiny_config(output, **overrides):
    from embedtune.config import load_config

    return load_config(
        data=str(ZENML_QA / "pairs.jsonl"),
        max_seq_length=32,
        max_train_pairs=16,
        batch_size=8,
        dims=[384, 64],
        epochs=1,
        eval_every=0.5,
        learning_rate=5e-5,
        hard_negatives=False,
        baselines=False,
        validation_fraction=0.25,
        output=str(output),
        **overrides,
    )


def test_the_shipped_remote_yaml_loads():
    remote = load_remote_settings(REPO_ROOT / "configs" / "remote.yaml")
    assert remote.gpus == 1 and remote.memory == "32GB" and remote.step_operator is None


def _write(tmp_path, text: str):
    path = tmp_path / "remote.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("gpu: 1\n", r"remote\.yaml: unknown keys \['gpu'\]"),
        ("memory: lots\n", r"memory must be a number and a unit such as 32GB"),
        ("gpus: -1\n", r"gpus must be a whole number >= 0"),
        ("extras: [gpu]\n", r"extras \['gpu'\] are not extras of embedtune"),
        ("environment:\n  HF_TOKEN: hf_x\n", r"\['HF_TOKEN'\] look like secrets"),
        ("python_package_installer: conda\n", r"must be one of pip, uv"),
        ("- a list\n", r"expected a mapping of settings"),
    ],
)
def test_bad_remote_yaml_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_remote_settings(_write(tmp_path, text))


@pytest.mark.slow
def test_remote_config_needs_pipeline(tmp_path, capsys):
    from embedtune.cli import main

    path = _write(tmp_path, "gpus: 1\n")
    code = main(["finetune", "--remote-config", str(path), "--output", str(tmp_path / "o")])
    assert code == 2
    assert re.search(r"--remote-config .* add --pipeline", capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_step_operator_goes_on_finetune_and_optionally_evaluation():
    both = step_configurations(RemoteSettings(step_operator="gpu-op", gpus=2))
    assert {step: c.get("step_operator") for step, c in both.items()} == {
        FINETUNE_STEP: "gpu-op",
        **dict.fromkeys(EVALUATION_STEPS, "gpu-op"),
    }
    assert all(c["settings"]["resources"].gpu_count == 2 for c in both.values())
    only_training = step_configurations(
        RemoteSettings(step_operator="gpu-op", step_operator_on_evaluation=False)
    )
    assert only_training == {FINETUNE_STEP: {"step_operator": "gpu-op"}}  # nothing else asked
    assert step_configurations(RemoteSettings()) == {}


def test_requirements_are_the_projects_own_pins():
    requirements = project_requirements(["faiss"])
    assert "zenml[local]==0.98.0" in requirements
    assert "sentence-transformers==6.2.0" in requirements
    assert any(r.startswith("faiss-cpu==") for r in requirements)
    assert "torch==2.13.0" in project_requirements([])
    # Under a CUDA parent image torch keeps pyproject's range (the image's own build stays).
    assert "torch<2.14,>=2.4" in project_requirements([], unpinned=("torch",))


@pytest.mark.slow
def test_a_step_operator_missing_from_the_stack_is_refused_before_any_step(tmp_path):
    """The step operator setting reaches ZenML's compiler, which checks it against the stack."""
    from zenml.client import Client
    from zenml.exceptions import StackValidationError

    from embedtune.pipelines.finetune_embeddings import run_pipeline

    runs_before = Client().list_pipeline_runs().total
    config = _tiny_config(tmp_path / "out")
    with pytest.raises(
        StackValidationError, match="'no-such-gpu-operator' which is not configured"
    ):
        run_pipeline(config, remote=RemoteSettings(step_operator="no-such-gpu-operator"))
    assert Client().list_pipeline_runs().total == runs_before  # refused before any step ran


@pytest.mark.slow
def test_remote_settings_reach_the_run_and_it_finishes_locally(tmp_path):
    from zenml.client import Client

    from embedtune.pipelines.finetune_embeddings import run_pipeline
    from embedtune.pipelines.remote_outputs import copy_run_outputs

    remote = RemoteSettings(
        gpus=1,
        memory="8GB",
        cpu_count=2,
        parent_image="pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
        extras=["faiss"],
        apt_packages=["git"],
        environment={"TOKENIZERS_PARALLELISM": "false"},
    )
    output = tmp_path / "out"
    results = run_pipeline(_tiny_config(output, deployment=True), remote=remote)

    run = Client().get_pipeline("finetune_embeddings").last_run
    assert run.status == "completed"
    docker = run.config.settings["docker"]
    docker = docker if isinstance(docker, dict) else docker.model_dump()
    assert docker["parent_image"] == remote.parent_image
    assert docker["requirements"] == project_requirements(["faiss"], unpinned=("torch",))
    assert docker["apt_packages"] == ["git"]
    assert docker["environment"] == {"TOKENIZERS_PARALLELISM": "false"}
    for step in (FINETUNE_STEP, *EVALUATION_STEPS):
        resources = run.steps[step].config.settings["resources"]
        resources = resources if isinstance(resources, dict) else resources.model_dump()
        assert (resources["gpu_count"], resources["memory"], resources["cpu_count"]) == (
            1,
            "8GB",
            2,
        )
        assert not run.steps[step].config.step_operator
    assert "resources" not in run.steps["save_model"].config.settings

    # Everything a user needs is an artifact: rebuilding OUTPUT from the artifacts alone (what
    # a remote run does) gives the files the local run wrote.
    report = run.steps["visualize_evaluation"].outputs["evaluation_report"][0].load()
    on_disk = json.loads((output / "per_query.json").read_text())
    assert report.per_query == on_disk and set(on_disk["models"]) == {"base", "finetuned"}
    copied = tmp_path / "copied"
    names = copy_run_outputs(run, copied)
    assert set(names) == {
        "model",
        "results.json",
        "evaluation.png",
        "report.html",
        "per_query.json",
        "deployment.json",  # --deployment: in the report artifact
    }
    assert json.loads((copied / "results.json").read_text()) == results
    deployment = json.loads((output / "deployment.json").read_text())
    assert json.loads((copied / "deployment.json").read_text()) == deployment
    assert results["deployment"]["cells"] == len(deployment["cells"]) > 0
    assert results["deployment"]["model"] == deployment["model"] == results["verdict"]["selected"]
    assert json.loads((copied / "per_query.json").read_text()) == on_disk
    assert (copied / "evaluation.png").read_bytes() == (output / "evaluation.png").read_bytes()
    assert (copied / "model" / "model.safetensors").is_file()
    assert (copied / "model" / "README.md").is_file()  # embedtune's model card


def test_an_exported_model_folder_is_an_artifact(tmp_path):
    """--export's OUTPUT/model-<format> goes to the artifact store and comes back whole."""
    from zenml.client import Client

    from embedtune.materializers.folder_materializer import ModelFolder, ModelFolderMaterializer

    folder = tmp_path / "model-onnx"
    (folder / "onnx").mkdir(parents=True)
    (folder / "onnx" / "model.onnx").write_bytes(b"\x08\x01" * 100)
    (folder / "config.json").write_text("{}")
    store = Client().active_stack.artifact_store
    uri = f"{store.path}/embedtune-tests/{tmp_path.name}"
    materializer = ModelFolderMaterializer(uri, artifact_store=store)
    materializer.save(ModelFolder(folder, "model-onnx"))
    loaded = materializer.load(ModelFolder)
    assert loaded.name == "model-onnx" and loaded.path != folder
    assert (loaded.path / "onnx" / "model.onnx").read_bytes() == b"\x08\x01" * 100
    assert (loaded.path / "config.json").read_text() == "{}"
    assert materializer.extract_metadata(loaded)["files"] == 2
    with pytest.raises(FileNotFoundError, match="no such folder"):
        materializer.save(ModelFolder(tmp_path / "missing", "model-onnx"))


@pytest.mark.slow
def test_a_step_in_another_container_writes_the_model_folder_it_pushes(tmp_path, short_model):
    """--push-to-hub on Kubernetes: visualize_evaluation runs where save_model did not, so the
    model folder is written there from the `finetuned_model` artifact, then pushed (offline
    here: the push fails, on the network, with the real folder in place)."""
    from embedtune.config import load_config
    from embedtune.hub import push_model
    from embedtune.pipelines.remote_outputs import ensure_model_folder

    config = load_config(
        None, output=str(tmp_path / "out"), max_seq_length=32, push_to_hub="someone/model"
    )
    staging = tmp_path / "pod" / ".staging"  # a fresh container: no model folder
    staging.mkdir(parents=True)
    assert ensure_model_folder(lambda: short_model, config, staging) is True
    assert (staging / "model" / "model.safetensors").is_file()
    assert (staging / "model" / "modules.json").is_file()
    assert ensure_model_folder(lambda: pytest.fail("loaded twice"), config, staging) is False
    pushed = push_model(staging / "model", "someone/model")
    assert pushed["pushed"] is False and pushed["repo"] == "someone/model"
    assert re.search(r"offline|connect|resolve|network", pushed["error"], re.IGNORECASE)
    assert "No such file" not in pushed["error"]
