"""Dense matrices and log-normalised values of count matrices, for the notebooks' helpers.

:func:`dense` makes any matrix (sparse or not) a numpy array; :func:`lognorm` log-normalises
counts through :func:`scmaskgan.scaling.log_normalize`, with the library sizes given or the
matrix's own. Both are importable from :mod:`scmaskgan.analysis` as well.

Neither pandas nor anndata is imported with the module.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from scmaskgan._validation import InputError

__all__ = ["dense", "lognorm"]


def _issparse(m: Any) -> bool:
    import scipy.sparse as sp

    return sp.issparse(m)


def dense(m: Any, dtype: Any = None) -> np.ndarray:
    """A dense numpy array of a matrix, sparse or not.

    Parameters
    ----------
    m
        A scipy sparse matrix, numpy array or anything ``numpy.asarray`` accepts.
    dtype
        ``None`` (default): keep the matrix's dtype (no copy of a dense numpy array). A dtype
        (e.g. ``numpy.float64``): always a new array of that dtype.

    Returns
    -------
    numpy.ndarray
        The values of ``m`` as a dense array.

    Raises
    ------
    InputError
        When ``m`` is ``None``.
    """
    if m is None:
        raise InputError("dense() got None instead of a matrix.")
    out = m.toarray() if _issparse(m) else np.asarray(m)
    return out if dtype is None else out.astype(dtype)


def lognorm(counts: Any, lib: Optional[Any] = None) -> np.ndarray:
    """``log(1 + 1e4 * count / library size)`` of every cell (row); negative values count as 0.

    Parameters
    ----------
    counts
        Cells x genes matrix (dense or sparse; sparse is made dense).
    lib
        Library size of every cell. Give the ORIGINAL library sizes (over all genes) to compare
        several matrices of the same cells: observed entries then keep their value and only the
        filled zeros change. ``None`` (default): each matrix's own row sums (of the values
        clipped at 0); an empty cell gives zeros.

    Returns
    -------
    numpy.ndarray
        The log-normalised values, the shape of ``counts``.

    Raises
    ------
    InputError
        When ``counts`` is not two-dimensional, or ``lib`` does not hold one positive, finite
        value per cell.
    """
    counts = dense(counts)
    if counts.ndim != 2:
        raise InputError(f"lognorm() needs a two-dimensional cells x genes matrix, got shape {counts.shape}.")
    from scmaskgan.scaling import log_normalize

    if lib is None:
        return log_normalize(counts)
    lib = np.asarray(lib)
    if lib.shape != (counts.shape[0],):
        raise InputError(f"lib must hold one library size per cell: shape ({counts.shape[0]},) expected, "
                         f"got {lib.shape}.")
    if not np.issubdtype(lib.dtype, np.number) or not np.all(np.isfinite(lib)) or np.any(lib <= 0):
        raise InputError("lib must hold positive, finite library sizes (a cell without counts has none; "
                         "drop it first).")
    return log_normalize(counts, lib)
