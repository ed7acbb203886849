"""Protocol S: structure that is not there (Andrews and Hemberg 2018, "False signals induced by
single-cell imputation").

Imputation must not create clusters that the data do not hold. The protocol's steps:

1. take the cells of one cell line, a population with no real sub-types: sc_celseq2's H1975 (114
   cells; protocol A's input is fine), and run the method without labels
   (:func:`single_population_input`);
2. cluster its output as a user would: ``log1p(Y / Y.sum(1) * 1e4)``, centred, PCA 30
   (``random_state`` 0), scanpy neighbours (``n_neighbors`` 15, ``random_state`` 0) on that PCA,
   Leiden at resolution 1 (flavour igraph, 2 iterations, ``random_state`` 0);
3. score the silhouette of those clusters in the output's PCA (:func:`invented_structure`). Lower is
   better; near the input's (-0.056 on sc_celseq2's H1975) is the goal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import InputError, check_param
from ._matrices import check_matrix
from .structure import _quiet_logger

__all__ = ["single_population_input", "invented_structure"]


def single_population_input(prepared: Any, label: str = "H1975", protocol: str = "A") -> np.ndarray:
    """Protocol S, step 1: the input counts of the cells of one label (sc_celseq2's H1975 by default).

    Parameters
    ----------
    prepared
        A :class:`scmaskgan.benchmarking.data.Prepared` (``prepare("sc_celseq2")``).
    label
        The population, a value of ``prepared.labels``.
    protocol
        Whose input to take the cells from: ``"A"`` (hidden entries; the protocol accepts this
        input), ``"B"`` (thinned) or ``"truth"`` (the counts before corruption).

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
    the method (Andrews and Hemberg 2018). The protocol's steps, exactly:
    ``log1p(Y / Y.sum(1) * 1e4)``, centred; PCA with ``n_pcs`` components
    (``sklearn.decomposition.PCA(random_state=seed)``, its default solver, as protocol A's
    step 8 uses); scanpy neighbours (``n_neighbors``, ``random_state=seed``) on that PCA; Leiden
    (``resolution``, flavour igraph, 2 iterations, ``random_state=seed``); the silhouette
    (Euclidean) of those clusters in the same PCA. Lower is better; the input's score is the
    reference. (:func:`~scmaskgan.evaluation.structure.cluster` and
    :func:`~scmaskgan.evaluation.structure.embed` are not used: their PCA is scanpy's, and the
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
