"""The embedded default data: Python's own bundled documentation (`pydoc_data.topics`).

It ships with every CPython, so `embedtune finetune` with no --data needs no network and no file.
Each topic is cut into chunks of whole paragraphs under its section headings; queries come from
the offline generator and the rows are built exactly as `embedtune generate` builds its dataset.
The data loader reaches this module through `embedtune.data.registry` (data never imports
synthetic).
"""

from __future__ import annotations

import random
import re

from datasets import Dataset

from embedtune.ids import text_id
from embedtune.synthetic.chunking import SECTION_SEPARATOR, Chunk
from embedtune.synthetic.dataset import build_generated_dataset
from embedtune.synthetic.offline_queries import generate_offline_examples

SOURCE = "pydoc_data.topics"
_UNDERLINE = re.compile(r"^([*=\-~^\"'`#+])\1{2,}\s*$")


def _sections(text: str) -> list[tuple[str, str]]:
    """(heading path, body) per reStructuredText-style section of a pydoc topic."""
    lines = text.splitlines()
    sections: list[tuple[str, list[str]]] = []
    levels: list[str] = []  # underline characters in order of first use
    path: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            lines[i].strip()
            and _UNDERLINE.match(nxt)
            and len(nxt.strip()) >= len(lines[i].strip()) - 2
        ):
            if current:
                sections.append((SECTION_SEPARATOR.join(path), current))
            char = nxt.strip()[0]
            if char not in levels:
                levels.append(char)
            depth = levels.index(char)
            path = path[:depth] + [lines[i].strip()]
            current = []
            i += 2
            continue
        current.append(lines[i])
        i += 1
    if current:
        sections.append((SECTION_SEPARATOR.join(path), current))
    return [(p, "\n".join(body).strip()) for p, body in sections if "\n".join(body).strip()]


def _paragraph_chunks(body: str, max_words: int) -> list[str]:
    chunks, current, size = [], [], 0
    for paragraph in re.split(r"\n\s*\n", body):
        words = len(paragraph.split())
        if current and size + words > max_words:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(paragraph.strip("\n"))
        size += words
    if current:
        chunks.append("\n\n".join(current))
    return [c for c in chunks if len(c.split()) >= 8]


def default_chunks(max_words: int = 120) -> list[Chunk]:
    """The pydoc topics cut into chunks of whole paragraphs (at most ``max_words`` words)."""
    from pydoc_data.topics import topics

    chunks = []
    for topic in sorted(topics):
        for section, body in _sections(topics[topic]):
            for text in _paragraph_chunks(body, max_words):
                # The heading travels with the text, as it would in a real documentation page.
                title = section.split(SECTION_SEPARATOR)[-1]
                document = f"{title}\n\n{text}" if title else text
                chunks.append(
                    Chunk(
                        id=text_id("c", f"{topic}\n{document}"),
                        text=document,
                        source=f"{SOURCE}:{topic}",
                        section=section or topic,
                        token_count=len(document.split()),
                    )
                )
    return chunks


def default_pairs(seed: int = 42, max_chunks: int | None = None) -> Dataset:
    """The default dataset in the generated layout (query, document, negative_query, ...).
    `max_chunks`: a seeded sample of that many chunks (in their order), across all topics."""
    chunks = default_chunks()
    if max_chunks is not None and max_chunks < len(chunks):
        keep = set(random.Random(seed).sample(range(len(chunks)), max_chunks))
        chunks = [chunk for i, chunk in enumerate(chunks) if i in keep]
    return build_generated_dataset(chunks, generate_offline_examples(chunks, seed=seed))
