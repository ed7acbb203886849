"""The count model's encoders (MLP, the paper's blocks on the gene layout) and the correlation gene order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scmaskgan import InputError, SCMaskGAN
from scmaskgan.count.network import CountGenerator, correlation_order

FAST = dict(mode="count", max_epochs=3, progress=False, hidden_dim=16, latent_dim=8, noise_dim=2, seed=1)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
@pytest.mark.parametrize("n_labels", [0, 3])
def test_both_encoders_give_rates_that_sum_to_one(architecture, n_labels):
    torch.manual_seed(0)
    n_genes = 50  # not a square: the image has padding pixels
    net = CountGenerator(n_genes, n_labels, hidden_dim=16, latent_dim=4, noise_dim=2, zero_inflated=True,
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
    net = CountGenerator(2000, 0, hidden_dim=8, latent_dim=4, architecture="conv", conv_channels=4,
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
    ordered = CountGenerator(n_genes, architecture="conv", gene_order=order, hidden_dim=8, latent_dim=4,
                              conv_channels=4, gene_channels=2)
    plain = CountGenerator(n_genes, architecture="conv", hidden_dim=8, latent_dim=4, conv_channels=4,
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
        CountGenerator(5, architecture="conv", gene_order=np.array([0, 1, 1, 2, 3]))
    with pytest.raises(InputError, match="architecture must be one of"):
        CountGenerator(5, architecture="CONV")


def _conv(n_genes=30, n_labels=0, **options):
    return CountGenerator(n_genes, n_labels, hidden_dim=8, latent_dim=4, architecture="conv", conv_channels=4,
                           gene_channels=2, **options)


@pytest.mark.parametrize("dropped", ["attention", "residual"])
def test_a_dropped_block_passes_the_map_through(dropped):
    torch.manual_seed(0)
    full = _conv(n_labels=3)
    ablated = _conv(n_labels=3, **{dropped: False})
    assert isinstance(getattr(ablated.encoder, dropped), torch.nn.Identity)
    assert not any(name.startswith(f"encoder.{dropped}.") for name in ablated.state_dict())
    kept = {k: v for k, v in full.state_dict().items() if not k.startswith(f"encoder.{dropped}.")}
    ablated.load_state_dict(kept)  # strict: the other blocks' weights are exactly the full model's
    dropped_params = sum(p.numel() for p in getattr(full.encoder, dropped).parameters())
    assert dropped_params > 0
    assert sum(p.numel() for p in ablated.parameters()) == sum(p.numel() for p in full.parameters()) - dropped_params
    x = torch.poisson(torch.full((4, 30), 3.0))
    onehot = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0]), 3).float()
    full.eval(), ablated.eval()
    block = getattr(full.encoder, dropped)
    with torch.no_grad():
        # the full block made the identity (attention: gamma = 0, as initialised; residual: its body's last batch
        # norm outputs 0 and the ReLU after it sees the stem's non-negative map) gives the ablated model's output ...
        if dropped == "attention":
            assert block.gamma.item() == 0.0
        else:
            block.body[-1].weight.zero_(), block.body[-1].bias.zero_()
        torch.testing.assert_close(full.encode(x, onehot), ablated.encode(x, onehot))
        # ... and the block, once it does something, changes it
        if dropped == "attention":
            block.gamma.fill_(1.0)
        else:
            block.body[-1].bias.fill_(0.5)
        assert not torch.allclose(full.encode(x, onehot), ablated.encode(x, onehot))


def test_both_blocks_dropped_still_give_rates():
    net = _conv(n_genes=50, noise_dim=2, zero_inflated=True, attention=False, residual=False)
    x = torch.poisson(torch.full((5, 50), 2.0))
    net.train()
    rho, _ = net(x)
    rho.sum().backward()
    net.eval()
    rho, pi_logits = net(x)
    assert rho.shape == pi_logits.shape == (5, 50)
    np.testing.assert_allclose(rho.sum(1).detach().numpy(), 1.0, rtol=1e-5)


def test_the_default_blocks_draw_the_same_weights_as_before():
    # attention=True, residual=True are the encoder as it was: same modules, same initial weights, same output
    torch.manual_seed(0)
    default = _conv(n_labels=3)
    torch.manual_seed(0)
    explicit = _conv(n_labels=3, attention=True, residual=True)
    assert list(default.state_dict()) == list(explicit.state_dict())
    for name, value in default.state_dict().items():
        assert torch.equal(value, explicit.state_dict()[name]), name
    keys = list(default.state_dict())
    # the residual block is built before the attention, both before the label map (the order of the RNG draws)
    first = {block: min(i for i, k in enumerate(keys) if k.startswith(f"encoder.{block}."))
             for block in ("residual", "attention", "label_map", "down")}
    assert first["residual"] < first["attention"] < first["label_map"] < first["down"]


@pytest.mark.parametrize("options, message", [
    ({"attention": False}, "MLP has no attention block"),
    ({"residual": False}, "MLP has no residual block"),
    ({"architecture": "conv", "attention": "no"}, "attention must be True or False"),
    ({"architecture": "conv", "residual": 0}, "residual must be True or False"),
])
def test_block_options_are_checked(options, message):
    with pytest.raises(InputError, match=message):
        CountGenerator(20, hidden_dim=8, latent_dim=4, **options)
    CountGenerator(20, hidden_dim=8, latent_dim=4, attention=True, residual=True)  # the MLP's defaults are fine


def _benchmark_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "masked_architecture.py"
    spec = importlib.util.spec_from_file_location("masked_architecture_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ablation_variants_change_one_thing_each(tiny_counts):
    bench = _benchmark_script()
    assert list(bench.VARIANTS) == ["mlp", "mlp_nolabels", "conv", "conv_noattention", "conv_noresidual",
                                    "conv_nolabels", "conv_corr", "mlp_adversarial", "mlp_nb", "mlp_hide0", "mlp_hide10",
                                    "mlp_hide30", "mlp_hide50", "mlp_hide70", "mlp_hide90"]
    models = {name: bench.build(tiny_counts, "cell_type", name, seed=3, max_epochs=1) for name in bench.VARIANTS}
    gens = {name: m.count_model.generator for name, m in models.items()}
    for name, model in models.items():
        assert (model.params["labels_key"] is None) == name.endswith("_nolabels"), name
        assert gens[name].architecture == ("conv" if name.startswith("conv") else "mlp"), name
        assert model.params["adversarial_weight"] == (1.0 if name == "mlp_adversarial" else 0.0), name
        assert model.params["gene_order"] == ("correlation" if name == "conv_corr" else "input"), name
        assert gens[name].zero_inflated == (name != "mlp_nb"), name  # the likelihood
    assert models["mlp_adversarial"].params["hint_rate"] == 0.9  # the default
    for name, model in models.items():  # hide, with the counts as they are; the others leave both to the package
        hide = int(name[8:]) / 100 if name.startswith("mlp_hide") else None
        assert model.params["hide"] == hide, name
        assert model.params["reads_per_molecule"] == (None if hide is None else 1.0), name
    # the rebuilt generator is the one the model builds, with the block dropped and nothing else changed
    same = bench.build(tiny_counts, "cell_type", "conv", seed=3)
    bench.rebuild_generator(same)
    for key, value in gens["conv"].state_dict().items():
        assert torch.equal(value, same.count_model.generator.state_dict()[key]), key
    for name, dropped in (("conv_noattention", "attention"), ("conv_noresidual", "residual")):
        assert isinstance(getattr(gens[name].encoder, dropped), torch.nn.Identity)
        kept = [k for k in gens["conv"].state_dict() if not k.startswith(f"encoder.{dropped}.")]
        assert list(gens[name].state_dict()) == kept
        assert models[name].n_parameters()["generator"] < models["conv"].n_parameters()["generator"]
    assert gens["conv_nolabels"].encoder.label_map is None and gens["conv"].encoder.label_map is not None
    models["conv_noattention"].train()  # the rebuilt generator is the one that trains
    assert models["conv_noattention"].is_trained_ and len(models["conv_noattention"].history_) == 1
