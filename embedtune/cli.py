"""`embedtune` command line: thin over embedtune.workflow (and the ZenML pipelines).

stdout carries one JSON document (the run's summary, or the --dry-run plan); logs, progress and
warnings go to stderr. Exit codes: 0 ok, 2 user error, 3 --strict and the base model was kept,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM: handled the same way).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from embedtune.cli_flags import EVALUATE_OUTPUT, settings_from
from embedtune.cli_parser import build_parser
from embedtune.config import FinetuneConfig, load_config
from embedtune.errors import EmbedtuneError
from embedtune.logging_setup import configure_logging, stdout_reserved
from embedtune.pipelines.source_root import pin_zenml_source_root

logger = logging.getLogger("embedtune")

EXIT_OK, EXIT_USER_ERROR, EXIT_BASE_KEPT, EXIT_INTERRUPTED = 0, 2, 3, 130
EXIT_TERMINATED = 143  # 128 + SIGTERM


BUILT_IN_DATA = "built-in demonstration data (Python documentation, offline queries)"
# save_to_disk / generate markers: a folder holding one of these is a dataset, not documents.
_DATASET_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")
_TABLE_SUFFIXES = (".json", ".jsonl", ".csv", ".parquet", ".tsv")


def check_sources(args: argparse.Namespace) -> None:
    """The refusals that need no model or data library, before any heavy import: a missing
    --data/--guard-data file, a folder of documents given as data, a Hub model while
    HF_HUB_OFFLINE is set."""
    for flag in ("data", "guard_data"):
        value = getattr(args, flag, None)
        if value:
            check_local_source(str(value), "--" + flag.replace("_", "-"))
    for flag in ("base_model", "model"):
        value = getattr(args, flag, None)
        if value:
            check_hub_model(str(value), "--" + flag.replace("_", "-"))


def check_local_source(source: str, flag: str) -> None:
    from embedtune.errors import DataError

    if source.startswith("argilla:"):
        return
    path = Path(source).expanduser()
    if path.is_dir():
        if _is_document_folder(path):
            raise DataError(
                f"{flag} is a folder of documents, not retrieval data (no corpus.jsonl and "
                "queries.jsonl, no saved dataset)",
                path=source,
                hint=f"make (query, document) examples from it first: `embedtune generate --docs "
                f"{source} --output outputs/generated`, then `{flag} outputs/generated`",
            )
        return
    if path.exists():
        return
    hub_id = source.partition(":")[0]
    looks_local = (
        source.startswith(("/", ".", "~", "\\"))
        or hub_id.count("/") > 1
        or Path(hub_id).suffix.lower() in _TABLE_SUFFIXES
    )
    if looks_local:  # the same words as the data loader's, seconds sooner
        if flag == "--data":
            raise DataError("file not found", path=source)
        raise DataError(f"{flag} {source}: file not found")


def _is_document_folder(path: Path) -> bool:
    from embedtune.synthetic.documents import SUPPORTED_SUFFIXES

    if (path / "corpus.jsonl").exists() or any((path / m).exists() for m in _DATASET_MARKERS):
        return False
    try:
        files = [p for _, p in zip(range(500), path.rglob("*"), strict=False) if p.is_file()]
    except OSError:
        return False
    if any(p.suffix.lower() in (*_TABLE_SUFFIXES, ".arrow") for p in files):
        return False
    return any(p.suffix.lower() in SUPPORTED_SUFFIXES or p.suffix.lower() == ".pdf" for p in files)


def check_hub_model(model: str, flag: str) -> None:
    """owner/name that is no local folder, with HF_HUB_OFFLINE set and nothing cached: say that
    the setting blocks the Hub (instead of "cannot tell the embedding dimension")."""
    from embedtune.errors import ConfigError

    if Path(model).expanduser().exists() or model.count("/") != 1 or model.startswith((".", "/")):
        return
    from huggingface_hub import constants, try_to_load_from_cache

    if not constants.HF_HUB_OFFLINE:
        return
    for name in ("modules.json", "config.json"):
        if isinstance(try_to_load_from_cache(model, name), str):
            return  # downloaded before: loads from the cache
    raise ConfigError(
        f"{flag} {model}: not a local folder, and HF_HUB_OFFLINE=1 blocks the Hub (it is not in "
        "the Hugging Face cache either); run once without HF_HUB_OFFLINE to download it, or pass "
        "a local model folder"
    )


def announce_data(config: FinetuneConfig) -> None:
    if config.data is None:
        logger.warning(
            "No --data given: using the %s. Pass --data to train and evaluate on your own.",
            BUILT_IN_DATA,
        )


def finetune_config(args: argparse.Namespace) -> FinetuneConfig:
    return load_config(args.config, **settings_from(args))


def evaluate_config(args: argparse.Namespace) -> FinetuneConfig:
    """The evaluated model stands in for the base model, so dims and max_seq_length resolve
    from its own files; the output folder is evaluate's own unless --output says otherwise."""
    settings = settings_from(args)
    settings["output"] = args.output or EVALUATE_OUTPUT
    from embedtune.export.evaluate_folder import exported_config, is_exported_folder

    if is_exported_folder(args.model):  # ONNX / OpenVINO: no torch weights to resolve from
        return exported_config(args.model, args.config, settings)
    return load_config(args.config, **settings, base_model=args.model)


def dry_run(config: FinetuneConfig, command: str) -> dict[str, Any]:
    """The resolved settings and what the data holds; reads the tokenizer, never the weights."""
    import dataclasses

    from embedtune.data.sources import load_retrieval_data
    from embedtune.data.truncation import count_truncated
    from embedtune.workflow import data_options

    options = data_options(config)
    if command == "evaluate":
        options = dataclasses.replace(options, require_train=False)
    data = load_retrieval_data(options)
    tokenizer = _tokenizer(config)
    sequence_length = None
    if tokenizer is not None and command == "finetune":  # the length the run will use
        from embedtune.workflow import resolve_sequence_length

        config, sequence_length = resolve_sequence_length(config, data, tokenizer)
    if tokenizer is not None:
        reader = SimpleNamespace(tokenizer=tokenizer, max_seq_length=config.max_seq_length)
        data.report.update(
            count_truncated(
                reader,
                data,
                query_prompt=config.query_prompt,
                document_prompt=config.document_prompt,
            )
        )
    plan: dict[str, Any] = {
        "dry_run": True,
        "command": command,
        "config": config.public_dict(),
        "base_model_name": config.base_model_name,
        "data": data.summary(),
    }
    if sequence_length is not None:
        plan["sequence_length"] = sequence_length
    if command == "finetune":
        from embedtune.training.plan import run_plan

        plan["plan"] = run_plan(config, data)
    protocol = getattr(data, "protocol", None)
    if protocol:
        plan["protocol"] = protocol
    return plan


def _tokenizer(config: FinetuneConfig) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(
            config.base_model, trust_remote_code=config.trust_remote_code
        )
    except Exception as err:  # the count is a report: a model without a tokenizer file skips it
        logger.warning("No truncation count (tokenizer not readable: %s)", err)
        return None


def summary(results: dict[str, Any], output: str | Path) -> dict[str, Any]:
    """What stdout carries after a run: embedtune.reporting.summary.cli_summary (per dim the
    scores, gain, 95% interval and verdict; the selected model, protocol and output paths)."""
    from embedtune.reporting.summary import cli_summary
    from embedtune.results_schema import EVALUATE, MODEL_DIR, output_paths

    text = cli_summary(results)
    paths = {**output_paths(output), **(text.get("outputs") or {})}
    if text.get("kind") == EVALUATE:
        paths.pop(MODEL_DIR, None)  # an evaluation saves no model
    text["outputs"] = paths
    return text


def base_kept(results: dict[str, Any]) -> bool:
    """Finetuning did not beat the base model on validation, so the run kept the base."""
    from embedtune.reporting.results_view import ResultsView

    return ResultsView(results).base_kept


def _finetune(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    from embedtune.pipelines.remote_settings import remote_settings_from_args

    remote = remote_settings_from_args(args)
    config = finetune_config(args)
    args.resolved_config = config  # for the disk-full message (main)
    announce_data(config)
    from embedtune.output_folder import check_output_folder

    # refused under --dry-run too: the dry run checks what the run checks before loading weights
    check_output_folder(config.output, "finetune", overwrite=args.overwrite)
    if config.resume:  # a tampered checkpoint: refused by name, never a traceback
        from embedtune.checkpoint_files import check_checkpoint_files

        check_checkpoint_files(Path(config.output) / "checkpoints")
    if args.dry_run:
        return dry_run(config, "finetune"), EXIT_OK
    from embedtune import distributed

    if args.pipeline and distributed.is_distributed():
        from embedtune.errors import ConfigError

        raise ConfigError(
            "--pipeline runs as one process; under torchrun / accelerate launch run without "
            "--pipeline (docs/distributed.md)"
        )
    if args.pipeline:
        from embedtune.pipelines.finetune_embeddings import run_pipeline

        pin_zenml_source_root()
        zenml_run: dict[str, Any] = {}  # run id, model version, dashboard URL: printed below
        results = run_pipeline(config, remote=remote, run_info=zenml_run)
    else:
        from embedtune.workflow import run_finetune

        results = run_finetune(config)
        if not distributed.is_main_process():
            return {}, EXIT_OK  # rank 0 reports; the other ranks trained and wrote nothing
    if base_kept(results):
        logger.warning(
            "Finetuning did not beat the base model on validation: %s/model is the base model",
            config.output,
        )
    code = EXIT_BASE_KEPT if config.strict and base_kept(results) else EXIT_OK
    text = summary(results, config.output)
    if args.pipeline:
        text["zenml"] = zenml_run
    return text, code


def _evaluate(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    config = evaluate_config(args)
    announce_data(config)
    from embedtune.output_folder import check_output_folder

    check_output_folder(config.output, "evaluate", overwrite=args.overwrite)  # dry run too
    if args.dry_run:
        return dry_run(config, "evaluate"), EXIT_OK
    from embedtune.export.evaluate_folder import is_exported_folder
    from embedtune.workflow import run_evaluate, run_evaluate_exported

    if is_exported_folder(args.model):
        return summary(run_evaluate_exported(args.model, config), config.output), EXIT_OK
    return summary(run_evaluate(args.model, config), config.output), EXIT_OK


def generate_config(args: argparse.Namespace) -> Any:
    """GenerateConfig from the flags given; its dataclass defaults for the others."""
    import dataclasses

    from embedtune.synthetic.generate import GenerateConfig

    names = {item.name for item in dataclasses.fields(GenerateConfig)}
    settings = {k: v for k, v in vars(args).items() if k in names and v is not None}
    return GenerateConfig(**{**settings, "docs": list(args.docs)})


def _generate(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    from embedtune.synthetic.generate import run_generate

    config = generate_config(args)
    if args.pipeline:
        from embedtune.pipelines.generate_synthetic_data import run_generate_pipeline

        pin_zenml_source_root()
        return run_generate_pipeline(config), EXIT_OK
    return run_generate(config), EXIT_OK


def _curve(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    from embedtune.curve.cli import curve_command

    return curve_command(args)


def _export(args: argparse.Namespace) -> tuple[dict[str, Any], int]:
    from embedtune.export.command import run_export_command

    return run_export_command(args)


COMMANDS = {
    "finetune": _finetune,
    "evaluate": _evaluate,
    "generate": _generate,
    "curve": _curve,
    "export": _export,
}


PATH_ARGUMENTS = ("data", "config", "model", "base_model", "guard_data", "docs")


def _too_long(path: Any) -> str:
    shown = str(path or "")
    shown = shown if len(shown) <= 80 else shown[:80] + "..."
    return f"{shown}: a name in this path is longer than the file system allows; shorten it"


def check_path_lengths(args: argparse.Namespace) -> None:
    """A path given on the command line with a name over the file system's limit
    (ENAMETOOLONG) is refused by name, before any work."""
    from embedtune.errors import ConfigError

    for name in PATH_ARGUMENTS:
        value = getattr(args, name, None)
        for path in value if isinstance(value, list) else [value]:
            if not isinstance(path, str) or not path:
                continue
            try:
                os.stat(path)
            except OSError as err:
                if err.errno == errno.ENAMETOOLONG:
                    flag = "--" + name.replace("_", "-")
                    raise ConfigError(f"{flag} {_too_long(path)}") from None


def check_config_file(config: str | None) -> None:
    """--config that exists but is no regular file (a folder, FIFO, device): said so, and never
    opened (a FIFO would block)."""
    import stat

    from embedtune.errors import ConfigError

    if not config:
        return
    try:
        mode = os.stat(config).st_mode
    except OSError:
        return  # missing: the config loader says "not found"
    if stat.S_ISDIR(mode):
        raise ConfigError(f"--config {config} is a folder; give a YAML file")
    if not stat.S_ISREG(mode):
        raise ConfigError(
            f"--config {config} is not a regular file (a FIFO, socket or device); give a YAML file"
        )


def no_space_left(err: BaseException) -> bool:
    """ENOSPC, as an OSError or wrapped by a library (safetensors: "No space left on device
    (os error 28)"), anywhere in the exception's chain."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "errno", None) == errno.ENOSPC:
            return True
        text = str(current)
        if "No space left on device" in text or "StorageFull" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def _size_mb(path: Path) -> float:
    if not path.is_dir():
        return 0.0
    return sum(p.stat().st_size for p in path.rglob("*.safetensors") if p.is_file()) / 2**20


def disk_full_message(args: argparse.Namespace, err: BaseException) -> str:
    """What ran out, about how much a finetune run needs, and what was kept: the half-written
    outputs in OUTPUT/.staging are removed, checkpoints stay for --resume."""
    import shutil

    config = getattr(args, "resolved_config", None)
    output = Path(config.output if config is not None else getattr(args, "output", None) or ".")
    shutil.rmtree(output / ".staging", ignore_errors=True)  # half-written outputs
    where = output
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free / 2**20 if where.exists() else None
    text = f"no space left on the device of {output}"
    weights = _size_mb(Path(config.base_model)) if config is not None else 0.0
    if weights:  # each checkpoint: weights + optimizer state (2x) + a little
        limit = config.save_total_limit
        need = weights * (1 + 3 * limit)
        text += (
            f" (a finetune run of this model needs about {need:.0f} MB: the model and "
            f"{limit} checkpoints of about {3 * weights:.0f} MB"
        )
        text += f"; {free:.0f} MB free)" if free is not None else ")"
    elif free is not None:
        text += f" ({free:.0f} MB free)"
    checkpoints = output / "checkpoints"
    if any(checkpoints.glob("**/checkpoint-*")):
        text += (
            f". The checkpoints written so far stay in {checkpoints} for --resume (one cut short "
            "is removed when resuming)"
        )
    return text + ". Free some space or give an --output on another disk"


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the lock is released, "interrupted" is printed."""


@contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While a command runs (in the main thread), SIGTERM raises Terminated."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_path_lengths(args)  # ENAMETOOLONG: named, never a traceback
        check_config_file(getattr(args, "config", None))
        check_sources(args)  # before configure_logging, which imports the model libraries
    except EmbedtuneError as err:
        print(f"embedtune: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    configure_logging(
        args.verbose,
        quiet=args.quiet,
        log_format=args.log_format,
        zenml=bool(getattr(args, "pipeline", False)),
    )
    from embedtune import distributed

    main_process = distributed.is_main_process()  # torchrun / accelerate launch: rank 0 speaks
    if not main_process:
        logging.getLogger("embedtune").setLevel(logging.WARNING)
    if distributed.is_distributed() and args.command != "finetune":
        print(
            "embedtune: error: only finetune runs across processes (torchrun, accelerate "
            f"launch); run `embedtune {args.command}` as one process",
            file=sys.stderr,
        )
        return EXIT_USER_ERROR
    try:
        from embedtune.output_folder import check_output_path

        check_output_path(getattr(args, "output", None))  # "" would be the working directory
        with sigterm_interrupts(), stdout_reserved() as stdout:
            result, code = COMMANDS[args.command](args)
    except EmbedtuneError as err:
        print(f"embedtune: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:
        if err.errno != errno.ENAMETOOLONG:
            raise
        print(f"embedtune: error: {_too_long(err.filename)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as err:
        if not no_space_left(err):
            raise
        print(f"embedtune: error: {disk_full_message(args, err)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt as err:
        terminated = isinstance(err, Terminated)
        print(f"embedtune: interrupted{' (SIGTERM)' if terminated else ''}", file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    if main_process:
        print(json.dumps(result, indent=1, default=str), file=stdout, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
