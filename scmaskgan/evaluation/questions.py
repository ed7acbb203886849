"""The questions the held-out protocols ask of a count model (``mode="masked"``), and their answers scored.

A count model answers more than one number per zero (../shared/BENCHMARK.md, "Two questions, two
answers"), and some of its answers depend on the question: a probability of detection means nothing
without the depth of the measurement it is about, and an interval of draws nothing without the law
the truth follows. Each protocol asks its own:

* protocol A hides non-zero entries and scores the level a gene has where it is detected: its
  intervals come from the draws given detection (``SCMaskGAN.sample(if_detected=True)``), on
  ``log1p(x / lib_orig * 1e4)``;
* protocol B thins the counts to :data:`~scmaskgan.evaluation.protocols.KEEP` of the molecules; at an input zero the truth is
  non-zero exactly when the molecules the thinning removed, :data:`B_DEPTH` = ``(1 - KEEP) / KEEP``
  times the input's, hold the gene. Its detection probability is asked at that depth
  (``iter_answers(depth=B_DEPTH)``), and its intervals come from the draws of the removed molecules
  (``sample(depth=B_DEPTH) * B_DEPTH``) over the truth's library (the input's divided by ``KEEP``).

Beside each, the package's default question (depth 1; draws as drawn) is scored as a diagnostic.

The functions, in the order a check runs them:

* :func:`answers` (:func:`p_detected_at`): the model's dense answers at a depth;
* :func:`draw_bounds`, :func:`detected_draw_bounds`, :func:`removed_molecule_bounds`: each entry's
  central interval of draws on the protocol's scale;
* :func:`protocol_arrays`: every array a protocol's checks need from one fitted model (what
  ``benchmarks/masked.py`` saves from its child processes);
* :func:`score_count_model`: calibration and coverage from those arrays against the truth;
* :func:`count_model_checks`: all of it for two fitted models (the benchmark page);
* :func:`checks_table` and :func:`plot_reliability_questions`: the table and the two-panel
  reliability plot of the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import InputError
from ..scaling import log_normalize
from .protocols import KEEP  # protocol B's kept share of molecules
from .uncertainty import bounds_coverage, calibration, interval_bounds, log_draws, reliability_plot

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure
    import pandas as pd

    from .protocols import Prepared

__all__ = ["B_DEPTH", "LEVEL", "ECE_GOAL", "COVERAGE_GOAL", "answers", "p_detected_at", "draw_bounds",
           "detected_draw_bounds", "removed_molecule_bounds", "protocol_arrays", "score_count_model",
           "count_model_checks", "checks_table", "plot_reliability_questions"]

#: The depth of protocol B's question, the molecules the thinning removed as a multiple of the input's (7/3).
B_DEPTH: float = (1 - KEEP) / KEEP
#: Nominal coverage of the intervals (between the 5% and 95% quantiles of the draws).
LEVEL: float = 0.9
#: The largest ECE of ``p_detected`` on B's zeros at B's depth that issue 12 accepts.
ECE_GOAL: float = 0.03
#: The range of coverage of the 90% intervals that issue 12 accepts.
COVERAGE_GOAL: tuple[float, float] = (0.85, 0.95)

_LAYERS = ("mean", "if_detected", "p_detected")


def answers(model: Any, depth: float | None = None) -> dict[str, np.ndarray]:
    """The count model's three answers as dense float32 cells x genes arrays (``SCMaskGAN.iter_answers``).

    Parameters
    ----------
    model
        A trained :class:`scmaskgan.SCMaskGAN` with ``mode="masked"``.
    depth
        The measurement the answers are about, as a multiple of each cell's library size; ``None``:
        the model's own (1 by default).

    Returns
    -------
    dict
        ``"mean"``, ``"if_detected"``, ``"p_detected"``.
    """
    shape = (model.n_cells, model.n_genes)
    layers = {name: np.empty(shape, dtype=np.float32) for name in _LAYERS}
    for start, stop, blocks in model.iter_answers(depth=depth):
        for name, block in blocks.items():
            layers[name][start:stop] = block
    return layers


def p_detected_at(model: Any, depth: float | None = None) -> np.ndarray:
    """The probability of detection at ``depth`` (dense float32 cells x genes; 1 where a value was observed)."""
    return answers(model, depth)["p_detected"]


def draw_bounds(model: Any, n_draws: int, lib: Any = None, level: float = LEVEL, *,
                if_detected: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's central ``level`` interval of ``n_draws`` draws (``SCMaskGAN.sample``) on ``log1p(x / lib * 1e4)``.

    Parameters
    ----------
    model
        A trained count model.
    n_draws
        Draws (at least 2), with the model's seed.
    lib
        Library size of each cell (protocol A: ``lib_orig``); ``None``: each drawn matrix normalised by
        its own cell totals (:func:`scmaskgan.evaluation.uncertainty.log_draws`).
    level
        Nominal coverage.
    if_detected
        Draw each zero given that the gene is detected.

    Returns
    -------
    lo, hi
        float32 cells x genes.
    """
    lo, hi = interval_bounds(log_draws(model.sample(n_draws, if_detected=if_detected), lib), level)
    return lo.astype(np.float32), hi.astype(np.float32)


def detected_draw_bounds(model: Any, n_draws: int, lib: Any, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Protocol A's intervals: :func:`draw_bounds` of the draws given detection, over ``lib`` (``lib_orig``)."""
    return draw_bounds(model, n_draws, lib, level, if_detected=True)


def removed_molecule_bounds(model: Any, counts: Any, n_draws: int, keep: float = KEEP,
                            level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Protocol B's intervals: at each input zero, the draws of the molecules the thinning removed.

    The removed molecules are ``(1 - keep) / keep`` times the input's; a zero's draw is their count,
    ``sample(depth=(1 - keep) / keep) * depth``, over the truth's library (the input's cell total
    divided by ``keep``), on ``log1p(x / lib * 1e4)``. Observed entries get the interval ``[0, 0]``
    (they are not scored).

    Parameters
    ----------
    model
        The count model fitted on ``counts``.
    counts
        Its input, protocol B's thinned counts (cells x genes, dense).
    n_draws, level
        Draws (at least 2) and the interval's nominal coverage.
    keep
        The thinning's kept share.

    Returns
    -------
    lo, hi
        float32 cells x genes.
    """
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep < 1:
        raise InputError(f"keep must be a share strictly between 0 and 1, got {keep!r}.")
    x = np.asarray(counts)
    if x.shape != (model.n_cells, model.n_genes):
        raise InputError(f"counts has shape {x.shape}; the model {model.n_cells} cells x {model.n_genes} genes.")
    depth = (1 - keep) / keep
    removed = model.sample(n_draws, depth=depth) * depth
    lib_truth = x.sum(1, keepdims=True) / keep
    values = np.where(x[None] == 0, np.log1p(removed / lib_truth[None] * 1e4), 0.0)
    lo, hi = interval_bounds(values, level)
    return lo.astype(np.float32), hi.astype(np.float32)


def protocol_arrays(model: Any, protocol: str, n_draws: int, *, lib: Any = None, counts: Any = None,
                    keep: float = KEEP, level: float = LEVEL) -> dict[str, np.ndarray]:
    """Every array that a protocol's questions need from a model fitted on its input, besides :func:`answers`.

    Parameters
    ----------
    model
        The count model fitted on the protocol's input.
    protocol
        ``"A"``: ``draw_lo``/``draw_hi`` (draws as drawn) and ``draw_lo_if_detected``/
        ``draw_hi_if_detected`` (given detection, A's question), both over ``lib``. ``"B"``:
        ``p_detected_protocol_depth`` (:func:`p_detected_at` at ``(1 - keep) / keep``),
        ``draw_lo``/``draw_hi`` (the default draws, each matrix over its own totals) and
        ``draw_lo_protocol_depth``/``draw_hi_protocol_depth`` (:func:`removed_molecule_bounds`).
    n_draws, level
        Draws per interval and its nominal coverage.
    lib
        Protocol A: each cell's ``lib_orig``.
    counts
        Protocol B: the model's input, the thinned counts.
    keep
        Protocol B's kept share.
    """
    out: dict[str, np.ndarray] = {}
    if protocol == "A":
        if lib is None:
            raise InputError("protocol A's intervals need lib (each cell's lib_orig).")
        for tag, given in (("", False), ("_if_detected", True)):
            out[f"draw_lo{tag}"], out[f"draw_hi{tag}"] = draw_bounds(model, n_draws, lib, level, if_detected=given)
    elif protocol == "B":
        out["p_detected_protocol_depth"] = p_detected_at(model, (1 - keep) / keep)
        out["draw_lo"], out["draw_hi"] = draw_bounds(model, n_draws, None, level)
        if counts is None:
            raise InputError("protocol B's intervals need counts (the model's input).")
        out["draw_lo_protocol_depth"], out["draw_hi_protocol_depth"] = removed_molecule_bounds(model, counts, n_draws,
                                                                                              keep, level)
    else:
        raise InputError(f"protocol must be 'A' or 'B', got {protocol!r}.")
    return out


def score_count_model(prepared: "Prepared", outputs_a: Mapping[str, Any], outputs_b: Mapping[str, Any]) -> dict:
    """Score a count model's answers on protocols A and B: the point scores, calibration and coverage.

    Parameters
    ----------
    prepared
        The data set (:func:`scmaskgan.evaluation.protocols.prepare`).
    outputs_a, outputs_b
        :func:`answers` and :func:`protocol_arrays` of the models fitted on ``prepared.protocol_a()[0]``
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
        Trained ``mode="masked"`` models of ``prepared.protocol_a()[0]`` and ``prepared.protocol_b()``
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
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    for i, (ax, title) in enumerate(zip(axes, (f"depth {depth:.3g}: the molecules B removed (the target)",
                                                "depth 1: a measurement as deep as the input"))):
        reliability_plot({key: tables[i] for key, tables in curves.items()}, ax=ax, title=title)
    fig.suptitle("p_detected on protocol B's zeros against 'the truth was non-zero'")
    fig.tight_layout()
    return fig
