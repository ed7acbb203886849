"""The count model as a method of :class:`scmaskgan.SCMaskGAN` (``mode="count"``, the default).

It trains :class:`~scmaskgan.count.model.CountModel` on the input's own molecule splits (first choosing
the reads per molecule and ``hide`` on read counts, :mod:`scmaskgan.count.read_counts`), and brings its
answers and draws back to the input's scale: counts at each cell's own library size.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import InputError, check_param
from ..cells import CellData, ModelInput
from ..method import Method
from ..nn.device import resolve_device
from .model import CountModel, CountTrainingConfig, default_max_epochs
from .read_counts import choose_count_settings, to_molecules
from .settings import CountSettings

logger = logging.getLogger("scmaskgan")

__all__ = ["CountMethod"]

#: Settings of :class:`~scmaskgan.count.model.CountModel`.
_MODEL_SETTINGS = ("hidden_dim", "latent_dim", "noise_dim", "dropout", "zero_inflated", "thinning", "architecture",
                   "gene_order")


class CountMethod(Method):
    """The learned count model: per entry the law of its count given the cell, three answers and draws.

    Parameters
    ----------
    cells
        The model's input, read and checked (:func:`scmaskgan.cells.read_cells`).
    settings
        The count model's settings.
    seed, device, progress
        The model's seed, where the network runs, and whether training and answers show their progress.
    labels_given
        Whether the cells' labels were given (the network is then conditioned on them).
    """

    NAME = "count"

    def __init__(self, cells: ModelInput, settings: CountSettings, *, seed: int, device: str, progress: bool = True,
                 labels_given: bool = False, **_: Any):
        if cells.matrix.shape[1] < 2:
            raise InputError("the input has a single gene; the count model learns each gene from the cell's other "
                             "genes and needs at least two. Give more genes.")
        self.cells, self.settings, self.seed, self.progress = cells, settings, seed, progress
        self.data = cells.data
        self.labels_given = labels_given
        self._device = resolve_device(device)
        self.batch_size = settings.batch_size if settings.batch_size is not None else min(64, self.data.n_cells)
        #: Reads per molecule and ``hide`` as used (``None`` until training chooses them), and the candidates' errors.
        self.reads_per_molecule_: float | None = settings.reads_per_molecule
        self.hide_: float | None = settings.hide
        self.molecule_choice_: list[dict] = []
        self.model = self._build(to_molecules(self.data, settings.reads_per_molecule or 1.0), settings.hide or 0.0)
        self.history_ = pd.DataFrame(columns=["epoch", "loss", "val_loss", "seconds", "best"])

    def _build(self, data: CellData, hide: float) -> CountModel:
        """The count model on ``data`` (counts or molecules) with ``hide``."""
        return CountModel(data, use_labels=self.labels_given, **{k: getattr(self.settings, k) for k in _MODEL_SETTINGS},
                          hide=float(hide), seed=self.seed, device=self._device)

    @property
    def needs_training(self) -> bool:
        return True

    @property
    def device(self) -> str:
        return str(self.model.device)

    @property
    def count_settings_(self) -> dict[str, float | None]:
        """``reads_per_molecule`` and ``hide`` as used (``None`` where training has not chosen them yet)."""
        return {"reads_per_molecule": self.reads_per_molecule_, "hide": self.hide_}

    # ----------------------------------------------------------------- train
    def train(self, max_epochs: int | None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> pd.DataFrame:
        s = self.settings
        if max_epochs is None:
            max_epochs = s.max_epochs or default_max_epochs(self.data.n_cells)
        epochs = check_param("max_epochs", max_epochs, int, low=1)
        config = CountTrainingConfig(max_epochs=epochs, min_epochs=min(epochs, 10), patience=s.patience,
                                     batch_size=self.batch_size, lr=s.lr, progress=self.progress,
                                     adversarial_weight=s.adversarial_weight, hint_rate=s.hint_rate)
        r, hide = s.reads_per_molecule, s.hide
        self.molecule_choice_ = []
        if r is None or hide is None:
            quiet = dataclasses.replace(config, progress=False)

            def fit(cells: CellData, share: float) -> CountModel:
                model = self._build(cells, share)
                model.train(quiet)
                return model

            r, hide, self.molecule_choice_ = choose_count_settings(self.data, fit, seed=self.seed,
                                                                   reads_per_molecule=r, hide=hide)
            if self.molecule_choice_:
                logger.info("count model: %g reads per molecule, hide %g (chosen on the input's own hidden "
                            "non-zero entries)", r, hide)
            # the model built at construction is on the counts as they are, with hide 0 unless given
            if self.model.data is not self.data or r != 1 or self.model.hide != hide:
                self.model = self._build(to_molecules(self.data, r), hide)
        self.reads_per_molecule_, self.hide_ = r, hide
        rows, _ = self.model.train(config)
        self.history_ = pd.DataFrame(rows)
        return self.history_

    # --------------------------------------------------------------- answers
    def depth(self, depth: float | None) -> float:
        """``depth`` checked as at construction; ``None``: the settings' own."""
        if depth is None:
            return self.settings.depth
        kind, bounds = CountSettings.CHECKS["depth"]
        return float(check_param("depth", depth, kind, **bounds))

    def answers(self, block_size: int, *, depth: float | None = None) -> Iterator[tuple[int, int, dict[str, np.ndarray]]]:
        """The three answers about a new measurement of ``depth`` times each cell's library size, as counts on
        the input's scale (``mean``, ``if_detected``) and probabilities (``p_detected``), block by block."""
        depth = self.depth(depth)
        cells, target_sum = self.cells, self.data.scaler.target_sum
        log = self.settings.expectation == "log"
        n_cells, n_genes = cells.matrix.shape
        for start in range(0, n_cells, block_size):
            stop = min(start + block_size, n_cells)
            rows = np.arange(start, stop)
            answers = self.model.answers(rows, depth=depth, expectation=self.settings.expectation)
            lib = self.data.lib[rows][:, None]
            out = {}
            for name in self.settings.ANSWERS:
                block = np.zeros((stop - start, n_genes), dtype=cells.output_dtype)
                values = answers[name]
                if name != "p_detected":  # back from the normalised scale (log1p CP10k, or CP10k) to counts
                    values = (np.expm1(values) if log else values) * (lib / target_sum)
                block[:, cells.genes_used] = np.where(lib > 0, values, 0.0)
                out[name] = block
            yield start, stop, out

    def sample(self, n_draws: int, *, seed: int, block_size: int = 2048, depth: float | None = None,
               if_detected: bool = False) -> np.ndarray:
        """``n_draws`` matrices of counts drawn from each entry's law (see :meth:`scmaskgan.SCMaskGAN.sample`);
        observed values not yet restored."""
        depth = self.depth(depth)
        cells, model = self.cells, self.model
        n_cells, n_genes = cells.matrix.shape
        rng = np.random.default_rng(seed)
        out = np.zeros((n_draws, n_cells, n_genes), dtype=cells.output_dtype)
        for k in range(n_draws):
            for start in range(0, n_cells, block_size):
                stop = min(start + block_size, n_cells)
                rows = np.arange(start, stop)
                counts = model.sample(rows, rng, depth=depth, detected=if_detected)
                if model.data is not self.data:  # molecules, as reads of the cell's library
                    molecules = model.data.lib[rows]
                    counts = counts * (self.data.lib[rows] / np.where(molecules > 0, molecules, 1))[:, None]
                out[k, start:stop][:, cells.genes_used] = counts if depth == 1 else counts / depth
                if if_detected:  # a cell without counts has nothing to detect
                    out[k, start:stop][self.data.lib[rows] <= 0] = 0
        return out

    # --------------------------------------------------------------- report
    def summary(self) -> dict[str, Any]:
        settings = {k: getattr(self.settings, k) for k in _MODEL_SETTINGS} | {"hide": self.settings.hide,
                                                                         "expectation": self.settings.expectation}
        out = {"imputation": {"mode": self.NAME, "seed": self.seed} | settings, "candidates": {}}
        out |= {name: "None" if value is None else float(value) for name, value in self.count_settings_.items()}
        if self.molecule_choice_:
            out["molecule_choice"] = {key: [float(row[key]) for row in self.molecule_choice_]
                                      for key in ("reads_per_molecule", "hide", "self_mask_rmse")}
        return out

    def n_parameters(self) -> dict[str, int]:
        disc = self.model.discriminator
        return {"generator": self.model.n_parameters(),
                "discriminator": 0 if disc is None else sum(t.numel() for t in disc.parameters())}

    # ---------------------------------------------------------------- state
    def state(self) -> dict[str, Any]:
        return {"molecule_choice": self.molecule_choice_}  # the chosen settings are saved with the parameters

    def restore(self, state: dict[str, Any]) -> None:
        self.molecule_choice_ = list(state.get("molecule_choice") or [])

    def state_dict(self) -> dict[str, dict]:
        return self.model.state_dict()

    def load_weights(self, path: Path) -> None:
        self.model.load(path)
