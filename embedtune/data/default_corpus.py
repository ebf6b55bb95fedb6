"""The embedded default data: Python's own bundled documentation (`pydoc_data.topics`).

It ships with every CPython, so `embedtune finetune` with no --data needs no network and no file.
Each topic is cut into chunks of whole paragraphs under its section headings.
"""

from __future__ import annotations

import re

from datasets import Dataset

from embedtune.data.split import text_id
from embedtune.synthetic.chunk import GENERATED_COLUMNS, Chunk
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
                sections.append((" > ".join(path), current))
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
        sections.append((" > ".join(path), current))
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
    from pydoc_data.topics import topics

    chunks = []
    for topic in sorted(topics):
        for section, body in _sections(topics[topic]):
            for text in _paragraph_chunks(body, max_words):
                # The heading travels with the text, as it would in a real documentation page.
                title = section.split(" > ")[-1]
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
    """The default dataset in the generated layout (query, document, negative_query, ...)."""
    chunks = default_chunks()
    if max_chunks is not None:
        chunks = chunks[:max_chunks]
    by_id = {c.id: c for c in chunks}
    rows = {name: [] for name in GENERATED_COLUMNS}
    for example in generate_offline_examples(chunks, seed=seed):
        chunk = by_id[example["chunk_id"]]
        rows["chunk_id"].append(chunk.id)
        rows["document"].append(chunk.text)
        rows["query"].append(example["query"])
        rows["negative_query"].append(example["negative_query"])
        rows["source"].append(chunk.source)
        rows["section"].append(chunk.section)
        rows["token_count"].append(chunk.token_count)
    return Dataset.from_dict(rows)
