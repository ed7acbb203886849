"""The count model's checks against their targets: calibration and coverage on a benchmark data set.

The questions (:mod:`scmaskgan.evaluation.questions`) asked of models fitted on protocol A's and
protocol B's inputs of a prepared data set (:func:`scmaskgan.benchmarking.data.prepare`), scored
against the hidden truth and the targets:

* :func:`score_count_model`: the point scores, calibration and coverage from the saved arrays;
* :func:`count_model_checks`: all of it for two fitted models (the benchmark page);
* :func:`checks_table` and :func:`plot_reliability_questions`: the table beside :data:`ECE_GOAL`
  and :data:`COVERAGE_GOAL`, and the two-panel reliability plot of the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._validation import InputError
from ..evaluation.questions import B_DEPTH, LEVEL, answers, protocol_arrays
from ..evaluation.uncertainty import bounds_coverage, calibration, reliability_plot
from ..scaling import log_normalize

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure
    import pandas as pd

    from .data import Prepared

__all__ = ["ECE_GOAL", "COVERAGE_GOAL", "score_count_model", "count_model_checks", "checks_table",
           "plot_reliability_questions"]

#: The largest ECE of ``p_detected`` on B's zeros at B's depth that issue 12 accepts.
ECE_GOAL: float = 0.03
#: The range of coverage of the 90% intervals that issue 12 accepts.
COVERAGE_GOAL: tuple[float, float] = (0.85, 0.95)


def score_count_model(prepared: "Prepared", outputs_a: Mapping[str, Any], outputs_b: Mapping[str, Any]) -> dict:
    """Score a count model's answers on protocols A and B: the point scores, calibration and coverage.

    Parameters
    ----------
    prepared
        The data set (:func:`scmaskgan.benchmarking.data.prepare`).
    outputs_a, outputs_b
        :func:`~scmaskgan.evaluation.questions.answers` and
        :func:`~scmaskgan.evaluation.questions.protocol_arrays` of the models fitted on ``prepared.protocol_a()[0]``
        and ``prepared.protocol_b()`` (one dict each).

    Returns
    -------
    dict
        * ``"A"``, ``"B"``: ``prepared.score_answers`` (A on ``if_detected``, B on ``mean``);
        * ``"calibration"``: on B's zeros against "the truth was non-zero": ``ece`` (``p_detected``
          at B's depth, the target), ``ece_depth_1`` (the default question),
          ``share_truth_nonzero``, ``mean_p_detected``, ``mean_p_detected_depth_1``;
        * ``"calibration_tables"``: ``{"protocol depth": table, "depth 1": table}`` of
          :func:`scmaskgan.evaluation.uncertainty.calibration`;
        * ``"coverage_A"``: :func:`~scmaskgan.evaluation.uncertainty.bounds_coverage` of A's hidden
          entries by the draws given detection, and ``coverage_draws_as_drawn``;
        * ``"coverage_B"``: the same of B's zeros by the removed molecules' draws, and
          ``coverage_depth_1`` (default draws) and ``coverage_dropouts_only`` (removed molecules'
          draws, zeros whose truth is non-zero).
    """
    b_input = prepared.protocol_b()
    _, hidden = prepared.protocol_a()
    result = {"A": prepared.score_answers("A", outputs_a), "B": prepared.score_answers("B", outputs_b)}

    zeros = b_input == 0
    truth_nonzero = prepared.truth[zeros] > 0
    p_question = outputs_b["p_detected_protocol_depth"][zeros]
    p_1 = outputs_b["p_detected"][zeros]
    ece, table = calibration(p_question, truth_nonzero)
    ece_1, table_1 = calibration(p_1, truth_nonzero)
    result["calibration"] = {"ece": ece, "ece_depth_1": ece_1, "share_truth_nonzero": float(truth_nonzero.mean()),
                             "mean_p_detected": float(p_question.mean()), "mean_p_detected_depth_1": float(p_1.mean())}
    result["calibration_tables"] = {"protocol depth": table, "depth 1": table_1}

    rows_a = hidden // prepared.truth.shape[1]
    truth_a = log_normalize(prepared.truth.flat[hidden], prepared.lib_orig[rows_a])
    cov_a = bounds_coverage(outputs_a["draw_lo_if_detected"].flat[hidden],
                            outputs_a["draw_hi_if_detected"].flat[hidden], truth_a)
    cov_a_plain = bounds_coverage(outputs_a["draw_lo"].flat[hidden], outputs_a["draw_hi"].flat[hidden], truth_a)
    result["coverage_A"] = cov_a | {"coverage_draws_as_drawn": cov_a_plain["coverage"]}

    truth_b = log_normalize(prepared.truth)[zeros]
    cov_b, cov_b_1, cov_b_drop = (
        bounds_coverage(outputs_b[f"draw_lo{tag}"][zeros][subset], outputs_b[f"draw_hi{tag}"][zeros][subset],
                        truth_b[subset])
        for tag, subset in (("_protocol_depth", slice(None)), ("", slice(None)), ("_protocol_depth", truth_nonzero)))
    result["coverage_B"] = cov_b | {"coverage_depth_1": cov_b_1["coverage"],
                                    "coverage_dropouts_only": cov_b_drop["coverage"]}
    return result


def count_model_checks(prepared: "Prepared", model_a: Any, model_b: Any, n_draws: int = 50,
                       level: float = LEVEL) -> dict:
    """:func:`score_count_model` of two trained count models, on protocol A's and protocol B's inputs.

    Parameters
    ----------
    prepared
        The data set.
    model_a, model_b
        Trained ``mode="count"`` models of ``prepared.protocol_a()[0]`` and ``prepared.protocol_b()``
        (same cells and genes, in order).
    n_draws, level
        Draws per interval (at least 2) and nominal coverage.

    Returns
    -------
    dict
        :func:`score_count_model`'s result.
    """
    shape = prepared.truth.shape
    for name, model in (("model_a", model_a), ("model_b", model_b)):
        if (model.n_cells, model.n_genes) != shape:
            raise InputError(f"{name} has {model.n_cells} cells x {model.n_genes} genes; the data set "
                             f"{shape[0]} x {shape[1]}.")
    outputs_a = answers(model_a) | protocol_arrays(model_a, "A", n_draws, lib=prepared.lib_orig, level=level)
    outputs_b = answers(model_b) | protocol_arrays(model_b, "B", n_draws, counts=prepared.protocol_b(), level=level)
    return score_count_model(prepared, outputs_a, outputs_b)


def checks_table(checks: Mapping[str, Any]) -> "pd.DataFrame":
    """One row per check of :func:`score_count_model`'s result: the protocol's question and the default beside it.

    Columns ``check``, ``question`` (the protocol's), ``value``, ``goal`` (issue 12's target, as text),
    ``met``, ``default question`` (what the package answers by default) and ``default value``.
    """
    import pandas as pd

    cal, cov_a, cov_b = checks["calibration"], checks["coverage_A"], checks["coverage_B"]
    low, high = COVERAGE_GOAL
    coverage_goal = f"{low:.2f}-{high:.2f}"
    rows = [
        ("calibration ECE, B's zeros", f"p_detected at depth {B_DEPTH:.3g} (the removed molecules)", cal["ece"],
         f"<= {ECE_GOAL:g}", cal["ece"] <= ECE_GOAL, "p_detected at depth 1", cal["ece_depth_1"]),
        (f"{LEVEL:.0%} interval coverage, A's hidden entries", "draws given detection", cov_a["coverage"],
         coverage_goal, low <= cov_a["coverage"] <= high, "draws as drawn", cov_a["coverage_draws_as_drawn"]),
        (f"{LEVEL:.0%} interval coverage, B's zeros", f"draws of the removed molecules (depth {B_DEPTH:.3g})",
         cov_b["coverage"], coverage_goal, low <= cov_b["coverage"] <= high, "draws at depth 1",
         cov_b["coverage_depth_1"]),
        (f"{LEVEL:.0%} interval coverage, B's dropouts (truth > 0)",
         f"draws of the removed molecules (depth {B_DEPTH:.3g})", cov_b["coverage_dropouts_only"], "-", None, "-",
         float("nan")),
    ]
    return pd.DataFrame(rows, columns=["check", "question", "value", "goal", "met", "default question",
                                       "default value"])


def plot_reliability_questions(curves: Mapping[str, tuple["pd.DataFrame", "pd.DataFrame"]],
                               depth: float = B_DEPTH) -> "matplotlib.figure.Figure":
    """Two reliability panels of ``p_detected`` on protocol B's zeros: at B's depth (the target) and at depth 1.

    Parameters
    ----------
    curves
        Curve name -> (table at ``depth``, table at depth 1) of
        :func:`scmaskgan.evaluation.uncertainty.calibration` (``score_count_model(...)["calibration_tables"]``'s
        ``"protocol depth"`` and ``"depth 1"``).
    depth
        The depth of the first panel's question, for its title.
    """
    import matplotlib.pyplot as plt

    if not curves:
        raise InputError("plot_reliability_questions() needs at least one curve.")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.8))
    for i, (ax, title) in enumerate(zip(axes, (f"depth {depth:.3g}: the molecules B removed (the target)",
                                                "depth 1: a measurement as deep as the input"))):
        reliability_plot({key: tables[i] for key, tables in curves.items()}, ax=ax, title=title)
    fig.suptitle("p_detected on protocol B's zeros against 'the truth was non-zero'", fontsize=10)
    for ax in axes:  # every panel's ticks and legend at 9 pt
        ax.tick_params(labelsize=9)
        if ax.get_legend() is not None:
            for text in ax.get_legend().get_texts():
                text.set_fontsize(8)
    fig.tight_layout()
    return fig
