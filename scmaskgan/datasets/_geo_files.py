"""Finding and reading the files of GEO downloads, for the readers of the paper's data sets.

The paper's data sets that are not in the pinned registry (they are not on GitHub, or too
large) are read from a path the user gives: a file, an archive (``.zip`` or GEO's
``*_RAW.tar``), or a folder holding either. This module holds what those readers share:

- locating the data files at that path (:func:`_scan`, :func:`_one_file`), in folders and in
  zip and tar archives, compressed or not (:class:`_Source`);
- reading a delimited genes x cells table of counts (:func:`_read_genes_by_cells`);
- the provenance every reader stores in ``uns["dataset"]`` (source, accession, citation, and
  per file read its path, its GEO URL and its SHA-256; :class:`_LocalFiles`,
  :func:`_provenance`), like :func:`scmaskgan.datasets.load`;
- :class:`GeoFileNotFoundError`, whose message says where to download a missing file.

The readers themselves, one per data set, are in :mod:`._time_courses` (Chu, Klein),
:mod:`._neuroblastoma` and :mod:`._cellbench_10x`.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import anndata as ad
import numpy as np
import pandas as pd

from ._loaders import DatasetFormatError, _Files
from ._registry import file_sha256

__all__ = ["GeoFileNotFoundError"]

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


def _variants(filename: str) -> set[str]:
    """The file name as GEO serves it, uncompressed, or gzip-compressed instead."""
    stem = re.sub(r"\.(bz2|gz)$", "", filename)
    return {filename, stem, f"{stem}.gz", f"{stem}.bz2"}


def _find_variant(folder: Path, filename: str) -> Path | None:
    for name in sorted(_variants(filename)):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
