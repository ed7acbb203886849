"""Optuna search of the imputation's k and k_sigma (and optionally the candidate count).

The objective is the mean squared error, on the [0, 1] scale, at observed
entries that are hidden from the distance computation before imputation (a
validation set drawn from the input only). Distances are computed once by the
caller; each trial only re-weights them, so a trial costs one matrix product
per label.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .distances import distance_threshold, neighbour_weights

logger = logging.getLogger("scmaskgan")

__all__ = ["TuningResult", "validation_mask", "tune_knn", "LabelGroup"]


@dataclass
class TuningResult:
    params: dict
    mse: float
    default_mse: float
    n_validation: int
    trials: list[dict]


@dataclass
class LabelGroup:
    """One label's tuning cells and their neighbour pool.

    ``rows`` index the tuning cells of this label, ``distances`` (rows x pool)
    are computed on visible genes only, ``pool`` holds the pool's values with
    the ``n_generated`` generated candidates first.
    """

    rows: np.ndarray
    distances: np.ndarray
    pool: np.ndarray
    n_generated: int


def validation_mask(values: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a random ``fraction`` of the observed entries, leaving each cell at least one."""
    rng = np.random.default_rng(seed)
    flat = np.flatnonzero(values > 0)
    hidden = np.zeros(values.size, bool)
    hidden[rng.choice(flat, size=min(max(1, int(round(fraction * flat.size))), flat.size), replace=False)] = True
    hidden = hidden.reshape(values.shape)
    keeps_one = ((values > 0) & ~hidden).any(1, keepdims=True)
    return hidden & keeps_one


def tune_knn(values: np.ndarray, hidden: np.ndarray, groups: list[LabelGroup], *, defaults: dict, n_trials: int,
             tune_candidates: bool, fill: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
             seed: int) -> TuningResult:
    """Search k, k_sigma (and n_candidates) that minimise the MSE at the ``hidden`` entries of ``values``.

    ``fill(weights, pool, rows)`` returns the fill values ([0, 1] scale) of the rows
    ``rows`` of ``values`` from their neighbour weights over ``pool``.
    """
    import optuna

    truth = values[hidden]
    max_gen = min(g.n_generated for g in groups)
    tune_candidates = tune_candidates and max_gen > 0
    max_pool = min(g.pool.shape[0] for g in groups)

    def mse(k: int, k_sigma: float, n_cand: int) -> float:
        pred = np.zeros(values.shape, np.float32)
        for g in groups:
            cols = np.r_[0:n_cand, g.n_generated:g.pool.shape[0]]
            d = g.distances[:, cols]
            w = neighbour_weights(d, k, distance_threshold(d, k_sigma))
            pred[g.rows] = fill(w, g.pool[cols], g.rows)
        return float(np.mean((pred[hidden] - truth) ** 2))

    def objective(trial: "optuna.Trial") -> float:
        n_cand = trial.suggest_int("n_candidates", min(16, max_gen), max_gen) if tune_candidates else max_gen
        k = trial.suggest_int("k", 1, min(100, max_pool))
        k_sigma = trial.suggest_float("k_sigma", -1.0, 3.0)
        return mse(k, k_sigma, n_cand)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    first = {"k": min(int(defaults["k"]), max_pool), "k_sigma": float(defaults["k_sigma"])}
    if tune_candidates:
        first["n_candidates"] = max_gen
    study.enqueue_trial(first)
    study.optimize(objective, n_trials=n_trials)
    best = dict(study.best_params)
    best.setdefault("n_candidates", max_gen)
    trials = [{"number": t.number, "value": t.value, **t.params} for t in study.trials]
    logger.info("tuning: k=%d k_sigma=%.3f n_candidates=%d, validation MSE %.5f (default %.5f) on %d hidden entries",
                best["k"], best["k_sigma"], best["n_candidates"], study.best_value, trials[0]["value"], int(hidden.sum()))
    return TuningResult(best, float(study.best_value), float(trials[0]["value"]), int(hidden.sum()), trials)
