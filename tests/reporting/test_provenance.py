"""results.json says what produced it ("provenance"): package versions, a canonical data
fingerprint, and the git commit of the checkout embedtune runs from (None outside one)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest
from datasets import Dataset

from embedtune.data.retrieval_data import RetrievalData
from embedtune.reporting import provenance as prov


def _data(train_rows, relevant=None) -> RetrievalData:
    return RetrievalData(
        train=Dataset.from_list(train_rows),
        queries={"q1": "what is x?", "q2": "what is y?"},
        corpus={"d1": "x is a letter", "d2": "y is a letter", "d3": "z too"},
        relevant=relevant or {"q1": {"d1"}, "q2": {"d2", "d3"}},
    )


ROWS = [{"query": f"q{i}", "document": f"document {i}"} for i in range(5)]


def test_fingerprint_is_canonical_and_sensitive():
    base = prov.data_fingerprint(_data(ROWS))
    assert base.startswith("sha256:") and len(base) == len("sha256:") + 64
    assert prov.data_fingerprint(_data(list(reversed(ROWS)))) == base  # row order: same data
    assert prov.data_fingerprint(_data(ROWS, {"q2": {"d3", "d2"}, "q1": {"d1"}})) == base
    changed = [*ROWS[:-1], {"query": "q4", "document": "document 4 "}]
    assert prov.data_fingerprint(_data(changed)) != base
    assert prov.data_fingerprint(_data(ROWS, {"q1": {"d1"}, "q2": {"d2"}})) != base


def test_package_versions():
    versions = prov.package_versions()
    for name in ("torch", "transformers", "sentence-transformers", "datasets", "embedtune"):
        assert versions[name], name
    assert "zenml" in versions
    assert prov.package_versions(("no-such-package-embedtune-test",)) == {
        "no-such-package-embedtune-test": None
    }


def _git(cwd: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=embedtune-test", "-c", "user.email=test@example.invalid"]
    done = subprocess.run([*command, *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _provenance_in(package_parent: Path) -> ModuleType:
    """This provenance module, copied to PACKAGE_PARENT/embedtune/reporting/ and imported from
    there: git_commit() then reports on the folder it lives in, as it does for a real install."""
    target = package_parent / "embedtune" / "reporting" / "provenance.py"
    target.parent.mkdir(parents=True)
    shutil.copyfile(prov.__file__, target)
    (package_parent / "embedtune" / "notes.txt").write_text("tracked\n")
    spec = importlib.util.spec_from_file_location(f"provenance_copy_{id(target)}", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_git_above(tmp_path, monkeypatch):
    """git must not find a repository above tmp_path (the test's own repos are below it)."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_git_commit_and_dirty_flag_of_a_checkout(tmp_path, no_git_above):
    repo = tmp_path / "repo"
    module = _provenance_in(repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    head = _git(repo, "rev-parse", "HEAD")
    assert len(head) == 40
    assert module.git_commit() == {"commit": head, "dirty": False}
    (repo / "embedtune" / "untracked.txt").write_text("new")  # untracked files do not count
    assert module.git_commit() == {"commit": head, "dirty": False}
    (repo / "embedtune" / "notes.txt").write_text("edited\n")
    assert module.git_commit() == {"commit": head, "dirty": True}


def test_git_commit_is_none_outside_a_checkout(tmp_path, no_git_above):
    module = _provenance_in(tmp_path / "plain")
    assert module.git_commit() == {"commit": None, "dirty": None}


def test_git_commit_is_none_for_a_package_inside_an_unrelated_repository(tmp_path, no_git_above):
    repo = tmp_path / "project"
    module = _provenance_in(repo / "venv" / "site-packages")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "vendored")
    assert module.git_commit() == {"commit": None, "dirty": None}


def test_git_commit_is_none_without_git(tmp_path, no_git_above, monkeypatch):
    repo = tmp_path / "repo"
    module = _provenance_in(repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries-here"))
    assert module.git_commit() == {"commit": None, "dirty": None}
