"""Settings of the paper's method (``mode="paper"``), checked when they are made (no torch)."""

from __future__ import annotations

import dataclasses

from .._validation import InputError
from ..method import TRAINING_CHECKS
from ..neighbours.settings import NEIGHBOUR_CHECKS, NeighboursSettings

__all__ = ["PaperSettings"]


@dataclasses.dataclass
class PaperSettings(NeighboursSettings):
    """The paper's conditional GAN, its candidates, and the neighbour fill from them.

    The fill's settings are the neighbour fill's (:class:`scmaskgan.neighbours.settings.NeighboursSettings`)
    with the paper's defaults: generated candidates, distances over observed genes, the plain mean of
    the neighbours, an Optuna search of ``k`` and ``k_sigma``.

    Parameters
    ----------
    pool
        Where a cell's neighbours come from: ``"generated"`` candidates of its label (the paper),
        ``"real"`` cells of its label (the cell itself excluded; no GAN is built), or ``"both"``.
    latent_dim
        Size of the generator's noise vector ``z``.
    base_channels
        Channels of the generator's first feature map (halved at each upsampling).
    head_channels
        Channels of the generator's full-resolution head (its cost grows with cells x genes x head_channels).
    gene_channels
        Size of the generator's per-gene embedding.
    attention, residual, conditional
        Switches of the networks' self-attention layers, residual blocks and label conditioning (all on
        in the paper); off only to measure what each part contributes.
    mixed_precision
        Train with bfloat16 autocast (on CUDA: faster, less memory).
    n_candidates
        Generated profiles per label.
    tau
        Isolation-Forest anomaly-score threshold; ``None`` uses mean + 2 sd of the scores.
    tune_candidates
        Also search the number of candidates.
    batch_size
        Cells per training batch; ``None`` uses ``min(64, n_cells)``.
    lr
        Adam learning rate of both networks.
    max_epochs
        Default epoch limit of training; ``None``: about 35 million cell-pixel passes, 10 to 300 epochs.
    patience
        Epochs without improvement of the convergence measure before training stops.
    """

    CHECKS = NEIGHBOUR_CHECKS | TRAINING_CHECKS | {
        "pool": (str, {"choices": ("generated", "real", "both")}),
        "latent_dim": (int, {"low": 1, "high": 4096}),
        "base_channels": (int, {"low": 4, "high": 1024}),
        "head_channels": (int, {"low": 1, "high": 256}),
        "gene_channels": (int, {"low": 1, "high": 256}),
        "attention": (bool, {}),
        "residual": (bool, {}),
        "conditional": (bool, {}),
        "mixed_precision": (bool, {}),
        "n_candidates": (int, {"low": 2}),
        "tau": (float, {"low": 0, "high": 1, "allow_none": True}),
        "tune_candidates": (bool, {}),
    }

    k: int = 10
    fill: str | None = "mean"
    alpha: float = 1.0
    metric: str = "observed"
    tune: bool = True
    pool: str = "generated"
    latent_dim: int = 64
    base_channels: int = 64
    head_channels: int = 8
    gene_channels: int = 8
    attention: bool = True
    residual: bool = True
    conditional: bool = True
    mixed_precision: bool = False
    n_candidates: int = 512
    tau: float | None = None
    tune_candidates: bool = False
    batch_size: int | None = None
    lr: float = 2e-4
    max_epochs: int | None = None
    patience: int = 20

    @property
    def uses_generator(self) -> bool:
        """Whether the pool holds generated candidates, so that the GAN is built and trained."""
        return self.pool in ("generated", "both")

    def check(self) -> None:
        if self.uses_generator and self.k > self.n_candidates:
            raise InputError(f"k ({self.k}) must not exceed n_candidates ({self.n_candidates}).")
