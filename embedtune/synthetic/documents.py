"""Load a team's documents (Markdown, plain text, reStructuredText, HTML) from files and folders.

HTML is converted to text with the standard library's ``html.parser``; its ``<h1>``-``<h6>``
headings become Markdown ``#`` headings so that the chunker can keep the heading path.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections import Counter
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

# What load_documents skips inside folders, as counted in its log.
SKIP_UNSUPPORTED = "file(s) with an unsupported suffix"
SKIP_EMPTY = "empty document(s)"
SKIP_NOT_REGULAR = "FIFO/socket/device file(s) (not regular files)"
SKIP_BROKEN_LINK = "dangling symbolic link(s) or link loop(s)"
SKIP_UNREADABLE = "unreadable file(s) or folder(s)"


@dataclass(frozen=True)
class Document:
    """A loaded document. For HTML, ``text`` is the converted text with ``#`` headings."""

    source: str  # path relative to the folder it was found in, or as given for a file
    text: str
    format: str  # one of SUPPORTED_SUFFIXES' values


def _printable(name: str) -> str:
    """A file name's text, valid UTF-8: bytes of a non-UTF-8 name shown as \\xNN."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def load_documents(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Document]:
    """Load every supported document under ``paths`` (files and/or folders, recursively).

    Hidden files and folders (names starting with ``.``) inside folders are skipped, as are
    files with unsupported suffixes. Only regular files are opened: inside a folder, a FIFO,
    socket or device, a dangling symbolic link or a symbolic link loop, and a file that cannot
    be read are skipped, and each kind is counted in a warning (symbolic links to folders are
    not followed). A file named explicitly must be a regular file with a supported suffix.
    Documents are returned sorted by path within each given folder, in the order given.

    Raises:
        DataError: a path does not exist or is not a regular file or folder, a file is not
            UTF-8, an explicit file has an unsupported suffix, or no document with text was
            found.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise DataError("no document paths were given", hint="pass a folder or files")
    skipped: Counter[str] = Counter()
    found = [pair for root in paths for pair in _files_under(root, skipped)]
    documents = _read_documents(found, skipped)
    _log_skipped(skipped)
    if not documents:
        where = ", ".join(str(p) for p in paths)
        raise DataError(
            f"no documents with text found in {where}",
            hint="supported file types: " + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
    logger.info("Loaded %d document(s)", len(documents))
    return documents


def _files_under(root: Path, skipped: Counter[str]) -> list[tuple[Path, str]]:
    """(file, source label) of the supported files at ``root`` (a file or a folder)."""
    if not root.exists():
        kind = " (a dangling symbolic link or a symbolic link loop)" if root.is_symlink() else ""
        raise DataError(
            f"does not exist{kind}", path=str(root), hint="check the path to your documents"
        )
    if root.is_dir():
        found = []
        for file in _walk(root, skipped):
            if file.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append((file, file.relative_to(root).as_posix()))
            else:
                skipped[SKIP_UNSUPPORTED] += 1
        return found
    if not root.is_file():
        raise DataError(
            "is not a regular file or folder (a FIFO, socket or device); only regular files "
            "are read",
            path=str(root),
            hint="copy the text into a file and pass that",
        )
    if root.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"unsupported document type {root.suffix or '(no suffix)'!r}",
            path=str(root),
            hint="supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)),
        )
    return [(root, root.as_posix())]


def _read_documents(found: list[tuple[Path, str]], skipped: Counter[str]) -> list[Document]:
    documents: list[Document] = []
    seen: set[tuple[int, int]] = set()  # (device, inode): a file reached twice is read once
    for file, source in found:
        try:
            raw, identity = _read_regular_file(file)
        except (FileNotFoundError, NotADirectoryError):
            skipped[SKIP_BROKEN_LINK] += 1
            continue
        except OSError as err:
            skipped[SKIP_BROKEN_LINK if err.errno == errno.ELOOP else SKIP_UNREADABLE] += 1
            continue
        if raw is None:
            skipped[SKIP_NOT_REGULAR] += 1
            continue
        if identity in seen:
            continue
        seen.add(identity)
        fmt = SUPPORTED_SUFFIXES[file.suffix.lower()]
        text = _decode_utf8(raw, file)
        text = html_to_text(text) if fmt == "html" else _normalise_newlines(text)
        if not text.strip():
            skipped[SKIP_EMPTY] += 1
            continue
        documents.append(Document(source=_printable(source), text=text, format=fmt))
    return documents


def _read_regular_file(path: Path) -> tuple[bytes | None, tuple[int, int]]:
    """The bytes of ``path`` if it is a regular file (None otherwise), and its identity.

    Opened without blocking, and checked on the open descriptor: a FIFO is never read from
    (reading one blocks until something writes to it) even if it replaced a file meanwhile.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, (info.st_dev, info.st_ino)
        return handle.read(), (info.st_dev, info.st_ino)


def _log_skipped(skipped: Counter[str]) -> None:
    if skipped[SKIP_UNSUPPORTED]:
        logger.info("Skipped %d file(s) with unsupported suffixes", skipped[SKIP_UNSUPPORTED])
    if skipped[SKIP_EMPTY]:
        logger.info("Skipped %d empty document(s)", skipped[SKIP_EMPTY])
    problems = {k: skipped[k] for k in (SKIP_NOT_REGULAR, SKIP_BROKEN_LINK, SKIP_UNREADABLE)}
    if any(problems.values()):
        logger.warning("Skipped %s", ", ".join(f"{n} {kind}" for kind, n in problems.items() if n))


def _walk(root: Path, skipped: Counter[str]) -> list[Path]:
    def unreadable_folder(_: OSError) -> None:
        skipped[SKIP_UNREADABLE] += 1

    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable_folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    return files


def _decode_utf8(data: bytes, path: Path) -> str:
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
