"""Input checks shared by the metric modules (:mod:`.metrics`, :mod:`.structure`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import InputError

__all__: list[str] = []


def check_matrix(X: Any, what: str) -> np.ndarray | sp.csr_matrix:
    """A 2-D finite numeric matrix (dense ndarray or CSR), not copied when possible."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        values = X.data
    else:
        X = np.asarray(X)
        values = X
    if X.ndim != 2:
        raise InputError(f"{what} must be two-dimensional (cells x genes), got shape {X.shape}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"{what} is empty (shape {X.shape}).")
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool) or np.iscomplexobj(values):
        raise InputError(f"{what} must hold real numbers, got dtype {values.dtype}.")
    if not np.isfinite(values).all():
        raise InputError(f"{what} holds NaN or infinite values.")
    return X


def has_missing(values: np.ndarray) -> bool:
    """Whether an array of labels holds a missing value (None, NaN, pandas NA)."""
    import pandas as pd

    return bool(pd.isna(values).any())
