"""Writing imputation results: h5ad, or a CSV/TSV table, streamed in row blocks and renamed into place.

Supported outputs (:func:`write_output`): ``.h5ad`` (input counts in ``X``, imputed values in
``layers[key]``, run details in ``uns[key]``) or ``.csv``/``.tsv`` (optionally ``.gz``) holding
the imputed matrix, cells x genes, with cell and gene names. Files are written to a temporary
file in the destination folder and renamed into place, so a failure leaves nothing behind. The
imputation can be streamed in row blocks (``blocks``), so outputs larger than memory are fine.
:func:`check_output_path` checks an output path before any work.
"""

from __future__ import annotations

import gzip
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .formats import InputFormatError, format_suffix

__all__ = ["OutputExistsError", "check_output_path", "write_output"]

logger = logging.getLogger("scmaskgan")

_OUTPUT_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}


class OutputExistsError(FileExistsError):
    """The output path exists and overwriting was not requested."""


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
    suffix, gz = format_suffix(path)
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
    suffix, gz = format_suffix(path)
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
