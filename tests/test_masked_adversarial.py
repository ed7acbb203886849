"""The GAIN discriminator of the count model: the paper's hint, its losses, training with it, its settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scmaskgan import InputError, SCMaskGAN
from scmaskgan.count.model import CountTrainingConfig
from scmaskgan.count.discriminator import (HintDiscriminator, discriminator_loss, generator_adversarial_loss, random_mask,
                                sample_hint)

FAST = dict(mode="count", max_epochs=3, progress=False, hidden_dim=32, latent_dim=8, noise_dim=4)


def test_hint_is_the_papers_form():
    mask = random_mask((200, 30), 0.5, torch.Generator().manual_seed(0))
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    hint, b = sample_hint(mask, 0.9, torch.Generator().manual_seed(1))
    # revealed entries (b == 1) carry the mask, the others 0.5: h = b * m + 0.5 * (1 - b)
    assert torch.equal(hint[b == 1], mask[b == 1])
    assert torch.all(hint[b == 0] == 0.5)
    assert abs(b.mean().item() - 0.9) < 0.02
    none, b0 = sample_hint(mask, 0.0, torch.Generator().manual_seed(1))
    assert torch.all(b0 == 0) and torch.all(none == 0.5)


def test_losses_count_only_the_entries_the_hint_does_not_reveal():
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0], [0.0, 1.0, -2.0, -0.5]], requires_grad=True)
    mask = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
    b = torch.tensor([[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0]])
    p = torch.sigmoid(logits.detach())
    # cell 0: entries 0 (real) and 1 (generated) judged; cell 1: entries 1 (real) and 2 (generated)
    by_hand = (-(torch.log(p[0, 0]) + torch.log(1 - p[0, 1])) - (torch.log(p[1, 1]) + torch.log(1 - p[1, 2]))) / 2
    loss = discriminator_loss(logits, mask, b)
    assert loss.item() == pytest.approx(by_hand.item(), rel=1e-6)
    loss.backward()
    assert torch.all(logits.grad[b == 1] == 0) and torch.all(logits.grad[b == 0] != 0)
    # whatever D says about revealed entries does not change its loss
    other = logits.detach().clone()
    other[b == 1] = torch.tensor([-7.0, 9.0, 4.0, -3.0])
    assert discriminator_loss(other, mask, b).item() == pytest.approx(loss.item(), rel=1e-6)
    # the generator's loss: -log D on generated entries that are not revealed (cell 0 entry 1, cell 1 entry 2)
    gen = generator_adversarial_loss(logits.detach(), mask, b)
    assert gen.item() == pytest.approx((-(torch.log(p[0, 1]) + torch.log(p[1, 2])) / 2).item(), rel=1e-6)


def test_discriminator_tells_a_wrong_generator_from_real_counts():
    torch.manual_seed(0)
    draws = torch.Generator().manual_seed(0)
    disc = HintDiscriminator(20, hidden_dim=32, entry_dim=8)
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
    chance = 20 * 0.5 * np.log(2)  # judged entries per cell (hint rate 0.5) times ln 2
    losses = []
    for _ in range(150):
        real, fake = torch.poisson(torch.full((32, 20), 2.0)), torch.poisson(torch.full((32, 20), 20.0))
        mask = random_mask((32, 20), 0.5, draws)
        hint, b = sample_hint(mask, 0.5, draws)
        loss = discriminator_loss(disc(torch.log1p(mask * real + (1 - mask) * fake), hint), mask, b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[:5]) > 0.9 * chance and np.mean(losses[-20:]) < 0.5 * chance


def test_training_with_the_discriminator_runs_and_repeats_exactly(tiny_counts, tmp_path):
    runs = []
    for _ in range(2):
        model = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=4, adversarial_weight=1.0, hint_rate=0.8,
                          **FAST).train()
        runs.append((model, dict(model.iter_answers().__next__()[2]), model.sample(2)))
    (a, answers_a, draws_a), (b, answers_b, draws_b) = runs
    assert {"loss_adv", "loss_d"} <= set(a.history_.columns)
    assert np.isfinite(a.history_[["loss", "val_loss", "loss_adv", "loss_d"]].to_numpy()).all()
    assert a.history_.drop(columns="seconds").equals(b.history_.drop(columns="seconds"))
    for key in answers_a:
        assert np.array_equal(answers_a[key], answers_b[key])
    assert np.array_equal(draws_a, draws_b)
    assert a.n_parameters()["discriminator"] > 0
    # without the discriminator the training differs and has no adversarial columns
    plain = SCMaskGAN(tiny_counts, labels_key="cell_type", seed=4, **FAST).train()
    assert "loss_adv" not in plain.history_.columns and plain.count_model.discriminator is None
    assert not np.array_equal(dict(plain.iter_answers().__next__()[2])["mean"], answers_a["mean"])
    # the settings are saved; the discriminator is not needed to answer
    a.save(tmp_path / "m")
    loaded = SCMaskGAN.load(tmp_path / "m", tiny_counts)
    assert loaded.params["adversarial_weight"] == 1.0 and loaded.params["hint_rate"] == 0.8
    assert np.array_equal(dict(loaded.iter_answers().__next__()[2])["mean"], answers_a["mean"])


@pytest.mark.parametrize("bad", [dict(adversarial_weight=-0.1), dict(adversarial_weight=float("nan")),
                                 dict(hint_rate=1.0), dict(hint_rate=-0.1), dict(hint_rate=1.5)])
def test_bad_settings_are_refused(tiny_counts, bad):
    with pytest.raises(InputError):
        SCMaskGAN(tiny_counts, labels_key="cell_type", **FAST | bad)


def test_the_training_loop_refuses_bad_settings_too(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", **FAST)
    with pytest.raises(InputError, match="adversarial_weight"):
        model.count_model.train(CountTrainingConfig(max_epochs=1, adversarial_weight=-1.0, progress=False))
    with pytest.raises(InputError, match="hint_rate"):
        model.count_model.train(CountTrainingConfig(max_epochs=1, adversarial_weight=1.0, hint_rate=1.0,
                                                     progress=False))
