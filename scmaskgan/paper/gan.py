"""The paper's conditional GAN as one component: its networks, their adversarial training and
the candidates they generate.

:class:`ConditionalGAN` holds a generator ``G(z, y)`` and a discriminator ``D(x, y)``
(:mod:`scmaskgan.paper.networks`), trains them with :func:`scmaskgan.paper.training.train_gan`
and draws each label's candidate profiles (:mod:`scmaskgan.paper.candidates`), which the
neighbour fill of :mod:`scmaskgan.neighbours` uses as its pool in the paper's mode. The user-facing
:class:`scmaskgan.SCMaskGAN` builds one only when its mode imputes from generated candidates.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .._validation import InputError
from ..cells import CellData
from .candidates import CandidateSet, filter_outliers, generate_candidates
from ..nn.layout import ImageLayout
from .networks import Discriminator, Generator
from .training import TrainingConfig, train_gan
from ..nn.weights import load_weights

__all__ = ["ConditionalGAN"]


class ConditionalGAN:
    """Generator and discriminator of scMASKGAN for one data set.

    Parameters
    ----------
    data
        The model's cells (genes in use only) and their label codes.
    latent_dim, base_channels, head_channels, gene_channels
        Sizes of the generator (see :class:`scmaskgan.paper.networks.Generator`).
    attention, residual, conditional
        Switches of the self-attention layers, residual blocks and label conditioning. Without
        label conditioning one unconditional generator serves every label.
    seed
        Seed of the weights' initialisation, of training and of the candidates.
    device
        Where the networks train and generate.
    """

    def __init__(self, data: CellData, *, latent_dim: int, base_channels: int, head_channels: int,
                 gene_channels: int, attention: bool, residual: bool, conditional: bool, seed: int,
                 device: torch.device):
        self.conditional = conditional
        self.seed = seed
        self.device = device
        self.layout = ImageLayout(data.X.shape[1])
        # the networks see every label, or one label for all cells without conditioning
        self.data = data if conditional else CellData(data.X, data.lib, np.zeros_like(data.codes), 1, data.scaler)
        torch.manual_seed(seed)
        n_labels = self.data.n_labels
        self.generator = Generator(n_labels, self.layout.side, latent_dim=latent_dim, base_channels=base_channels,
                                   head_channels=head_channels, gene_channels=gene_channels, attention=attention,
                                   residual=residual)
        self.discriminator = Discriminator(n_labels, self.layout.side, attention=attention, residual=residual)
        self.generator.init_output_bias(self._label_means())

    def _label_means(self, max_cells: int = 4096) -> torch.Tensor:
        """Mean scaled value of each gene pixel per label (n_labels x N*N), from up to max_cells cells per label."""
        rng = np.random.default_rng(self.seed)
        means = torch.zeros(self.data.n_labels, self.layout.n_pixels)
        for label in range(self.data.n_labels):
            rows = np.flatnonzero(self.data.codes == label)
            if rows.size > max_cells:
                rows = np.sort(rng.choice(rows, max_cells, replace=False))
            means[label, : self.layout.n_genes] = torch.from_numpy(self.data.values(rows).mean(0))
        return means

    def n_parameters(self) -> dict[str, int]:
        """Trainable parameter counts of the generator and the discriminator."""
        return {name: sum(t.numel() for t in net.parameters())
                for name, net in (("generator", self.generator), ("discriminator", self.discriminator))}

    def default_max_epochs(self) -> int:
        """Epoch limit from the data size: about 35 million cell-pixel passes, between 10 and 300 epochs.

        Training cost grows with cells x image pixels, so this keeps the default
        run's cost roughly constant (60 epochs for 274 cells x 2,000 genes).
        """
        return int(np.clip(round(3.5e7 / (self.data.n_cells * self.layout.n_pixels)), 10, 300))

    def train(self, config: TrainingConfig) -> tuple[list[dict], float]:
        """Train both networks adversarially; return the per-epoch history and the seconds it took.

        Inside a ``torch.distributed`` process group training is data-parallel
        (:mod:`scmaskgan.nn.distributed`); on CUDA the networks move to this process's device.
        """
        from ..nn import distributed

        self.device = distributed.local_device(self.device)  # cuda:LOCAL_RANK under torchrun
        t0 = time.perf_counter()
        rows = train_gan(self.generator, self.discriminator, self.data, self.layout, config, device=self.device,
                         seed=self.seed)
        return rows, time.perf_counter() - t0

    def candidates(self, n_labels: int, n_candidates: int, *, tau: float | None, min_keep: int) -> dict[int, CandidateSet]:
        """Per label: ``n_candidates`` generated profiles ([0, 1] scale) less the Isolation Forest's outliers."""
        out = {}
        for label in range(n_labels):
            raw = generate_candidates(self.generator, self.layout, label if self.conditional else 0,
                                      self.data.n_labels, n_candidates, device=self.device, seed=self.seed)
            out[label] = filter_outliers(raw, tau=tau, min_keep=min_keep, seed=self.seed)
        return out

    def state_dict(self) -> dict[str, dict]:
        """Both networks' weights (tensors only)."""
        return {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict()}

    def load(self, path: Path) -> None:
        """Load weights written by :meth:`state_dict` with ``torch.load(weights_only=True)``."""
        load_weights(path, {"generator": self.generator, "discriminator": self.discriminator})
        self.generator.to(self.device).eval()
        self.discriminator.to(self.device).eval()
