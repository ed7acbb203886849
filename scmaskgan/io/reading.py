"""Reading count matrices (h5ad, delimited text, 10x ``mtx`` folders) and cell labels.

Supported inputs (:func:`read_input`):

- ``.h5ad`` files (read with :func:`anndata.read_h5ad`; sparse stays sparse);
- delimited text: ``.csv``, ``.tsv``, ``.tab``, ``.txt``, each optionally ``.gz``. The first
  column holds row names and the first line column names (a header one field shorter than
  the rows, as R's ``write.csv`` writes it, is accepted). Cells are rows unless
  ``genes_as_rows=True``. The delimiter comes from the extension (``.csv`` comma,
  ``.tsv``/``.tab`` tab) or, for ``.txt``, from the first line;
- 10x Genomics ``mtx`` folders: ``matrix.mtx(.gz)``, ``features.tsv(.gz)`` or ``genes.tsv(.gz)``,
  ``barcodes.tsv(.gz)`` (a path to the ``matrix.mtx`` file itself also works), read by
  :func:`scmaskgan.io.tenx.read_10x_parts`.

Labels, one per cell, come from a text or CSV file (:func:`read_labels`).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import logging
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import anndata as ad
import numpy as np
import pandas as pd

from .formats import InputFormatError, exact_float, format_suffix
from .tenx import read_10x_parts

__all__ = ["read_input", "read_labels"]

logger = logging.getLogger("scmaskgan")

_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
#: Label text that means "no label" (as pandas and R write a missing value), compared in lower case.
_MISSING_LABELS = {"", "na", "nan", "n/a", "<na>"}


def _open_text(path: Path) -> IO[str]:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", newline="")
    return open(path, newline="")


@contextlib.contextmanager
def _gzip_errors(path: Path) -> Iterator[None]:
    """Turn the errors of a damaged ``.gz`` file (truncated, or not gzip at all) into one line naming ``path``."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        what = "the gzip data end early (a truncated file)" if isinstance(exc, EOFError) else "the data are not gzip"
        raise InputFormatError(f"cannot read {path}: {what} ({exc})") from exc


def _sniff_delimiter(path: Path) -> str:
    with _open_text(path) as fh:
        first = fh.readline()
    counts = {d: first.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        if len(first.split()) > 1:
            return r"\s+"
        raise InputFormatError(
            f"cannot tell the delimiter of {path}: its first line has no tab, comma or semicolon"
        )
    return best


def _first_non_numeric(frame: pd.DataFrame) -> tuple[Any, Any, Any] | None:
    """(row name, column name, value) of the first cell that is not a number."""
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series.dtype):
            continue
        coerced = pd.to_numeric(series, errors="coerce")
        bad = coerced.isna() & series.notna()
        if bad.any():
            row = bad.to_numpy().nonzero()[0][0]
            return frame.index[row], col, series.iloc[row]
    return None


def _make_unique(adata: ad.AnnData, source: Path) -> None:
    if not adata.obs_names.is_unique:
        logger.warning("%s: duplicate cell names were made unique", source)
        adata.obs_names_make_unique()
    if not adata.var_names.is_unique:
        logger.warning("%s: duplicate gene names were made unique", source)
        adata.var_names_make_unique()


#: Names that only genes have: Ensembl ids, ERCC spike-ins, mitochondrial and ribosomal protein genes.
_GENE_NAME = re.compile(r"ENS[A-Z]*G\d{6,}(\.\d+)?|ERCC-\d+|(MT|mt|Mt)-\w+|R[Pp][LlSs]\d+[A-Za-z]?\d*")
#: Names that only cells have: barcodes (with a sample prefix or a -1 suffix), GEO sample ids, "cell" in the name.
_CELL_NAME = re.compile(r"(.*[_:.-])?[ACGTN]{8,}(-\d+)?|GSM\d+.*|.*cell.*", re.IGNORECASE)
_GENE_HEADER = re.compile(r"(gene|genes|gene_?id|gene_?name|gene_?symbol|symbol|feature|features|ensembl.*)",
                          re.IGNORECASE)
_CELL_HEADER = re.compile(r"(cell|cells|cell_?id|cell_?name|barcode|barcodes)", re.IGNORECASE)


def _share(names: pd.Index, pattern: re.Pattern, limit: int = 2000) -> tuple[int, float]:
    """How many of (up to ``limit`` of) ``names`` match ``pattern`` in full, and which share of them."""
    sample = [str(n) for n in names[:limit]]
    hits = sum(bool(pattern.fullmatch(n)) for n in sample)
    return hits, hits / max(len(sample), 1)


def _orientation_doubt(cells: pd.Index, genes: pd.Index, row_header: str, rows_hold_cells: bool) -> str | None:
    """Why the cells look like genes (or the genes like cells), or ``None`` when nothing says so."""
    rows_are = "genes" if _GENE_HEADER.fullmatch(row_header) else "cells" if _CELL_HEADER.fullmatch(row_header) else None
    if rows_are is not None and (rows_are == "cells") != rows_hold_cells:
        return f"the first column is headed {row_header!r}"
    genes_in_cells, _ = _share(cells, _GENE_NAME)
    genes_in_genes, _ = _share(genes, _GENE_NAME)
    if genes_in_cells >= 2 and genes_in_cells > genes_in_genes:
        example = next(str(n) for n in cells if _GENE_NAME.fullmatch(str(n)))
        return f"{genes_in_cells} of {min(len(cells), 2000)} cell names checked look like gene names (such as {example!r})"
    _, cell_share_genes = _share(genes, _CELL_NAME)
    _, cell_share_cells = _share(cells, _CELL_NAME)
    if cell_share_genes >= 0.5 and cell_share_cells < 0.5:
        return f"the gene names look like cell names (such as {str(genes[0])!r})"
    return None


def _header_duplicates(path: Path, sep: str, engine: str, n_columns: int) -> list[str]:
    """Names that the first line of a table holds more than once (pandas renames them ``name.1``, ...)."""
    try:
        header = pd.read_csv(path, sep=sep, engine=engine, header=None, nrows=1, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return []
    names = pd.Series(header.iloc[0].to_numpy()[-n_columns:])
    return sorted(set(names[names.duplicated()]))


def _read_table(path: Path, genes_as_rows: bool, numeric_row_names: bool = False) -> ad.AnnData:
    suffix, _ = format_suffix(path)
    sep = _TABLE_SUFFIXES[suffix] or _sniff_delimiter(path)
    engine = "python" if sep == r"\s+" else "c"
    try:
        frame = pd.read_csv(path, sep=sep, index_col=0, engine=engine)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"cannot read {path} as a delimited table: {exc}") from exc
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise InputFormatError(
            f"{path} has no values: found {frame.shape[0]} rows and {frame.shape[1]} value "
            f"columns (is the delimiter {sep!r} right?)"
        )
    bad = _first_non_numeric(frame)
    if bad is not None:
        row, col, value = bad
        raise InputFormatError(
            f"{path} has a non-numeric value {value!r} at row {row!r}, column {col!r}; "
            "the first column must hold row names, the first line column names, and all "
            "other cells numbers"
        )
    index = frame.index
    row_numbers = pd.api.types.is_integer_dtype(index.dtype) and len(index) > 1 and (
        index.equals(pd.RangeIndex(len(index))) or index.equals(pd.RangeIndex(1, len(index) + 1)))
    if row_numbers:
        logger.warning(
            "%s: the first column (taken as row names) holds the numbers %d..%d; if it is data, "
            "add a column of row names",
            path, index[0], index[-1],
        )
    elif pd.api.types.is_numeric_dtype(index.dtype) and not numeric_row_names and not index.is_unique:
        raise InputFormatError(
            f"{path}: the first column, read as row names, holds numbers that repeat like counts "
            f"({', '.join(f'{v:g}' for v in index[:5])}, ...): the file seems to have no column of row names. "
            "Add one, or pass --numeric-row-names (Python: numeric_row_names=True) if these numbers are the names"
        )
    duplicates = _header_duplicates(path, sep, engine, frame.shape[1])
    if duplicates:
        logger.warning("%s: %d %s name(s) appear more than once in the first line (such as %r); pandas made them "
                       "unique with '.1', '.2', ...", path, len(duplicates), "cell" if genes_as_rows else "gene",
                       duplicates[0])
    values = exact_float(frame.to_numpy(dtype=np.float64), path)
    rows = frame.index.astype(str)
    cols = frame.columns.astype(str)
    if genes_as_rows:
        values, rows, cols = values.T, cols, rows
    doubt = _orientation_doubt(pd.Index(rows), pd.Index(cols), str(frame.index.name or ""), not genes_as_rows)
    if doubt is not None:
        flag = ("drop --genes-as-rows (Python: genes_as_rows=False)" if genes_as_rows
                else "pass --genes-as-rows (Python: genes_as_rows=True)")
        logger.warning("%s: read as %d cells x %d genes, but %s; if the genes are the %s, %s",
                       path, len(rows), len(cols), doubt, "columns" if genes_as_rows else "rows", flag)
    adata = ad.AnnData(
        X=np.ascontiguousarray(values),
        obs=pd.DataFrame(index=pd.Index(rows, name=None)),
        var=pd.DataFrame(index=pd.Index(cols, name=None)),
    )
    return adata


def _read_10x_mtx(folder: Path) -> ad.AnnData:
    x, feat, codes, _ = read_10x_parts(folder)
    var = pd.DataFrame(index=pd.Index(feat.iloc[:, 0].to_numpy(), dtype=str))
    var["gene_ids"] = feat.iloc[:, 0].to_numpy()
    if feat.shape[1] > 1:
        # As scanpy.read_10x_mtx does: gene symbols as names, ids in var["gene_ids"].
        var.index = pd.Index(feat.iloc[:, 1].to_numpy(), dtype=str)
    if feat.shape[1] > 2:
        var["feature_types"] = feat.iloc[:, 2].to_numpy()
    var.index.name = None
    obs = pd.DataFrame(index=codes.rename(None))  # an index named 0 cannot be written to h5ad
    return ad.AnnData(X=x, obs=obs, var=var)


def read_labels(path: str | os.PathLike, obs_names: pd.Index, *, key: str | None = None) -> pd.Series:
    """Read one label per cell from a text or CSV file.

    Accepted layouts (blank lines at the end are ignored):

    - one label per line, ``n_cells`` lines, or ``n_cells + 1`` lines of which the first
      is a header;
    - a delimited (comma or tab) table, with or without a header line. With one column it is
      the labels in cell order; with two or more the first column must hold the cell names
      (any order) and the labels are the column named ``key`` or, failing that, the second.

    Parameters
    ----------
    path
        The labels file.
    obs_names
        Cell names of the matrix the labels belong to.
    key
        Column to take the labels from in a table with a header.

    Returns
    -------
    pandas.Series
        Categorical labels indexed by ``obs_names``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file {path} does not exist")
    with _gzip_errors(path), _open_text(path) as fh:
        lines = fh.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    first = lines[0] if lines else ""
    sep = "\t" if "\t" in first else ("," if "," in first else None)
    rows = [next(csv.reader([line], delimiter=sep)) if sep else [line] for line in lines]
    rows = [[field.strip() for field in row] for row in rows]
    n_cells = len(obs_names)
    header: list[str] | None = None
    if len(rows) == n_cells + 1:
        header, rows = rows[0], rows[1:]
        logger.info("%s: treating the first line %r as a header", path, lines[0])
    elif len(rows) != n_cells:
        raise InputFormatError(
            f"labels file {path} has {len(rows)} labels (lines) but the input has "
            f"{n_cells} cells"
        )
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise InputFormatError(f"labels file {path} has rows of different lengths {sorted(widths)}")
    width = widths.pop()
    if width == 1:
        labels = pd.Series([row[0] for row in rows], index=obs_names)
    else:
        names = [row[0] for row in rows]
        if set(names) != set(obs_names.astype(str)) or len(set(names)) != len(names):
            raise InputFormatError(
                f"labels file {path} has {width} columns, so its first column must hold the "
                f"cell names of the input, but it does not (first entries: {names[:3]})"
            )
        column = 1
        if header is not None and key is not None and key in header:
            column = header.index(key)
        labels = pd.Series([row[column] for row in rows], index=names).reindex(obs_names.astype(str))
        labels.index = obs_names
    missing = labels.isna() | labels.astype(str).str.strip().str.lower().isin(_MISSING_LABELS)
    if missing.any():
        first = labels.index[missing.to_numpy()][0]
        raise InputFormatError(
            f"labels file {path}: the label is missing (empty, NA or nan) for {int(missing.sum())} cell(s), the "
            f"first {first!r}; give every cell a label"
        )
    return labels.astype("category")


def read_input(
    path: str | os.PathLike,
    *,
    genes_as_rows: bool | None = None,
    labels_file: str | os.PathLike | None = None,
    labels_key: str | None = None,
    numeric_row_names: bool = False,
) -> ad.AnnData:
    """Read a count matrix (and optional labels) as an AnnData, cells x genes.

    Parameters
    ----------
    path
        An ``.h5ad`` file, a delimited text file (``.csv``, ``.tsv``, ``.tab``, ``.txt``,
        optionally gzipped), or a 10x ``mtx`` folder (or its ``matrix.mtx(.gz)`` file).
    genes_as_rows
        Orientation of a text table. Default (``None`` or ``False``): cells are rows and genes
        columns. ``True``: genes are rows (as in most published count tables). Only
        meaningful for text input; ``True`` with another format is an error.
    labels_file
        Optional file of cell labels (see :func:`read_labels`), stored as
        ``obs[labels_key]``.
    labels_key
        The ``obs`` column for ``labels_file``; default ``"label"``.
    numeric_row_names
        Accept a text table whose row names are numbers that repeat (by default refused: such a
        first column is usually counts, in a file without row names). A table that looks
        transposed (gene names as cell names, barcodes as gene names, a first column headed
        "gene") or has duplicate names in its first line is read with a warning.

    Returns
    -------
    anndata.AnnData
        Values in ``X`` as float32 (text and 10x input; float64 where float32 cannot hold every value
        exactly) or as stored (h5ad), sparse input stays sparse.

    Raises
    ------
    FileNotFoundError
        ``path`` or ``labels_file`` does not exist.
    InputFormatError
        Unsupported format, non-numeric values, or labels of the wrong length.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input {path} does not exist")
    suffix, _ = format_suffix(path)
    is_table = path.is_file() and suffix in _TABLE_SUFFIXES
    if genes_as_rows and not is_table:
        raise InputFormatError(
            f"genes_as_rows applies to CSV/TSV text input only, not to {path}"
        )
    if path.is_dir():
        with _gzip_errors(path):
            adata = _read_10x_mtx(path)
    elif path.name.lower().endswith(("matrix.mtx", "matrix.mtx.gz")):  # also with a GEO prefix
        with _gzip_errors(path):
            adata = _read_10x_mtx(path.parent)
    elif suffix == ".h5ad":
        try:
            adata = ad.read_h5ad(path)
        except OSError as exc:
            raise InputFormatError(f"cannot read {path} as h5ad: {exc}") from exc
    elif is_table:
        with _gzip_errors(path):
            adata = _read_table(path, bool(genes_as_rows), numeric_row_names)
    else:
        raise InputFormatError(
            f"unsupported input {path}: expected .h5ad, .csv, .tsv, .tab, .txt (optionally .gz) "
            "or a 10x mtx folder"
        )
    _make_unique(adata, path)
    if labels_file is not None:
        key = labels_key or "label"
        adata.obs[key] = read_labels(labels_file, adata.obs_names, key=key).to_numpy()
        adata.obs[key] = adata.obs[key].astype("category")
    logger.info("Read %s: %d cells x %d genes", path, adata.n_obs, adata.n_vars)
    return adata
