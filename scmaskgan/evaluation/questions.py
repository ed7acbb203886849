"""The questions the held-out protocols ask of a count model (``mode="count"``), and the arrays of its answers.

A count model answers more than one number per zero (protocol A's best answer at a zero is the level
the gene would have if detected, protocol B's the expected value given the zero, with the probability
of detection between them), and some of its answers depend on the question: a probability of
detection means nothing without the depth of the measurement it is about, and an interval of draws
nothing without the law the truth follows. Each protocol asks its own:

* protocol A hides non-zero entries and scores the level a gene has where it is detected: its
  intervals come from the draws given detection (``SCMaskGAN.sample(if_detected=True)``), on
  ``log1p(x / lib_orig * 1e4)``;
* protocol B thins the counts to :data:`~scmaskgan.evaluation.protocols.KEEP` of the molecules; at an
  input zero the truth is non-zero exactly when the molecules the thinning removed,
  :data:`B_DEPTH` = ``(1 - KEEP) / KEEP`` times the input's, hold the gene. Its detection probability
  is asked at that depth (``iter_answers(depth=B_DEPTH)``), and its intervals come from the draws of
  the removed molecules (``sample(depth=B_DEPTH) * B_DEPTH``) over the truth's library (the input's
  divided by ``KEEP``).

Beside each, the package's default question (depth 1; draws as drawn) is scored as a diagnostic.

The functions, in the order a check runs them:

* :func:`answers` (:func:`p_detected_at`): the model's dense answers at a depth;
* :func:`draw_bounds`, :func:`detected_draw_bounds`, :func:`removed_molecule_bounds`: each entry's
  central interval of draws on the protocol's scale;
* :func:`protocol_arrays`: every array a protocol's checks need from one fitted model (what
  ``benchmarks/masked.py`` saves from its child processes).

Scored against the truth of a benchmark data set and the targets, these are the checks of
:mod:`scmaskgan.benchmarking.checks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import InputError
from .protocols import KEEP  # protocol B's kept share of molecules
from .uncertainty import interval_bounds, log_draws

__all__ = ["B_DEPTH", "LEVEL", "answers", "p_detected_at", "draw_bounds", "detected_draw_bounds",
           "removed_molecule_bounds", "protocol_arrays"]

#: The depth of protocol B's question, the molecules the thinning removed as a multiple of the input's (7/3).
B_DEPTH: float = (1 - KEEP) / KEEP
#: Nominal coverage of the intervals (between the 5% and 95% quantiles of the draws).
LEVEL: float = 0.9

_LAYERS = ("mean", "if_detected", "p_detected")


def answers(model: Any, depth: float | None = None) -> dict[str, np.ndarray]:
    """The count model's three answers as dense float32 cells x genes arrays (``SCMaskGAN.iter_answers``).

    Parameters
    ----------
    model
        A trained :class:`scmaskgan.SCMaskGAN` with ``mode="count"``.
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
    draws = model.sample(n_draws, seed=model.params["seed"], if_detected=if_detected)  # the same whenever asked
    lo, hi = interval_bounds(log_draws(draws, lib), level)
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
    removed = model.sample(n_draws, seed=model.params["seed"], depth=depth) * depth
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
