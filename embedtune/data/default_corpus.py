"""The built-in corpus now lives next to the generator (`embedtune.synthetic.default_corpus`).

This name stays for existing callers; it reaches the builder through the source registry, so
`embedtune.data` does not import `embedtune.synthetic`. New code imports the synthetic module.
"""

from __future__ import annotations

from typing import Any

from embedtune.data.registry import DEFAULT_CORPUS, resolve


def default_pairs(seed: int = 42, max_chunks: int | None = None) -> Any:
    """The default dataset in the generated layout (see embedtune.synthetic.default_corpus)."""
    return resolve(DEFAULT_CORPUS)(seed=seed, max_chunks=max_chunks)
