"""Issue 10 #9-#12: settings are checked, and coerced where that is unambiguous, before any work."""

from __future__ import annotations

import pytest

from embedtune.config import load_config
from embedtune.errors import ConfigError


def test_numeric_strings_from_yaml_are_accepted(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 2e-4\nepochs: '3'\n")  # PyYAML reads 2e-4 as a string
    config = load_config(path, output=str(tmp_path / "out"))
    assert config.learning_rate == 2e-4 and config.epochs == 3


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"epochs": "two"}, "epochs must be an integer, got 'two'"),
        ({"learning_rate": "nan"}, "learning_rate must be a finite number"),
        ({"learning_rate": float("inf")}, "learning_rate must be a finite number"),
        ({"max_seq_length": 4096}, "above the model's limit of 512 tokens"),
        ({"extra": {"no_such_argument": 1}}, "extra: unknown training argument"),
        ({"lr_scheduler_type": "cosinus"}, "lr_scheduler_type must be one of"),
        ({"data": ""}, "--data is empty"),
    ],
)
def test_bad_values_are_refused_at_construction(tmp_path, setting, message):
    with pytest.raises(ConfigError, match=message):
        load_config(output=str(tmp_path / "out"), **setting)
    assert not (tmp_path / "out").exists()
