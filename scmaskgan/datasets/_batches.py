"""Several batches of cells in one AnnData, for the batch-integration notebook.

- :func:`cellbench_batches`: three CellBench plates (GSE118767) as batches, the same cell lines
  in each (by default), ERCC spike-ins dropped;
- :func:`neuroblastoma_batches`: the neuroblastoma samples of GSE192906 as batches, with the
  paper's Scanpy QC;
- :func:`select_batch_genes`: genes detected in at least 3 cells, then the most variable ones
  chosen per batch and merged (scanpy's batch-aware selection);
- :func:`load_batches`: one of the two sources, then :func:`select_batch_genes`.

Every batch keeps at most ``max_cells_per_batch`` random cells
(:func:`scmaskgan.sampling.subsample_cells`); the batches are subsampled in turn, in a fixed
order, from one random generator, so that one seed gives one set of cells.

scanpy loads when a function needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Union

import numpy as np

from .._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import anndata as ad

__all__ = ["CELLBENCH_BATCHES", "NEUROBLASTOMA_QC", "Batches", "cellbench_batches", "neuroblastoma_batches", "select_batch_genes",
           "load_batches"]

#: The CellBench plates used as batches, in the order they are subsampled and concatenated.
CELLBENCH_BATCHES = ("sc_celseq2", "sc_dropseq", "sc_celseq2_5cl_p1")

#: The paper's QC of the neuroblastoma samples: genes in at least this many cells, cells with at
#: least this many genes, and a mitochondrial share (percent of counts in ``MT-`` genes) below this.
NEUROBLASTOMA_QC = {"min_cells": 3, "min_genes": 200, "max_pct_mt": 5}

Seed = Union[int, np.random.Generator]


@dataclass
class Batches:
    """Cells of several batches in one AnnData, and what to say about them.

    Attributes
    ----------
    adata
        Cells x genes counts (CSR float32); ``obs["batch"]`` names each cell's batch.
    note
        One sentence on the data (source, accession, batches, cells kept).
    label_key
        Column of ``adata.obs`` with the known cell types (``"cell_line"``), or ``None`` when
        there are none (the neuroblastoma samples).
    accession
        The GEO series.
    qc
        What the QC kept (the neuroblastoma samples), or ``None`` where no QC ran.
    """

    adata: "ad.AnnData"
    note: str
    label_key: Optional[str]
    accession: str
    qc: Optional[str] = None


def _generator(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    check_param("seed", seed, int, low=0)
    return np.random.default_rng(seed)


def cellbench_batches(cell_lines: str = "shared", max_cells_per_batch: Optional[int] = None, *,
                      seed: Seed = 0) -> Batches:
    """The CellBench plates named in ``CELLBENCH_BATCHES`` (sc_celseq2, sc_dropseq, sc_celseq2_5cl_p1) as batches, concatenated.

    Each plate is read with :func:`scmaskgan.datasets.load` (``drop_doublets=True``), its ERCC
    spike-ins dropped and its cells restricted to the chosen cell lines, then subsampled to at most
    ``max_cells_per_batch`` cells, plate after plate from one generator.

    Parameters
    ----------
    cell_lines
        ``"shared"``: the cell lines present in every plate (H1975, H2228, HCC827); ``"all"``:
        every cell line of any plate (also A549 and H838).
    max_cells_per_batch
        Cells kept per plate at random; ``None``: all.
    seed
        Seed of the subsets, or a :class:`numpy.random.Generator` to draw from.

    Returns
    -------
    Batches
        ``adata``: the Ensembl ids of all three files (``join="inner"``), cell names
        ``<cell>-<plate>``, ``obs["cell_line"]`` and ``obs["batch"]`` (the plate); ``label_key``
        ``"cell_line"``; accession GSE118767.

    Raises
    ------
    InputError
        For another ``cell_lines``, or a ``max_cells_per_batch`` or ``seed`` that is not a
        non-negative integer.
    """
    import scanpy as sc

    from ..sampling import subsample_cells
    from ._loaders import load

    check_param("cell_lines", cell_lines, str, choices=("shared", "all"))
    check_param("max_cells_per_batch", max_cells_per_batch, int, low=1, allow_none=True)
    rng = _generator(seed)
    parts = {name: load(name, drop_doublets=True) for name in CELLBENCH_BATCHES}
    parts = {name: a[:, ~a.var["ercc"].to_numpy(dtype=bool)].copy() for name, a in parts.items()}
    lines = [set(a.obs["cell_line"].astype(str)) for a in parts.values()]
    shared_lines = sorted(set.intersection(*lines))
    keep_lines = shared_lines if cell_lines == "shared" else sorted(set().union(*lines))
    parts = {name: subsample_cells(a[a.obs["cell_line"].astype(str).isin(keep_lines)].copy(), None,
                                   max_cells_per_batch, seed=rng) for name, a in parts.items()}
    for a in parts.values():
        a.obs = a.obs[["cell_line"]].astype(str)
    combined = sc.concat(parts, label="batch", join="inner", index_unique="-")  # genes of all three files
    which = "the shared cell lines " + ", ".join(shared_lines) if cell_lines == "shared" else "all five cell lines"
    note = (f"CellBench (GEO GSE118767): {', '.join(CELLBENCH_BATCHES)} as three batches, {which}, "
            "doublets removed")
    return Batches(combined, note, "cell_line", "GSE118767")


def neuroblastoma_batches(path, max_cells_per_batch: Optional[int] = None, *, seed: Seed = 0) -> Batches:
    """The neuroblastoma samples of GSE192906 as batches, after the paper's Scanpy QC.

    The samples are read with :func:`scmaskgan.datasets.read_neuroblastoma`; the QC keeps cells
    with a mitochondrial share (genes named ``MT-...``) below 5%, then cells with at least 200
    genes, then genes detected in at least 3 cells. The samples, in the order of their GSM
    accessions, are then subsampled to at most ``max_cells_per_batch`` cells each, in turn from one
    generator.

    Parameters
    ----------
    path
        A folder or archive with sample files (see :func:`~scmaskgan.datasets.read_neuroblastoma`).
    max_cells_per_batch
        Cells kept per sample at random; ``None``: all.
    seed
        Seed of the subsets, or a :class:`numpy.random.Generator` to draw from.

    Returns
    -------
    Batches
        ``adata`` with ``obs["batch"]`` (the GSM accession), ``obs["sample_name"]`` and
        ``obs["tumour_type"]`` (strings); ``label_key`` ``None`` (no known cell types); ``qc``
        says how many cells and genes the QC kept.

    Raises
    ------
    InputError
        For a ``path`` of ``None``, or a ``max_cells_per_batch`` or ``seed`` that is not a
        non-negative integer.
    GeoFileNotFoundError
        When ``path`` holds no sample file.
    """
    import scanpy as sc

    from ..sampling import subsample_cells
    from ._neuroblastoma import read_neuroblastoma

    if path is None:
        raise InputError("the neuroblastoma batches need a path (the notebook parameter neuroblastoma_path): a folder "
                         "or archive with the GSE192906 sample files "
                         "(https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE192906)")
    check_param("max_cells_per_batch", max_cells_per_batch, int, low=1, allow_none=True)
    rng = _generator(seed)
    raw = read_neuroblastoma(path)
    raw.var["mt"] = raw.var_names.str.upper().str.startswith("MT-")
    sc.pp.calculate_qc_metrics(raw, qc_vars=["mt"], percent_top=None, log1p=False, inplace=True)
    n0 = raw.n_obs
    raw = raw[raw.obs["pct_counts_mt"] < NEUROBLASTOMA_QC["max_pct_mt"]].copy()
    sc.pp.filter_cells(raw, min_genes=NEUROBLASTOMA_QC["min_genes"])
    sc.pp.filter_genes(raw, min_cells=NEUROBLASTOMA_QC["min_cells"])
    qc = f"QC kept {raw.n_obs} of {n0} cells and {raw.n_vars} genes"
    raw.obs["batch"] = raw.obs["sample"].astype(str)
    combined = sc.concat([subsample_cells(raw[raw.obs["batch"] == b].copy(), None, max_cells_per_batch, seed=rng)
                          for b in sorted(raw.obs["batch"].unique())])
    combined.obs = combined.obs[["batch", "sample_name", "tumour_type"]].astype(str)
    note = (f"neuroblastoma samples (GEO GSE192906): {', '.join(sorted(combined.obs['sample_name'].unique()))}, "
            "the paper's QC (genes in >= 3 cells, cells with >= 200 genes, mitochondrial share < 5%)")
    return Batches(combined, note, None, "GSE192906", qc=qc)


def select_batch_genes(combined: "ad.AnnData", n_top_genes: int, *, batch_key: str = "batch") -> "ad.AnnData":
    """Genes detected in at least 3 cells, then the most variable per batch, merged; cells left without counts dropped.

    The counts become CSR float32 and genes detected in fewer than 3 cells are dropped (both in
    place, in ``combined``). The ``n_top_genes`` most variable genes are chosen by
    ``scanpy.pp.highly_variable_genes(..., batch_key=batch_key)`` on log-normalised counts
    (``normalize_total`` to 1e4, ``log1p``) of a copy; the cells with no count in them are dropped.

    Parameters
    ----------
    combined
        Cells x genes counts of every batch, ``obs[batch_key]`` naming the batch.
    n_top_genes
        Genes to keep (all, if there are fewer).
    batch_key
        Column of ``combined.obs`` with the batches.

    Returns
    -------
    anndata.AnnData
        A copy with the chosen genes in their original order, and every ``obs`` column as a
        categorical of strings.

    Raises
    ------
    InputError
        For an ``n_top_genes`` that is not a positive integer, or a missing ``batch_key``.
    """
    import scanpy as sc
    import scipy.sparse as sp

    check_param("n_top_genes", n_top_genes, int, low=1)
    if batch_key not in combined.obs.columns:
        raise InputError(f"select_batch_genes(): {batch_key!r} is not a column of obs "
                         f"(columns: {list(combined.obs.columns)}).")
    combined.X = sp.csr_matrix(combined.X, dtype=np.float32)
    sc.pp.filter_genes(combined, min_cells=3)
    selection = combined.copy()
    sc.pp.normalize_total(selection, target_sum=1e4)
    sc.pp.log1p(selection)
    sc.pp.highly_variable_genes(selection, n_top_genes=min(n_top_genes, combined.n_vars), batch_key=batch_key)
    adata = combined[:, selection.var["highly_variable"].to_numpy()].copy()
    adata = adata[np.asarray(adata.X.sum(axis=1)).ravel() > 0].copy()  # cells with no count in these genes
    adata.obs = adata.obs.astype(str).astype("category")
    return adata


def load_batches(source: str = "cellbench", *, n_top_genes: int, max_cells_per_batch: Optional[int] = None,
                 cell_lines: str = "shared", path=None, seed: Seed = 0) -> Batches:
    """The batch-integration notebook's data: :func:`cellbench_batches` or :func:`neuroblastoma_batches`, then genes.

    Parameters
    ----------
    source
        ``"cellbench"`` (three CellBench plates, offline) or ``"neuroblastoma"`` (the GSE192906
        samples found at ``path``).
    n_top_genes
        Most variable genes kept (:func:`select_batch_genes`).
    max_cells_per_batch
        Cells kept per batch at random; ``None``: all.
    cell_lines
        ``"shared"`` or ``"all"`` (CellBench only; see :func:`cellbench_batches`).
    path
        Folder or archive of the neuroblastoma samples (``source="neuroblastoma"``).
    seed
        Seed of the cell subsets (one generator for all batches), or a generator.

    Returns
    -------
    Batches
        ``adata`` after :func:`select_batch_genes`.

    Raises
    ------
    InputError
        For another ``source`` or ``cell_lines``, or a neuroblastoma ``source`` without ``path``.
    """
    check_param("source", source, str, choices=("cellbench", "neuroblastoma"))
    check_param("n_top_genes", n_top_genes, int, low=1)
    if source == "cellbench":
        batches = cellbench_batches(cell_lines, max_cells_per_batch, seed=seed)
    else:
        batches = neuroblastoma_batches(path, max_cells_per_batch, seed=seed)
    batches.adata = select_batch_genes(batches.adata, n_top_genes)
    return batches
