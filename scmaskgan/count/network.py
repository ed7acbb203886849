"""The masked, cell-conditional generator: a cell's visible counts in, a count distribution per gene out.

Unlike the paper's generator (:mod:`scmaskgan.paper.networks`), which draws cells from noise, this
network is conditioned on the cell itself. Its input is what is visible of one cell (during
training a random share of the cell's molecules, binomially thinned; when imputing, all of
them), as ``log1p(count / library * 1e4)``, with the log library size, the one-hot label when
labels are given, and noise ``z`` for draws. Its output, per gene, is a rate ``rho`` (the
genes' rates sum to 1 in each cell), so that the count at library size ``l`` has the mean
``mu = rho * l``; a gene-wise inverse dispersion ``theta`` makes the count negative binomial,
and with ``zero_inflated`` a per-entry probability ``pi`` of a structural zero makes it
zero-inflated (:func:`count_nll`).

Two encoders map the cell to its code (``architecture``):

* ``"mlp"``: genes -> hidden -> latent (fully connected);
* ``"conv"``: the paper's blocks on the gene layout. The cell's values are laid out as an N x N
  image (:class:`scmaskgan.nn.layout.ImageLayout`) in the order ``gene_order`` (the input's, or
  one that puts correlated genes side by side: :func:`correlation_order`), with a learned
  per-pixel gene embedding; conv 3x3 at N, a stride-2 conv to N/2, a residual block and
  self-attention with a learnable residual scale (on a map pooled to at most
  ``attention_tokens`` pixels), the label map (8 channels) when labels are given, a stride-2
  conv to N/4, then fully connected to the same code. ``residual=False`` and
  ``attention=False`` drop those two blocks (the map passes through unchanged), for ablations
  (``benchmarks/masked_architecture.py``). Its cost is bounded as DESIGN.md's cost
  traps ask: no layer maps to ``N^2`` outputs from a dense vector, attention never sees more than
  ``attention_tokens`` pixels.

The decoder is the same for both: code (+ label, + noise) -> hidden -> one rate per gene, in the
input's gene order, so the output contract does not depend on the architecture or the order.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from .._validation import InputError
from ..nn.layout import ImageLayout
from ..nn.blocks import LabelMap, ResidualBlock, SelfAttention

__all__ = ["ARCHITECTURES", "GENE_ORDERS", "CountGenerator", "correlation_order", "count_nll", "log_normalise"]

#: Encoders of :class:`CountGenerator`.
ARCHITECTURES = ("mlp", "conv")
#: The gene orders that the conv encoder can lay its image out in, the input's or correlated genes side by side.
GENE_ORDERS = ("input", "correlation")
#: Most genes :func:`correlation_order` clusters (its gene x gene matrices take 16 bytes per pair).
MAX_ORDER_GENES = 10_000


def log_normalise(counts: torch.Tensor, target_sum: float = 1e4) -> tuple[torch.Tensor, torch.Tensor]:
    """``log1p(counts / library * target_sum)`` of each cell (row) and the log library size (a zero library
    counts as 1)."""
    lib = counts.sum(1, keepdim=True).clamp(min=1.0)
    return torch.log1p(counts / lib * target_sum), torch.log(lib)


def correlation_order(counts, target_sum: float = 1e4) -> np.ndarray:
    """An order of the genes that puts correlated genes side by side, from the counts alone.

    The genes' Pearson correlation over cells of ``log1p(count / library * target_sum)`` gives
    the distance ``1 - r``; the order is the leaf order of its average-linkage hierarchical
    clustering (``scipy.cluster.hierarchy``). A gene without variance has correlation 0 with
    every other gene.

    Parameters
    ----------
    counts
        Cells x genes counts (dense or sparse).
    target_sum
        Counts per cell of the normalisation.

    Returns
    -------
    numpy.ndarray
        A permutation of ``range(n_genes)`` (int64): position ``i`` of the image holds gene
        ``order[i]``.
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    n_cells, n_genes = counts.shape
    if n_genes > MAX_ORDER_GENES:
        raise InputError(f"gene_order='correlation' clusters the genes' correlation matrix, which takes "
                         f"{16 * n_genes ** 2 / 2 ** 30:.1f} GiB for {n_genes} genes (at most {MAX_ORDER_GENES} "
                         "are allowed); select fewer genes or use gene_order='input'.")
    if n_genes < 2:
        return np.arange(n_genes, dtype=np.int64)
    X = sp.csr_matrix(counts, dtype=np.float64)
    lib = np.asarray(X.sum(1)).ravel()
    X = sp.diags(target_sum / np.maximum(lib, 1.0)) @ X
    X.data = np.log1p(X.data)
    mean = np.asarray(X.mean(0)).ravel()
    cov = np.asarray((X.T @ X).todense()) / max(n_cells, 1) - np.outer(mean, mean)
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov / np.outer(sd, sd)
    corr[~np.isfinite(corr)] = 0.0
    np.clip(corr, -1.0, 1.0, out=corr)
    dist = 1.0 - corr
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2  # exact symmetry for squareform
    return leaves_list(linkage(squareform(dist, checks=False), method="average")).astype(np.int64)


class _ConvEncoder(nn.Module):
    """The paper's blocks on the gene layout: a cell's image -> its code (see the module docstring)."""

    def __init__(self, n_genes: int, n_labels: int, hidden_dim: int, latent_dim: int, dropout: float,
                 channels: int, gene_channels: int, attention_tokens: int, attention: bool = True,
                 residual: bool = True):
        super().__init__()
        self.layout = ImageLayout(n_genes)
        side = self.layout.side
        c = channels
        self.gene_embedding = nn.Parameter(0.1 * torch.randn(1, gene_channels, side, side))
        self.stem = nn.Sequential(nn.Conv2d(1 + gene_channels, c, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c),
                                  nn.ReLU())
        # a dropped block is an identity (no weights), built in the same order so that the default draws the
        # same initial weights as before the options existed
        self.residual = ResidualBlock(2 * c) if residual else nn.Identity()
        self.attention = SelfAttention(2 * c, attention_tokens) if attention else nn.Identity()
        self.label_map = LabelMap(n_labels, 8) if n_labels else None
        self.down = nn.Sequential(nn.Conv2d(2 * c + (8 if n_labels else 0), 2 * c, 3, stride=2, padding=1),
                                  nn.ReLU())
        small = (side + 3) // 4  # the side after two stride-2 convolutions (kernel 3, padding 1)
        self.fc = nn.Sequential(
            nn.Linear(2 * c * small * small + 1, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, latent_dim), nn.LayerNorm(latent_dim), nn.ReLU())

    def forward(self, values: torch.Tensor, log_lib: torch.Tensor, onehot: torch.Tensor | None) -> torch.Tensor:
        image = self.layout.to_images(values)
        h = torch.cat([image, self.gene_embedding.expand(image.shape[0], -1, -1, -1)], dim=1)
        h = self.attention(self.residual(self.stem(h)))
        if self.label_map is not None:
            h = torch.cat([h, self.label_map(onehot, h.shape[-2:])], dim=1)
        h = self.down(h)
        return self.fc(torch.cat([h.flatten(1), log_lib], dim=1))


class CountGenerator(nn.Module):
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
    architecture
        The encoder: ``"mlp"`` (fully connected) or ``"conv"`` (the paper's blocks on the gene
        layout; see the module docstring).
    gene_order
        With ``architecture="conv"``: the gene at each position of the image (a permutation of
        ``range(n_genes)``, e.g. :func:`correlation_order`); ``None`` keeps the input's order. It is
        a buffer of the module, so it is saved and loaded with the weights. The output is always
        in the input's gene order.
    conv_channels, gene_channels, attention_tokens
        The conv encoder's channels (``conv_channels`` at N, twice as many at N/2 and N/4), the
        size of its per-pixel gene embedding, and the most pixels its self-attention sees.
    attention, residual
        With ``architecture="conv"``: whether the encoder has its self-attention block and its
        residual block (``False`` drops the block: the map at N/2 passes through it unchanged and
        it has no weights). For ablations; the defaults are the paper's blocks. ``False`` with
        ``architecture="mlp"`` raises :class:`~scmaskgan.InputError` (the MLP has neither block).
    """

    def __init__(self, n_genes: int, n_labels: int = 0, *, hidden_dim: int = 256, latent_dim: int = 64,
                 noise_dim: int = 0, dropout: float = 0.1, zero_inflated: bool = False, architecture: str = "mlp",
                 gene_order: np.ndarray | None = None, conv_channels: int = 16, gene_channels: int = 4,
                 attention_tokens: int = 256, attention: bool = True, residual: bool = True):
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise InputError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}.")
        for name, value in (("attention", attention), ("residual", residual)):
            if not isinstance(value, (bool, np.bool_)):
                raise InputError(f"{name} must be True or False, got {value!r}.")
            if not value and architecture != "conv":
                raise InputError(f"{name}=False drops a block of the conv encoder; the MLP has no {name} block. "
                                 f"Use architecture='conv' or leave {name}=True.")
        self.n_genes, self.n_labels, self.noise_dim = n_genes, n_labels, noise_dim
        self.zero_inflated, self.architecture = zero_inflated, architecture
        if gene_order is not None:
            if architecture != "conv":
                raise InputError("a gene order only matters to the conv encoder's image; the MLP sees every gene "
                                 "alike. Use architecture='conv' or gene_order='input'.")
            order = np.asarray(gene_order)
            if order.shape != (n_genes,) or not np.array_equal(np.sort(order), np.arange(n_genes)):
                raise InputError(f"gene_order must be a permutation of range({n_genes}).")
            self.register_buffer("gene_order", torch.as_tensor(order, dtype=torch.long))
        else:
            self.gene_order = None
        if architecture == "mlp":
            self.encoder = nn.Sequential(
                nn.Linear(n_genes + 1 + n_labels, hidden_dim), nn.LayerNorm(hidden_dim), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(hidden_dim, latent_dim), nn.LayerNorm(latent_dim), nn.ReLU())
        else:
            self.encoder = _ConvEncoder(n_genes, n_labels, hidden_dim, latent_dim, dropout, conv_channels,
                                        gene_channels, attention_tokens, attention=bool(attention),
                                        residual=bool(residual))
        self.decoder = nn.Sequential(nn.Linear(latent_dim + n_labels + noise_dim, hidden_dim),
                                     nn.LayerNorm(hidden_dim), nn.ReLU())
        self.rate_head = nn.Linear(hidden_dim, n_genes)
        self.dropout_head = nn.Linear(hidden_dim, n_genes) if zero_inflated else None
        self.log_theta = nn.Parameter(torch.zeros(n_genes))

    def encode(self, counts: torch.Tensor, onehot: torch.Tensor | None = None) -> torch.Tensor:
        """The code (cells x ``latent_dim``) of cells whose visible counts are ``counts``."""
        values, log_lib = log_normalise(counts)
        if self.architecture == "mlp":
            return self.encoder(torch.cat([values, log_lib, *([] if onehot is None else [onehot])], dim=1))
        if self.gene_order is not None:
            values = values[:, self.gene_order]
        return self.encoder(values, log_lib, onehot)

    def forward(self, counts: torch.Tensor, onehot: torch.Tensor | None = None,
                z: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Rates ``rho`` (cells x genes in the input's order, rows summing to 1) and the logits of ``pi``
        (``None`` without zero inflation) of cells whose visible counts are ``counts``."""
        code = self.encode(counts, onehot)
        extra = [] if onehot is None else [onehot]
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
