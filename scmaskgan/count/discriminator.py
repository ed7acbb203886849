"""A per-entry discriminator with a hint (GAIN, Yoon et al. 2018) for the count model's draws.

GAIN's discriminator ``D`` reads a completed cell (real values where the mask ``m`` is 1, generated
values where it is 0) and a hint ``h``, and returns, per gene, the logit of the probability that the
entry is real. This module holds the pieces; :meth:`scmaskgan.count.model.CountModel.train`
uses them when ``adversarial_weight > 0``.

The hint: the paper's form, not the public code's
    ``h = b * m + 0.5 * (1 - b)`` with ``b ~ Bernoulli(hint_rate)`` per entry: where ``b == 1`` the hint
    tells ``D`` the truth (``h = m``), where ``b == 0`` it says 0.5 (nothing), and ``D``'s loss counts
    only the entries with ``b == 0``; the generator's adversarial loss is ``-log D`` on the generated
    entries (``m == 0``) with ``b == 0``. This is the form of the paper (its equations for ``L_D`` and
    ``L_G``), for which its theorem shows that the hint makes the optimum unique: the completed cell's
    law does not depend on the mask. The authors' public code uses ``h = b * m`` (``h = 0`` is then
    ambiguous: an unrevealed entry or a generated one) and puts ``D``'s loss on every entry, including
    the ones the hint has already revealed, where ``D`` only learns to copy the hint (GAIN repository,
    issue 2). We use the paper's form.

Which entries are "generated"
    GAIN's theorem assumes values missing completely at random: the mask must not depend on the
    values. The zeros of a cell do: at the optimum the adversarial loss makes completed values
    independent of the mask, so a mask "zero in the input" would pull every zero's value towards
    the level of detected entries (every zero a dropout; the bias protocol B measures). The training
    loop therefore draws the mask at random (:func:`random_mask`, share :data:`GENERATED_SHARE`),
    independent of the counts, on the held-out molecules ``x_out`` of a molecule split, whose every
    entry is known: the real cell is ``x_out``, the generated entries are draws from the count
    model given ``x_in`` at ``x_out``'s library size.

Everything here is plain torch and deterministic given the ``torch.Generator`` passed in.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["GENERATED_SHARE", "HintDiscriminator", "discriminator_loss", "generator_adversarial_loss",
           "random_mask", "sample_hint"]

#: Share of a completed cell's entries replaced by generated values during training (drawn at random,
#: independent of the counts: GAIN's "missing completely at random").
GENERATED_SHARE = 0.5


class HintDiscriminator(nn.Module):
    """``D(completed cell, hint)``: one logit per gene that the entry is real (not generated).

    GAIN's discriminator is an MLP over the data's dimensions, ``[values, hint] -> hidden -> hidden ->
    dims``, with as many hidden units as dimensions. With thousands of genes and a few hundred hidden
    units such an MLP has to squeeze a separate judgement of every entry through a narrow layer, and
    learns slowly: on 50 genes with Poisson(5) real values against Poisson(15) generated ones, a
    256-unit MLP had not reached half of the loss of guessing after 1,000 steps. So each entry has its own
    small path, modulated by the whole cell:

    * the cell's context ``c = MLP([values, hint])`` (2 x genes -> hidden -> hidden), from which all the
      cell's entries and the hint's revealed statuses are seen;
    * per entry ``(i, j)``, ``entry_dim`` units ``relu(v_ij * A_j + B_j + C c_i)`` (gene-wise ``A_j``,
      ``B_j``, shared ``C``), summed with gene-wise weights ``W_j``, plus a linear read-out of ``c_i``
      per gene.

    Parameters
    ----------
    n_genes
        Genes of a cell.
    hidden_dim
        Width of the cell context's two hidden layers.
    entry_dim
        Units of each entry's own path.
    """

    def __init__(self, n_genes: int, hidden_dim: int = 256, entry_dim: int = 16):
        super().__init__()
        self.n_genes = n_genes
        self.cell = nn.Sequential(nn.Linear(2 * n_genes, hidden_dim), nn.ReLU(),
                                  nn.Linear(hidden_dim, hidden_dim), nn.ReLU())
        self.context = nn.Linear(hidden_dim, entry_dim)
        self.head = nn.Linear(hidden_dim, n_genes)
        self.gene_scale = nn.Parameter(torch.randn(n_genes, entry_dim))
        self.gene_bias = nn.Parameter(0.1 * torch.randn(n_genes, entry_dim))
        self.gene_out = nn.Parameter(torch.randn(n_genes, entry_dim) / entry_dim ** 0.5)

    def forward(self, values: torch.Tensor, hint: torch.Tensor) -> torch.Tensor:
        """Logits (cells x genes) of "real" for completed cells ``values`` (log-normalised, cells x genes)
        and their hints ``hint`` (same shape; 1 real, 0 generated, 0.5 not revealed)."""
        if values.shape != hint.shape or values.ndim != 2 or values.shape[1] != self.n_genes:
            raise ValueError(f"values {tuple(values.shape)} and hint {tuple(hint.shape)} must both be "
                             f"cells x {self.n_genes}.")
        c = self.cell(torch.cat([values, hint], dim=1))
        units = torch.relu(values[:, :, None] * self.gene_scale + self.gene_bias + self.context(c)[:, None, :])
        return (units * self.gene_out).sum(2) + self.head(c)


def random_mask(shape: tuple[int, ...], generated_share: float, generator: torch.Generator | None = None,
                device: torch.device | str = "cpu") -> torch.Tensor:
    """The mask ``m`` of a batch: 1 (real) or 0 (generated) per entry, 0 with probability
    ``generated_share``, independent of the values (float, on ``device``)."""
    u = torch.rand(shape, generator=generator)
    return (u >= generated_share).float().to(device)


def sample_hint(mask: torch.Tensor, hint_rate: float,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's hint ``h = b * m + 0.5 * (1 - b)`` and ``b ~ Bernoulli(hint_rate)`` per entry.

    Parameters
    ----------
    mask
        ``m``: 1 where the value is real, 0 where it was generated.
    hint_rate
        Probability that an entry's status is revealed (``b == 1``).
    generator
        Source of the draws of ``b`` (on the CPU; the result moves to ``mask``'s device).

    Returns
    -------
    hint, b
        Both of ``mask``'s shape and device; ``D``'s loss uses only the entries with ``b == 0``.
    """
    b = (torch.rand(mask.shape, generator=generator) < hint_rate).float().to(mask.device)
    return b * mask + 0.5 * (1.0 - b), b


def discriminator_loss(logits: torch.Tensor, mask: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``D``'s binary cross-entropy of ``m`` on the entries the hint does not reveal (``b == 0``),
    summed over a cell's entries and averaged over cells.

    ``-sum_{j: b_j = 0} [m_j log D_j + (1 - m_j) log(1 - D_j)]`` (GAIN's ``L_D``); entries with
    ``b == 1`` contribute nothing, neither to the loss nor to its gradient.
    """
    bce = nn.functional.binary_cross_entropy_with_logits(logits, mask, reduction="none")
    return (bce * (1.0 - b)).sum(1).mean()


def generator_adversarial_loss(logits: torch.Tensor, mask: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The generator's adversarial loss ``-sum_{j: b_j = 0, m_j = 0} log D_j`` (GAIN's ``L_G``): ``-log D``
    on the generated entries the hint does not reveal, summed over a cell's entries and averaged over cells."""
    minus_log_d = nn.functional.softplus(-logits)  # -log sigmoid(logits)
    return (minus_log_d * (1.0 - mask) * (1.0 - b)).sum(1).mean()
