"""The masked, cell-conditional generator: a cell's visible counts in, a count distribution per gene out.

Unlike the paper's generator (:mod:`scmaskgan.gan.modules`), which draws cells from noise, this
network is conditioned on the cell itself. Its input is what is visible of one cell (during
training a random share of the cell's molecules, binomially thinned; when imputing, all of
them), as ``log1p(count / library * 1e4)``, with the log library size, the one-hot label when
labels are given, and noise ``z`` for draws. Its output, per gene, is a rate ``rho`` (the
genes' rates sum to 1 in each cell), so that the count at library size ``l`` has the mean
``mu = rho * l``; a gene-wise inverse dispersion ``theta`` makes the count negative binomial,
and with ``zero_inflated`` a per-entry probability ``pi`` of a structural zero makes it
zero-inflated (:func:`count_nll`).

The architecture is an MLP encoder-decoder (genes -> hidden -> latent -> hidden -> genes).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["MaskedGenerator", "count_nll", "log_normalise"]


def log_normalise(counts: torch.Tensor, target_sum: float = 1e4) -> tuple[torch.Tensor, torch.Tensor]:
    """``log1p(counts / library * target_sum)`` of each cell (row) and the log library size (a zero library
    counts as 1)."""
    lib = counts.sum(1, keepdim=True).clamp(min=1.0)
    return torch.log1p(counts / lib * target_sum), torch.log(lib)


class MaskedGenerator(nn.Module):
    """Rates of a cell's genes from its visible counts (and label, depth and noise).

    Parameters
    ----------
    n_genes
        Genes in and out.
    n_labels
        Size of the one-hot label input (0: no labels).
    hidden_dim, latent_dim
        Widths of the hidden layers and of the cell's code.
    noise_dim
        Size of the noise ``z`` added to the code (0: none); draws differ through it.
    dropout
        Dropout after the first layer (training only).
    zero_inflated
        Also predict a per-entry probability of a structural zero.
    """

    def __init__(self, n_genes: int, n_labels: int = 0, *, hidden_dim: int = 256, latent_dim: int = 64,
                 noise_dim: int = 0, dropout: float = 0.1, zero_inflated: bool = False):
        super().__init__()
        self.n_genes, self.n_labels, self.noise_dim = n_genes, n_labels, noise_dim
        self.zero_inflated = zero_inflated
        self.encoder = nn.Sequential(
            nn.Linear(n_genes + 1 + n_labels, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, latent_dim), nn.LayerNorm(latent_dim), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent_dim + n_labels + noise_dim, hidden_dim),
                                     nn.LayerNorm(hidden_dim), nn.ReLU())
        self.rate_head = nn.Linear(hidden_dim, n_genes)
        self.dropout_head = nn.Linear(hidden_dim, n_genes) if zero_inflated else None
        self.log_theta = nn.Parameter(torch.zeros(n_genes))

    def forward(self, counts: torch.Tensor, onehot: torch.Tensor | None = None,
                z: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Rates ``rho`` (cells x genes, rows summing to 1) and the logits of ``pi`` (``None`` without
        zero inflation) of cells whose visible counts are ``counts``."""
        values, log_lib = log_normalise(counts)
        extra = [] if onehot is None else [onehot]
        code = self.encoder(torch.cat([values, log_lib, *extra], dim=1))
        if self.noise_dim:
            z = torch.randn(counts.shape[0], self.noise_dim, device=counts.device) if z is None else z
            extra = [*extra, z]
        h = self.decoder(torch.cat([code, *extra], dim=1))
        rho = torch.softmax(self.rate_head(h), dim=1)
        return rho, (self.dropout_head(h) if self.dropout_head is not None else None)

    @property
    def theta(self) -> torch.Tensor:
        """Inverse dispersion of each gene."""
        return torch.exp(self.log_theta)


def count_nll(counts: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor,
              pi_logits: torch.Tensor | None = None, eps: float = 1e-8) -> torch.Tensor:
    """Negative log-likelihood of ``counts`` under NB(``mu``, ``theta``), or the zero-inflated NB
    with ``pi = sigmoid(pi_logits)``; per entry (the shape of ``counts``)."""
    log_theta_mu = torch.log(theta + mu + eps)
    nb = (torch.lgamma(counts + theta) - torch.lgamma(theta) - torch.lgamma(counts + 1)
          + theta * (torch.log(theta + eps) - log_theta_mu) + counts * (torch.log(mu + eps) - log_theta_mu))
    if pi_logits is None:
        return -nb
    log_pi = nn.functional.logsigmoid(pi_logits)
    log_not_pi = nn.functional.logsigmoid(-pi_logits)
    nb_zero = theta * (torch.log(theta + eps) - log_theta_mu)
    zero = torch.logaddexp(log_pi, log_not_pi + nb_zero)
    return -torch.where(counts < 0.5, zero, log_not_pi + nb)
