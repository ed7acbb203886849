"""Is the uncertainty of an imputation right? Calibration of probabilities and coverage of intervals.

A count model answers more than one number per zero (the expected value, the level if detected and
the probability between them): a probability that the gene is detected, and draws of the completed
matrix. Both can be checked against a known truth:

* :func:`calibration`: the expected calibration error (ECE) of predicted probabilities against
  0/1 outcomes, over equal-width bins, with the table behind a reliability plot
  (:func:`reliability_plot`);
* :func:`interval_coverage`: the share of true values inside each entry's central interval of
  its draws (:func:`interval_bounds`; :func:`bounds_coverage` when only the bounds were kept);
* :func:`log_draws`: draws of counts on a protocol's ``log1p(x / lib * 1e4)`` scale.

All functions are plain numpy; nothing here runs a method.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import InputError

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes
    import pandas as pd

__all__ = ["calibration", "reliability_plot", "interval_bounds", "bounds_coverage", "interval_coverage",
           "log_draws"]


def _vector(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise InputError(f"{what} must hold numbers, got dtype {x.dtype}.")
    return x


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise InputError(f"level must be a number strictly between 0 and 1, got {level!r}.")
    return float(level)


def calibration(p: Any, truth_nonzero: Any, bins: int = 10) -> tuple[float, "pd.DataFrame"]:
    """Expected calibration error of probabilities against 0/1 outcomes, over equal-width bins.

    Bin ``b`` of ``bins`` holds the predictions in ``[b / bins, (b + 1) / bins)`` (the last bin
    also holds 1). With ``n_b`` predictions in bin ``b``, their mean ``p_b`` and the share
    ``o_b`` of them whose outcome is true,

    ``ECE = sum_b (n_b / n) |p_b - o_b|``

    (Naeini et al. 2015; Guo et al. 2017). 0 is perfect calibration.

    Parameters
    ----------
    p
        Predicted probabilities, any shape, in ``[0, 1]``.
    truth_nonzero
        The outcome of each prediction (same shape): true/non-zero where the event happened
        (for a detection probability: the true count was non-zero).
    bins
        Number of equal-width bins on ``[0, 1]``.

    Returns
    -------
    ece, table
        ``ece`` (float) and a ``pandas.DataFrame`` with one row per bin: ``low``, ``high``,
        ``n``, ``mean_p`` and ``observed`` (NaN for an empty bin).

    Raises
    ------
    InputError
        For shapes that differ, no predictions, NaN or probabilities outside ``[0, 1]``, or
        ``bins`` below 1.
    """
    import pandas as pd

    p = _vector(p, "p").astype(np.float64).ravel()
    y = _vector(truth_nonzero, "truth_nonzero").ravel()
    if p.size != y.size:
        raise InputError(f"p ({p.size} values) and truth_nonzero ({y.size}) must have the same size.")
    if p.size == 0:
        raise InputError("calibration() needs at least one prediction.")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise InputError(f"bins must be a positive integer, got {bins!r}.")
    if np.isnan(p).any() or p.min() < 0 or p.max() > 1:
        raise InputError("p must hold probabilities in [0, 1] (no NaN).")
    y = y != 0
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(which, minlength=bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y.astype(np.float64), minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(n > 0, sum_p / n, np.nan)
        observed = np.where(n > 0, sum_y / n, np.nan)
    filled = n > 0
    ece = float(np.sum(n[filled] / p.size * np.abs(mean_p[filled] - observed[filled])))
    edges = np.arange(bins + 1) / bins
    table = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "n": n, "mean_p": mean_p, "observed": observed})
    return ece, table


def reliability_plot(tables: dict[str, "pd.DataFrame"], ax: "matplotlib.axes.Axes | None" = None,
                     title: str | None = None) -> "matplotlib.axes.Axes":
    """Observed share against mean predicted probability per bin, one curve per table of :func:`calibration`.

    Parameters
    ----------
    tables
        Curve name -> calibration table (empty bins are left out of the curve).
    ax
        Axes to draw on; ``None`` makes a new figure.
    title
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with the diagonal of perfect calibration.
    """
    import matplotlib.pyplot as plt

    if not tables:
        raise InputError("reliability_plot() needs at least one calibration table.")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    for name, table in tables.items():
        filled = table["n"] > 0
        ax.plot(table.loc[filled, "mean_p"], table.loc[filled, "observed"], marker="o", ms=3, label=name)
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted probability (bin mean)", ylabel="observed share",
           title=title)
    ax.legend(fontsize="small")
    return ax


def interval_bounds(draws: Any, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` interval of each entry's draws: its ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles.

    Parameters
    ----------
    draws
        Draws along the first axis (``K`` x any shape), at least 2.
    level
        Nominal coverage of the interval (0.9: the 5% and 95% quantiles).

    Returns
    -------
    lo, hi
        Arrays of the shape of one draw (``numpy.quantile``, linear interpolation).
    """
    draws = _vector(draws, "draws")
    level = _check_level(level)
    if draws.ndim < 1 or draws.shape[0] < 2:
        raise InputError(f"draws must hold at least 2 draws along the first axis, got shape {draws.shape}.")
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return lo, hi


def bounds_coverage(lo: Any, hi: Any, truth: Any, rtol: float = 1e-5) -> dict:
    """Share of true values inside ``[lo, hi]`` (bounds included), and where the others fall.

    A truth equal to a bound is inside. Draws of counts put many bounds exactly on the truth's value
    (a count of 1 is the lowest draw given detection), and the two are often computed in different
    precisions (float32 draws, float64 truth), so a truth within ``rtol`` (relative) of a bound counts
    as on it; 1e-5 is far below the gap between neighbouring counts on a log scale.

    Returns
    -------
    dict
        ``coverage``, ``below`` (share with truth < lo), ``above`` (truth > hi), ``mean_width``
        (mean of ``hi - lo``) and ``n``.
    """
    lo, hi, truth = (_vector(x, name).astype(np.float64).ravel() for x, name in
                     ((lo, "lo"), (hi, "hi"), (truth, "truth")))
    if not lo.size == hi.size == truth.size:
        raise InputError(f"lo ({lo.size}), hi ({hi.size}) and truth ({truth.size}) must have the same size.")
    if truth.size == 0:
        raise InputError("no entries to score.")
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not 0 <= rtol < 1:
        raise InputError(f"rtol must be a number in [0, 1), got {rtol!r}.")
    below, above = truth < lo - rtol * np.abs(lo), truth > hi + rtol * np.abs(hi)
    return {"coverage": float(np.mean(~below & ~above)), "below": float(below.mean()), "above": float(above.mean()),
            "mean_width": float(np.mean(hi - lo)), "n": int(truth.size)}


def interval_coverage(draws_log: Any, truth_log: Any, level: float = 0.9) -> dict:
    """Coverage of the true values by the central ``level`` interval of each entry's draws.

    Parameters
    ----------
    draws_log
        ``K`` x entries (or ``K`` x any shape) draws, on the scale the truth is scored on.
    truth_log
        True value of each entry (the shape of one draw).
    level
        Nominal coverage (0.9: between the 5% and 95% quantiles of the draws).

    Returns
    -------
    dict
        :func:`bounds_coverage` of :func:`interval_bounds`, and ``level``. A calibrated model covers
        about ``level`` of the entries; discrete draws (counts) give intervals with ties, which
        include their bounds.
    """
    draws_log = _vector(draws_log, "draws_log")
    truth_log = _vector(truth_log, "truth_log")
    if draws_log.shape[1:] != truth_log.shape:
        raise InputError(f"truth_log (shape {truth_log.shape}) must have the shape of one draw "
                         f"({draws_log.shape[1:]}).")
    lo, hi = interval_bounds(draws_log, level)
    return bounds_coverage(lo, hi, truth_log) | {"level": float(level)}


def log_draws(draws: Any, lib: Any = None, target_sum: float = 1e4) -> np.ndarray:
    """Draws of counts (``K`` x cells x genes) on the scale ``log1p(x / lib * target_sum)``, float32.

    Parameters
    ----------
    draws
        Non-negative counts, ``K`` x cells x genes.
    lib
        Library size of each cell (protocol A: ``lib_orig``); ``None`` normalises every draw by its
        own cell totals (protocol B: ``log1p(Y / Y.sum(1) * 1e4)`` of each drawn matrix ``Y``).
    target_sum
        Counts per cell of the scale.
    """
    draws = _vector(draws, "draws")
    if draws.ndim != 3:
        raise InputError(f"draws must be K x cells x genes, got shape {draws.shape}.")
    draws = np.clip(draws.astype(np.float32), 0, None)
    if lib is None:
        totals = draws.sum(2, keepdims=True)
    else:
        totals = _vector(lib, "lib").astype(np.float32).reshape(1, -1, 1)
        if totals.shape[1] != draws.shape[1]:
            raise InputError(f"lib ({totals.shape[1]} values) must have one library size per cell "
                             f"({draws.shape[1]}).")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log1p(draws / totals * np.float32(target_sum))
    return np.nan_to_num(out, nan=0.0, posinf=0.0)
