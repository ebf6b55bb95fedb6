"""Loading Markdown, text, reStructuredText and HTML documents from files and folders."""

from __future__ import annotations

import pytest

from embedtune.errors import DataError
from embedtune.synthetic.documents import html_to_text, load_documents


def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def docs_dir(tmp_path):
    root = tmp_path / "docs"
    _write(root / "guide.md", "# Guide\n\nInstall with pip.\n")
    _write(root / "notes.txt", "Plain notes about backups.\n")
    _write(root / "api" / "ref.rst", "API\n===\n\nThe API has endpoints.\n")
    _write(
        root / "api" / "page.html",
        "<html><head><title>T</title><script>var x = 1;</script></head><body>"
        "<h1>Ops</h1><p>Paging &amp; on-call.</p><h2>Escalation</h2>"
        "<ul><li>Call the primary</li><li>Then the secondary</li></ul>"
        "<pre># a comment\nrun()</pre></body></html>",
    )
    _write(root / "image.png", "not a document")  # unsupported: ignored in folders
    _write(root / ".git" / "config.md", "# hidden folder\n")
    _write(root / ".hidden.md", "# hidden file\n")
    _write(root / "empty.md", "  \n")
    return root


def test_loads_all_four_formats_recursively(docs_dir):
    docs = load_documents(docs_dir)
    by_source = {d.source: d for d in docs}
    assert sorted(by_source) == ["api/page.html", "api/ref.rst", "guide.md", "notes.txt"]
    assert {d.format for d in docs} == {"markdown", "text", "rst", "html"}
    assert by_source["guide.md"].text.startswith("# Guide")
    assert by_source["api/ref.rst"].text.startswith("API\n===")


def test_html_keeps_headings_and_drops_scripts(docs_dir):
    html = next(d for d in load_documents(docs_dir) if d.format == "html")
    assert "# Ops" in html.text.splitlines()
    assert "## Escalation" in html.text.splitlines()
    assert "Paging & on-call." in html.text
    assert "- Call the primary" in html.text
    assert "var x" not in html.text and "T" not in html.text.split()
    # preformatted text is fenced so that its `#` lines are not headings
    assert "```\n# a comment\nrun()\n```" in html.text


def test_html_to_text_without_markup():
    assert html_to_text("just text") == "just text\n"
    assert html_to_text("") == ""


def test_explicit_files_and_mixed_list(docs_dir, tmp_path):
    extra = tmp_path / "extra.markdown"
    _write(extra, "# Extra\n\ntext\n")
    docs = load_documents([docs_dir / "guide.md", extra, docs_dir / "api"])
    assert [d.source for d in docs] == [
        (docs_dir / "guide.md").as_posix(),
        extra.as_posix(),
        "page.html",
        "ref.rst",
    ]


def test_same_file_twice_is_loaded_once(docs_dir):
    docs = load_documents([docs_dir / "guide.md", docs_dir / "guide.md"])
    assert len(docs) == 1


def test_missing_path_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist") as err:
        load_documents(tmp_path / "nope")
    assert "nope" in str(err.value)


def test_folder_without_documents_is_a_data_error(tmp_path):
    _write(tmp_path / "image.png", "x")
    with pytest.raises(DataError, match="no documents"):
        load_documents(tmp_path)


def test_unsupported_explicit_file_is_a_data_error(tmp_path):
    _write(tmp_path / "a.pdf", "x")
    with pytest.raises(DataError, match="unsupported document type '.pdf'"):
        load_documents(tmp_path / "a.pdf")


def test_non_utf8_file_is_named(tmp_path):
    bad = tmp_path / "docs" / "latin1.txt"
    bad.parent.mkdir()
    bad.write_bytes("café crème".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8") as err:
        load_documents(tmp_path / "docs")
    assert str(bad) in str(err.value)


def test_utf8_bom_and_crlf_are_normalised(tmp_path):
    f = tmp_path / "win.txt"
    f.write_bytes("\ufeffline one\r\nline two\r\n".encode())
    (doc,) = load_documents(f)
    assert doc.text == "line one\nline two\n"


# --- hostile folders (issue 10, items 14 and 18): skipped and counted, never a hang -----------


def test_symlink_loops_and_dangling_symlinks_are_skipped_and_counted(tmp_path, caplog):
    root = tmp_path / "docs"
    _write(root / "guide.md", "# Guide\n\nInstall with pip.\n")
    (root / "self.md").symlink_to(root / "self.md")  # a loop onto itself
    (root / "a.md").symlink_to(root / "b.md")  # a loop of two
    (root / "b.md").symlink_to(root / "a.md")
    (root / "gone.md").symlink_to(root / "deleted.md")  # dangling
    (root / "alias.md").symlink_to(root / "guide.md")  # a working link: read once
    with caplog.at_level("INFO"):
        docs = load_documents(root)
    assert [d.source for d in docs] == ["alias.md"]  # guide.md is the same file, read once
    assert "Skipped 4 dangling symbolic link(s) or link loop(s)" in caplog.text


def test_a_dangling_symlink_given_explicitly_is_named(tmp_path):
    (tmp_path / "gone.md").symlink_to(tmp_path / "deleted.md")
    with pytest.raises(DataError, match=r"gone\.md.*does not exist \(a dangling symbolic link"):
        load_documents(tmp_path / "gone.md")


def _load_in_thread(path, seconds: float = 15.0):
    """load_documents(path) in a thread; fails (instead of hanging) if it blocks."""
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["docs"] = load_documents(path)
        except Exception as err:  # noqa: BLE001 - handed to the test
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return thread.is_alive(), outcome


def test_a_fifo_inside_docs_is_skipped_and_counted_never_opened(tmp_path, caplog):
    import os

    root = tmp_path / "docs"
    _write(root / "guide.md", "# Guide\n\nInstall with pip.\n")
    fifo = root / "pipe.md"
    os.mkfifo(fifo)
    with caplog.at_level("INFO"):
        blocked, outcome = _load_in_thread(root)
    if blocked:  # release the reader so the test process can end, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not blocked, "load_documents blocked on a FIFO"
    assert [d.source for d in outcome["docs"]] == ["guide.md"]
    assert "Skipped 1 FIFO/socket/device file(s) (not regular files)" in caplog.text


def test_a_fifo_given_explicitly_is_refused(tmp_path):
    import os

    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    blocked, outcome = _load_in_thread(fifo)
    if blocked:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    assert not blocked, "load_documents blocked on a FIFO"
    assert isinstance(outcome.get("error"), DataError)
    assert "is not a regular file or folder (a FIFO, socket or device)" in str(outcome["error"])
