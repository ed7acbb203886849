"""What the marker-gene and HVG verdicts share: the method's name and whether a score is circular."""

from __future__ import annotations

from typing import Optional

from scmaskgan.verdicts.text import method_name

__all__ = ["method_phrase", "driving_labels"]

def method_phrase(mode: str, *, start: bool = True) -> str:
    """``"The count model (the default; this page compares no other method)"`` or, for another mode,
    ``"The neighbour fill (not the default count model; ...)"``; ``start=False``: not capitalised."""
    name = method_name(mode)
    note = "the default" if mode == "count" else "not the default count model"
    first = name[0].upper() if start else name[0]
    return f"{first}{name[1:]} ({note}; this page compares no other method)"


def driving_labels(labels_key: Optional[str], mode: str, group_key: str) -> Optional[str]:
    """The obs column whose groups drove the imputation: ``labels_key`` when given; without it, scmaskgan's
    own clusters (``group_key``) in modes ``"neighbours"`` and ``"paper"``, and none for the count model
    (one group of all cells)."""
    if labels_key is not None:
        return labels_key
    return group_key if mode in ("neighbours", "paper") else None
