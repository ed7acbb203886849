"""The gene-correlation page's verdict: did imputation keep the cell-cycle genes' S / G2/M structure?

The page (paper Fig. 7A) correlates the S-phase and G2/M genes of Tirosh et al. (2016) over the cells,
before and after imputation, and asks whether the genes still cluster into their two phases. The
verdict reads the page's ``metrics.json`` data: the correlation summaries over all cells and within
the dividing cells, the agreement of the two correlation matrices and the AUROC of a cell-cycle score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scmaskgan._validation import InputError
from scmaskgan.verdicts._common import method_phrase
from scmaskgan.verdicts.text import CIRCULAR, block, change, number

__all__ = ["verdict", "ARI_TOLERANCE", "GAP_TOLERANCE"]

#: An ARI change smaller than this is read as "no change" (the dendrogram cut moves a gene or two).
ARI_TOLERANCE = 0.05
#: A change of the gap between within-phase and between-phase mean r smaller than this is "no change".
GAP_TOLERANCE = 0.01

_ARI = "ARI of 2 clusters vs sets"


def verdict(metrics: Mapping[str, Any]) -> str:
    """The verdict of the gene-correlation page, as markdown, from the page's metrics.

    Parameters
    ----------
    metrics
        The page's metrics (what it writes to ``metrics.json``): ``"summary"`` (rows ``"original"``,
        ``"imputed"`` and, with a focus group, ``"original, only <group>"`` and ``"imputed, only <group>"``;
        each a dict of :func:`scmaskgan.evaluation.genes.correlation_summary`), ``"mode"``,
        ``"r_original_imputed_correlations"``, ``"n_cell_cycle_genes"``, and optionally
        ``"focus_group"``, ``"n_focus_cells"``, ``"labels_key"`` and ``"cell_cycle_score_auroc"``
        (``{"original": ..., "imputed": ...}``).

    Returns
    -------
    str
        A ``**Verdict.**`` paragraph: what imputation changed in the correlations, whether the genes
        cluster into S and G2/M better or worse (the ARI, within the focus group when there is one),
        the mean correlations within and between the phases, that the page runs one method, and the
        AUROC of the cell-cycle score with the note that it is circular where the imputation used the
        labels that define the focus group.

    Raises
    ------
    InputError
        When ``"summary"`` lacks the rows ``"original"`` and ``"imputed"``.
    """
    summary = metrics.get("summary") or {}
    if not {"original", "imputed"} <= set(summary):
        raise InputError("verdict() needs metrics['summary'] with the rows 'original' and 'imputed'.")
    mode = str(metrics.get("mode", "count"))
    focus = metrics.get("focus_group")
    labels_key = metrics.get("labels_key")
    n_focus = metrics.get("n_focus_cells")
    in_focus = focus is not None and f"original, only {focus}" in summary and f"imputed, only {focus}" in summary
    rows = (f"original, only {focus}", f"imputed, only {focus}") if in_focus else ("original", "imputed")
    where = (f"within the {n_focus} {focus} cells" if n_focus else f"within the {focus} cells") if in_focus \
        else "over all cells"
    before, after = (summary[r] for r in rows)

    sentences = []
    r_corr = float(metrics.get("r_original_imputed_correlations", float("nan")))
    how_far = ("stayed close to the original's" if r_corr >= 0.9 else "changed in part" if r_corr >= 0.7
               else "changed much")
    n_genes = metrics.get("n_cell_cycle_genes")
    genes = f"{n_genes} cell-cycle genes" if n_genes else "cell-cycle genes"
    sentences.append(
        f"Imputed by {method_phrase(mode, start=False)}, the correlations "
        f"between the {genes} over all cells {how_far}: the gene-pair correlations of the two matrices agree "
        f"with r = {number(r_corr)}.")

    ari_b, ari_a = float(before.get(_ARI, float("nan"))), float(after.get(_ARI, float("nan")))
    if ari_b == ari_b and ari_a == ari_a:
        text = (f"The paper's question is whether the genes still cluster into their two phases: {where}, the "
                f"ARI of a 2-cluster cut of the gene dendrogram against the S and G2/M lists "
                f"{change(ari_b, ari_a, higher_is_better=True)}")
        sentences.append(text + ".")
    means = [(f"among the {k[len('within '):-len(': mean r')]} genes", k, True)
             for k in sorted(before) if k.startswith("within ") and k.endswith(": mean r") and k in after]
    if "between sets: mean r" in before and "between sets: mean r" in after:
        means.append(("between the two sets", "between sets: mean r", False))
    if means:
        parts = [f"{label} it {change(before[k], after[k], higher_is_better=good)}" for label, k, good in means]
        sentences.append(f"The mean Pearson r {where}: " + "; ".join(parts) + ".")

    within = [k for _, k, good in means if good]
    gap = {}
    if within and "between sets: mean r" in before:
        gap = {side: sum(float(m[k]) for k in within) / len(within) - float(m["between sets: mean r"])
               for side, m in (("before", before), ("after", after))}
    if ari_b == ari_b and ari_a == ari_a:
        gap_text = (f"the gap between the mean r within a phase and between the phases "
                    f"{change(gap['before'], gap['after'])}") if gap else ""
        gap_fell = bool(gap) and gap["after"] < gap["before"] - GAP_TOLERANCE
        gap_rose = bool(gap) and gap["after"] > gap["before"] + GAP_TOLERANCE
        if ari_a - ari_b > ARI_TOLERANCE and not gap_fell:
            sentences.append("So imputation helped here: the two phases are easier to tell apart among the genes"
                             + (f", and {gap_text}." if gap_text else "."))
        elif ari_b - ari_a > ARI_TOLERANCE and not gap_rose:
            sentences.append("So imputation did not help: it made the S and G2/M genes harder to tell apart"
                             + (f", and {gap_text}." if gap_text else "."))
        elif abs(ari_a - ari_b) > ARI_TOLERANCE:
            sentences.append(f"So imputation did not clearly help: the ARI {'rose' if ari_a > ari_b else 'fell'}, "
                             f"but {gap_text}.")
        else:
            sentences.append(f"So imputation did not help: the S / G2/M structure stayed where it was (the ARI "
                             f"moved by less than {number(ARI_TOLERANCE)}).")

    auroc = metrics.get("cell_cycle_score_auroc") or {}
    if focus is not None and {"original", "imputed"} <= set(auroc):
        text = (f"A cell-cycle score tells the {focus} cells from the others with AUROC "
                f"{number(auroc['original'])} on the original and {number(auroc['imputed'])} on the imputed data")
        if labels_key is not None:
            text += f", but the imputation was conditioned on the {labels_key} labels, {focus} among them, " + CIRCULAR
        else:
            text += "."
        sentences.append(text)
    return block(sentences)
