"""Pseudotime on original and imputed counts, scored against a known time.

Used by the book's trajectory notebook: one scanpy recipe for every matrix (:func:`embed`:
library-size normalisation, log1p, PCA, kNN graph, diffusion map; :func:`pseudotime`: diffusion
pseudotime from a shared root, Leiden, PAGA and a PAGA-initialised UMAP), a root chosen once
(:func:`choose_root`), the scores (:func:`trajectory_scores`: Spearman's rho of pseudotime against
the known time, the mean time gap between kNN neighbours, the share of cells the root does not
reach) and expression along pseudotime (:func:`binned_profile`, :func:`strongest_trend_genes`,
:func:`choose_markers`).

Scores per path of a known trajectory: the paths of CellBench's mixtures from each pure line to the
equal mix (:func:`mixture_paths`), a root at each path's start (:func:`path_roots`), the pseudotime
from it (:func:`path_pseudotime`), and how well it orders the wells by their known position
(:func:`order_scores`, :func:`score_paths`: oriented Spearman, discordant pairs, misplaced wells;
:func:`summarise_paths`: over the paths).

The notebook's data, CellBench's RNA or cell mixtures with known proportions, a simulated linear
trajectory or the Chu et al. 2016 time course with its known time, come from
:func:`scmaskgan.benchmarking.trajectory_data.trajectory_data`.

scanpy loads when a function needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import anndata
    import pandas as pd

__all__ = ["N_NEIGHBORS", "CHU_MARKERS", "embed", "choose_root", "pseudotime", "neighbour_time_gap",
           "trajectory_scores", "binned_profile", "strongest_trend_genes", "choose_markers", "mixture_paths",
           "path_roots", "path_pseudotime", "order_scores", "score_paths", "summarise_paths"]

#: Neighbours of the kNN graph of :func:`embed`.
N_NEIGHBORS = 15

#: The Chu 2016 time course's marker genes, of pluripotency (POU5F1, NANOG), mesendoderm (T, EOMES)
#: and definitive endoderm (SOX17, CXCR4).
CHU_MARKERS = ("POU5F1", "NANOG", "T", "EOMES", "SOX17", "CXCR4")


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

    ``obs["pseudotime"]`` gets DPT with NaN for cells the graph does not connect to the root (scanpy's
    warning about a graph of several components is not shown).
    """
    import scanpy as sc

    check_param("root_cell", root_cell, int, low=0, high=embedding.n_obs - 1)
    a = embedding
    a.uns["iroot"] = root_cell
    verbosity = sc.settings.verbosity
    sc.settings.verbosity = 0  # a graph of several components shows as unreached cells, not as a warning
    try:
        sc.tl.dpt(a)
    finally:
        sc.settings.verbosity = verbosity
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
        ``spearman_pseudotime_time`` (over the reached cells; NaN with fewer than 3 or a constant input),
        ``neighbour_time_gap`` (:func:`neighbour_time_gap`), ``unreached`` (share of cells without
        pseudotime) and ``n_leiden_clusters``.
    """
    from scipy.stats import spearmanr

    known_time = np.asarray(known_time, dtype=np.float64)
    pt = a.obs["pseudotime"].to_numpy(dtype=np.float64)
    ok = np.isfinite(pt)
    constant = ok.sum() < 3 or np.ptp(pt[ok]) == 0 or np.ptp(known_time[ok]) == 0
    rho = float("nan") if constant else spearmanr(pt[ok], known_time[ok]).statistic
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


def mixture_paths(shares: "pd.DataFrame", on_path: Optional[np.ndarray] = None, *,
                  tol: float = 0.02) -> dict:
    """Each path of a three-way mixture from one pure line to the equal mix, as known positions.

    The path of line ``L`` holds the wells whose other two lines have equal shares (within ``tol``)
    and whose share of ``L`` is at least each of theirs: pure ``L``, then ``L`` mixed with the other
    two in equal parts, down to the equal mix. This is the layout of CellBench's RNA mixtures
    (1, 0.68, 0.33) and of its cell mixtures' marked trajectory wells (9, 7, 5, 3 cells of 9).

    Parameters
    ----------
    shares
        Wells x lines shares (each row sums to 1), one column per line.
    on_path
        Wells allowed on a path (e.g. CellBench's ``traj`` flag); ``None``: all.
    tol
        Largest difference of shares counted as equal.

    Returns
    -------
    dict
        ``{line: position}``: one float per well, ``1 - share of the line`` on the path (0 at the
        pure end) and NaN off it. Lines with fewer than two distinct positions are left out.

    Raises
    ------
    InputError
        For ``shares`` without exactly three columns, or an ``on_path`` of another length.
    """
    values = np.asarray(shares, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != 3:
        raise InputError(f"mixture_paths() needs three share columns, got shape {values.shape}.")
    allowed = np.ones(len(values), bool) if on_path is None else np.asarray(on_path, dtype=bool)
    if allowed.shape != (len(values),):
        raise InputError(f"on_path must hold one flag per well ({len(values)}), got shape {allowed.shape}.")
    paths = {}
    for j, line in enumerate(shares.columns):
        others = values[:, [k for k in range(3) if k != j]]
        member = (allowed & (np.abs(others[:, 0] - others[:, 1]) <= tol)
                  & (values[:, j] >= others.max(axis=1) - tol))
        position = np.where(member, 1.0 - values[:, j], np.nan)
        if np.unique(np.round(position[member], 6)).size >= 2:
            paths[str(line)] = position
    return paths


def path_roots(embedding: "anndata.AnnData", positions: dict) -> dict:
    """The root well of each path: of the wells at the path's start (smallest position), the one nearest
    their centroid in PCA space (:func:`choose_root` ``"earliest"`` within the path).

    Parameters
    ----------
    embedding
        An embedding of :func:`embed` (the observed data's).
    positions
        ``{path: position}`` as :func:`mixture_paths` gives them (NaN off the path).
    """
    roots = {}
    for name, position in positions.items():
        position = np.asarray(position, dtype=np.float64)
        roots[name] = choose_root(embedding, np.where(np.isfinite(position), position, np.inf), "earliest")
    return roots


def path_pseudotime(embedding: "anndata.AnnData", root_cell: int) -> np.ndarray:
    """Diffusion pseudotime of every cell from ``root_cell`` on an embedding of :func:`embed` (not changed).

    NaN for cells the graph does not connect to the root (scanpy's warning about a graph of several
    components is not shown: the unreached cells report it).
    """
    import scanpy as sc

    check_param("root_cell", root_cell, int, low=0, high=embedding.n_obs - 1)
    a = embedding.copy()
    a.uns["iroot"] = root_cell
    verbosity = sc.settings.verbosity
    sc.settings.verbosity = 0  # a graph of several components is reported as unreached wells, not as a warning
    try:
        sc.tl.dpt(a)
    finally:
        sc.settings.verbosity = verbosity
    pt = a.obs["dpt_pseudotime"].to_numpy(dtype=np.float64)
    return np.where(np.isfinite(pt), pt, np.nan)


def order_scores(pt: np.ndarray, position: np.ndarray) -> dict:
    """How well a pseudotime orders wells by their known position along one path.

    Only wells with a finite position and a finite pseudotime are scored.

    Returns
    -------
    dict
        ``spearman``: Spearman's rho of pseudotime against the position (oriented: 1 when the
        pseudotime grows from the path's start, -1 when it runs backwards; NaN with fewer than 3 wells
        or a constant input); ``discordant_pairs``: of the pairs of wells at different positions, the
        share the pseudotime puts in the wrong order (a tie in pseudotime counts one half; 0 is perfect,
        0.5 is chance); ``misplaced``: wells whose pseudotime rank falls outside the ranks their
        position's level takes (the wells at smaller positions come first); ``n_wells`` and
        ``unreached`` (wells of the path without pseudotime).
    """
    from scipy.stats import rankdata, spearmanr

    pt, position = np.asarray(pt, dtype=np.float64), np.asarray(position, dtype=np.float64)
    if pt.shape != position.shape or pt.ndim != 1:
        raise InputError("order_scores() needs one pseudotime and one position per well.")
    on = np.isfinite(position)
    ok = on & np.isfinite(pt)
    p, x = pt[ok], position[ok]
    n = p.size
    constant = n < 3 or np.ptp(p) == 0 or np.ptp(x) == 0
    rho = float("nan") if constant else float(spearmanr(p, x).statistic)
    dx = np.sign(x[:, None] - x[None, :])
    dp = np.sign(p[:, None] - p[None, :])
    pairs = np.triu(dx != 0, 1)
    wrong = np.where(dp == 0, 0.5, (dx * dp < 0).astype(float))
    discordant = float(wrong[pairs].mean()) if pairs.any() else float("nan")
    first = rankdata(x, method="min") - 1  # wells before this level
    last = rankdata(x, method="max")  # wells up to and including it
    rank = np.argsort(np.argsort(p, kind="stable"), kind="stable")
    misplaced = int(np.sum((rank < first) | (rank >= last)))
    return {"spearman": rho, "discordant_pairs": discordant, "misplaced": misplaced, "n_wells": int(n),
            "unreached": int(on.sum() - n)}


def score_paths(embeddings: dict, positions: dict, roots: dict) -> "pd.DataFrame":
    """:func:`order_scores` of every matrix's pseudotime (:func:`path_pseudotime` from the path's root) on every path.

    Parameters
    ----------
    embeddings
        ``{method: embedding of embed()}``, all of the same wells.
    positions
        ``{path: known position}`` (NaN off the path), as :func:`mixture_paths` gives them.
    roots
        ``{path: root well}``, as :func:`path_roots` gives them.

    Returns
    -------
    pandas.DataFrame
        One row per method and path: columns ``method``, ``path`` and those of :func:`order_scores`.
    """
    import pandas as pd

    missing = set(positions) - set(roots)
    if missing:
        raise InputError(f"score_paths(): no root for the paths {sorted(missing)}.")
    rows = []
    for method, a in embeddings.items():
        for path, position in positions.items():
            rows.append({"method": method, "path": path,
                         **order_scores(path_pseudotime(a, int(roots[path])), position)})
    return pd.DataFrame(rows)


def summarise_paths(path_table: "pd.DataFrame") -> "pd.DataFrame":
    """One row per method of :func:`score_paths`' table: mean Spearman and mean discordant share over the
    paths, misplaced, scored and unreached wells summed over the paths (in the table's method order)."""
    order = list(dict.fromkeys(path_table["method"]))
    grouped = path_table.groupby("method", sort=False)
    summary = grouped.agg(spearman=("spearman", "mean"), discordant_pairs=("discordant_pairs", "mean"),
                          misplaced=("misplaced", "sum"), n_wells=("n_wells", "sum"), unreached=("unreached", "sum"))
    return summary.loc[order]
