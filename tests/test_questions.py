"""The protocols' questions to the count model (scmaskgan.evaluation.questions) and their scores."""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pytest

import scmaskgan
from scmaskgan import InputError, SCMaskGAN
from scmaskgan.evaluation import DatasetSpec, prepare, thin
from scmaskgan.evaluation import questions as Q
from scmaskgan.scaling import log_normalize

#: The simulated counts below are deep enough to be tried as read counts (scmaskgan.count.read_counts); these tests
#: are about the questions, so the counts are read as they are.
FAST = dict(mode="masked", max_epochs=4, progress=False, hidden_dim=32, latent_dim=8, noise_dim=4,
            reads_per_molecule=1.0, hide=0.0)


@pytest.fixture(scope="module")
def prepared():
    """80 simulated cells x 60 genes, 3 groups, through the benchmark's set-up."""

    def loader():
        adata = scmaskgan.simulate.simulate(80, 60, 3, seed=1, keep_truth=False)
        adata.X = adata.X.astype("float32")
        return adata

    return prepare("sim", DatasetSpec("group", n_top=60, loader=loader))


@pytest.fixture(scope="module")
def models(prepared):
    """Count models fitted (a few epochs, true labels) on protocol A's and protocol B's inputs."""
    fitted = {}
    for protocol, counts in prepared.inputs().items():
        fitted[protocol] = SCMaskGAN(prepared.anndata(counts), labels_key="group", seed=2, **FAST).train()
    return fitted


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
    draws = np.round(model.sample(10, depth=Q.B_DEPTH) * Q.B_DEPTH)
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


def test_score_count_model_on_known_answers(prepared):
    """Perfect probabilities and intervals on the truth score 0 and 1; answers that miss score as they should."""
    truth, lib = prepared.truth, prepared.lib_orig
    x_b = prepared.protocol_b()
    zeros = x_b == 0
    dropout = (truth > 0).astype(np.float32)
    on_a = log_normalize(truth, lib).astype(np.float32)  # A's scale: the truth over lib_orig
    on_b = log_normalize(truth).astype(np.float32)  # B's scale: the truth over its own totals
    outputs_a = {"mean": truth, "if_detected": truth, "p_detected": dropout,
                 "draw_lo_if_detected": on_a, "draw_hi_if_detected": on_a, "draw_lo": on_a + 1, "draw_hi": on_a + 2}
    outputs_b = {"mean": truth, "if_detected": truth, "p_detected": np.full(truth.shape, 0.5, np.float32),
                 "p_detected_protocol_depth": dropout, "draw_lo_protocol_depth": on_b - (truth > 0),
                 "draw_hi_protocol_depth": on_b, "draw_lo": on_b + 1, "draw_hi": on_b + 1}
    checks = Q.score_count_model(prepared, outputs_a, outputs_b)
    assert checks["A"]["rmse"] == pytest.approx(0) and checks["B"]["rmse_zeros"] == pytest.approx(0)
    share = (truth[zeros] > 0).mean()
    assert 0 < share < 1
    cal = checks["calibration"]
    assert cal["ece"] == pytest.approx(0) and cal["share_truth_nonzero"] == pytest.approx(share)
    assert cal["ece_depth_1"] == pytest.approx(abs(0.5 - share))
    assert cal["mean_p_detected"] == pytest.approx(share) and cal["mean_p_detected_depth_1"] == pytest.approx(0.5)
    assert checks["calibration_tables"]["protocol depth"]["n"].sum() == zeros.sum()
    assert checks["coverage_A"]["coverage"] == 1 and checks["coverage_A"]["coverage_draws_as_drawn"] == 0
    assert checks["coverage_A"]["n"] == prepared.protocol_a()[1].size
    cov_b = checks["coverage_B"]
    assert cov_b["coverage"] == 1 and cov_b["coverage_depth_1"] == 0 and cov_b["coverage_dropouts_only"] == 1
    assert cov_b["mean_width"] == pytest.approx(share)  # width 1 at the dropouts, 0 at the true zeros
    table = Q.checks_table(checks)
    assert list(table["met"]) == [True, False, False, None]  # coverage 1.0 is above the goal's 0.95
    np.testing.assert_allclose(table["value"], [0, 1, 1, 1], atol=1e-12)


def test_count_model_checks_runs_the_questions(prepared, models):
    checks = Q.count_model_checks(prepared, models["A"], models["B"], n_draws=6)
    outputs_a = Q.answers(models["A"]) | Q.protocol_arrays(models["A"], "A", 6, lib=prepared.lib_orig)
    outputs_b = Q.answers(models["B"]) | Q.protocol_arrays(models["B"], "B", 6, counts=prepared.protocol_b())
    expected = Q.score_count_model(prepared, outputs_a, outputs_b)
    assert checks["calibration"] == expected["calibration"]
    assert checks["coverage_A"] == expected["coverage_A"] and checks["coverage_B"] == expected["coverage_B"]
    assert 0 <= checks["calibration"]["ece"] <= 1 and 0 < checks["coverage_A"]["coverage"] <= 1
    # the deeper question detects more than the default one
    assert checks["calibration"]["mean_p_detected"] > checks["calibration"]["mean_p_detected_depth_1"]
    with pytest.raises(InputError, match="model_b"):
        Q.count_model_checks(prepared, models["A"], SCMaskGAN(ad.AnnData(prepared.truth[:40].astype("float32")),
                                                              **FAST))
    fig = Q.plot_reliability_questions({"sim": (checks["calibration_tables"]["protocol depth"],
                                                checks["calibration_tables"]["depth 1"])})
    assert len(fig.axes) == 2 and "depth 2.33" in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) == 2  # the diagonal and one curve
    plt.close(fig)
    with pytest.raises(InputError, match="curve"):
        Q.plot_reliability_questions({})
