"""Dependencies point one way: `embedtune.data` never imports `synthetic` or `annotation`
(their sources are reached through embedtune.data.registry)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from embedtune.data import registry
from embedtune.errors import ConfigError

DATA = Path(registry.__file__).parent
FORBIDDEN = ("embedtune.synthetic", "embedtune.annotation")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_data_does_not_import_synthetic_or_annotation():
    offending = {
        f"{path.name}: {name}"
        for path in sorted(DATA.glob("*.py"))
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offending, offending
    assert len(list(DATA.glob("*.py"))) > 5  # the scan did look at the package


def test_registered_prefixes_reach_their_loader():
    assert registry._SOURCES["argilla:"] == "embedtune.annotation.argilla_pull:load_argilla_pairs"
    seen = []
    registry.register_source("probe-test:", lambda name: seen.append(name) or "dataset")
    try:
        assert registry.load_registered("probe-test:reviews:v2") == "dataset"
        assert seen == ["reviews:v2"]
        assert registry.load_registered("owner/name:train") is None
    finally:
        registry._SOURCES.pop("probe-test:")
    with pytest.raises(ConfigError, match="ends with ':'"):
        registry.register_source("probe", lambda name: None)
    with pytest.raises(ConfigError, match="cannot load the data source loader 'no.such:thing'"):
        registry.resolve("no.such:thing")


def test_default_corpus_is_built_by_the_generator_code():
    name, rows = registry.load_default_corpus(seed=42)
    assert name == "pydoc_data.topics"
    from embedtune.synthetic.dataset import GENERATED_COLUMNS

    assert rows.column_names == list(GENERATED_COLUMNS)
    assert len(rows) > 500  # the demonstration sample (registry.DEMO_CHUNKS chunks)
