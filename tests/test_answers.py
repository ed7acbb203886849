"""scmaskgan.count.answers: the NB/ZINB model's answers against brute-force sums, and its draws."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import nbinom

from scmaskgan._validation import InputError
from scmaskgan.count import answers as A
from scmaskgan.count.answers import count_answers, sample_counts

MUS = [1e-4, 1e-2, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3]
THETAS = [0.05, 0.3, 1.0, 5.0, 100.0]
LIBS = [200.0, 3000.0, 1e5]
TARGET = 1e4


def zinb_pmf(mu: float, theta: float, pi: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts ``0 .. hi`` and their ZINB probabilities, ``hi`` far enough that the tail is below 1e-15."""
    p = theta / (theta + mu)
    hi = int(nbinom.isf(1e-15, theta, p)) + 10
    counts = np.arange(hi + 1)
    pmf = (1 - pi) * nbinom.pmf(counts, theta, p)
    pmf[0] += pi
    return counts, pmf


def brute_force(mu: float, theta: float, lib: float, pi: float) -> tuple[float, float, float]:
    counts, pmf = zinb_pmf(mu, theta, pi)
    v = np.log1p(counts * TARGET / lib)
    mean = float(np.sum(pmf * v))
    p_detected = float(np.sum(pmf[1:]))
    return mean, mean / p_detected, p_detected


@pytest.fixture(scope="module")
def grid():
    """Cells = library sizes, genes = every (mu, theta) pair; zero inflation drawn per entry."""
    pairs = [(m, t) for m in MUS for t in THETAS]
    mu = np.array([[m for m, _ in pairs]] * len(LIBS))
    theta = np.array([t for _, t in pairs])
    pi = np.random.default_rng(1).uniform(0.0, 0.9, mu.shape)
    return mu, theta, np.array(LIBS), pi


@pytest.mark.parametrize("zero_inflated", [False, True])
def test_answers_match_brute_force_sums(grid, zero_inflated):
    mu, theta, lib, pi = grid
    pi = pi if zero_inflated else np.zeros_like(pi)
    got = count_answers(mu, theta, lib, pi=pi if zero_inflated else None, target_sum=TARGET)
    assert all(a.dtype == np.float32 and a.shape == mu.shape for a in got)
    expected = np.array([[brute_force(mu[i, j], theta[j], lib[i], pi[i, j]) for j in range(mu.shape[1])]
                         for i in range(mu.shape[0])])
    for k, name in enumerate(("mean", "if_detected", "p_detected")):
        np.testing.assert_allclose(getattr(got, name), expected[..., k], rtol=0, atol=1e-4, err_msg=name)
        # much closer than asked: float32 rounding of values up to ~11
        np.testing.assert_allclose(getattr(got, name), expected[..., k], rtol=1e-6, atol=1e-7, err_msg=name)
    # both regimes were exercised (see count_answers's max_count)
    integral = mu + 25 * (1 + mu / theta) > 1024
    assert integral.any() and (~integral).any()


def test_sum_and_integral_agree_where_they_meet():
    """The exact sum and the generating-function integral are two computations of the same
    ``E[log1p(c s)]``: wherever the sum converges, including next to the switch, they agree."""
    from scmaskgan.count import _answers_kernel as K

    max_count = 1024
    inv = np.zeros(max_count + 1)
    inv[1:] = 1.0 / np.arange(1, max_count + 1)
    compared = 0
    for theta in [0.05, 0.2, 1.0, 4.0, 30.0, 1e3]:
        # mu at the switch mu + 25 (1 + mu / theta) = max_count, and a range around it
        at_switch = (max_count - 25) / (1 + 25 / theta)
        for mu in [0.5, 2.0, at_switch * 0.8, at_switch, at_switch * 1.05]:
            for scale in [0.1, 3.0, 50.0]:
                logs = np.zeros(max_count + 1)
                total, _ = K.nb_log_sum(mu, theta, -theta * np.log1p(mu / theta), logs, inv, scale, 0)
                if total < 0:
                    continue  # did not converge within max_count terms
                compared += 1
                assert K.nb_log_integral(mu, theta, scale) == pytest.approx(total, rel=1e-8)
    assert compared >= 60


def test_sum_gives_up_when_it_cannot_converge():
    from scmaskgan.count import _answers_kernel as K

    inv = np.zeros(11)
    inv[1:] = 1.0 / np.arange(1, 11)
    total, filled = K.nb_log_sum(50.0, 1.0, -np.log1p(50.0), np.zeros(11), inv, 2.0, 0)
    assert total == -1.0 and filled == 10
    # P(0) underflows (mu = 800, nearly Poisson): the sum cannot start; the integral answers instead
    assert K.nb_log_sum(800.0, 1e4, -1e4 * np.log1p(0.08), np.zeros(1025), np.ones(1026), 2.0, 0)[0] == -1.0
    got = count_answers([[800.0]], [1e4], [5000.0])
    assert got.mean[0, 0] == pytest.approx(brute_force(800.0, 1e4, 5000.0, 0.0)[0], abs=1e-5)


def test_a_small_max_count_hands_more_entries_to_the_integral_with_the_same_answers(grid):
    mu, theta, lib, pi = grid
    full = count_answers(mu, theta, lib, pi=pi)
    short = count_answers(mu, theta, lib, pi=pi, max_count=8)
    for a, b in zip(full, short):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_if_detected_tends_to_one_count_and_mu_zero_is_exact():
    lib = np.array([200.0, 5000.0, 1e5])
    one_count = np.log1p(TARGET / lib)[:, None]
    mu = np.array([[0.0, 1e-7, 1e-5, 1e-3]] * 3)
    got = count_answers(mu, [0.05, 0.5, 5.0, 50.0], lib, pi=np.full(mu.shape, 0.4))
    np.testing.assert_allclose(got.if_detected[:, :3], np.broadcast_to(one_count, (3, 3)), atol=1e-3)
    np.testing.assert_array_equal(got.if_detected[:, 0], one_count[:, 0].astype(np.float32))
    assert np.all(got.mean[:, 0] == 0) and np.all(got.p_detected[:, 0] == 0)
    assert np.all(got.if_detected[:, 1:] >= got.if_detected[:, :1] - 1e-6)  # more counts when detected


def test_answers_relations_and_zero_inflation():
    rng = np.random.default_rng(3)
    mu = rng.lognormal(-1, 2, (30, 40))
    theta = rng.lognormal(0, 1, 40)
    lib = rng.uniform(500, 20_000, 30)
    pi = rng.uniform(0, 1, (30, 40))
    plain = count_answers(mu, theta, lib)
    zi = count_answers(mu, theta, lib, pi=pi)
    np.testing.assert_allclose(zi.mean, plain.mean * (1 - pi), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(zi.p_detected, plain.p_detected * (1 - pi), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(zi.if_detected, plain.if_detected)  # detection says nothing of pi
    np.testing.assert_allclose(plain.mean, plain.p_detected * plain.if_detected, rtol=1e-5)
    none = count_answers(mu, theta, lib, pi=np.ones(40))  # every zero structural
    assert np.all(none.mean == 0) and np.all(none.p_detected == 0)
    # deeper cells: the same mu is a smaller normalised value; larger mu: higher everything
    assert np.all(np.diff(count_answers([[2.0]] * 3, 1.0, [1e3, 1e4, 1e5]).mean[:, 0]) < 0)
    levels = count_answers([[0.1, 1.0, 10.0, 100.0, 1000.0]], 2.0, [5000.0])
    assert all(np.all(np.diff(a[0]) > 0) for a in levels)


def test_dtypes_layouts_shapes_blocks_and_threads_give_the_same_answers(monkeypatch):
    rng = np.random.default_rng(4)
    mu = rng.lognormal(-1, 2, (50, 30))
    theta = rng.lognormal(0, 1, 30)
    lib = rng.uniform(500, 20_000, 50)
    pi = rng.uniform(0, 0.5, 30)
    reference = count_answers(mu, theta, lib, pi=pi)
    variants = [
        count_answers(mu.astype(np.float32), theta.astype(np.float32), lib, pi=pi.astype(np.float32)),
        count_answers(np.asfortranarray(mu), np.tile(theta, (50, 1)), lib.astype(np.float32), pi=np.tile(pi, (50, 1))),
        count_answers(mu.tolist(), theta.reshape(1, -1), lib.tolist(), pi=pi.reshape(1, -1)),
    ]
    monkeypatch.setattr(A, "BLOCK_ENTRIES", 7 * 30)  # 8 blocks of rows, the last one short
    variants += [count_answers(mu, np.tile(theta, (50, 1)), lib, pi=np.tile(pi, (50, 1)), n_threads=n)
                 for n in (1, 3)]
    for got in variants:
        for a, b in zip(got, reference):
            np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(variants[-1].mean, variants[-2].mean)
    same = count_answers(np.full((2, 3), 2.0), 1.5, [1e3, 1e4])  # scalar theta
    np.testing.assert_array_equal(same.mean, count_answers(np.full((2, 3), 2.0), [1.5] * 3, [1e3, 1e4]).mean)
    integer = count_answers(np.array([[0, 1, 5]]), 2.0, [1e3])  # integer mu: converted per block
    np.testing.assert_allclose(integer.mean, count_answers(np.array([[0.0, 1.0, 5.0]]), 2.0, [1e3]).mean)


def _moments(mu: float, theta: float, pi: float) -> tuple[float, float, float]:
    counts, pmf = zinb_pmf(mu, theta, pi)
    mean = float(np.sum(counts * pmf))
    var = float(np.sum((counts - mean) ** 2 * pmf))
    return mean, var, float(np.sum((counts - mean) ** 4 * pmf))


@pytest.mark.parametrize("mu, theta, pi", [(0.5, 0.2, None), (5.0, 2.0, None), (60.0, 15.0, None),
                                           (5.0, 2.0, 0.3), (0.8, 0.5, 0.6)])
def test_draws_match_the_moments(mu, theta, pi):
    n = 200_000
    shape = (400, 500)
    draws = sample_counts(np.full(shape, mu), np.full(500, theta), pi=None if pi is None else np.full(shape, pi),
                          rng=np.random.default_rng(5))
    assert draws.shape == shape and draws.dtype == np.int64 and draws.min() >= 0
    mean, var, m4 = _moments(mu, theta, 0.0 if pi is None else pi)
    if pi is None:
        assert mean == pytest.approx(mu) and var == pytest.approx(mu + mu * mu / theta)
    else:
        assert mean == pytest.approx((1 - pi) * mu)
        assert var == pytest.approx((1 - pi) * mu * (1 + mu / theta + pi * mu))
    # within 5 standard errors of the sample mean and of the sample variance
    assert abs(draws.mean() - mean) < 5 * np.sqrt(var / n)
    assert abs(draws.var() - var) < 5 * np.sqrt((m4 - var * var) / n)
    p0 = zinb_pmf(mu, theta, 0.0 if pi is None else pi)[1][0]
    assert abs(np.mean(draws == 0) - p0) < 5 * np.sqrt(p0 * (1 - p0) / n)


def test_draws_are_reproducible(monkeypatch):
    monkeypatch.setattr(A, "BLOCK_ENTRIES", 1000)  # blocks of 3 rows: 34 blocks
    mu = np.random.default_rng(0).lognormal(0, 1, (100, 300))
    kw = dict(theta=np.full(300, 0.7), pi=np.full(300, 0.2))
    a = sample_counts(mu, rng=np.random.default_rng(11), **kw)
    b = sample_counts(mu, rng=np.random.default_rng(11), **kw)
    c = sample_counts(mu, rng=np.random.default_rng(12), **kw)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    per_entry = dict(theta=np.full(mu.shape, 0.7), pi=np.full(mu.shape, 0.2))  # the same law, the same draws
    np.testing.assert_array_equal(sample_counts(mu, rng=np.random.default_rng(11), **per_entry), a)
    assert np.all(sample_counts(np.zeros((3, 4)), 1.0, rng=np.random.default_rng(0)) == 0)
    assert np.all(sample_counts(np.full((3, 4), 9.0), 1.0, pi=1.0, rng=np.random.default_rng(0)) == 0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(mu=[1.0, 2.0]), "two-dimensional"),
    (dict(mu=[[1.0, -0.5]]), "mu must be >= 0"),
    (dict(mu=[[1.0, np.nan]]), "1 NaN or infinite"),
    (dict(mu=[[1.0, np.inf]]), "NaN or infinite"),
    (dict(mu=sp.csr_matrix([[1.0, 2.0]])), "dense"),
    (dict(mu=[["a", "b"]]), "real numbers"),
    (dict(theta=[1.0, 0.0]), "theta must be > 0"),
    (dict(theta=[1.0, -2.0]), "theta must be > 0"),
    (dict(theta=[1.0, np.nan]), "theta holds 1 NaN"),
    (dict(theta=[1.0, 2.0, 3.0]), r"one value per gene \(shape \(2,\)\)"),
    (dict(theta=np.ones((2, 2))), "mu's shape"),
    (dict(pi=[0.5, 1.2]), "pi must be <= 1"),
    (dict(pi=[[-0.1, 0.0]]), "pi must be >= 0"),
    (dict(pi=[0.1, np.nan]), "pi holds"),
    (dict(lib=[100.0, 200.0]), r"one library size per cell \(shape \(1,\)\)"),
    (dict(lib=[0.0]), "lib must be > 0"),
    (dict(lib=[np.inf]), "lib holds"),
])
def test_bad_inputs_raise_input_error(kwargs, match):
    args = dict(mu=[[1.0, 2.0]], theta=[1.0, 2.0], lib=[1000.0]) | kwargs
    pi = args.pop("pi", None)
    with pytest.raises(InputError, match=match):
        count_answers(args["mu"], args["theta"], args["lib"], pi=pi)
    if "lib" not in kwargs:
        with pytest.raises(InputError, match=match):
            sample_counts(args["mu"], args["theta"], pi=pi, rng=np.random.default_rng(0))


def test_bad_parameters_raise_input_error():
    mu, theta, lib = [[1.0]], [1.0], [1e3]
    for kwargs, match in [(dict(target_sum=0), "target_sum"), (dict(target_sum=np.inf), "target_sum"),
                          (dict(max_count=0), "max_count"), (dict(max_count=2.5), "max_count"),
                          (dict(n_threads=0), "n_threads")]:
        with pytest.raises(InputError, match=match):
            count_answers(mu, theta, lib, **kwargs)
    for rng in (0, np.random.RandomState(0), None):
        with pytest.raises(InputError, match="Generator"):
            sample_counts(mu, theta, rng=rng)


def test_importing_answers_does_not_import_torch():
    script = ("import sys, numpy as np\nfrom scmaskgan.count.answers import count_answers\n"
              "count_answers(np.ones((2, 3)), 1.0, [1e3, 2e3])\nprint('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "False"


def test_answers_kernel_compiles_without_a_writable_cache_folder(monkeypatch):
    """Where numba finds no folder to cache in, the kernel is compiled in the process instead of failing."""
    import importlib.util

    from numba.core import caching

    import scmaskgan.count._answers_kernel as kernel

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    spec = importlib.util.spec_from_file_location("answers_kernel_uncached", kernel.__file__)
    uncached = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(uncached)
    assert uncached.answers_dense._cache.__class__.__name__ == "NullCache"
    out = [np.zeros((1, 2), dtype=np.float32) for _ in range(3)]
    uncached.answers_dense(np.array([[0.0, 2.0]]), np.ones((1, 2)), np.zeros((0, 2)), np.array([1e3]), 1e4, 64, *out)
    assert out[0][0, 0] == 0 and out[0][0, 1] > 0 and out[2][0, 1] == pytest.approx(2 / 3)


@pytest.mark.parametrize("mu, theta", [(0.002, 0.5), (0.05, 3.0), (0.4, 0.2), (3.0, 1.0), (40.0, 8.0)])
def test_draws_given_detection_follow_the_zero_truncated_law(mu, theta):
    """Rejection where detection is likely, the summed distribution function where it is not: one law."""
    from scipy import stats

    n = 100_000
    draws = sample_counts(np.full((200, 500), mu), theta, pi=0.4, rng=np.random.default_rng(3), detected=True)
    assert draws.min() >= 1
    pmf = stats.nbinom.pmf(np.arange(1, 400), theta, theta / (theta + mu))
    pmf /= pmf.sum()
    counts = np.bincount(draws.ravel(), minlength=401)[1:400]
    # each count's share within 5 standard errors of its probability
    assert np.all(np.abs(counts / n - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / n) + 1e-12)
    assert np.all(sample_counts(np.zeros((2, 3)), 1.0, rng=np.random.default_rng(0), detected=True) == 1)
