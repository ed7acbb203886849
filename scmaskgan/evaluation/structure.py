"""Structure of imputed data: clusters against labels, and the embeddings they are read on.

All functions take cells x genes matrices (dense or scipy sparse) or the coordinates of cells in
an embedding; labels and batches are one value per cell.

**Clusters against labels** (the paper's Fig. 5 and Tables 3-4):

- :func:`cluster` (Leiden), :func:`match_clusters` (Hungarian), :func:`clustering_agreement`
  (ACC, AUC, F1, ARI, NMI) and :func:`cluster_and_score`; :func:`best_leiden` tries several
  resolutions and keeps the one with the best NMI, as scIB does.

**Embeddings**: :func:`embed` runs the book's one recipe (normalisation and ``log1p`` or scaling,
PCA, a kNN graph, UMAP) and :func:`umap_coordinates` returns its UMAP coordinates;
:func:`nearest_neighbours` gives each cell's nearest cells in any embedding.

Batch mixing on these embeddings is scored by :mod:`scmaskgan.evaluation.integration`, and
structure that is not there (protocol S) by :mod:`scmaskgan.evaluation.protocol_s`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._validation import InputError, check_param
from ._matrices import check_matrix, has_missing

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = [
    "cluster",
    "match_clusters",
    "clustering_agreement",
    "cluster_and_score",
    "best_leiden",
    "embed",
    "umap_coordinates",
    "nearest_neighbours",
]

logger = logging.getLogger("scmaskgan")

#: Leiden resolutions that :func:`best_leiden` tries by default.
RESOLUTIONS: tuple[float, ...] = (0.1, 0.2, 0.3, 0.5, 0.8, 1.0)


# ---------------------------------------------------------------------------------------
# clusters against labels


@contextlib.contextmanager
def _quiet_logger() -> Iterator[None]:
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def cluster(data: Any, resolution: float = 1.0, seed: int = 0, *, layer: str | None = None,
            normalized: bool = False, n_pcs: int = 30, n_neighbors: int = 15) -> np.ndarray:
    """Leiden clusters (igraph flavour) of cells, as used to score imputed data against labels.

    The same pipeline as the labels that condition the generator when none are given
    (:func:`scmaskgan.labels.cluster_labels`): ``normalize_total`` to 1e4 and ``log1p``
    (unless ``normalized``), PCA (``n_pcs``), a ``n_neighbors`` graph, Leiden with
    ``n_iterations=2``. The paper clusters with Louvain; Leiden is its refinement.

    Parameters
    ----------
    data
        :class:`anndata.AnnData` (``X`` or ``layers[layer]``) or a cells x genes matrix.
        Negative values are clipped to 0.
    resolution
        Leiden resolution (higher: more clusters).
    seed
        Seed of PCA, the neighbour graph and Leiden.

    Returns
    -------
    numpy.ndarray
        Cluster name (``"0"``, ``"1"``, ...) per cell, dtype object.
    """
    import anndata as ad

    from ..labels import cluster_labels

    check_param("resolution", resolution, float, low=0.0, low_inclusive=False)
    check_param("seed", seed, int, low=0)
    if isinstance(data, ad.AnnData):
        if layer is not None and layer not in data.layers:
            raise InputError(f"layer {layer!r} not found; available: {list(data.layers)}.")
        X = data.X if layer is None else data.layers[layer]
    elif layer is not None:
        raise InputError("layer= needs an AnnData input.")
    else:
        X = data
    X = check_matrix(X, "the data to cluster")
    if X.shape[0] < 3:
        raise InputError(f"clustering needs at least 3 cells, got {X.shape[0]}.")
    X = X.astype(np.float32, copy=True)
    if sp.issparse(X):
        np.clip(X.data, 0, None, out=X.data)
    else:
        np.clip(X, 0, None, out=X)
    with _quiet_logger():
        codes, categories, info = cluster_labels(X, normalized=normalized, seed=seed, resolution=resolution,
                                                 n_pcs=n_pcs, n_neighbors=n_neighbors)
    logger.debug("Leiden (resolution %g, seed %d): %d clusters", resolution, seed, info["n_clusters"])
    return np.asarray(categories, dtype=object)[codes]


def match_clusters(labels: Any, clusters: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match clusters one-to-one to labels, maximising the cells in matched pairs (Hungarian).

    Returns
    -------
    predicted, label_names, contingency
        ``predicted``: the matched label's index per cell, or -1 for cells in a cluster
        that no label is matched to (more clusters than labels); ``label_names``: the
        sorted distinct labels; ``contingency``: labels x clusters cell counts.
    """
    from scipy.optimize import linear_sum_assignment

    labels = np.asarray(labels).ravel()
    clusters = np.asarray(clusters).ravel()
    if labels.size != clusters.size:
        raise InputError(f"labels ({labels.size}) and clusters ({clusters.size}) must have one entry per cell.")
    if labels.size == 0:
        raise InputError("labels and clusters are empty.")
    if has_missing(labels) or has_missing(clusters):
        raise InputError("labels and clusters must not contain missing values.")
    label_names, y = np.unique(labels.astype(str), return_inverse=True)
    _, c = np.unique(clusters.astype(str), return_inverse=True)
    contingency = np.zeros((label_names.size, c.max() + 1), dtype=np.int64)
    np.add.at(contingency, (y, c), 1)
    rows, cols = linear_sum_assignment(contingency, maximize=True)
    cluster_to_label = np.full(contingency.shape[1], -1, dtype=np.int64)
    cluster_to_label[cols] = rows
    return cluster_to_label[c], label_names, contingency


def clustering_agreement(labels: Any, clusters: Any) -> dict:
    """ACC, AUC, F1, ARI and NMI of a clustering against known labels.

    Clusters are matched one-to-one to labels with the Hungarian algorithm
    (:func:`match_clusters`); cells of an unmatched cluster count as wrong.

    - ``acc``: share of cells whose matched label is their label.
    - ``f1``: macro F1 over labels of the matched prediction (``2 TP / (n_label + n_predicted)``).
    - ``auc``: macro one-vs-rest ROC AUC of the matched prediction. A hard assignment is a
      0/1 score, whose ROC curve has one corner, so the AUC of label k is
      ``(1 + TPR_k - FPR_k) / 2``, its balanced accuracy. 0.5 is chance, 1 is perfect.
    - ``ari``, ``nmi``: adjusted Rand index and normalised mutual information of the raw
      clusters (no matching needed).

    Returns
    -------
    dict
        ``acc``, ``auc``, ``f1``, ``ari``, ``nmi``, ``n_labels``, ``n_clusters``.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    predicted, label_names, contingency = match_clusters(labels, clusters)
    if label_names.size < 2:
        raise InputError("labels hold a single class; ACC, AUC and F1 need at least two.")
    y = np.unique(np.asarray(labels).ravel().astype(str), return_inverse=True)[1]
    n = y.size
    n_label = np.bincount(y, minlength=label_names.size)
    n_pred = np.bincount(predicted[predicted >= 0], minlength=label_names.size)
    tp = np.bincount(y[predicted == y], minlength=label_names.size)
    f1 = 2 * tp / (n_label + n_pred)
    tpr = tp / n_label
    fpr = (n_pred - tp) / (n - n_label)
    auc = (1 + tpr - fpr) / 2
    clusters = np.asarray(clusters).ravel().astype(str)
    labels_str = np.asarray(labels).ravel().astype(str)
    return {
        "acc": float(tp.sum() / n),
        "auc": float(auc.mean()),
        "f1": float(f1.mean()),
        "ari": float(adjusted_rand_score(labels_str, clusters)),
        "nmi": float(normalized_mutual_info_score(labels_str, clusters)),
        "n_labels": int(label_names.size),
        "n_clusters": int(contingency.shape[1]),
    }


def cluster_and_score(data: Any, labels: Any, resolution: float = 1.0, seed: int = 0, **kwargs: Any) -> dict:
    """:func:`cluster` then :func:`clustering_agreement`; also returns ``resolution`` and ``seed``."""
    clusters = cluster(data, resolution=resolution, seed=seed, **kwargs)
    return {**clustering_agreement(labels, clusters), "resolution": float(resolution), "seed": int(seed)}


def best_leiden(adata: "anndata.AnnData", labels: Any, resolutions: Sequence[float] = RESOLUTIONS,
                seed: int = 0) -> dict:
    """Leiden clusters at each resolution on ``adata``'s neighbour graph; the agreement with the best NMI.

    Parameters
    ----------
    adata
        Cells with a neighbour graph (``scanpy.pp.neighbors``, e.g. from :func:`embed`). Its
        ``obs["leiden"]`` is overwritten.
    labels
        The known label of every cell.
    resolutions
        Leiden resolutions to try (igraph flavour, 2 iterations).
    seed
        Seed of Leiden.

    Returns
    -------
    dict
        :func:`clustering_agreement` of the resolution with the highest NMI (the first of equals),
        and ``resolution``.
    """
    import scanpy as sc

    resolutions = list(resolutions)
    if not resolutions:
        raise InputError("best_leiden() needs at least one resolution.")
    if "neighbors" not in adata.uns:
        raise InputError("best_leiden() needs a neighbour graph: run scanpy.pp.neighbors (or embed()) first.")
    labels = np.asarray(labels).ravel()
    if labels.size != adata.n_obs:
        raise InputError(f"labels ({labels.size}) must have one entry per cell ({adata.n_obs}).")
    best = None
    for res in resolutions:
        check_param("resolution", res, float, low=0.0, low_inclusive=False)
        sc.tl.leiden(adata, resolution=res, flavor="igraph", n_iterations=2, random_state=seed, key_added="leiden")
        agreement = clustering_agreement(labels, adata.obs["leiden"].to_numpy())
        if best is None or agreement["nmi"] > best["nmi"]:
            best = {**agreement, "resolution": float(res)}
    return best


# ---------------------------------------------------------------------------------------
# embeddings


def embed(values: Any, obs: Any = None, *, normalize: bool = True, scale: bool = False, n_pcs: int = 30,
          n_neighbors: int = 15, seed: int = 0, umap: bool = True) -> "anndata.AnnData":
    """The book's embedding recipe: PCA, a kNN graph and UMAP of one matrix.

    Parameters
    ----------
    values
        Cells x genes: counts when ``normalize``, otherwise values already on the scale to embed
        (e.g. log-normalised).
    obs
        ``pandas.DataFrame`` of cell annotations to carry over (copied), or ``None``.
    normalize
        Library-size normalisation to 1e4 and ``log1p`` first (scanpy).
    scale
        Scale every gene to unit variance, clipped at 10 (``scanpy.pp.scale``), before the PCA.
    n_pcs
        Principal components (at most one less than the smaller side of the matrix).
    n_neighbors
        Neighbours of the kNN graph.
    seed
        Seed of PCA, the graph and UMAP.
    umap
        Also compute the UMAP (``obsm["X_umap"]``).

    Returns
    -------
    anndata.AnnData
        float32 values as embedded in ``X``, ``obsm["X_pca"]``, the neighbour graph and
        ``obsm["X_umap"]``.
    """
    import anndata as ad
    import scanpy as sc

    check_param("n_pcs", n_pcs, int, low=1)
    check_param("n_neighbors", n_neighbors, int, low=1)
    check_param("seed", seed, int, low=0)
    X = check_matrix(values, "values")
    if X.shape[0] < 3:
        raise InputError(f"an embedding needs at least 3 cells, got {X.shape[0]}.")
    if obs is not None and len(obs) != X.shape[0]:
        raise InputError(f"obs has {len(obs)} rows for {X.shape[0]} cells.")
    X = X.toarray() if sp.issparse(X) else X
    a = ad.AnnData(np.asarray(X, dtype=np.float32), obs=None if obs is None else obs.copy())
    if normalize:
        sc.pp.normalize_total(a, target_sum=1e4)
        sc.pp.log1p(a)
    if scale:
        sc.pp.scale(a, max_value=10)
    sc.pp.pca(a, n_comps=min(n_pcs, min(a.shape) - 1), random_state=seed)
    sc.pp.neighbors(a, n_neighbors=n_neighbors, random_state=seed)
    if umap:
        sc.tl.umap(a, random_state=seed)
    return a


def umap_coordinates(values: Any, **kwargs: Any) -> np.ndarray:
    """UMAP coordinates (cells x 2) of :func:`embed` (same keyword arguments)."""
    return embed(values, **kwargs).obsm["X_umap"]


def nearest_neighbours(coords: Any, n_neighbors: int = 15) -> np.ndarray:
    """Each cell's ``n_neighbors`` nearest other cells (Euclidean), nearest first.

    Parameters
    ----------
    coords
        Cells x dimensions (e.g. ``obsm["X_pca"]``).
    n_neighbors
        Neighbours per cell, fewer than the cells.

    Returns
    -------
    numpy.ndarray
        Cells x ``n_neighbors`` row indices; the cell itself is left out (the first hit of its
        own query).
    """
    from sklearn.neighbors import NearestNeighbors

    coords = check_matrix(coords, "coords")
    coords = coords.toarray() if sp.issparse(coords) else coords
    check_param("n_neighbors", n_neighbors, int, low=1, high=coords.shape[0] - 1)
    nn = NearestNeighbors(n_neighbors=n_neighbors + 1).fit(coords)
    return nn.kneighbors(coords, return_distance=False)[:, 1:]
