"""Entries far outside both their cell's and their gene's range (a corrupt value, not biology).

One count of 1e9 in a cell whose other values reach a few hundred dominates the cell's library
size and every value the model computes from it. :func:`find_outliers` finds such entries,
vectorised and for dense and sparse (CSR, CSC) matrices alike: an entry ``x[i, j]`` is an outlier
when it is more than :data:`FACTOR` times every other value of its cell (row ``i``) AND every
other value of its gene (column ``j``), with a floor of 1::

    x[i, j] > FACTOR * max(1, max of row i without x[i, j], max of column j without x[i, j])

A gene high in every cell, or a cell deep in every gene, is never flagged: the entry must stand
out from both at once. :func:`cap_outliers` brings such entries down to the largest value that
their cell or their gene shows elsewhere (see there for why not ``FACTOR`` times it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["FACTOR", "Outliers", "cap_outliers", "find_outliers"]

#: How many times every other value of its cell and of its gene an entry must exceed to be flagged.
#: No entry of the real data sets in the shared data folder comes near it: the largest ratio of an
#: entry to ``max(1, its cell's other values, its gene's other values)`` is 1.16 in sc_celseq2, 1.17
#: in sc_dropseq, 1.19 in sc_celseq2_5cl_p1, 1.00 to 1.19 in the CellBench RNA and cell mixtures
#: (CEL-seq2), 1.92 in the ganglioneuroma sample GSM5768752 (UMI counts), 1.24 in the ERCC spike-ins
#: of Buettner 2015 and 2.72 in Darmanis 2015 (Smart-seq read counts, the widest). 100 leaves a margin
#: of more than 30 over the largest ratio seen, while a corrupt count (1e9 in a cell whose other
#: values reach 272) stands out by a factor of millions.
FACTOR = 100.0


@dataclass(frozen=True)
class Outliers:
    """The outlying entries of a matrix, one per position, in row order.

    Attributes
    ----------
    rows, cols
        Position of each entry (cell, gene).
    values
        The entry's value, as given (float64).
    row_max, col_max
        The largest other value of the entry's cell and of its gene.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    row_max: np.ndarray
    col_max: np.ndarray

    def __len__(self) -> int:
        return int(self.rows.size)

    @property
    def caps(self) -> np.ndarray:
        """The value each entry is capped at, the largest other value of its cell or its gene (at least 1)."""
        return np.maximum(1.0, np.maximum(self.row_max, self.col_max))

    def summary(self, obs_names, var_names) -> dict[str, list]:
        """The entries by cell and gene name, their values and caps, as lists (h5ad-writable)."""
        return {"cells": [str(obs_names[i]) for i in self.rows], "genes": [str(var_names[j]) for j in self.cols],
                "values": [float(v) for v in self.values], "capped_at": [float(c) for c in self.caps]}


def _row_max(X) -> np.ndarray:
    """Largest value of each row (float64; 0 for an empty sparse row)."""
    if sp.issparse(X):
        return np.asarray(X.max(axis=1).toarray(), dtype=np.float64).ravel()
    return np.asarray(X.max(axis=1), dtype=np.float64).ravel()


def _col_max(X, block: int = 65536) -> np.ndarray:
    """Largest value of each column, a block of rows at a time (scipy turns a whole CSR matrix into CSC
    for this; a block at a time it never holds a second copy of the data)."""
    if not sp.issparse(X) or X.format == "csc":
        out = X.max(axis=0)
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float64).ravel()
    X = sp.csr_matrix(X)
    out = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, X.shape[0], block):
        np.maximum(out, X[start:start + block].max(axis=0).toarray().ravel(), out=out)
    return out


def _without(X, rows: np.ndarray, cols: np.ndarray, axis: int) -> np.ndarray:
    """Per entry ``(rows[k], cols[k])``, the largest value of its row (``axis=1``) or its column (``axis=0``)
    without that entry; only those rows (columns) are copied. A second entry of the same value in the row
    (column) counts, so a tie at the maximum is never far above the rest."""
    keys, others = (rows, cols) if axis == 1 else (cols, rows)
    part = X[keys] if axis == 1 else X[:, keys].T  # one row per entry, even where two share a column
    if sp.issparse(part):
        part = sp.coo_matrix(part)
        keep = part.col != others[part.row]
        rest = sp.csr_matrix((part.data[keep], (part.row[keep], part.col[keep])), shape=part.shape)
        return _row_max(rest)
    part = np.array(part, dtype=np.float64)
    part[np.arange(keys.size), others] = 0
    return _row_max(part)


def find_outliers(X, factor: float = FACTOR) -> Outliers:
    """The entries of ``X`` more than ``factor`` times every other value of their row and of their column.

    Parameters
    ----------
    X
        Cells x genes, dense or ``scipy.sparse``, non-negative (infinite values count as outliers).
    factor
        How far above its row and column an entry must be (:data:`FACTOR`).

    Returns
    -------
    Outliers
        Position, value, and largest other value of the row and of the column of each such entry.

    Notes
    -----
    Only an entry that is the maximum of its row and of its column can qualify: each row's first
    maximum is a candidate when it is also its column's maximum and above ``factor``. The maxima
    without the candidate are then computed on the candidates' rows and columns only, so the cost is
    two passes over ``X`` (row and column maxima) and no copy of it.
    """
    row_max = _row_max(X)
    col_max = _col_max(X)
    rows = np.flatnonzero(row_max > factor)
    if rows.size:
        arg = X[rows].argmax(axis=1)
        cols = np.asarray(arg, dtype=np.int64).ravel()
        keep = row_max[rows] >= col_max[cols]
        rows, cols = rows[keep], cols[keep]
    else:
        cols = rows
    row_other = _without(X, rows, cols, axis=1) if rows.size else np.zeros(0)
    col_other = _without(X, rows, cols, axis=0) if rows.size else np.zeros(0)
    values = row_max[rows]
    flagged = values > factor * np.maximum(1.0, np.maximum(row_other, col_other))
    return Outliers(rows[flagged], cols[flagged], values[flagged], row_other[flagged], col_other[flagged])


def cap_outliers(X, outliers: Outliers):
    """``X`` with each outlier set to its cap (:attr:`Outliers.caps`), as a copy only when there is one.

    The cap is the largest value that the entry's cell or its gene shows elsewhere, not ``FACTOR`` times
    it: at ``FACTOR`` times, the entry can still hold most of its cell's counts and so set its library
    size. With one count of 1e9 in a cell of sc_celseq2 (200 cells x 2,000 genes, the cell's other values
    reach 415), the count model's expected values at the cell's other zeros moved by a median factor of
    1.01 with this cap, 1.98 with a cap of 100 times it, and 21,000 without one. At the cap, the entry
    stays its cell's or its gene's largest value and no longer stands out.
    """
    if not len(outliers):
        return X
    X = X.copy()
    if sp.issparse(X):
        X = sp.csr_matrix(X)  # a copy already; CSR so that the entries are found by row
        for i, j, cap in zip(outliers.rows, outliers.cols, outliers.caps):
            start, stop = X.indptr[i], X.indptr[i + 1]
            X.data[start + np.flatnonzero(X.indices[start:stop] == j)] = cap
    else:
        X[outliers.rows, outliers.cols] = outliers.caps
    return X
