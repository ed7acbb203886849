"""scmaskgan.evaluation.metrics on small cases whose values are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan import evaluation
from scmaskgan.evaluation import metrics as M
from scmaskgan._validation import InputError

# ---------------------------------------------------------------------------------------
# coefficient of variation and z-scores


def test_cv_of_known_vectors():
    X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    cv = M.coefficient_of_variation(X, transform="none")
    assert cv[0] == pytest.approx(math.sqrt(1.25) / 2.5)  # 0.4472
    assert np.isnan(cv[1])  # mean 0
    cv1 = M.coefficient_of_variation(X, transform="none", ddof=1)
    assert cv1[0] == pytest.approx(math.sqrt(5 / 3) / 2.5)  # 0.5164


def test_cv_cp10k_normalises_each_cell():
    # cp10k: cell 1 -> [5000, 5000], cell 2 -> [7500, 2500]
    X = sp.csr_matrix(np.array([[1.0, 1.0], [3.0, 1.0]]))
    np.testing.assert_allclose(M.coefficient_of_variation(X), [1250 / 6250, 1250 / 3750])


def test_cv_summary_by_hand():
    original = np.array([[1.0, 0.0], [3.0, 2.0]])  # CVs 0.5 and 1.0
    imputed = np.array([[2.0, 1.0], [2.0, 3.0]])  # CVs 0.0 and 0.5
    s = M.cv_summary(original, imputed, transform="none")
    assert s["cv_original_median"] == pytest.approx(0.75)
    assert s["cv_imputed_median"] == pytest.approx(0.25)
    assert s["cv_ratio_median"] == pytest.approx(0.25)  # median of 0 and 0.5
    assert s["cv_mean_abs_diff"] == pytest.approx(0.5)
    assert s["cv_pearson"] == pytest.approx(1.0)
    assert s["n_genes"] == 2


def test_zscores_and_summary_by_hand():
    X = np.array([[1.0, 0.0, 5.0], [2.0, 0.0, 5.0], [3.0, 0.0, 5.0], [2.0, 3.0, 5.0]])
    z = M.zscores(X, transform="none")
    sd0 = math.sqrt(0.5)  # column [1, 2, 3, 2]: mean 2, population variance 0.5
    np.testing.assert_allclose(z[:, 0], [-1 / sd0, 0, 1 / sd0, 0])
    s3 = 1 / math.sqrt(3)  # column [0, 0, 0, 3] -> [-1/sqrt3 x 3, sqrt3]
    np.testing.assert_allclose(z[:, 1], [-s3, -s3, -s3, math.sqrt(3)])
    np.testing.assert_array_equal(z[:, 2], 0)  # constant gene
    s = M.zscore_summary(X[:, 1:], transform="none", threshold=1.5)
    assert s["n_constant_genes"] == 1
    assert s["share_beyond"] == pytest.approx(0.25)
    assert s["skewness"] == pytest.approx(2 / math.sqrt(3))  # mean z^3 = (-3/(3 sqrt3) + 3 sqrt3) / 4
    assert s["kurtosis"] == pytest.approx((3 / 9 + 9) / 4 - 3)  # mean z^4 - 3 = -2/3


# ---------------------------------------------------------------------------------------
# distances between distributions, Pearson with the original


def test_js_identical_is_zero_and_disjoint_is_one():
    rng = np.random.default_rng(0)
    X = rng.poisson(3.0, size=(40, 6)).astype(float)
    np.testing.assert_allclose(M.js_distance(X, X), 0.0, atol=1e-12)
    np.testing.assert_allclose(M.js_distance(X, X.copy(), transform="none"), 0.0, atol=1e-12)
    a = np.zeros((4, 1))
    b = np.ones((4, 1))
    assert M.js_distance(a, b, transform="none", bins=2)[0] == pytest.approx(1.0)
    # a gene with one value everywhere in both matrices
    assert M.js_distance(b, b, transform="none")[0] == 0.0


def test_js_half_overlap_by_hand():
    original = np.array([[0.0], [0.0], [1.0], [1.0]])  # histogram (0.5, 0.5) with 2 bins on [0, 1]
    imputed = np.ones((4, 1))  # (0, 1)
    m = np.array([0.25, 0.75])
    kl_p = 0.5 * math.log2(0.5 / m[0]) + 0.5 * math.log2(0.5 / m[1])
    kl_q = math.log2(1 / m[1])
    expected = math.sqrt((kl_p + kl_q) / 2)  # 0.5579
    assert M.js_distance(original, imputed, transform="none", bins=2)[0] == pytest.approx(expected)


def test_wasserstein_of_shifted_samples_is_the_shift():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    np.testing.assert_allclose(M.wasserstein(X, X + 0.7, transform="none"), 0.7)
    np.testing.assert_allclose(M.wasserstein(X, X, transform="none"), 0.0)


def test_wasserstein_matches_scipy():
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(2)
    a = rng.poisson(2.0, size=(30, 5)).astype(float)
    b = rng.poisson(3.0, size=(30, 5)).astype(float)
    expected = [wasserstein_distance(a[:, j], b[:, j]) for j in range(5)]
    np.testing.assert_allclose(M.wasserstein(sp.csr_matrix(a), b, transform="none"), expected)
    d = M.distribution_distances(a, b, transform="none")
    assert d["wasserstein_mean"] == pytest.approx(np.mean(expected))


def test_gene_blocks_cover_all_genes(monkeypatch):
    rng = np.random.default_rng(3)
    a = rng.poisson(2.0, size=(10, 7)).astype(float)
    b = rng.poisson(2.0, size=(10, 7)).astype(float)
    whole = M.wasserstein(a, b), M.js_distance(a, b), M.pearson_with_original(a, b)
    monkeypatch.setattr(M, "_BLOCK_ENTRIES", 25)  # 2 genes per block
    np.testing.assert_allclose(M.wasserstein(a, b), whole[0])
    np.testing.assert_allclose(M.js_distance(a, b), whole[1])
    assert M.pearson_with_original(a, b) == pytest.approx(whole[2])


def test_pearson_with_original_by_hand():
    original = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0], [2.0, 2.0, 2.0]])
    imputed = np.array([[1.0, 3.0, 2.0], [0.0, 1.0, 0.0], [2.0, 2.0, 2.0]])
    r = M.pearson_with_original(original, imputed, transform="none")
    # cell 1: r = 0.5; cell 2: r = -0.5; cell 3 is constant (left out)
    assert r["pearson_cell_mean"] == pytest.approx(0.0)
    assert r["pearson_cell_median"] == pytest.approx(0.0)
    assert r["n_cells_undefined"] == 1
    # all 9 entries: sx = sy = 13, sxx = syy = 27, sxy = 25 -> (25 - 169/9) / (27 - 169/9)
    assert r["pearson_all"] == pytest.approx((25 - 169 / 9) / (27 - 169 / 9))
    same = M.pearson_with_original(original[:2], 2 * original[:2] + 1, transform="none")
    assert same["pearson_all"] == pytest.approx(1.0)
    assert same["pearson_cell_mean"] == pytest.approx(1.0)


def test_transforms_and_shape_checks():
    with pytest.raises(InputError, match="transform"):
        M.wasserstein(np.ones((2, 2)), np.ones((2, 2)), transform="log2")
    with pytest.raises(InputError, match="same shape"):
        M.js_distance(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(InputError, match="NaN"):
        M.cv_summary(np.array([[1.0, np.nan]]), np.ones((1, 2)))
    # log1p_cp10k normalises each matrix by its own totals: a scaled copy is at distance 0
    X = np.array([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(M.wasserstein(X, 5 * X), 0.0, atol=1e-12)


# ---------------------------------------------------------------------------------------
# clustering against labels


def test_permuted_labelling_scores_one():
    labels = np.array(["a", "a", "b", "b", "c", "c"])
    clusters = np.array([5, 5, 3, 3, 4, 4])
    s = M.clustering_agreement(labels, clusters)
    for key in ("acc", "auc", "f1", "ari", "nmi"):
        assert s[key] == pytest.approx(1.0), key
    assert s["n_labels"] == s["n_clusters"] == 3


def test_known_confusion_matrix():
    # contingency (labels x clusters): [[2, 1, 0], [0, 3, 0], [0, 0, 2]]
    labels = [0, 0, 0, 1, 1, 1, 2, 2]
    clusters = [0, 0, 1, 1, 1, 1, 2, 2]
    s = M.clustering_agreement(labels, clusters)
    assert s["acc"] == pytest.approx(7 / 8)
    # F1 per label: 2TP / (n_label + n_predicted) = 4/5, 6/7, 1
    assert s["f1"] == pytest.approx((4 / 5 + 6 / 7 + 1) / 3)
    # AUC per label: (1 + TPR - FPR) / 2 = (1 + 2/3)/2, (1 + 1 - 1/5)/2, 1
    assert s["auc"] == pytest.approx((5 / 6 + 0.9 + 1) / 3)
    from sklearn.metrics import f1_score

    predicted, _, _ = M.match_clusters(labels, clusters)
    assert s["f1"] == pytest.approx(f1_score(labels, predicted, average="macro"))


def test_more_clusters_than_labels():
    labels = [0, 0, 0, 1, 1, 1]
    clusters = ["x", "x", "y", "z", "z", "z"]
    predicted, names, contingency = M.match_clusters(labels, clusters)
    np.testing.assert_array_equal(predicted, [0, 0, -1, 1, 1, 1])  # cluster y is left unmatched
    assert contingency.tolist() == [[2, 1, 0], [0, 0, 3]]
    s = M.clustering_agreement(labels, clusters)
    assert s["acc"] == pytest.approx(5 / 6)
    assert s["f1"] == pytest.approx((4 / 5 + 1) / 2)
    assert s["auc"] == pytest.approx((5 / 6 + 1) / 2)
    assert s["n_clusters"] == 3


def test_clustering_agreement_errors():
    with pytest.raises(InputError, match="single class"):
        M.clustering_agreement([1, 1, 1], [0, 1, 2])
    with pytest.raises(InputError, match="one entry per cell"):
        M.clustering_agreement([0, 1], [0, 1, 1])
    with pytest.raises(InputError, match="missing"):
        M.clustering_agreement(np.array(["a", None, "b"], dtype=object), [0, 1, 1])


def test_leiden_cluster_recovers_simulated_groups():
    from scmaskgan.simulate import simulate

    sim = simulate(n_cells=150, n_genes=300, n_groups=3, de_prob=0.3, de_fac_loc=1.0, seed=4)
    clusters = M.cluster(sim, resolution=0.3, seed=0, layer="true_counts")
    assert clusters.shape == (150,)
    s = M.clustering_agreement(sim.obs["group"], clusters)
    assert s["acc"] > 0.9 and s["ari"] > 0.8
    again = M.cluster(sim.layers["true_counts"], resolution=0.3, seed=0)
    np.testing.assert_array_equal(clusters, again)
    with pytest.raises(InputError, match="layer"):
        M.cluster(sim, layer="nope")


# ---------------------------------------------------------------------------------------
# ERCC spike-ins


def test_ercc_perfect_case():
    conc = np.exp([0.0, 1.0, 2.0, 3.0])  # log concentration 0, 1, 2, 3
    counts = np.array([[0, 1, 3, 7], [0, 3, 15, 63]], dtype=float)  # log(c + 1) = k x log concentration
    s = M.ercc_scores(counts, conc)
    for key in ("pearson_cell_median", "spearman_cell_median", "pearson_over_cells", "spearman_over_cells"):
        assert s[key] == pytest.approx(1.0), key
    assert s["n_spikeins"] == 4 and s["n_cells_undefined"] == 0


def test_ercc_per_cell_versus_over_cells():
    conc = np.exp([0.0, 1.0, 2.0, 3.0])
    counts = sp.csr_matrix(np.array([[0, 1, 3, 7], [7, 3, 1, 0], [2, 2, 2, 2]], dtype=float))
    s = M.ercc_scores(counts, conc)
    assert s["pearson_cell_median"] == pytest.approx(0.0)  # median of +1 and -1; constant cell left out
    assert s["spearman_cell_median"] == pytest.approx(0.0)
    assert s["n_cells_undefined"] == 1
    assert math.isnan(s["pearson_over_cells"])  # the mean log expression is the same for every spike-in


def test_ercc_errors():
    with pytest.raises(InputError, match="spike-in columns"):
        M.ercc_scores(np.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(InputError, match="positive"):
        M.ercc_scores(np.ones((2, 3)), [1.0, 0.0, 2.0])


# ---------------------------------------------------------------------------------------
# simulated truth

TRUE = np.array([[0, 2, 5], [3, 0, 0], [1, 4, 0]], dtype=float)
OBSERVED = np.array([[0, 0, 5], [0, 0, 0], [0, 4, 0]], dtype=float)
DROPOUT = np.array([[0, 1, 0], [1, 0, 0], [1, 0, 0]], dtype=bool)
IMPUTED = np.array([[0.6, 0.2, 5], [2, 0, 0.7], [0, 4, 0]], dtype=float)


def test_simulation_scores_hand_made_3x3():
    s = M.simulation_scores(TRUE, OBSERVED, IMPUTED, DROPOUT)
    # observed zeros: dropouts (0,1) 0.2, (1,0) 2, (2,0) 0; true zeros (0,0) 0.6, (1,1) 0, (1,2) 0.7, (2,2) 0
    # called (>= 0.5): TP (1,0); FP (0,0), (1,2); FN (0,1), (2,0)
    assert s["precision"] == pytest.approx(1 / 3)
    assert s["recall"] == pytest.approx(1 / 3)
    assert s["f1"] == pytest.approx(1 / 3)
    assert s["share_true_zeros_kept"] == pytest.approx(0.5)
    assert s["n_dropouts"] == 3 and s["n_true_zeros"] == 4
    # log1p CP10k, each matrix by its own cell totals (true: 7, 3, 5; imputed: 5.8, 2.7, 4)
    t = np.array([math.log1p(2 / 7 * 1e4), math.log1p(3 / 3 * 1e4), math.log1p(1 / 5 * 1e4)])
    p = np.array([math.log1p(0.2 / 5.8 * 1e4), math.log1p(2 / 2.7 * 1e4), 0.0])
    assert s["rmse_dropouts"] == pytest.approx(math.sqrt(np.mean((p - t) ** 2)))
    assert s["mae_dropouts"] == pytest.approx(np.mean(np.abs(p - t)))
    assert s["pearson_dropouts"] == pytest.approx(np.corrcoef(p, t)[0, 1])
    at_zeros = [math.log1p(0.6 / 5.8 * 1e4), 0.0, math.log1p(0.7 / 2.7 * 1e4), 0.0]
    assert s["mean_at_true_zeros"] == pytest.approx(np.mean(at_zeros))
    all_zero_err = np.concatenate([p - t, at_zeros])
    assert s["rmse_observed_zeros"] == pytest.approx(math.sqrt(np.mean(all_zero_err**2)))


def test_simulation_scores_threshold_and_sparse_input():
    s = M.simulation_scores(sp.csr_matrix(TRUE), sp.csr_matrix(OBSERVED), IMPUTED, sp.csr_matrix(DROPOUT),
                            threshold=0.1)
    # (0,1) = 0.2 is now called too: TP 2, FP 2
    assert s["precision"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(2 / 3)
    assert s["f1"] == pytest.approx(2 * 2 / (4 + 3))


def test_simulation_scores_perfect_and_none(monkeypatch):
    from scmaskgan.simulate import simulate

    sim = simulate(n_cells=60, n_genes=80, seed=1)
    truth, obs, mask = sim.layers["true_counts"], sim.X, sim.layers["dropout"]
    perfect = M.simulation_scores(truth, obs, truth, mask)
    assert perfect["rmse_dropouts"] == pytest.approx(0.0, abs=1e-12)
    assert perfect["precision"] == perfect["recall"] == perfect["share_true_zeros_kept"] == 1.0
    monkeypatch.setattr(M, "_BLOCK_ENTRIES", 80 * 7)  # 7 cells per block
    none = M.simulation_scores(truth, obs, obs, mask)
    assert none["recall"] == 0.0 and none["share_true_zeros_kept"] == 1.0
    assert math.isnan(none["precision"]) and math.isnan(none["pearson_dropouts"])
    # the same as protocol B's rmse_zeros when nothing is imputed
    ref = evaluation.score_thinning(truth.toarray(), obs.toarray(), obs.toarray())
    assert none["rmse_observed_zeros"] == pytest.approx(ref["rmse_zeros"])


def test_simulation_scores_rejects_inconsistent_mask():
    bad = DROPOUT.copy()
    bad[0, 2] = True  # observed 5 there
    with pytest.raises(InputError, match="dropout_mask"):
        M.simulation_scores(TRUE, OBSERVED, IMPUTED, bad)
    with pytest.raises(InputError, match="one shape"):
        M.simulation_scores(TRUE, OBSERVED, IMPUTED[:, :2], DROPOUT)


# ---------------------------------------------------------------------------------------
# held-out protocols (re-exported from scmaskgan.evaluation)


def test_protocol_functions_are_reexported():
    for name in ("benchmark_genes", "hide_nonzero", "score_hidden", "cluster_scores", "thin", "score_thinning"):
        assert getattr(M, name) is getattr(evaluation, name)


def test_protocol_corruption_reproducible_from_seed():
    rng = np.random.default_rng(5)
    X = rng.poisson(1.0, size=(30, 20))
    c1, idx1 = M.hide_nonzero(X, 0.1, seed=0)
    c2, idx2 = M.hide_nonzero(X, 0.1, seed=0)
    _, idx3 = M.hide_nonzero(X, 0.1, seed=1)
    np.testing.assert_array_equal(idx1, idx2)
    np.testing.assert_array_equal(c1, c2)
    assert not np.array_equal(idx1, idx3)
    assert idx1.size == round(0.1 * np.count_nonzero(X))
    assert (X.flat[idx1] > 0).all() and (c1.flat[idx1] == 0).all()
    keep = np.setdiff1d(np.arange(X.size), idx1)
    np.testing.assert_array_equal(c1.flat[keep], X.flat[keep])
    t1, t2 = M.thin(X, 0.3, seed=0), M.thin(X, 0.3, seed=0)
    np.testing.assert_array_equal(t1, t2)
    assert (t1 <= X).all()


def test_score_hidden_by_hand():
    truth = np.array([[9.0, 1.0], [0.0, 4.0]])
    imputed = np.array([[9.0, 0.0], [0.0, 1.0]])
    idx = np.array([1, 3])  # entries (0, 1) and (1, 1)
    lib = np.array([10.0, 4.0])
    s = M.score_hidden(truth, imputed, idx, lib)
    t = np.array([math.log1p(1 / 10 * 1e4), math.log1p(4 / 4 * 1e4)])
    p = np.array([0.0, math.log1p(1 / 4 * 1e4)])
    assert s["rmse"] == pytest.approx(math.sqrt(np.mean((p - t) ** 2)))
    assert s["mae"] == pytest.approx(np.mean(np.abs(p - t)))
    assert s["share_zero"] == pytest.approx(0.5)
    assert s["n_hidden"] == 2
