"""Baselines: one counts-in/counts-out interface, each method's defining behaviour."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan.benchmarking import baselines
from scmaskgan.benchmarking.baselines import BaselineNotAvailableError, alra_choose_k

FAST = ["none", "magic", "alra", "knn_average", "knn_smoothing"]


@pytest.fixture
def counts(tiny_counts) -> np.ndarray:
    return np.asarray(tiny_counts.X, dtype=np.float64)


def test_registry_lists_every_method():
    assert baselines.available() == sorted(["none", "magic", "alra", "knn_average", "knn_smoothing", "scvi",
                                            "dca", "deepimpute", "scmaskgan"])
    for name in baselines.available():
        method = baselines.get(name)
        assert method.name == name and method.summary and method.func.__doc__


def test_unknown_name_is_a_clear_error(counts):
    with pytest.raises(ValueError, match="unknown baseline 'saver'.*alra"):
        baselines.run("saver", counts)


@pytest.mark.parametrize("name", FAST)
def test_output_is_dense_finite_non_negative_counts_of_the_same_shape(name, counts):
    if name == "magic":
        pytest.importorskip("magic")
    before = counts.copy()
    out = baselines.run(name, counts, seed=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    assert out.shape == counts.shape
    assert np.isfinite(out).all() and (out >= 0).all()
    np.testing.assert_array_equal(counts, before)  # the input is not modified
    # Observed scale: observed entries keep about their counts, and each profile stays its own.
    observed = counts > 0
    ratio = np.median(out[observed] / counts[observed])
    assert 0.5 < ratio < 2.0, ratio
    log_in, log_out = np.log1p(counts), np.log1p(out)
    r = [np.corrcoef(log_in[i], log_out[i])[0, 1] for i in range(counts.shape[0])]
    assert np.median(r) > 0.5
    if name != "none":
        assert (out[counts == 0] > 0).mean() > 0.3  # zeros were imputed


@pytest.mark.parametrize("name", ["none", "alra", "knn_average", "knn_smoothing"])
def test_sparse_input_gives_the_dense_result(name, counts):
    np.testing.assert_allclose(baselines.run(name, sp.csr_matrix(counts)), baselines.run(name, counts))


@pytest.mark.parametrize("name", ["alra", "knn_smoothing"])
def test_seeded_runs_repeat(name, counts):
    np.testing.assert_array_equal(baselines.run(name, counts, seed=3), baselines.run(name, counts, seed=3))


def test_none_returns_the_input(counts):
    np.testing.assert_array_equal(baselines.run("none", counts), counts)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones(5), "2-D"),
        (np.ones((1, 4)), "at least 2 cells"),
        (np.array([[1.0, -1.0], [2.0, 0.0]]), "negative"),
        (np.array([[1.0, np.nan], [2.0, 0.0]]), "NaN"),
        (np.array([["a", "b"], ["c", "d"]]), "real numbers"),
    ],
)
def test_bad_counts_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        baselines.run("none", bad)


def test_labels_of_the_wrong_length_are_refused(counts):
    with pytest.raises(ValueError, match="one entry per cell"):
        baselines.run("none", counts, labels=["a", "b"])


def test_knn_average_hand_computed():
    # Two pairs of similar cells; with k = 1 each cell averages itself and its partner
    # (library-normalised profiles), then returns to its own library (4).
    x = np.array([[4, 0, 0], [3, 1, 0], [0, 0, 4], [0, 1, 3]], dtype=float)
    out = baselines.run("knn_average", x, k=1)
    expected = np.array([[3.5, 0.5, 0], [3.5, 0.5, 0], [0, 0.5, 3.5], [0, 0.5, 3.5]])
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_knn_average_uses_library_normalised_profiles():
    # Same composition, different depth: the average is taken per library, so each cell keeps its depth.
    x = np.array([[2, 2, 0], [20, 20, 0], [0, 5, 5], [0, 50, 50]], dtype=float)
    out = baselines.run("knn_average", x, k=1)
    np.testing.assert_allclose(out, x, atol=1e-9)


def test_knn_smoothing_with_k1_returns_the_input(counts):
    np.testing.assert_allclose(baselines.run("knn_smoothing", counts, k=1), counts)


def test_knn_smoothing_sums_neighbours_and_keeps_libraries(counts):
    out = baselines.run("knn_smoothing", counts, k=4, d=5)
    np.testing.assert_allclose(out.sum(1), counts.sum(1))
    with pytest.raises(ValueError, match="k <= 60"):
        baselines.run("knn_smoothing", counts, k=61)
    with pytest.raises(ValueError, match="d <="):
        baselines.run("knn_smoothing", counts, d=60)


@pytest.mark.parametrize("large_gaps, expected_k", [({0: 30, 1: 20, 2: 25}, 3), ({0: 30, 1: 20, 2: 25, 5: 3}, 6)])
def test_alra_rank_is_the_last_gap_far_above_the_noise_gaps(large_gaps, expected_k):
    # A 150 x 120 matrix with chosen singular values: gaps of 0.1 +- 0.02 (noise) except at
    # the given positions. ALRA takes the LAST gap more than 6 noise SDs above the noise mean.
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.normal(size=(150, 120)))
    v, _ = np.linalg.qr(rng.normal(size=(120, 120)))
    gaps = 0.1 + rng.uniform(-0.02, 0.02, 119)
    for i, gap in large_gaps.items():
        gaps[i] = gap
    singular_values = np.concatenate([[0.0], np.cumsum(gaps[::-1])])[::-1] + 5
    k, n_sds = alra_choose_k((u * singular_values) @ v.T, seed=0)
    assert k == expected_k
    assert (n_sds[list(large_gaps)] > 6).all()


def test_alra_never_zeroes_an_observed_value_and_restores_the_thresholded_ones(counts):
    observed = counts > 0
    out = baselines.run("alra", counts, k=1)  # rank 1 thresholds many observed entries away
    assert (out[observed] > 0).all()
    # Observed entries that the low-rank step dropped come back as the observed counts.
    restored = np.isclose(out, counts, rtol=1e-9, atol=0) & observed
    assert restored.sum() > 0
    assert (~np.isclose(out, counts) & observed).sum() > observed.sum() / 2  # the others are low-rank values
    # With the rank from the spectral-gap rule, low-rank values replace most observed ones.
    auto = baselines.run("alra", counts)
    assert (auto[observed] > 0).all()


def test_alra_rescales_each_gene_to_the_observed_non_zero_mean_and_sd(counts):
    out = baselines.run("alra", counts, k=3)
    lib = counts.sum(1, keepdims=True)
    a = np.log1p(counts / lib * 1e4)
    b = np.log1p(out / lib * 1e4)
    genes = np.flatnonzero((a > 0).sum(0) >= 20)
    for g in genes:
        # The rescaled non-zero values have the observed non-zero mean (up to the few
        # observed values restored and negatives cut), on the log-normalised scale.
        assert abs(b[b[:, g] > 0, g].mean() - a[a[:, g] > 0, g].mean()) < 0.35 * a[a[:, g] > 0, g].std() + 0.2


def test_scvi_missing_is_a_clear_error(counts, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scvi" else real(name, *a))
    assert not baselines.get("scvi").is_available()
    with pytest.raises(BaselineNotAvailableError, match=r"'scvi'.*not installed.*pip install scvi-tools"):
        baselines.run("scvi", counts)


def test_scmaskgan_keeps_observed_values_and_fills_zeros(tiny_counts):
    x = np.asarray(tiny_counts.X, dtype=np.float64)
    labels = tiny_counts.obs["cell_type"].to_numpy()
    for options in ({"max_epochs": 2}, {"mode": "paper", "max_epochs": 1, "n_trials": 1, "n_candidates": 32, "k": 4}):
        out = baselines.run("scmaskgan", x, labels=labels, seed=0, **options)
        assert out.shape == x.shape and np.isfinite(out).all() and (out >= 0).all()
        np.testing.assert_allclose(out[x > 0], x[x > 0], rtol=1e-6)
        assert (out[x == 0] > 0).any()
