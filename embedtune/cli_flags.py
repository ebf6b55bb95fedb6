"""The `embedtune` argument parser: one flag per FinetuneConfig field, defaults from the dataclass.

Every flag that maps to a setting defaults to None, so the dataclass stays the one source of
defaults (YAML and flags only override); its help shows the dataclass default.
tests/test_config_drift.py fails when a field has no flag here and is not in YAML_ONLY.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import sys
import textwrap
from typing import Any

from embedtune.config import FinetuneConfig, parse_dims
from embedtune.errors import EmbedtuneError
from embedtune.logging_setup import LOG_FORMATS
from embedtune.settings import EVALUATE, FINETUNE, SettingInfo, settings_of

EVALUATE_OUTPUT = "outputs/evaluate"  # never a finetune run's folder

# Every setting's flag, help, group and None meaning come from its FinetuneConfig field
# (embedtune/settings.py): nothing about a setting is written here.
Flag = SettingInfo
SETTINGS = settings_of(FinetuneConfig)
FLAGS = tuple(info for info in SETTINGS if info.commands)
# Settings with no flag, and why. Set them in a YAML file given with --config.
YAML_ONLY = {info.name: info.yaml_only for info in SETTINGS if info.yaml_only}
# What None means for a setting whose dataclass default is None.
NONE_MEANS = {info.name: info.none_means for info in SETTINGS if info.none_means}

EXIT_CODES = """exit codes:
  0    success
  2    user error: a bad flag, setting, data file or output folder (nothing written)
  3    finetune --strict: finetuning did not beat the base model on validation (base kept)
  130  interrupted (Ctrl-C)"""
_STRICT_LINE = EXIT_CODES.splitlines()[3] + "\n"
EXIT_CODES_NO_STRICT = EXIT_CODES.replace(_STRICT_LINE, "")


EXAMPLES = {
    FINETUNE: """examples:
  embedtune finetune                                   # built-in data, every default
  embedtune finetune --data path/to/beir --split given --strict
  embedtune finetune --data pairs.csv --query-column question --dry-run""",
    EVALUATE: """examples:
  embedtune evaluate --model outputs/embedtune/model
  embedtune evaluate --model outputs/legal/model --data path/to/beir --output outputs/legal-eval
  embedtune evaluate --model BAAI/bge-small-en-v1.5 --data pairs.jsonl --dims 384,128""",
}


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows defaults; keeps the examples' line breaks. Setting flags default to None (the
    dataclass decides), so their help carries the dataclass default instead of "None"."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        if "(default:" in help_text or action.default in (None, False):
            return help_text
        return super()._get_help_string(action)


def field_defaults(cls: type = FinetuneConfig) -> dict[str, Any]:
    """The raw dataclass defaults (not a constructed instance: __post_init__ resolves some)."""
    defaults = {}
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            defaults[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            defaults[item.name] = item.default_factory()
    return defaults


def default_text(name: str, defaults: dict[str, Any] | None = None) -> str:
    """How --help shows a field's default, e.g. `0.0002`, `on`, `the model's own ...`."""
    value = (defaults or field_defaults())[name]
    if value is None:
        return NONE_MEANS.get(name, "unset")
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


def _field_type(name: str) -> str:
    return str({f.name: f.type for f in dataclasses.fields(FinetuneConfig)}[name])


def _dims_flag(text: str) -> list[int]:
    try:
        return parse_dims(text)
    except EmbedtuneError as err:  # argparse reports it with the usage line, exit code 2
        raise argparse.ArgumentTypeError(str(err)) from None


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=88)


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _learning_rate_flag(text: str) -> float | str:
    if text == "auto" or "," in text:  # candidate rates: checked by the config
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a number, comma-separated candidate rates or 'auto', got {text!r}"
        ) from None


def _add_setting(group: argparse._ArgumentGroup, flag: Flag, default_shown: str) -> None:
    kind = _field_type(flag.name)
    help_text = _escape(f"{flag.help} (default: {default_shown})")
    if kind.startswith("bool"):
        group.add_argument(
            flag.option, action=argparse.BooleanOptionalAction, default=None, help=help_text
        )
        return
    if flag.name == "dims":
        convert: Any = _dims_flag
    elif flag.name in ("learning_rate", "merge_base"):
        convert = _learning_rate_flag
    elif kind.startswith("int"):
        convert = int
    elif kind.startswith("float"):
        convert = float
    else:
        convert = str
    group.add_argument(
        flag.option,
        type=convert,
        default=None,
        metavar=None
        if flag.choices
        else flag.metavar or {int: "N", float: "X"}.get(convert, flag.name.upper()),
        choices=flag.choices,
        help=help_text,
    )


def _add_run_flags(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    group = parser.add_argument_group("run")
    group.add_argument(
        "--config", metavar="YAML", help="settings file, e.g. configs/embeddings.yaml (flags win)"
    )
    group.add_argument(
        "--dry-run",
        action="store_true",
        help="print the resolved settings and the data summary as JSON, then exit before "
        "loading any model weights",
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="write into an output folder that holds another kind of run (its files are replaced)",
    )
    return group


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """-v / --quiet / --log-format: the same on every subcommand."""
    group = parser.add_argument_group("output streams (results on stdout, logs on stderr)")
    noise = group.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", help="debug logs, library logs")
    noise.add_argument(
        "-q", "--quiet", action="store_true", help="warnings and errors only, no progress bars"
    )
    group.add_argument(
        "--log-format", choices=LOG_FORMATS, default="text", help="stderr log lines as text or JSON"
    )


def _add_settings(parser: argparse.ArgumentParser, command: str) -> None:
    defaults = field_defaults()
    groups: dict[str, argparse._ArgumentGroup] = {}
    for flag in FLAGS:
        if command not in flag.commands:
            continue
        if flag.group not in groups:
            groups[flag.group] = parser.add_argument_group(flag.group)
        shown = default_text(flag.name, defaults)
        if command == EVALUATE and flag.name == "output":
            shown = EVALUATE_OUTPUT
        _add_setting(groups[flag.group], flag, shown)


def add_finetune_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        FINETUNE,
        help="finetune and evaluate base vs finetuned",
        description=_wrap(
            "Finetune a sentence-embedding model for retrieval and evaluate it against the base "
            "model. Settings: the defaults shown below, then --config YAML, then flags. Set only "
            "in YAML: " + "; ".join(f"{name}: {why}" for name, why in YAML_ONLY.items())
        ),
        epilog=f"{EXIT_CODES}\n\n{EXAMPLES[FINETUNE]}",
        formatter_class=HelpFormatter,
    )
    _add_settings(parser, FINETUNE)
    run_flags = _add_run_flags(parser)
    run_flags.add_argument(
        "--pipeline", action="store_true", help="run as the ZenML pipeline finetune_embeddings"
    )
    run_flags.add_argument(
        "--remote-config",
        metavar="YAML",
        help="with --pipeline: Docker image, GPUs/memory and step operator for a remote ZenML "
        "stack, e.g. configs/remote.yaml (docs/remote.md)",
    )
    add_output_flags(parser)


def add_evaluate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        EVALUATE,
        help="evaluate one model on held-out queries",
        description=_wrap(
            "Evaluate one model on the held-out queries of a data source (the same split and "
            "metrics as finetune)."
        ),
        epilog=f"{EXIT_CODES_NO_STRICT}\n\n{EXAMPLES[EVALUATE]}",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--model", required=True, metavar="ID_OR_PATH", help="model to evaluate: hub id or folder"
    )
    _add_settings(parser, EVALUATE)
    _add_run_flags(parser)
    add_output_flags(parser)


# Names users bring from Hugging Face's TrainingArguments / run scripts, and short forms: the
# error for them names embedtune's flag (a flag spelled with underscores is simply accepted).
OTHER_SPELLINGS = {
    "--lr": "--learning-rate",
    "--num-train-epochs": "--epochs",
    "--per-device-train-batch-size": "--batch-size",
    "--train-batch-size": "--batch-size",
    "--per-device-eval-batch-size": "--eval-batch-size",
    "--output-dir": "--output",
    "--model-name-or-path": "--base-model",
    "--model-name": "--base-model",
    "--max-seq-len": "--max-seq-length",
    "--dataset": "--data",
    "--dataset-name": "--data",
    "--lora-r": "--lora",
    "--lr-scheduler": "--lr-scheduler-type",
}


class Parser(argparse.ArgumentParser):
    """No prefix abbreviations (`--lr 1e-4` is not `--lr-scheduler-type`): every parser of the
    CLI is one of these."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def option_names(self) -> set[str]:
        return {o for a in self._actions for o in a.option_strings if o.startswith("--")}


class TopParser(Parser):
    """`embedtune`: accepts a flag spelled with underscores (`--learning_rate`, the Hugging Face
    spelling) as the hyphenated one; an unknown flag gets "did you mean"."""

    def _subcommands(self) -> dict[str, argparse.ArgumentParser]:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        argv = list(sys.argv[1:] if args is None else args)
        commands = self._subcommands()
        name = next((a for a in argv if a in commands), None)
        command = commands.get(name) if name else None
        if isinstance(command, LazyParser):
            command._populate()
        if command is not None:
            argv = underscore_spellings(argv, command)
        parsed, extras = self.parse_known_args(argv, namespace)
        if extras:
            message = unknown_flags_message(extras, command, commands)
            (command or self).error(message)
        return parsed


def underscore_spellings(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """--learning_rate -> --learning-rate (and --learning_rate=X), when that is a flag here."""
    known = {o for a in parser._actions for o in a.option_strings}
    out, rest = [], False
    for token in argv:
        if token == "--":
            rest = True
        if not rest and token.startswith("--") and "_" in token:
            flag, eq, value = token.partition("=")
            hyphenated = "--" + flag[2:].replace("_", "-")
            if hyphenated in known:
                token = hyphenated + eq + value
        out.append(token)
    return out


def unknown_flags_message(
    extras: list[str],
    command: argparse.ArgumentParser | None,
    commands: dict[str, argparse.ArgumentParser],
) -> str:
    """argparse's "unrecognized arguments" line, then for each unknown flag the flag meant:
    embedtune's name for a Hugging Face spelling, a close match, or the command that has it."""
    lines = [f"unrecognized arguments: {' '.join(extras)}"]
    known = command.option_names() if isinstance(command, Parser) else set()
    for token in extras:
        if not token.startswith("--"):
            continue
        flag = token.partition("=")[0]
        normal = "--" + flag[2:].replace("_", "-").lower()
        meant = OTHER_SPELLINGS.get(normal)
        if meant in known:
            lines.append(f"  {flag}: did you mean {meant}? (embedtune's name for it)")
            continue
        close = [o for o in sorted(known) if o.startswith(normal)][:3]  # no abbreviations
        close = close or difflib.get_close_matches(normal, sorted(known), n=2, cutoff=0.75)
        if close:
            lines.append(f"  {flag}: did you mean {' or '.join(close)}?")
            continue
        elsewhere = [
            name
            for name, other in commands.items()
            if other is not command
            and isinstance(other, Parser)
            and getattr(other, "populate", None) is None  # never imports generate's modules
            and normal in other.option_names()
        ]
        if elsewhere:
            lines.append(f"  {flag} is a flag of `embedtune {elsewhere[0]}`, not of this command")
    return "\n".join(lines)


class LazyParser(Parser):
    """A subcommand parser that adds its flags on first use (parsing or help), so that
    `embedtune finetune` never imports the generator's modules."""

    populate: Any = None

    def _populate(self) -> None:
        if self.populate is not None:
            populate, self.populate = self.populate, None
            populate(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._populate()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._populate()
        return super().format_help()


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The FinetuneConfig overrides a command line gives (None: not given)."""
    names = {flag.name for flag in FLAGS}
    return {name: value for name, value in vars(args).items() if name in names}
