"""scmaskgan.matrices: dense matrices and log-normalised counts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan.matrices import dense, lognorm
from scmaskgan._validation import InputError


def test_dense():
    m = np.array([[0, 2], [3, 0]], dtype=np.float32)
    assert dense(m) is m or np.shares_memory(dense(m), m)  # no copy without dtype
    d = dense(sp.csr_matrix(m))
    assert isinstance(d, np.ndarray) and d.dtype == np.float32
    np.testing.assert_array_equal(d, m)
    d64 = dense(sp.csr_matrix(m), dtype=np.float64)
    assert d64.dtype == np.float64
    np.testing.assert_array_equal(d64, m)
    assert not np.shares_memory(dense(m, dtype=np.float32), m)  # with a dtype: always a copy
    np.testing.assert_array_equal(dense([[1, 2]]), [[1, 2]])
    with pytest.raises(InputError):
        dense(None)


def test_lognorm_with_library_sizes():
    counts = np.array([[1.0, 3.0], [0.0, -2.0]])
    lib = np.array([10.0, 5.0])
    expected = np.array([[np.log(1 + 1000.0), np.log(1 + 3000.0)], [0.0, 0.0]])  # negatives count as 0
    np.testing.assert_allclose(lognorm(counts, lib), expected)
    np.testing.assert_allclose(lognorm(sp.csr_matrix(counts), lib), expected)


def test_lognorm_own_row_sums():
    counts = np.array([[1.0, 3.0], [0.0, 0.0], [2.0, -1.0]])
    expected = np.array([[np.log(1 + 2500.0), np.log(1 + 7500.0)], [0.0, 0.0], [np.log(1 + 1e4), 0.0]])
    out = lognorm(counts)
    np.testing.assert_allclose(out, expected)
    assert np.isfinite(out).all()  # the empty cell gives zeros, not NaN


def test_lognorm_checks():
    with pytest.raises(InputError, match="two-dimensional"):
        lognorm(np.ones(3))
    with pytest.raises(InputError, match="one library size per cell"):
        lognorm(np.ones((2, 2)), np.ones(3))
    with pytest.raises(InputError, match="positive"):
        lognorm(np.ones((2, 2)), np.array([1.0, 0.0]))
    with pytest.raises(InputError, match="positive"):
        lognorm(np.ones((2, 2)), np.array([1.0, np.nan]))
