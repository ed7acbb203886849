"""The HVG page's verdict: did imputation keep which genes vary, over all cells and within each cell type?"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Optional

import numpy as np

from scmaskgan.verdicts._common import driving_labels, method_phrase
from scmaskgan.verdicts.text import block, circular, number

__all__ = ["verdict"]


def verdict(overall: Mapping[str, Any], per_cell_type: Any, *, same_top: float, r_zscores: float,
            n_hvg: int, n_hvg_per_type: int, mode: str = "count", labels_key: Optional[str] = "cell_type",
            group_key: Optional[str] = None, kept_jaccard: float = 0.5, kept_same_top: float = 0.9) -> str:
    """The page's verdict in words, from its HVG overlaps and heatmap scores.

    The paper reads from this figure that imputation keeps the structure. Imputation is said to help
    that reading when the HVG sets overlap with a Jaccard index of at least ``kept_jaccard`` over all
    cells and, at the median, within the cell types, and at least ``kept_same_top`` of the genes shown
    peak in the same cell type after imputation.

    Parameters
    ----------
    overall
        :func:`scmaskgan.evaluation.genes.set_overlap` of the HVGs over all cells (``"both"``,
        ``"jaccard"``) plus ``"dispersion spearman"``.
    per_cell_type
        Per cell type (dict of dicts or DataFrame indexed by type): ``"cells"`` and ``"jaccard"``.
    same_top
        Share of the genes shown whose imputed mean is highest in the same cell type as the original.
    r_zscores
        Correlation of the z-scored type means, original against imputed.
    n_hvg, n_hvg_per_type
        HVGs selected over all cells and within each type.
    mode
        The imputation mode that ran.
    labels_key
        The obs column given to the imputation as labels (``None``: none).
    group_key
        The obs column of the cell types the page scores; ``None``: ``labels_key``.
    kept_jaccard, kept_same_top
        The thresholds above.

    Returns
    -------
    str
        Markdown: one ``**Verdict.**`` paragraph.
    """
    group_key = group_key if group_key is not None else labels_key
    types = per_cell_type.to_dict(orient="index") if hasattr(per_cell_type, "to_dict") else dict(per_cell_type)
    jac = {t: float(v["jaccard"]) for t, v in types.items() if not math.isnan(float(v["jaccard"]))}
    j_all = float(overall["jaccard"])
    sentences = [f"{method_phrase(mode)} changed which genes vary most: {int(overall['both'])} of the {n_hvg} HVGs "
                 f"over all cells are common to the original and imputed data (Jaccard {number(j_all)}), and the "
                 f"normalised dispersions of all genes imputed correlate at Spearman "
                 f"{number(overall['dispersion spearman'])}."]
    median = float(np.median(list(jac.values()))) if jac else float("nan")
    if jac:
        lo, hi = min(jac, key=jac.get), max(jac, key=jac.get)
        sentences.append(f"Within the cell types ({n_hvg_per_type} HVGs each), the more demanding check, the "
                         f"Jaccard index runs from {number(jac[lo])} ({lo}, {int(types[lo]['cells'])} cells) to "
                         f"{number(jac[hi])} ({hi}, {int(types[hi]['cells'])} cells), median {number(median)}.")
    if not math.isnan(same_top):
        sentences.append(f"The common HVGs in the heatmap peak in the same cell type after imputation for "
                         f"{number(100 * same_top)}% of them, and their z-scored type means correlate at "
                         f"r = {number(r_zscores)}.")
    failed = []
    if j_all < kept_jaccard:
        failed.append(f"the HVGs over all cells changed (Jaccard {number(j_all)}, below {number(kept_jaccard)})")
    if jac and median < kept_jaccard:
        failed.append(f"the HVGs within the cell types changed (median Jaccard {number(median)}, below "
                      f"{number(kept_jaccard)})")
    if not math.isnan(same_top) and same_top < kept_same_top:
        failed.append(f"only {number(100 * same_top)}% of the genes shown peak in the same type")
    if failed:
        sentences.append("So imputation did not help the paper's reading that it keeps the structure: "
                         + "; ".join(failed) + ".")
    else:
        sentences.append("So imputation helped the paper's reading that it keeps the structure (Jaccard at least "
                         f"{number(kept_jaccard)} over all cells and, at the median, within types), though by "
                         "keeping, not adding: nothing here shows structure the original data lacked.")
    driving = driving_labels(labels_key, mode, group_key or "")
    if driving is not None and driving == group_key and not math.isnan(same_top):
        sentences.append(circular(f"the same-type share and the heatmap correlation score the `{group_key}` "
                                  "groups that conditioned the imputation"))
    return block(sentences)
