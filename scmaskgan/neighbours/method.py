"""The neighbour fill as a method of :class:`scmaskgan.SCMaskGAN` (``mode="neighbours"``; no torch)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..cells import ModelInput
from ..method import Method
from .imputer import NeighbourFill
from .settings import NeighboursSettings

logger = logging.getLogger("scmaskgan")

__all__ = ["NeighboursMethod"]


class NeighboursMethod(Method):
    """Each zero of a cell takes a value from its nearest pool members of the same label
    (:class:`~scmaskgan.neighbours.imputer.NeighbourFill`); the pool holds real cells. Nothing is trained.

    Parameters
    ----------
    cells
        The model's input, read and checked (:func:`scmaskgan.cells.read_cells`).
    settings
        The fill's settings.
    seed, chunk_size, progress
        The model's seed, the cells handled at a time, and whether long work shows its progress.
    """

    NAME = "neighbours"

    def __init__(self, cells: ModelInput, settings: NeighboursSettings, *, seed: int, chunk_size: int,
                 progress: bool = True, **_: Any):
        self.cells, self.settings, self.progress = cells, settings, progress
        params = settings.to_dict() | {"pool": getattr(settings, "pool", "real"), "chunk_size": chunk_size,
                                       "seed": seed, "mode": self.NAME,
                                       "tune_candidates": getattr(settings, "tune_candidates", False)}
        self.filler = NeighbourFill(cells.data, cells.categories, params, cells.obs_names)
        self.history_ = pd.DataFrame(columns=["epoch", "loss_d", "loss_g", "convergence", "seconds", "best"])

    @property
    def needs_training(self) -> bool:
        return False

    def train(self, max_epochs: int | None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> pd.DataFrame:
        logger.info("mode %r imputes from real cells of the same label and builds no network: nothing to train.",
                    self.NAME)
        return self.history_.iloc[:0]

    def _candidates(self) -> dict | None:
        """Each label's generated candidates (none: the pool holds real cells only)."""
        return None

    def answers(self, block_size: int, *, tune: bool | None = None) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
        """The filled zeros, block by block (see :meth:`scmaskgan.method.Method.answers`); ``tune`` overrides
        the ``tune`` setting for this imputation."""
        state = self.filler.prepare(tune=self.settings.tune if tune is None else tune, candidates=self._candidates())
        cells = self.cells
        n_cells, n_genes = cells.matrix.shape
        for start in range(0, n_cells, block_size):
            stop = min(start + block_size, n_cells)
            block = np.zeros((stop - start, n_genes), dtype=cells.output_dtype)
            self.filler.fill_into(block, start, stop, state, cells.genes_used)
            yield start, stop, {"mean": block}

    def summary(self) -> dict[str, Any]:
        imputation = self.filler.imputation_ or {}
        out = {"imputation": {k: v for k, v in imputation.items() if k != "labels"},
               "candidates": imputation.get("labels", {})}
        tuning = dict(self.filler.tuning_ or {})
        trials = tuning.pop("trials", [])
        if tuning:
            out["tuning"] = tuning
            out["tuning_trials"] = {key: [t.get(key, np.nan) for t in trials]
                                    for key in ("number", "value", "k", "k_sigma")}
        return out

    def state(self) -> dict[str, Any]:
        tuning = dict(self.filler.tuning_ or {})
        tuning.pop("trials", None)
        return {"tuning": tuning or None}

    def restore(self, state: dict[str, Any]) -> None:
        self.filler.tuning_ = state.get("tuning")
