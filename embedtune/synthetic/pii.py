"""Find personal data and secrets in chunks before they are sent to an LLM or published.

The report holds counts and chunk ids only, never the matched text, so it is safe to log,
save and show.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from embedtune.synthetic.chunking import Chunk

# Category -> patterns. Specific key formats come before the generic secret checks; a span
# matched by an earlier category is not counted again by a later one.
_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "private_key": [
        # the whole block (header, base64 body, footer) so the body isn't counted again
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=:\s-]*)"
        ),
    ],
    "aws_key": [
        re.compile(
            r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA)[A-Z0-9]{16}(?![A-Z0-9])"
        ),
        # secret access key assigned to an aws-looking name
        re.compile(
            r"(?i)aws[_\-.]?(?:secret|access)[_\-.]?(?:access[_\-.]?)?key[\"']?\s*[:=]\s*[\"']?"
            r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
        ),
    ],
    "hf_token": [re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])")],
    "openai_key": [
        re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,}")
    ],
    "github_token": [
        re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,}(?![A-Za-z0-9])"),
        re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}"),
    ],
    "slack_token": [re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}")],
    "email": [
        re.compile(
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z])"
        )
    ],
    "phone": [
        # international: +CC then 6-14 more digits in groups
        re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .\-]?\(?\d{1,4}\)?){2,5}(?![\w])"),
        # North American: (555) 123-4567, 555-123-4567, 555.123.4567
        re.compile(r"(?<![\w.\-])\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}(?![\w.\-])"),
    ],
    "generic_secret": [
        # password = "...", api_key: ..., token=... (value of 8+ non-space characters)
        re.compile(
            r"(?i)(?<![A-Za-z0-9])(?:password|passwd|pwd|secret|api[_\-]?key|access[_\-]?token"
            r"|auth[_\-]?token|client[_\-]?secret|token)[\"']?\s*[:=]\s*[\"']?"
            r"(?P<value>[^\s\"'`,;]{8,})"
        ),
        # long random-looking strings (checked for entropy below)
        re.compile(r"(?<![A-Za-z0-9+/_=\-])(?P<blob>[A-Za-z0-9+/_=\-]{32,})(?![A-Za-z0-9+/_=\-])"),
    ],
}

CATEGORIES: tuple[str, ...] = tuple(_PATTERNS)

_PLACEHOLDER = re.compile(
    r"(?i)^(?:<.*>|\$\{?\w+\}?|x+|\*+|\.+|your[_\-]?\w*|changeme|example\w*|redacted|none|null)$"
)


@dataclass
class PiiReport:
    """What :func:`scan_pii` found: counts per category and the ids of flagged chunks."""

    total_chunks: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # category -> matches
    chunk_ids: dict[str, list[str]] = field(default_factory=dict)  # category -> chunk ids

    @property
    def flagged_chunk_ids(self) -> set[str]:
        """Ids of chunks with at least one finding in any category."""
        return {cid for ids in self.chunk_ids.values() for cid in ids}

    @property
    def has_findings(self) -> bool:
        return any(self.counts.values())

    def to_dict(self) -> dict:
        """JSON-serialisable summary (counts and chunk ids only)."""
        return {
            "total_chunks": self.total_chunks,
            "flagged_chunks": len(self.flagged_chunk_ids),
            "counts": dict(self.counts),
            "chunk_ids": {k: list(v) for k, v in self.chunk_ids.items()},
        }

    def summary(self) -> str:
        """One line for logs, e.g. ``2 of 40 chunks flagged: email=3, hf_token=1``."""
        if not self.has_findings:
            return f"no personal data or secrets found in {self.total_chunks} chunks"
        parts = ", ".join(f"{k}={v}" for k, v in self.counts.items() if v)
        flagged = len(self.flagged_chunk_ids)
        return f"{flagged} of {self.total_chunks} chunks flagged: {parts}"


def scan_pii(chunks: Iterable[Chunk], *, categories: Sequence[str] | None = None) -> PiiReport:
    """Count e-mails, phone numbers and secrets per category across ``chunks``."""
    wanted = _check_categories(categories)
    counts: Counter[str] = Counter()
    ids: dict[str, list[str]] = {}
    total = 0
    for chunk in chunks:
        total += 1
        for category, n in find_pii(chunk.text, categories=wanted).items():
            counts[category] += n
            ids.setdefault(category, []).append(chunk.id)
    ordered = {c: counts[c] for c in CATEGORIES if counts[c]}
    return PiiReport(
        total_chunks=total,
        counts=ordered,
        chunk_ids={c: ids[c] for c in ordered},
    )


def drop_pii_chunks(
    chunks: Sequence[Chunk],
    report: PiiReport | None = None,
    *,
    categories: Sequence[str] | None = None,
) -> list[Chunk]:
    """Chunks without findings (in ``categories``, default all) according to ``report``.

    The report is computed when not given.
    """
    wanted = _check_categories(categories)
    if report is None:
        report = scan_pii(chunks, categories=wanted)
    flagged = {cid for c in wanted for cid in report.chunk_ids.get(c, [])}
    return [c for c in chunks if c.id not in flagged]


def find_pii(text: str, *, categories: Sequence[str] | None = None) -> dict[str, int]:
    """Number of matches per category in ``text`` (categories without matches are left out)."""
    wanted = set(_check_categories(categories))
    taken: list[tuple[int, int]] = []
    found: Counter[str] = Counter()
    for category, patterns in _PATTERNS.items():
        for pattern in patterns:
            for m in pattern.finditer(text):
                span = m.span()
                if _overlaps(span, taken):
                    continue
                if category == "generic_secret" and not _looks_secret(m):
                    continue
                if category == "phone" and not 7 <= sum(ch.isdigit() for ch in m.group()) <= 15:
                    continue
                taken.append(span)
                if category in wanted:
                    found[category] += 1
    return dict(found)


def _looks_secret(m: re.Match[str]) -> bool:
    groups = m.groupdict()
    value = groups.get("value")
    if value is not None:
        # a plain word ("password: administrator") or a placeholder is not a secret
        return _char_classes(value) >= 2 and not _PLACEHOLDER.match(value)
    blob = groups.get("blob") or ""
    if _char_classes(blob) < 3:  # hex digests, lowercase identifiers, long words
        return False
    return _entropy(blob) >= 4.2


def _char_classes(s: str) -> int:
    return (
        any(c.islower() for c in s)
        + any(c.isupper() for c in s)
        + any(c.isdigit() for c in s)
        + any(not c.isalnum() for c in s)
    )


def _entropy(s: str) -> float:
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def _check_categories(categories: Sequence[str] | None) -> tuple[str, ...]:
    if categories is None:
        return CATEGORIES
    unknown = [c for c in categories if c not in _PATTERNS]
    if unknown:
        from embedtune.errors import ConfigError

        raise ConfigError(f"unknown PII categories {unknown}; choose from {', '.join(CATEGORIES)}")
    return tuple(categories)
