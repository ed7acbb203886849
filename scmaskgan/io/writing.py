"""Writing imputation results: h5ad, or a CSV/TSV table, streamed in row blocks and renamed into place.

Supported outputs (:func:`write_output`): ``.h5ad`` (input counts in ``X``, imputed values in
``layers[key]``, run details in ``uns[key]``) or ``.csv``/``.tsv`` (optionally ``.gz``) holding
one imputed layer, cells x genes, with cell and gene names: a method that writes several layers
writes one table per layer (:func:`output_files`). Files are written to a temporary file in the
destination folder and renamed into place, so a failure leaves nothing behind. The imputation can
be streamed in row blocks (``blocks``), so outputs larger than memory are fine.
:func:`check_output_path` and :func:`check_output_files` check the output paths before any work.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .formats import InputFormatError, format_suffix

__all__ = ["OutputExistsError", "check_output_files", "check_output_path", "memory_copy", "output_files",
           "write_output"]

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


def output_files(path: str | os.PathLike, *, key: str, layers: Sequence[str]) -> dict[str, Path]:
    """The file each layer goes to: an ``.h5ad`` holds them all; a table holds one, and the layer named
    ``key + suffix`` goes to the file whose name has the same suffix before its extension.

    Parameters
    ----------
    path
        The output as given (``out.csv.gz``): the file of the layer named ``key``.
    key
        The main layer's name; every name of ``layers`` starts with it.
    layers
        The layers written.

    Returns
    -------
    dict
        ``{layer: path}``, e.g. ``{"scmaskgan": out.csv.gz, "scmaskgan_p_detected": out_p_detected.csv.gz}``.
    """
    path = Path(path)
    suffix, gz = format_suffix(path)
    if suffix == ".h5ad" and not gz:
        return {name: path for name in layers}
    cut = len(path.name) - len(suffix) - (3 if gz else 0)  # the extension as written, case kept
    stem, extension = path.name[:cut], path.name[cut:]
    files = {}
    for name in layers:
        if not name.startswith(key):
            raise ValueError(f"layer {name!r} does not start with {key!r}")
        files[name] = path.with_name(stem + name[len(key):] + extension)
    return files


def check_output_files(path: str | os.PathLike, *, key: str, layers: Sequence[str],
                       force: bool = False) -> dict[str, Path]:
    """:func:`check_output_path` for each file of :func:`output_files` (before any work); returns them."""
    check_output_path(path, force=force)  # the format first: output_files needs a known one
    return {name: check_output_path(file, force=force)
            for name, file in output_files(path, key=key, layers=layers).items()}


def memory_copy(adata: ad.AnnData) -> ad.AnnData:
    """An in-memory copy of a backed AnnData (``read_h5ad(path, backed="r")``), its file left as it is:
    ``AnnData.copy()`` needs a file name, ``to_memory()`` closes the file and ``write_h5ad()`` moves the backed
    object onto the file it writes.

    Parameters
    ----------
    adata
        A backed (or in-memory) AnnData.

    Returns
    -------
    anndata.AnnData
        A copy with every matrix in memory.
    """

    def read(matrix: Any) -> Any:
        return matrix.to_memory() if callable(getattr(matrix, "to_memory", None)) else np.asarray(matrix)

    raw = None if adata.raw is None else {"X": read(adata.raw.X), "var": adata.raw.var, "varm": dict(adata.raw.varm)}
    return ad.AnnData(X=read(adata.X), obs=adata.obs, var=adata.var, uns=dict(adata.uns), obsm=dict(adata.obsm),
                      varm=dict(adata.varm), obsp=dict(adata.obsp), varp=dict(adata.varp),
                      layers={name: read(values) for name, values in adata.layers.items()}, raw=raw).copy()


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


def _layer_blocks(adata: ad.AnnData, layers: Sequence[str],
                  step: int = 1024) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
    """``(start, stop, {layer: dense block})`` of ``adata.layers``, ``step`` rows at a time."""
    for start in range(0, adata.n_obs, step):
        stop = min(start + step, adata.n_obs)
        blocks = {}
        for name in layers:
            block = adata.layers[name][start:stop]
            blocks[name] = block.toarray() if sp.issparse(block) else np.asarray(block)
        yield start, stop, blocks


def _write_tables(blocks: Iterable[tuple[int, int, Any]], adata: ad.AnnData, handles: Mapping[str, IO[str]],
                  sep: str, key: str) -> None:
    """Write each layer of the row blocks to its handle; a block that is an array is the layer ``key``."""
    for start, stop, block in blocks:
        named = block if isinstance(block, Mapping) else {key: block}
        for name, handle in handles.items():
            frame = pd.DataFrame(named[name], index=adata.obs_names[start:stop], columns=adata.var_names)
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
    blocks: Iterable[tuple[int, int, Any]] | None = None,
    summary: Callable[[], dict] | None = None,
    layers: Sequence[str] | None = None,
) -> Path:
    """Write an imputed AnnData.

    Parameters
    ----------
    adata
        Data with the input in ``X``, the imputation in ``layers[key]`` and run details in
        ``uns[key]``; with ``blocks``, the imputation is not in ``adata`` but streamed.
    blocks
        ``(start, stop, block)`` row blocks of the imputed matrix, in order
        (:meth:`scmaskgan.SCMaskGAN.iter_imputed`), a block being an array (the layer ``key``) or a
        mapping of layer names to arrays: written one at a time, so the dense result is never held
        in memory. ``.h5ad``: each layer is a chunked dense HDF5 dataset that
        ``anndata.read_h5ad(path, backed="r")`` opens lazily.
    summary
        Called after the last block; its dict is written to ``uns[key]`` (``.h5ad``; a table
        has no place for it).
    path
        ``.h5ad``: the whole AnnData (``uns`` converted to what h5ad can store).
        ``.csv``/``.tsv`` (optionally ``.gz``): the imputed matrix, cells as rows, genes as
        columns, with names; each further layer of ``layers`` goes to a table of its own beside it
        (:func:`output_files`: ``out.csv``, ``out_if_detected.csv``, ...).
    force
        Overwrite existing files.
    key
        Layer (and ``uns`` entry) holding the imputation.
    layers
        The layers a table output writes (each name starting with ``key``); ``None`` writes ``key``
        only. An ``.h5ad`` holds every layer of ``adata`` and of ``blocks``.

    Returns
    -------
    pathlib.Path
        The written path (a table output: the file of the layer ``key``).

    Raises
    ------
    OutputExistsError
        A file to write exists and ``force`` is False (checked before anything is done).
    KeyError
        A table is requested but ``adata.layers`` has no ``key`` (or another of ``layers``).
    """
    path = check_output_path(path, force=force)
    suffix, gz = format_suffix(path)
    layers = (key,) if layers is None else tuple(layers)
    files = check_output_files(path, key=key, layers=layers, force=force)
    if blocks is None and suffix != ".h5ad":
        missing = [name for name in layers if name not in adata.layers]
        if missing:
            raise KeyError(f"adata.layers has no {', '.join(map(repr, missing))} imputation to write to {path}")
    temps: dict[Path, Path] = {}  # final path: its temporary file
    try:
        if suffix == ".h5ad":
            tmp = temps[path] = _temp_path(path)
            # anndata moves a backed AnnData onto the file it writes: a backed one is written from a copy
            target = memory_copy(adata) if getattr(adata, "isbacked", False) else adata
            original = target.uns
            target.uns = _h5ad_safe(dict(original))
            try:
                target.write_h5ad(tmp)
            finally:
                target.uns = original
            if blocks is not None:
                _stream_h5ad_layer(tmp, blocks, adata.shape, key, summary)
        else:
            for file in files.values():
                temps[file] = _temp_path(file)
            source = blocks if blocks is not None else _layer_blocks(adata, layers)
            with contextlib.ExitStack() as stack:
                handles = {name: stack.enter_context(gzip.open(temps[file], "wt", newline="") if gz else
                                                     open(temps[file], "w", newline=""))
                           for name, file in files.items()}
                _write_tables(source, adata, handles, _OUTPUT_TABLE_SUFFIXES[suffix], key)
            if summary is not None:
                summary()  # a table has no place for it; the caller keeps it
        umask = os.umask(0)
        os.umask(umask)
        for final, tmp in temps.items():
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, final)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    for final in temps:
        logger.info("Wrote %s", final)
    return path
