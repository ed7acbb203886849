"""Structure of imputed data: clusters against labels, batch mixing, and the embeddings they are read on.

All functions take cells x genes matrices (dense or scipy sparse) or the coordinates of cells in
an embedding; labels and batches are one value per cell.

**Clusters against labels** (the paper's Fig. 5 and Tables 3-4):

- :func:`cluster` (Leiden), :func:`match_clusters` (Hungarian), :func:`clustering_agreement`
  (ACC, AUC, F1, ARI, NMI) and :func:`cluster_and_score`; :func:`best_leiden` tries several
  resolutions and keeps the one with the best NMI, as scIB does.

**Embeddings**: :func:`embed` runs the book's one recipe (normalisation and ``log1p`` or scaling,
PCA, a kNN graph, UMAP) and :func:`umap_coordinates` returns its UMAP coordinates;
:func:`nearest_neighbours` gives each cell's nearest cells in any embedding.

**Batches mixed, cell types kept apart** (protocol S, step 4 of ../shared/BENCHMARK.md), on a
table of each cell's nearest neighbours:

- :func:`batch_entropy`: the entropy of the batches among a cell's neighbours, divided by the
  largest entropy its group (cell line) allows;
- :func:`kbet_pvalues`: a kBET-style chi-squared test of a cell's neighbours' batch counts
  against the batch composition of its group (Büttner et al. 2019 test against the global
  composition, which punishes a perfect integration when groups are spread unevenly);
- :func:`label_knn_purity`: the share of neighbours of the cell's own label;
- :func:`scaled_silhouette`: the silhouette of the labels, scaled to [0, 1] as in scIB;
- :func:`integration_scores`: all of them on one embedding.

**Structure that is not there** (protocol S, steps 1-3): :func:`single_population_input` takes
the cells of one cell line, :func:`invented_structure` clusters a method's output for them as a
user would and scores how far apart the clusters stand (silhouette).
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
    "batch_entropy",
    "kbet_pvalues",
    "label_knn_purity",
    "scaled_silhouette",
    "integration_scores",
    "single_population_input",
    "invented_structure",
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


# ---------------------------------------------------------------------------------------
# batches mixed, cell types kept apart


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
        Cells x k row indices of each cell's neighbours (:func:`nearest_neighbours`).
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
    :func:`best_leiden`.

    Parameters
    ----------
    adata
        An :func:`embed` result (``obsm["X_pca"]`` and a neighbour graph).
    batch
        Batch of every cell.
    labels
        Known label of every cell, or ``None``.
    n_neighbors
        Neighbours in the PCA that the mixing and purity scores look at.
    resolutions, seed
        Of :func:`best_leiden`.
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


# ---------------------------------------------------------------------------------------
# protocol S: structure that is not there


def single_population_input(prepared: Any, label: str = "H1975", protocol: str = "A") -> np.ndarray:
    """Protocol S, step 1: the input counts of the cells of one label (sc_celseq2's H1975 by default).

    Parameters
    ----------
    prepared
        A :class:`scmaskgan.evaluation.protocols.Prepared` (``prepare("sc_celseq2")``).
    label
        The population, a value of ``prepared.labels``.
    protocol
        Whose input to take the cells from: ``"A"`` (hidden entries; BENCHMARK.md says this input
        is fine), ``"B"`` (thinned) or ``"truth"`` (the counts before corruption).

    Returns
    -------
    numpy.ndarray
        The population's rows (in their order in the data set) x the data set's selected genes.
    """
    rows = np.asarray(prepared.labels).astype(str) == str(label)
    if not rows.any():
        raise InputError(f"no cell has the label {label!r}; labels are {sorted(set(prepared.labels))}.")
    if protocol == "A":
        counts = prepared.protocol_a()[0]
    elif protocol == "B":
        counts = prepared.protocol_b()
    elif protocol == "truth":
        counts = prepared.truth
    else:
        raise InputError(f"protocol must be 'A', 'B' or 'truth', got {protocol!r}.")
    return np.asarray(counts)[rows]


def invented_structure(output: Any, *, seed: int = 0, n_pcs: int = 30, n_neighbors: int = 15,
                       resolution: float = 1.0) -> dict:
    """Protocol S, steps 2-3: cluster one population's imputed output as a user would; the clusters' silhouette.

    On a population without sub-types (one cell line) clusters that stand apart were made up by
    the method (Andrews and Hemberg 2018). The steps of ../shared/BENCHMARK.md, exactly:
    ``log1p(Y / Y.sum(1) * 1e4)``, centred; PCA with ``n_pcs`` components
    (``sklearn.decomposition.PCA(random_state=seed)``, its default solver, as protocol A's
    step 8 uses); scanpy neighbours (``n_neighbors``, ``random_state=seed``) on that PCA; Leiden
    (``resolution``, flavour igraph, 2 iterations, ``random_state=seed``); the silhouette
    (Euclidean) of those clusters in the same PCA. Lower is better; the input's score is the
    reference. (:func:`cluster` and :func:`embed` are not used: their PCA is scanpy's, and the
    score on an unstructured population is sensitive to the solver. On sc_celseq2's H1975
    input the default solver, randomised at this size, gives the anchor's -0.056 and an exact
    SVD gives 0.014, see ``tests/test_uncertainty.py``.)

    Parameters
    ----------
    output
        The method's output for the population's cells, cells x genes, on a count scale
        (negative values are clipped to 0; cells with no counts are refused).
    seed, n_pcs, n_neighbors, resolution
        The protocol's settings (0, 30, 15, 1.0).

    Returns
    -------
    dict
        ``silhouette`` (NaN with a single cluster), ``n_clusters``, ``cluster_sizes`` (largest
        first) and ``clusters`` (one name per cell).
    """
    import anndata as ad
    import scanpy as sc
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    check_param("seed", seed, int, low=0)
    check_param("n_pcs", n_pcs, int, low=1)
    check_param("n_neighbors", n_neighbors, int, low=1)
    check_param("resolution", resolution, float, low=0.0, low_inclusive=False)
    Y = check_matrix(output, "the output to cluster")
    Y = np.clip(np.asarray(Y.toarray() if sp.issparse(Y) else Y, dtype=np.float64), 0, None)
    if Y.shape[0] <= n_neighbors:
        raise InputError(f"protocol S needs more cells ({Y.shape[0]}) than neighbours ({n_neighbors}).")
    totals = Y.sum(1, keepdims=True)
    if (totals <= 0).any():
        raise InputError(f"{int((totals <= 0).sum())} cells of the output have no counts; they cannot be normalised.")
    x = np.log1p(Y / totals * 1e4)
    x -= x.mean(0)
    pcs = PCA(n_components=min(n_pcs, *x.shape), random_state=seed).fit_transform(x)
    a = ad.AnnData(np.zeros((pcs.shape[0], 1), dtype=np.float32))
    a.obsm["X_pca"] = pcs
    with _quiet_logger():
        sc.pp.neighbors(a, n_neighbors=n_neighbors, use_rep="X_pca", random_state=seed)
        sc.tl.leiden(a, resolution=resolution, flavor="igraph", n_iterations=2, random_state=seed)
    clusters = a.obs["leiden"].astype(str).to_numpy()
    names, sizes = np.unique(clusters, return_counts=True)
    silhouette = float(silhouette_score(pcs, clusters)) if 1 < names.size < clusters.size else float("nan")
    return {"silhouette": silhouette, "n_clusters": int(names.size),
            "cluster_sizes": sorted(map(int, sizes), reverse=True), "clusters": clusters.astype(object)}
