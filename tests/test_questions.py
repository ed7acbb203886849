"""The protocols' questions to the count model (scmaskgan.evaluation.questions); their checks against the
targets are tests/test_benchmark_checks.py's. The fixtures ``prepared`` and ``models`` are conftest's."""

from __future__ import annotations

import numpy as np
import pytest

from scmaskgan import InputError
from scmaskgan.evaluation import thin
from scmaskgan.evaluation import questions as Q
from scmaskgan.scaling import log_normalize


def test_protocol_b_question_is_the_removed_molecules(prepared):
    assert Q.B_DEPTH == pytest.approx(7 / 3)
    # KEEP is the share that Prepared.protocol_b thins to
    np.testing.assert_array_equal(prepared.protocol_b(), thin(prepared.truth, Q.KEEP, seed=0))


def test_answers_and_p_detected_at_a_depth(prepared, models):
    model = models["B"]
    x = prepared.protocol_b()
    zeros = x == 0
    layers = Q.answers(model)
    assert set(layers) == {"mean", "if_detected", "p_detected"}
    first = next(model.iter_answers(block_size=model.n_cells))[2]
    for name, values in layers.items():
        assert values.shape == x.shape and values.dtype == np.float32
        np.testing.assert_array_equal(values, first[name])
    deep = Q.p_detected_at(model, Q.B_DEPTH)
    mu, theta, pi = model.count_model.distribution(np.arange(model.n_cells))
    keep = 1.0 if pi is None else 1 - pi  # zero inflation (the default) is kept at any depth
    expected = np.ones(x.shape)
    expected[:, model.genes_used_] = keep * (1 - (theta / (theta + Q.B_DEPTH * mu)) ** theta)
    np.testing.assert_allclose(deep[zeros], expected[zeros], atol=1e-6)
    assert np.all(deep[~zeros] == 1)
    assert np.all(deep[zeros] >= layers["p_detected"][zeros] - 1e-7)
    assert deep[zeros].mean() > layers["p_detected"][zeros].mean()
    np.testing.assert_array_equal(Q.p_detected_at(model), layers["p_detected"])


def test_draw_bounds_on_the_protocols_scales(prepared, models):
    model = models["A"]
    x, hidden = prepared.protocol_a()
    lib = prepared.lib_orig
    zeros = x == 0
    lo, hi = Q.draw_bounds(model, 8, lib)
    lo_d, hi_d = Q.detected_draw_bounds(model, 8, lib)
    for a, b in ((lo, hi), (lo_d, hi_d)):
        assert a.shape == x.shape and a.dtype == np.float32 and np.all(a <= b)
        # an observed value is every draw's value: its interval is the point, on log1p(x / lib * 1e4)
        np.testing.assert_allclose(a[~zeros], log_normalize(x, lib)[~zeros], rtol=1e-5)
        np.testing.assert_allclose(b[~zeros], a[~zeros])
    # given detection every draw of a zero is at least one molecule; as drawn, some are 0 and the rest lower
    one = np.broadcast_to(np.log1p(1e4 / lib)[:, None], x.shape)
    assert np.all(lo_d[zeros] >= one[zeros] * (1 - 1e-5))
    assert (lo[zeros] < one[zeros] * (1 - 1e-5)).any() and lo[zeros].mean() < lo_d[zeros].mean()
    # the model's seed: the same bounds again
    np.testing.assert_array_equal(Q.detected_draw_bounds(model, 8, lib)[0], lo_d)
    assert Q.draw_bounds(model, 8, lib, 0.5)[1].mean() < hi.mean()  # a narrower level, a narrower interval


def test_removed_molecule_bounds(prepared, models):
    model = models["B"]
    x = prepared.protocol_b()
    zeros = x == 0
    lo, hi = Q.removed_molecule_bounds(model, x, 10)
    assert lo.shape == x.shape and np.all(lo <= hi)
    assert np.all(lo[~zeros] == 0) and np.all(hi[~zeros] == 0)  # observed entries are not asked
    # each zero's draws are whole counts of removed molecules over the truth's library, the input's / KEEP
    lib_truth = x.sum(1, keepdims=True) / Q.KEEP
    draws = np.round(model.sample(10, seed=model.params["seed"], depth=Q.B_DEPTH) * Q.B_DEPTH)
    values = np.log1p(draws / lib_truth[None] * 1e4)
    np.testing.assert_allclose(lo[zeros], np.quantile(values, 0.05, axis=0)[zeros], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hi[zeros], np.quantile(values, 0.95, axis=0)[zeros], rtol=1e-5, atol=1e-6)
    assert hi[zeros].mean() > 0
    with pytest.raises(InputError, match="keep"):
        Q.removed_molecule_bounds(model, x, 10, keep=1.0)
    with pytest.raises(InputError, match="shape"):
        Q.removed_molecule_bounds(model, x[:5], 10)


def test_protocol_arrays_and_refusals(prepared, models):
    a = Q.protocol_arrays(models["A"], "A", 4, lib=prepared.lib_orig)
    assert set(a) == {"draw_lo", "draw_hi", "draw_lo_if_detected", "draw_hi_if_detected"}
    np.testing.assert_array_equal(a["draw_lo_if_detected"],
                                  Q.detected_draw_bounds(models["A"], 4, prepared.lib_orig)[0])
    b = Q.protocol_arrays(models["B"], "B", 4, counts=prepared.protocol_b())
    assert set(b) == {"p_detected_protocol_depth", "draw_lo", "draw_hi", "draw_lo_protocol_depth",
                      "draw_hi_protocol_depth"}
    np.testing.assert_array_equal(b["p_detected_protocol_depth"], Q.p_detected_at(models["B"], Q.B_DEPTH))
    with pytest.raises(InputError, match="lib"):
        Q.protocol_arrays(models["A"], "A", 4)
    with pytest.raises(InputError, match="counts"):
        Q.protocol_arrays(models["B"], "B", 4)
    with pytest.raises(InputError, match="protocol"):
        Q.protocol_arrays(models["B"], "C", 4)
