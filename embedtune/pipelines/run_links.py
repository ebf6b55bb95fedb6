"""Where to find a finished ZenML run: its id, the model version it made, the dashboard URL.

`embedtune finetune --pipeline` prints these on stdout (the `zenml` block of its summary), so a
user goes from the command to the run in the dashboard or in `Client()` without searching.
The dashboard URL is there only when the client is connected to a ZenML server (`zenml login`,
`zenml login --local`); a local SQLite store has no dashboard.
"""

from __future__ import annotations

from typing import Any


def run_links(run: Any) -> dict[str, Any]:
    """The `zenml` block for a pipeline run (a `PipelineRunResponse`)."""
    from zenml.client import Client
    from zenml.enums import StoreType
    from zenml.utils.dashboard_utils import get_run_url

    store = Client().zen_store
    links: dict[str, Any] = {"run_id": str(run.id), "run_name": run.name}
    version = run.model_version
    if version is not None:
        links["model"] = version.model.name
        links["model_version"] = version.name
        links["model_version_id"] = str(version.id)
    if store.type == StoreType.REST:
        links["server"] = store.url
        url = get_run_url(run)
        if url:
            links["dashboard_url"] = url
    return links
