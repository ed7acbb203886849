"""Readers for the paper's datasets that a user downloads from GEO by hand.

These files are not in the pinned registry (they are not on GitHub, or too large), so they
are read from a path the user gives: a file, an archive (``.zip`` or GEO's ``*_RAW.tar``),
or a folder holding either. Every reader returns raw counts, cells x genes, as CSR float32
in ``X``, the labels in ``obs`` and the provenance in ``uns["dataset"]`` (source, accession,
citation, and per file read its path, its GEO URL and its SHA-256), like
:func:`scmaskgan.datasets.load`.

=====================================  =====================================================
reader                                  files (as GEO serves them)
=====================================  =====================================================
:func:`read_chu_time_course`            ``GSE75748_sc_time_course_ec.csv.gz`` (GSE75748)
:func:`read_klein_mesc`                 ``GSM1599494_ES_d0_main.csv.bz2``,
                                        ``GSM1599497_ES_d2_LIFminus.csv.bz2``,
                                        ``GSM1599498_ES_d4_LIFminus.csv.bz2``,
                                        ``GSM1599499_ES_d7_LIFminus.csv.bz2`` (GSE65525)
:func:`read_neuroblastoma`              ``GSM57687xx_<sample>_UMI_COUNTS_RAW.{csv,txt}[.gz]``
                                        (GSM5768743-GSM5768752, series GSE192906)
:func:`read_cellbench_10x`              ``sc_10x.count.csv.gz`` + ``sc_10x.metadata.csv.gz``
                                        (sc_mixology), or a 10x mtx folder (GSE111108)
=====================================  =====================================================
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import logging
import lzma
import os
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..io import InputFormatError, Missing10xPartError, find_10x_part, read_10x_parts
from ._loaders import (
    _CELLBENCH_CITATION,
    DatasetFormatError,
    _cellbench_obs,
    _cellbench_var,
    _counts_to_csr,
    _drop_doublets,
    _Files,
    _finish,
    _parse_cellbench,
    _read_cellbench_metadata,
)
from ._registry import file_sha256

__all__ = [
    "NEUROBLASTOMA_TYPES",
    "GeoFileNotFoundError",
    "read_cellbench_10x",
    "read_chu_time_course",
    "read_klein_mesc",
    "read_neuroblastoma",
]

logger = logging.getLogger("scmaskgan")

PathLike = str | os.PathLike


class GeoFileNotFoundError(FileNotFoundError):
    """The file a GEO reader needs is not at the given path; the message says where to get it."""


def _geo_series_url(accession: str) -> str:
    return f"https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc={accession}"


# ---------------------------------------------------------------------------------------
# provenance


class _LocalFiles(_Files):
    """Remember each local file read (path, GEO URL, SHA-256) for ``uns["dataset"]["files"]``.

    Calling it with a registered file name still fetches that file (e.g. the Ensembl-to-symbol
    table used for CellBench), as :class:`~scmaskgan.datasets._loaders._Files` does.
    """

    def local(self, path: Path, url: str, *, member: str | None = None) -> Path:
        key = member or path.name
        entry = {"path": str(path), "url": url, "sha256": file_sha256(path)}
        if member is not None:
            entry["member"] = member
        self.record[key] = entry
        return path


def _provenance(
    adata: ad.AnnData,
    *,
    name: str,
    description: str,
    source: str,
    accession: str,
    citation: str,
) -> ad.AnnData:
    adata.uns["dataset"] = {
        "name": name,
        "description": description,
        "source": source,
        "accession": accession,
        "citation": citation,
        "files": adata.uns.pop("_files"),
    }
    logger.info("Read %s: %d cells x %d genes", name, adata.n_obs, adata.n_vars)
    return adata


# ---------------------------------------------------------------------------------------
# locating files: plain files, folders, zip and tar archives


_OPENERS: dict[str, Callable[..., IO[bytes]]] = {
    ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open,
}


def _open_binary(name: str, raw: PathLike | IO[bytes]) -> IO[bytes]:
    """Binary stream of a file or in-memory content, decompressed by the suffix of ``name``."""
    opener = _OPENERS.get(Path(name).suffix.lower())
    if opener is not None:
        return opener(raw, "rb")
    if isinstance(raw, (str, os.PathLike)):
        return open(raw, "rb")
    return raw


@dataclass(frozen=True)
class _Source:
    """One data file: on disk, or a member of a zip/tar archive on disk."""

    name: str  # base name of the data file, e.g. GSM1599494_ES_d0_main.csv.bz2
    path: Path  # the file on disk (the archive for members)
    member: str | None = None  # path inside the archive

    def open(self) -> IO[bytes]:
        """A fresh binary stream of the (decompressed) content."""
        if self.member is None:
            return _open_binary(self.name, self.path)
        if zipfile.is_zipfile(self.path):
            with zipfile.ZipFile(self.path) as zf:
                data = zf.read(self.member)
        else:
            with tarfile.open(self.path) as tf:
                handle = tf.extractfile(self.member)
                if handle is None:
                    raise DatasetFormatError(f"{self.path}: member {self.member} is not a file")
                data = handle.read()
        return _open_binary(self.name, io.BytesIO(data))

    def describe(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)


_ARCHIVE = re.compile(r"\.(zip|tar)$", re.IGNORECASE)


def _archive_members(path: Path) -> list[tuple[str, str]]:
    """(base name, member path) of the regular files in a zip or tar archive."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                names = [i.filename for i in zf.infolist() if not i.is_dir()]
        else:
            with tarfile.open(path) as tf:
                names = [m.name for m in tf.getmembers() if m.isfile()]
    except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
        raise DatasetFormatError(f"cannot read the archive {path}: {exc}") from exc
    return [(Path(n).name, n) for n in names]


def _scan(path: Path) -> list[_Source]:
    """Every data file at ``path``: the file itself, an archive's members, or a folder's
    files and the members of the archives in it (not recursive)."""
    if path.is_dir():
        found: list[_Source] = []
        for child in sorted(path.iterdir()):
            if not child.is_file():
                continue
            try:
                found.extend(_scan(child))
            except DatasetFormatError as exc:  # an unreadable archive beside the data
                logger.warning("skipping %s", exc)
        return found
    if _ARCHIVE.search(path.name):
        return [_Source(base, path, member) for base, member in _archive_members(path)]
    return [_Source(path.name, path)]


def _missing_path(path: Path, expected: str, where: str) -> GeoFileNotFoundError:
    return GeoFileNotFoundError(
        f"{path} does not exist. Expected {expected}; download it from {where} and pass "
        f"its path or the folder that holds it."
    )


# ---------------------------------------------------------------------------------------
# reading a genes x cells table


def _split_line(line: bytes, sep: str) -> list[str]:
    text = line.decode("utf-8-sig").rstrip("\r\n")
    fields = next(csv.reader([text], delimiter=sep), [])
    return fields


def _strip_trailing_empty(fields: list[str]) -> list[str]:
    while fields and fields[-1].strip() == "":
        fields = fields[:-1]
    return fields


@dataclass
class _Table:
    values: np.ndarray  # genes x cells, float32
    genes: pd.Index
    cells: pd.Index | None  # None when the file has no header


def _read_genes_by_cells(source: _Source, *, header: bool) -> _Table:
    """Read a delimited genes x cells table, first column gene names.

    The delimiter (tab or comma) is taken from the first data line. With ``header``, the
    first line names the cells and may or may not name the gene column: with one name fewer
    than each row has fields (R ``write.csv(row.names=TRUE)`` without a corner name, or
    GSM576874x's header with its trailing comma), every name is a cell; with as many names,
    the first one names the gene column. Trailing empty fields (trailing delimiters) and CRLF
    line ends are ignored.
    """
    with source.open() as fh:
        first = fh.readline()
        second = fh.readline() if header else first
    if not first.strip():
        raise DatasetFormatError(f"{source.describe()} is empty")
    if not second.strip():
        raise DatasetFormatError(f"{source.describe()} has a header but no data lines")
    data_text = second.decode("utf-8-sig", errors="replace")
    sep = "\t" if "\t" in data_text else ","
    raw_row = _split_line(second, sep)
    row = _strip_trailing_empty(raw_row)
    n_fields = len(row)
    # Rows ending with a delimiter have empty last fields: read only the first n_fields. Else
    # read all, so that pandas reports a row with more fields than the first one.
    usecols = range(n_fields) if len(raw_row) > n_fields else None
    if n_fields < 2:
        raise DatasetFormatError(
            f"{source.describe()}: the first data line has {n_fields} field(s); expected a gene "
            f"name followed by one value per cell, separated by tabs or commas"
        )
    cells: pd.Index | None = None
    if header:
        names = _strip_trailing_empty(_split_line(first, sep))
        if len(names) == n_fields - 1:
            cells = pd.Index(names, dtype=str)
        elif len(names) == n_fields:
            cells = pd.Index(names[1:], dtype=str)
        else:
            raise DatasetFormatError(
                f"{source.describe()}: the header has {len(names)} names but the first data "
                f"line has {n_fields} fields (a gene name and {n_fields - 1} values)"
            )
    dtype: dict[int, type] = {0: str}
    dtype.update({i: np.float32 for i in range(1, n_fields)})
    with source.open() as fh:
        try:
            frame = pd.read_csv(
                fh,
                sep=sep,
                header=None,
                skiprows=1 if header else 0,
                index_col=0,
                usecols=usecols,
                dtype=dtype,
                engine="c",
            )
        except (ValueError, pd.errors.ParserError) as exc:
            raise DatasetFormatError(
                f"cannot read {source.describe()} as a genes x cells table of numbers: {exc}"
            ) from exc
    values = frame.to_numpy(dtype=np.float32)
    if np.isnan(values).any():
        gene, cell = np.argwhere(np.isnan(values))[0]
        raise DatasetFormatError(
            f"{source.describe()}: missing value at gene {frame.index[gene]!r}, value column "
            f"{cell + 1} (a row has fewer fields than the first one?)"
        )
    if (values < 0).any():
        raise DatasetFormatError(f"{source.describe()}: negative values are not counts")
    genes = pd.Index(frame.index.astype(str), dtype=str)
    return _Table(values=values, genes=genes, cells=cells)


def _unique_genes(genes: pd.Index, what: str) -> pd.Index:
    if genes.is_unique:
        return genes
    logger.warning("%s: %d duplicate gene names were made unique", what, genes.duplicated().sum())
    return pd.Index(ad.utils.make_index_unique(genes), dtype=str)


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


def _one_file(path: PathLike, names: Sequence[str], expected: str, where: str) -> _Source:
    """The single data file at ``path`` (a file, or a folder/archive holding one of ``names``)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise _missing_path(path, expected, where)
    if path.is_file() and not _ARCHIVE.search(path.name):
        return _Source(path.name, path)
    found = [s for s in _scan(path) if s.name in names]
    if not found:
        raise GeoFileNotFoundError(
            f"{path} holds no {expected}. Download it from {where} and place it there "
            f"(or pass the file's path)."
        )
    if len(found) > 1:
        raise DatasetFormatError(
            f"{path} holds {len(found)} copies of {expected}: "
            f"{', '.join(s.describe() for s in found)}; pass the path of one of them"
        )
    return found[0]


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


def _variants(filename: str) -> set[str]:
    """The file name as GEO serves it, uncompressed, or gzip-compressed instead."""
    stem = re.sub(r"\.(bz2|gz)$", "", filename)
    return {filename, stem, f"{stem}.gz", f"{stem}.bz2"}


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


# ---------------------------------------------------------------------------------------
# CellBench 10x, 3 cell lines (Tian et al. 2019, GSE111108)

_CB10X_COUNT = "sc_10x.count.csv.gz"
_CB10X_META = "sc_10x.metadata.csv.gz"
_CB10X_REPO = "https://github.com/LuyiTian/sc_mixology/tree/master/data/csv"


def _find_variant(folder: Path, filename: str) -> Path | None:
    for name in sorted(_variants(filename)):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


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

