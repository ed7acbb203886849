"""The pieces of the imputation rule: distances on observed genes, theta, k nearest, outliers."""

import numpy as np
import pytest

from scmaskgan.neighbours.distances import distance_threshold, neighbour_weights, rms_distances
from scmaskgan.paper.candidates import filter_outliers


def test_distances_use_only_observed_genes():
    values = np.array([[0.5, 0.0, 0.2]], dtype=np.float32)
    cands = np.array([[0.5, 0.9, 0.2], [0.1, 0.0, 0.2]], dtype=np.float32)
    d = rms_distances(values, values > 0, cands)
    # candidate 0 matches on both observed genes; gene 1 (a zero) does not count
    assert d[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert d[0, 1] == pytest.approx(np.sqrt(0.4**2 / 2), rel=1e-5)


def test_theta_is_mean_plus_k_sigma():
    d = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert distance_threshold(d, 1.5) == pytest.approx(2.5 + 1.5 * d.std())


def test_k_nearest_within_theta_and_at_least_one():
    d = np.array([[0.1, 0.2, 0.9, 0.3], [5.0, 6.0, 7.0, 8.0]])
    w = neighbour_weights(d, k=3, theta=0.5)
    np.testing.assert_allclose(w[0], [1 / 3, 1 / 3, 0, 1 / 3])
    # no candidate inside theta: the nearest one is used alone
    np.testing.assert_allclose(w[1], [1, 0, 0, 0])


def test_isolation_forest_removes_planted_outliers():
    rng = np.random.default_rng(0)
    cands = rng.normal(0.3, 0.01, size=(200, 30)).astype(np.float32)
    cands[:5] = 0.95  # five far-away profiles
    kept = filter_outliers(cands, tau=None, min_keep=10, seed=0)
    assert kept.n_generated == 200
    assert not np.any(np.all(kept.values == 0.95, axis=1))
    assert kept.values.shape[0] >= 190


def test_min_keep_is_honoured():
    rng = np.random.default_rng(0)
    cands = rng.random((50, 5)).astype(np.float32)
    kept = filter_outliers(cands, tau=0.0, min_keep=7, seed=0)
    assert kept.values.shape[0] == 7


def test_fill_alpha_between_mean_and_mean_of_expressed():
    from scmaskgan.neighbours.rules import fill_values

    pool = np.array([[0.0, 0.4], [0.6, 0.4], [0.0, 0.0]], dtype=np.float32)
    w = np.array([[0.5, 0.5, 0.0]], dtype=np.float32)  # two neighbours, equal weight
    np.testing.assert_allclose(fill_values(w, pool, alpha=1.0, expressed_above=0.01), [[0.3, 0.4]])
    np.testing.assert_allclose(fill_values(w, pool, alpha=0.0, expressed_above=0.01), [[0.6, 0.4]])
    # alpha 0.5: sqrt(share expressing) * mean of expressed values
    np.testing.assert_allclose(fill_values(w, pool, alpha=0.5, expressed_above=0.01), [[np.sqrt(0.5) * 0.6, 0.4]], rtol=1e-6)


def test_a_cell_is_never_its_own_neighbour():
    from scmaskgan.neighbours.imputer import NeighbourFill

    values = np.array([[0.2, 0.0], [0.2, 0.0], [0.9, 0.5]], dtype=np.float32)
    members = np.array([-1, 7, 8])  # a generated candidate, then cells 7 and 8
    d = NeighbourFill._distances(values[:2], values[:2] > 0, values, None, None, np.array([7, 8]), members)
    assert np.isinf(d[0, 1]) and np.isinf(d[1, 2])
    assert np.isfinite(d[0, 0]) and np.isfinite(d[1, 1])


def test_poisson_fill_matches_the_poisson_expectations():
    from scipy.stats import poisson

    from scmaskgan.neighbours.rules import poisson_fill

    lam = np.array([1e-6, 0.01, 0.5, 1.99, 2.0, 3.0, 7.99, 8.0, 15.0, 21.0, 40.0, 200.0])  # every band
    lib, max_value = 2000.0, 8.0
    pool = (np.log1p(lam / lib * 1e4) / max_value)[None, :].astype(np.float32)
    counts = np.arange(1, 5000)[:, None]
    pmf = poisson.pmf(counts, lam[None, :])
    mean_log = (pmf * np.log1p(counts * 1e4 / lib)).sum(0)  # E[log1p(c s)], c = 0 adds nothing
    for alpha, expected in ((1.0, mean_log), (0.0, mean_log / (1 - np.exp(-lam)))):
        got = poisson_fill(np.ones((1, 1)), pool, np.array([lib]), alpha=alpha, max_value=max_value,
                           target_sum=1e4)[0] * max_value
        np.testing.assert_allclose(got, expected, rtol=2e-4)


def test_poisson_fill_uses_the_cells_own_depth_and_keeps_absent_genes_at_zero():
    from scmaskgan.neighbours.rules import poisson_fill

    pool = np.array([[0.5, 0.0], [0.3, 0.0]], dtype=np.float32)
    w = np.full((2, 2), 0.5, dtype=np.float32)
    fill = poisson_fill(w, pool, np.array([500.0, 50_000.0]), alpha=1.0, max_value=8.0, target_sum=1e4)
    assert np.all(fill[:, 1] == 0)  # no neighbour expresses gene 2: a true zero
    assert np.all(poisson_fill(w, pool, np.array([500.0, 50_000.0]), alpha=0.0, max_value=8.0,
                               target_sum=1e4)[:, 1] == 0)  # even when every zero counts as a dropout
    assert fill[1, 0] > fill[0, 0]  # a deep cell that shows a zero is more likely to be near the rate


def test_poisson_kernel_compiles_without_a_writable_cache_folder(monkeypatch):
    """Where numba finds no folder to cache in (a read-only install, no home), the kernel is compiled
    in the process instead of failing."""
    import importlib.util

    from numba.core import caching

    import scmaskgan.neighbours._poisson_kernel as kernel

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    spec = importlib.util.spec_from_file_location("poisson_kernel_uncached", kernel.__file__)
    uncached = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(uncached)
    assert uncached.fill_csr._cache.__class__.__name__ == "NullCache"
    out = np.zeros((1, 2), dtype=np.float32)
    uncached.fill_csr(np.array([0, 1]), np.array([1]), np.array([1e-3]), np.array([1000.0]), 0.5, 8.0, 1e4, 64, out)
    assert out[0, 0] == 0 and out[0, 1] > 0
