"""Connecting to an Argilla 2.x server, with errors that say what to do.

Connection settings come from, in order: the function arguments; the environment
(``ARGILLA_API_URL``, ``ARGILLA_API_KEY``, ``ARGILLA_WORKSPACE``); a ZenML secret named
``argilla`` with keys ``api_url``, ``api_key`` (and optionally ``workspace``). The API key is
never logged nor put in an error message.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from embedtune.errors import ServiceError

if TYPE_CHECKING:  # pragma: no cover
    import argilla as rg

logger = logging.getLogger(__name__)

ZENML_SECRET_NAME = "argilla"
HOW_TO_CONFIGURE = (
    "pass api_url/api_key, set ARGILLA_API_URL and ARGILLA_API_KEY, or store them in a ZenML "
    f"secret: `zenml secret create {ZENML_SECRET_NAME} --api_url=... --api_key=...`"
)


@dataclass(frozen=True)
class ArgillaConnection:
    api_url: str
    api_key: str = field(repr=False)  # never shown
    workspace: str | None = None


def _zenml_secret() -> dict[str, str]:
    """The ZenML secret's values, or {} when ZenML is not set up or has no such secret."""
    try:
        from zenml.client import Client

        secret = Client().get_secret(ZENML_SECRET_NAME)
        return {k: str(v) for k, v in (secret.secret_values or {}).items()}
    except Exception as e:  # noqa: BLE001 - any failure means "no secret to use"
        logger.debug("No ZenML secret %r: %s", ZENML_SECRET_NAME, type(e).__name__)
        return {}


def resolve_connection(
    *, api_url: str | None = None, api_key: str | None = None, workspace: str | None = None
) -> ArgillaConnection:
    """Fill in what was not passed from the environment, then from the ZenML secret."""
    api_url = api_url or os.environ.get("ARGILLA_API_URL") or None
    api_key = api_key or os.environ.get("ARGILLA_API_KEY") or None
    workspace = workspace or os.environ.get("ARGILLA_WORKSPACE") or None
    if not (api_url and api_key):
        secret = _zenml_secret()
        api_url = api_url or secret.get("api_url") or None
        api_key = api_key or secret.get("api_key") or None
        workspace = workspace or secret.get("workspace") or None
    missing = [name for name, value in (("api_url", api_url), ("api_key", api_key)) if not value]
    if missing:
        raise ServiceError(f"Argilla {' and '.join(missing)} not configured: {HOW_TO_CONFIGURE}.")
    return ArgillaConnection(api_url=api_url.rstrip("/"), api_key=api_key, workspace=workspace)


def connect(conn: ArgillaConnection, *, timeout: int = 60, retries: int = 1) -> rg.Argilla:
    """A client logged in to the server; ServiceError when unreachable or the key is refused."""
    try:
        import argilla as rg
        from argilla._exceptions import ArgillaAPIError, ArgillaCredentialsError
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ServiceError(
            "The Argilla SDK is not installed: `pip install 'embedtune[argilla]'`."
        ) from e
    import httpx

    try:
        client = rg.Argilla(
            api_url=conn.api_url, api_key=conn.api_key, timeout=timeout, retries=retries
        )
    except ArgillaCredentialsError as e:
        raise ServiceError(
            f"Argilla at {conn.api_url} refused the API key. Use the key shown on the server's "
            "'My settings' page (owner or admin), and check ARGILLA_API_KEY / the ZenML secret "
            f"{ZENML_SECRET_NAME!r}."
        ) from e
    except (httpx.TransportError, OSError) as e:
        raise ServiceError(
            f"Cannot reach the Argilla server at {conn.api_url} ({type(e).__name__}). Start it "
            "(e.g. `docker run -p 6900:6900 argilla/argilla-quickstart:v2.8.0`) or fix "
            "ARGILLA_API_URL."
        ) from e
    except ArgillaAPIError as e:
        raise ServiceError(
            f"The Argilla server at {conn.api_url} answered with an error while logging in "
            f"(HTTP {getattr(e, 'status_code', '?')}); is this the URL of an Argilla 2.x server?"
        ) from e
    logger.info("Connected to Argilla at %s", conn.api_url)
    return client


def get_workspace(client: rg.Argilla, name: str | None) -> rg.Workspace:
    """The named workspace, else the default one (the user's first); ServiceError if none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name:
            workspace = client.workspaces(name=name)
            if workspace is None:
                known = ", ".join(sorted(w.name for w in client.workspaces)) or "none"
                raise ServiceError(
                    f"Argilla workspace {name!r} does not exist (workspaces you can use: {known}). "
                    "Create it in the Argilla UI or with `rg.Workspace(name=...).create()`, "
                    "or set ARGILLA_WORKSPACE to an existing one."
                )
            return workspace
        workspaces = list(client.workspaces)
    if not workspaces:
        raise ServiceError(
            "Your Argilla user has no workspace. Create one (`rg.Workspace(name='argilla')"
            ".create()`) and pass workspace=... or set ARGILLA_WORKSPACE."
        )
    return workspaces[0]


def find_dataset(name: str, workspace: rg.Workspace) -> rg.Dataset | None:
    """The dataset ``name`` in ``workspace``, or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dataset in workspace.datasets:
            if dataset.name == name:
                return dataset.get()
    return None


def dataset_names(workspace: rg.Workspace) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sorted(d.name for d in workspace.datasets)
