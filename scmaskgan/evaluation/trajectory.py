"""Pseudotime on original and imputed counts, scored against a known time.

Used by the book's trajectory notebook: one scanpy recipe for every matrix (:func:`embed`:
library-size normalisation, log1p, PCA, kNN graph, diffusion map; :func:`pseudotime`: diffusion
pseudotime from a shared root, Leiden, PAGA and a PAGA-initialised UMAP), a root chosen once
(:func:`choose_root`), the scores (:func:`trajectory_scores`: Spearman's rho of pseudotime against
the known time, the mean time gap between kNN neighbours, the share of cells the root does not
reach) and expression along pseudotime (:func:`binned_profile`, :func:`strongest_trend_genes`,
:func:`choose_markers`).

The notebook's data (:func:`trajectory_data`): a simulated linear trajectory
(:func:`simulated_trajectory`) or the Chu et al. 2016 time course (:func:`chu_time_course`), each
with its known time.

scanpy loads when a function needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import anndata
    import pandas as pd

__all__ = ["N_NEIGHBORS", "CHU_MARKERS", "TrajectoryData", "simulated_trajectory", "chu_time_course",
           "trajectory_data", "embed", "choose_root", "pseudotime", "neighbour_time_gap", "trajectory_scores",
           "binned_profile", "strongest_trend_genes", "choose_markers"]

#: Neighbours of the kNN graph of :func:`embed`.
N_NEIGHBORS = 15

#: The Chu 2016 time course's marker genes, of pluripotency (POU5F1, NANOG), mesendoderm (T, EOMES)
#: and definitive endoderm (SOX17, CXCR4).
CHU_MARKERS = ("POU5F1", "NANOG", "T", "EOMES", "SOX17", "CXCR4")


@dataclass
class TrajectoryData:
    """Counts along a trajectory with a known time, as :func:`trajectory_data` returns them.

    Attributes
    ----------
    adata
        Cells x genes counts (CSR float32); ``obs[time_key]`` is the known time.
    time_key, time_label
        Column of the known time, and its name in plots (e.g. ``"sampling time (h)"``).
    truth
        The true counts before dropout (dense float64) where known (simulation), else ``None``.
    note
        One sentence on the data.
    """

    adata: "anndata.AnnData"
    time_key: str
    time_label: str
    truth: Optional[np.ndarray]
    note: str


def simulated_trajectory(n_cells: int, n_genes: int, *, de_prob: float, de_fac_loc: float, dropout_mid: float,
                         seed: int = 0) -> TrajectoryData:
    """One simulated linear path with a known time in [0, 1] (:func:`scmaskgan.simulate.simulate`).

    ``simulate(n_cells=n_cells, n_genes=n_genes, n_groups=1, trajectory=True, de_prob=de_prob,
    de_fac_loc=de_fac_loc, dropout_mid=dropout_mid, seed=seed)``, the simulator's other settings
    at their defaults.

    Returns
    -------
    TrajectoryData
        Known time ``obs["time"]``; ``truth``: ``layers["true_counts"]`` as dense float64.
    """
    from scmaskgan.simulate import simulate

    adata = simulate(n_cells=n_cells, n_genes=n_genes, n_groups=1, trajectory=True, de_prob=de_prob,
                     de_fac_loc=de_fac_loc, dropout_mid=dropout_mid, seed=seed)
    truth = adata.layers["true_counts"].toarray().astype(np.float64)
    sim = adata.uns["simulation"]
    note = (f"simulated linear trajectory (scmaskgan.simulate, {n_cells} cells x {n_genes} genes, "
            f"de_prob={de_prob}, de_fac_loc={de_fac_loc}, dropout_mid={dropout_mid}, seed={seed}): "
            f"{sim['zero_rate_true']:.1%} zeros in the true counts, {sim['zero_rate_observed']:.1%} observed")
    return TrajectoryData(adata, "time", "true time", truth, note)


def chu_time_course(path, n_cells: Optional[int], n_genes: int, *, marker_genes: Optional[Sequence[str]] = None,
                    seed: int = 0) -> TrajectoryData:
    """The Chu et al. 2016 time course (GSE75748), subsampled, rounded and reduced to its variable genes.

    The file is read with :func:`scmaskgan.datasets.read_chu_time_course`. At most ``n_cells``
    cells are kept at random (``numpy.random.default_rng(seed)``, in their original order); the
    RSEM expected counts are rounded to integers; the genes kept are the ``n_genes`` most variable
    of :func:`scmaskgan.evaluation.protocols.benchmark_genes` (detected in at least 3 cells) and the marker
    genes present, in the file's order.

    Parameters
    ----------
    path
        ``GSE75748_sc_time_course_ec.csv.gz`` or its folder.
    n_cells
        Cells kept at most; ``None``: all.
    n_genes
        Most variable genes kept.
    marker_genes
        Genes kept besides them; ``None`` or empty: :data:`CHU_MARKERS`.
    seed
        Seed of the cell subset.

    Returns
    -------
    TrajectoryData
        Known time ``obs["time_h"]`` (hours); ``truth`` ``None``.

    Raises
    ------
    InputError
        For a ``path`` of ``None``, or an ``n_cells`` or ``n_genes`` that is not a positive integer.
    """
    import anndata as ad
    import scipy.sparse as sp

    from scmaskgan.datasets import read_chu_time_course

    from .protocols import benchmark_genes

    if path is None:
        raise InputError("the Chu 2016 time course needs its file: download GSE75748_sc_time_course_ec.csv.gz from "
                         "https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE75748 and pass its path")
    check_param("n_cells", n_cells, int, low=1, allow_none=True)
    check_param("n_genes", n_genes, int, low=1)
    if isinstance(marker_genes, str):
        raise InputError(f"marker_genes must be a list of gene names, got the string {marker_genes!r}.")
    raw = read_chu_time_course(path)
    rng = np.random.default_rng(seed)
    if n_cells is not None and raw.n_obs > n_cells:
        raw = raw[np.sort(rng.choice(raw.n_obs, n_cells, replace=False))].copy()
    counts = np.round(raw.X.toarray() if sp.issparse(raw.X) else np.asarray(raw.X)).astype(np.float64)
    _, genes = benchmark_genes(counts, n_top=n_genes)
    wanted = list(marker_genes or CHU_MARKERS)
    genes = np.union1d(genes, np.flatnonzero(raw.var_names.isin(wanted)))
    adata = ad.AnnData(sp.csr_matrix(counts[:, genes].astype(np.float32)), obs=raw.obs.copy(),
                       var=raw.var.iloc[genes].copy())
    note = (f"Chu et al. 2016 time course, GEO GSE75748 ({adata.n_obs} cells x {adata.n_vars} genes, "
            f"RSEM expected counts rounded)")
    return TrajectoryData(adata, "time_h", "sampling time (h)", None, note)


def trajectory_data(dataset: str = "simulated", *, n_cells: int, n_genes: int, de_prob: float = 0.3,
                    de_fac_loc: float = 0.8, dropout_mid: float = 1.5, chu_path=None,
                    marker_genes: Optional[Sequence[str]] = None, seed: int = 0) -> TrajectoryData:
    """The trajectory notebook's data: :func:`simulated_trajectory` or :func:`chu_time_course`.

    Parameters
    ----------
    dataset
        ``"simulated"`` or ``"chu2016"``.
    n_cells, n_genes
        Simulated cells and genes; Chu 2016: cells kept at most and most variable genes.
    de_prob, de_fac_loc, dropout_mid
        Simulation settings (see :func:`scmaskgan.simulate.simulate`).
    chu_path
        The Chu 2016 file or its folder (``dataset="chu2016"``).
    marker_genes
        Chu 2016: genes kept besides the most variable (``None``: :data:`CHU_MARKERS`).
    seed
        Seed of the simulation, or of the Chu 2016 cell subset.

    Raises
    ------
    InputError
        For another ``dataset``, or ``"chu2016"`` without ``chu_path``.
    """
    if dataset == "simulated":
        return simulated_trajectory(n_cells, n_genes, de_prob=de_prob, de_fac_loc=de_fac_loc,
                                    dropout_mid=dropout_mid, seed=seed)
    if dataset == "chu2016":
        return chu_time_course(chu_path, n_cells, n_genes, marker_genes=marker_genes, seed=seed)
    raise InputError(f"dataset must be 'simulated' or 'chu2016', not {dataset!r}")


def embed(counts: np.ndarray, obs: Optional["pd.DataFrame"] = None, *, seed: int = 0,
          n_neighbors: int = N_NEIGHBORS) -> "anndata.AnnData":
    """Library-size normalisation (1e4), log1p, PCA (at most 30 components), kNN graph and diffusion map.

    Parameters
    ----------
    counts
        Cells x genes counts (negative values count as 0).
    obs
        Cell annotations to carry (e.g. the known time).
    seed, n_neighbors
        Seed of PCA, graph and diffusion map; neighbours of the graph.
    """
    import anndata as ad
    import scanpy as sc

    a = ad.AnnData(np.clip(np.asarray(counts, dtype=np.float64), 0, None).astype(np.float32),
                   obs=None if obs is None else obs.copy())
    sc.pp.normalize_total(a, target_sum=1e4)
    sc.pp.log1p(a)
    sc.pp.pca(a, n_comps=min(30, min(a.shape) - 1), random_state=seed)
    sc.pp.neighbors(a, n_neighbors=n_neighbors, random_state=seed)
    sc.tl.diffmap(a, random_state=seed)
    return a


def choose_root(embedding: "anndata.AnnData", known_time: np.ndarray, how: str = "earliest") -> int:
    """The root cell of the pseudotime, chosen on one embedding of :func:`embed`.

    ``"earliest"``: of the cells with the smallest known time, the one nearest their centroid in
    PCA space. ``"tip"`` (without the time): the cell with the smallest value of the first
    non-trivial diffusion component.

    Raises
    ------
    InputError
        For another ``how``, or a ``known_time`` without one value per cell.
    """
    if how not in ("earliest", "tip"):
        raise InputError(f"root must be 'earliest' or 'tip', not {how!r}.")
    if how == "tip":
        return int(np.argmin(embedding.obsm["X_diffmap"][:, 1]))  # column 0 is the stationary component
    known_time = np.asarray(known_time, dtype=np.float64)
    if known_time.shape != (embedding.n_obs,):
        raise InputError(f"known_time must hold one value per cell ({embedding.n_obs}), got shape {known_time.shape}.")
    first = np.flatnonzero(known_time == known_time.min())
    pcs = embedding.obsm["X_pca"][first]
    return int(first[np.argmin(np.linalg.norm(pcs - pcs.mean(axis=0), axis=1))])


def pseudotime(embedding: "anndata.AnnData", root_cell: int, *, seed: int = 0) -> "anndata.AnnData":
    """Diffusion pseudotime from ``root_cell``, Leiden clusters, PAGA and a PAGA-initialised UMAP, in place.

    ``obs["pseudotime"]`` gets DPT with NaN for cells the graph does not connect to the root.
    """
    import scanpy as sc

    check_param("root_cell", root_cell, int, low=0, high=embedding.n_obs - 1)
    a = embedding
    a.uns["iroot"] = root_cell
    sc.tl.dpt(a)
    sc.tl.leiden(a, resolution=1.0, flavor="igraph", n_iterations=2, random_state=seed)
    sc.tl.paga(a, groups="leiden")
    sc.pl.paga(a, plot=False, random_state=seed)
    sc.tl.umap(a, init_pos="paga", random_state=seed)
    pt = a.obs["dpt_pseudotime"].to_numpy(dtype=np.float64)
    a.obs["pseudotime"] = np.where(np.isfinite(pt), pt, np.nan)
    return a


def neighbour_time_gap(distances, known_time: np.ndarray) -> float:
    """Mean over cells of the mean absolute known-time difference to the cell's kNN neighbours.

    Parameters
    ----------
    distances
        Sparse cells x cells kNN graph (``obsp["distances"]``); its non-zero entries are the neighbours.
    known_time
        Known time of every cell.
    """
    import pandas as pd
    import scipy.sparse as sp

    graph = sp.coo_matrix(distances)
    known_time = np.asarray(known_time, dtype=np.float64)
    if graph.shape != (known_time.size, known_time.size):
        raise InputError(f"neighbour_time_gap(): a {graph.shape} graph for {known_time.size} cells.")
    if graph.nnz == 0:
        return float("nan")
    gaps = pd.Series(np.abs(known_time[graph.row] - known_time[graph.col])).groupby(graph.row).mean()
    return float(gaps.mean())


def trajectory_scores(a: "anndata.AnnData", known_time: np.ndarray) -> dict:
    """Scores of a pseudotime of :func:`pseudotime` against the known time.

    Returns
    -------
    dict
        ``spearman_pseudotime_time`` (over the reached cells; NaN with fewer than 3),
        ``neighbour_time_gap`` (:func:`neighbour_time_gap`), ``unreached`` (share of cells without
        pseudotime) and ``n_leiden_clusters``.
    """
    from scipy.stats import spearmanr

    known_time = np.asarray(known_time, dtype=np.float64)
    pt = a.obs["pseudotime"].to_numpy(dtype=np.float64)
    ok = np.isfinite(pt)
    rho = spearmanr(pt[ok], known_time[ok]).statistic if ok.sum() > 2 else float("nan")
    return {"spearman_pseudotime_time": float(rho), "neighbour_time_gap": neighbour_time_gap(a.obsp["distances"],
                                                                                             known_time),
            "unreached": float(np.mean(~ok)), "n_leiden_clusters": int(a.obs["leiden"].nunique())}


def binned_profile(pt: np.ndarray, expr: np.ndarray, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Expression along pseudotime in ``n_bins`` bins of equal numbers of cells.

    Cells without pseudotime (NaN) are left out; the cells, sorted by pseudotime, are cut into bins
    of ``len // n_bins`` (the last bins take the rest).

    Returns
    -------
    x, y : numpy.ndarray
        Mean pseudotime and mean expression of every bin.
    """
    import pandas as pd

    check_param("n_bins", n_bins, int, low=1)
    pt, expr = np.asarray(pt, dtype=np.float64), np.asarray(expr, dtype=np.float64)
    if pt.shape != expr.shape or pt.ndim != 1:
        raise InputError("binned_profile() needs one pseudotime and one expression value per cell.")
    ok = np.isfinite(pt)
    if not ok.any():
        return np.array([]), np.array([])
    bins = np.minimum((np.argsort(np.argsort(pt[ok], kind="stable")) * n_bins) // ok.sum(), n_bins - 1)
    frame = pd.DataFrame({"pt": pt[ok], "expr": expr[ok]}).groupby(bins).mean()
    return frame["pt"].to_numpy(), frame["expr"].to_numpy()


def strongest_trend_genes(var: "pd.DataFrame", n: int = 3, *, factor_key: str = "de_fac_Group1",
                          mean_key: str = "base_mean") -> list:
    """Genes of a simulated trajectory that change most: ``n`` with the largest increase, then ``n`` decreasing.

    Among genes with a base mean above the median (``var[mean_key]``), ranked by the log of their
    change factor (``var[factor_key]``, as :func:`scmaskgan.simulate.simulate` writes it).
    """
    check_param("n", n, int, low=1)
    for key in (factor_key, mean_key):
        if key not in var.columns:
            raise InputError(f"strongest_trend_genes(): var has no column {key!r}.")
    fac = np.log(var[factor_key].to_numpy(dtype=np.float64))
    base = var[mean_key].to_numpy(dtype=np.float64)
    order = np.argsort(np.where(base > np.median(base), fac, 0.0), kind="stable")
    return list(var.index[order[::-1][:n]]) + list(var.index[order[:n]])


def choose_markers(var: "pd.DataFrame", marker_genes: Optional[Sequence[str]] = None, *,
                   simulated: bool = False, n: int = 3) -> list:
    """Genes to follow along pseudotime.

    ``marker_genes`` where given (those in ``var.index``, in the order given); otherwise, for a
    simulation, :func:`strongest_trend_genes` (``n`` rising, ``n`` falling), and for real data the
    :data:`CHU_MARKERS` in ``var.index``.

    Parameters
    ----------
    var
        Gene annotations, indexed by gene name (``adata.var``).
    marker_genes
        Genes asked for; ``None`` or empty: the default choice.
    simulated
        Whether ``var`` comes from :func:`scmaskgan.simulate.simulate`.
    n
        Genes per direction of :func:`strongest_trend_genes`.

    Raises
    ------
    InputError
        For a ``marker_genes`` that is a single string.
    """
    if isinstance(marker_genes, str):
        raise InputError(f"marker_genes must be a list of gene names, got the string {marker_genes!r}.")
    if marker_genes:
        return [g for g in marker_genes if g in var.index]
    if simulated:
        return strongest_trend_genes(var, n)
    return [g for g in CHU_MARKERS if g in var.index]
