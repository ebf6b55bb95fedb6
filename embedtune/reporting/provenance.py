"""What a result was produced from: package versions, seed, a fingerprint of the data, git
commit, and the command line.

Written to results.json as "provenance", so two results can be told apart (or shown to match).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from embedtune.data.fingerprint import data_fingerprint
from embedtune.data.retrieval_data import RetrievalData

PACKAGES = (
    "embedtune",
    "torch",
    "transformers",
    "sentence-transformers",
    "datasets",
    "accelerate",
    "zenml",
)


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> dict[str, Any]:
    """{"commit", "dirty"} of the git checkout embedtune runs from; Nones when not in one.

    Only a repository whose top level holds this very `embedtune` package counts, so an
    installed package inside some unrelated repository reports None.
    """
    package = Path(__file__).resolve().parents[1]
    top = _git(["rev-parse", "--show-toplevel"], package)
    if not top or Path(top).resolve() / "embedtune" != package:
        return {"commit": None, "dirty": None}
    commit = _git(["rev-parse", "HEAD"], package)
    status = _git(["status", "--porcelain", "--untracked-files=no", "--", "."], package)
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def command_line(argv: list[str] | None = None) -> str:
    """The command that started this process (program by its name), known secrets masked."""
    from embedtune.secrets import redact

    args = list(sys.argv if argv is None else argv)
    if not args:
        return ""
    program = Path(args[0])
    name = program.name
    if program.parent.name == "embedtune" and name in ("__main__.py", "cli.py"):
        name = "embedtune"  # python -m embedtune / python -m embedtune.cli
    return redact(" ".join([shlex.quote(name), *map(shlex.quote, args[1:])]))


def provenance(*, seed: int, data: RetrievalData) -> dict[str, Any]:
    git = git_commit()
    return {
        "seed": seed,
        "data_fingerprint": data_fingerprint(data),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "packages": package_versions(),
        "command_line": command_line(),
    }
