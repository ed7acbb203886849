"""Cell labels for conditioning: an ``obs`` column, or Leiden clusters when none is given."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger("scmaskgan")

__all__ = ["cluster_labels"]


def cluster_labels(X: np.ndarray | sp.csr_matrix, *, normalized: bool, seed: int, resolution: float = 1.0,
                   n_pcs: int = 30, n_neighbors: int = 15) -> tuple[np.ndarray, np.ndarray, dict]:
    """Leiden clusters on log-normalised PCA (the paper clusters with Louvain).

    Returns
    -------
    codes, categories, info
        Cluster code per cell, cluster names (``"0"``, ``"1"``, ...), and the
        settings used (recorded in ``uns``).
    """
    import anndata as ad
    import scanpy as sc

    n_cells, n_genes = X.shape
    tmp = ad.AnnData(X.copy())
    if not normalized:
        sc.pp.normalize_total(tmp, target_sum=1e4)
        sc.pp.log1p(tmp)
    n_comps = int(max(1, min(n_pcs, n_cells - 1, n_genes - 1)))
    sc.pp.pca(tmp, n_comps=n_comps, random_state=seed)
    k = int(max(2, min(n_neighbors, n_cells - 1)))
    sc.pp.neighbors(tmp, n_neighbors=k, n_pcs=n_comps, random_state=seed)
    sc.tl.leiden(tmp, resolution=resolution, flavor="igraph", n_iterations=2, directed=False, random_state=seed)
    cat = tmp.obs["leiden"].astype("category")
    codes = np.asarray(cat.cat.codes, dtype=np.int64)
    categories = np.asarray(cat.cat.categories, dtype=object)
    info = {"method": "leiden", "flavor": "igraph", "resolution": resolution, "n_pcs": n_comps,
            "n_neighbors": k, "n_clusters": int(len(categories)), "seed": seed}
    logger.info("no labels given: %d Leiden clusters (resolution %g) serve as the labels", len(categories), resolution)
    return codes, categories, info
