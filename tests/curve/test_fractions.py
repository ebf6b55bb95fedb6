"""Nested seeded fractions: each subset inside the next, the same for the same seed, and bad
fractions refused with a message naming the problem."""

from __future__ import annotations

import pytest

from embedtune.curve.fractions import (
    MIN_CURVE_PAIRS,
    fraction_label,
    nested_subsets,
    pair_counts,
    parse_fractions,
)
from embedtune.errors import ConfigError


def test_subsets_are_nested_seeded_and_deterministic():
    counts = pair_counts([0.25, 0.5, 1.0], 200)
    assert counts == [50, 100, 200]
    subsets = nested_subsets(200, counts, seed=42)
    assert [len(s) for s in subsets] == counts
    for smaller, larger in zip(subsets, subsets[1:]):
        assert set(smaller) < set(larger)
    assert subsets[-1] == list(range(200))
    assert nested_subsets(200, counts, seed=42) == subsets  # deterministic
    other = nested_subsets(200, counts, seed=7)
    assert other[0] != subsets[0]  # the seed decides which pairs
    assert set(other[0]) < set(other[1])
    # not simply the first rows: a seeded sample
    assert subsets[0] != list(range(50))


def test_parse_fractions_accepts_increasing_shares():
    assert parse_fractions("0.25, 0.5,1") == [0.25, 0.5, 1.0]
    assert parse_fractions("1") == [1.0]
    assert fraction_label(0.125) == "12.5%" and fraction_label(1.0) == "100%"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "--fractions is empty"),
        (" , ", "--fractions is empty"),
        ("0.5,abc", "'abc' is not a number"),
        ("0,0.5", "0 is outside \\(0, 1\\]"),
        ("0.5,1.5", "1.5 is outside \\(0, 1\\]"),
        ("-0.1", "-0.1 is outside"),
        ("nan", "nan is outside"),
        ("0.5,0.25", "not strictly increasing \\(0.25 after 0.5\\)"),
        ("0.5,0.5", "not strictly increasing"),
    ],
)
def test_bad_fractions_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_fractions(text)


def test_a_fraction_with_too_few_pairs_says_how_many():
    with pytest.raises(
        ConfigError, match=r"0.1 of the 40 training pairs .* is 4 pairs; .* at least"
    ):
        pair_counts([0.1, 1.0], 40)
    assert pair_counts([0.25, 1.0], 40) == [MIN_CURVE_PAIRS, 40]
    with pytest.raises(ConfigError, match="0.5 and 0.504 .* both give 50 pairs"):
        pair_counts([0.5, 0.504], 100)
