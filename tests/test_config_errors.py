"""Bad settings: a ConfigError naming the setting (library) or exit code 2 (CLI), and nothing
written to the output folder first."""

from __future__ import annotations

import pytest

from embedtune.cli import main
from embedtune.config import load_config, resolve_dims, validate_dims
from embedtune.errors import ConfigError
from tests.helpers import cli_error, pairs, write_jsonl


def test_subset_sizes_below_one_are_refused(tmp_path, capsys):
    with pytest.raises(ConfigError, match="max_test_queries"):
        load_config(max_test_queries=0)
    with pytest.raises(ConfigError, match="max_train_pairs"):
        load_config(max_train_pairs=-1)
    path = write_jsonl(tmp_path / "p.jsonl", pairs())
    err = cli_error(
        capsys, ["finetune", "--data", str(path), "--max-test-queries", "0"], tmp_path / "out"
    )
    assert "max_test_queries" in err


@pytest.mark.parametrize(
    ("dims", "message"),
    [
        ([64, 128], "largest first"),
        ([256, 128, 128], "duplicates"),
        ([256, 0], "positive"),
        ([256, -64], "positive"),
        ([], "at least one"),
    ],
)
def test_bad_matryoshka_dims(tmp_path, capsys, dims, message):
    with pytest.raises(ConfigError, match=message):
        validate_dims(dims, 384)
    with pytest.raises(ConfigError, match=message):
        load_config(dims=dims)
    path = write_jsonl(tmp_path / "p.jsonl", pairs())
    text = ",".join(map(str, dims))
    err = cli_error(capsys, ["finetune", "--data", str(path), f"--dims={text}"], tmp_path / "out")
    assert message in err


def test_dims_above_the_model_dimension(tmp_path, capsys, base_model_path):
    with pytest.raises(ConfigError, match="above the model's dimension 384"):
        resolve_dims([512, 256], 384)
    path = write_jsonl(tmp_path / "p.jsonl", pairs())
    args = ["finetune", "--data", str(path), "--dims", "512,256", "--base-model", base_model_path]
    err = cli_error(capsys, args, tmp_path / "out")
    assert "above the model's dimension 384" in err


def test_dims_that_are_not_numbers(tmp_path, capsys):
    with pytest.raises(SystemExit, match="^2$"):  # argparse's usage error
        main(["finetune", "--dims", "384,big", "--output", str(tmp_path / "out")])
    assert "comma-separated integers" in capsys.readouterr().err


def test_best_dim_not_among_dims():
    with pytest.raises(ConfigError, match="best_dim 100"):
        load_config(dims=[384, 128], best_dim=100)


def test_trust_remote_code_is_off_by_default():
    assert load_config().trust_remote_code is False


def test_null_in_a_yaml_config_is_a_clear_error(tmp_path):
    from embedtune.config import load_config
    from embedtune.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text("epochs: null\n")
    with pytest.raises(ConfigError, match="epochs must not be null; leave it out"):
        load_config(path)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lora": 0}, "rank"),
        ({"lora": 8, "lora_dropout": 1.0}, "lora_dropout"),
        ({"lora": 8, "lora_alpha": -1}, "lora_alpha must be positive"),
        ({"lora": 8, "lora_target_modules": " , "}, "lora_target_modules is empty"),
        ({"lora_alpha": 16}, "give --lora RANK"),
        ({"merge_base": 1.5}, "merge_base"),
        ({"merge_base": "half"}, "merge_base must be a number"),
        ({"index": "annoy"}, "index must be one of"),
        ({"export": "tflite"}, "export must be one of"),
        ({"guard_data": " "}, "guard-data is empty"),
    ],
)
def test_bad_lora_guard_index_and_export_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        load_config(**settings)


def test_merge_base_takes_auto_or_a_ratio():
    assert load_config(merge_base="auto").merge_base == "auto"
    assert load_config(merge_base="0.25").merge_base == 0.25
