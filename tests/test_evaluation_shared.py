"""The pieces the evaluation shares: the name registry and the one log-normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan._name_registry import Registry
from scmaskgan._validation import InputError
from scmaskgan.scaling import log_normalize

# ---------------------------------------------------------------------------------------
# registry


class NotFound(KeyError):
    pass


def test_registry_registers_looks_up_and_names_the_known_entries():
    reg = Registry("shape", error=NotFound, hint="known shapes")

    @reg.register("square")
    def square(x):
        return x * x

    reg["cube"] = lambda x: x ** 3
    assert reg.lookup("square") is square and reg["cube"](2) == 8
    assert reg.names() == ["square", "cube"] and list(reg) == ["square", "cube"] and len(reg) == 2
    assert reg.get("circle") is None  # a mapping's get: no error
    with pytest.raises(NotFound, match="unknown shape 'circle'; known shapes: square, cube"):
        reg.lookup("circle")
    with pytest.raises(NotFound, match="unknown shape 'a', 'b'; known shapes"):
        reg.check(["square", "a", "b"])
    reg.check(["cube", "square"])
    with pytest.raises(ValueError, match="'square' is registered twice"):
        reg.register("square")(square)
    del reg["cube"]
    assert "cube" not in reg


def test_registry_factory_makes_the_entries_and_sorted_names():
    reg = Registry("thing", sorted_names=True, factory=lambda name, obj, summary, *, extra=0: (name, obj, summary, extra))
    obj = reg.register("b", "second", extra=2)(object())
    reg.register("a", "first")(len)
    assert reg["b"] == ("b", obj, "second", 2) and reg["a"] == ("a", len, "first", 0)
    assert reg.names() == ["a", "b"]
    with pytest.raises(ValueError, match="unknown thing 'c'; choose from: a, b"):
        reg.lookup("c")
    plain = Registry("plain")
    with pytest.raises(ValueError, match="no factory"):
        plain.register("x", "summary")


# ---------------------------------------------------------------------------------------
# log-normalisation


def test_log_normalize_by_hand():
    counts = np.array([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0], [2.0, -1.0, 2.0]])
    expected = np.log1p(np.array([[0.25, 0.75, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]) * 1e4)
    assert np.allclose(log_normalize(counts), expected)  # own totals of the clipped values; empty cell: 0
    lib = np.array([8.0, 5.0, 4.0])
    assert np.allclose(log_normalize(counts, lib), np.log1p(np.clip(counts, 0, None) / lib[:, None] * 1e4))
    assert np.allclose(log_normalize(counts, lib, target_sum=100, log=False), np.clip(counts, 0, None) / lib[:, None] * 100)
    # one library size per value (a 1-D selection of entries)
    assert np.allclose(log_normalize(np.array([1.0, 2.0]), np.array([10.0, 4.0])), np.log1p([1e3, 5e3]))
    # a library size of 0 gives 0, not NaN
    assert np.array_equal(log_normalize(counts, np.array([8.0, 0.0, 4.0]))[1], np.zeros(3))
    assert np.array_equal(log_normalize(sp.csr_matrix(counts), lib), log_normalize(counts, lib))


def test_log_normalize_keeps_the_order_and_dtype_of_each_caller():
    rng = np.random.default_rng(0)
    x = rng.poisson(3.0, size=(40, 30)).astype(np.float64) * rng.uniform(0.3, 3.0, size=(40, 30))
    lib = x.sum(1)
    # default: value / lib * target_sum; multiply=True: value * (target_sum / lib); bit for bit
    assert np.array_equal(log_normalize(x, lib), np.log1p(x / lib[:, None] * 1e4))
    assert np.array_equal(log_normalize(x, lib, multiply=True), np.log1p(x * (1e4 / lib)[:, None]))
    assert not np.array_equal(x / lib[:, None] * 1e4, x * (1e4 / lib)[:, None])  # the two orders differ here
    # the memory order of the input, as the arithmetic it replaces keeps it (later axis sums depend on it)
    fortran = np.asfortranarray(x)
    assert log_normalize(fortran, lib).flags.f_contiguous and log_normalize(fortran).flags.f_contiguous
    assert log_normalize(fortran, lib, multiply=True).flags.f_contiguous and log_normalize(x, lib).flags.c_contiguous
    assert log_normalize(x.astype(np.float32)).dtype == np.float32
    assert log_normalize(x.astype(np.float32), lib).dtype == np.float64
    assert log_normalize(x.astype(np.int64), lib.astype(np.int64)).dtype == np.float64


def test_log_normalize_refuses_what_does_not_fit():
    with pytest.raises(InputError, match="cells x genes"):
        log_normalize(np.ones(5))
    with pytest.raises(InputError, match="one library size per cell"):
        log_normalize(np.ones((4, 3)), np.ones(3))
