"""The marker-genes page's verdict: did imputation restore the markers without raising the control gene?"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Optional

import numpy as np

from scmaskgan.verdicts._common import driving_labels, method_phrase
from scmaskgan.verdicts.text import block, circular, join, number
from scmaskgan.verdicts.text import rows as text_rows

__all__ = ["verdict"]


def verdict(per_gene: Any, *, control_genes: Sequence[str], floors: Mapping[str, Mapping[str, Any]],
            mode: str = "count", labels_key: Optional[str] = "louvain", group_key: Optional[str] = None,
            control_tolerance: float = 1.5, pattern_kept: float = 0.8, min_detected: float = 0.05) -> str:
    """The page's verdict in words, from its per-gene table.

    Imputation helps the paper's question (restore weakly detected markers, do not raise the control
    gene) when the markers' mean rose, their pattern over clusters was kept (Spearman of the cluster
    means before and after at least ``pattern_kept`` for every marker detected in at least ``min_detected``
    of the cells; sparser markers are named, not judged) and no control gene's mean rose more than
    ``control_tolerance`` times.

    Parameters
    ----------
    per_gene
        Per gene shown (dict of dicts or DataFrame indexed by gene) the columns of
        :func:`scmaskgan.evaluation.genes.expression_change`: ``"mean original"``, ``"mean imputed"``,
        ``"ratio imputed/original"``, ``"cluster-mean Spearman"`` and, optionally, ``"cells at 0 (input)"``.
    control_genes
        Genes that should not be raised; those not in ``per_gene`` are ignored.
    floors
        Per gene, :func:`scmaskgan.evaluation.genes.fill_floor` (``"group"``, ``"zeros"``,
        ``"lowest filled"``, ``"observed mean"``).
    mode
        The imputation mode that ran.
    labels_key
        The obs column given to the imputation as labels (``None``: none).
    group_key
        The obs column of the clusters the pattern is scored over; ``None``: ``labels_key``.
    control_tolerance
        The largest ratio of imputed to original mean that still counts as "not raised".
    pattern_kept
        The smallest cluster-mean Spearman that counts as "pattern kept".
    min_detected
        The smallest share of cells with a non-zero input value for a marker's pattern to be judged.

    Returns
    -------
    str
        Markdown: one ``**Verdict.**`` paragraph.
    """
    rows = text_rows(per_gene)
    group_key = group_key if group_key is not None else labels_key
    controls = [g for g in control_genes if g in rows]
    markers = [g for g in rows if g not in controls]
    ratio = {g: float(rows[g]["ratio imputed/original"]) for g in rows}

    def moved(g: str) -> str:
        return f"{g} {number(ratio[g])}-fold ({number(rows[g]['mean original'])} to {number(rows[g]['mean imputed'])})"

    sentences = []
    marker_ratios = [ratio[g] for g in markers if not math.isnan(ratio[g])]
    median_marker = float(np.median(marker_ratios)) if marker_ratios else float("nan")
    raised = bool(marker_ratios) and median_marker > 1
    if markers:
        sentences.append(f"{method_phrase(mode)} changed the markers' mean log-expression: "
                         f"{join([moved(g) for g in markers])}.")
    sparse = [g for g in markers if 1 - float(rows[g].get("cells at 0 (input)", 0.0)) < min_detected]
    spear = {g: float(rows[g]["cluster-mean Spearman"]) for g in markers
             if g not in sparse and not math.isnan(float(rows[g]["cluster-mean Spearman"]))}
    kept = bool(spear) and min(spear.values()) >= pattern_kept
    if spear:
        worst = min(spear, key=spear.get)
        left_out = (f"; {join(sparse)}, detected in under {100 * min_detected:g}% of the cells, "
                    f"{'is' if len(sparse) == 1 else 'are'} too sparse to judge") if sparse else ""
        sentences.append(f"The order of the cluster means was {'kept' if kept else 'not kept'}: the Spearman "
                         f"correlation of each marker's cluster means before and after is at least "
                         f"{number(spear[worst])} ({worst}{left_out}).")
    too_high = [g for g in controls if not math.isnan(ratio[g]) and ratio[g] > control_tolerance]
    if controls:
        if math.isnan(median_marker):
            versus = ""
        else:
            versus = (f", {'more' if ratio[controls[0]] > median_marker else 'less'} than the markers "
                      f"(median {number(median_marker)}-fold)")
        how = moved(controls[0])[len(controls[0]) + 1:] if len(controls) == 1 else join([moved(g) for g in controls])
        sentences.append(f"The control gene{'s' if len(controls) > 1 else ''} {join(controls)}, which the paper "
                         f"says imputation does not raise, changed {how}{versus}.")
    usable = {g: f for g, f in floors.items()
              if f.get("group") is not None and not math.isnan(float(f["lowest filled"]))}
    if usable:
        g = max(usable, key=lambda k: float(usable[k]["lowest filled"]))
        f = usable[g]
        sentences.append(f"Some fills are far from 0: in group {f['group']} of `{group_key}`, every one of the "
                         f"{int(f['zeros'])} zeros of {g} was filled to {number(f['lowest filled'])} or more "
                         f"(its observed values average {number(f['observed mean'])}).")
    reasons = []
    if too_high:
        reasons.append(f"it raised {join(too_high)} more than {number(control_tolerance)}-fold, against the "
                       "paper's claim")
    if markers and not raised:
        reasons.append("it did not raise the markers")
    if spear and not kept:
        reasons.append("it did not keep the markers' pattern over clusters")
    if reasons:
        sentences.append(f"So imputation did not help the paper's question here: {'; '.join(reasons)}.")
    elif markers:
        sentences.append("So imputation helped the paper's question here: it raised the markers, kept their "
                         "pattern over clusters and left the control gene within "
                         f"{number(control_tolerance)}-fold of its original mean.")
    driving = driving_labels(labels_key, mode, group_key or "")
    if spear and driving is not None and driving == group_key:
        sentences.append(circular(f"the clusters of `{group_key}` conditioned the imputation and are the clusters "
                                  "over which the pattern is scored"))
    return block(sentences)
