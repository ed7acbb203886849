"""The count model's encoders (MLP, the paper's blocks on the gene layout) and the correlation gene order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scmaskgan import InputError, SCMaskGAN
from scmaskgan.gan.masked import MaskedGenerator, correlation_order

FAST = dict(mode="masked", max_epochs=3, progress=False, hidden_dim=16, latent_dim=8, noise_dim=2, seed=1)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("n_labels", [0, 3])
def test_both_encoders_give_rates_that_sum_to_one(architecture, n_labels):
    torch.manual_seed(0)
    n_genes = 50  # not a square: the image has padding pixels
    net = MaskedGenerator(n_genes, n_labels, hidden_dim=16, latent_dim=4, noise_dim=2, zero_inflated=True,
                          architecture=architecture, conv_channels=4, gene_channels=2)
    x = torch.poisson(torch.full((5, n_genes), 2.0))
    onehot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0, 1]), 3).float() if n_labels else None
    net.train()
    rho, pi_logits = net(x, onehot)
    rho.sum().backward()  # trainable end to end
    net.eval()
    rho, pi_logits = net(x, onehot, torch.zeros(5, 2))
    assert rho.shape == pi_logits.shape == (5, n_genes) and net.theta.shape == (n_genes,)
    assert torch.all(rho > 0)
    np.testing.assert_allclose(rho.sum(1).detach().numpy(), 1.0, rtol=1e-5)


def test_conv_encoder_attends_on_a_bounded_map():
    net = MaskedGenerator(2000, 0, hidden_dim=8, latent_dim=4, architecture="conv", conv_channels=4,
                          gene_channels=2, attention_tokens=64)
    seen = {}
    def record(module, args, out):
        seen["shape"] = args[0].shape

    net.encoder.attention.register_forward_hook(record)
    net(torch.poisson(torch.full((2, 2000), 1.0)))
    side = seen["shape"][-1]  # the map at N / 2 (N = 45 for 2000 genes) ...
    assert side == 23
    pool = int(np.ceil(np.sqrt(side * side / 64)))  # ... is pooled to at most 64 tokens before attention
    assert int(np.ceil(side / pool)) ** 2 <= 64


def test_the_gene_order_only_permutes_what_the_image_sees():
    torch.manual_seed(0)
    n_genes = 30
    order = np.random.default_rng(0).permutation(n_genes)
    ordered = MaskedGenerator(n_genes, architecture="conv", gene_order=order, hidden_dim=8, latent_dim=4,
                              conv_channels=4, gene_channels=2)
    plain = MaskedGenerator(n_genes, architecture="conv", hidden_dim=8, latent_dim=4, conv_channels=4,
                            gene_channels=2)
    plain.load_state_dict({k: v for k, v in ordered.state_dict().items() if k != "gene_order"})
    ordered.eval(), plain.eval()
    x = torch.poisson(torch.full((4, n_genes), 3.0))
    # the ordered model's code of x is the plain model's code of x with its genes in that order ...
    torch.testing.assert_close(ordered.encode(x), plain.encode(x[:, torch.as_tensor(order)]))
    # ... and the rates come out in the input's gene order either way
    rho, _ = ordered(x)
    other, _ = plain(x[:, torch.as_tensor(order)])
    torch.testing.assert_close(rho, other)


def test_correlation_order_puts_correlated_genes_side_by_side():
    rng = np.random.default_rng(0)
    n_cells, n_genes = 200, 20
    module = np.arange(n_genes) % 2  # two modules of genes, interleaved in the input
    activity = rng.gamma(2.0, 1.0, size=(n_cells, 2))
    counts = rng.poisson(5.0 * activity[:, module])
    order = correlation_order(counts)
    assert np.array_equal(np.sort(order), np.arange(n_genes))
    # in the order each module is one block: the module changes once along it
    assert np.count_nonzero(np.diff(module[order])) == 1
    # it is computed from the counts alone: the same for sparse input, and it follows the genes
    import scipy.sparse as sp

    assert np.array_equal(correlation_order(sp.csr_matrix(counts)), order)
    swap = rng.permutation(n_genes)
    assert np.count_nonzero(np.diff(module[swap][correlation_order(counts[:, swap])])) == 1


def test_correlation_order_is_stored_with_the_model(tiny_counts, tmp_path):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", architecture="conv", gene_order="correlation", **FAST)
    stored = model.count_model.generator.gene_order.numpy().copy()
    assert np.array_equal(stored, correlation_order(np.asarray(tiny_counts.X)))
    model.train()
    first = model.impute()
    answers = next(model.iter_answers())[2]
    folder = model.save(tmp_path / "m")
    loaded = SCMaskGAN.load(folder, tiny_counts, device="cpu")
    assert loaded.params["architecture"] == "conv" and loaded.params["gene_order"] == "correlation"
    np.testing.assert_array_equal(loaded.impute(), first)
    for name, values in next(loaded.iter_answers())[2].items():
        np.testing.assert_array_equal(values, answers[name])
    # loaded for cells whose own correlation order differs, the model keeps the order it was trained with
    other = tiny_counts.copy()
    other.X = np.asarray(other.X)[:, np.random.default_rng(1).permutation(other.n_vars)]
    assert not np.array_equal(correlation_order(np.asarray(other.X)), stored)
    moved = SCMaskGAN.load(folder, other, device="cpu")
    assert np.array_equal(moved.count_model.generator.gene_order.numpy(), stored)


def test_the_mlp_model_is_unchanged_by_default(tiny_counts):
    model = SCMaskGAN(tiny_counts, **FAST)
    assert model.params["architecture"] == "mlp" and model.params["gene_order"] == "input"
    assert model.count_model.generator.gene_order is None
    assert "gene_order" not in model.count_model.generator.state_dict()


@pytest.mark.parametrize("options, message", [
    ({"architecture": "transformer"}, "architecture must be one of"),
    ({"gene_order": "random"}, "gene_order must be one of"),
    ({"architecture": 1}, "architecture must be one of"),
    ({"gene_order": "correlation"}, "only matters to the conv encoder"),
])
def test_bad_options_raise_input_errors(tiny_counts, options, message):
    with pytest.raises(InputError, match=message):
        SCMaskGAN(tiny_counts, **(FAST | options))


def test_a_gene_order_must_be_a_permutation():
    with pytest.raises(InputError, match="permutation"):
        MaskedGenerator(5, architecture="conv", gene_order=np.array([0, 1, 1, 2, 3]))
    with pytest.raises(InputError, match="architecture must be one of"):
        MaskedGenerator(5, architecture="CONV")
