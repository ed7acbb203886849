"""The wording every page's verdict shares."""

from __future__ import annotations

import doctest

import scmaskgan.verdicts.text as T


def test_doctests() -> None:
    assert doctest.testmod(T).failed == 0


def test_numbers_changes_and_block() -> None:
    assert [T.number(x) for x in (0, 0.0004, 0.036, 0.5314, 0.99949, 2.5, 99.94, 99.96, -0.25)] == [
        "0", "0.0004", "0.036", "0.531", "0.999", "2.50", "99.9", "100", "-0.250"]
    assert T.change(0.52, 0.64) == "rose from 0.520 to 0.640"
    assert T.change(0.52, 0.64, higher_is_better=False) == "rose from 0.520 to 0.640 (worse)"
    assert T.change(1.0, 1.0004) == "stayed at 1.00"
    assert T.join([]) == "" and T.join(["a"]) == "a" and T.join(["a", "b", "c"]) == "a, b and c"
    assert T.block(["One.", " ", "Two. "]) == "**Verdict.** One. Two."
