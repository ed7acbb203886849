"""The verdict of the quickstart page: held-out values and clusters of the count model, the neighbour fill
and no imputation, on one data set."""

from __future__ import annotations

import math
from collections.abc import Mapping

from scmaskgan.verdicts.text import block, change, circular, join, number, value

__all__ = ["verdict"]


def verdict(holdout: Mapping[str, Mapping[str, float]], clustering: Mapping[str, Mapping[str, float]], *,
            names: Mapping[str, str], labels_used: Mapping[str, bool], default: str = "scmaskgan",
            baseline: str = "no imputation", input_row: str = "input (10% hidden)", n_hidden: int | None = None,
            preset: str = "quick") -> str:
    """The quickstart's verdict, as markdown: whether imputation recovered the hidden values, what it did to the
    clusters, and how the default (the count model) compares with the other runs.

    Parameters
    ----------
    holdout
        Scores of the hidden non-zero entries by row (``baseline`` and each run's key): ``"rmse"`` (lower is
        better) and ``"pearson"``, as :func:`scmaskgan.evaluation.protocols.score_hidden` gives them.
    clustering
        ``{"ari": ...}`` by row (``input_row`` and each run's key), as
        :func:`scmaskgan.evaluation.protocols.cluster_scores` gives them.
    names
        What each run is, for the prose, by run key, e.g. ``{"scmaskgan": "the count model", "scmaskgan_nb":
        "the neighbour fill"}``; the runs the verdict reads are these keys, in this order.
    labels_used
        Whether each run was given the labels that the clusters are scored against (the score is then
        circular for that run).
    default
        Key of the default method's run (the count model).
    baseline, input_row
        Rows of no imputation in ``holdout`` and of the input in ``clustering``.
    n_hidden
        Number of hidden entries, named in the first sentence when given.
    preset
        The notebook's size preset; ``"smoke"`` adds that the numbers are not a result.

    Returns
    -------
    str
        A ``**Verdict.**`` paragraph (:func:`scmaskgan.verdicts.text.block`).
    """
    runs = list(names)
    if default not in runs:
        raise ValueError(f"names must name the default run {default!r}; it names {runs}")
    base_rmse = value(holdout, baseline, "rmse")
    rmse = {run: value(holdout, run, "rmse") for run in runs}
    pearson = {run: value(holdout, run, "pearson") for run in runs}
    ari_in = value(clustering, input_row, "ari")
    ari = {run: value(clustering, run, "ari") for run in runs}
    name = names[default]
    sentences = []

    entries = f"the {n_hidden:,} hidden non-zero counts" if n_hidden is not None else "the hidden non-zero counts"
    helped = [run for run in runs if rmse[run] < base_rmse]
    sentences.append(
        f"On {entries}, {name}'s RMSE (log scale) was {number(rmse[default])} against {number(base_rmse)} without "
        f"imputation, so it {'recovered' if default in helped else 'did not recover'} the hidden values better "
        f"than leaving them at zero (Pearson r {number(pearson[default])}).")

    others = [run for run in runs if run != default]
    if others:
        ahead = [names[run] for run in others if rmse[default] < rmse[run]]
        behind = [names[run] for run in others if rmse[default] >= rmse[run]]
        detail = "; ".join(f"{names[run]}: RMSE {number(rmse[run])}, r {number(pearson[run])}" for run in others)
        if ahead and not behind:
            sentences.append(f"It was ahead of {join(ahead)} on these entries ({detail}).")
        elif behind and not ahead:
            sentences.append(f"It did not beat {join(behind)} on these entries ({detail}).")
        else:
            sentences.append(f"It was ahead of {join(ahead)} but not of {join(behind)} on these entries ({detail}).")

    ari_parts = []
    for run in runs:
        if math.isnan(ari[run]) or math.isnan(ari_in):
            continue
        better = ari[run] > ari_in and number(ari[run]) != number(ari_in)
        ari_parts.append(f"with {names[run]} it {change(ari_in, ari[run], higher_is_better=True)}, so "
                         f"{names[run]} {'helped' if better else 'did not help'} the clusters")
    if ari_parts:
        sentences.append("The ARI of KMeans clusters against the labels was " + number(ari_in) + " on the input; "
                         + "; ".join(ari_parts) + ".")
    labelled = [names[run] for run in runs if labels_used.get(run, False)]
    if labelled:
        sentences.append(circular(f"{join(labelled)} used these labels to impute and the ARI scores against them"))
    if preset == "smoke":
        sentences.append("This is the smoke preset, CI's tiny run: its numbers check that the page runs and are "
                         "not a result.")
    return block(sentences)
