"""Loaders that turn the registered files into :class:`anndata.AnnData` objects.

Every loader returns raw counts, cells x genes, in ``X`` as a ``scipy.sparse.csr_matrix``
of dtype float32, and records its provenance in ``uns["dataset"]`` (source, accession,
citation, and the URL and SHA-256 of each file read).
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._name_registry import Registry
from ._registry import REGISTRY, DataFileNotAvailableError, fetch

__all__ = ["DatasetFormatError", "UnknownDatasetError", "available", "describe", "load"]

logger = logging.getLogger("scmaskgan")


class UnknownDatasetError(ValueError):
    """A dataset name that has no loader was requested."""


class DatasetFormatError(ValueError):
    """A data file does not have the layout its loader expects."""


@dataclass(frozen=True)
class _Dataset:
    name: str
    loader: Callable[..., ad.AnnData]
    description: str
    source: str
    accession: str
    citation: str


#: The loaders, by dataset name (the pattern of :mod:`scmaskgan._name_registry`).
_DATASETS: Registry[_Dataset] = Registry("dataset", error=UnknownDatasetError, hint="available datasets",
                                         sorted_names=True, factory=_Dataset)
_register = _DATASETS.register


def available() -> list[str]:
    """Names of the datasets that :func:`load` knows.

    Returns
    -------
    list of str
        Sorted dataset names.
    """
    return _DATASETS.names()


def describe(name: str) -> str:
    """One-line description of a dataset.

    Parameters
    ----------
    name
        A name from :func:`available`.

    Returns
    -------
    str
        The description.

    Raises
    ------
    UnknownDatasetError
        When no dataset has that name.
    """
    return _DATASETS.lookup(name).description


def load(name: str, **kwargs: Any) -> ad.AnnData:
    """Load a public dataset as raw counts, cells x genes.

    Files are found through :func:`scmaskgan.datasets.fetch` (``SCMASKGAN_DATA``, then the
    cache, then a pinned download), and their SHA-256 is checked.

    Parameters
    ----------
    name
        One of :func:`available`: ``"sc_celseq2"``, ``"sc_dropseq"``, ``"sc_celseq2_5cl_p1"``,
        ``"rnamix_celseq2"``, ``"cellmix1"``, ``"cellmix2"``, ``"darmanis_brain"``, ``"ercc"``,
        ``"gsm5768752"``.
    **kwargs
        Options of that dataset's loader (e.g. ``include_hybrid=True`` for
        ``"darmanis_brain"``, ``drop_doublets=True`` or ``symbols=False`` for CellBench).

    Returns
    -------
    anndata.AnnData
        Raw counts in ``X`` (CSR, float32), annotations in ``obs``/``var``, provenance in
        ``uns["dataset"]``.
    """
    dataset = _DATASETS.lookup(name)
    adata = dataset.loader(**kwargs)
    adata.uns["dataset"] = {
        "name": dataset.name,
        "description": dataset.description,
        "source": dataset.source,
        "accession": dataset.accession,
        "citation": dataset.citation,
        "files": adata.uns.pop("_files"),
    }
    logger.info("Loaded %s: %d cells x %d genes", name, adata.n_obs, adata.n_vars)
    return adata


# ---------------------------------------------------------------------------------------
# helpers


class _Files:
    """Fetch files and remember their provenance for ``uns["dataset"]["files"]``."""

    def __init__(self) -> None:
        self.record: dict[str, dict[str, str]] = {}

    def __call__(self, filename: str):
        path = fetch(filename)
        entry = REGISTRY[filename]
        self.record[filename] = {"url": entry.url, "sha256": entry.sha256}
        return path


def _counts_to_csr(values: np.ndarray) -> sp.csr_matrix:
    """Cells x genes integer counts -> CSR float32, checking that float32 keeps them exact."""
    if values.size and values.max() >= 2**24:
        raise DatasetFormatError(
            f"counts up to {values.max()} cannot be stored exactly as float32"
        )
    return sp.csr_matrix(values.astype(np.float32, copy=False))


def _check_same(kind: str, expected: pd.Index, got: pd.Index, what: str) -> None:
    if len(expected) != len(got) or not expected.equals(got):
        missing = expected.difference(got)
        raise DatasetFormatError(
            f"{what}: {kind} names of the count matrix and the metadata differ "
            f"({len(expected)} vs {len(got)}; e.g. {list(missing[:3])} missing from metadata)"
        )


def _finish(
    counts_cells_by_genes: np.ndarray,
    obs: pd.DataFrame,
    var: pd.DataFrame,
    files: _Files,
) -> ad.AnnData:
    # Index names read from a file's header (e.g. the integer 0) cannot be written to h5ad.
    obs.index.name = None
    var.index.name = None
    adata = ad.AnnData(X=_counts_to_csr(counts_cells_by_genes), obs=obs, var=var)
    adata.uns["_files"] = files.record
    return adata


# ---------------------------------------------------------------------------------------
# CellBench (Tian et al. 2019)

_CELLBENCH_SOURCE = (
    "CellBench (sc_mixology), https://github.com/LuyiTian/sc_mixology, data/csv/ @ "
    "7d00ffb0bd043467f365a9358d7312f294f13c9f"
)
_CELLBENCH_CITATION = (
    "Tian L, Dong X, Freytag S, et al. Benchmarking single cell RNA-sequencing analysis "
    "pipelines using mixture control experiments. Nat Methods 16, 479-487 (2019). "
    "doi:10.1038/s41592-019-0425-8"
)


def _ensembl_symbols(files: _Files, ids: pd.Index) -> pd.Series:
    """HGNC symbol per Ensembl id; ids without a symbol keep the id itself.

    Some ids map to several symbols in org.Hs.eg.db; one is chosen deterministically:
    a symbol that is not a ``LOC...`` placeholder first, then the smallest Entrez id.
    """
    try:
        path = files("ensembl2symbol_human.tsv.gz")
    except DataFileNotAvailableError as exc:
        raise DataFileNotAvailableError(
            f"{exc} (Pass symbols=False to load the counts without gene symbols.)"
        ) from exc
    table = pd.read_csv(path, sep="\t", engine="c", dtype={"ensembl_id": str, "symbol": str})
    expected = {"ensembl_id", "symbol", "entrez_id"}
    if not expected <= set(table.columns):
        raise DatasetFormatError(
            f"{path} should have columns {sorted(expected)}, found {list(table.columns)}"
        )
    table = table.assign(_loc=table["symbol"].str.startswith("LOC"))
    table = table.sort_values(["ensembl_id", "_loc", "entrez_id"], kind="stable")
    mapping = table.drop_duplicates("ensembl_id").set_index("ensembl_id")["symbol"]
    symbols = mapping.reindex(ids)
    return pd.Series(np.where(symbols.isna(), ids, symbols), index=ids, dtype=object)


def _read_cellbench_metadata(path: Path, what: str) -> pd.DataFrame:
    """Read a CellBench ``*.metadata.csv.gz`` (R ``write.csv``, cell names as row names)."""
    meta = pd.read_csv(path, engine="c", index_col=None)
    if len(meta.columns) and str(meta.columns[0]).startswith("Unnamed: 0"):
        # Written with a (blank) name for the row-name column, e.g. by pandas: use it.
        meta = meta.set_index(meta.columns[0])
    meta.index = meta.index.astype(str)
    if "cell_line_demuxlet" not in meta.columns:
        raise DatasetFormatError(
            f"{what}: {Path(path).name} has no column 'cell_line_demuxlet' "
            f"(columns: {list(meta.columns)[:8]})"
        )
    return meta


def _cellbench_obs(meta: pd.DataFrame) -> pd.DataFrame:
    """``obs`` of a CellBench dataset: ``cell_line`` from demuxlet, other columns kept."""
    obs = meta.copy()
    if "cell_line" in obs.columns:
        # The upstream annotation differs from demuxlet's genotype call for some doublets.
        obs = obs.rename(columns={"cell_line": "cell_line_original"})
    obs.insert(0, "cell_line", pd.Categorical(meta["cell_line_demuxlet"].astype(str)))
    for col in ("cell_line_demuxlet", "demuxlet_cls", "cell_line_original", "batch"):
        if col in obs.columns:
            obs[col] = pd.Categorical(obs[col].astype(str))
    return obs


def _cellbench_var(genes: pd.Index, files: _Files, symbols: bool) -> pd.DataFrame:
    """``var`` of a CellBench dataset: ERCC flag and, optionally, HGNC symbols."""
    var = pd.DataFrame(index=genes)
    var["ercc"] = genes.str.startswith("ERCC-")
    if symbols:
        var["symbol"] = _ensembl_symbols(files, genes).to_numpy()
    return var


def _drop_doublets(values: Any, obs: pd.DataFrame, meta: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    if "demuxlet_cls" not in meta.columns:
        raise DatasetFormatError("drop_doublets=True needs the metadata column 'demuxlet_cls'")
    keep = (meta["demuxlet_cls"] == "SNG").to_numpy()
    return values[keep], obs.loc[keep]


def _parse_cellbench(
    count_path: Path,
    meta_path: Path,
    files: _Files,
    *,
    what: str,
    drop_doublets: bool = False,
    symbols: bool = True,
) -> ad.AnnData:
    """Read a CellBench count CSV and its metadata CSV (the sc_mixology ``data/csv`` layout).

    ``what`` names the dataset in error messages.
    """
    # Written by R's write.csv: the header has one name fewer than each row (no name for the
    # row-name column), which pandas reads with the gene ids as the index.
    counts = pd.read_csv(count_path, engine="c", index_col=None)
    if not isinstance(counts.index[0], str) or not counts.index[0].startswith(("ENSG", "ERCC")):
        raise DatasetFormatError(
            f"{Path(count_path).name}: expected Ensembl gene ids as row names, "
            f"found {counts.index[:3].tolist()}"
        )
    meta = _read_cellbench_metadata(meta_path, what)
    counts.columns = counts.columns.astype(str)
    _check_same("cell", counts.columns, meta.index, what)
    obs = _cellbench_obs(meta)
    var = _cellbench_var(counts.index.astype(str), files, symbols)
    values = counts.to_numpy().T
    if drop_doublets:
        values, obs = _drop_doublets(values, obs, meta)
    return _finish(values, obs, var, files)


def _load_cellbench(
    prefix: str, *, drop_doublets: bool = False, symbols: bool = True
) -> ad.AnnData:
    files = _Files()
    return _parse_cellbench(
        files(f"{prefix}.count.csv.gz"),
        files(f"{prefix}.metadata.csv.gz"),
        files,
        what=prefix,
        drop_doublets=drop_doublets,
        symbols=symbols,
    )


@_register(
    "sc_celseq2",
    description="CellBench CEL-seq2: 274 cells of 3 lung cancer cell lines (H1975, H2228, "
    "HCC827), 28,204 genes (Ensembl ids, 62 ERCC), UMI counts; obs 'cell_line' from demuxlet.",
    source=_CELLBENCH_SOURCE,
    accession="GSE118767",
    citation=_CELLBENCH_CITATION,
)
def sc_celseq2(*, drop_doublets: bool = False, symbols: bool = True) -> ad.AnnData:
    """CellBench CEL-seq2 mixture of 3 cell lines.

    Parameters
    ----------
    drop_doublets
        Keep only the cells that demuxlet calls singlets (``demuxlet_cls == "SNG"``).
    symbols
        Add ``var["symbol"]`` from ``ensembl2symbol_human.tsv.gz``.

    Returns
    -------
    anndata.AnnData
        274 cells x 28,204 genes.
    """
    return _load_cellbench("sc_celseq2", drop_doublets=drop_doublets, symbols=symbols)


@_register(
    "sc_dropseq",
    description="CellBench Drop-seq: 225 cells of 3 lung cancer cell lines, 15,127 genes "
    "(Ensembl ids), UMI counts; obs 'cell_line' from demuxlet.",
    source=_CELLBENCH_SOURCE,
    accession="GSE118767",
    citation=_CELLBENCH_CITATION,
)
def sc_dropseq(*, drop_doublets: bool = False, symbols: bool = True) -> ad.AnnData:
    """CellBench Drop-seq mixture of 3 cell lines.

    Parameters
    ----------
    drop_doublets
        Keep only the cells that demuxlet calls singlets.
    symbols
        Add ``var["symbol"]`` from ``ensembl2symbol_human.tsv.gz``.

    Returns
    -------
    anndata.AnnData
        225 cells x 15,127 genes.
    """
    return _load_cellbench("sc_dropseq", drop_doublets=drop_doublets, symbols=symbols)


@_register(
    "sc_celseq2_5cl_p1",
    description="CellBench CEL-seq2, 5 cell lines (A549, H838, H1975, H2228, HCC827), "
    "plate 1: 297 cells x 15,564 genes, UMI counts; 141 demuxlet doublets.",
    source=_CELLBENCH_SOURCE,
    accession="GSE118767",
    citation=_CELLBENCH_CITATION,
)
def sc_celseq2_5cl_p1(*, drop_doublets: bool = False, symbols: bool = True) -> ad.AnnData:
    """CellBench CEL-seq2 mixture of 5 cell lines, plate 1.

    Almost half of the cells (141 of 297) are demuxlet doublets; ``drop_doublets=True``
    keeps the 156 singlets.

    Parameters
    ----------
    drop_doublets
        Keep only the cells that demuxlet calls singlets.
    symbols
        Add ``var["symbol"]`` from ``ensembl2symbol_human.tsv.gz``.

    Returns
    -------
    anndata.AnnData
        297 cells x 15,564 genes.
    """
    return _load_cellbench("sc_celseq2_5cl_p1", drop_doublets=drop_doublets, symbols=symbols)


#: The three cell lines of CellBench's mixtures, in the order of their share columns.
MIXTURE_LINES = ("H2228", "H1975", "HCC827")


def _load_cellbench_mixture(prefix: str, *, symbols: bool = True) -> ad.AnnData:
    """Read a CellBench mixture (``RNAmix_*``, ``cellmix*``): counts, well metadata and each line's share.

    The wells of the count matrix are kept, in its order (metadata rows without counts are left
    out); a count-matrix well without metadata is an error. ``obs["<line>_share"]`` is each line's
    share of the well: the ``<line>_prop`` columns of the RNA mixtures, or the cells of each line
    over the well's cells for the cell mixtures. ``traj`` and ``poor_quality`` (``"YES"``/``"NO"``)
    become booleans.
    """
    files = _Files()
    count_path, meta_path = files(f"{prefix}.count.csv.gz"), files(f"{prefix}.metadata.csv.gz")
    counts = pd.read_csv(count_path, engine="c", index_col=None)
    if not isinstance(counts.index[0], str) or not counts.index[0].startswith(("ENSG", "ERCC")):
        raise DatasetFormatError(
            f"{Path(count_path).name}: expected Ensembl gene ids as row names, found {counts.index[:3].tolist()}"
        )
    meta = pd.read_csv(meta_path, engine="c", index_col=None)
    meta.index = meta.index.astype(str)
    counts.columns = counts.columns.astype(str)
    missing = counts.columns.difference(meta.index)
    if len(missing):
        raise DatasetFormatError(f"{prefix}: wells of the count matrix without metadata: {list(missing[:3])}")
    obs = meta.loc[counts.columns].copy()
    if all(f"{line}_prop" in obs.columns for line in MIXTURE_LINES):
        shares = obs[[f"{line}_prop" for line in MIXTURE_LINES]].to_numpy(dtype=np.float64)
    elif all(line in obs.columns for line in MIXTURE_LINES):
        cells = obs[list(MIXTURE_LINES)].to_numpy(dtype=np.float64)
        shares = cells / np.maximum(cells.sum(axis=1, keepdims=True), 1.0)
    else:
        raise DatasetFormatError(f"{prefix}: the metadata has neither '<line>_prop' nor per-line cell counts for "
                                 f"{list(MIXTURE_LINES)} (columns: {list(obs.columns)[:8]})")
    for line, share in zip(MIXTURE_LINES, shares.T):
        obs[f"{line}_share"] = share
    for col in ("traj", "poor_quality"):
        if col in obs.columns:
            obs[col] = obs[col].astype(str).eq("YES")
    var = _cellbench_var(counts.index.astype(str), files, symbols)
    return _finish(counts.to_numpy().T, obs, var, files)


@_register(
    "rnamix_celseq2",
    description="CellBench RNA mixtures (CEL-seq2): 340 wells of RNA from H2228, H1975 and HCC827 mixed "
    "in known proportions (obs '<line>_share'), with a dilution series (obs 'mRNA_amount'); 14,804 genes "
    "(Ensembl ids), UMI counts.",
    source=_CELLBENCH_SOURCE,
    accession="GSE118767",
    citation=_CELLBENCH_CITATION,
)
def rnamix_celseq2(*, symbols: bool = True) -> ad.AnnData:
    """CellBench RNA mixtures: a known trajectory between three cell lines.

    Seven mixtures of the three lines' RNA (each pure line, each line at 0.68 with 0.16 of the
    others, and a third of each), at four amounts of RNA per well (3.75 to 30 pg).

    Parameters
    ----------
    symbols
        Add ``var["symbol"]`` from ``ensembl2symbol_human.tsv.gz``.

    Returns
    -------
    anndata.AnnData
        340 wells x 14,804 genes; ``obs["H2228_share"]``, ``obs["H1975_share"]``,
        ``obs["HCC827_share"]`` (the known proportions) beside the upstream metadata.
    """
    return _load_cellbench_mixture("RNAmix_celseq2", symbols=symbols)


def _cellmix_doc(plate: int, wells: int) -> str:
    return f"""CellBench cell mixtures, plate {plate}: wells of nine cells drawn from three lines in known numbers.

    Parameters
    ----------
    symbols
        Add ``var["symbol"]`` from ``ensembl2symbol_human.tsv.gz``.

    Returns
    -------
    anndata.AnnData
        {wells} wells; ``obs["H1975"]``, ``obs["H2228"]``, ``obs["HCC827"]`` (cells of each line),
        ``obs["<line>_share"]`` (those over the well's cells), ``obs["traj"]`` (bool: the well lies on
        CellBench's trajectory paths) and ``obs["poor_quality"]`` (bool).
    """


@_register(
    "cellmix1",
    description="CellBench cell mixtures, plate 1: 266 wells of 9 cells from H2228, H1975 and HCC827 in "
    "known numbers (obs '<line>_share', 'traj'), 11,798 genes (Ensembl ids), UMI counts.",
    source=_CELLBENCH_SOURCE,
    accession="GSE118767",
    citation=_CELLBENCH_CITATION,
)
def cellmix1(*, symbols: bool = True) -> ad.AnnData:
    return _load_cellbench_mixture("cellmix1", symbols=symbols)


@_register(
    "cellmix2",
    description="CellBench cell mixtures, plate 2: 268 wells of 9 cells from H2228, H1975 and HCC827 in "
    "known numbers (obs '<line>_share', 'traj'), 13,747 genes (Ensembl ids), UMI counts.",
    source=_CELLBENCH_SOURCE,
    accession="GSE118767",
    citation=_CELLBENCH_CITATION,
)
def cellmix2(*, symbols: bool = True) -> ad.AnnData:
    return _load_cellbench_mixture("cellmix2", symbols=symbols)


cellmix1.__doc__ = _cellmix_doc(1, 266)
cellmix2.__doc__ = _cellmix_doc(2, 268)


# ---------------------------------------------------------------------------------------
# Darmanis 2015 human brain

_HTSEQ_COUNTERS = ["no_feature", "ambiguous", "alignment_not_unique"]


@_register(
    "darmanis_brain",
    description="Human brain (Darmanis 2015): 420 cells of 8 types (466 with 'hybrid'), "
    "22,085 genes (symbols), raw read counts; obs 'cell_type'.",
    source="https://github.com/numpde/sta426_deconvo @ d8f378502dbf3496795ade2835decebd27025e7a "
    "(data/20201206-RefDatasets/2015-Darmanis/b_prepared)",
    accession="GSE67835",
    citation="Darmanis S, Sloan SA, Zhang Y, et al. A survey of human brain transcriptome "
    "diversity at the single cell level. PNAS 112, 7285-7290 (2015). "
    "doi:10.1073/pnas.1507125112",
)
def darmanis_brain(*, include_hybrid: bool = False) -> ad.AnnData:
    """Human brain cells of Darmanis et al. (2015).

    The three HTSeq counter rows (``no_feature``, ``ambiguous``, ``alignment_not_unique``)
    are not genes: they are removed from the matrix and kept as ``obs["htseq_<name>"]``.

    Parameters
    ----------
    include_hybrid
        Keep the 46 cells annotated ``hybrid``. The paper's 420 cells exclude them.

    Returns
    -------
    anndata.AnnData
        420 (or 466) cells x 22,085 genes.
    """
    files = _Files()
    # Both files are TAB-separated although the upstream names end in .csv.gz.
    counts = pd.read_csv(files("darmanis_GSE67835.data.tsv.gz"), sep="\t", index_col=0, engine="c")
    meta = pd.read_csv(files("darmanis_GSE67835.meta.csv.gz"), sep="\t", index_col=0, engine="c")
    missing = [c for c in _HTSEQ_COUNTERS if c not in counts.index]
    if missing:
        raise DatasetFormatError(f"Darmanis counts lack the HTSeq counter rows {missing}")
    counts.columns = counts.columns.astype(str)
    meta.index = meta.index.astype(str)
    _check_same("cell", counts.columns, meta.index, "darmanis_brain")
    if "cell type" not in meta.columns:
        raise DatasetFormatError(f"Darmanis metadata has no 'cell type' column: {list(meta.columns)}")

    obs = meta.rename(columns=lambda c: c.strip().replace(" ", "_"))
    for col in ("tissue", "cell_type", "age", "c1_chip_id", "experiment_sample_name"):
        if col in obs.columns:
            obs[col] = pd.Categorical(obs[col].astype(str))
    for name in _HTSEQ_COUNTERS:
        obs[f"htseq_{name}"] = counts.loc[name].to_numpy()
    counts = counts.drop(index=_HTSEQ_COUNTERS)
    var = pd.DataFrame(index=counts.index.astype(str))
    values = counts.to_numpy().T
    if not include_hybrid:
        keep = (obs["cell_type"] != "hybrid").to_numpy()
        values, obs = values[keep], obs.loc[keep].copy()
        obs["cell_type"] = obs["cell_type"].cat.remove_unused_categories()
    return _finish(values, obs, var, files)


# ---------------------------------------------------------------------------------------
# ERCC spike-ins in mouse ESCs (Buettner 2015)

_PHASES = ["G1", "S", "G2M"]


@_register(
    "ercc",
    description="ERCC spike-ins in 288 mouse ESCs (Buettner 2015): 92 spike-ins, raw counts; "
    "obs 'phase' (G1/S/G2M, 96 each), var 'concentration_mix1' (known truth).",
    source="https://github.com/xuyungang/scIGANs @ 9716a86d1ab19a56863158430702fe1fd7d99a5b "
    "(test_data/ercc.txt); concentrations from https://github.com/Teichlab/readquant @ "
    "088d025dcebcf5f6c2b955927a7afdd816161930 (readquant/ERCC.tsv)",
    accession="E-MTAB-2805",
    citation="Buettner F, Natarajan KN, Casale FP, et al. Computational analysis of "
    "cell-to-cell heterogeneity in single-cell RNA-sequencing data reveals hidden "
    "subpopulations of cells. Nat Biotechnol 33, 155-160 (2015). doi:10.1038/nbt.3102",
)
def ercc() -> ad.AnnData:
    """ERCC spike-in counts in 288 mouse embryonic stem cells.

    The cell-cycle phase is taken from the column-name prefix (``G1_``, ``S_``, ``G2M_``),
    not from ``ercc.label.txt``, whose order (G1, G2M, S) does not match the columns.
    ``var["concentration_mix1"]`` is the known ERCC Mix 1 concentration (attomoles/ul).

    Returns
    -------
    anndata.AnnData
        288 cells x 92 spike-ins.
    """
    files = _Files()
    counts = pd.read_csv(files("ercc.txt"), sep="\t", index_col=0, engine="c")
    conc = pd.read_csv(files("ERCC.tsv"), sep="\t", engine="c")
    column = "concentration in Mix 1 (attomoles/ul)"
    if "ERCC ID" not in conc.columns or column not in conc.columns:
        raise DatasetFormatError(f"ERCC.tsv lacks 'ERCC ID' or {column!r}: {list(conc.columns)}")
    cells = counts.columns.astype(str)
    phase = cells.str.extract(r"^(G1|S|G2M)_", expand=False)
    if phase.isna().any():
        raise DatasetFormatError(
            f"ercc.txt: column names without a G1_/S_/G2M_ prefix: {list(cells[phase.isna()][:3])}"
        )
    obs = pd.DataFrame(index=cells)
    obs["phase"] = pd.Categorical(phase, categories=_PHASES)
    conc = conc.set_index("ERCC ID")
    genes = counts.index.astype(str)
    missing = genes.difference(conc.index)
    if len(missing):
        raise DatasetFormatError(f"ERCC.tsv has no concentration for {list(missing)}")
    var = pd.DataFrame(index=genes)
    var["concentration_mix1"] = conc.loc[genes, column].astype(float).to_numpy()
    var["subgroup"] = pd.Categorical(conc.loc[genes, "subgroup"].astype(str).to_numpy())
    return _finish(counts.to_numpy().T, obs, var, files)


# ---------------------------------------------------------------------------------------
# Neuroblastoma GSM5768752 (Yuan 2022), the scMASKGAN paper's example

_GSM_MEMBER = "Data/GSM5768752_GN1_UMI_COUNTS_RAW.csv"


@_register(
    "gsm5768752",
    description="Ganglioneuroma sample GSM5768752 (Yuan 2022): 551 cells x 33,514 genes "
    "(symbols), UMI counts; obs 'louvain' (10 clusters from the scMASKGAN repository).",
    source="https://github.com/A-uo/scMASKGAN @ c47e625412bcda48c1ec6b0ebe90b4c4abea0ced "
    "(Data.zip, louvain_labels_GSM5768752.csv)",
    accession="GSM5768752",
    citation="Yuan X, Seneviratne JA, Du S, et al. Single-cell profiling of peripheral "
    "neuroblastic tumors identifies an aggressive transitional state that bridges an "
    "adrenergic-mesenchymal trajectory. Cell Rep 41, 111455 (2022). "
    "doi:10.1016/j.celrep.2022.111455",
)
def gsm5768752() -> ad.AnnData:
    """Ganglioneuroma sample GSM5768752, as used in the scMASKGAN paper.

    The CSV's header lists the 551 cell names followed by an empty field (a trailing comma),
    and has no name for the gene column, so read naively the names would shift by one
    column. Here the i-th non-empty header name labels the i-th value column.

    Returns
    -------
    anndata.AnnData
        551 cells x 33,514 genes, ``obs["louvain"]`` categorical ``"0"`` ... ``"9"``.
    """
    files = _Files()
    with zipfile.ZipFile(files("GSM5768752_Data.zip")) as zf:
        try:
            raw = zf.read(_GSM_MEMBER)
        except KeyError:
            raise DatasetFormatError(f"GSM5768752_Data.zip has no member {_GSM_MEMBER}") from None
    header_end = raw.index(b"\n")
    names = raw[:header_end].decode().strip().split(",")
    while names and names[-1] == "":
        names.pop()
    counts = pd.read_csv(
        io.BytesIO(raw), header=None, skiprows=1, index_col=0, engine="c", dtype={0: str}
    )
    if counts.shape[1] != len(names):
        raise DatasetFormatError(
            f"{_GSM_MEMBER}: {len(names)} cell names in the header but {counts.shape[1]} value columns"
        )
    labels_path = files("louvain_labels_GSM5768752.csv")
    labels = [line.strip() for line in labels_path.read_text().splitlines() if line.strip()]
    if len(labels) != len(names):
        raise DatasetFormatError(
            f"louvain_labels_GSM5768752.csv has {len(labels)} labels for {len(names)} cells"
        )
    obs = pd.DataFrame(index=pd.Index(names, dtype=str))
    categories = sorted(set(labels), key=lambda x: (len(x), x))
    obs["louvain"] = pd.Categorical(labels, categories=categories)
    var = pd.DataFrame(index=counts.index.astype(str))
    return _finish(counts.to_numpy().T, obs, var, files)
