"""What the marker-gene and HVG verdicts share: the method's name and whether a score is circular."""

from __future__ import annotations

from typing import Optional

__all__ = ["method_phrase", "driving_labels"]

_METHODS = {"count": "the count model", "neighbours": "neighbour fill", "paper": "the paper's GAN"}


def method_phrase(mode: str) -> str:
    """``"The count model (the default; this page compares no other method)"`` or, for another mode,
    ``"Neighbour fill (not the default count model; ...)"``."""
    name = _METHODS.get(mode, f"mode {mode!r}")
    note = "the default" if mode == "count" else "not the default count model"
    return f"{name[0].upper()}{name[1:]} ({note}; this page compares no other method)"


def driving_labels(labels_key: Optional[str], mode: str, group_key: str) -> Optional[str]:
    """The obs column whose groups drove the imputation: ``labels_key`` when given; without it, scmaskgan's
    own clusters (``group_key``) in modes ``"neighbours"`` and ``"paper"``, and none for the count model
    (one group of all cells)."""
    if labels_key is not None:
        return labels_key
    return group_key if mode in ("neighbours", "paper") else None
