"""Where ZenML looks for embedtune's modules when a pipeline is started from `python -m embedtune`."""

from __future__ import annotations

import sys
from pathlib import Path


def pin_zenml_source_root() -> None:
    """`python -m embedtune` makes ZenML take the package folder (the __main__ module's) as the
    source root and load step outputs' materializers a second time under other module names
    ("materializers.report_materializer"), which then match no type. Point it at the ZenML
    repository if there is one, else at the checkout holding the package, else (an installed
    package) at the working directory, so embedtune's modules keep their own names."""
    import os

    import embedtune

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    package = Path(embedtune.__file__).resolve().parent
    if os.environ.get("ZENML_CUSTOM_SOURCE_ROOT") or not main_file:
        return
    if package not in Path(main_file).resolve().parents:
        return
    from zenml.client import Client
    from zenml.utils import source_utils

    root = Client.find_repository()
    if root is None:
        installed = package.parent.name in ("site-packages", "dist-packages")
        root = Path.cwd() if installed else package.parent
    source_utils.set_custom_source_root(str(root))
