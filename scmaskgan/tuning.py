"""Optuna search of the imputation's k (and k_sigma, and optionally the candidate count).

The objective is the mean squared error, on the [0, 1] scale, at observed
entries that are hidden from the distance computation before imputation (a
validation set drawn from the input only). Distances are computed once; each
trial only re-weights them, so a trial costs one matrix product per label.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .imputation import distance_threshold, neighbour_weights, rms_distances

logger = logging.getLogger("scmaskgan")

__all__ = ["TuningResult", "tune_knn"]


@dataclass
class TuningResult:
    params: dict
    mse: float
    default_mse: float
    n_validation: int
    trials: list[dict]


def tune_knn(values: np.ndarray, codes: np.ndarray, candidates: dict[int, np.ndarray], *, defaults: dict,
             n_trials: int, tune_candidates: bool, holdout_fraction: float, seed: int) -> TuningResult:
    """Search k, k_sigma (and n_candidates) that minimise the validation MSE.

    Parameters
    ----------
    values
        Scaled values (cells x genes) of the cells used for tuning.
    codes
        Label code of each of those cells.
    candidates
        Kept candidates per label code.
    defaults
        ``{"k": ..., "k_sigma": ..., "n_candidates": ...}``; evaluated as the first trial.
    """
    import optuna

    rng = np.random.default_rng(seed)
    observed = values > 0
    flat = np.flatnonzero(observed)
    n_hide = max(1, int(round(holdout_fraction * flat.size)))
    hidden = np.zeros(values.size, bool)
    hidden[rng.choice(flat, size=min(n_hide, flat.size), replace=False)] = True
    hidden = hidden.reshape(values.shape)
    visible = observed & ~hidden
    # Cells that keep no visible gene cannot be placed; leave them out of the objective.
    hidden &= visible.any(1, keepdims=True)
    truth = values[hidden]

    groups = {}
    for label, cand in candidates.items():
        rows = np.flatnonzero(codes == label)
        if rows.size == 0:
            continue
        dist = rms_distances(values[rows], visible[rows], cand)
        groups[label] = (rows, dist, cand)
    max_cand = min(c.shape[0] for c in candidates.values())

    def mse(k: int, k_sigma: float, n_cand: int) -> float:
        pred = np.zeros(values.shape, np.float32)
        for rows, dist, cand in groups.values():
            d = dist[:, :n_cand]
            w = neighbour_weights(d, k, distance_threshold(d, k_sigma))
            pred[rows] = w @ cand[:n_cand]
        return float(np.mean((pred[hidden] - truth) ** 2))

    def objective(trial: "optuna.Trial") -> float:
        n_cand = trial.suggest_int("n_candidates", min(16, max_cand), max_cand) if tune_candidates else max_cand
        k = trial.suggest_int("k", 1, min(100, n_cand))
        k_sigma = trial.suggest_float("k_sigma", -1.0, 3.0)
        return mse(k, k_sigma, n_cand)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    first = {"k": min(int(defaults["k"]), max_cand), "k_sigma": float(defaults["k_sigma"])}
    if tune_candidates:
        first["n_candidates"] = max_cand
    study.enqueue_trial(first)
    study.optimize(objective, n_trials=n_trials)
    best = dict(study.best_params)
    best.setdefault("n_candidates", max_cand)
    trials = [{"number": t.number, "value": t.value, **t.params} for t in study.trials]
    logger.info("tuning: k=%d k_sigma=%.3f n_candidates=%d, validation MSE %.5f (default %.5f) on %d hidden entries",
                best["k"], best["k_sigma"], best["n_candidates"], study.best_value, trials[0]["value"], int(hidden.sum()))
    return TuningResult(best, float(study.best_value), float(trials[0]["value"]), int(hidden.sum()), trials)
