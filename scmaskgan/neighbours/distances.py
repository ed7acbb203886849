"""Neighbours of a cell in a pool: distances, the threshold theta and the k-nearest weights.

For every cell of a label the distances to the label's pool members (real cells, or generated
candidates in the paper's mode) are Euclidean over the cell's observed (non-zero) genes, divided
by the square root of the number of observed genes (a root-mean-square distance), so that cells
with few and many detected genes share one threshold ``theta = mu + k_sigma * sigma`` (mean and
standard deviation of the label's cell-pool distances). The ``k`` nearest members closer than
``theta`` (at least the nearest one) get equal weights; :mod:`scmaskgan.neighbours.rules` turns the
weights into values for the cell's zeros.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rms_distances", "distance_threshold", "neighbour_weights"]


def rms_distances(values: np.ndarray, observed: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Root-mean-square distance of each cell to each candidate over the cell's observed genes.

    Parameters
    ----------
    values
        Cells x genes, [0, 1] scale.
    observed
        Boolean cells x genes: genes that enter the distance.
    candidates
        Candidates x genes, [0, 1] scale.
    """
    obs = observed.astype(np.float32)
    v = values * obs
    d2 = (v * v).sum(1)[:, None] - 2.0 * (v @ candidates.T) + obs @ (candidates * candidates).T
    n_obs = np.maximum(obs.sum(1), 1.0)[:, None]
    return np.sqrt(np.maximum(d2, 0.0) / n_obs)


def distance_threshold(distances: np.ndarray, k_sigma: float) -> float:
    """theta = mu + k_sigma * sigma of a label's cell-candidate distances (infinite ones, a cell's
    distance to itself in a pool of real cells, are left out)."""
    finite = distances[np.isfinite(distances)]
    return float(finite.mean() + k_sigma * finite.std()) if finite.size else float("inf")


def neighbour_weights(distances: np.ndarray, k: int, theta: float) -> np.ndarray:
    """Row-normalised weights (cells x candidates): the k nearest within theta, at least the nearest."""
    n_cells, n_cand = distances.shape
    k = min(k, n_cand)
    nearest = np.argpartition(distances, k - 1, axis=1)[:, :k] if k < n_cand else np.tile(np.arange(n_cand), (n_cells, 1))
    rows = np.arange(n_cells)[:, None]
    d = distances[rows, nearest]
    inside = d < theta
    inside[np.arange(n_cells), d.argmin(1)] = True
    weights = np.zeros_like(distances, dtype=np.float32)
    weights[rows, nearest] = inside
    weights /= weights.sum(1, keepdims=True)
    return weights
