"""Readable progress output for the CLI and run.py: embedtune's own steps at INFO, libraries quiet."""

from __future__ import annotations

import logging
import os
import warnings


def configure_logging(verbose: bool = False, *, zenml: bool = False) -> None:
    """`zenml=True` when a ZenML pipeline runs: ZenML's console handler already prints
    (and stores) every record, so adding ours would print each line twice."""
    if zenml:
        import zenml as _zenml  # noqa: F401  (its import installs ZenML's handlers: filter those too)
    else:
        logging.basicConfig(
            level=logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            datefmt="%H:%M:%S",
        )
    logging.getLogger("embedtune").setLevel(logging.DEBUG if verbose else logging.INFO)
    from embedtune.secrets import install_log_redaction

    install_log_redaction()  # tokens never reach the terminal or a log file (ZenML's too)
    if not verbose:
        for name in ("datasets", "transformers", "sentence_transformers", "httpx", "urllib3"):
            logging.getLogger(name).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
