"""Wording that every page's verdict shares: numbers to three digits, changes, and the verdict block."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["number", "change", "join", "block", "CIRCULAR"]

#: What a verdict says where the labels that drove the imputation also score it.
CIRCULAR = ("The labels that drove the imputation also score it here, so this score is circular: it shows "
            "that the labels were used, not that imputation found them.")


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
