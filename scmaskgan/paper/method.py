"""The paper's method as a method of :class:`scmaskgan.SCMaskGAN` (``mode="paper"``): the conditional GAN
draws each label's candidates, and the neighbour fill fills each zero from the nearest of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..cells import ModelInput
from ..neighbours.method import NeighboursMethod
from ..nn.device import resolve_device
from .gan import ConditionalGAN
from .settings import PaperSettings
from .training import TrainingConfig

__all__ = ["PaperMethod"]

#: Settings of :class:`~scmaskgan.paper.gan.ConditionalGAN`.
_GAN_SETTINGS = ("latent_dim", "base_channels", "head_channels", "gene_channels", "attention", "residual",
                 "conditional")


class PaperMethod(NeighboursMethod):
    """The neighbour fill with the GAN's generated candidates as (part of) each label's pool.

    Parameters
    ----------
    cells
        The model's input, read and checked (:func:`scmaskgan.cells.read_cells`).
    settings
        The method's settings.
    seed, chunk_size, device, progress
        The model's seed, the cells handled at a time, where the networks run, and whether training shows
        its progress.
    """

    NAME = "paper"

    def __init__(self, cells: ModelInput, settings: PaperSettings, *, seed: int, chunk_size: int, device: str,
                 progress: bool = True, **_: Any):
        super().__init__(cells, settings, seed=seed, chunk_size=chunk_size, progress=progress)
        self.gan = None
        if settings.uses_generator:
            self.gan = ConditionalGAN(cells.data, **{name: getattr(settings, name) for name in _GAN_SETTINGS},
                                      seed=seed, device=resolve_device(device))
        self.batch_size = settings.batch_size if settings.batch_size is not None else min(64, cells.data.n_cells)

    @property
    def needs_training(self) -> bool:
        return self.gan is not None

    def default_max_epochs(self) -> int:
        """The GAN's epoch limit from the data size (:meth:`scmaskgan.paper.gan.ConditionalGAN.default_max_epochs`)."""
        if self.gan is None:
            raise RuntimeError(f"default_max_epochs() concerns the GAN, and pool={self.settings.pool!r} builds none; "
                               "use pool='generated' or 'both'.")
        return self.gan.default_max_epochs()

    def train(self, max_epochs: int | None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> pd.DataFrame:
        if self.gan is None:
            return super().train(max_epochs)
        gan, s = self.gan, self.settings
        if accelerator is not None:
            gan.device = resolve_device(accelerator)
        epochs = max_epochs if max_epochs is not None else (s.max_epochs or gan.default_max_epochs())
        config = TrainingConfig(max_epochs=epochs, min_epochs=min(epochs, max(10, s.patience)),
                                batch_size=self.batch_size, lr_g=s.lr, lr_d=s.lr, patience=s.patience,
                                checkpoint_dir=str(checkpoint_dir) if checkpoint_dir else None,
                                progress=self.progress, mixed_precision=s.mixed_precision)
        rows, _ = gan.train(config)
        history = pd.DataFrame(rows)
        if len(self.history_):  # a further run continues the epochs
            history["epoch"] += int(self.history_["epoch"].max())
            history = pd.concat([self.history_, history], ignore_index=True)
        self.history_ = history
        return history

    def _candidates(self) -> dict | None:
        if self.gan is None:
            return None
        s = self.settings
        return self.gan.candidates(len(self.cells.categories), s.n_candidates, tau=s.tau,
                                   min_keep=min(s.k, s.n_candidates))

    def n_parameters(self) -> dict[str, int]:
        return super().n_parameters() if self.gan is None else self.gan.n_parameters()

    @property
    def device(self) -> str:
        return "cpu" if self.gan is None else str(self.gan.device)

    def state_dict(self) -> dict[str, dict] | None:
        return None if self.gan is None else self.gan.state_dict()

    def load_weights(self, path: Path) -> None:
        if self.gan is not None:
            self.gan.load(path)
