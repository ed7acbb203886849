"""The simulation page's verdict: did imputation recover the dropouts that the simulation knows?"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from .text import block, change, join, method_name, number

__all__ = ["verdict"]


def _rows(scores: Any) -> list[dict[str, Any]]:
    """The score rows (one per dropout level and method) from a DataFrame or a sequence of mappings."""
    if hasattr(scores, "to_dict") and hasattr(scores, "columns"):
        scores = scores.to_dict(orient="records")
    if not isinstance(scores, Sequence) or not all(isinstance(r, Mapping) for r in scores):
        raise TypeError("scores must be a DataFrame or a list of mappings (one per dropout level and method).")
    return [dict(r) for r in scores]


def _get(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    return math.nan if value is None else float(value)


def verdict(scores: Any, *, labels: str = "group", mode: str = "count", truth_key: str | None = "group",
            method: str = "scmaskgan", reference: str = "no imputation",
            calibration: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The simulation page's verdict, written from its scores against the known truth.

    The page's question is the paper's: does imputation recover dropouts? Here it is answered
    against the true counts: imputation helped at a dropout level where its RMSE on the dropouts is
    below that of leaving them at 0 (``reference``).

    Parameters
    ----------
    scores
        One row per dropout level and method (a DataFrame, or the list of records ``metrics.json`` stores)
        with ``dropout_mid``, ``zero_rate_observed``, ``method``, ``rmse_dropouts``, ``recall``,
        ``precision``, ``share_true_zeros_kept`` and ``mean_at_true_zeros``.
    labels
        The labels scmaskgan imputed with, as the page records them: an obs column, ``"none"`` or
        ``"Leiden clusters"``.
    mode
        The ``scmaskgan.pp.impute`` mode the page ran.
    truth_key
        The obs column of the simulated groups (part of the simulation's truth).
    method, reference
        The rows of scmaskgan and of the observed counts.
    calibration
        Optional rows of the calibration section (``dropout_mid``, ``ece_depth_1``, ``mean_p_depth_1``,
        ``dropout_share_of_zeros``), or ``None``.

    Returns
    -------
    str
        Markdown: a ``**Verdict.**`` paragraph of 3-6 sentences.

    Raises
    ------
    KeyError
        When ``method`` or ``reference`` has no row at some dropout level.
    """
    rows = _rows(scores)
    levels = sorted({float(r["dropout_mid"]) for r in rows})
    at = {(float(r["dropout_mid"]), str(r["method"])): r for r in rows}
    for mid in levels:
        for name in (method, reference):
            if (mid, name) not in at:
                raise KeyError(f"no scores of {name!r} at dropout_mid {mid:g}.")
    who = method_name(mode)
    short, who = who, who + (" (the default method)" if mode == "count" else "")
    lo, hi, mid = levels[0], levels[-1], levels[len(levels) // 2]
    zeros = [_get(at[(m, reference)], "zero_rate_observed") for m in (lo, hi)]
    better = [m for m in levels if _get(at[(m, method)], "rmse_dropouts") < _get(at[(m, reference)], "rmse_dropouts")]

    def rmse(m: float) -> str:
        return change(_get(at[(m, reference)], "rmse_dropouts"), _get(at[(m, method)], "rmse_dropouts"),
                      higher_is_better=False)

    span = (f"the {len(levels)} dropout levels ({number(100 * zeros[0])}% to {number(100 * zeros[1])}% of the "
            "observed entries zero)" if len(levels) > 1 else f"the one dropout level ({number(100 * zeros[0])}% zeros)")
    ends = f"{rmse(lo)} at the lowest level" + (f" and {rmse(hi)} at the highest" if hi != lo else "")
    sentences = [f"Scored against the true counts across {span}, the RMSE on the dropouts (log scale) of {who}, "
                 f"against leaving them at 0, {ends}."]
    if len(better) == len(levels):
        sentences.append("So for the paper's question, recovering dropouts, imputation helped at every level.")
    elif better:
        sentences.append(f"So for the paper's question, recovering dropouts, imputation helped at only {len(better)} of "
                         f"{len(levels)} levels (dropout_mid {join([f'{m:g}' for m in better])}) and did not help at "
                         "the others.")
    else:
        sentences.append("So for the paper's question, recovering dropouts, imputation did not help at any level: "
                         "leaving the dropouts at 0 was closer to the truth.")

    r = at[(mid, method)]
    sentences.append(f"At dropout_mid {mid:g} (the level of the scatter plots) {short} filled "
                     f"{number(_get(r, 'recall'))} of the dropouts (recall) and left {number(_get(r, 'share_true_zeros_kept'))} "
                     f"of the true zeros at exactly 0 (mean value at true zeros {number(_get(r, 'mean_at_true_zeros'))}, "
                     f"log scale); {number(_get(r, 'precision'))} of the zeros it filled were dropouts (precision).")

    imputers = sorted({str(r["method"]) for r in rows} - {reference})
    if len(imputers) > 1:
        mean_rmse = {n: sum(_get(at[(m, n)], "rmse_dropouts") for m in levels) / len(levels)
                     for n in imputers if all((m, n) in at for m in levels)}
        mine = mean_rmse[method]
        place = 1 + sum(v < mine for v in mean_rmse.values())
        best = min(mean_rmse, key=lambda n: mean_rmse[n])
        ordinal = ("the highest" if place == len(mean_rmse) > 1 else
                   {1: "the lowest", 2: "the second lowest", 3: "the third lowest"}.get(place, f"the {place}th lowest"))
        text = (f"Among the {len(mean_rmse)} imputation methods, {short} has {ordinal} RMSE on the dropouts averaged "
                f"over the levels ({number(mine)}")
        sentences.append(text + (")." if place == 1 else f"; lowest: {best}, {number(mean_rmse[best])})."))

    if calibration:
        eces = [float(c["ece_depth_1"]) for c in calibration if c.get("ece_depth_1") is not None]
        under = sum(float(c["mean_p_depth_1"]) < float(c["dropout_share_of_zeros"]) for c in calibration)
        if eces:
            ece = number(min(eces)) if number(min(eces)) == number(max(eces)) else f"{number(min(eces))} to {number(max(eces))}"
            sentences.append(f"The count model's probability of detection (the calibration section) had an ECE of "
                             f"{ece} and averaged below the share "
                             f"of dropouts among the zeros at {under} of {len(calibration)} levels"
                             + (", the under-prediction that logistic dropout implies." if under else "."))

    if truth_key is not None and labels == truth_key:
        sentences.append(f"It was given the simulated groups ({labels!r}) as labels: the scores compare with the true "
                         "counts, which the groups do not contain, so they are not circular, but real data offer no "
                         "such groups.")
    return block(sentences)
