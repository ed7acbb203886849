"""The learned count model (mode="count"): its likelihood, training, three answers, draws, saving and CLI."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy import stats

import scmaskgan
from scmaskgan import InputError, SCMaskGAN
from scmaskgan.count.network import CountGenerator, count_nll

FAST = dict(mode="count", max_epochs=4, progress=False, hidden_dim=32, latent_dim=8, noise_dim=4)


def test_count_nll_is_the_negative_binomial_and_its_zero_inflation():
    counts = torch.tensor([0.0, 1.0, 3.0, 10.0])
    mu = torch.tensor([0.5, 2.0, 3.0, 7.5])
    theta = torch.tensor([0.3, 1.0, 5.0, 50.0])
    n, p = theta.numpy(), (theta / (theta + mu)).numpy()
    expected = -stats.nbinom.logpmf(counts.numpy(), n, p)
    np.testing.assert_allclose(count_nll(counts, mu, theta).numpy(), expected, rtol=1e-5)
    pi = 0.3
    logits = torch.full_like(mu, float(np.log(pi / (1 - pi))))
    pmf = (1 - pi) * stats.nbinom.pmf(counts.numpy(), n, p) + pi * (counts.numpy() == 0)
    np.testing.assert_allclose(count_nll(counts, mu, theta, logits).numpy(), -np.log(pmf), rtol=1e-5)


def test_generator_rates_sum_to_one_and_noise_changes_them():
    torch.manual_seed(0)
    net = CountGenerator(20, 3, hidden_dim=16, latent_dim=4, noise_dim=2, zero_inflated=True)
    x = torch.poisson(torch.full((5, 20), 2.0))
    onehot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0, 1]), 3).float()
    net.eval()
    rho, pi_logits = net(x, onehot, torch.zeros(5, 2))
    np.testing.assert_allclose(rho.sum(1).detach().numpy(), 1.0, rtol=1e-5)
    assert pi_logits.shape == (5, 20)
    other, _ = net(x, onehot, torch.ones(5, 2))
    assert not torch.allclose(rho, other)


@pytest.fixture
def masked_tiny(tiny_counts):
    adata = tiny_counts.copy()
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=3, **FAST)
    return adata


def test_three_answers_with_observed_values_unchanged(masked_tiny, tiny_counts):
    adata = masked_tiny
    X = np.asarray(tiny_counts.X)
    observed = X != 0
    mean, if_detected, p = (adata.layers[k] for k in ("scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected"))
    for layer in (mean, if_detected):
        assert np.array_equal(layer[observed], X[observed])
    assert np.all(p[observed] == 1.0) and np.all((p >= 0) & (p <= 1))
    zeros = ~observed
    # at a zero the value if detected is at least one count's worth and above the expected value
    assert np.all(if_detected[zeros] >= mean[zeros] - 1e-6)
    assert np.all(if_detected[zeros] > 0) and np.all(mean[zeros] > 0)
    uns = adata.uns["scmaskgan"]
    assert uns["trained"] and set(uns["layers"]) == {"scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected"}
    assert {"loss", "val_loss"} <= set(uns["history"])


def test_seeded_runs_repeat_exactly_and_no_labels_needs_no_clustering(tiny_counts, caplog):
    runs = []
    for _ in range(2):
        adata = tiny_counts.copy()
        scmaskgan.pp.impute(adata, seed=5, **FAST)
        runs.append(adata)
    for key in ("scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected"):
        assert np.array_equal(runs[0].layers[key], runs[1].layers[key])
    assert runs[0].uns["scmaskgan"]["labels"]["method"] == "none"  # no Leiden pools
    assert not any("Leiden" in r.getMessage() for r in caplog.records)


def test_sparse_input_gives_the_same_answers(tiny_counts, masked_tiny):
    adata = tiny_counts.copy()
    adata.X = sp.csr_matrix(adata.X)
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=3, **FAST)
    np.testing.assert_allclose(adata.layers["scmaskgan"], masked_tiny.layers["scmaskgan"], rtol=1e-5, atol=1e-6)


def test_draws_keep_observed_values_and_vary(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **FAST).train()
    draws = model.sample(3)
    X = np.asarray(tiny_counts.X)
    assert draws.shape == (3, *X.shape)
    assert all(np.array_equal(d[X != 0], X[X != 0]) for d in draws)
    assert np.all(draws == np.round(draws)) and np.all(draws >= 0)  # counts
    assert not np.array_equal(draws[0], draws[1])
    assert np.array_equal(model.sample(3, seed=1), draws)  # the first call used the model's seed


def test_each_call_without_a_seed_gives_new_draws_in_a_repeatable_sequence(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **FAST).train()
    one_at_a_time = [model.sample(1)[0] for _ in range(3)]
    zeros = np.asarray(tiny_counts.X) == 0
    assert not np.array_equal(one_at_a_time[0][zeros], one_at_a_time[1][zeros])
    assert not np.array_equal(one_at_a_time[1][zeros], one_at_a_time[2][zeros])
    again = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **FAST).train()
    assert all(np.array_equal(again.sample(1)[0], draw) for draw in one_at_a_time)
    assert np.array_equal(model.sample(1, seed=7), model.sample(1, seed=7))  # a seed given: the same draw


def test_draws_that_do_not_fit_are_refused_with_advice_that_works(tiny_counts, monkeypatch):
    from scmaskgan import _validation

    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **FAST).train()
    one = tiny_counts.n_obs * tiny_counts.n_vars * 4
    monkeypatch.setattr(_validation, "available_memory", lambda: 3 * one)
    with pytest.raises(InputError) as refused:
        model.sample(5)
    message = str(refused.value)
    assert f"5 draw(s) would take" in message and f"{tiny_counts.n_obs:,} cells x" in message and "5 of them" in message
    assert "sample(1) in a loop" in message and "out_file" not in message
    assert model.sample(1).shape == (1, *tiny_counts.shape)  # what the message advises works


def test_save_load_round_trip(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **FAST).train()
    first = model.impute()
    folder = model.save(tmp_path / "m")
    loaded = SCMaskGAN.load(folder, tiny_counts, device="cpu")
    assert loaded.is_trained_ and len(loaded.history_) == len(model.history_)
    np.testing.assert_array_equal(loaded.impute(), first)


def test_refusals(tiny_counts):
    with pytest.raises(InputError, match="raw counts"):
        SCMaskGAN(tiny_counts, normalized=True, **FAST)
    model = SCMaskGAN(tiny_counts, **FAST)
    with pytest.raises(RuntimeError, match="not trained"):
        next(model.iter_answers())
    with pytest.raises(RuntimeError, match="sample\\(\\) needs the count model: use mode='count'"):
        SCMaskGAN(tiny_counts, labels_key="cell_type", mode="neighbours", progress=False).sample(2)
    with pytest.raises(InputError, match="thinning"):
        SCMaskGAN(tiny_counts, mode="count", thinning=1.5)


def test_cli_writes_the_three_layers(tiny_counts, tmp_path):
    import anndata as ad

    from scmaskgan.cli import main

    src, dst = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    tiny_counts.write_h5ad(src)
    assert main(["impute", str(src), "-o", str(dst), "--mode", "masked", "--epochs", "3", "--labels-key",
                 "cell_type", "--depth", "2", "-q"]) == 0
    out = ad.read_h5ad(dst)
    assert {"scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected"} <= set(out.layers)
    assert "probability" in out.uns["scmaskgan"]["layers"]["scmaskgan_p_detected"]
    assert "2 times its library size" in out.uns["scmaskgan"]["layers"]["scmaskgan_p_detected"]


def test_save_load_without_labels(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, seed=2, **FAST).train()
    folder = model.save(tmp_path / "nolabels")
    loaded = SCMaskGAN.load(folder, tiny_counts)
    assert loaded.labels_info_ == {"method": "none"}
    np.testing.assert_array_equal(loaded.impute(), model.impute())


def test_empty_cells_and_unseen_genes_stay_zero(tiny_counts):
    adata = tiny_counts.copy()
    adata.X[4] = 0  # a cell without counts
    adata.X[:, 7] = 0  # a gene no cell shows
    scmaskgan.pp.impute(adata, seed=0, **FAST)
    for key in ("scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected"):
        layer = adata.layers[key]
        assert np.all(layer[4] == 0) and np.all(layer[:, 7] == 0) and np.isfinite(layer).all()


def test_pp_impute_stores_draws_for_multiple_imputation(tiny_counts, tmp_path):
    adata = tiny_counts.copy()
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=1, n_draws=3, **FAST)
    draws = adata.obsm["scmaskgan_draws"]
    X = np.asarray(tiny_counts.X)
    assert draws.shape == (X.shape[0], 3, X.shape[1])
    assert all(np.array_equal(draws[:, k][X != 0], X[X != 0]) for k in range(3))
    with pytest.raises(InputError, match="mode='count'"):
        scmaskgan.pp.impute(tiny_counts.copy(), labels_key="cell_type", n_draws=2, mode="neighbours", progress=False)
    with pytest.raises(InputError, match="out_file"):
        scmaskgan.pp.impute(tiny_counts.copy(), n_draws=2, out_file=tmp_path / "x.h5ad", **FAST)


def test_depth_asks_about_a_deeper_measurement(tiny_counts):
    """depth=d: every zero's answers are those of ZINB(d * mu, theta, pi), brought back to the cell's library size."""
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=5, **FAST).train()
    X = np.asarray(tiny_counts.X)
    zeros = X == 0
    shallow = next(model.iter_answers(block_size=model.n_cells))[2]
    deep = next(model.iter_answers(block_size=model.n_cells, depth=3.0))[2]
    mu, theta, pi = model.count_model.distribution(np.arange(model.n_cells))
    assert pi is not None  # zero inflation is the default
    used = model.genes_used_
    p_deep = np.zeros(X.shape)
    p_deep[:, used] = (1 - pi) * (1 - (theta / (theta + 3.0 * mu)) ** theta)
    np.testing.assert_allclose(deep["p_detected"][zeros], p_deep[zeros], atol=1e-6)
    assert np.all(deep["p_detected"][zeros] >= shallow["p_detected"][zeros] - 1e-7)
    assert deep["p_detected"][zeros].mean() > shallow["p_detected"][zeros].mean()
    for name in ("mean", "if_detected"):  # observed values stay exact at any depth
        assert np.array_equal(deep[name][~zeros], X[~zeros])
    # the model's own depth is what pp.impute and the CLI use, and uns says so
    adata = tiny_counts.copy()
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=5, depth=3.0, **FAST)
    np.testing.assert_array_equal(adata.layers["scmaskgan_p_detected"], deep["p_detected"])
    assert "3 times its library size" in adata.uns["scmaskgan"]["layers"]["scmaskgan_p_detected"]
    with pytest.raises(InputError, match="depth"):
        SCMaskGAN(tiny_counts, labels_key="cell_type", depth=2.0, mode="neighbours", progress=False)
    with pytest.raises(InputError, match="depth must be > 0"):
        SCMaskGAN(tiny_counts, mode="count", depth=0)
    with pytest.raises(InputError, match="depth"):
        next(model.iter_answers(depth=-1.0))


def test_draws_at_depth_and_given_detection(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=4, **FAST).train()
    X = np.asarray(tiny_counts.X)
    zeros = X == 0
    plain = model.sample(20)
    detected = model.sample(20, if_detected=True)
    deep = model.sample(20, depth=4.0)
    for draws in (plain, detected, deep):
        assert np.array_equal(draws[:, ~zeros], np.broadcast_to(X[~zeros], (20, int((~zeros).sum()))))
    assert (plain[:, zeros] == 0).mean() > 0.2 and np.all(detected[:, zeros] >= 1)
    # given detection, a zero's draws average its if_detected answer; at depth 4, c / 4 averages the mean answer
    answers = next(model.iter_answers(block_size=model.n_cells))[2]
    mu, theta, pi = model.count_model.distribution(np.arange(model.n_cells))
    assert np.all(np.isclose(deep[:, zeros] * 4.0, np.round(deep[:, zeros] * 4.0)))  # whole counts of the deeper measurement
    np.testing.assert_allclose(deep[:, zeros].mean(), ((1 - pi) * mu)[zeros].mean(), rtol=0.1)
    # zero-truncated draws follow the NB given c > 0 (zero inflation cancels): their mean is mu / P_NB(c > 0)
    p = 1 - (theta / (theta + mu)) ** theta
    np.testing.assert_allclose(detected[:, zeros].mean(), (mu / p)[zeros].mean(), rtol=0.1)
    assert answers["if_detected"][zeros].mean() > 0
    with pytest.raises(InputError, match="if_detected"):
        model.sample(2, if_detected=1)


def test_default_epochs_follow_a_budget_of_cells_seen(tiny_counts, monkeypatch):
    from scmaskgan.count import model as count_model

    assert count_model.default_max_epochs(274) == 300  # small data: early stopping decides
    assert count_model.default_max_epochs(100_000) == 23  # 2,000,000 cells seen / 90,000 training cells
    assert count_model.default_max_epochs(10**7) == 20
    monkeypatch.setattr(count_model, "CELL_BUDGET", 3 * int(round(0.9 * tiny_counts.n_obs)))
    monkeypatch.setattr(count_model, "MIN_BUDGET_EPOCHS", 1)
    fast = {k: v for k, v in FAST.items() if k != "max_epochs"}
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, **fast).train()
    assert len(model.history_) == 3
    assert len(SCMaskGAN(tiny_counts, labels_key="cell_type", seed=1, max_epochs=2, **fast).train().history_) == 2


def test_subnormal_weights_and_moments_are_cleared():
    """Subnormal floats slow CPU arithmetic tens of times; the training sweep sets them to 0."""
    from scmaskgan.count.model import TINY, _flush_subnormal

    w = torch.nn.Parameter(torch.ones(5))
    opt = torch.optim.Adam([w], lr=1e-3)
    w.grad = torch.ones(5)
    opt.step()
    with torch.no_grad():
        w.copy_(torch.tensor([1e-40, -1e-39, 0.5, -2.0, 1e-20]))
    opt.state[w]["exp_avg"][0] = 1e-42  # a moment decayed to a subnormal value
    opt.state[w]["exp_avg_sq"][1] = 1e-39
    _flush_subnormal(opt)
    assert w.tolist()[:2] == [0.0, 0.0] and w.tolist()[2:4] == [0.5, -2.0] and w[4] != 0
    assert opt.state[w]["exp_avg"][0] == 0 and opt.state[w]["exp_avg_sq"][1] == 0
    for moment in ("exp_avg", "exp_avg_sq"):
        values = opt.state[w][moment]
        assert torch.all((values == 0) | (values.abs() >= TINY))


def test_hide_sets_a_share_of_what_training_sees_to_zero_and_leaves_the_scored_half(tiny_counts, monkeypatch):
    model = SCMaskGAN(tiny_counts, hide=0.3, **FAST).count_model
    x = torch.as_tensor(np.asarray(tiny_counts.X, dtype=np.float32))
    x = x.repeat(20, 1)  # enough entries for the share
    plain_in, plain_out = model._split(x, torch.Generator().manual_seed(5))
    hid_in, hid_out = model._split(x, torch.Generator().manual_seed(5), hide=0.3)
    torch.testing.assert_close(hid_out, plain_out)  # the molecules the loss scores are unchanged
    assert torch.all((hid_in == plain_in) | (hid_in == 0))
    share = ((plain_in > 0) & (hid_in == 0)).sum() / (plain_in > 0).sum()
    assert 0.25 < share.item() < 0.35
    # hide = 0 draws nothing more: the generator's state is that of the plain split
    g0, g1 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    model._split(x, g0)
    model._split(x, g1, hide=0.0)
    assert torch.equal(torch.rand(3, generator=g0), torch.rand(3, generator=g1))
    # training splits hide, the held-out cells' split does not
    seen = []
    split = type(model)._split
    monkeypatch.setattr(type(model), "_split", lambda self, x, g, hide=0.0: seen.append(hide) or split(self, x, g, hide=hide))
    from scmaskgan.count.model import CountTrainingConfig

    model.train(CountTrainingConfig(max_epochs=1, min_epochs=1, batch_size=8, progress=False))
    assert seen[0] == 0.0 and set(seen[1:]) == {0.3}
    with pytest.raises(InputError, match="hide"):
        SCMaskGAN(tiny_counts, mode="count", hide=1.0)


def test_the_main_layer_is_the_average_its_sentence_names(tiny_counts):
    """With noise_dim=0 the draws come from the very law the answers average: the main layer (log) is the
    count whose log1p CP10k is the draws' mean log1p CP10k; with expectation="counts" it is their mean count."""
    from scmaskgan.count.settings import LAYER_MEANINGS

    settings = FAST | dict(noise_dim=0, max_epochs=3)
    X = np.asarray(tiny_counts.X, dtype=np.float64)
    zeros, lib = X == 0, X.sum(1, keepdims=True)
    log_model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=2, **settings).train()
    draws = log_model.sample(400, seed=5).astype(np.float64)
    log_mean = log_model.impute()
    from_draws = np.expm1(np.log1p(draws * 1e4 / lib).mean(0)) * lib / 1e4
    np.testing.assert_allclose(log_mean[zeros].mean(), from_draws[zeros].mean(), rtol=0.05)
    counts_model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=2, expectation="counts", **settings).train()
    counts_mean = counts_model.impute()
    np.testing.assert_allclose(counts_mean[zeros].mean(), draws.mean(0)[zeros].mean(), rtol=0.05)
    assert np.all(counts_mean[zeros] >= log_mean[zeros] - 1e-6) and counts_mean[zeros].mean() > 1.2 * log_mean[zeros].mean()
    assert np.array_equal(counts_mean[~zeros], X[~zeros])
    # the same fit (the setting changes the answers, not training): P(detected) in closed form matches the kernel's
    _, _, by_kernel = next(log_model.iter_answers())
    _, _, closed_form = next(counts_model.iter_answers())
    np.testing.assert_allclose(closed_form["p_detected"], by_kernel["p_detected"], rtol=1e-5, atol=1e-6)
    adata = tiny_counts.copy()
    scmaskgan.pp.impute(adata, labels_key="cell_type", seed=2, expectation="counts", **settings)
    assert adata.uns["scmaskgan"]["layers"]["scmaskgan"].startswith(LAYER_MEANINGS["counts"]["mean"])
    np.testing.assert_array_equal(adata.layers["scmaskgan"], counts_mean)
    with pytest.raises(InputError, match="expectation must be one of"):
        SCMaskGAN(tiny_counts, expectation="mean")


def test_every_page_says_what_the_main_layer_holds_in_the_same_words():
    from pathlib import Path

    from scmaskgan.cli import build_parser
    from scmaskgan.count.settings import LAYER_MEANINGS

    root = Path(__file__).resolve().parents[1]
    flat = lambda text: " ".join(text.split())
    pages = {name: flat((root / name).read_text()) for name in ("README.md", "book/usage.md", "book/method.md")}
    impute = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "impute")[1]
    pages["scmaskgan impute --help"] = flat(impute.format_help())
    sentence = flat(LAYER_MEANINGS["log"]["mean"])
    for where, text in pages.items():
        assert sentence in text, f"{where} does not say what the main layer holds: {sentence!r}"
    for where in ("book/usage.md", "book/method.md"):
        assert flat(LAYER_MEANINGS["counts"]["mean"]) in pages[where], where
