"""Output streams of the CLI and run.py: results on stdout, everything else on stderr.

- stdout carries only the final summary (JSON); `stdout_reserved()` sends every other write to
  stderr while a command runs (print calls, Trainer metric dicts, ZenML's console handler).
- Logs go to stderr as text or JSON lines (`--log-format json`), without colour codes when
  stderr is not a terminal (ZenML's included), embedtune at INFO, libraries at WARNING.
- Progress: no bars for trivial work (loading weights, dataset maps, model-card widgets); one
  labelled bar per long phase (embedtune.progress). `--quiet` turns every bar off and keeps
  warnings and errors only; `--log-format json` turns bars off too (stderr: JSON lines only,
  Python warnings as log records), in the ZenML steps as in the plain commands.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "embedtune-stderr"
_LIBRARIES = ("datasets", "transformers", "sentence_transformers", "httpx", "urllib3", "filelock")
_quiet = False  # --quiet, for the code that builds a Trainer (it prints every log otherwise)
_bars_switched_off = False  # TQDM_DISABLE was set by configure_logging (not by the user)


def is_quiet() -> bool:
    """Whether the command runs with --quiet (warnings and errors only)."""
    return _quiet


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage().rstrip("\n"),
        }
        step = getattr(record, "step", None)
        if step:
            entry["step"] = step  # ZenML's step name, inside a pipeline run
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


@contextlib.contextmanager
def clear_of_bars(stream: Any) -> Iterator[None]:
    """A line written inside the block while a progress bar is drawn clears the bar and has it
    redrawn below (tqdm's external write mode), instead of landing on the bar's line."""
    tqdm = getattr(sys.modules.get("tqdm"), "tqdm", None)  # tqdm not imported: no bar drawn
    if tqdm is None or not getattr(tqdm, "_instances", None):
        yield
        return
    with tqdm.external_write_mode(file=stream):
        yield


class _DirectStream:
    """Writes through the stream class's own `write`, past ZenML's instance-level wrapper of
    sys.stderr (which would store each console line a second time, as an ERROR record)."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> Any:
        if not text.endswith("\n"):  # part of a line: a bar redrawn now would split it
            return type(self._stream).write(self._stream, text)
        with clear_of_bars(self._stream):
            return type(self._stream).write(self._stream, text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return _is_terminal(self._stream)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _set_library_switches(*, quiet: bool, verbose: bool, json_lines: bool = False) -> None:
    """Environment switches first (read when the libraries are imported), then the same switch
    on any library already imported."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not _is_terminal(sys.stderr):
        os.environ.setdefault("ZENML_LOGGING_COLORS_DISABLED", "true")
        os.environ.setdefault("ZENML_ENABLE_RICH_TRACEBACK", "false")
        os.environ.setdefault("NO_COLOR", "1")
    global _bars_switched_off
    if quiet or json_lines:
        os.environ["TQDM_DISABLE"] = "1"  # read by tqdm at import: every bar, training's too
        _bars_switched_off = True
    elif _bars_switched_off:  # an earlier command of this process (a notebook, tests) set it
        os.environ.pop("TQDM_DISABLE", None)
        _bars_switched_off = False
    if quiet:
        os.environ["ZENML_LOGGING_VERBOSITY"] = "WARN"
    if verbose:
        return
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")  # "Map", "Flattening ..."
    # also transformers' bars ("Loading weights"): they follow huggingface_hub's switch
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "datasets" in sys.modules:
        import datasets

        datasets.disable_progress_bars()
    if "transformers" in sys.modules:
        import transformers

        transformers.logging.disable_progress_bar()
    _silence_widget_examples_bar()


def _silence_widget_examples_bar() -> None:
    """Sentence Transformers draws a bar for picking five model-card examples and has no switch
    for it: its module's `tqdm` gets disable=True (every other bar is untouched)."""
    try:
        from sentence_transformers.base import model_card
    except Exception:  # another version: nothing to silence
        return
    original = getattr(model_card, "tqdm", None)
    if original is None or getattr(original, "embedtune_silenced", False):
        return

    def silent(*args: Any, **kwargs: Any) -> Any:
        kwargs["disable"] = True
        return original(*args, **kwargs)

    silent.embedtune_silenced = True  # type: ignore[attr-defined]
    model_card.tqdm = silent


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted, not the stream it was when
    logging was configured: a library call after the CLI returned (a notebook, a test harness
    that swapped and closed stderr) must not log into a closed stream."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; sys.stderr wins
        pass

    def emit(self, record: logging.LogRecord) -> None:
        with clear_of_bars(self.stream):
            super().emit(record)


def _our_handler(formatter: logging.Formatter) -> logging.Handler:
    """One stderr handler on the root logger (replaced, not added, on a second call)."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if handler.name == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = _CurrentStderrHandler()
    handler.name = _HANDLER_NAME
    handler.setFormatter(formatter)
    root.addHandler(handler)
    return handler


def _zenml_to_stderr(formatter: logging.Formatter | None) -> None:
    """ZenML's console handler and rich console print to stdout: point both at stderr.

    `init_logging()` rebuilds ZenML's handlers so that environment switches set above (colours,
    verbosity) apply even when zenml was imported earlier."""
    import zenml  # noqa: F401  (its import installs ZenML's handlers)
    from zenml.console import console
    from zenml.logger import ZenMLConsoleHandler, init_logging

    init_logging()
    stream = _DirectStream(sys.stderr)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, ZenMLConsoleHandler):
            handler.setStream(stream)
            if formatter is not None:
                handler.setFormatter(formatter)
    console.file = stream


def configure_logging(
    verbose: bool = False,
    *,
    quiet: bool = False,
    log_format: str = "text",
    zenml: bool = False,
) -> None:
    """Set up stderr logging for a command. `zenml=True` when a ZenML pipeline runs: ZenML's
    console handler already prints (and stores) every record, so ours would print it twice."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log_format must be one of {LOG_FORMATS}, got {log_format!r}")
    global _quiet
    _quiet = quiet
    _set_library_switches(quiet=quiet, verbose=verbose, json_lines=log_format == "json")
    # JSON lines only on stderr: Python warnings become log records instead of raw text
    logging.captureWarnings(log_format == "json")
    formatter: logging.Formatter = (
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT, "%H:%M:%S")
    )
    if zenml:
        _zenml_to_stderr(formatter if log_format == "json" else None)
        if quiet:
            logging.getLogger("zenml").setLevel(logging.WARNING)
    else:
        _our_handler(formatter)
        logging.getLogger().setLevel(logging.WARNING)  # libraries' INFO chatter stays out
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.getLogger("embedtune").setLevel(level)
    from embedtune.secrets import install_log_redaction

    install_log_redaction()  # tokens never reach the terminal or a log file (ZenML's too)
    if not verbose:
        for name in _LIBRARIES:
            logging.getLogger(name).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*pin_memory.*")


@contextlib.contextmanager
def stdout_reserved() -> Iterator[IO[str]]:
    """While the block runs, anything written to stdout goes to stderr (Python writes and,
    where stdout is a real file descriptor, writes to fd 1 from native code or ZenML's console
    handler); yields the real stdout, for the one result the command prints after the block."""
    real = sys.stdout
    real.flush()
    saved_fd = None
    try:
        stdout_fd, stderr_fd = sys.__stdout__.fileno(), sys.__stderr__.fileno()
    except (AttributeError, OSError, ValueError):  # no real descriptors (e.g. a notebook)
        stdout_fd = stderr_fd = None
    if stdout_fd is not None and stderr_fd is not None:
        sys.__stdout__.flush()
        saved_fd = os.dup(stdout_fd)
        os.dup2(stderr_fd, stdout_fd)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield real
    finally:
        if saved_fd is not None:
            with contextlib.suppress(Exception):
                sys.__stdout__.flush()
            os.dup2(saved_fd, stdout_fd)
            os.close(saved_fd)
