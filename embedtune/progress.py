"""Labelled progress bars on stderr: one per long phase, saying what it does.

"Encoding 2,316 documents (base model)", "Training lr 5e-05 (candidate 1 of 2, 14 of 58 steps)",
"Encoding 700 documents (validation)" instead of Sentence Transformers' "Batches" and the Trainer's bare
bar; the Trainer's raw metric dicts only with -v. No bar under --quiet or --log-format json
(both set TQDM_DISABLE: stderr then carries log lines only).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

# Sentence Transformers' encode draws its bar with this module's `trange(desc="Batches")` and
# takes no description: the name is replaced for the length of a labelled block.
_ENCODE_MODULE = "sentence_transformers.sentence_transformer.model"
_ENCODE_DESC = "Batches"
_leave = True  # False inside transient_bars()


def bars_enabled() -> bool:
    """False under --quiet and --log-format json (TQDM_DISABLE)."""
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("1", "true", "yes")


def documents_label(count: int, what: str | None = None) -> str:
    """'Encoding 2,316 documents (base model)'."""
    return f"Encoding {count:,} documents" + (f" ({what})" if what else "")


@contextlib.contextmanager
def transient_bars() -> Iterator[None]:
    """Encoding bars inside the block disappear when done (validation inside the training bar)."""
    global _leave
    saved, _leave = _leave, False
    try:
        yield
    finally:
        _leave = saved


def leaves_bars() -> bool:
    """Whether a bar drawn now stays on screen when done (tqdm's `leave`)."""
    return _leave


@contextlib.contextmanager
def encode_bar_label(label: str) -> Iterator[None]:
    """Inside the block, the bar of a SentenceTransformer's encode reads `label` (counted in
    batches). If Sentence Transformers draws its bar some other way one day, its own bar
    shows, unlabelled."""
    try:
        module = importlib.import_module(_ENCODE_MODULE)
    except ImportError:
        yield
        return
    original = getattr(module, "trange", None)
    if original is None:
        yield
        return

    def labelled(*args: Any, desc: str | None = None, **kwargs: Any) -> Any:
        if desc == _ENCODE_DESC:
            desc = label
            kwargs.setdefault("unit", "batch")
            kwargs.setdefault("leave", _leave)
            kwargs.setdefault("file", sys.stderr)
        return original(*args, desc=desc, **kwargs)

    module.trange = labelled
    try:
        yield
    finally:
        module.trange = original


def _trainer_bar_class() -> type:
    from tqdm.auto import tqdm
    from transformers.trainer_callback import ProgressCallback

    class LabelledProgress(ProgressCallback):
        """The Trainer's bar with a label and a unit; the metric dicts it writes every
        `logging_steps` only when embedtune logs at DEBUG (-v): they stay in
        `trainer.state.log_history` either way."""

        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.training_bar = tqdm(
                    total=state.max_steps,
                    initial=state.global_step,  # a resumed run starts where it stopped
                    desc=self.label,
                    unit="step",
                    dynamic_ncols=True,
                    file=sys.stderr,
                )
            self.current_step = state.global_step

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logging.getLogger("embedtune").isEnabledFor(logging.DEBUG):
                return
            if state.is_world_process_zero and self.training_bar is not None and logs:
                shown = {
                    k: f"{v:.4g}" if isinstance(v, float) else v
                    for k, v in logs.items()
                    if k != "total_flos"
                }
                self.training_bar.write(str(shown), file=sys.stderr)  # tqdm.write: stdout

    return LabelledProgress


def label_trainer(trainer: Any, label: str) -> None:
    """The Trainer's console output as embedtune wants it: under --quiet / JSON logs no bar and
    no printed logs; otherwise one labelled bar (`label`) and the metric dicts only with -v."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    verbose = logging.getLogger("embedtune").isEnabledFor(logging.DEBUG)
    had_bar = any(isinstance(c, ProgressCallback) for c in trainer.callback_handler.callbacks)
    trainer.remove_callback(ProgressCallback)
    if not verbose:
        trainer.remove_callback(PrinterCallback)  # prints every log dict when the bar is off
    if had_bar and bars_enabled():
        trainer.add_callback(_trainer_bar_class()(label))


@contextlib.contextmanager
def encode_bars_follow_quiet(model: Any) -> Iterator[None]:
    """Inside the block, `model`'s encode calls draw no bar under --quiet. Sentence Transformers'
    `mine_hard_negatives` asks for its "Batches" bars itself (show_progress_bar=True), which
    overrides TQDM_DISABLE; the instance's encode methods are wrapped for the block."""
    if bars_enabled():
        yield
        return
    names = ("encode", "encode_query", "encode_document")
    wrapped = {name: getattr(model, name) for name in names if hasattr(model, name)}
    shadowed = {name for name in wrapped if name in vars(model)}

    def without_bar(method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            kwargs["show_progress_bar"] = False
            return method(*args, **kwargs)

        return call

    for name, method in wrapped.items():
        setattr(model, name, without_bar(method))
    try:
        yield
    finally:
        for name, method in wrapped.items():
            if name in shadowed:
                setattr(model, name, method)  # an instance attribute before: put it back
            else:
                delattr(model, name)
