"""The Splatter-style simulator: shapes, seeds, and the truth it returns."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan._validation import InputError
from scmaskgan.simulate import simulate


@pytest.fixture(scope="module")
def sim():
    return simulate(n_cells=200, n_genes=2000, n_groups=3, seed=7)


def _dense(m) -> np.ndarray:
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def test_shapes_and_types(sim):
    assert sim.shape == (200, 2000)
    assert sp.isspmatrix_csr(sim.X) or isinstance(sim.X, sp.csr_array)
    assert sim.X.dtype == np.float32
    assert sim.layers["true_counts"].dtype == np.float32
    assert sim.layers["dropout"].dtype == bool
    assert sim.layers["true_counts"].shape == sim.layers["dropout"].shape == (200, 2000)
    assert list(sim.obs["group"].cat.categories) == ["Group1", "Group2", "Group3"]
    assert "time" not in sim.obs and "batch" not in sim.obs
    assert sim.obs_names.is_unique and sim.var_names.is_unique
    params = sim.uns["simulation"]
    assert params["n_cells"] == 200 and params["seed"] == 7 and params["dropout_mid"] == 1.5


def test_counts_are_non_negative_integers(sim):
    for m in (sim.X, sim.layers["true_counts"]):
        d = _dense(m)
        assert (d >= 0).all()
        np.testing.assert_array_equal(d, np.round(d))


def test_dropout_mask_is_consistent_with_observed_zeros(sim):
    true = _dense(sim.layers["true_counts"])
    obs = _dense(sim.X)
    mask = _dense(sim.layers["dropout"])
    assert mask.any() and (~mask).any()
    assert (obs[mask] == 0).all()
    assert (true[mask] > 0).all()
    np.testing.assert_array_equal(obs[~mask], true[~mask])
    assert (true >= obs).all()
    # every entry that is zero in the observed counts but not in the truth is a dropout
    np.testing.assert_array_equal(mask, (obs == 0) & (true > 0))


def test_zero_rates_recorded_and_in_documented_range(sim):
    params = sim.uns["simulation"]
    obs_zero = 1 - sim.X.nnz / np.prod(sim.shape)
    true_zero = 1 - sim.layers["true_counts"].nnz / np.prod(sim.shape)
    assert params["zero_rate_observed"] == pytest.approx(obs_zero)
    assert params["zero_rate_true"] == pytest.approx(true_zero)
    assert params["dropout_rate"] == pytest.approx(sim.layers["dropout"].nnz / np.prod(sim.shape))
    assert 0.7 <= obs_zero <= 0.88  # documented: about 79% with the defaults (2,000 genes)
    assert 0.4 <= true_zero <= 0.6  # documented: about 49%
    assert true_zero < obs_zero


def test_seed_reproducible_and_distinct():
    a = simulate(n_cells=50, n_genes=60, seed=3)
    b = simulate(n_cells=50, n_genes=60, seed=3)
    c = simulate(n_cells=50, n_genes=60, seed=4)
    np.testing.assert_array_equal(a.X.toarray(), b.X.toarray())
    np.testing.assert_array_equal(a.layers["dropout"].toarray(), b.layers["dropout"].toarray())
    np.testing.assert_array_equal(a.obs["group"], b.obs["group"])
    assert not np.array_equal(a.layers["true_counts"].toarray(), c.layers["true_counts"].toarray())


def test_several_blocks_match_truth_rules(monkeypatch):
    import scmaskgan.simulate as simmod

    monkeypatch.setattr(simmod, "_BLOCK_ENTRIES", 7 * 30)  # 7 cells per block, last block partial
    a = simmod.simulate(n_cells=40, n_genes=30, seed=1)
    true, obs, mask = (_dense(m) for m in (a.layers["true_counts"], a.X, a.layers["dropout"]))
    assert true.shape == (40, 30)
    np.testing.assert_array_equal(mask, (obs == 0) & (true > 0))
    # gene-level parameters do not depend on the block size
    monkeypatch.setattr(simmod, "_BLOCK_ENTRIES", 1 << 22)
    b = simmod.simulate(n_cells=40, n_genes=30, seed=1)
    np.testing.assert_array_equal(a.var["base_mean"], b.var["base_mean"])


def test_groups_differ_in_expression():
    a = simulate(n_cells=400, n_genes=300, n_groups=2, de_prob=0.3, de_fac_loc=1.0, seed=2)
    true = _dense(a.layers["true_counts"])
    true = true / true.sum(1, keepdims=True)
    g = a.obs["group"].to_numpy()
    de = a.var["de_fac_Group2"].to_numpy() / a.var["de_fac_Group1"].to_numpy()
    up = de > 2
    assert up.sum() > 5
    ratio = true[g == "Group2"][:, up].mean(0) / (true[g == "Group1"][:, up].mean(0) + 1e-9)
    assert np.median(ratio) > 1.5
    share_de = (a.var[["de_fac_Group1", "de_fac_Group2"]] != 1).mean()
    assert ((share_de > 0.2) & (share_de < 0.4)).all()  # de_prob 0.3 of 300 genes


def test_trajectory_time_and_batches():
    a = simulate(n_cells=200, n_genes=100, n_groups=1, trajectory=True, n_batches=2, de_prob=0.5,
                 de_fac_loc=1.5, seed=5)
    t = a.obs["time"].to_numpy()
    assert t.min() >= 0 and t.max() <= 1 and t.std() > 0.2
    assert set(a.obs["batch"].cat.categories) == {"Batch1", "Batch2"}
    assert a.obs["batch"].value_counts().min() > 50
    assert {"batch_fac_Batch1", "batch_fac_Batch2"} <= set(a.var.columns)
    # genes up-regulated along the path rise with pseudotime
    true = _dense(a.layers["true_counts"])
    true = np.log1p(true / true.sum(1, keepdims=True) * 1e4)
    up = a.var["de_fac_Group1"].to_numpy() > 3
    assert up.sum() >= 3
    score = true[:, up].mean(1)
    assert np.corrcoef(score, t)[0, 1] > 0.5
    assert a.uns["simulation"]["trajectory"] is True


def test_dropout_depends_on_expression_and_can_be_off():
    a = simulate(n_cells=100, n_genes=200, seed=0)
    mask = _dense(a.layers["dropout"])
    true = _dense(a.layers["true_counts"])
    assert mask[(true > 0) & (true <= 2)].mean() > mask[true >= 20].mean()
    off = simulate(n_cells=100, n_genes=200, dropout_mid=None, seed=0)
    assert off.layers["dropout"].nnz == 0
    np.testing.assert_array_equal(off.X.toarray(), off.layers["true_counts"].toarray())
    assert "dropout_mid" not in off.uns["simulation"] and off.uns["simulation"]["dropout"] is False
    steeper = simulate(n_cells=100, n_genes=200, dropout_mid=3.0, seed=0)
    assert steeper.uns["simulation"]["dropout_rate"] > a.uns["simulation"]["dropout_rate"]


def test_writes_h5ad(tmp_path):
    import anndata as ad

    a = simulate(n_cells=30, n_genes=20, n_batches=2, trajectory=True, seed=0)
    a.write_h5ad(tmp_path / "sim.h5ad")
    b = ad.read_h5ad(tmp_path / "sim.h5ad")
    np.testing.assert_array_equal(b.layers["dropout"].toarray(), a.layers["dropout"].toarray())
    assert b.uns["simulation"]["n_batches"] == 2


@pytest.mark.parametrize(
    "kwargs",
    [dict(n_cells=0), dict(n_genes=-1), dict(de_prob=1.5), dict(mean_shape=0.0), dict(bcv=-0.1),
     dict(group_prob=[0.5, 0.6, 0.1]), dict(group_prob=[0.5, 0.5]), dict(n_groups=2.5), dict(trajectory="yes")],
)
def test_bad_parameters(kwargs):
    with pytest.raises(InputError):
        simulate(**{"n_cells": 10, "n_genes": 10, **kwargs})


def test_keep_truth_false_gives_the_same_observed_counts_without_layers():
    from scmaskgan.simulate import simulate

    full = simulate(n_cells=80, n_genes=60, n_groups=2, seed=4)
    slim = simulate(n_cells=80, n_genes=60, n_groups=2, seed=4, keep_truth=False)
    assert (full.X != slim.X).nnz == 0 and not slim.layers
    assert slim.uns["simulation"]["dropout_rate"] == full.uns["simulation"]["dropout_rate"] > 0
