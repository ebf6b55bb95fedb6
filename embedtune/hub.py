"""Push a saved model to the Hugging Face Hub. A failed push never fails the run."""

from __future__ import annotations

import logging
from pathlib import Path

from embedtune.secrets import hf_token, redact

logger = logging.getLogger(__name__)


def push_model(model_dir: str | Path, repo_id: str, *, private: bool = True) -> dict[str, object]:
    """Upload `model_dir` to `repo_id`. Returns {"repo", "pushed", "error"}; never raises."""
    token = hf_token()
    try:
        from huggingface_hub import HfApi

        api = HfApi(token=token)
        api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(model_dir), repo_id=repo_id, commit_message="embedtune")
    except Exception as err:  # offline, no token, no permission: report and carry on
        message = redact(f"{type(err).__name__}: {err}", (token,) if token else ())
        logger.error(
            "Push to the Hub (%s) failed; the model is saved locally. %s", repo_id, message
        )
        return {"repo": repo_id, "pushed": False, "error": message.splitlines()[0][:300]}
    logger.info("Pushed the model to https://huggingface.co/%s", repo_id)
    return {"repo": repo_id, "pushed": True, "error": None}
