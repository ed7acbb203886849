"""scmaskgan.evaluation.uncertainty (calibration, interval coverage) on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from scmaskgan._validation import InputError
from scmaskgan.evaluation import uncertainty as U


def test_calibration_by_hand():
    # bins of width 0.5: [0, 0.5) holds 0.1, 0.3 (mean 0.2, one of two true: 0.5);
    # [0.5, 1] holds 0.6, 1.0 (mean 0.8, both true: 1.0)
    ece, table = U.calibration([0.1, 0.3, 0.6, 1.0], [0, 1, 1, 1], bins=2)
    assert ece == pytest.approx(0.5 * abs(0.2 - 0.5) + 0.5 * abs(0.8 - 1.0))
    assert list(table["n"]) == [2, 2]
    np.testing.assert_allclose(table["mean_p"], [0.2, 0.8])
    np.testing.assert_allclose(table["observed"], [0.5, 1.0])
    np.testing.assert_allclose(table["low"], [0.0, 0.5])


def test_calibration_perfect_and_empty_bins():
    # 0.25 predicted for four outcomes with one true, 0.75 for four with three true: calibrated
    p = [0.25] * 4 + [0.75] * 4
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    ece, table = U.calibration(p, y, bins=10)
    assert ece == pytest.approx(0.0)
    assert table["n"].sum() == 8 and (table["n"] > 0).sum() == 2
    assert table.loc[table["n"] == 0, "mean_p"].isna().all()
    # a probability of exactly 1 falls in the last bin; truth given as counts counts non-zero as true
    ece, table = U.calibration([1.0, 0.0], [5, 0], bins=10)
    assert ece == 0.0 and table["n"].iloc[-1] == 1 and table["n"].iloc[0] == 1


def test_calibration_refuses_bad_input():
    with pytest.raises(InputError, match="same size"):
        U.calibration([0.1, 0.2], [1])
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        U.calibration([1.2], [1])
    with pytest.raises(InputError, match="bins"):
        U.calibration([0.5], [1], bins=0)
    with pytest.raises(InputError, match="at least one"):
        U.calibration([], [])


def test_interval_coverage_by_hand():
    # draws 0..100 for each of 3 entries: the 90% interval is [5, 95]
    draws = np.repeat(np.arange(101.0)[:, None], 3, axis=1)
    lo, hi = U.interval_bounds(draws, 0.9)
    np.testing.assert_allclose(lo, 5.0)
    np.testing.assert_allclose(hi, 95.0)
    out = U.interval_coverage(draws, np.array([4.0, 5.0, 96.0]), level=0.9)
    assert out["coverage"] == pytest.approx(1 / 3)  # 5 is inside (bounds included)
    assert out["below"] == pytest.approx(1 / 3) and out["above"] == pytest.approx(1 / 3)
    assert out["mean_width"] == pytest.approx(90.0) and out["n"] == 3 and out["level"] == 0.9


def test_interval_coverage_of_ties_and_shapes():
    # all draws 0: the interval is [0, 0] and covers a true 0 only
    out = U.interval_coverage(np.zeros((50, 2)), np.array([0.0, 0.1]))
    assert out["coverage"] == 0.5 and out["above"] == 0.5
    with pytest.raises(InputError, match="shape of one draw"):
        U.interval_coverage(np.zeros((5, 2)), np.zeros(3))
    with pytest.raises(InputError, match="at least 2 draws"):
        U.interval_bounds(np.zeros((1, 3)))
    with pytest.raises(InputError, match="level"):
        U.interval_bounds(np.zeros((4, 3)), level=1.0)


def test_a_truth_on_a_bound_in_another_precision_is_inside():
    # a count of 1 on the log scale, the bound from float32 draws and the truth in float64
    truth = np.log1p(np.array([1.0, 1.0]) / np.array([3000.0, 7777.0]) * 1e4)
    lo = truth.astype(np.float32)
    assert np.any(lo.astype(np.float64) > truth)  # float32 rounding puts one bound above its truth
    assert U.bounds_coverage(lo, lo + 1, truth)["coverage"] == 1.0
    assert U.bounds_coverage(lo, lo + 1, truth, rtol=0)["coverage"] < 1.0
    assert U.bounds_coverage(lo, lo + 1, truth - 1e-3)["below"] == 1.0  # a real miss stays a miss
    with pytest.raises(InputError, match="rtol"):
        U.bounds_coverage(lo, lo, truth, rtol=-1)


def test_interval_coverage_is_nominal_for_draws_from_the_truths_law():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(200, 4000))
    truth = rng.normal(size=4000)
    assert U.interval_coverage(draws, truth, 0.9)["coverage"] == pytest.approx(0.9, abs=0.02)
    assert U.interval_coverage(draws * 0.3, truth, 0.9)["coverage"] < 0.5  # too narrow: under-covers


def test_log_draws_by_hand():
    draws = np.array([[[1.0, 3.0], [0.0, 2.0]], [[2.0, 2.0], [0.0, 0.0]]])  # 2 draws x 2 cells x 2 genes
    own = U.log_draws(draws, target_sum=4)
    np.testing.assert_allclose(own[0, 0], np.log1p([1.0, 3.0]), rtol=1e-6)  # cell total 4
    np.testing.assert_allclose(own[1, 1], [0.0, 0.0])  # an empty drawn cell stays 0
    fixed = U.log_draws(draws, lib=np.array([2.0, 4.0]), target_sum=4)
    np.testing.assert_allclose(fixed[1, 0], np.log1p([4.0, 4.0]), rtol=1e-6)
    with pytest.raises(InputError, match="one library size per cell"):
        U.log_draws(draws, lib=np.ones(3))


def test_reliability_plot_draws_one_curve_per_table():
    _, a = U.calibration([0.1, 0.9], [0, 1], bins=2)
    ax = U.reliability_plot({"a": a, "b": a})
    assert len(ax.lines) == 3  # the diagonal and two curves
    with pytest.raises(InputError):
        U.reliability_plot({})
