"""Imputation from generated candidates (paper, "Imputed method" and equation 6).

For each label ``K``: draw ``n_candidates`` profiles from the trained generator,
remove outlier candidates with an Isolation Forest fitted on that candidate set
(anomaly score ``s(x) = 2 ** (-E(h(x)) / c(n))`` above ``tau``), and for every cell
of that label compute Euclidean distances to the candidates over the cell's
observed (non-zero) genes. Distances are divided by the square root of the
number of observed genes (a root-mean-square distance) so that cells with few
and many detected genes share one threshold ``theta = mu + k_sigma * sigma``
(mean and standard deviation of the label's cell-candidate distances). The
``k`` nearest candidates closer than ``theta`` (at least the nearest one) are
averaged, and only the cell's zero entries take that average; observed values
are returned unchanged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from .layout import ImageLayout

logger = logging.getLogger("scmaskgan")

__all__ = ["CandidateSet", "generate_candidates", "filter_outliers", "rms_distances",
           "distance_threshold", "neighbour_weights", "anomaly_scores", "fill_values"]


@dataclass
class CandidateSet:
    """Generated profiles of one label (rows, on the [0, 1] scale) after outlier removal."""

    values: np.ndarray  # kept candidates x genes, float32
    scores: np.ndarray  # anomaly score s(x) of every generated candidate
    threshold: float  # tau used
    n_generated: int


@torch.no_grad()
def generate_candidates(generator: torch.nn.Module, layout: ImageLayout, label: int, n_labels: int,
                        n_candidates: int, *, device: torch.device, seed: int, batch_size: int = 256) -> np.ndarray:
    """Draw ``n_candidates`` profiles of one label from the generator (genes only, [0, 1] scale)."""
    generator.eval()
    gen = torch.Generator().manual_seed(int(seed) * 1000 + int(label))
    onehot_row = torch.zeros(1, n_labels, device=device)
    onehot_row[0, label] = 1.0
    out = []
    for start in range(0, n_candidates, batch_size):
        n = min(batch_size, n_candidates - start)
        z = torch.randn(n, generator.latent_dim, generator=gen).to(device)
        out.append(layout.to_vectors(generator(z, onehot_row.expand(n, -1))).float().cpu().numpy())
    return np.concatenate(out, axis=0)


def anomaly_scores(candidates: np.ndarray, *, seed: int) -> np.ndarray:
    """Isolation-Forest anomaly score ``s(x)`` in (0, 1] of each candidate, fitted on the set itself."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=100, random_state=seed).fit(candidates)
    return -forest.score_samples(candidates)  # scikit-learn returns -s(x)


def filter_outliers(candidates: np.ndarray, *, tau: float | None, min_keep: int, seed: int) -> CandidateSet:
    """Remove candidates whose anomaly score exceeds ``tau``.

    ``tau=None`` sets it from the score distribution: mean + 2 standard
    deviations. At least ``min_keep`` candidates (those with the lowest scores)
    are always kept.
    """
    scores = anomaly_scores(candidates, seed=seed)
    threshold = float(scores.mean() + 2 * scores.std()) if tau is None else float(tau)
    keep = scores <= threshold
    if keep.sum() < min_keep:
        keep = np.zeros(len(scores), bool)
        keep[np.argsort(scores, kind="stable")[:min_keep]] = True
    return CandidateSet(candidates[keep], scores, threshold, len(candidates))


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


def fill_values(weights: np.ndarray, pool: np.ndarray, *, alpha: float, expressed_above: float) -> np.ndarray:
    """Values for a cell's zeros from its weighted neighbours in the pool ([0, 1] scale).

    ``alpha == 1`` is the paper's rule: the weighted mean of the neighbours'
    values. Otherwise, with ``P`` the weighted share of neighbours that express
    a gene (value above ``expressed_above``) and ``E`` the weighted mean of the
    expressed values, the fill is ``P ** alpha * E``: ``alpha = 1`` is again the
    plain mean (zeros counted), ``alpha = 0`` assumes every zero is a dropout
    and takes the mean of expressing neighbours only.
    """
    if alpha == 1.0:
        return np.asarray(weights @ pool)
    expressed = (pool > expressed_above).astype(np.float32)
    share = np.asarray(weights @ expressed)
    total = np.asarray(weights @ (pool * expressed))
    mean_expressed = np.divide(total, share, out=np.zeros_like(total), where=share > 0)
    return np.power(share, alpha) * mean_expressed


def pool_rates(pool: np.ndarray, *, max_value: float, target_sum: float) -> np.ndarray:
    """Expression fractions ``expm1(v * max_value) / target_sum`` of pool members ([0, 1] scale in)."""
    return (np.expm1(np.asarray(pool, dtype=np.float64) * max_value) / target_sum).astype(np.float32)


def poisson_fill(weights: np.ndarray | sp.spmatrix, pool: np.ndarray, lib: np.ndarray, *, alpha: float,
                 max_value: float, target_sum: float, max_count: int = 64,
                 rates: np.ndarray | None = None) -> np.ndarray:
    """Values for a cell's zeros from a count model of its neighbours ([0, 1] scale).

    The weighted mean of the neighbours' expression fractions
    ``r = sum_n w_n * expm1(v_n * max_value) / target_sum`` gives the count the cell
    would show at its own library size, ``lam = r * lib``. With ``c ~ Poisson(lam)``:

    * ``P = 1 - exp(-lam)``, the probability that the gene is detected in this cell;
    * ``E = E[log1p(c * target_sum / lib) | c > 0]``, its log-normalised value if detected.

    The fill is ``P ** alpha * E`` on the log scale: ``alpha = 1`` is the posterior mean
    ``E[log1p(c * target_sum / lib)]`` (a zero counts as a probable true zero where the
    gene is rarely detected at this depth), ``alpha = 0`` the value if the zero is a
    dropout. Unlike averaging the neighbours' log values, both account for this cell's
    own depth: a single count in a shallow cell is a large normalised value.

    Where no neighbour shows the gene (``lam = 0``) the fill is 0 for every ``alpha``.

    Parameters
    ----------
    weights
        Row-normalised cells x pool weights (dense, or sparse with the k neighbours of each row).
    pool
        Pool x genes, [0, 1] scale (``log1p(x / l * target_sum) / max_value``).
    rates
        Expression fractions of the pool members (dense or sparse), when already computed
        (:func:`pool_rates` of ``pool``, or a real cell's counts over its library).
    lib
        Library size of each cell.
    alpha
        Exponent of the detection probability, in [0, 1].
    max_value, target_sum
        The :class:`~scmaskgan.scaling.Scaler`'s constants.
    max_count
        At most this many counts are summed exactly (the sum stops once the Poisson mass left is
        negligible); above ``lam = max_count / 3`` a second-order (delta) approximation is used.
        The loop is compiled with numba (:mod:`scmaskgan._poisson_kernel`).
    """
    from ._poisson_kernel import fill_csr  # numba: compiled on first use, cached on disk

    if rates is None:
        rates = pool_rates(pool, max_value=max_value, target_sum=target_sum)
    lib = np.ascontiguousarray(lib, dtype=np.float64)
    mean_rate = sp.csr_matrix(weights @ rates)  # stored entries: genes that some neighbour shows
    out = np.zeros(mean_rate.shape, dtype=np.float32)  # lam = 0: no neighbour shows the gene, a true zero
    fill_csr(mean_rate.indptr.astype(np.int64), mean_rate.indices.astype(np.int64),
             mean_rate.data.astype(np.float64), lib, float(alpha), float(max_value), float(target_sum),
             int(max_count), out)
    return out
