"""Map counts to the generator's [0, 1] range and back, exactly.

Counts ``x`` of a cell with library size ``l`` (its total count) become
``v = log1p(x / l * target_sum) / max_value`` where ``max_value`` is the
largest log-normalised value of the training data, so every observed value
lies in (0, 1] like the generator's sigmoid output. The inverse
``x = expm1(v * max_value) * l / target_sum`` brings imputed values back to
the count scale of the same cell. Already-normalised input
(``normalized=True``) is only divided by its maximum.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Scaler", "library_sizes", "log_normalize"]


@dataclass
class Scaler:
    """Per-cell normalisation to [0, 1] and its exact inverse.

    Attributes
    ----------
    target_sum
        Counts per cell after library-size normalisation (ignored when ``log`` is false).
    max_value
        Divisor that brings the largest training value to 1.
    log
        ``True`` for raw counts (library size + log1p); ``False`` for
        already-normalised input (only divided by ``max_value``).
    """

    target_sum: float = 1e4
    max_value: float = 1.0
    log: bool = True

    @classmethod
    def fit(cls, X: np.ndarray | sp.csr_matrix, *, normalized: bool = False, target_sum: float = 1e4) -> "Scaler":
        """Learn ``max_value`` from a cells x genes matrix."""
        scaler = cls(target_sum=float(target_sum), max_value=1.0, log=not normalized)
        lib = library_sizes(X)
        if sp.issparse(X):
            rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
            values = scaler._forward(X.data, lib[rows])
        else:
            values = scaler._forward(X, lib[:, None])
        top = float(values.max()) if values.size else 0.0
        scaler.max_value = top if top > 0 else 1.0
        return scaler

    def _forward(self, x: np.ndarray, lib: np.ndarray) -> np.ndarray:
        if not self.log:
            return np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(lib > 0, x / np.where(lib > 0, lib, 1.0) * self.target_sum, 0.0)
        return np.log1p(scaled)

    def transform(self, X: np.ndarray | sp.spmatrix, lib: np.ndarray) -> np.ndarray:
        """Block of counts (cells x genes, dense or sparse) -> dense float32 values in [0, 1].

        A sparse block is transformed on its stored entries only (zeros stay 0), then made dense.
        """
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
            data = (self._forward(np.asarray(X.data, dtype=np.float64), lib[rows]) / self.max_value).astype(np.float32)
            return sp.csr_matrix((data, X.indices, X.indptr), shape=X.shape).toarray()
        return (self._forward(np.asarray(X, dtype=np.float64), lib[:, None]) / self.max_value).astype(np.float32)

    def inverse(self, V: np.ndarray, lib: np.ndarray) -> np.ndarray:
        """Values in [0, 1] of cells with library sizes ``lib`` -> input scale (float64)."""
        V = np.asarray(V, dtype=np.float64) * self.max_value
        if not self.log:
            return V
        return np.expm1(V) * (lib[:, None] / self.target_sum)

    def to_dict(self) -> dict:
        return asdict(self)


def library_sizes(X: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Total count of each cell (row) as float64."""
    return np.asarray(X.sum(axis=1), dtype=np.float64).ravel()


def log_normalize(counts: np.ndarray | sp.spmatrix, lib: np.ndarray | None = None, *, target_sum: float = 1e4,
                  log: bool = True, multiply: bool = False) -> np.ndarray:
    """``log1p(max(count, 0) / lib * target_sum)``: the package's one log-normalisation (log1p CP10k).

    The held-out protocols, the metrics, the baselines and the notebooks' helper
    (:func:`scmaskgan.matrices.lognorm`) all normalise through this function, so that one
    definition holds everywhere. (The model's own [0, 1] scale is :class:`Scaler`.)

    Parameters
    ----------
    counts
        Cells x genes values, dense or ``scipy.sparse`` (made dense), or a 1-D array of values
        with one library size each in ``lib``. Negative values count as 0.
    lib
        Library size of every cell: shape ``(n_cells,)`` for a cells x genes matrix, or any
        shape that broadcasts against ``counts`` (e.g. ``(n_cells, 1)``, or one per value of a
        1-D ``counts``). ``None``: each cell's own total of the values clipped at 0.
    target_sum
        Counts per cell after normalisation (1e4: CP10k).
    log
        ``False``: the normalised values without ``log1p``.
    multiply
        ``False`` (default): ``value / lib * target_sum``. ``True``: ``value * (target_sum / lib)``,
        one division per cell, for a matrix normalised a block of genes at a time; the two
        orders can differ in the last bit of a value, and each caller keeps the order its
        published numbers were computed with.

    Returns
    -------
    numpy.ndarray
        A new array of the broadcast shape (float64 for integer or float64 input, float32
        for float32 values and library sizes), in the memory order of ``counts``; a cell whose
        library size is 0 (or, with ``lib=None``, whose values are all 0) gives 0.

    Raises
    ------
    InputError
        ``lib=None`` with values that are not a 2-D matrix, or a ``lib`` whose shape does not
        fit ``counts``.
    """
    from ._validation import InputError

    values = np.clip(counts.toarray() if sp.issparse(counts) else np.asarray(counts), 0, None)
    if lib is None:
        if values.ndim != 2:
            raise InputError(f"log_normalize() without lib needs a cells x genes matrix, got shape {values.shape}.")
        lib = values.sum(axis=1, keepdims=True)
    else:
        lib = np.asarray(lib)
        if values.ndim == 2 and lib.ndim == 1:
            lib = lib[:, None]
    try:
        shape = np.broadcast_shapes(values.shape, lib.shape)
    except ValueError:
        raise InputError(f"lib of shape {lib.shape} does not fit values of shape {values.shape}: give one "
                         "library size per cell.") from None
    if multiply:
        factor = np.divide(target_sum, lib, out=np.zeros(lib.shape, np.result_type(lib.dtype, np.float16)),
                           where=lib > 0)
        out = values * factor
    else:
        dtype = np.divide(values.ravel()[:0], lib.ravel()[:0]).dtype
        # the memory layout of the values (C or Fortran order), as an arithmetic expression keeps it:
        # later sums over an axis add in another order in another layout
        zeros = np.zeros_like(values, dtype=dtype) if shape == values.shape else np.zeros(shape, dtype)
        out = np.divide(values, lib, out=zeros, where=lib > 0)
        out *= target_sum
    return np.log1p(out) if log else out
