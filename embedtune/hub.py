"""Push a saved model or a generated dataset to the Hugging Face Hub; a failed push never fails
the run.

The token is ``HF_TOKEN`` (or ``HUGGING_FACE_HUB_TOKEN``) from the environment, else the key
``token`` of the ZenML secret ``huggingface`` (:func:`embedtune.secrets.hf_token`). It is never
logged nor returned: errors are redacted before they are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embedtune.secrets import hf_token, redact

logger = logging.getLogger(__name__)


def push_model(model_dir: str | Path, repo_id: str, *, private: bool = True) -> dict[str, Any]:
    """Upload ``model_dir`` to the model repo ``repo_id``. Returns {"repo", "pushed", "error"}."""

    def upload(token: str | None) -> None:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(model_dir), repo_id=repo_id, commit_message="embedtune")

    return _push(repo_id, "model", upload, f"https://huggingface.co/{repo_id}")


def push_dataset(dataset: Any, repo_id: str, *, private: bool = True) -> dict[str, Any]:
    """Push a ``datasets.Dataset`` to the dataset repo ``repo_id``; same result as push_model."""

    def upload(token: str | None) -> None:
        dataset.push_to_hub(repo_id, private=private, token=token)

    return _push(repo_id, "dataset", upload, f"https://huggingface.co/datasets/{repo_id}")


def _push(
    repo_id: str, what: str, upload: Callable[[str | None], None], url: str
) -> dict[str, Any]:
    token = hf_token()
    try:
        upload(token)
    except Exception as err:  # offline, no token, no permission: report and carry on
        message = redact(f"{type(err).__name__}: {err}", (token,) if token else ())
        logger.error(
            "Push to the Hub (%s) failed; the %s is saved locally. %s", repo_id, what, message
        )
        return {"repo": repo_id, "pushed": False, "error": message.splitlines()[0][:300]}
    logger.info("Pushed the %s to %s", what, url)
    return {"repo": repo_id, "pushed": True, "error": None}
