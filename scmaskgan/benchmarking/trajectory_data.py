"""The trajectory notebook's data: counts along a trajectory with a known time.

:func:`trajectory_data` gives CellBench's RNA or cell mixtures, whose wells lie on known paths between
three pure cell lines (:func:`cellbench_mixture`), a simulated linear trajectory (:func:`simulated_trajectory`, of
:func:`scmaskgan.simulate.simulate`) or the Chu et al. 2016 time course (:func:`chu_time_course`,
read with :func:`scmaskgan.datasets.read_chu_time_course`), each as a :class:`TrajectoryData`. The
pseudotime and its scores are :mod:`scmaskgan.evaluation.trajectory`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np

from .._validation import InputError, check_param
from ..evaluation.trajectory import CHU_MARKERS

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = ["MIXTURES", "TrajectoryData", "cellbench_mixture", "simulated_trajectory", "chu_time_course",
           "trajectory_data"]

#: The CellBench mixtures :func:`trajectory_data` reads, by dataset name (``scmaskgan.datasets.load`` names).
MIXTURES = {"rnamix_celseq2": "CellBench's RNA mixtures (CEL-seq2)", "cellmix1": "CellBench's cell mixtures, plate 1",
            "cellmix2": "CellBench's cell mixtures, plate 2"}


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
    positions
        The known paths: ``{path: position}``, one float per cell, growing from the path's start (0
        at a pure line for the mixtures, the known time otherwise) and NaN off the path. Empty: one
        path of all cells along ``obs[time_key]``.
    """

    adata: "anndata.AnnData"
    time_key: str
    time_label: str
    truth: Optional[np.ndarray]
    note: str
    positions: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.positions:
            self.positions = {"all cells": self.adata.obs[self.time_key].to_numpy(dtype=np.float64)}


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
        Genes kept besides them; ``None`` or empty: :data:`~scmaskgan.evaluation.trajectory.CHU_MARKERS`.
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

    from ..evaluation.protocols import benchmark_genes

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


def cellbench_mixture(dataset: str, n_cells: Optional[int], n_genes: int, *, seed: int = 0) -> TrajectoryData:
    """A CellBench mixture (``scmaskgan.datasets.load``): wells on known paths from each pure line to the equal mix.

    ``"rnamix_celseq2"``: RNA of H2228, H1975 and HCC827 mixed in known proportions; each line's path
    is pure, 0.68 of it (0.16 of each other line), then a third of each. ``"cellmix1"``,
    ``"cellmix2"``: wells of nine cells; the paths are CellBench's trajectory wells (``traj``),
    9, 7, 5 and 3 cells of the line with the rest split evenly; wells marked ``poor_quality`` are
    left out. At most ``n_cells`` wells are kept at random (``numpy.random.default_rng(seed)``, in
    their original order); the genes kept are the ``n_genes`` most variable of
    :func:`scmaskgan.evaluation.protocols.benchmark_genes` (detected in at least 3 wells), ERCC
    spike-ins excluded.

    Returns
    -------
    TrajectoryData
        ``obs["distance_from_pure"]`` (1 - the largest line share) as the time; ``positions`` from
        :func:`scmaskgan.evaluation.trajectory.mixture_paths` (1 - the share of the path's line, NaN off
        the path); ``truth`` ``None``.

    Raises
    ------
    InputError
        For another ``dataset``, or an ``n_cells`` or ``n_genes`` that is not a positive integer.
    """
    import anndata as ad
    import scipy.sparse as sp

    from scmaskgan.datasets import load
    from scmaskgan.datasets._loaders import MIXTURE_LINES

    from ..evaluation.protocols import benchmark_genes
    from ..evaluation.trajectory import mixture_paths

    if dataset not in MIXTURES:
        raise InputError(f"dataset must be one of {sorted(MIXTURES)}, not {dataset!r}")
    check_param("n_cells", n_cells, int, low=1, allow_none=True)
    check_param("n_genes", n_genes, int, low=1)
    raw = load(dataset, symbols=False)
    if "poor_quality" in raw.obs:
        raw = raw[~raw.obs["poor_quality"].to_numpy(bool)]
    rng = np.random.default_rng(seed)
    if n_cells is not None and raw.n_obs > n_cells:
        raw = raw[np.sort(rng.choice(raw.n_obs, n_cells, replace=False))]
    raw = raw[:, ~raw.var["ercc"].to_numpy(bool)]
    counts = raw.X.toarray().astype(np.float64)
    _, genes = benchmark_genes(counts, n_top=n_genes)
    obs = raw.obs.copy()
    shares = obs[[f"{line}_share" for line in MIXTURE_LINES]].rename(columns=lambda c: c.removesuffix("_share"))
    obs["distance_from_pure"] = 1.0 - shares.to_numpy().max(axis=1)
    on_path = obs["traj"].to_numpy(bool) if "traj" in obs else None
    positions = mixture_paths(shares, on_path)
    adata = ad.AnnData(sp.csr_matrix(counts[:, genes].astype(np.float32)), obs=obs, var=raw.var.iloc[genes].copy())
    wells = {path: int(np.isfinite(position).sum()) for path, position in positions.items()}
    note = (f"{MIXTURES[dataset]}, GEO GSE118767 ({adata.n_obs} wells x {adata.n_vars} most variable genes, "
            f"UMI counts); wells on the path from each pure line to the equal mix: "
            + ", ".join(f"{path} {n}" for path, n in wells.items()))
    return TrajectoryData(adata, "distance_from_pure", "1 - largest line share (0: a pure line)", None, note,
                          positions)


def trajectory_data(dataset: str = "rnamix_celseq2", *, n_cells: int, n_genes: int, de_prob: float = 0.3,
                    de_fac_loc: float = 0.8, dropout_mid: float = 1.5, chu_path=None,
                    marker_genes: Optional[Sequence[str]] = None, seed: int = 0) -> TrajectoryData:
    """The trajectory notebook's data: :func:`cellbench_mixture`, :func:`simulated_trajectory` or
    :func:`chu_time_course`.

    Parameters
    ----------
    dataset
        A CellBench mixture of :data:`MIXTURES` (``"rnamix_celseq2"``, ``"cellmix1"``, ``"cellmix2"``),
        ``"simulated"`` or ``"chu2016"``.
    n_cells, n_genes
        Simulated cells and genes; CellBench and Chu 2016: cells kept at most and most variable genes.
    de_prob, de_fac_loc, dropout_mid
        Simulation settings (see :func:`scmaskgan.simulate.simulate`).
    chu_path
        The Chu 2016 file or its folder (``dataset="chu2016"``).
    marker_genes
        Chu 2016: genes kept besides the most variable (``None``: :data:`~scmaskgan.evaluation.trajectory.CHU_MARKERS`).
    seed
        Seed of the simulation, or of the CellBench or Chu 2016 cell subset.

    Raises
    ------
    InputError
        For another ``dataset``, or ``"chu2016"`` without ``chu_path``.
    """
    if dataset in MIXTURES:
        return cellbench_mixture(dataset, n_cells, n_genes, seed=seed)
    if dataset == "simulated":
        return simulated_trajectory(n_cells, n_genes, de_prob=de_prob, de_fac_loc=de_fac_loc,
                                    dropout_mid=dropout_mid, seed=seed)
    if dataset == "chu2016":
        return chu_time_course(chu_path, n_cells, n_genes, marker_genes=marker_genes, seed=seed)
    raise InputError(f"dataset must be one of {sorted(MIXTURES)}, 'simulated' or 'chu2016', not {dataset!r}")
