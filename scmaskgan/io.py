"""Reading count matrices and writing imputation results for the command line.

Supported inputs (:func:`read_input`):

- ``.h5ad`` files (read with :func:`anndata.read_h5ad`; sparse stays sparse);
- delimited text: ``.csv``, ``.tsv``, ``.tab``, ``.txt``, each optionally ``.gz``. The first
  column holds row names and the first line column names (a header one field shorter than
  the rows, as R's ``write.csv`` writes it, is accepted). Cells are rows unless
  ``genes_as_rows=True``. The delimiter comes from the extension (``.csv`` comma,
  ``.tsv``/``.tab`` tab) or, for ``.txt``, from the first line;
- 10x Genomics ``mtx`` folders: ``matrix.mtx(.gz)``, ``features.tsv(.gz)`` or ``genes.tsv(.gz)``,
  ``barcodes.tsv(.gz)`` (a path to the ``matrix.mtx`` file itself also works).

Supported outputs (:func:`write_output`): ``.h5ad`` (input counts in ``X``, imputed values in
``layers[key]``, run details in ``uns[key]``) or ``.csv``/``.tsv`` (optionally ``.gz``) holding
the imputed matrix, cells x genes, with cell and gene names. Files are written to a temporary
file in the destination folder and renamed into place, so a failure leaves nothing behind. The
imputation can be streamed in row blocks (``blocks``), so outputs larger than memory are fine.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import logging
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

__all__ = [
    "InputFormatError",
    "OutputExistsError",
    "check_output_path",
    "read_input",
    "read_labels",
    "write_output",
]

logger = logging.getLogger("scmaskgan")

_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".txt": None}
_OUTPUT_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
#: Label text that means "no label" (as pandas and R write a missing value), compared in lower case.
_MISSING_LABELS = {"", "na", "nan", "n/a", "<na>"}


class InputFormatError(ValueError):
    """An input file cannot be read as a count matrix or label list."""


class OutputExistsError(FileExistsError):
    """The output path exists and overwriting was not requested."""


# ---------------------------------------------------------------------------------------
# helpers


def _suffixes(path: Path) -> tuple[str, bool]:
    """Format suffix (lower case) and whether the file is gzip-compressed."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return Path(name).suffix, gz


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


def _exact_float(values: np.ndarray, source: Path) -> np.ndarray:
    """``values`` (float64) as float32 when that holds every value exactly, else as float64, so that no
    observed value moves (a count above 2**24 or a non-integer value that float32 rounds)."""
    single = values.astype(np.float32)
    if np.array_equal(single, values):
        return single
    logger.info("%s: some values are not exact in float32 (counts above 2**24 or many decimals); "
                "they are kept as float64", source)
    return values


# ---------------------------------------------------------------------------------------
# readers


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
    suffix, _ = _suffixes(path)
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
    values = _exact_float(frame.to_numpy(dtype=np.float64), path)
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


class Missing10xPartError(InputFormatError):
    """A 10x mtx folder lacks one of its three files."""


def _find_10x_part(folder: Path, *stems: str) -> list[Path]:
    """Files of a 10x mtx folder, also with a GEO prefix (``GSM..._matrix.mtx.gz``)."""
    hits = []
    for child in sorted(folder.iterdir()):
        lower = child.name.lower()
        if child.is_file() and any(
            lower == s or lower == f"{s}.gz" or lower.endswith((f"_{s}", f"_{s}.gz")) for s in stems
        ):
            hits.append(child)
    return hits


def read_10x_parts(folder: Path) -> tuple[sp.csr_matrix, pd.DataFrame, pd.Index, list[Path]]:
    """Read a 10x mtx folder: (cells x genes CSR, float32 or, where a value needs it, float64, features table, barcodes, the three files).

    The files are ``matrix.mtx``, ``features.tsv`` (or ``genes.tsv``) and ``barcodes.tsv``,
    each optionally gzipped and with a GEO sample prefix (``GSM3022245_matrix.mtx.gz``).
    A missing file raises :class:`Missing10xPartError`; two candidates for one file, or
    shapes that disagree, :class:`InputFormatError`.
    """
    parts = {
        "matrix.mtx(.gz)": _find_10x_part(folder, "matrix.mtx"),
        "features.tsv(.gz) or genes.tsv(.gz)": _find_10x_part(folder, "features.tsv", "genes.tsv"),
        "barcodes.tsv(.gz)": _find_10x_part(folder, "barcodes.tsv"),
    }
    missing = [what for what, hits in parts.items() if not hits]
    if missing:
        raise Missing10xPartError(f"{folder} is not a 10x mtx folder: no {', no '.join(missing)}")
    for what, hits in parts.items():
        if len(hits) > 1:
            raise InputFormatError(
                f"{folder} holds several {what}: {', '.join(h.name for h in hits)}; put one sample's files per folder"
            )
    matrix, features, barcodes = (hits[0] for hits in parts.values())
    opener = gzip.open if matrix.name.endswith(".gz") else open
    with opener(matrix, "rb") as fh:
        try:
            genes_by_cells = scipy.io.mmread(fh)
        except ValueError as exc:
            raise InputFormatError(f"cannot read {matrix} as Matrix Market: {exc}") from exc
    x = sp.csr_matrix(genes_by_cells.T, dtype=np.float64)
    x.data = _exact_float(x.data, matrix)
    feat = pd.read_csv(features, sep="\t", header=None, dtype=str)
    codes = pd.Index(pd.read_csv(barcodes, sep="\t", header=None, dtype=str).iloc[:, 0], dtype=str)
    if x.shape != (len(codes), len(feat)):
        raise InputFormatError(
            f"{folder}: the matrix is {x.shape[1]} genes x {x.shape[0]} cells but there are "
            f"{len(feat)} features and {len(codes)} barcodes"
        )
    return x, feat, codes, [matrix, features, barcodes]


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
    suffix, _ = _suffixes(path)
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


# ---------------------------------------------------------------------------------------
# writers


def check_output_path(path: str | os.PathLike, *, force: bool = False) -> Path:
    """Check, before any work, that an output can be written to ``path``.

    Parameters
    ----------
    path
        Output file: ``.h5ad``, ``.csv``, ``.tsv`` (optionally ``.gz``).
    force
        Allow overwriting an existing file.

    Returns
    -------
    pathlib.Path
        The path.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    InputFormatError
        Unsupported extension, or ``path`` is a folder.
    FileNotFoundError
        The destination folder does not exist.
    PermissionError
        The destination folder is not writable (checked before any work, not when the result is written).
    """
    path = Path(path)
    suffix, gz = _suffixes(path)
    if path.is_dir():
        raise InputFormatError(f"output {path} is a folder; give a file name in it, such as {path / 'imputed.h5ad'}")
    if not (suffix == ".h5ad" and not gz) and suffix not in _OUTPUT_TABLE_SUFFIXES:
        raise InputFormatError(
            f"unsupported output {path}: use .h5ad, .csv, .tsv, .csv.gz or .tsv.gz"
        )
    if path.exists() and not force:
        raise OutputExistsError(f"output {path} exists; pass force=True (--force) to overwrite it")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"output folder {path.parent} is not writable; choose another output path")
    return path


def _h5ad_safe(value: Any) -> Any:
    """Convert a value so that h5ad can store it (lists -> arrays or dicts, None kept)."""
    if isinstance(value, Mapping):
        return {str(k): _h5ad_safe(v) for k, v in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        items = list(value)
        if not items:
            return np.array([], dtype=float)
        if all(isinstance(v, str) for v in items):
            return np.array(items, dtype=object)
        if all(isinstance(v, (bool, np.bool_)) for v in items):
            return np.array(items, dtype=bool)
        if all(v is None or isinstance(v, (int, float, np.number)) for v in items) and not any(
            isinstance(v, (bool, np.bool_)) for v in items
        ):
            return np.array([np.nan if v is None else v for v in items])
        try:
            arr = np.array(items)
        except ValueError:
            arr = None
        if arr is not None and arr.dtype.kind in "biuf":
            return arr
        return {str(i): _h5ad_safe(v) for i, v in enumerate(items)}
    if isinstance(value, np.ndarray) and value.dtype == object:
        return _h5ad_safe(value.tolist())
    if value is None or isinstance(value, (str, bool, int, float, np.generic, np.ndarray)):
        return value
    if isinstance(value, (pd.DataFrame, sp.spmatrix, sp.sparray)):
        return value
    return str(value)


def _temp_path(path: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _row_blocks(matrix: Any, step: int = 1024) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, dense block)`` of a dense or sparse matrix, ``step`` rows at a time."""
    for start in range(0, matrix.shape[0], step):
        block = matrix[start : start + step]
        yield start, start + block.shape[0], block.toarray() if sp.issparse(block) else np.asarray(block)


def _write_table(blocks: Iterable[tuple[int, int, np.ndarray]], adata: ad.AnnData, handle: IO[str],
                 sep: str) -> None:
    for start, stop, block in blocks:
        frame = pd.DataFrame(block, index=adata.obs_names[start:stop], columns=adata.var_names)
        frame.to_csv(handle, sep=sep, header=start == 0, index_label="" if start == 0 else None)


def _stream_h5ad_layer(path: Path, blocks: Iterable[tuple[int, int, np.ndarray]], shape: tuple[int, int],
                       key: str, summary: Callable[[], dict] | None) -> None:
    """Add ``layers[key]`` to an h5ad written by anndata, block by block, then ``uns[key]``; a block given as a
    mapping of layer names to arrays adds each of those layers."""
    import h5py
    from anndata.io import write_elem

    with h5py.File(path, "a") as f:
        layers = f["layers"] if "layers" in f else f.create_group("layers")
        datasets = {}
        filled = 0
        for start, stop, block in blocks:
            named = block if isinstance(block, Mapping) else {key: block}  # several layers at once, or one
            for name, values in named.items():
                if name not in datasets:
                    chunks = (max(1, min(stop - start, 256, shape[0])), max(1, min(shape[1], 4096)))
                    datasets[name] = layers.create_dataset(name, shape=shape, dtype=values.dtype, chunks=chunks)
                    datasets[name].attrs["encoding-type"] = "array"
                    datasets[name].attrs["encoding-version"] = "0.2.0"
            if start != filled:
                raise ValueError(f"row blocks must be consecutive: expected a block at row {filled}, got {start}")
            for name, values in named.items():
                datasets[name][start:stop] = values
            filled = stop
        if filled != shape[0]:
            raise ValueError(f"the row blocks covered {filled} of {shape[0]} rows")
        if summary is not None:
            if "uns" not in f:
                write_elem(f, "uns", {})
            write_elem(f["uns"], key, _h5ad_safe(summary()))


def write_output(
    adata: ad.AnnData,
    path: str | os.PathLike,
    *,
    force: bool = False,
    key: str = "scmaskgan",
    blocks: Iterable[tuple[int, int, np.ndarray]] | None = None,
    summary: Callable[[], dict] | None = None,
) -> Path:
    """Write an imputed AnnData.

    Parameters
    ----------
    adata
        Data with the input in ``X``, the imputation in ``layers[key]`` and run details in
        ``uns[key]``; with ``blocks``, the imputation is not in ``adata`` but streamed.
    blocks
        ``(start, stop, block)`` row blocks of the imputed matrix, in order
        (:meth:`scmaskgan.SCMaskGAN.iter_imputed`): written one at a time, so the dense
        result is never held in memory. ``.h5ad``: ``layers[key]`` is a chunked dense HDF5
        dataset that ``anndata.read_h5ad(path, backed="r")`` opens lazily.
    summary
        Called after the last block; its dict is written to ``uns[key]`` (``.h5ad``; a table
        has no place for it).
    path
        ``.h5ad``: the whole AnnData (``uns`` converted to what h5ad can store).
        ``.csv``/``.tsv`` (optionally ``.gz``): the imputed matrix, cells as rows, genes as
        columns, with names.
    force
        Overwrite an existing file.
    key
        Layer (and ``uns`` entry) holding the imputation.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False (checked before anything is done).
    KeyError
        A table is requested but ``adata.layers`` has no ``key``.
    """
    path = check_output_path(path, force=force)
    suffix, gz = _suffixes(path)
    if blocks is None and suffix != ".h5ad" and key not in adata.layers:
        raise KeyError(f"adata.layers has no {key!r} imputation to write to {path}")
    tmp = _temp_path(path)
    try:
        if suffix == ".h5ad":
            original = adata.uns
            adata.uns = _h5ad_safe(dict(original))
            try:
                adata.write_h5ad(tmp)
            finally:
                adata.uns = original
            if blocks is not None:
                _stream_h5ad_layer(tmp, blocks, adata.shape, key, summary)
        else:
            sep = _OUTPUT_TABLE_SUFFIXES[suffix]
            source = blocks if blocks is not None else _row_blocks(adata.layers[key])
            source = ((a, b, block[key] if isinstance(block, Mapping) else block) for a, b, block in source)
            with (gzip.open(tmp, "wt", newline="") if gz else open(tmp, "w", newline="")) as handle:
                _write_table(source, adata, handle, sep)
            if summary is not None:
                summary()  # a table has no place for it; the caller keeps it
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    logger.info("Wrote %s", path)
    return path
