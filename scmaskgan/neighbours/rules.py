"""Fill rules: the value a cell's zero takes from its weighted neighbours ([0, 1] scale).

* :func:`fill_values`: the paper's mean of the neighbours' values, or ``P ** alpha * E`` with
  the share ``P`` of neighbours that express the gene and their mean expressed value ``E``;
* :func:`poisson_fill`: a Poisson count model at the cell's own library size (the default mode).

Observed values are never changed here: the caller fills zeros only (paper, equation 6).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["fill_values", "pool_rates", "poisson_fill"]


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
        The loop is compiled with numba (``scmaskgan.neighbours._poisson_kernel``).
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
