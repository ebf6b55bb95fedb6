"""One id scheme for every text embedtune names: documents, queries and generated chunks.

An id is a one-letter kind prefix plus 16 hex characters of the MD5 of the text (several parts
are joined with NUL bytes first). MD5 is used as a fingerprint, not for security: it is what the
document/query split has always hashed, and the held-out documents (so every published figure)
depend on these ids; a different hash would move documents between train and test.
"""

from __future__ import annotations

import hashlib

ID_SEPARATOR = "\x00"
_HEX_CHARS = 16


def text_id(prefix: str, *parts: str) -> str:
    """Stable id of a text (same parts, same id, on every run and machine).

    ``text_id("d", text)`` names a document, ``text_id("q", text)`` a query and
    ``text_id("c", source, str(index), text)`` a chunk cut from a file.
    """
    if not parts:
        raise ValueError("text_id needs at least one part to hash")
    digest = hashlib.md5(ID_SEPARATOR.join(parts).encode("utf-8"), usedforsecurity=False)
    return f"{prefix}{digest.hexdigest()[:_HEX_CHARS]}"
