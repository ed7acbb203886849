"""Reader of the neuroblastoma samples of Yuan et al. (2022), downloaded by hand from GEO.

:func:`read_neuroblastoma` reads any of the ten files
``GSM57687xx_<sample>_UMI_COUNTS_RAW.{csv,txt}[.gz]`` (GSM5768743-GSM5768752, series GSE192906),
loose or in zip/tar archives, and labels the cells with the tumour type of the paper's Table 2
(:data:`NEUROBLASTOMA_TYPES`). It returns raw counts, cells x genes, as CSR float32 in ``X``
and the provenance in ``uns["dataset"]`` (see :mod:`._geo_files`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._geo_files import (
    GeoFileNotFoundError,
    PathLike,
    _geo_series_url,
    _LocalFiles,
    _missing_path,
    _provenance,
    _read_genes_by_cells,
    _scan,
    _Source,
    _unique_genes,
)
from ._loaders import DatasetFormatError, _counts_to_csr

__all__ = ["NEUROBLASTOMA_TYPES", "read_neuroblastoma"]

logger = logging.getLogger("scmaskgan")


# ---------------------------------------------------------------------------------------
# Neuroblastoma, Yuan et al. 2022 (GSM5768743-GSM5768752, series GSE192906)

#: Table 2 of the scMASKGAN paper: tumour type of each of the ten samples.
NEUROBLASTOMA_TYPES: dict[str, str] = {
    "GSM5768743": "NB",
    "GSM5768744": "NB",
    "GSM5768745": "NB",
    "GSM5768746": "NB",
    "GSM5768747": "NB",
    "GSM5768748": "GNB",
    "GSM5768749": "GNB",
    "GSM5768750": "GNB",
    "GSM5768751": "GNB",
    "GSM5768752": "GN",
}
_NB_PATTERN = re.compile(
    r"^(GSM57687(?:4[3-9]|5[0-2]))_(.+?)_UMI_COUNTS_RAW\.(?:csv|txt|tsv)(?:\.(?:gz|bz2))?$",
    re.IGNORECASE,
)
_NB_URL = "https://ftp.ncbi.nlm.nih.gov/geo/series/GSE192nnn/GSE192906/suppl/GSE192906_RAW.tar"
_NB_CITATION = (
    "Yuan X, Seneviratne JA, Du S, et al. Single-cell profiling of peripheral neuroblastic "
    "tumors identifies an aggressive transitional state that bridges an "
    "adrenergic-mesenchymal trajectory. Cell Rep 41, 111455 (2022). "
    "doi:10.1016/j.celrep.2022.111455"
)


def _sparse_on_genes(x: sp.csr_matrix, genes: pd.Index, target: pd.Index) -> sp.csr_matrix:
    """Columns of ``x`` (named ``genes``) placed on ``target``; genes not in it dropped,
    genes of ``target`` not in ``genes`` all zero."""
    positions = target.get_indexer(genes)
    coo = x.tocoo()
    cols = positions[coo.col]
    keep = cols >= 0
    return sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], cols[keep])), shape=(x.shape[0], len(target)),
        dtype=np.float32,
    )


def read_neuroblastoma(
    path: PathLike,
    *,
    samples: Iterable[str] | None = None,
    join: Literal["inner", "outer"] = "inner",
) -> ad.AnnData:
    """Peripheral neuroblastic tumour samples of Yuan et al. (2022), the paper's Table 2.

    The ten samples GSM5768743-GSM5768752 of GEO series GSE192906
    (https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE192906; each sample's page, e.g.
    https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSM5768743, or the series'
    ``GSE192906_RAW.tar``) hold one file each, named
    ``GSM57687xx_<sample>_UMI_COUNTS_RAW.<ext>``: ``<sample>`` is the tumour's name (e.g.
    ``GN1``) and ``<ext>`` is ``csv`` or ``txt`` (tab-separated), optionally ``.gz``. Each is a
    genes x cells table of UMI counts with gene symbols in the first column. The header line
    names only the cells, with no name for the gene column, and may end with a trailing
    delimiter (the CSV in the scMASKGAN repository's ``Data.zip`` does, with CRLF line ends);
    the i-th non-empty header name labels the i-th value column.

    Any subset of the files may be read, loose in a folder or inside zip/tar archives there
    (e.g. ``GSM5768752_Data.zip`` or ``GSE192906_RAW.tar``), and they are concatenated.

    Parameters
    ----------
    path
        A folder, an archive, or one sample file.
    samples
        GSM accessions (``"GSM5768752"``) or sample names (``"GN1"``) to read; an error if
        one is not found. Default: every sample found.
    join
        Genes of the result when samples have different gene lists: ``"inner"`` keeps the
        genes common to all samples, ``"outer"`` the union (zeros where a sample lacks a
        gene). The ten published samples share the same 33,514 genes, so both agree there.

    Returns
    -------
    anndata.AnnData
        Cells x genes UMI counts (CSR float32). Cells are named ``<GSM>_<cell>``;
        ``obs["sample"]`` (GSM accession), ``obs["sample_name"]`` (e.g. ``"GN1"``),
        ``obs["tumour_type"]`` (the paper's Table 2: ``"NB"`` neuroblastoma,
        ``"GNB"`` ganglioneuroblastoma, ``"GN"`` ganglioneuroma), ``obs["high_risk"]``
        (True for NB, as the paper groups them), ``obs["cell"]`` (the name in the file).

    Raises
    ------
    GeoFileNotFoundError
        No such path, no sample file in it, or a requested sample is missing.
    DatasetFormatError
        A file is not a genes x cells table, or a sample is present twice.
    """
    if join not in ("inner", "outer"):
        raise ValueError(f"join must be 'inner' or 'outer', not {join!r}")
    where = f"GEO series GSE192906, {_geo_series_url('GSE192906')} ({_NB_URL})"
    expected = "files named GSM57687xx_<sample>_UMI_COUNTS_RAW.csv(.gz) or .txt(.gz) (xx = 43-52)"
    path = Path(path).expanduser()
    if not path.exists():
        raise _missing_path(path, expected, where)
    found: dict[str, tuple[str, _Source]] = {}
    for source in _scan(path):
        match = _NB_PATTERN.match(source.name)
        if match is None:
            continue
        gsm = match.group(1).upper()
        if gsm in found:
            raise DatasetFormatError(
                f"{gsm} is present twice: {found[gsm][1].describe()} and {source.describe()}; "
                "keep one"
            )
        found[gsm] = (match.group(2), source)
    if not found:
        raise GeoFileNotFoundError(
            f"{path} holds no neuroblastoma sample file: expected {expected}. Download them "
            f"from {where}."
        )
    if samples is not None:
        wanted = list(dict.fromkeys(samples))
        chosen = {}
        for item in wanted:
            hits = [g for g, (name, _) in found.items() if item.upper() in (g, name.upper())]
            if not hits:
                raise GeoFileNotFoundError(
                    f"{path}: no file for sample {item!r} (found "
                    f"{', '.join(f'{g} ({n})' for g, (n, _) in sorted(found.items()))}); "
                    f"download it from {where}"
                )
            for g in hits:
                chosen[g] = found[g]
        found = chosen

    files = _LocalFiles()
    parts: list[tuple[str, str, sp.csr_matrix, pd.Index, pd.Index]] = []
    for gsm in sorted(found):
        name, source = found[gsm]
        files.local(source.path, _geo_series_url(gsm), member=source.member)
        table = _read_genes_by_cells(source, header=True)
        assert table.cells is not None
        x = _counts_to_csr(table.values.T)
        genes = _unique_genes(table.genes, source.name)
        parts.append((gsm, name, x, genes, table.cells))
        kind = NEUROBLASTOMA_TYPES[gsm]
        prefix = re.match(r"^[A-Za-z]+", name)
        said = prefix.group(0).upper() if prefix else ""
        if said in ("NB", "GNB", "GN") and said != kind:
            logger.warning(
                "%s: the file name says %s but the paper's Table 2 says %s; using %s",
                source.name, said, kind, kind,
            )
        logger.debug("%s: %d cells x %d genes", source.name, x.shape[0], x.shape[1])

    target = parts[0][3]
    for _, _, _, genes, _ in parts[1:]:
        if join == "inner":
            target = target[target.isin(genes)]
        else:
            target = target.append(genes[~genes.isin(target)])
    if not len(target):
        raise DatasetFormatError("the samples have no gene in common (join='inner')")
    blocks, obs_parts = [], []
    for gsm, name, x, genes, cells in parts:
        same = genes.equals(target)
        blocks.append(x if same else _sparse_on_genes(x, genes, target))
        kind = NEUROBLASTOMA_TYPES[gsm]
        obs_parts.append(
            pd.DataFrame(
                {"sample": gsm, "sample_name": name, "tumour_type": kind, "high_risk": kind == "NB",
                 "cell": cells.to_numpy()},
                index=[f"{gsm}_{c}" for c in cells],
            )
        )
    obs = pd.concat(obs_parts)
    obs["sample"] = pd.Categorical(obs["sample"], categories=[p[0] for p in parts])
    obs["sample_name"] = pd.Categorical(obs["sample_name"], categories=[p[1] for p in parts])
    obs["tumour_type"] = pd.Categorical(obs["tumour_type"], categories=["NB", "GNB", "GN"])
    obs.index.name = None
    var = pd.DataFrame(index=pd.Index(target, dtype=str))
    var.index.name = None
    adata = ad.AnnData(X=sp.vstack(blocks, format="csr", dtype=np.float32), obs=obs, var=var)
    adata.uns["_files"] = files.record
    return _provenance(
        adata,
        name="neuroblastoma",
        description="Peripheral neuroblastic tumours (Yuan 2022), samples "
        f"{', '.join(p[0] for p in parts)}; UMI counts; obs 'sample', 'tumour_type' (NB/GNB/GN).",
        source=where,
        accession="GSE192906",
        citation=_NB_CITATION,
    )
