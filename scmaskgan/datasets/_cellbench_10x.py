"""Reader of the CellBench 10x mixture of three cell lines (Tian et al. 2019), downloaded by hand.

:func:`read_cellbench_10x` reads ``sc_10x.count.csv.gz`` + ``sc_10x.metadata.csv.gz`` of the
CellBench repository (sc_mixology), or a 10x mtx folder as GEO serves it (GSE111108) with that
metadata file. It returns raw counts, cells x genes, as CSR float32 in ``X``, the cell lines in
``obs`` and the provenance in ``uns["dataset"]`` (see :mod:`._geo_files`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..io.formats import InputFormatError
from ..io.tenx import Missing10xPartError, find_10x_part, read_10x_parts
from ._geo_files import (
    GeoFileNotFoundError,
    PathLike,
    _find_variant,
    _geo_series_url,
    _LocalFiles,
    _missing_path,
    _provenance,
    _unique_genes,
)
from ._loaders import (
    _CELLBENCH_CITATION,
    DatasetFormatError,
    _cellbench_obs,
    _cellbench_var,
    _drop_doublets,
    _parse_cellbench,
    _read_cellbench_metadata,
)

__all__ = ["read_cellbench_10x"]

logger = logging.getLogger("scmaskgan")


# ---------------------------------------------------------------------------------------
# CellBench 10x, 3 cell lines (Tian et al. 2019, GSE111108)

_CB10X_COUNT = "sc_10x.count.csv.gz"
_CB10X_META = "sc_10x.metadata.csv.gz"
_CB10X_REPO = "https://github.com/LuyiTian/sc_mixology/tree/master/data/csv"


def _read_10x_folder(folder: Path) -> tuple[sp.csr_matrix, pd.DataFrame, pd.Index, list[Path]]:
    """(cells x genes CSR, features table, barcodes, files) of a 10x mtx folder
    (:func:`scmaskgan.io.tenx.read_10x_parts`, with this module's errors)."""
    try:
        return read_10x_parts(folder)
    except Missing10xPartError as exc:
        raise GeoFileNotFoundError(
            f"{exc}. Expected matrix.mtx, genes.tsv (or features.tsv) and barcodes.tsv, optionally "
            f"gzipped and with a GEO prefix such as GSM3022245_; see {_geo_series_url('GSE111108')}"
        ) from exc
    except InputFormatError as exc:
        raise DatasetFormatError(str(exc)) from exc


def _match_barcodes(codes: pd.Index, meta: pd.Index, folder: Path) -> np.ndarray:
    """Row of each metadata cell in the matrix (barcodes with or without the ``-1`` suffix)."""
    for candidate in (codes, codes.str.replace(r"-\d+$", "", regex=True)):
        if candidate.is_unique and meta.isin(candidate).all():
            return candidate.get_indexer(meta)
    missing = meta[~meta.isin(codes) & ~meta.isin(codes.str.replace(r"-\d+$", "", regex=True))]
    raise DatasetFormatError(
        f"{folder}: {len(missing)} of the {len(meta)} metadata cells are not barcodes of the "
        f"matrix (e.g. {list(missing[:3])}, barcodes look like {list(codes[:2])}); the metadata "
        f"must name the cells by their barcodes"
    )


def read_cellbench_10x(
    path: PathLike,
    *,
    metadata: PathLike | None = None,
    drop_doublets: bool = False,
    symbols: bool = True,
) -> ad.AnnData:
    """CellBench 10x Chromium mixture of 3 lung cancer cell lines (Tian et al. 2019).

    Two forms are read:

    - the CSV pair of the CellBench repository (https://github.com/LuyiTian/sc_mixology,
      ``data/csv/sc_10x.count.csv.gz`` and ``data/csv/sc_10x.metadata.csv.gz``), in the same
      layout as the ``sc_celseq2`` files (genes x cells counts with Ensembl ids as row names;
      one metadata row per cell with ``cell_line_demuxlet`` and ``demuxlet_cls``), parsed by
      the same code as :func:`scmaskgan.datasets.load` uses for ``"sc_celseq2"``;
    - a 10x mtx folder as GEO serves it for GSE111108 (sample GSM3022245;
      https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE111108): ``matrix.mtx``,
      ``genes.tsv`` (or ``features.tsv``) and ``barcodes.tsv``, optionally gzipped and with a
      common GEO prefix, plus the metadata CSV above for the cell-line labels. Only the cells
      of the metadata (CellBench's quality-controlled cells) are kept.

    Parameters
    ----------
    path
        ``sc_10x.count.csv.gz``, a folder holding it and ``sc_10x.metadata.csv.gz``, or a 10x
        mtx folder (or its ``matrix.mtx(.gz)`` file).
    metadata
        The metadata CSV; by default ``sc_10x.metadata.csv.gz`` beside the counts.
    drop_doublets
        Keep only the cells that demuxlet calls singlets (``demuxlet_cls == "SNG"``).
    symbols
        Add ``var["symbol"]``: from the mtx folder's gene table when it has a symbol column,
        else from the registered ``ensembl2symbol_human.tsv.gz`` (fetched like every
        registered file).

    Returns
    -------
    anndata.AnnData
        Cells x genes UMI counts (CSR float32), Ensembl ids as gene names, ``obs["cell_line"]``
        (demuxlet's call) and the metadata's other columns, ``var["ercc"]``.

    Raises
    ------
    GeoFileNotFoundError
        No such path, or the counts or metadata file is missing.
    DatasetFormatError
        A file does not have the expected layout, or counts and metadata name other cells.
    """
    where = (
        f"the CellBench repository {_CB10X_REPO} (or, as a 10x mtx folder, GEO series "
        f"GSE111108, {_geo_series_url('GSE111108')})"
    )
    path = Path(path).expanduser()
    if not path.exists():
        raise _missing_path(path, f"{_CB10X_COUNT} and {_CB10X_META}", where)
    if path.is_file() and re.search(r"(^|_)matrix\.mtx(\.gz)?$", path.name, re.IGNORECASE):
        path = path.parent
    folder = path if path.is_dir() else path.parent
    is_mtx = path.is_dir() and bool(find_10x_part(path, "matrix.mtx"))
    count: Path | None = None
    if not path.is_dir():
        count = path
    elif not is_mtx:
        count = _find_variant(path, _CB10X_COUNT)
        if count is None:
            raise GeoFileNotFoundError(
                f"{path} holds neither {_CB10X_COUNT} nor a 10x mtx folder's matrix.mtx(.gz); "
                f"download {_CB10X_COUNT} and {_CB10X_META} from {where}"
            )
    if metadata is None:
        meta_path = _find_variant(folder, _CB10X_META)
        if meta_path is None:
            raise GeoFileNotFoundError(
                f"no {_CB10X_META} in {folder}: the cell-line labels are in that file; download "
                f"it from {where} and place it beside the counts, or pass metadata=<path>"
            )
    else:
        meta_path = Path(metadata).expanduser()
        if not meta_path.is_file():
            raise _missing_path(meta_path, f"the metadata file {_CB10X_META}", where)

    files = _LocalFiles()
    meta_url = f"{_CB10X_REPO}/{_CB10X_META}"
    if count is not None:
        files.local(count, f"{_CB10X_REPO}/{_CB10X_COUNT}")
        files.local(meta_path, meta_url)
        adata = _parse_cellbench(
            count, meta_path, files, what="sc_10x", drop_doublets=drop_doublets, symbols=symbols
        )
    else:
        x, feat, codes, parts = _read_10x_folder(path)
        for part in parts:
            files.local(part, _geo_series_url("GSE111108"))
        files.local(meta_path, meta_url)
        meta = _read_cellbench_metadata(meta_path, "sc_10x")
        rows = _match_barcodes(codes, meta.index, path)
        if len(rows) < len(codes):
            logger.info(
                "%s: kept the %d of %d barcodes that the metadata lists",
                path, len(rows), len(codes),
            )
        x = x[rows]
        genes = _unique_genes(pd.Index(feat.iloc[:, 0], dtype=str), "genes.tsv")
        has_symbols = feat.shape[1] > 1
        var = _cellbench_var(genes, files, symbols and not has_symbols)
        if symbols and has_symbols:
            var["symbol"] = feat.iloc[:, 1].to_numpy()
        obs = _cellbench_obs(meta)
        if drop_doublets:
            x, obs = _drop_doublets(x, obs, meta)
        if x.size and x.max() >= 2**24:
            raise DatasetFormatError("counts this large cannot be stored exactly as float32")
        obs.index.name = None
        adata = ad.AnnData(X=sp.csr_matrix(x, dtype=np.float32), obs=obs, var=var)
        adata.uns["_files"] = files.record
    return _provenance(
        adata,
        name="cellbench_10x",
        description="CellBench 10x Chromium: 3 lung cancer cell lines (H1975, H2228, HCC827), "
        "UMI counts; obs 'cell_line' from demuxlet.",
        source=where,
        accession="GSE111108",
        citation=_CELLBENCH_CITATION,
    )
