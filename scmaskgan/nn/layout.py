"""Cells as N x N images: zero padding, row-wise reshape and the two masks.

A cell's vector of ``m`` gene values is padded with zeros to ``N * N``
(``N = ceil(sqrt(m))``) and reshaped row by row, so gene ``j`` sits at pixel
``(j // N, j % N)``. The padding mask marks the ``m`` gene pixels (the
``N * N - m`` padding pixels never enter a loss or an output); the observed
mask marks a cell's non-zero genes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where tensors are made: the layout's sizes need no torch
    import torch

__all__ = ["ImageLayout"]


class ImageLayout:
    """Reshape between gene vectors (cells x m) and images (cells x 1 x N x N).

    Parameters
    ----------
    n_genes
        Number of genes ``m``.
    """

    def __init__(self, n_genes: int):
        if n_genes < 1:
            raise ValueError(f"n_genes must be >= 1, got {n_genes}")
        self.n_genes = int(n_genes)
        self.side = math.ceil(math.sqrt(self.n_genes))

    @property
    def n_pixels(self) -> int:
        return self.side * self.side

    def padding_mask(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Float mask of shape (1, 1, N, N): 1 on gene pixels, 0 on padding."""
        import torch

        mask = torch.zeros(self.n_pixels, device=device)
        mask[: self.n_genes] = 1.0
        return mask.view(1, 1, self.side, self.side)

    def to_images(self, values: torch.Tensor | np.ndarray) -> torch.Tensor:
        """(cells, m) -> (cells, 1, N, N), padding filled with zeros."""
        import torch

        values = torch.as_tensor(values)
        pad = self.n_pixels - self.n_genes
        if values.shape[-1] != self.n_genes:
            raise ValueError(f"expected {self.n_genes} genes, got {values.shape[-1]}")
        padded = torch.nn.functional.pad(values, (0, pad))
        return padded.view(values.shape[0], 1, self.side, self.side)

    def to_vectors(self, images: torch.Tensor) -> torch.Tensor:
        """(cells, 1, N, N) -> (cells, m), padding dropped."""
        return images.reshape(images.shape[0], self.n_pixels)[:, : self.n_genes]

    def observed_mask(self, images: torch.Tensor) -> torch.Tensor:
        """Float mask of the non-zero (observed) pixels of real images."""
        return (images > 0).to(images.dtype)
