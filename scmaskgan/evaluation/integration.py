"""Batches mixed, cell types kept apart: integration scores on a table of each cell's nearest neighbours.

The batch step of protocol S: imputation alone does not mix batches, so without a batch key the goal
is only that the cell-line ARI does not fall; with a batch key, an integration is scored as the field
scores it (Luecken et al. 2022), here on the embedding of
:func:`scmaskgan.evaluation.structure.embed`:

- :func:`batch_entropy`: the entropy of the batches among a cell's neighbours, divided by the
  largest entropy its group (cell line) allows;
- :func:`kbet_pvalues`: a kBET-style chi-squared test of a cell's neighbours' batch counts
  against the batch composition of its group (Büttner et al. 2019 test against the global
  composition, which punishes a perfect integration when groups are spread unevenly);
- :func:`label_knn_purity`: the share of neighbours of the cell's own label;
- :func:`scaled_silhouette`: the silhouette of the labels, scaled to [0, 1] as in scIB;
- :func:`integration_scores`: all of them on one embedding, beside the best Leiden clustering's
  agreement with the labels (:func:`scmaskgan.evaluation.structure.best_leiden`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import InputError, check_param
from ._matrices import has_missing
from .structure import RESOLUTIONS, best_leiden, nearest_neighbours

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = ["batch_entropy", "kbet_pvalues", "label_knn_purity", "scaled_silhouette", "integration_scores"]


def _neighbour_batches(neighbours: Any, batch: Any, groups: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: batch counts among its neighbours, its group's batch shares (cells x batches), and codes."""
    nn = np.asarray(neighbours)
    batch = np.asarray(batch).ravel()
    if nn.ndim != 2 or nn.shape[1] == 0 or not np.issubdtype(nn.dtype, np.integer):
        raise InputError(f"neighbours must be a cells x k table of integer row indices, got shape {nn.shape}, "
                         f"dtype {nn.dtype}.")
    n = nn.shape[0]
    groups = np.zeros(n, dtype=int) if groups is None else np.asarray(groups).ravel()
    if batch.size != n or groups.size != n:
        raise InputError(f"batch ({batch.size}) and groups ({groups.size}) must have one entry per cell ({n}).")
    if nn.min() < 0 or nn.max() >= n:
        raise InputError(f"neighbours holds row indices outside 0..{n - 1}.")
    if has_missing(batch) or has_missing(groups):
        raise InputError("batch and groups must not contain missing values.")
    _, b = np.unique(batch.astype(str), return_inverse=True)
    _, g = np.unique(groups.astype(str), return_inverse=True)
    counts = np.zeros((n, b.max() + 1))
    np.add.at(counts, (np.repeat(np.arange(n), nn.shape[1]), b[nn].ravel()), 1)
    composition = np.zeros((g.max() + 1, b.max() + 1))
    np.add.at(composition, (g, b), 1)
    composition /= composition.sum(1, keepdims=True)
    return counts, composition[g], g


def batch_entropy(neighbours: Any, batch: Any, groups: Any = None) -> np.ndarray:
    """Normalised entropy of the batches among each cell's neighbours.

    For cell i with neighbour batch shares p_b: ``-sum p_b log p_b / log(B_i)``, where B_i is the
    number of batches that hold cells of i's group. 0: every neighbour from one batch; 1: the
    batches as even as the group allows to be found.

    Parameters
    ----------
    neighbours
        Cells x k row indices of each cell's neighbours (:func:`~scmaskgan.evaluation.structure.nearest_neighbours`).
    batch
        Batch of every cell.
    groups
        Group (cell line, cell type) of every cell; ``None``: all cells are one group.

    Returns
    -------
    numpy.ndarray
        One value per cell; NaN for cells whose group lies in a single batch.
    """
    counts, composition, _ = _neighbour_batches(neighbours, batch, groups)
    p = counts / counts.sum(1, keepdims=True)
    entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=1)
    n_batches = (composition > 0).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n_batches >= 2, entropy / np.log(n_batches), np.nan)


def kbet_pvalues(neighbours: Any, batch: Any, groups: Any = None) -> np.ndarray:
    """kBET-style test of each cell's neighbourhood: p-values of a chi-squared test of batch counts.

    The expected counts are ``k`` times the batch shares of the cell's group; batches without
    cells of the group are left out of the statistic (degrees of freedom: the batches of the
    group minus 1). The acceptance rate is the share of p-values at or above 0.05.

    Parameters
    ----------
    neighbours, batch, groups
        As in :func:`batch_entropy`.

    Returns
    -------
    numpy.ndarray
        One p-value per cell; NaN for cells whose group lies in a single batch.
    """
    from scipy.stats import chi2

    counts, composition, _ = _neighbour_batches(neighbours, batch, groups)
    expected = counts.sum(1, keepdims=True) * composition
    present = expected > 0
    stat = np.where(present, (counts - expected) ** 2 / np.where(present, expected, 1.0), 0.0).sum(1)
    n_present = present.sum(1)
    p = chi2.sf(stat, df=np.maximum(n_present - 1, 1))
    return np.where(n_present >= 2, p, np.nan)


def label_knn_purity(neighbours: Any, labels: Any) -> float:
    """Share of all neighbours (over all cells) that have the cell's own label."""
    nn = np.asarray(neighbours)
    labels = np.asarray(labels).ravel()
    if nn.ndim != 2 or labels.size != nn.shape[0]:
        raise InputError(f"labels ({labels.size}) must have one entry per row of neighbours {nn.shape}.")
    return float(np.mean(labels[nn] == labels[:, None]))


def scaled_silhouette(coords: Any, labels: Any) -> float:
    """Silhouette of the labels in ``coords`` (Euclidean), scaled from [-1, 1] to [0, 1] as in scIB."""
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels).ravel()
    n_labels = np.unique(labels.astype(str)).size
    if not 2 <= n_labels < labels.size:
        raise InputError(f"a silhouette needs between 2 and {labels.size - 1} labels, got {n_labels}.")
    return float((silhouette_score(np.asarray(coords), labels) + 1) / 2)


def integration_scores(adata: "anndata.AnnData", batch: Any, labels: Any = None, *, n_neighbors: int = 15,
                       resolutions: Sequence[float] = RESOLUTIONS, seed: int = 0, alpha: float = 0.05) -> dict:
    """Batch mixing and label conservation of one embedding (``obsm["X_pca"]`` and its graph).

    Mixing is scored on the cells whose label (all cells, without labels) lies in at least two
    batches: ``batch_entropy`` (mean of :func:`batch_entropy`) and ``kbet_acceptance`` (share
    of :func:`kbet_pvalues` at or above ``alpha``), both NaN with a single batch. With labels
    also ``label_knn_purity``, ``label_silhouette`` (:func:`scaled_silhouette`) and
    ``leiden_ari``, ``leiden_nmi``, ``leiden_resolution``, ``leiden_clusters`` of
    :func:`~scmaskgan.evaluation.structure.best_leiden`.

    Parameters
    ----------
    adata
        An :func:`~scmaskgan.evaluation.structure.embed` result (``obsm["X_pca"]`` and a neighbour graph).
    batch
        Batch of every cell.
    labels
        Known label of every cell, or ``None``.
    n_neighbors
        Neighbours in the PCA that the mixing and purity scores look at.
    resolutions, seed
        Of :func:`~scmaskgan.evaluation.structure.best_leiden`.
    alpha
        Level of the kBET-style test.

    Returns
    -------
    dict
        The scores named above.
    """
    check_param("alpha", alpha, float, low=0.0, high=1.0, low_inclusive=False)
    if "X_pca" not in adata.obsm:
        raise InputError("integration_scores() needs obsm['X_pca']: use embed() first.")
    nn = nearest_neighbours(adata.obsm["X_pca"], n_neighbors)
    entropy = batch_entropy(nn, batch, labels)
    result = {"batch_entropy": float("nan"), "kbet_acceptance": float("nan")}
    mixable = np.isfinite(entropy)
    if mixable.any():
        result["batch_entropy"] = float(entropy[mixable].mean())
        result["kbet_acceptance"] = float(np.mean(kbet_pvalues(nn, batch, labels)[mixable] >= alpha))
    if labels is not None:
        labels = np.asarray(labels).ravel()
        best = best_leiden(adata, labels, resolutions, seed=seed)
        result.update({"label_knn_purity": label_knn_purity(nn, labels),
                       "label_silhouette": scaled_silhouette(adata.obsm["X_pca"], labels),
                       "leiden_ari": best["ari"], "leiden_nmi": best["nmi"],
                       "leiden_resolution": best["resolution"], "leiden_clusters": best["n_clusters"]})
    return result
