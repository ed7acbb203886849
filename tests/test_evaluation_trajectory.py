"""scmaskgan.evaluation.trajectory: pseudotime scores, on small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scmaskgan._validation import InputError
from scmaskgan.evaluation import trajectory as T


def test_neighbour_time_gap_by_hand():
    # cell 0's neighbours: 1, 2; cell 1's: 0; cell 2's: 1
    graph = sp.csr_matrix((np.ones(4), ([0, 0, 1, 2], [1, 2, 0, 1])), shape=(3, 3))
    t = np.array([0.0, 1.0, 3.0])
    # cell 0: (1 + 3) / 2 = 2; cell 1: 1; cell 2: 2 -> mean 5 / 3
    assert T.neighbour_time_gap(graph, t) == pytest.approx(5 / 3)
    assert np.isnan(T.neighbour_time_gap(sp.csr_matrix((3, 3)), t))
    with pytest.raises(InputError):
        T.neighbour_time_gap(graph, t[:2])


def test_binned_profile_by_hand():
    pt = np.array([0.9, 0.1, np.nan, 0.5, 0.3, 0.7])
    expr = np.array([9.0, 1.0, 100.0, 5.0, 3.0, 7.0])
    x, y = T.binned_profile(pt, expr, n_bins=2)  # reached cells by pseudotime: 0.1 0.3 | 0.5 0.7 0.9 ...
    # ranks 0..4, bin = rank * 2 // 5: 0, 0, 0 (rank 2 -> 4 // 5 = 0), 1, 1
    np.testing.assert_allclose(x, [0.3, 0.8])
    np.testing.assert_allclose(y, [3.0, 8.0])
    x1, y1 = T.binned_profile(pt, expr, n_bins=1)
    np.testing.assert_allclose([x1[0], y1[0]], [0.5, 5.0])
    assert T.binned_profile(np.full(3, np.nan), np.ones(3))[0].size == 0
    with pytest.raises(InputError):
        T.binned_profile(pt, expr[:3])


def test_strongest_trend_genes():
    var = pd.DataFrame({"de_fac_Group1": [4.0, 0.5, 2.0, 8.0, 0.25, 1.0, 1.0, 0.1],
                        "base_mean": [6.0, 6.0, 6.0, 1.0, 6.0, 1.0, 1.0, 1.0]},
                       index=[f"g{j}" for j in range(8)])
    # above the median base mean (3.5): g0, g1, g2, g4; g3 and g7 change most but are too low
    assert T.strongest_trend_genes(var, 2) == ["g0", "g2", "g4", "g1"]
    with pytest.raises(InputError, match="no column"):
        T.strongest_trend_genes(var.drop(columns="base_mean"))


def test_pseudotime_orders_a_simulated_path():
    from scmaskgan.simulate import simulate

    adata = simulate(n_cells=120, n_genes=60, n_groups=1, trajectory=True, de_prob=0.5, de_fac_loc=1.0,
                     dropout_mid=0.0, seed=0)
    known = adata.obs["time"].to_numpy(dtype=np.float64)
    truth = adata.layers["true_counts"].toarray()
    emb = T.embed(truth, adata.obs[["time"]], seed=0)
    root = T.choose_root(emb, known, "earliest")
    assert known[root] == known.min()
    assert 0 <= T.choose_root(emb, known, "tip") < adata.n_obs
    T.pseudotime(emb, root, seed=0)
    scores = T.trajectory_scores(emb, known)
    assert scores["spearman_pseudotime_time"] > 0.7 and scores["unreached"] == 0.0
    assert 0 <= scores["neighbour_time_gap"] < 0.2 and scores["n_leiden_clusters"] >= 1
    assert "X_umap" in emb.obsm
    with pytest.raises(InputError, match="'earliest' or 'tip'"):
        T.choose_root(emb, known, "first")
    with pytest.raises(InputError):
        T.choose_root(emb, known[:5], "earliest")


def test_mixture_paths_by_hand():
    shares = pd.DataFrame({"A": [1.0, 0.68, 0.34, 0.16, 0.0, 0.0, 0.5, 0.34],
                           "B": [0.0, 0.16, 0.33, 0.68, 1.0, 0.0, 0.5, 0.33],
                           "C": [0.0, 0.16, 0.33, 0.16, 0.0, 1.0, 0.0, 0.33]})
    paths = T.mixture_paths(shares)
    assert list(paths) == ["A", "B", "C"]
    np.testing.assert_allclose(paths["A"], [0.0, 0.32, 0.66, np.nan, np.nan, np.nan, np.nan, 0.66])
    np.testing.assert_allclose(paths["B"], [np.nan, np.nan, 0.67, 0.32, 0.0, np.nan, np.nan, 0.67])
    np.testing.assert_allclose(paths["C"], [np.nan, np.nan, 0.67, np.nan, np.nan, 0.0, np.nan, 0.67])
    # wells off CellBench's marked paths are left out; a path with one level is dropped
    only = T.mixture_paths(shares, on_path=[True, True, False, False, False, True, False, False])
    assert list(only) == ["A"] and np.isfinite(only["A"]).sum() == 2
    with pytest.raises(InputError, match="three share columns"):
        T.mixture_paths(shares[["A", "B"]])
    with pytest.raises(InputError, match="one flag per well"):
        T.mixture_paths(shares, on_path=[True])


def test_order_scores_by_hand():
    position = np.array([0.0, 0.0, 0.5, 0.5, 1.0, np.nan])
    perfect = T.order_scores(np.array([0.1, 0.2, 0.3, 0.4, 0.9, 5.0]), position)
    # Spearman with ties: the Pearson correlation of the ranks
    assert perfect["spearman"] == pytest.approx(np.corrcoef([1.5, 1.5, 3.5, 3.5, 5], [1, 2, 3, 4, 5])[0, 1])
    assert perfect["discordant_pairs"] == 0.0 and perfect["misplaced"] == 0
    assert (perfect["n_wells"], perfect["unreached"]) == (5, 0)
    backwards = T.order_scores(np.array([0.9, 0.8, 0.5, 0.4, 0.1, 0.0]), position)
    assert backwards["spearman"] < -0.9 and backwards["discordant_pairs"] == 1.0
    assert backwards["misplaced"] == 4  # levels of ranks {0, 1}, {2, 3}, {4}: only the middle level keeps its ranks
    # one swap across levels: wells 1 and 2 exchange places; 8 pairs at different positions, 1 wrong
    swapped = T.order_scores(np.array([0.1, 0.35, 0.3, 0.4, 0.9, np.nan]), position)
    assert swapped["discordant_pairs"] == pytest.approx(1 / 8)
    assert swapped["misplaced"] == 2
    # a tie in pseudotime counts one half; an unreached well is counted, not scored
    tied = T.order_scores(np.array([0.1, 0.3, 0.3, np.nan, 0.9, 0.0]), position)
    assert tied["discordant_pairs"] == pytest.approx(0.5 / 5)
    assert (tied["n_wells"], tied["unreached"]) == (4, 1)
    assert np.isnan(T.order_scores(np.array([0.1, 0.2, np.nan, np.nan, np.nan, 0.0]), position)["spearman"])
    with pytest.raises(InputError):
        T.order_scores(np.zeros(3), np.zeros(4))


def test_summarise_paths_by_hand():
    table = pd.DataFrame({"method": ["observed", "observed", "count model", "count model"],
                          "path": ["A", "B", "A", "B"], "spearman": [0.8, 0.6, 0.9, 0.9],
                          "discordant_pairs": [0.1, 0.2, 0.0, 0.1], "misplaced": [3, 4, 1, 2],
                          "n_wells": [10, 10, 10, 9], "unreached": [0, 0, 0, 1]})
    summary = T.summarise_paths(table)
    assert list(summary.index) == ["observed", "count model"]
    assert summary.loc["observed", "spearman"] == pytest.approx(0.7)
    assert summary.loc["count model", "discordant_pairs"] == pytest.approx(0.05)
    assert summary.loc["count model", ["misplaced", "n_wells", "unreached"]].tolist() == [3, 19, 1]
