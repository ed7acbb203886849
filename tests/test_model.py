"""The model and pp.impute end to end on small data: fill rule, scale, names, seeds, save/load, bad input."""

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

import scmaskgan
from scmaskgan import InputError, SCMaskGAN

FAST = dict(mode="neighbours", progress=False)  # the neighbour fill: no training
PAPER_FAST = dict(max_epochs=3, n_candidates=64, n_trials=5, progress=False)


@pytest.fixture(scope="module")
def imputed_tiny():
    rng = np.random.default_rng(12345)
    labels = np.repeat(np.arange(3), 20)
    base = rng.gamma(0.8, 2.5, size=(3, 50))
    counts = rng.poisson(rng.gamma(2.0, base[labels] / 2.0)).astype(np.float32)
    adata = ad.AnnData(counts, obs=pd.DataFrame({"cell_type": [f"t{i}" for i in labels]},
                                                  index=[f"c{i}" for i in range(60)]),
                       var=pd.DataFrame(index=[f"g{j}" for j in range(50)]))
    original = adata.X.copy()
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=0, **FAST)
    return adata, original


def test_observed_values_unchanged_and_zeros_filled(imputed_tiny):
    adata, original = imputed_tiny
    out = adata.layers["scmaskgan"]
    assert out.shape == original.shape
    nz = original != 0
    assert np.array_equal(out[nz], original[nz])  # bit-identical
    assert np.array_equal(adata.X, original)  # input untouched
    assert (out[~nz] > 0).mean() > 0.5  # most zeros are filled
    assert np.all(np.isfinite(out)) and out.min() >= 0
    # a gene no cell of a label expresses is a true zero there: it stays exactly 0
    labels = adata.obs["cell_type"].to_numpy()
    for lab in np.unique(labels):
        rows = labels == lab
        absent = (original[rows] == 0).all(0)
        assert absent.any() and np.all(out[np.ix_(rows, absent)] == 0)


def test_paper_mode_trains_and_fills_every_zero(imputed_tiny):
    _, original = imputed_tiny
    adata = ad.AnnData(original.copy(), obs=imputed_tiny[0].obs[["cell_type"]].copy())
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=0, mode="paper", **PAPER_FAST)
    run = adata.uns["scmaskgan"]
    assert run["trained"] and len(run["history"]["epoch"]) == 3
    assert run["params"]["pool"] == "generated" and run["params"]["fill"] == "mean"
    assert run["tuning"]["k"] >= 1 and run["best_epoch"] >= 1
    out = adata.layers["scmaskgan"]
    assert np.all(out[original == 0] > 0)  # the plain mean of generated candidates is never 0


def test_default_mode_needs_no_training(imputed_tiny):
    adata, _ = imputed_tiny
    run = adata.uns["scmaskgan"]
    assert not run["trained"] and run["history"]["epoch"] == [] and run["best_epoch"] == -1
    assert run["params"]["mode"] == "neighbours" and run["params"]["fill"] == "poisson"


def test_filled_values_on_count_scale(imputed_tiny):
    adata, original = imputed_tiny
    out = adata.layers["scmaskgan"]
    filled = out[original == 0]
    # imputed values are counts of the same cells: never above the largest observed count
    assert filled.max() <= original.max()


def test_run_details_in_uns(imputed_tiny):
    adata, _ = imputed_tiny
    uns = adata.uns["scmaskgan"]
    assert set(uns["history"]) >= {"epoch", "loss_d", "loss_g", "convergence"}
    assert uns["labels"]["method"] == "obs"
    assert uns["categories"] == ["t0", "t1", "t2"]
    assert uns["imputation"]["k"] == 30 and uns["imputation"]["fill"] == "poisson"
    assert set(uns["candidates"]) == {"t0", "t1", "t2"}
    assert uns["n_parameters"] == {"generator": 0, "discriminator": 0}  # the default mode builds no network


def test_sparse_input_and_names_kept(tiny_counts):
    adata = tiny_counts.copy()
    adata.X = sp.csr_matrix(adata.X)
    out = scmaskgan.pp.impute(adata, labels_key="cell_type", copy=True, **FAST)
    assert out is not adata and "scmaskgan" not in adata.layers
    assert list(out.obs_names) == list(tiny_counts.obs_names)
    assert list(out.var_names) == list(tiny_counts.var_names)
    dense = tiny_counts.X
    assert np.array_equal(out.layers["scmaskgan"][dense != 0], dense[dense != 0])


@pytest.mark.parametrize("pool, metric, alpha", [("real", "pca", 0.5), ("both", "observed", 1.0)])
def test_real_cell_pools(tiny_counts, pool, metric, alpha):
    out = scmaskgan.pp.impute(tiny_counts, labels_key="cell_type", copy=True, pool=pool, metric=metric, alpha=alpha,
                              mode="paper", tune=False, **PAPER_FAST)
    layer, X = out.layers["scmaskgan"], tiny_counts.X
    assert np.array_equal(layer[X != 0], X[X != 0])
    assert np.all(np.isfinite(layer)) and layer.min() >= 0
    assert out.uns["scmaskgan"]["imputation"]["pool"] == pool


def test_two_seeded_runs_are_identical(tiny_counts):
    a = scmaskgan.pp.impute(tiny_counts, labels_key="cell_type", seed=3, copy=True, **FAST)
    b = scmaskgan.pp.impute(tiny_counts, labels_key="cell_type", seed=3, copy=True, **FAST)
    assert np.array_equal(a.layers["scmaskgan"], b.layers["scmaskgan"])
    assert a.uns["scmaskgan"]["history"]["loss_g"] == b.uns["scmaskgan"]["history"]["loss_g"]


def test_automatic_labels_recorded(tiny_counts):
    out = scmaskgan.pp.impute(tiny_counts, copy=True, key_added="imp", **FAST)
    assert "imp" in out.layers and "imp_labels" in out.obs
    assert out.uns["imp"]["labels"]["method"] == "leiden"
    assert out.uns["imp"]["labels"]["n_clusters"] == out.obs["imp_labels"].nunique()


def test_all_zero_genes_and_cells_stay_zero(tiny_counts):
    adata = tiny_counts.copy()
    adata.X[:, 4] = 0
    adata.X[7, :] = 0
    out = scmaskgan.pp.impute(adata, labels_key="cell_type", copy=True, **FAST)
    layer = out.layers["scmaskgan"]
    assert np.all(layer[:, 4] == 0) and np.all(layer[7] == 0)
    assert out.uns["scmaskgan"]["n_empty_cells"] == 1
    assert out.uns["scmaskgan"]["n_genes_not_modelled"] == 1


def test_float64_input_keeps_float64(tiny_counts):
    adata = tiny_counts.copy()
    adata.X = adata.X.astype(np.float64) / 3.0
    out = scmaskgan.pp.impute(adata, labels_key="cell_type", normalized=True, copy=True, **FAST)
    layer = out.layers["scmaskgan"]
    assert layer.dtype == np.float64
    nz = adata.X != 0
    assert np.array_equal(layer[nz], adata.X[nz])
    assert out.uns["scmaskgan"]["params"]["fill"] == "mean"  # the Poisson rule needs counts: the mode falls back


def test_poisson_fill_refused_for_normalised_input(tiny_counts):
    with pytest.raises(InputError, match="needs raw counts"):
        SCMaskGAN(tiny_counts, labels_key="cell_type", normalized=True, fill="poisson", mode="neighbours")


def test_layer_input(tiny_counts):
    adata = tiny_counts.copy()
    adata.layers["counts"] = adata.X.copy()
    adata.X = np.log1p(adata.X)
    out = scmaskgan.pp.impute(adata, labels_key="cell_type", layer="counts", copy=True, **FAST)
    nz = adata.layers["counts"] != 0
    assert np.array_equal(out.layers["scmaskgan"][nz], adata.layers["counts"][nz])


def test_save_load_round_trip_without_a_gan(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **FAST)
    assert model.gan is None and model.train() is model and not model.is_trained_  # nothing to train
    first = model.impute()
    folder = model.save(tmp_path / "m")
    assert not (folder / "weights.pt").exists()
    np.testing.assert_array_equal(SCMaskGAN.load(folder, tiny_counts).impute(), first)


def test_save_load_round_trip(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, mode="paper", **PAPER_FAST)
    model.train()
    first = model.impute(tune=False)
    model.save(tmp_path / "m")
    loaded = SCMaskGAN.load(tmp_path / "m", tiny_counts, device="cpu")
    assert loaded.is_trained_
    assert len(loaded.history_) == len(model.history_)
    np.testing.assert_array_equal(loaded.impute(tune=False), first)
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m")
    model.save(tmp_path / "m", overwrite=True)


def test_save_load_with_automatic_labels(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, seed=1, **FAST).train()
    model.save(tmp_path / "auto")
    loaded = SCMaskGAN.load(tmp_path / "auto", tiny_counts, device="cpu")
    assert list(loaded.labels_) == list(model.labels_)


def test_corrupt_or_foreign_checkpoint(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="paper", **PAPER_FAST).train(1)
    folder = model.save(tmp_path / "m")
    (folder / "weights.pt").write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot be loaded"):
        SCMaskGAN.load(folder, tiny_counts)
    # a pickle of an arbitrary object is refused by weights_only loading
    torch.save({"generator": object()}, folder / "weights.pt")
    with pytest.raises(InputError, match="cannot be loaded"):
        SCMaskGAN.load(folder, tiny_counts)
    (folder / "config.json").write_text("{broken")
    with pytest.raises(InputError, match="not valid JSON"):
        SCMaskGAN.load(folder, tiny_counts)
    (folder / "config.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(InputError, match="not a scmaskgan model"):
        SCMaskGAN.load(folder, tiny_counts)
    with pytest.raises(InputError, match="no config.json"):
        SCMaskGAN.load(tmp_path / "nothing-here", tiny_counts)


def test_load_refuses_other_genes(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", **FAST).train(1)
    model.save(tmp_path / "m")
    other = tiny_counts[:, ::-1].copy()
    with pytest.raises(InputError, match="genes of adata"):
        SCMaskGAN.load(tmp_path / "m", other)


@pytest.mark.parametrize("bad, match", [
    (np.nan, "NaN or infinite"),
    (np.inf, "NaN or infinite"),
    (-1.0, "negative"),
    (0.5, "non-integer"),
])
def test_bad_values_fail_before_training(tiny_counts, bad, match):
    adata = tiny_counts.copy()
    adata.X[0, 0] = bad
    with pytest.raises(InputError, match=match):
        scmaskgan.pp.impute(adata, labels_key="cell_type", **FAST)
    assert "scmaskgan" not in adata.layers and "scmaskgan" not in adata.uns


def test_non_integer_input_is_told_what_each_method_takes(tiny_counts):
    adata = tiny_counts.copy()
    adata.X = adata.X + 0.5
    with pytest.raises(InputError, match="needs the raw counts.*layer=") as refused:
        SCMaskGAN(adata)  # the count model, which refuses normalized=True: no advice to pass it
    assert "pass normalized=True" not in str(refused.value)
    with pytest.raises(InputError, match="pass normalized=True"):
        SCMaskGAN(adata, mode="neighbours")
    assert SCMaskGAN(adata, mode="neighbours", normalized=True, progress=False).n_cells == adata.n_obs


def test_non_numeric_matrix():
    adata = ad.AnnData(np.array([["1", "x"], ["2", "3"]], dtype=object))
    with pytest.raises(InputError, match="non-numeric"):
        SCMaskGAN(adata)


def test_label_problems(tiny_counts):
    with pytest.raises(InputError, match="not a column of adata.obs"):
        SCMaskGAN(tiny_counts, labels_key="nope")
    adata = tiny_counts.copy()
    adata.obs["one"] = "same"
    with pytest.raises(InputError, match="single class.*to cluster the cells instead"):
        SCMaskGAN(adata, labels_key="one", mode="neighbours")
    with pytest.raises(InputError, match="single class.*the count model then conditions on no label") as refused:
        SCMaskGAN(adata, labels_key="one")  # the count model clusters nothing: the advice says what it does
    assert "cluster" not in str(refused.value)
    adata.obs["gaps"] = adata.obs["cell_type"].astype(object)
    adata.obs.iloc[3, adata.obs.columns.get_loc("gaps")] = None
    with pytest.raises(InputError, match="missing for 1 cell"):
        SCMaskGAN(adata, labels_key="gaps")


def test_batch_larger_than_data(tiny_counts):
    with pytest.raises(InputError, match="larger than the number of cells"):
        SCMaskGAN(tiny_counts, labels_key="cell_type", mode="count", batch_size=1000)


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0, "mode": "neighbours"}, "k must be >= 1"),
    ({"lr": -1.0, "mode": "count"}, "lr must be > 0"),
    ({"n_candidates": 5, "k": 10, "mode": "paper"}, "must not exceed n_candidates"),
    ({"mode": "best"}, "mode must be one of"),
    ({"fill": "median", "mode": "paper"}, "fill must be one of"),
    ({"device": "tpu"}, "device must be one of"),
    ({"max_epochs": 2.5, "mode": "count"}, "max_epochs must be int"),
    ({"tau": 2.0, "mode": "paper"}, "tau must be <= 1"),
    ({"pool": "mixed", "mode": "paper"}, "pool must be one of"),
    ({"pool": "real", "mode": "neighbours"}, "pool is a setting of mode='paper', not of mode='neighbours'"),
    ({"hidden_dim": 8, "mode": "paper"}, "hidden_dim is a setting of mode='count'"),
    ({"depth": 2.0, "mode": "neighbours"}, "depth is a setting of mode='count'"),
    ({"hidden_dims": 8}, "'hidden_dims' is not a parameter of SCMaskGAN"),
    ({"alpha": 1.5, "mode": "neighbours"}, "alpha must be <= 1"),
])
def test_parameters_checked_at_construction(tiny_counts, kwargs, match):
    with pytest.raises(InputError, match=match):
        SCMaskGAN(tiny_counts, labels_key="cell_type", **kwargs)


def test_impute_before_train(tiny_counts):
    with pytest.raises(RuntimeError, match="not trained"):
        SCMaskGAN(tiny_counts, labels_key="cell_type", mode="paper", **PAPER_FAST).impute()


def test_bounded_network_size():
    from scmaskgan.paper.networks import Discriminator, Generator

    small = sum(p.numel() for p in Generator(3, 45).parameters())
    big = sum(p.numel() for p in Generator(3, 184).parameters())
    # the reference code's Linear(latent, 32 * N^2) alone is 256 M parameters at N = 200
    assert big < 2_000_000
    d = sum(p.numel() for p in Discriminator(3, 184).parameters())
    assert d < 1_000_000
    assert big - small < 30 * (184**2 - 45**2)  # growth per pixel: embeddings and biases only


@pytest.mark.parametrize("switch", ["attention", "residual", "conditional"])
def test_network_parts_can_be_switched_off_for_ablation(tiny_counts, switch):
    from scmaskgan.paper.networks import ResidualBlock, SelfAttention

    model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="paper", tune=False, **{switch: False}, **PAPER_FAST)
    nets = (model.generator, model.discriminator)
    if switch == "attention":
        assert not any(isinstance(m, SelfAttention) for net in nets for m in net.modules())
    if switch == "residual":
        assert not any(isinstance(m, ResidualBlock) for net in nets for m in net.modules())
    if switch == "conditional":
        assert model.generator.n_labels == 1 and model.generator.label_gene_bias.shape[0] == 1
    full = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="paper", **PAPER_FAST).n_parameters()
    assert model.n_parameters()["generator"] <= full["generator"]
    out = model.train().impute()
    zeros = np.asarray(tiny_counts.X) == 0
    assert np.all(np.isfinite(out)) and np.all(out[zeros] > 0)


def test_iter_imputed_blocks_equal_the_dense_result(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", **FAST)
    dense = model.impute()
    blocks = list(model.iter_imputed(block_size=7))
    assert [(a, b) for a, b, _ in blocks][:2] == [(0, 7), (7, 14)] and blocks[-1][1] == tiny_counts.n_obs
    assert np.array_equal(np.vstack([blk for _, _, blk in blocks]), dense)
    with pytest.raises(InputError, match="block_size"):
        next(model.iter_imputed(block_size=0))


@pytest.mark.parametrize("suffix", [".h5ad", ".csv.gz"])
def test_out_file_streams_the_same_result_to_disk(tiny_counts, tmp_path, suffix):
    dense = scmaskgan.pp.impute(tiny_counts, labels_key="cell_type", copy=True, **FAST).layers["scmaskgan"]
    path = tmp_path / f"imputed{suffix}"
    out = scmaskgan.pp.impute(tiny_counts, labels_key="cell_type", copy=True, out_file=str(path),
                              chunk_size=7, **FAST)
    assert "scmaskgan" not in out.layers and out.uns["scmaskgan"]["out_file"] == str(path)
    if suffix == ".h5ad":
        back = ad.read_h5ad(path, backed="r")
        assert np.array_equal(back.layers["scmaskgan"][:], dense)
        assert back.uns["scmaskgan"]["params"]["fill"] == "poisson"
        np.testing.assert_array_equal(back.X[:], np.asarray(tiny_counts.X))
    else:
        back = pd.read_csv(path, index_col=0)
        np.testing.assert_allclose(back.to_numpy(), dense, rtol=1e-6)
        assert list(back.index) == list(tiny_counts.obs_names)
    with pytest.raises(FileExistsError):
        scmaskgan.pp.impute(tiny_counts, labels_key="cell_type", copy=True, out_file=str(path), **FAST)


def test_mixed_precision_training_runs_and_keeps_float32_weights(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="paper", tune=False, mixed_precision=True, **PAPER_FAST)
    out = model.train().impute()
    assert all(t.dtype == torch.float32 for t in model.generator.parameters())
    assert np.isfinite(model.history_[["loss_d", "loss_g"]].to_numpy()).all()
    assert np.all(out[np.asarray(tiny_counts.X) == 0] > 0)


def test_every_method_and_setting_is_on_the_api_page():
    """book/api.md documents each method's settings class, and the settings' docstrings name every field."""
    import inspect
    from pathlib import Path

    from scmaskgan.modes import MODES

    text = (Path(__file__).resolve().parents[1] / "book" / "api.md").read_text()
    for mode, settings in MODES.items():
        assert f".. automodule:: {settings.__module__}\n   :members: {settings.__name__}" in text, mode
        docs = " ".join(inspect.getdoc(cls) or "" for cls in settings.__mro__)  # a subclass shares its base's
        for name in settings.names():
            assert name in docs, (mode, name)


def test_old_mode_names_warn_and_name_the_new_one(tiny_counts):
    with pytest.warns(FutureWarning, match="mode='default' is now called mode='neighbours'"):
        model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="default", progress=False)
    assert model.mode == "neighbours"
    with pytest.warns(FutureWarning, match="mode='masked' is now called mode='count'"):
        assert SCMaskGAN(tiny_counts, mode="masked", progress=False).mode == "count"


def test_a_dense_result_larger_than_memory_is_refused_before_training(tiny_counts, tmp_path, monkeypatch):
    import scmaskgan._validation as model_module
    from scmaskgan import SCMaskGAN, pp

    monkeypatch.setattr(model_module, "available_memory", lambda: 1000)  # bytes

    def no_training(self, *args, **kwargs):
        if self.gan is not None:
            raise AssertionError("trained before refusing")
        return self  # a mode without a GAN has nothing to train

    monkeypatch.setattr(SCMaskGAN, "train", no_training)
    for mode in ("paper", "count"):
        with pytest.raises(InputError, match=r"imputed layers would take .* GiB.*out_file="):
            pp.impute(tiny_counts, labels_key="cell_type", mode=mode)
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="neighbours")
    with pytest.raises(InputError, match="iter_imputed"):
        model.impute()
    # the ways that never hold the whole matrix still work
    assert sum(block.shape[0] for _, _, block in model.iter_imputed()) == tiny_counts.n_obs
    pp.impute(tiny_counts, labels_key="cell_type", mode="neighbours", out_file=tmp_path / "imputed.h5ad")
    assert (tmp_path / "imputed.h5ad").exists() and "scmaskgan" not in tiny_counts.layers


def test_available_memory_takes_the_smaller_of_the_system_and_a_container_limit(tmp_path):
    from scmaskgan._validation import available_memory

    available = available_memory()
    assert available is None or available > 0
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    assert available_memory(meminfo, cgroup) == 20000000 * 1024  # no cgroup files: the system's
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text("1000\n")
    assert available_memory(meminfo, cgroup) == 20000000 * 1024  # no limit
    (cgroup / "memory.max").write_text(f"{4 * 2**30}\n")
    (cgroup / "memory.current").write_text(f"{2**30}\n")
    assert available_memory(meminfo, cgroup) == 3 * 2**30  # the container's limit leaves less
    assert available_memory(tmp_path / "none", tmp_path / "none") is None


def test_the_neighbour_fill_runs_without_importing_torch():
    """The neighbour fill needs no torch: neither with labels given nor with automatic labels."""
    import subprocess
    import sys

    script = """
import sys
import numpy as np, anndata as ad, pandas as pd
import scmaskgan
rng = np.random.default_rng(0)
obs = pd.DataFrame({"t": ["a", "b"] * 30}, index=[f"c{i}" for i in range(60)])
adata = ad.AnnData(rng.poisson(1.0, (60, 40)).astype(np.float32), obs=obs)
scmaskgan.pp.impute(adata, labels_key="t", mode="neighbours", progress=False)
scmaskgan.pp.impute(adata, key_added="auto", mode="neighbours", progress=False)
assert adata.layers["scmaskgan"].shape == (60, 40)
print("torch" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "False"
