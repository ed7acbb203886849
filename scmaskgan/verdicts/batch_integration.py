"""The batch-integration page's verdict: did imputation mix the batches while keeping the cell lines apart?"""

from __future__ import annotations

import math
from typing import Any

from .text import block, change, circular, join, method_name, number, rows, value

__all__ = ["verdict", "MIXING_GAIN", "ARI_LOSS"]

#: The least rise of the batch entropy that counts as better mixing.
MIXING_GAIN = 0.02

#: The largest fall of the cell lines' Leiden ARI that still counts as keeping the cell lines apart.
ARI_LOSS = 0.05


def _ordinal(k: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}.get(k, f"{k}th")


def _rank(table: dict[str, dict[str, float]], names: list[str], name: str, key: str) -> tuple[str, str]:
    """The count model's place among ``names`` by ``key`` (higher is better) and, unless it is first, the best."""
    values = {n: value(table, n, key) for n in names if not math.isnan(value(table, n, key))}
    mine = values[name]
    place = 1 + sum(v > mine for v in values.values())
    best = max(values, key=lambda n: values[n])
    tied = sum(v == mine for v in values.values()) > 1
    where = f"{_ordinal(place)} of {len(values)}" + (" (tied)" if tied else "")
    return where, ("" if place == 1 else f" (highest: {best}, {number(values[best])})")


def verdict(scores: Any, *, labels: str = "none", mode: str = "count", truth_key: str | None = "cell_line",
            batch_key: str = "batch", method: str = "scmaskgan", reference: str = "observed",
            correction: str | None = "ComBat (observed)") -> str:
    """The batch-integration page's verdict, written from its table of scores.

    The page asks the paper's question (Fig. 8A): do the batches mix better after imputation, with
    the cell lines still apart? Better mixing is a rise of the batch entropy by at least
    :data:`MIXING_GAIN`; the cell lines count as kept when their Leiden ARI falls by at most
    :data:`ARI_LOSS` (without known cell lines only mixing is judged).

    Parameters
    ----------
    scores
        One row per method (a DataFrame, or ``{method: {score: value}}`` as ``metrics.json`` stores it) with
        ``batch_entropy`` and ``kbet_acceptance``, and with known cell lines ``leiden_ari``; rows
        ``reference`` (the observed data) and ``method`` (scmaskgan) are required, ``correction``
        (ComBat) and any others (the baselines) are compared with them.
    labels
        The labels scmaskgan imputed with, as the page records them: ``"none"``, ``"Leiden clusters"``
        or an obs column.
    mode
        The ``scmaskgan.pp.impute`` mode the page ran.
    truth_key
        The obs column of the known cell lines that score conservation (``None``: none known).
    batch_key
        The obs column of the batches that score mixing.
    method, reference, correction
        The rows of scmaskgan, of the observed data and of the batch correction (``None``: none).

    Returns
    -------
    str
        Markdown: a ``**Verdict.**`` paragraph of 3-6 sentences.

    Raises
    ------
    KeyError
        When the row ``method`` or ``reference``, or their batch entropy, is missing.
    """
    table = rows(scores)
    for name in (method, reference):
        if name not in table or math.isnan(value(table, name, "batch_entropy")):
            raise KeyError(f"the scores have no batch entropy for {name!r}.")
    who = method_name(mode)
    default = " (the default method)" if mode == "count" else ""
    by = {"none": "without labels", "Leiden clusters": "within its own Leiden clusters"}.get(labels, f"with the labels {labels!r}")
    e0, e1 = value(table, reference, "batch_entropy"), value(table, method, "batch_entropy")
    k0, k1 = value(table, reference, "kbet_acceptance"), value(table, method, "kbet_acceptance")
    a0, a1 = value(table, reference, "leiden_ari"), value(table, method, "leiden_ari")
    has_ari = not (math.isnan(a0) or math.isnan(a1))
    said = [f"batch entropy {change(e0, e1, higher_is_better=True)}"]
    if not (math.isnan(k0) or math.isnan(k1)):
        said.append(f"kBET acceptance {change(k0, k1, higher_is_better=True)}")
    if has_ari:
        said.append(f"the Leiden ARI of the cell lines {change(a0, a1, higher_is_better=True)}")
    sentences = [f"Against the observed data, imputation by {who}{default} {by} changed the scores (all 0 to 1, higher is "
                 f"better) as follows: the {join(said)}."]

    mixed, kept = e1 - e0 >= MIXING_GAIN, (not has_ari) or a0 - a1 <= ARI_LOSS
    if mixed and kept:
        outcome = ("it helped: the batches mixed better" + (f" and the cell lines stayed apart (ARI within {number(ARI_LOSS)} of the observed data's)." if has_ari else
                                                            " (no known cell types here, so whether the cell types "
                                                            "stayed apart is not measured)."))
    else:
        why = []
        if not mixed:
            why.append(f"the batch entropy rose by only {number(e1 - e0)}, less than {number(MIXING_GAIN)}" if e1 > e0
                       else "the batches mixed less" if number(e1) != number(e0) else "the batches did not mix better")
        if not kept:
            why.append("the cell lines were told apart less well")
        outcome = "it did not help: " + join(why) + "."
    sentences.append("For the paper's question, whether imputed batches mix while the cell lines stay apart, " + outcome)

    if correction and correction in table and not math.isnan(value(table, correction, "batch_entropy")):
        ce, ca = value(table, correction, "batch_entropy"), value(table, correction, "leiden_ari")
        sentences.append(f"{correction.split(' (')[0]}, an explicit batch correction of the observed data that "
                         f"imputation is not meant to be, reached a batch entropy of {number(ce)}"
                         + (f" with an ARI of {number(ca)}" if has_ari and not math.isnan(ca) else "")
                         + f", against {number(e1)}" + (f" and {number(a1)}" if has_ari else "")
                         + f" for {who}.")

    imputers = [n for n in table if n not in (reference, correction)]
    if len(imputers) > 1:
        where_e, best_e = _rank(table, imputers, method, "batch_entropy")
        text = (f"Among the {len(imputers)} imputation methods on this page, {who} comes "
                f"{where_e} by batch entropy{best_e}")
        if has_ari and all(not math.isnan(value(table, n, "leiden_ari")) for n in imputers):
            where_a, best_a = _rank(table, imputers, method, "leiden_ari")
            text += f" and {where_a} by ARI{best_a}"
        sentences.append(text + ".")

    scored = [what for key, what in ((truth_key, "the cell lines' scores"), (batch_key, "the mixing scores"))
              if key is not None and labels == key]
    if scored:
        sentences.append(circular(f"it was given the column {labels!r} that {join(scored)} are computed from"))
    return block(sentences)
