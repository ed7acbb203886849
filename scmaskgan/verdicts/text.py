"""Wording that every page's verdict shares: numbers to three digits, changes, and the verdict block."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["number", "change", "join", "block", "CIRCULAR", "circular", "METHOD_NAMES", "method_name", "rows",
           "value"]

#: How a verdict ends the sentence that names labels which drove the imputation and also score it.
CIRCULAR = "so the score is circular: it shows that the labels were used, not that imputation found them."


def circular(cause: str) -> str:
    """One sentence: ``cause`` (which labels conditioned the imputation and what they score), then
    :data:`CIRCULAR`.

    >>> circular("the louvain clusters conditioned the imputation and define the groups scored")[:44]
    'The louvain clusters conditioned the imputat'
    """
    return f"{cause[0].upper()}{cause[1:]}, {CIRCULAR}"


#: How each ``mode`` of ``scmaskgan.pp.impute`` is named in a verdict.
METHOD_NAMES = {"count": "the count model", "neighbours": "the neighbour fill", "paper": "the paper's GAN"}


def method_name(mode: str, *, default: bool = False) -> str:
    """``mode`` as a verdict names it; with ``default``, followed by whether it is the default.

    >>> method_name("count", default=True), method_name("paper")
    ('the count model (the default)', "the paper's GAN")
    """
    name = METHOD_NAMES.get(mode, f"mode {mode!r}")
    if not default:
        return name
    return name + (" (the default)" if mode == "count" else " (not the default, which is the count model)")


def rows(table: Any) -> dict[str, dict[str, Any]]:
    """``{row: {column: value}}`` from a DataFrame (one row per method or gene) or a mapping of mappings."""
    if hasattr(table, "to_dict") and hasattr(table, "index"):
        table = table.to_dict(orient="index")
    if not isinstance(table, Mapping):
        raise TypeError(f"expected a DataFrame or a mapping of rows to values, got {type(table).__name__}.")
    return {str(name): dict(row) for name, row in table.items()}


def value(table: Mapping[str, Mapping[str, Any]], row: str, column: str) -> float:
    """``table[row][column]`` as a float; NaN where the row, the column or the value is missing."""
    found = table.get(row, {}).get(column)
    return math.nan if found is None else float(found)


def number(x: float) -> str:
    """``x`` for prose: three decimals below 1, three significant digits from 1 to 100, whole numbers above;
    ``"n/a"`` for NaN.

    >>> number(0.53142), number(0.9999), number(12.3456), number(1234.5), number(5.5e-5), number(float("nan"))
    ('0.531', '1.000', '12.3', '1,234', '5.5e-05', 'n/a')
    """
    x = float(x)
    if math.isnan(x):
        return "n/a"
    if x == 0:
        return "0"
    size = abs(x)
    if size >= 99.95:
        return f"{x:,.0f}"
    if size >= 0.9995:
        return f"{x:.{max(0, 2 - int(math.floor(math.log10(size))))}f}"
    return f"{x:.3f}" if size >= 0.0005 else f"{x:.2g}"


def change(before: float, after: float, *, higher_is_better: bool | None = None) -> str:
    """``"rose from 0.52 to 0.64"``, ``"fell from ..."`` or ``"stayed at ..."``, with "(better)" or "(worse)"
    where ``higher_is_better`` says which way is good.

    >>> change(0.531, 0.036, higher_is_better=True)
    'fell from 0.531 to 0.036 (worse)'
    """
    b, a = number(before), number(after)
    if b == a:
        return f"stayed at {a}"
    verb = "rose" if after > before else "fell"
    judged = "" if higher_is_better is None else (" (better)" if (after > before) == higher_is_better else " (worse)")
    return f"{verb} from {b} to {a}{judged}"


def join(items: Sequence[str]) -> str:
    """``"a"``, ``"a and b"``, ``"a, b and c"``."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def block(sentences: Sequence[str]) -> str:
    """The verdict as markdown: a ``**Verdict.**`` paragraph of the sentences, in order."""
    body = " ".join(s.strip() for s in sentences if s and s.strip())
    return f"**Verdict.** {body}"
