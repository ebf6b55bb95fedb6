"""SOURCE strings the data package does not read itself, and where their loaders live.

Loaders are named by ``"module:function"`` strings and imported only when such a source is
asked for. So ``embedtune.data`` never imports the packages that implement them (``annotation``
for ``argilla:NAME``, ``synthetic`` for the built-in corpus): the import direction stays one-way
(synthetic and annotation may use data, never the reverse) and no entry point has to import
anything first for a prefix to work.

To add a source: ``register_source("myprefix:", "mypackage.module:load")`` (or pass the
function). A loader takes the text after the prefix and returns a ``datasets.Dataset`` of
(query, document[, negative]) rows, which then goes through the same column detection,
cleaning and split as every other source.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from embedtune.errors import ConfigError

Loader = Callable[[str], Any]

_SOURCES: dict[str, str | Loader] = {
    "argilla:": "embedtune.annotation.argilla_pull:load_argilla_pairs",
}
# The built-in corpus (Python's pydoc topics with offline queries), made by the generator's code.
DEFAULT_CORPUS = "embedtune.synthetic.default_corpus:default_pairs"
# The built-in data is a demonstration: a seeded sample of this many of the 703 chunks (about
# 700 pairs), so that `make run` (every default) finishes in minutes on a 2-core CPU.
DEMO_CHUNKS = 300


def register_source(prefix: str, loader: str | Loader) -> None:
    """Route SOURCE strings starting with ``prefix`` (e.g. ``"argilla:"``) to ``loader``."""
    if not prefix.endswith(":") or len(prefix) < 2:
        raise ConfigError(f"a source prefix ends with ':' (e.g. 'argilla:'), got {prefix!r}")
    _SOURCES[prefix] = loader


def load_registered(source: str) -> Any | None:
    """The dataset of a SOURCE with a registered prefix, or None for any other SOURCE."""
    prefix = next(
        (p for p in sorted(_SOURCES, key=len, reverse=True) if source.startswith(p)), None
    )
    if prefix is None:
        return None
    return resolve(_SOURCES[prefix])(source[len(prefix) :])


def load_default_corpus(seed: int) -> tuple[str, Any]:
    """(display name, dataset) of the built-in corpus used when no --data is given."""
    builder = resolve(DEFAULT_CORPUS)
    return import_module(builder.__module__).SOURCE, builder(seed=seed, max_chunks=DEMO_CHUNKS)


def resolve(target: str | Loader) -> Loader:
    """The function named by ``"module:function"`` (a callable is returned as it is)."""
    if callable(target):
        return target
    module_name, _, function = target.partition(":")
    try:
        return getattr(import_module(module_name), function)
    except (ImportError, AttributeError) as err:
        raise ConfigError(
            f"cannot load the data source loader {target!r}: {type(err).__name__}: {err} "
            "(is the extra that provides it installed, e.g. pip install 'embedtune[argilla]'?)"
        ) from None
