"""One source of defaults: FinetuneConfig's dataclass fields. configs/embeddings.yaml lists every
field with exactly that default, and `embedtune finetune` has a flag for every field (or the
field is in the documented YAML_ONLY list) whose default is None, so the dataclass decides."""

from __future__ import annotations

import argparse
import dataclasses

import pytest
import yaml

from embedtune.cli_flags import (
    FINETUNE,
    FLAGS,
    YAML_ONLY,
    default_text,
    field_defaults,
)
from embedtune.cli_parser import build_parser
from embedtune.config import FinetuneConfig, load_config
from tests.conftest import REPO_ROOT

YAML_PATH = REPO_ROOT / "configs" / "embeddings.yaml"
FIELDS = [f.name for f in dataclasses.fields(FinetuneConfig)]


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def _settings_actions(name: str) -> dict[str, argparse.Action]:
    return {a.dest: a for a in _subparser(name)._actions if a.dest in FIELDS}


def test_yaml_lists_every_field_with_the_dataclass_default():
    values = yaml.safe_load(YAML_PATH.read_text(encoding="utf-8"))
    defaults = field_defaults()
    assert list(values) == FIELDS, "the YAML lists the fields in the dataclass order"
    drifted = {k: (values[k], defaults[k]) for k in FIELDS if values[k] != defaults[k]}
    assert not drifted, f"YAML value vs dataclass default: {drifted}"
    for name, value in values.items():  # same types too (YAML reads 2e-4 as a string)
        assert type(value) is type(defaults[name]), name


def test_every_field_has_a_finetune_flag_or_is_documented_yaml_only():
    actions = _settings_actions(FINETUNE)
    missing = sorted(set(FIELDS) - set(actions) - set(YAML_ONLY))
    assert not missing, f"fields without a `finetune` flag: {missing}"
    assert not set(YAML_ONLY) & set(actions), "a YAML_ONLY field has a flag after all"
    assert set(YAML_ONLY) <= set(FIELDS), "YAML_ONLY names a field that no longer exists"
    yaml_text = YAML_PATH.read_text(encoding="utf-8")
    for name in YAML_ONLY:
        assert "YAML-only" in yaml_text and f"\n{name}:" in yaml_text
    help_text = _subparser(FINETUNE).format_help()
    for name in YAML_ONLY:
        assert f"{name}:" in help_text, f"--help does not say that {name} is YAML-only"


def test_setting_flags_default_to_none_and_show_the_dataclass_default():
    defaults = field_defaults()
    for command in ("finetune", "evaluate"):
        for name, action in _settings_actions(command).items():
            assert action.default is None, f"{command} {action.option_strings} default"
            assert action.help, f"{command} {action.option_strings} has no help"
            if not (command == "evaluate" and name == "output"):
                shown = default_text(name, defaults).replace("%", "%%")
                assert f"(default: {shown})" in action.help, action.option_strings


def test_no_flags_equals_the_yaml_equals_the_library_default(tmp_path, monkeypatch):
    """`embedtune finetune` (no flags), `--config configs/embeddings.yaml` (run.py, make run)
    and `load_config()` (a notebook) resolve to the same configuration."""
    from embedtune.cli import finetune_config

    monkeypatch.chdir(tmp_path)
    parser = build_parser()
    no_flags = finetune_config(parser.parse_args(["finetune"]))
    with_yaml = finetune_config(parser.parse_args(["finetune", "--config", str(YAML_PATH)]))
    library = load_config()
    assert no_flags == with_yaml == library
    assert library.max_seq_length is None  # from the data at run time, not a YAML override


@pytest.mark.parametrize("flag", FLAGS, ids=lambda f: f.name)
def test_each_flag_reaches_its_setting(flag, tmp_path, monkeypatch):
    """A value given on the command line arrives in FinetuneConfig under the field's name."""
    from embedtune.cli import finetune_config

    monkeypatch.chdir(tmp_path)
    samples = {
        "data": ("x.jsonl", "x.jsonl"),
        "split": ("by-query", "by-query"),
        "dims": ("384,128", [384, 128]),
        "loss": ("gist", "gist"),
        "best_dim": ("384", 384),
        "lr_scheduler_type": ("linear", "linear"),
        "output": ("elsewhere", "elsewhere"),
        "eval_every": ("0.5", 0.5),
        "hard_negative_range_max": ("40", 40),
        "num_negatives": ("2", 2),
        "index": ("faiss-flat", "faiss-flat"),
        "model_dtype": ("bfloat16", "bfloat16"),
        "export": ("onnx-int8", "onnx-int8"),
        "false_negatives": ("drop", "drop"),
        "lora_target_modules": ("query,value", "query,value"),
    }
    kind = str({f.name: f.type for f in dataclasses.fields(FinetuneConfig)}[flag.name])
    default = field_defaults()[flag.name]
    if kind.startswith("bool"):
        args = [flag.option if not default else "--no-" + flag.option[2:]]
        expected: object = not default
    elif flag.name in samples:
        text, expected = samples[flag.name]
        args = [flag.option, text]
    elif kind.startswith("int"):
        args, expected = [flag.option, "3"], 3
    elif kind.startswith("float"):
        args, expected = [flag.option, "0.3"], 0.3
    else:
        args, expected = [flag.option, "some text"], "some text"
    if flag.name in ("query_column", "document_column", "negative_column"):
        args += ["--data", "x.jsonl"]
    if flag.name in ("lora_alpha", "lora_target_modules"):
        args += ["--lora", "8"]
    parsed = build_parser().parse_args(["finetune", *args])
    if flag.name in ("base_model", "rescore_model", "filter_cross_encoder"):
        assert getattr(parsed, flag.name) == expected  # resolving needs a real model folder
        return
    config = finetune_config(parsed)
    assert getattr(config, flag.name) == expected


def test_every_generate_setting_has_a_flag_that_reaches_it():
    from embedtune.cli import generate_config
    from embedtune.synthetic.cli import GENERATE, GENERATE_FLAGS, GENERATE_OPTIONS
    from embedtune.synthetic.generate import GenerateConfig

    names = [f.name for f in dataclasses.fields(GenerateConfig) if f.name != "docs"]
    assert not set(names) - set(GENERATE_FLAGS), "GenerateConfig fields without a flag"
    defaults = field_defaults(GenerateConfig)
    args = ["--docs", "a", "b"]
    expected = {"docs": ["a", "b"]}
    for name in names:
        kind = GENERATE_FLAGS[name][2]
        option = GENERATE_OPTIONS.get(name, "--" + name.replace("_", "-"))
        if kind is bool:
            args.append(option)
            expected[name] = True
        else:
            value = {int: "7", float: "2.5", str: "text"}[kind]
            args += [option, value]
            expected[name] = kind(value)
    parser = build_parser()
    defaults_only = generate_config(parser.parse_args([GENERATE, "--docs", "a"]))
    assert dataclasses.asdict(defaults_only) == {**defaults, "docs": ["a"]}
    config = generate_config(parser.parse_args([GENERATE, *args]))
    assert {k: getattr(config, k) for k in expected} == expected
    generate = _subparser(GENERATE)
    generate.format_help()  # adds its flags on first use
    for action in generate._actions:
        if action.dest in names:
            assert action.default is None and "(default: " in action.help, action.dest


def test_the_yaml_is_the_rendering_of_the_dataclass():
    """configs/embeddings.yaml is rendered from the fields' metadata (embedtune/config_yaml.py):
    a changed default, help text or None meaning shows up here until the file is re-rendered."""
    from embedtune.config_yaml import render_config_yaml

    assert YAML_PATH.read_text(encoding="utf-8") == render_config_yaml(), (
        "re-render it: python -m embedtune.config_yaml > configs/embeddings.yaml"
    )


def test_resume_and_curve_lists_come_from_the_fields():
    """Each setting is described once: what shapes training (resume's check) and what the
    learning curve leaves out are read from the field metadata, not kept as lists."""
    from embedtune.curve.cli import NOT_OFFERED
    from embedtune.settings import settings_of
    from embedtune.training.resume_guard import SHAPING

    infos = {info.name: info for info in settings_of(FinetuneConfig)}
    assert set(SHAPING) == {n for n, i in infos.items() if i.shapes_training}
    assert {"model_dtype", "gather_across_devices", "learning_rate", "seed"} <= set(SHAPING)
    assert {"eval_batch_size", "output", "push_to_hub"}.isdisjoint(SHAPING)
    assert set(NOT_OFFERED) == {n for n, i in infos.items() if not i.curve and i.commands}
    assert {"resume", "push_to_hub", "export"} <= set(NOT_OFFERED)
