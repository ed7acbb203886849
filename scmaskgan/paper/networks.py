"""The paper's networks: the generator ``G(z, y)`` and the discriminator ``D(x, y)`` (torch).

Both networks keep their size and memory bounded in the image side ``N``:

* the generator's linear layer maps the noise to a fixed small map
  (``base_channels x s0 x s0`` with ``s0 <= 8``) that is upsampled to ``N``,
  instead of the reference code's ``Linear(latent, 32 * N^2)``;
* self-attention runs on a map average-pooled to at most ``attention_tokens``
  pixels, never on all ``N^2`` pixels at full resolution;
* the only parameters that grow with the number of genes are a few
  gene-embedding channels (``gene_channels x N x N``) that tell the
  translation-equivariant convolutions which gene sits at which pixel.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from ..nn.blocks import LabelMap, ResidualBlock, SelfAttention

__all__ = ["Generator", "Discriminator"]


def _n_upsamplings(side: int, start_max: int = 8) -> tuple[int, int]:
    """Number of x2 upsamplings and starting side so that start * 2**n >= side."""
    n = max(0, math.ceil(math.log2(side / start_max)))
    return n, math.ceil(side / 2**n)


class Generator(nn.Module):
    """G(z, y): noise and one-hot label -> one N x N image in (0, 1).

    linear + BN + ReLU -> (base_channels, s0, s0) with s0 <= 8 -> GConv1 (3x3)
    -> self-attention -> x2 upsampling blocks (3x3 conv + BN + ReLU, a residual
    block at the second-to-last resolution) up to N / 2 -> 1x1 conv + pixel shuffle
    to N -> concat [label map (8 ch), gene embedding] -> GConv2_1, GConv2_2 (1x1)
    -> sigmoid. All 3x3 convolutions run at N / 2 or coarser. ``attention`` and
    ``residual`` switch the self-attention layer and the residual block off (ablation).
    """

    def __init__(self, n_labels: int, side: int, latent_dim: int = 64, base_channels: int = 64,
                 head_channels: int = 8, gene_channels: int = 8, attention_tokens: int = 256,
                 attention: bool = True, residual: bool = True):
        super().__init__()
        self.n_labels, self.side, self.latent_dim = n_labels, side, latent_dim
        n_up, self.start = _n_upsamplings(side)
        self.base_channels = base_channels
        self.fc = nn.Sequential(
            nn.Linear(latent_dim + n_labels, base_channels * self.start**2),
            nn.BatchNorm1d(base_channels * self.start**2),
            nn.ReLU(),
        )
        self.conv1 = nn.Sequential(nn.Conv2d(base_channels, base_channels, 3, padding=1), nn.ReLU())
        self.attention = SelfAttention(base_channels, attention_tokens) if attention else nn.Identity()
        blocks, c = [], base_channels
        for i in range(max(n_up - 1, 0)):
            c_out = max(head_channels, c // 2)
            blocks += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(c, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            c = c_out
            if residual and (i == n_up - 3 or (n_up <= 2 and i == 0)):
                blocks.append(ResidualBlock(c))
        shuffle = 2 if n_up >= 1 else 1
        blocks += [nn.Conv2d(c, head_channels * shuffle**2, 1), nn.ReLU()]
        if shuffle > 1:
            blocks.append(nn.PixelShuffle(shuffle))
        self.up = nn.Sequential(*blocks)
        self.label_map = LabelMap(n_labels, 8)
        self.gene_embedding = nn.Parameter(0.1 * torch.randn(side * side, gene_channels))
        # GConv2_1 on concat([features, label map, gene embedding]) as a 1x1 convolution,
        # split by input block so the label and gene parts are computed once per cell / per pixel.
        self.head_features = nn.Linear(head_channels, head_channels)
        self.head_labels = nn.Linear(8, head_channels, bias=False)
        self.head_genes = nn.Linear(gene_channels, head_channels, bias=False)
        self.head_out = nn.Linear(head_channels, 1)  # GConv2_2 (1x1)
        # Per-label, per-gene output bias (pre-sigmoid); set to the logit of each label's gene means
        # by init_output_bias so that training starts from the right scale for every gene.
        self.label_gene_bias = nn.Parameter(torch.zeros(n_labels, side * side))

    @torch.no_grad()
    def init_output_bias(self, label_means: torch.Tensor, eps: float = 1e-3) -> None:
        """Set the output bias to ``logit(mean)`` of each label's genes (n_labels x N*N, [0, 1] scale)."""
        p = label_means.clamp(eps, 1 - eps)
        self.label_gene_bias.copy_(torch.log(p) - torch.log1p(-p))

    def forward(self, z: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, onehot], dim=1)).view(-1, self.base_channels, self.start, self.start)
        h = self.attention(self.conv1(h))
        h = self.up(h)[:, :, : self.side, : self.side]
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], self.side * self.side, -1)  # cells, pixels, channels
        labels = self.head_labels(self.label_map.linear(onehot))[:, None, :]
        genes = self.head_genes(self.gene_embedding)[None]
        h = torch.relu(self.head_features(h) + labels + genes)
        logits = self.head_out(h).squeeze(-1) + onehot @ self.label_gene_bias
        return torch.sigmoid(logits).view(-1, 1, self.side, self.side)


class Discriminator(nn.Module):
    """D(x, y): image and one-hot label -> per-pixel logits (N x N) of being real.

    per-pixel linear pre-layer -> concat gene embedding -> space-to-depth (N/2)
    -> DConv1 (3x3) + max-pool + residual block (N/4) -> DConv2 (3x3) ->
    self-attention -> concat label map (8 ch) -> 1x1 "fully connected" layer ->
    upsampling -> 3x3 conv + pixel shuffle to one logit per pixel. ``attention`` and
    ``residual`` switch the self-attention layer and the residual block off (ablation).
    """

    def __init__(self, n_labels: int, side: int, base_channels: int = 16, gene_channels: int = 4,
                 attention_tokens: int = 256, attention: bool = True, residual: bool = True):
        super().__init__()
        self.side = side
        self.pre_weight = nn.Parameter(torch.ones(1, 1, side, side))
        self.pre_bias = nn.Parameter(torch.zeros(1, 1, side, side))
        self.gene_embedding = nn.Parameter(0.1 * torch.randn(1, gene_channels, side, side))
        c, c2 = base_channels, max(base_channels // 2, 8)
        self.down = nn.Sequential(
            nn.PixelUnshuffle(2),
            nn.Conv2d(4 * (1 + gene_channels), c, 3, padding=1), nn.LeakyReLU(0.2),
            nn.MaxPool2d(2, ceil_mode=True),
            ResidualBlock(c, 0.2) if residual else nn.Identity(),
            nn.Conv2d(c, c2, 3, padding=1), nn.LeakyReLU(0.2),
        )
        self.attention = SelfAttention(c2, attention_tokens) if attention else nn.Identity()
        self.label_map = LabelMap(n_labels, 8)
        self.fc = nn.Sequential(nn.Conv2d(c2 + 8, c2, 1), nn.LeakyReLU(0.2))
        self.out = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(c2, 4, 3, padding=1), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        x = x * self.pre_weight + self.pre_bias
        x = torch.cat([x, self.gene_embedding.expand(x.shape[0], -1, -1, -1)], dim=1)
        pad = x.shape[-1] % 2
        if pad:
            x = F.pad(x, (0, pad, 0, pad))
        h = self.attention(self.down(x))
        h = torch.cat([h, self.label_map(onehot, h.shape[-2:])], dim=1)
        return self.out(self.fc(h))[:, :, : self.side, : self.side]
