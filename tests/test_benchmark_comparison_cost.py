"""scmaskgan.benchmarking.comparison and .cost: the benchmark and cost notebooks' plumbing and figures on small
cases."""

from __future__ import annotations

import anndata
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scmaskgan._validation import InputError
from scmaskgan.benchmarking import DatasetSpec, prepare
from scmaskgan.benchmarking import comparison as C
from scmaskgan.benchmarking import cost as K
from scmaskgan.benchmarking.benchmark import METHODS
from scmaskgan.evaluation import score_hidden, score_thinning

# ---------------------------------------------------------------------------------------
# comparison


def test_method_options():
    assert C.method_options("scmaskgan") == {}
    assert C.method_options("scmaskgan", quick=True) == METHODS["scmaskgan"].quick_options
    quick = C.method_options("scmaskgan_paper", quick=True, max_epochs=7, device="cpu")
    assert quick["mode"] == "paper" and quick["max_epochs"] == 7 and quick["device"] == "cpu" and not quick["tune"]
    assert C.method_options("alra", max_epochs=7, device="cpu") == {}  # epochs and device are scMASKGAN's only
    # the paper's epochs and the count model's apart; the neighbour fill trains nothing
    assert C.method_options("scmaskgan", max_epochs=7) == {}
    assert C.method_options("scmaskgan", max_epochs=7, count_max_epochs=3) == {"max_epochs": 3}
    assert C.method_options("scmaskgan_neighbours", max_epochs=7, count_max_epochs=3) == {"mode": "neighbours"}
    with pytest.raises(InputError, match="unknown method"):
        C.method_options("nope")


def test_select_methods():
    kept, missing = C.select_methods(["alra", "none"], none_first=True)
    assert kept[:2] == ["none", "alra"] and missing == []
    assert C.select_methods(None, ["alra"])[0] == ["alra"]
    assert C.select_methods(["alra"], none_first=True)[0] == ["none", "alra"]
    with pytest.raises(InputError, match="unknown methods"):
        C.select_methods(["alra", "magik"])
    with pytest.raises(InputError, match="string"):
        C.select_methods("alra")


def _prepared():
    rng = np.random.default_rng(1)
    counts = rng.poisson(3.0, size=(12, 30)).astype(np.float32)
    obs = pd.DataFrame({"kind": np.repeat(["a", "b"], 6)}, index=[f"c{i}" for i in range(12)])
    adata = anndata.AnnData(sp.csr_matrix(counts), obs=obs)
    return prepare("toy", spec=DatasetSpec("kind", n_top=20, loader=adata.copy))


def test_run_methods_and_heldout_tables():
    data = _prepared()
    inputs = {"A": data.protocol_a()[0], "B": data.protocol_b()}
    outputs, timings = C.run_methods(inputs, ["none"], data.labels)
    np.testing.assert_array_equal(outputs["A"]["none"], inputs["A"])  # no imputation returns its input
    assert list(timings.index) == ["none"] and list(timings.columns) == ["A input (s)", "B input (s)"]
    a, b = C.heldout_tables(data, outputs)
    hidden = data.protocol_a()[1]
    expected = score_hidden(data.truth, inputs["A"], hidden, data.lib_orig)
    assert a.loc["none", "rmse"] == pytest.approx(expected["rmse"])
    assert "n_hidden" not in a.columns and {"ari", "nmi"} <= set(a.columns)
    assert b.loc["none", "rmse_zeros"] == pytest.approx(score_thinning(data.truth, inputs["B"], inputs["B"])["rmse_zeros"])
    with pytest.raises(InputError):
        C.heldout_tables(data, {"A": outputs["A"]})


def _tables():
    methods = ["none", "m1", "m2", "m3"]
    dist = pd.DataFrame({"js_mean": [0.0, 0.1, 0.2, 0.3], "wasserstein_mean": [0.0, 0.1, 0.3, 0.2]}, index=methods)
    pearson = pd.DataFrame({"pearson_all": [1.0, 0.9, 0.8, 0.7]}, index=methods)
    a = pd.DataFrame({"rmse": [0.6, 0.5, 0.7, 0.3], "ari": [1.0, 0.9, 0.8, 0.7]}, index=methods)
    b = pd.DataFrame({"rmse_zeros": [1.0, 1.2, 0.9, 0.8], "mean_at_true_zeros": [0.0, 1.0, 0.5, 0.2]}, index=methods)
    clust = pd.DataFrame({"acc": [1.0, 0.9, 0.8, 0.5], "n_clusters": [2, 2, 2, 3], "n_labels": [2] * 4}, index=methods)
    return {"distances": dist, "pearson": pearson, "clustering": clust, "heldout_A": a, "heldout_B": b}


def test_method_ranks_by_hand():
    t = _tables()
    paper, heldout, rho = C.method_ranks(t["distances"], t["pearson"], t["heldout_A"], t["heldout_B"], ["m1", "m2", "m3"])
    # JS ranks 1 2 3, Wasserstein 1 3 2, Pearson 1 2 3 -> 1, 7/3, 8/3; A: 2 3 1, B: 3 2 1 -> 2.5, 2.5, 1
    np.testing.assert_allclose(paper, [1.0, 7 / 3, 8 / 3])
    np.testing.assert_allclose(heldout, [2.5, 2.5, 1.0])
    assert rho == pytest.approx(-0.8660254)  # ranks (1, 2, 3) against (2.5, 2.5, 1)
    assert np.isnan(C.method_ranks(t["distances"], t["pearson"], t["heldout_A"], t["heldout_B"], ["m1", "m2"])[2])


def test_describe_benchmark_names_what_the_tables_show():
    truth = np.array([[0, 2], [3, 0]])
    thinned = np.array([[0, 0], [1, 0]])  # zeros scored: 3, of which 2 are true zeros
    text = C.describe_benchmark(_tables(), truth=truth, thinned=thinned, resolution=0.5, labels_key="line",
                                preset="smoke", epochs=2, n_genes=300)
    assert "3 of the 3 methods score worse than *none*" in text
    assert "put `m1` first" in text and "put `m3` first" in text and "disagree" in text
    assert "`m1`, `m3` beat no imputation (RMSE 0.600)" in text
    assert "`m2`, `m3` beat no imputation (RMSE at zeros 1.000); `m1` beats it on protocol A but not" in text
    assert "67% of the zeros" in text
    assert "`m3` gives a number of clusters other than the 2 labels" in text
    assert "**smoke preset** (paper mode: 2 epochs, 300 genes)" in text
    assert "preset" not in C.describe_benchmark(_tables(), truth=truth, thinned=thinned, resolution=0.5,
                                                labels_key="line")
    with pytest.raises(InputError, match="tables"):
        C.describe_benchmark({}, truth=truth, thinned=thinned, resolution=0.5, labels_key="line")


# ---------------------------------------------------------------------------------------
# cost


def test_write_dense_npy_round_trip(tmp_path):
    m = sp.random(10, 4, density=0.3, format="csr", random_state=0)
    K.write_dense_npy(m, tmp_path / "m.npy", block=3)
    back = np.load(tmp_path / "m.npy")
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, m.toarray())
    K.write_dense_npy(m.toarray(), tmp_path / "d.npy", block=100)
    np.testing.assert_array_equal(np.load(tmp_path / "d.npy"), m.toarray())


def test_fit_loglog_uses_the_larger_half():
    n = np.array([100, 200, 400, 800])
    y = np.array([50.0, 1.0, 4.0, 16.0])  # slope 2 over the two largest sizes; the first point is off
    slope, intercept, fitted = K.fit_loglog(n, y)
    assert slope == pytest.approx(2.0) and list(fitted) == [400, 800]
    assert 10 ** (intercept + slope * np.log10(800)) == pytest.approx(16.0)
    assert list(K.fit_loglog([100, 200, 400], [1.0, 2.0, 4.0])[2]) == [200, 400]  # 3 sizes: max(2, 3 - 1) = 2
    assert np.isnan(K.fit_loglog([100, 200], [0.0, 1.0])[0])  # one positive value
    with pytest.raises(InputError):
        K.fit_loglog([1, 2], [1.0])


def _cost():
    rows = []
    for n in (100, 200, 400):
        for name, t in (("none", 0.0), ("alra", n / 100), ("scmaskgan", (n / 100) ** 2)):
            rows.append({"n_cells": n, "n_genes": 5, "method": name, "method_s": t, "wall_s": t + 1,
                         "peak_rss_mb": 100.0 + n, "status": "ok", "error": ""})
    rows[-1] |= {"status": "failed", "method_s": np.nan}  # scmaskgan at 400 cells
    return pd.DataFrame(rows)


def test_cost_slopes_and_common_size():
    cost = _cost()
    slopes = K.cost_slopes(cost)
    runtime = slopes[slopes["cost"] == "method_s"].set_index("method")["slope"]
    assert "none" not in runtime.index  # no runtime slope for no imputation
    assert runtime["alra"] == pytest.approx(1.0) and runtime["scmaskgan"] == pytest.approx(2.0)
    assert set(slopes[slopes["cost"] == "peak_rss_mb"]["method"]) == {"none", "alra", "scmaskgan"}
    assert K.largest_common_size(cost) == 200
    text = K.describe_cost(cost, slopes, ["none", "alra", "scmaskgan"], preset="quick")
    assert "`alra`: 4.0 s and 500 MB at 400 cells; runtime slope 1.00" in text
    assert "1 run(s) did not finish or were skipped: `scmaskgan` at 400 cells (failed)" in text
    assert "**quick preset** (100, 200, 400 cells)" in text


def test_measure_cost_with_a_fake_runner():
    calls = []

    def fake(task, folder, tag, threads):
        calls.append((tag, task["options"], task["labels"] is not None, threads))
        assert np.load(task["input"]).shape == (int(tag.split(".")[0]), 20)
        if tag.endswith("alra"):
            raise RuntimeError("it broke")
        return {"method_s": 5.0, "wall_s": 6.0, "peak_rss_mb": 1.0}

    cost = K.measure_cost([30, 20], ["scmaskgan", "alra", "none"], {"scmaskgan": {"max_epochs": 1}}, n_genes=20,
                          n_groups=2, max_cells={"none": 20}, max_seconds=5.5, run=fake)
    assert list(cost["n_cells"]) == [20, 20, 20, 30, 30]  # none stops above 20 cells
    assert list(cost["status"]) == ["ok", "failed", "ok", "skipped", "failed"]  # scmaskgan took too long at 20
    assert cost.loc[1, "error"].endswith("it broke")
    assert calls[0] == ("20.scmaskgan", {"max_epochs": 1}, True, 1)
    assert (cost["threads"] == 1).all()
    with pytest.raises(InputError):
        K.measure_cost([10], ["magik"], {}, n_genes=5)


# ---------------------------------------------------------------------------------------
# the benchmark notebook's figures


def _figure_tables():
    methods = ["none", "alra", "scmaskgan"]
    dist = pd.DataFrame({"js_mean": [0.0, 0.1, 0.2]}, index=methods)
    pearson = pd.DataFrame({"pearson_all": [1.0, 0.9, 0.8]}, index=methods)
    a = pd.DataFrame({"rmse": [0.6, 0.5, 0.7]}, index=methods)
    b = pd.DataFrame({"rmse_zeros": [1.0, 1.2, 0.9], "mean_at_true_zeros": [0.0, 1.0, 0.5]}, index=methods)
    return methods, dist, pearson, a, b


def test_method_colour():
    assert [C.method_colour(m) for m in ["none", "scmaskgan_auto", "magic"]] == ["black", "tab:red", "tab:blue"]


def test_plot_heldout_and_paper_vs_heldout():
    methods, dist, pearson, a, b = _figure_tables()
    fig = C.plot_heldout(a, b, ["scmaskgan", "none"])
    axes = fig.axes
    assert len(axes) == 3 and axes[0].get_title() == "protocol A: RMSE at hidden entries"
    heights = [p.get_height() for p in axes[1].patches]
    assert heights == [0.9, 1.0]  # protocol B's RMSE at zeros, in the order asked
    assert axes[0].lines[0].get_ydata()[0] == 0.6  # the dashed line of "none"
    assert [t.get_text() for t in axes[2].get_xticklabels()] == ["scmaskgan", "none"]
    plt.close(fig)
    fig = C.plot_paper_vs_heldout(dist, pearson, a, b)
    left = fig.axes[0]
    np.testing.assert_allclose(left.collections[1].get_offsets(), [[0.1, 0.5]])  # alra: JS, protocol A RMSE
    assert not left.texts  # no labels on the points (they overprinted): one legend names the methods
    assert [t.get_text() for t in fig.legends[0].get_texts()] == methods
    assert all(label.get_fontsize() >= 8 for ax in fig.axes for label in ax.get_xticklabels() + ax.get_yticklabels())
    plt.close(fig)
    with pytest.raises(InputError, match="no rows"):
        C.plot_heldout(a, b, ["knn"])
    with pytest.raises(InputError, match="no rows"):
        C.plot_paper_vs_heldout(dist, pearson, a.drop(index="none"), b, ["alra"])
    with pytest.raises(InputError, match="string"):
        C.plot_heldout(a, b, "alra")


def test_plot_cv_zscores_and_umaps():
    rng = np.random.default_rng(0)
    X = rng.poisson(3.0, size=(30, 20)).astype(np.float64)
    outputs = {"none": X, "other": X + 1.0}
    fig = C.plot_cv_zscores(outputs)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["none", "other"]
    assert [line.get_label() for line in right.get_lines()] == ["none", "other"]
    plt.close(fig)
    with pytest.raises(InputError):
        C.plot_cv_zscores(outputs, ["none", "magic"])
    labels = np.repeat(["a", "b", "c"], 10)
    fig = C.plot_label_umaps([("none", X), ("other", X + 1.0)], labels, legend_title="kind", ncols=3)
    assert len(fig.axes) == 3 and not fig.axes[2].axison  # the empty panel is hidden
    assert fig.axes[0].get_title() == "none" and len(fig.axes[0].collections) == 3  # one colour per label
    assert fig.axes[0].get_legend().get_title().get_text() == "kind"
    plt.close(fig)
    with pytest.raises(InputError, match="cells"):
        C.plot_label_umaps([("none", X)], labels[:5])
    with pytest.raises(InputError, match="at least one panel"):
        C.plot_label_umaps([], labels)


def test_run_methods_asks_each_protocol_its_own_answer(monkeypatch):
    """The count model's row answers protocol A's input with its value if detected, B's with its expected value,
    as ``scmaskgan benchmark`` does; other inputs get the main layer."""
    import scmaskgan.benchmarking.baselines as baselines

    seen = []

    def fake_run(name, counts, *, labels=None, seed=0, **options):
        seen.append(options.get("layer"))
        return counts

    monkeypatch.setattr(baselines, "run", fake_run)
    x = np.ones((4, 3))
    C.run_methods({"original": x, "A": x, "B": x}, ["scmaskgan"], quick=True)
    assert seen == [None, "if_detected", "mean"]
