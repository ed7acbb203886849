"""scmaskgan.evaluation.genes: gene-level comparisons, on small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scmaskgan._validation import InputError
from scmaskgan.evaluation import genes as G


def test_cell_cycle_groups_follow_the_symbol_style():
    human = G.cell_cycle_groups(["MCM2", "TOP2A", "ACTB"])
    assert human["MCM2"] == "S" and human["TOP2A"] == "G2/M"
    assert len(human) == len(G.TIROSH_S) + len(G.TIROSH_G2M) == 43 + 54
    mouse = G.cell_cycle_groups(["Mcm2", "Top2a", "Actb"])
    assert mouse["Mcm2"] == "S" and mouse["Top2a"] == "G2/M" and "MCM2" not in mouse


def test_read_gene_list(tmp_path):
    f = tmp_path / "genes.txt"
    f.write_text("# header\nMcm2\tS\nCdk1 g2m\nTop2a\tG2/M\n\nFoo\nBar other\n")
    assert G.read_gene_list(str(f)) == {"Mcm2": "S", "Cdk1": "G2/M", "Top2a": "G2/M", "Foo": "genes",
                                        "Bar": "other"}
    with pytest.raises(InputError, match="not found"):
        G.read_gene_list(str(tmp_path / "nope.txt"))
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputError, match="no gene"):
        G.read_gene_list(str(tmp_path / "empty.txt"))


def test_correlation_summary_by_hand():
    names = ["a", "b", "c", "d"]
    corr = pd.DataFrame([[1.0, 0.8, -0.2, 0.0],
                         [0.8, 1.0, 0.2, -0.4],
                         [-0.2, 0.2, 1.0, 0.6],
                         [0.0, -0.4, 0.6, 1.0]], index=names, columns=names)
    groups = {"a": "S", "b": "S", "c": "G2/M", "d": "G2/M"}
    res = G.correlation_summary(corr, groups)
    assert res["within S: mean r"] == pytest.approx(0.8)
    assert res["within G2/M: mean r"] == pytest.approx(0.6)
    assert res["between sets: mean r"] == pytest.approx((-0.2 + 0.0 + 0.2 - 0.4) / 4)
    assert res["all pairs: mean |r|"] == pytest.approx((0.8 + 0.2 + 0.0 + 0.2 + 0.4 + 0.6) / 6)
    assert res["ARI of 2 clusters vs sets"] == pytest.approx(1.0)  # {a, b} and {c, d} are found
    mixed = G.correlation_summary(corr, {"a": "S", "b": "G2/M", "c": "S", "d": "G2/M"})
    assert mixed["ARI of 2 clusters vs sets"] < 0.5
    assert "ARI of 2 clusters vs sets" not in G.correlation_summary(corr, {g: "x" for g in names})
    with pytest.raises(InputError, match="no group"):
        G.correlation_summary(corr, {"a": "S"})


def test_correlation_agreement():
    names = ["a", "b", "c"]
    a = pd.DataFrame([[1, 0.5, 0.1], [0.5, 1, 0.3], [0.1, 0.3, 1]], index=names, columns=names)
    b = a * 2 - 1 + np.eye(3) * 0  # a linear change of every pair: r = 1
    assert G.correlation_agreement(a, b) == pytest.approx(1.0)
    c = a.copy()
    c.loc["a", "b"] = c.loc["b", "a"] = 0.1
    c.loc["a", "c"] = c.loc["c", "a"] = 0.5  # pairs (0.5, 0.1, 0.3) -> (0.1, 0.5, 0.3): r = -1
    assert G.correlation_agreement(a, c) == pytest.approx(-1.0)
    with pytest.raises(InputError):
        G.correlation_agreement(a, a.iloc[:2, :2])


def test_cell_cycle_score_ranks_cycling_cells_first():
    rng = np.random.default_rng(0)
    names = [f"S{i}" for i in range(5)] + [f"G{i}" for i in range(5)] + [f"o{i}" for i in range(40)]
    values = rng.uniform(0, 1, size=(40, 50))
    values[:10, :10] += 3  # cells 0-9 express the cycle genes
    groups = {**{f"S{i}": "S" for i in range(5)}, **{f"G{i}": "G2/M" for i in range(5)}}
    score = G.cell_cycle_score(values, names, groups, seed=0)
    assert score.shape == (40,) and score[:10].min() > score[10:].max()
    single = G.cell_cycle_score(values, names, {f"S{i}": "genes" for i in range(5)}, seed=0)
    assert single[:10].mean() > single[10:].mean() + 0.5  # one score over the listed genes
    with pytest.raises(InputError, match="none of the listed genes"):
        G.cell_cycle_score(values, names, {"X": "S"})


def test_hvg_table_and_set_overlap():
    import anndata as ad
    import scanpy as sc

    rng = np.random.default_rng(1)
    values = rng.gamma(1.0, 1.0, size=(60, 30)) * rng.uniform(0.2, 3.0, size=30)
    values[:, 7] = 0.0  # zero everywhere: no dispersion, left out
    names = [f"g{j}" for j in range(30)]
    table = G.hvg_table(values, names, 5)
    assert list(table.index) == names and table["highly_variable"].dtype == bool
    assert table["highly_variable"].sum() >= 5 and not table.loc["g7", "highly_variable"]
    assert np.isnan(table.loc["g7", "dispersions_norm"])
    # the same as scanpy's selection on the 29 genes that are not all zero
    keep = [j for j in range(30) if j != 7]
    ref = ad.AnnData(values[:, keep].astype(np.float32))
    ref.var_names = [names[j] for j in keep]
    sc.pp.highly_variable_genes(ref, flavor="seurat", n_top_genes=5)
    assert set(table.index[table["highly_variable"]]) == set(ref.var_names[ref.var["highly_variable"]])
    np.testing.assert_allclose(table.loc[ref.var_names, "dispersions_norm"], ref.var["dispersions_norm"], rtol=1e-5)
    assert not G.hvg_table(np.zeros((5, 3)), ["a", "b", "c"], 2)["highly_variable"].any()
    assert G.set_overlap({"a", "b", "c"}, {"b", "c", "d", "e"}) == {
        "original": 3, "imputed": 4, "both": 2, "only original": 1, "only imputed": 2, "jaccard": 2 / 5}
    assert np.isnan(G.set_overlap(set(), set())["jaccard"])


def test_type_marker_genes_and_zscore():
    means = pd.DataFrame({"g1": [5.0, 1.0, 0.0], "g2": [3.0, 0.0, 0.0], "g3": [0.0, 2.0, 1.0],
                          "g4": [1.0, 1.0, 4.0]}, index=["A", "B", "C"])
    # home: g1, g2 -> A (gaps 4.5, 3.0), g3 -> B, g4 -> C
    assert G.type_marker_genes(means, 1) == {"A": ["g1"], "B": ["g3"], "C": ["g4"]}
    assert G.type_marker_genes(means, 5) == {"A": ["g1", "g2"], "B": ["g3"], "C": ["g4"]}
    z = G.zscore(pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": [4.0, 4.0, 4.0]}))
    np.testing.assert_allclose(z["x"], [-1.0, 0.0, 1.0])
    assert z["c"].isna().all()


def test_expression_change_by_hand():
    o = np.array([0.0, 2.0, 0.0, 4.0])
    i = np.array([1.0, 2.0, 3.0, 4.0])
    res = G.expression_change(o, i, ["x", "x", "y", "y"])
    assert res["cells at 0 (input)"] == 0.5
    assert res["mean original"] == 1.5 and res["mean imputed"] == 2.5
    assert res["ratio imputed/original"] == pytest.approx(2.5 / 1.5)
    assert res["mean of observed values"] == 3.0 and res["mean of filled values"] == 2.0
    assert res["cluster-mean Spearman"] == pytest.approx(1.0)  # group means 1, 2 -> 1.5, 3.5
    flat = G.expression_change(np.array([0.0, 2.0, 2.0, 0.0]), i, ["x", "x", "y", "y"])
    assert np.isnan(flat["cluster-mean Spearman"])  # the original group means do not vary
    res3 = G.expression_change(np.r_[o, 9.0], np.r_[i[::-1], 0.5], ["x", "x", "y", "y", "z"])
    assert res3["cluster-mean Spearman"] == pytest.approx(-1.0)  # means 1, 2, 9 -> 3.5, 1.5, 0.5
    zeros = G.expression_change(np.zeros(3), np.zeros(3), ["a", "b", "c"])
    assert np.isnan(zeros["ratio imputed/original"]) and np.isnan(zeros["mean of observed values"])
    with pytest.raises(InputError):
        G.expression_change(o, i[:3], ["x"] * 4)


def test_label_subset_labels_at_most_max_not_adjacent_and_keeps_named_genes():
    names = [f"G{i}" for i in range(97)]
    shown = G.label_subset(names, max_labels=40, keep=["g10", "G50", "absent"])
    assert len(shown) <= 40 and shown == sorted(set(shown))
    assert 10 in shown and 50 in shown
    assert min(b - a for a, b in zip(shown, shown[1:])) >= 2
    assert G.label_subset(names[:30], max_labels=40) == list(range(30))
    assert G.label_subset(names, max_labels=3, keep=["G1", "G2", "G3", "G4"]) == [1, 2, 3]
    assert {g.upper() for g in G.PAPER_COEXPRESSED} <= set(G.TIROSH_S) | set(G.TIROSH_G2M)
