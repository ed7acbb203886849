"""The GO-enrichment page's verdict: do the imputed data's marker genes point at the same biology?

The page (paper Fig. 7D) finds the marker genes of each cell type on the original and on the imputed
data and tests them for enrichment in GO biological processes. The verdict reads the page's
``metrics.json`` data: the markers and significant terms of the page's cell type and the per-cell-type
table of markers and terms on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scmaskgan._validation import InputError
from scmaskgan.verdicts._common import method_phrase
from scmaskgan.verdicts.text import block, circular, join

__all__ = ["verdict", "counted"]


def counted(before: int, after: int) -> str:
    """``"rose from 10 to 12"``, ``"fell from 14 to 1"`` or ``"stayed at 3"``, for whole counts.

    >>> counted(10, 0), counted(2, 2)
    ('fell from 10 to 0', 'stayed at 2')
    """
    before, after = int(before), int(after)
    if before == after:
        return f"stayed at {after:,}"
    return f"{'rose' if after > before else 'fell'} from {before:,} to {after:,}"


def verdict(metrics: Mapping[str, Any]) -> str:
    """The verdict of the GO-enrichment page, as markdown, from the page's metrics.

    A cell type *lost* its terms when fewer than half of the terms significant on the original data
    are significant on the imputed data, and *gained* terms when the imputed data have more significant
    terms and keep at least half of the original's. Imputation helped when no cell type lost its terms
    and at least one gained.

    Parameters
    ----------
    metrics
        The page's metrics (what it writes to ``metrics.json``): ``"cell_type"``, ``"mode"``,
        ``"labels_key"``, ``"cutoff"`` (adjusted p of a significant term; 0.05 if absent),
        ``"n_significant_terms"`` (``{"original": n, "imputed": n}``), ``"terms_both"``, ``"markers"``
        (``{"original": [genes], "imputed": [genes]}``) and ``"per_cell_type"`` (``{group: row}`` of
        :func:`scmaskgan.evaluation.enrichment.enrichment_by_group`, with ``"terms original"``,
        ``"terms imputed"`` and ``"terms both"``).

    Returns
    -------
    str
        A ``**Verdict.**`` paragraph: markers and terms of the page's cell type before and after
        imputation, the cell types that lost or gained terms, whether imputation helped, that the page
        runs one method, and that the imputed side's markers are circular where the groups they compare
        drove the imputation.

    Raises
    ------
    InputError
        When ``"n_significant_terms"`` or ``"per_cell_type"`` is missing.
    """
    if "n_significant_terms" not in metrics or "per_cell_type" not in metrics:
        raise InputError("verdict() needs metrics['n_significant_terms'] and metrics['per_cell_type'].")
    mode = str(metrics.get("mode", "count"))
    cell_type = metrics.get("cell_type", "the chosen")
    labels_key = metrics.get("labels_key")
    cutoff = float(metrics.get("cutoff", 0.05))
    n_sig = metrics["n_significant_terms"]
    markers = metrics.get("markers") or {}
    per_group = metrics["per_cell_type"]

    sentences = []
    text = f"Imputed by {method_phrase(mode, start=False)}, the {cell_type} group"
    if {"original", "imputed"} <= set(markers):
        both = len(set(markers["original"]) & set(markers["imputed"]))
        text += (f" has {len(markers['imputed']):,} marker genes against {len(markers['original']):,} on the "
                 f"original data ({both:,} in both), and its")
    text += (f" GO terms with adjusted p < {cutoff:g} {counted(n_sig['original'], n_sig['imputed'])}"
             f" ({int(metrics.get('terms_both', 0)):,} found on both).")
    sentences.append(text)

    lost, gained = [], []
    total = {"original": 0, "imputed": 0}
    for group, row in per_group.items():
        n_o, n_i, n_b = (int(row.get(k) or 0) for k in ("terms original", "terms imputed", "terms both"))
        total["original"] += n_o
        total["imputed"] += n_i
        if n_o > 0 and n_b < n_o / 2:
            lost.append(f"{group} ({n_o:,} to {n_i:,}, {n_b:,} kept)")
        elif n_i > n_o:
            gained.append(f"{group} ({n_o:,} to {n_i:,})")
    text = (f"Over all {len(per_group)} cell types the significant terms {counted(total['original'], total['imputed'])}"
            f" in sum")
    changes = []
    if lost:
        changes.append(f"{join(lost)} lost most of the original's terms")
    if gained:
        changes.append(f"{join(gained)} gained terms")
    text += (": " + ", and ".join(changes) + "." if changes else ", and no cell type lost or gained terms.")
    sentences.append(text)

    if lost:
        sentences.append("So imputation did not help: on the imputed data the marker genes of "
                         f"{len(lost)} of the {len(per_group)} cell types no longer find most of the terms that "
                         "the original markers find.")
    elif gained:
        sentences.append("So imputation helped by this count: every cell type kept most of its terms and "
                         f"{len(gained)} found more.")
    else:
        sentences.append("So imputation did not help: it neither added terms nor lost them.")

    if labels_key is not None or mode != "count":
        groups = f"the {labels_key} groups" if labels_key is not None else "the clusters"
        sentences.append(circular(f"the marker tests compare {groups} that the imputation was conditioned on"))
    return block(sentences)
