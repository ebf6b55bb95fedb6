"""Load a team's documents (Markdown, plain text, reStructuredText, HTML) from files and folders.

HTML is converted to text with the standard library's ``html.parser``; its ``<h1>``-``<h6>``
headings become Markdown ``#`` headings so that the chunker can keep the heading path.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from embedtune.errors import DataError

logger = logging.getLogger(__name__)

# File suffix -> format name. The chunker splits "markdown" and "html" by `#` headings,
# "rst" by underlined titles, "text" by size only.
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
}


@dataclass(frozen=True)
class Document:
    """A loaded document. For HTML, ``text`` is the converted text with ``#`` headings."""

    source: str  # path relative to the folder it was found in, or as given for a file
    text: str
    format: str  # one of SUPPORTED_SUFFIXES' values


def load_documents(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Document]:
    """Load every supported document under ``paths`` (files and/or folders, recursively).

    Hidden files and folders (names starting with ``.``) inside folders are skipped, as are
    files with unsupported suffixes. A file named explicitly must have a supported suffix.
    Documents are returned sorted by path within each given folder, in the order given.

    Raises:
        DataError: a path does not exist, a file is not UTF-8, an explicit file has an
            unsupported suffix, or no supported document with text was found.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("no document paths were given", hint="pass a folder or files")

    found: list[tuple[Path, str]] = []  # (file, source label)
    skipped_unsupported = 0
    for root in paths:
        if not root.exists():
            raise DataError(
                "does not exist", path=str(root), hint="check the path to your documents"
            )
        if root.is_file():
            if root.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise DataError(
                    f"unsupported document type {root.suffix or '(no suffix)'!r}",
                    path=str(root),
                    hint="supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)),
                )
            found.append((root, root.as_posix()))
            continue
        for file in _walk(root):
            if file.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append((file, file.relative_to(root).as_posix()))
            else:
                skipped_unsupported += 1

    if skipped_unsupported:
        logger.info("Skipped %d file(s) with unsupported suffixes", skipped_unsupported)

    documents: list[Document] = []
    seen: set[Path] = set()
    empty = 0
    for file, source in found:
        resolved = file.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        fmt = SUPPORTED_SUFFIXES[file.suffix.lower()]
        raw = _read_utf8(file)
        text = html_to_text(raw) if fmt == "html" else _normalise_newlines(raw)
        if not text.strip():
            empty += 1
            continue
        documents.append(Document(source=source, text=text, format=fmt))

    if empty:
        logger.info("Skipped %d empty document(s)", empty)
    if not documents:
        where = ", ".join(str(p) for p in paths)
        raise DataError(
            f"no documents with text found in {where}",
            hint="supported file types: " + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
    logger.info("Loaded %d document(s)", len(documents))
    return documents


def _walk(root: Path) -> list[Path]:
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return files


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"is not UTF-8 text (invalid byte at offset {exc.start})",
            path=str(path),
            hint=f"convert it, e.g. `iconv -f latin1 -t utf-8 {path} > tmp && mv tmp {path}`",
        ) from None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- HTML -> text ----------------------------------------------------------------------------

_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
}
_SKIP_TAGS = {"script", "style", "head", "noscript", "template", "svg"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _HtmlToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []  # finished blocks (paragraphs, headings)
        self.current: list[str] = []  # text of the block being built
        self.skip_depth = 0
        self.pre_depth = 0
        self.heading_level = 0

    def _flush(self) -> None:
        text = "".join(self.current)
        self.current = []
        if self.pre_depth:
            text = text.strip("\n")
            if text.strip():  # fenced, so that `# comment` lines are not taken for headings
                self.blocks.append("```\n" + text + "\n```")
            return
        text = " ".join(text.split())
        if not text.strip():
            return
        if self.heading_level:
            text = "#" * self.heading_level + " " + text
        self.blocks.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            self._flush()
            self.heading_level = _HEADINGS[tag]
        elif tag == "br":
            self.current.append("\n" if self.pre_depth else " ")
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag == "pre":
                self.pre_depth += 1
            elif tag == "li":
                self.current.append("- ")
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            self._flush()
            self.heading_level = 0
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br",):
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(html: str) -> str:
    """Convert HTML to plain text; headings become ``#``-prefixed lines, blocks paragraphs."""
    parser = _HtmlToText()
    parser.feed(html)
    parser.close()
    return "\n\n".join(parser.blocks) + ("\n" if parser.blocks else "")
