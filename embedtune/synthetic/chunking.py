"""Cut documents into chunks: first by headings (keeping the heading path), then by size.

Sizes are counted in tokens of a Hugging Face tokenizer when one is given (use the base
model's, so chunks fit its max sequence length), else in whitespace-separated words. Long
sections are cut into evenly sized windows that overlap by ``overlap_tokens``; sections
shorter than ``min_tokens`` (e.g. a lone parent heading) are merged into the next section.
Chunk text is always a verbatim slice of the document, so formatting is kept.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from embedtune.errors import ConfigError
from embedtune.ids import text_id
from embedtune.synthetic.documents import Document

logger = logging.getLogger(__name__)

SECTION_SEPARATOR = " > "

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_RST_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.!$%&(),/;?@\[\]\\{|}])\1{2,}[ \t]*$")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: the unit queries are generated for and the corpus is made of."""

    id: str
    text: str
    source: str  # file path (or other origin) the chunk was cut from
    section: str  # heading path, e.g. "Install > Linux"
    token_count: int  # tokens by the base model's tokenizer (or whitespace words if none given)


@dataclass(frozen=True)
class _Section:
    path: tuple[str, ...]  # heading titles from the top level down
    text: str


def chunk_documents(
    docs: Iterable[Document],
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 32,
    min_tokens: int = 8,
    tokenizer: Any = None,
) -> list[Chunk]:
    """Split documents into heading-aware, size-limited, overlapping chunks.

    Args:
        docs: documents from :func:`embedtune.synthetic.documents.load_documents`.
        max_tokens: the most tokens in a chunk.
        overlap_tokens: tokens shared by consecutive windows of one long section.
        min_tokens: sections with fewer tokens are merged into the next one (or the
            previous one at the end of a document); a document with fewer is dropped.
        tokenizer: a Hugging Face tokenizer (or a path/model id to load one with
            ``AutoTokenizer``); ``None`` counts whitespace-separated words.

    Returns:
        Chunks in document order. Ids are stable: a hash of source, index and text.
    """
    _check_sizes(max_tokens, overlap_tokens, min_tokens)
    if isinstance(tokenizer, str):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(tokenizer)
    spans = _WordSpans() if tokenizer is None else _TokenizerSpans(tokenizer)

    docs = list(docs)
    _announce(docs)
    chunks: list[Chunk] = []
    dropped_docs = 0
    for doc in docs:
        cut = _chunk_document(doc, spans, max_tokens, overlap_tokens, min_tokens)
        dropped_docs += not cut
        chunks.extend(cut)
    if dropped_docs:
        logger.info("Dropped %d document(s) shorter than %d tokens", dropped_docs, min_tokens)
    logger.info("Cut %d chunk(s)", len(chunks))
    return chunks


LARGE_DOCUMENT_MB = 10  # a document this large takes minutes to tokenize on a CPU


def _announce(docs: list[Document]) -> None:
    """Say how much text is being cut, and name the documents large enough to take minutes
    (a 50 MB document is counted token by token in one piece, with no other sign of life)."""
    sizes = [(len(doc.text.encode("utf-8", "replace")) / 2**20, doc.source) for doc in docs]
    total = sum(size for size, _ in sizes)
    logger.info("Cutting %d document(s), %.1f MB of text, into chunks", len(docs), total)
    large = sorted(((s, name) for s, name in sizes if s >= LARGE_DOCUMENT_MB), reverse=True)
    if large:
        named = ", ".join(f"{name} ({size:.0f} MB)" for size, name in large[:5])
        logger.warning(
            "Large document(s): %s; counting their tokens takes minutes (about 3 s per MB on a "
            "CPU). Split them or pass fewer --docs for a quicker run",
            named,
        )


def _check_sizes(max_tokens: int, overlap_tokens: int, min_tokens: int) -> None:
    if max_tokens < 1:
        raise ConfigError(f"max_tokens must be at least 1, got {max_tokens}")
    if not 0 <= overlap_tokens < max_tokens:
        raise ConfigError(
            f"overlap_tokens must be at least 0 and below max_tokens ({max_tokens}), "
            f"got {overlap_tokens}"
        )
    if min_tokens < 0:
        raise ConfigError(f"min_tokens must be at least 0, got {min_tokens}")


def _chunk_document(
    doc: Document, spans: _Spans, max_tokens: int, overlap_tokens: int, min_tokens: int
) -> list[Chunk]:
    """The chunks of one document (none when it is shorter than ``min_tokens``)."""
    chunks: list[Chunk] = []
    for section in _merge_small(split_sections(doc), spans, min_tokens):
        name = SECTION_SEPARATOR.join(section.path)
        for text, count in _windows(section.text, spans, max_tokens, overlap_tokens):
            index = str(len(chunks))
            chunks.append(
                Chunk(
                    id=text_id("c", doc.source, index, text),
                    text=text,
                    source=doc.source,
                    section=name,
                    token_count=count,
                )
            )
    return chunks


def split_sections(doc: Document) -> list[_Section]:
    """Split a document at its headings. Each section's text starts with its heading line."""
    lines = doc.text.split("\n")
    if doc.format in ("markdown", "html"):
        headings = _markdown_headings(lines)
    elif doc.format == "rst":
        headings = _rst_headings(lines)
    else:
        headings = []

    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []  # (level, title)
    start, path = 0, ()
    for line_no, level, title in headings:
        if line_no > start:
            sections.append(_Section(path, "\n".join(lines[start:line_no])))
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        start, path = line_no, tuple(t for _, t in stack)
    sections.append(_Section(path, "\n".join(lines[start:])))
    return [_Section(s.path, s.text.strip("\n")) for s in sections if s.text.strip()]


def _markdown_headings(lines: list[str]) -> list[tuple[int, int, str]]:
    headings = []
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is not None:
            continue
        m = _ATX_HEADING.match(line)
        if m:
            headings.append((i, len(m.group(1)), m.group(2).strip()))
    return headings


def _rst_headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """Titles underlined (optionally also overlined) with a punctuation character.

    Levels follow the order in which adornment styles first appear, as in docutils.
    """
    headings = []
    styles: list[tuple[str, bool]] = []
    i = 0
    while i < len(lines) - 1:
        line, below = lines[i], lines[i + 1]
        title = line.strip()
        overline = False
        start = i
        if _RST_ADORNMENT.match(line) and i + 2 < len(lines):
            # overline, title, underline of the same character
            title_line, under = lines[i + 1], lines[i + 2]
            if (
                title_line.strip()
                and not _RST_ADORNMENT.match(title_line)
                and _RST_ADORNMENT.match(under)
                and under.strip()[0] == line.strip()[0]
            ):
                title, overline, below = title_line.strip(), True, under
                i += 1
        if (
            title
            and not _RST_ADORNMENT.match(title)
            and (overline or not line.startswith((" ", "\t")))
            and _RST_ADORNMENT.match(below)
            and len(below.rstrip()) >= len(title)
            and (start == 0 or not lines[start - 1].strip())
        ):
            style = (below.strip()[0], overline)
            if style not in styles:
                styles.append(style)
            headings.append((start, styles.index(style) + 1, title))
            i += 2
            continue
        i = start + 1
    return headings


def _merge_small(sections: list[_Section], spans: _Spans, min_tokens: int) -> list[_Section]:
    merged: list[_Section] = []
    carry = ""
    for section in sections:
        text = f"{carry}\n\n{section.text}" if carry else section.text
        if spans.count(text) < min_tokens:
            carry = text
            continue
        merged.append(_Section(section.path, text))
        carry = ""
    if carry:
        if merged:
            last = merged[-1]
            merged[-1] = _Section(last.path, f"{last.text}\n\n{carry}")
        # else: the whole document is below min_tokens and is dropped
    return merged


def _windows(text: str, spans: _Spans, max_tokens: int, overlap: int) -> list[tuple[str, int]]:
    """Evenly sized windows of at most ``max_tokens`` tokens overlapping by ``overlap``."""
    offsets = spans.offsets(text)
    n = len(offsets)
    if n == 0:
        return []
    if n <= max_tokens:
        return [(text[offsets[0][0] : offsets[-1][1]], n)]
    k = math.ceil((n - overlap) / (max_tokens - overlap))
    size = math.ceil((n + (k - 1) * overlap) / k)
    windows = []
    for w in range(k):
        start = w * (size - overlap)
        end = min(start + size, n)
        # don't start in the middle of a word: skip at most `overlap` tokens (still covered
        # by the previous window) while the token is glued to the one before it
        limit = start + overlap
        while (
            w
            and start < limit
            and offsets[start][0] == offsets[start - 1][1]
            and not text[offsets[start][0] - 1].isspace()
        ):
            start += 1
        windows.append((text[offsets[start][0] : offsets[end - 1][1]], end - start))
    return windows


class _Spans:
    def offsets(self, text: str) -> list[tuple[int, int]]:
        raise NotImplementedError

    def count(self, text: str) -> int:
        return len(self.offsets(text))


class _WordSpans(_Spans):
    def offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text)]


class _TokenizerSpans(_Spans):
    """Character spans of a Hugging Face tokenizer's tokens (no special tokens)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def offsets(self, text: str) -> list[tuple[int, int]]:
        if not text:
            return []
        try:
            enc = self.tokenizer(
                text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
            )
            spans = [(int(a), int(b)) for a, b in enc["offset_mapping"] if b > a]
        except (NotImplementedError, ValueError, TypeError, KeyError):
            spans = self._slow_offsets(text)
        return spans

    def _slow_offsets(self, text: str) -> list[tuple[int, int]]:
        # Slow tokenizers have no offsets: tokenize word by word and spread each word's
        # tokens over its characters, so windows still cut at word boundaries.
        spans: list[tuple[int, int]] = []
        for m in _WORD.finditer(text):
            n = max(1, len(self.tokenizer.tokenize(m.group())))
            spans.extend([m.span()] * n)
        return spans
