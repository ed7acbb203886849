"""Checks on user input: count matrices, labels and parameters.

Every check raises :class:`InputError` (a ``ValueError``) with a message that
says what is wrong and what to do, before any expensive work starts.
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["InputError", "check_counts", "check_labels", "check_param", "available_memory", "check_dense_output"]


class InputError(ValueError):
    """Raised for input that scmaskgan cannot impute as it is."""


def _values(X: np.ndarray | sp.spmatrix) -> np.ndarray:
    return X.data if sp.issparse(X) else np.asarray(X)


#: What to do about non-integer input, by whether the method also takes normalised values.
NON_INTEGER_ADVICE = {
    True: "pass normalized=True (CLI: --normalized) for already-normalised data.",
    False: "the count model learns a count law and needs the raw counts: pass the layer that holds them "
           "(layer=..., CLI: --layer), or use mode='neighbours' with normalized=True for normalised data.",
}


def check_counts(X: Any, *, normalized: bool = False, what: str = "the input matrix",
                 takes_normalized: bool = True) -> np.ndarray | sp.csr_matrix:
    """Validate a cells x genes matrix and return it as float32 (CSR if sparse).

    Parameters
    ----------
    X
        Dense array or scipy sparse matrix, cells as rows.
    normalized
        ``False`` (default) requires non-negative integer counts. ``True``
        accepts any non-negative finite values (already normalised data).
    what
        How to name the matrix in error messages.

    Raises
    ------
    InputError
        For non-numeric, empty, NaN/inf, negative or (when ``normalized`` is
        false) non-integer values.
    takes_normalized
        Whether the method also takes normalised values; the message about non-integer values says
        what to do accordingly (:data:`NON_INTEGER_ADVICE`).
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X)
    else:
        X = np.asarray(X)
    if X.ndim != 2:
        raise InputError(f"{what} must be two-dimensional (cells x genes), got shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"{what} is empty (shape {X.shape}).")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise InputError(
            f"{what} holds non-numeric values (dtype {X.dtype}); "
            "give a numeric count matrix (check the file's header and row names)."
        )
    values = _values(X)
    if np.issubdtype(values.dtype, np.complexfloating):
        raise InputError(f"{what} holds complex numbers; give real counts.")
    finite = np.isfinite(values)
    if not finite.all():
        n_bad = int((~finite).sum())
        raise InputError(f"{what} holds {n_bad} NaN or infinite value(s); remove or replace them first.")
    if values.size and values.min() < 0:
        n_neg = int((values < 0).sum())
        raise InputError(
            f"{what} holds {n_neg} negative value(s) (minimum {values.min():g}); "
            "scmaskgan expects raw counts or non-negative normalised values."
        )
    if not normalized and values.size and not np.array_equal(values, np.round(values)):
        n_frac = int((values != np.round(values)).sum())
        raise InputError(
            f"{what} holds {n_frac} non-integer value(s) but raw counts were expected; "
            + NON_INTEGER_ADVICE[takes_normalized]
        )
    with np.errstate(over="ignore"):  # beyond float32: inf, capped or refused by read_cells
        out = X.astype(np.float32, copy=False)
    if sp.issparse(out):
        out.eliminate_zeros()
    return out


def check_labels(labels: Any, n_cells: int, *, what: str = "labels",
                 clusters: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Validate per-cell labels; return (codes, categories).

    ``clusters`` says whether the method clusters the cells when no labels are given (the message
    about a single label says what leaving them out does).

    Raises
    ------
    InputError
        When the length is wrong, a label is missing, or there is one class only.
    """
    import pandas as pd

    labels = pd.Series(np.asarray(labels, dtype=object))
    if len(labels) != n_cells:
        raise InputError(f"{what} has {len(labels)} entries but the data has {n_cells} cells.")
    missing = labels.isna()
    if missing.any():
        raise InputError(f"{what} is missing for {int(missing.sum())} cell(s); give every cell a label.")
    cat = pd.Categorical(labels.astype(str))
    if len(cat.categories) < 2:
        instead = ("to cluster the cells instead" if clusters else
                   "instead: the count model then conditions on no label, which is what one label for every cell means")
        raise InputError(
            f"{what} has a single class ({cat.categories[0]!r}); labels that tell cells apart need at least "
            f"two. Leave the labels out (labels_key=None; command line: no --labels-key or --labels-file) {instead}."
        )
    return np.asarray(cat.codes, dtype=np.int64), np.asarray(cat.categories, dtype=object)


def check_param(name: str, value: Any, kind: type | tuple, *, low: float | None = None,
                high: float | None = None, choices: tuple | None = None,
                allow_none: bool = False, low_inclusive: bool = True) -> Any:
    """Validate one constructor parameter (MAGIC-style, at construction time)."""
    if value is None:
        if allow_none:
            return value
        raise InputError(f"{name} must not be None.")
    if choices is not None:
        if value not in choices:
            raise InputError(f"{name} must be one of {choices}, got {value!r}.")
        return value
    if kind is int:
        ok = isinstance(value, Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, Real) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise InputError(f"{name} must be {getattr(kind, '__name__', kind)}, got {value!r}.")
    if isinstance(value, Real) and not isinstance(value, bool):
        if not isinstance(value, Integral) and not np.isfinite(value):  # an int of any size is finite
            raise InputError(f"{name} must be finite, got {value!r}.")
        if low is not None and (value < low or (value == low and not low_inclusive)):
            op = ">=" if low_inclusive else ">"
            raise InputError(f"{name} must be {op} {low}, got {value!r}.")
        if high is not None and value > high:
            raise InputError(f"{name} must be <= {high}, got {value!r}.")
    return value


def available_memory(meminfo: str | Path = "/proc/meminfo", cgroup: str | Path = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory that new allocations can take without swapping: Linux ``MemAvailable``,
    or less where a container's memory limit (cgroup v2) leaves less; ``None`` where the system
    does not say."""
    found = []
    try:
        with open(meminfo) as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = (Path(cgroup) / "memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int((Path(cgroup) / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


#: What to do when the imputed layers cannot fit in memory: write them to disk block by block.
TO_DISK_ADVICE = ("Write the result to disk block by block instead: scmaskgan.pp.impute(adata, ..., out_file='imputed.h5ad'), "
                  "SCMaskGAN.iter_imputed() or iter_answers(), or the command line (scmaskgan impute in.h5ad -o out.h5ad).")


def check_dense_output(n_cells: int, n_genes: int, dtype: np.dtype, *, n_matrices: int = 1,
                       what: str = "the imputed matrix", advice: str = TO_DISK_ADVICE) -> None:
    """Refuse, before any work, ``n_matrices`` dense cells x genes matrices larger than the memory available.

    The imputed matrix is dense (every zero may get a value); where the matrices cannot fit, the
    message says what they are (``what``) and what to do (``advice``: by default, the ways that write
    them to disk block by block).
    """
    need = int(n_matrices) * int(n_cells) * int(n_genes) * np.dtype(dtype).itemsize
    available = available_memory()
    if available is not None and need > available:
        shape = f"{n_cells:,} cells x {n_genes:,} genes" + (f", {n_matrices} of them" if n_matrices > 1 else "")
        raise InputError(
            f"{what} would take {need / 2**30:.1f} GiB in memory ({shape}, dense {np.dtype(dtype).name}) and "
            f"{available / 2**30:.1f} GiB are available. {advice}")
