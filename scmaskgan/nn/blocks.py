"""Torch blocks that the paper's GAN and the count model's conv encoder share: self-attention with a
learnable residual scale, a residual block and the label map.

Self-attention runs on a map average-pooled to at most ``attention_tokens`` pixels, never on all
``N^2`` pixels at full resolution, so its memory stays bounded in the image side ``N``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

__all__ = ["SelfAttention", "ResidualBlock", "LabelMap"]


class SelfAttention(nn.Module):
    """SAGAN-style self-attention with a learnable residual scale ``gamma`` (starts at 0).

    Maps larger than ``max_tokens`` pixels are average-pooled before attention
    and the attention output is upsampled back, so memory is O(max_tokens^2).
    """

    def __init__(self, channels: int, max_tokens: int = 256):
        super().__init__()
        inner = max(channels // 8, 1)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.max_tokens = max_tokens
        self.scale = 1.0 / math.sqrt(inner)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        pool = max(1, math.ceil(math.sqrt(h * w / self.max_tokens)))
        small = F.avg_pool2d(x, pool, ceil_mode=True) if pool > 1 else x
        hs, ws = small.shape[-2:]
        q = self.query(small).flatten(2).transpose(1, 2)  # b, t, inner
        k = self.key(small).flatten(2)  # b, inner, t
        v = self.value(small).flatten(2)  # b, c, t
        attn = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)  # b, t, t
        out = torch.bmm(v, attn.transpose(1, 2)).view(b, c, hs, ws)
        if pool > 1:
            out = F.interpolate(out, size=(h, w), mode="nearest")
        return x + self.gamma * out


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and an identity shortcut."""

    def __init__(self, channels: int, negative_slope: float = 0.0):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.LeakyReLU(negative_slope),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.act = nn.LeakyReLU(negative_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))


class LabelMap(nn.Module):
    """One-hot labels upsampled to an (h, w) map and convolved to ``out_channels`` (8 in the paper).

    A 1x1 convolution of a label map that is constant over the image equals a
    linear layer broadcast over the pixels, which is how it is computed.
    """

    def __init__(self, n_labels: int, out_channels: int = 8):
        super().__init__()
        self.linear = nn.Linear(n_labels, out_channels)

    def forward(self, onehot: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        return self.linear(onehot)[:, :, None, None].expand(-1, -1, *size)
