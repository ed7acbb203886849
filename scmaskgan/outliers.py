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
#: ``python benchmarks/outliers.py`` prints these ratios, and times the search at 1,000,000 x 2,000 (1.6 s).
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


def _col_max(X, block: int = 2**22) -> np.ndarray:
    """Largest value of each column (float64; 0 for an empty sparse column); a CSR matrix is read in place,
    a block of stored values at a time (scipy would turn all of it into CSC)."""
    if not sp.issparse(X) or X.format != "csr":
        out = X.max(axis=0)
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float64).ravel()
    out = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, X.nnz, block):  # np.maximum.at is fast only on one dtype
        np.maximum.at(out, X.indices[start:start + block], X.data[start:start + block].astype(np.float64))
    return out


def _second(X, row_max: np.ndarray, col_max: np.ndarray, factor: float, block: int = 65536):
    """One pass over ``X``, a block of rows at a time: per row and per column, the largest value below its
    maximum and how many entries reach the maximum, and the entries above ``factor`` that are the
    maximum of both their row and their column (the only ones that can be outliers)."""
    n_rows, n_cols = X.shape
    row_second, col_second = np.zeros(n_rows), np.zeros(n_cols)
    row_top, col_top = np.zeros(n_rows, dtype=np.int64), np.zeros(n_cols, dtype=np.int64)
    rows, cols = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    step = block if sp.issparse(X) else max(1, 2**22 // max(1, n_cols))  # dense: about 4 million entries a block
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        if not sp.issparse(X):
            part = np.asarray(X[start:stop], dtype=np.float64)
            at_row, at_col = part == row_max[start:stop, None], part == col_max
            row_top[start:stop] = at_row.sum(axis=1)
            col_top += at_col.sum(axis=0)
            row_second[start:stop] = np.where(at_row, 0.0, part).max(axis=1)
            np.maximum(col_second, np.where(at_col, 0.0, part).max(axis=0), out=col_second)
            row, col = np.nonzero(at_row & at_col & (part > factor))
            rows.append(start + row)
            cols.append(col)
            continue
        lo, hi = X.indptr[start], X.indptr[stop]  # CSR, read in place
        value, col = X.data[lo:hi].astype(np.float64), X.indices[lo:hi].astype(np.int64)
        row = np.repeat(np.arange(start, stop), np.diff(X.indptr[start:stop + 1]))
        at_row, at_col = value == row_max[row], value == col_max[col]
        row_top += np.bincount(row[at_row], minlength=n_rows)
        col_top += np.bincount(col[at_col], minlength=n_cols)
        np.maximum.at(row_second, row[~at_row], value[~at_row])  # fast on one dtype (float64)
        np.maximum.at(col_second, col[~at_col], value[~at_col])
        both = np.flatnonzero(at_row & at_col & (value > factor))
        rows.append(row[both])
        cols.append(col[both])
    # a maximum reached twice is also the largest value beside either entry that reaches it
    row_other = np.where(row_top > 1, row_max, row_second)
    col_other = np.where(col_top > 1, col_max, col_second)
    return np.concatenate(rows), np.concatenate(cols), row_other, col_other


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
    Only an entry that is the maximum of its row and of its column can qualify, and the largest other
    value of its row (column) is then the row's (column's) largest value below the maximum, or the
    maximum itself where two entries reach it. Two passes over ``X``, a block of rows at a time (the
    maxima, then the values below them), without a copy of ``X`` for CSR or dense input.
    """
    if sp.issparse(X) and X.format != "csr":
        X = sp.csr_matrix(X)  # a copy for other sparse formats (the model's own input is CSR)
    row_max, col_max = _row_max(X), _col_max(X)
    rows, cols, row_other, col_other = _second(X, row_max, col_max, factor)
    values = row_max[rows]
    flagged = values > factor * np.maximum(1.0, np.maximum(row_other[rows], col_other[cols]))
    rows, cols = rows[flagged], cols[flagged]
    return Outliers(rows, cols, values[flagged], row_other[rows], col_other[cols])


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
