"""A very large document (issue 19, item 16) is announced before its tokens are counted."""

from __future__ import annotations

TEXT = "# Restart\n\nRun acmectl restart on the host; the service drains connections first.\n"


def test_a_very_large_document_is_announced_before_its_tokens_are_counted(caplog):
    """Issue 19, item 16: a 50 MB one-line document spent minutes in the tokenizer with no
    sign of life; now the size is logged first and large documents are named."""
    from embedtune.synthetic.chunking import chunk_documents
    from embedtune.synthetic.documents import Document

    big = Document(source="huge.txt", text="word " * (11 * 2**20 // 5), format="text")
    small = Document(source="small.md", text=TEXT, format="markdown")
    with caplog.at_level("INFO", logger="embedtune"):
        chunk_documents([small, big], max_tokens=100_000, overlap_tokens=0)
    assert "Cutting 2 document(s), 11.0 MB of text, into chunks" in caplog.text
    assert "Large document(s): huge.txt (11 MB)" in caplog.text
    assert "small.md" not in caplog.text
