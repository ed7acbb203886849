"""The count model's checks against their targets (scmaskgan.benchmarking.checks): calibration and coverage."""

from __future__ import annotations

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import COUNT_MODEL_FAST

from scmaskgan import InputError, SCMaskGAN
from scmaskgan.benchmarking import checks as C
from scmaskgan.evaluation import questions as Q
from scmaskgan.scaling import log_normalize


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
    checks = C.score_count_model(prepared, outputs_a, outputs_b)
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
    table = C.checks_table(checks)
    assert list(table["met"]) == [True, False, False, None]  # coverage 1.0 is above the goal's 0.95
    np.testing.assert_allclose(table["value"], [0, 1, 1, 1], atol=1e-12)


def test_count_model_checks_runs_the_questions(prepared, models):
    checks = C.count_model_checks(prepared, models["A"], models["B"], n_draws=6)
    outputs_a = Q.answers(models["A"]) | Q.protocol_arrays(models["A"], "A", 6, lib=prepared.lib_orig)
    outputs_b = Q.answers(models["B"]) | Q.protocol_arrays(models["B"], "B", 6, counts=prepared.protocol_b())
    expected = C.score_count_model(prepared, outputs_a, outputs_b)
    assert checks["calibration"] == expected["calibration"]
    assert checks["coverage_A"] == expected["coverage_A"] and checks["coverage_B"] == expected["coverage_B"]
    assert 0 <= checks["calibration"]["ece"] <= 1 and 0 < checks["coverage_A"]["coverage"] <= 1
    # the deeper question detects more than the default one
    assert checks["calibration"]["mean_p_detected"] > checks["calibration"]["mean_p_detected_depth_1"]
    with pytest.raises(InputError, match="model_b"):
        C.count_model_checks(prepared, models["A"], SCMaskGAN(ad.AnnData(prepared.truth[:40].astype("float32")),
                                                              **COUNT_MODEL_FAST))
    fig = C.plot_reliability_questions({"sim": (checks["calibration_tables"]["protocol depth"],
                                                checks["calibration_tables"]["depth 1"])})
    assert len(fig.axes) == 2 and "depth 2.33" in fig.axes[0].get_title()
    assert len(fig.axes[0].lines) == 2  # the diagonal and one curve
    plt.close(fig)
    with pytest.raises(InputError, match="curve"):
        C.plot_reliability_questions({})
