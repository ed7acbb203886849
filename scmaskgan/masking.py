"""The rule that hides observed entries: which non-zero entries of a count matrix are set to 0.

One rule serves the count model's choice of its read-count settings (it hides a share of the input's
own non-zero entries and scores what the model says about them) and protocol A of the benchmark
(which hides 10% of them with seed 0 and scores the imputation there). With ``rng =
numpy.random.default_rng(seed)``, the non-zero entries are taken in row-major (C) order, and
``round(share * n)`` of them are chosen without replacement and sorted. Dense and sparse matrices
get the same entries.

A leaf module: it imports only numpy and scipy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["hide_nonzero", "hide_nonzero_sparse"]


def hide_nonzero(counts: np.ndarray, fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Set a random ``fraction`` of the non-zero entries of a dense matrix to 0.

    Returns
    -------
    corrupted, idx
        A copy of ``counts`` with the chosen entries set to 0, and their flat (row-major) indices, sorted.
    """
    rng = np.random.default_rng(seed)
    nz = np.flatnonzero(counts)
    idx = np.sort(rng.choice(nz, size=round(fraction * nz.size), replace=False))
    corrupted = np.array(counts, copy=True)
    corrupted.flat[idx] = 0
    return corrupted, idx


def hide_nonzero_sparse(counts: sp.spmatrix, fraction: float = 0.1,
                        seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    """The entries :func:`hide_nonzero` would hide in the dense form of ``counts``, hidden in a CSR copy.

    Returns
    -------
    hidden, rows, cols, values
        The CSR copy without the hidden entries, and the hidden entries' rows, columns and values (row order).
    """
    hidden = sp.csr_matrix(counts, copy=True)
    hidden.sort_indices()  # CSR with sorted indices lists the stored entries in row-major order
    where = np.flatnonzero(hidden.data != 0)
    pick = np.sort(np.random.default_rng(seed).choice(where, size=round(fraction * where.size), replace=False))
    rows = np.repeat(np.arange(hidden.shape[0]), np.diff(hidden.indptr))[pick]
    cols, values = hidden.indices[pick].copy(), hidden.data[pick].copy()
    hidden.data[pick] = 0
    hidden.eliminate_zeros()
    return hidden, rows, cols, values
