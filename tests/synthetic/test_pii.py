"""Counting personal data and secrets in chunks; the report never holds the secrets."""

from __future__ import annotations

import json
import random
import string

import pytest

from embedtune.errors import ConfigError
from embedtune.synthetic.chunking import Chunk
from embedtune.synthetic.pii import drop_pii_chunks, find_pii, scan_pii

# Fake secrets are built at run time (seeded), so no secret-looking literal is in the repo.
_rng = random.Random(1234)


def _rand(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


ALNUM = string.ascii_letters + string.digits
AWS_KEY = "AK" + "IA" + _rand(string.ascii_uppercase + string.digits, 16)
HF_TOKEN = "hf" + "_" + _rand(ALNUM, 34)
OPENAI_KEY = "sk" + "-proj-" + _rand(ALNUM, 40)
GITHUB_TOKEN = "gh" + "p_" + _rand(ALNUM, 36)
GENERIC_BLOB = _rand(ALNUM + "+/", 40)
PASSWORD = "Hunter" + _rand(string.digits, 4) + "!x"
PRIVATE_KEY = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEow" + _rand(ALNUM, 60) + "\n-----END"
SECRETS = [AWS_KEY, HF_TOKEN, OPENAI_KEY, GITHUB_TOKEN, GENERIC_BLOB, PASSWORD, PRIVATE_KEY]


def _chunk(cid: str, text: str) -> Chunk:
    return Chunk(id=cid, text=text, source="s.md", section="", token_count=len(text.split()))


@pytest.fixture
def chunks() -> list[Chunk]:
    return [
        _chunk("clean", "Run acme init, then acme run. Version 1.2.3 was released 2024-05-01."),
        _chunk("mail", "Write to jane.doe@example.com or ops-team@corp.example.org for access."),
        _chunk("phone", "Call +44 20 7946 0958 or (555) 123-4567 if the pager fails."),
        _chunk("aws", f"export AWS_ACCESS_KEY_ID={AWS_KEY}"),
        _chunk("tokens", f"HF: {HF_TOKEN}\nOpenAI: {OPENAI_KEY}\nGitHub: {GITHUB_TOKEN}"),
        _chunk("key", PRIVATE_KEY),
        _chunk("generic", f'db_password = "{PASSWORD}"\nblob {GENERIC_BLOB} end'),
        _chunk(
            "lookalikes",
            "commit 3f786850e387550fdab836ed7e6dc881de23001b and sha256 "
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, ip 192.168.100.200,"
            " path /usr/local/lib/python3.11/site-packages, password: administrator,"
            " token: <YOUR_TOKEN>, ThisIsAVeryLongCamelCaseIdentifierName",
        ),
    ]


def test_counts_per_category(chunks):
    report = scan_pii(chunks)
    assert report.total_chunks == len(chunks)
    assert report.counts == {
        "private_key": 1,
        "aws_key": 1,
        "hf_token": 1,
        "openai_key": 1,
        "github_token": 1,
        "email": 2,
        "phone": 2,
        "generic_secret": 2,
    }
    assert report.chunk_ids["email"] == ["mail"]
    assert report.chunk_ids["generic_secret"] == ["generic"]
    assert report.flagged_chunk_ids == {"mail", "phone", "aws", "tokens", "key", "generic"}
    assert report.has_findings
    assert report.summary().startswith("6 of 8 chunks flagged: private_key=1, aws_key=1")


def test_report_never_contains_the_secrets(chunks):
    report = scan_pii(chunks)
    rendered = json.dumps(report.to_dict()) + repr(report) + report.summary()
    for secret in [*SECRETS, "jane.doe@example.com", "7946 0958"]:
        assert secret not in rendered


def test_drop_pii_chunks(chunks):
    report = scan_pii(chunks)
    kept = drop_pii_chunks(chunks, report)
    assert [c.id for c in kept] == ["clean", "lookalikes"]
    assert [c.id for c in drop_pii_chunks(chunks)] == ["clean", "lookalikes"]  # scans itself
    # only some categories: keep chunks whose findings are e-mails / phone numbers
    kept = drop_pii_chunks(chunks, report, categories=["aws_key", "private_key"])
    assert {c.id for c in chunks} - {c.id for c in kept} == {"aws", "key"}


def test_a_specific_match_is_not_counted_twice():
    assert find_pii(f"token = {HF_TOKEN}") == {"hf_token": 1}


def test_clean_text_has_no_findings():
    report = scan_pii([_chunk("a", "Nothing to see here: acme run --jobs 4")])
    assert not report.has_findings
    assert report.counts == {}
    assert "no personal data" in report.summary()


def test_unknown_category_is_a_config_error(chunks):
    with pytest.raises(ConfigError, match="unknown PII categories"):
        scan_pii(chunks, categories=["passport"])
