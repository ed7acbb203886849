"""Readers of the paper's two time courses, downloaded by hand from GEO.

=====================================  =====================================================
reader                                  files (as GEO serves them)
=====================================  =====================================================
:func:`read_chu_time_course`            ``GSE75748_sc_time_course_ec.csv.gz`` (GSE75748)
:func:`read_klein_mesc`                 ``GSM1599494_ES_d0_main.csv.bz2``,
                                        ``GSM1599497_ES_d2_LIFminus.csv.bz2``,
                                        ``GSM1599498_ES_d4_LIFminus.csv.bz2``,
                                        ``GSM1599499_ES_d7_LIFminus.csv.bz2`` (GSE65525)
=====================================  =====================================================

Both return raw counts, cells x genes, as CSR float32 in ``X``, the time point in ``obs`` and
the provenance in ``uns["dataset"]`` (see :mod:`._geo_files`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from ._geo_files import (
    GeoFileNotFoundError,
    PathLike,
    _geo_series_url,
    _LocalFiles,
    _missing_path,
    _one_file,
    _provenance,
    _read_genes_by_cells,
    _scan,
    _Source,
    _unique_genes,
    _variants,
)
from ._loaders import DatasetFormatError, _finish

__all__ = ["read_chu_time_course", "read_klein_mesc"]

logger = logging.getLogger("scmaskgan")


# ---------------------------------------------------------------------------------------
# Chu et al. 2016, time course of hESC to definitive endoderm (GSE75748)

_CHU_FILE = "GSE75748_sc_time_course_ec.csv.gz"
_CHU_URL = (
    "https://ftp.ncbi.nlm.nih.gov/geo/series/GSE75nnn/GSE75748/suppl/"
    "GSE75748_sc_time_course_ec.csv.gz"
)
_CHU_CITATION = (
    "Chu LF, Leng N, Zhang J, et al. Single-cell RNA-seq reveals novel regulators of human "
    "embryonic stem cell differentiation to definitive endoderm. Genome Biol 17, 173 (2016). "
    "doi:10.1186/s13059-016-1033-x"
)
_CHU_TIME = re.compile(r"\.(\d+)h(?:b4s)?_")


def read_chu_time_course(path: PathLike) -> ad.AnnData:
    """Human ES cells differentiating to definitive endoderm (Chu et al. 2016, GSE75748).

    The file is ``GSE75748_sc_time_course_ec.csv.gz``, a supplementary file of GEO series
    GSE75748 (https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE75748). It is a
    comma-separated genes x cells table of RSEM expected counts (not integers), gene symbols
    in the first column, written by R's ``write.csv``; the cell names encode the time point
    after the start of differentiation: ``H9.00hb4s_001`` (0 h, before), ``H9.12h_001``,
    ``H9.24h_...``, ``H9.36h_...``, ``H9.72h_...``, ``H9.96h_...``.

    Parameters
    ----------
    path
        The ``.csv.gz`` file (also accepted uncompressed), or a folder holding it.

    Returns
    -------
    anndata.AnnData
        Cells x genes expected counts (CSR float32), ``obs["time_h"]`` (hours, int) and
        ``obs["time"]`` (categorical ``"00h"``, ``"12h"``, ... in time order).

    Raises
    ------
    GeoFileNotFoundError
        No such path, or the folder lacks the file.
    DatasetFormatError
        The file is not a genes x cells table, or a cell name has no time point.
    """
    where = f"GEO series GSE75748, {_geo_series_url('GSE75748')} ({_CHU_URL})"
    source = _one_file(
        path, (_CHU_FILE, _CHU_FILE[:-3]), f"the file {_CHU_FILE}", where
    )
    files = _LocalFiles()
    files.local(source.path, _CHU_URL, member=source.member)
    table = _read_genes_by_cells(source, header=True)
    assert table.cells is not None
    hours = pd.Series(table.cells, dtype=str).str.extract(_CHU_TIME, expand=False)
    if hours.isna().any():
        bad = list(table.cells[hours.isna().to_numpy()][:3])
        raise DatasetFormatError(
            f"{source.describe()}: cell names without a time point such as 'H9.12h_001': {bad}"
        )
    time_h = hours.astype(int).to_numpy()
    labels = [f"{h:02d}h" for h in time_h]
    categories = [f"{h:02d}h" for h in sorted(set(time_h))]
    obs = pd.DataFrame(index=table.cells)
    obs["time_h"] = time_h
    obs["time"] = pd.Categorical(labels, categories=categories, ordered=True)
    var = pd.DataFrame(index=_unique_genes(table.genes, source.name))
    adata = _finish(table.values.T, obs, var, files)
    return _provenance(
        adata,
        name="chu_time_course",
        description="hESC to definitive endoderm time course (Chu 2016): 0, 12, 24, 36, 72, "
        "96 h; RSEM expected counts; obs 'time_h', 'time'.",
        source=where,
        accession="GSE75748",
        citation=_CHU_CITATION,
    )


# ---------------------------------------------------------------------------------------
# Klein et al. 2015, mouse ES cells after LIF withdrawal (GSE65525)

_KLEIN_FILES = {
    "GSM1599494": ("GSM1599494_ES_d0_main.csv.bz2", 0),
    "GSM1599497": ("GSM1599497_ES_d2_LIFminus.csv.bz2", 2),
    "GSM1599498": ("GSM1599498_ES_d4_LIFminus.csv.bz2", 4),
    "GSM1599499": ("GSM1599499_ES_d7_LIFminus.csv.bz2", 7),
}
_KLEIN_REPLICATES = {
    "GSM1599495": ("GSM1599495_ES_d0_biorep_techrep1.csv.bz2", 0),
    "GSM1599496": ("GSM1599496_ES_d0_biorep_techrep2.csv.bz2", 0),
}
_KLEIN_URL = "https://ftp.ncbi.nlm.nih.gov/geo/series/GSE65nnn/GSE65525/suppl/GSE65525_RAW.tar"
_KLEIN_CITATION = (
    "Klein AM, Mazutis L, Akartuna I, et al. Droplet barcoding for single-cell "
    "transcriptomics applied to embryonic stem cells. Cell 161, 1187-1201 (2015). "
    "doi:10.1016/j.cell.2015.04.044"
)


def read_klein_mesc(
    path: PathLike, *, days: Iterable[int] | None = None, replicates: bool = False
) -> ad.AnnData:
    """Mouse ES cells 0, 2, 4 and 7 days after LIF withdrawal (Klein et al. 2015, GSE65525).

    GEO serves one file per sample, in the series' ``GSE65525_RAW.tar``
    (https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE65525):

    - ``GSM1599494_ES_d0_main.csv.bz2`` (day 0),
    - ``GSM1599497_ES_d2_LIFminus.csv.bz2`` (day 2),
    - ``GSM1599498_ES_d4_LIFminus.csv.bz2`` (day 4),
    - ``GSM1599499_ES_d7_LIFminus.csv.bz2`` (day 7),
    - and the day-0 replicates ``GSM1599495_ES_d0_biorep_techrep1.csv.bz2`` and
      ``GSM1599496_ES_d0_biorep_techrep2.csv.bz2`` (read only with ``replicates=True``).

    Each is a comma-separated genes x cells table of UMI counts with NO header line: the
    first column holds the gene names, the cells are unnamed. Cells are named here
    ``<GSM>_<n>`` (``n`` from 0001 in file order). Files may also be uncompressed or
    gzip-compressed, loose in a folder or inside the tar archive.

    Parameters
    ----------
    path
        A folder holding any subset of the files (or the tar archive, or one file).
    days
        Read only these days (e.g. ``[0, 7]``); an error if one of them is not found.
        Default: every day found.
    replicates
        Also read the two day-0 replicate samples.

    Returns
    -------
    anndata.AnnData
        Cells x genes UMI counts (CSR float32), ``obs["day"]`` (int), ``obs["sample"]``
        (GSM accession, categorical); samples in day order.

    Raises
    ------
    GeoFileNotFoundError
        No such path, no GSE65525 sample file in it, or a requested day is missing.
    DatasetFormatError
        A file is not a headerless genes x cells table, or the files' genes differ.
    """
    where = f"GEO series GSE65525, {_geo_series_url('GSE65525')} ({_KLEIN_URL})"
    known = dict(_KLEIN_FILES)
    if replicates:
        known.update(_KLEIN_REPLICATES)
    expected = ", ".join(f for f, _ in known.values())
    path = Path(path).expanduser()
    if not path.exists():
        raise _missing_path(path, f"GSE65525 sample files ({expected})", where)
    by_name = {v: gsm for gsm, (f, _) in known.items() for v in _variants(f)}
    found: dict[str, _Source] = {}
    for source in _scan(path):
        gsm = by_name.get(source.name)
        if gsm is None:
            continue
        if gsm in found:
            raise DatasetFormatError(
                f"{gsm} is present twice: {found[gsm].describe()} and {source.describe()}; "
                "keep one"
            )
        found[gsm] = source
    if not found:
        raise GeoFileNotFoundError(
            f"{path} holds none of the GSE65525 sample files ({expected}). Download them from "
            f"{where} and place them there."
        )
    if days is not None:
        wanted = {int(d) for d in days}
        have = {known[g][1] for g in found}
        missing = sorted(wanted - have)
        if missing:
            names = [f for f, d in known.values() if d in missing]
            raise GeoFileNotFoundError(
                f"{path}: no file for day(s) {missing} (expected {', '.join(names)}); download "
                f"from {where}"
            )
        found = {g: s for g, s in found.items() if known[g][1] in wanted}

    files = _LocalFiles()
    blocks, obs_parts, genes = [], [], None
    for gsm in sorted(found, key=lambda g: (known[g][1], g)):
        source = found[gsm]
        day = known[gsm][1]
        files.local(source.path, _geo_series_url(gsm), member=source.member)
        table = _read_genes_by_cells(source, header=False)
        if genes is None:
            genes = table.genes
        elif not genes.equals(table.genes):
            raise DatasetFormatError(
                f"{source.describe()}: its {len(table.genes)} genes differ from the "
                f"{len(genes)} genes of the first file read (GSE65525 files share one gene list)"
            )
        n = table.values.shape[1]
        obs_parts.append(
            pd.DataFrame(
                {"day": np.full(n, day, dtype=np.int64), "sample": gsm},
                index=[f"{gsm}_{j:04d}" for j in range(1, n + 1)],
            )
        )
        blocks.append(table.values.T)
        logger.debug("%s: %d cells (day %d)", source.name, n, day)
    assert genes is not None
    obs = pd.concat(obs_parts)
    obs["sample"] = pd.Categorical(obs["sample"], categories=list(dict.fromkeys(obs["sample"])))
    var = pd.DataFrame(index=_unique_genes(genes, "GSE65525"))
    adata = _finish(np.vstack(blocks), obs, var, files)
    return _provenance(
        adata,
        name="klein_mesc",
        description="Mouse ES cells (Klein 2015, inDrops) 0, 2, 4, 7 days after LIF "
        "withdrawal; UMI counts; obs 'day', 'sample'.",
        source=where,
        accession="GSE65525",
        citation=_KLEIN_CITATION,
    )
