"""The user-facing model: set up on AnnData, train, impute, save and load (scvi-tools style).

:class:`SCMaskGAN` reads and checks the data and every parameter (MAGIC style: a bad value fails in
milliseconds rather than after minutes of training), then hands the work to the method that ``mode``
names, each in its own folder and each with one settings class (:mod:`scmaskgan.modes`):

* ``"count"``, the default: the learned count model (:mod:`scmaskgan.count`,
  :class:`~scmaskgan.count.settings.CountSettings`);
* ``"neighbours"``: the neighbour fill (:mod:`scmaskgan.neighbours`,
  :class:`~scmaskgan.neighbours.settings.NeighboursSettings`);
* ``"paper"``: the paper's GAN and its candidates (:mod:`scmaskgan.paper`,
  :class:`~scmaskgan.paper.settings.PaperSettings`).

The model itself holds what every method shares: the input and its checks, the labels, restoring the
observed values (paper, equation 6), blocks, progress, timings, and saving.
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._progress import Progress
from ._validation import InputError, check_dense_output, check_param
from .cells import read_cells
from .method import Method
from .modes import DEFAULT_MODE, MODES, RENAMED_MODES, SHARED_CHECKS, make_settings, resolve_mode
from .nn.layout import ImageLayout
from .threads import DEFAULT_THREADS, using_threads

logger = logging.getLogger("scmaskgan")

__all__ = ["SCMaskGAN", "MODES", "DEFAULT_MODE", "RENAMED_MODES", "resolve_mode"]

#: Where each method's implementation lives (imported only when that method is used: two of them load torch).
_IMPLEMENTATIONS = {"count": ("scmaskgan.count.method", "CountMethod"),
                    "neighbours": ("scmaskgan.neighbours.method", "NeighboursMethod"),
                    "paper": ("scmaskgan.paper.method", "PaperMethod")}


def _implementation(mode: str) -> type[Method]:
    """The class of ``mode``'s method."""
    module, name = _IMPLEMENTATIONS[mode]
    return getattr(importlib.import_module(module), name)


#: What to do when the draws asked for cannot fit in memory.
DRAWS_ADVICE = ("Draw fewer matrices per call: each call of sample() without a seed gives new draws, so "
                "sample(1) in a loop collects them one matrix at a time; or impute a subset of the cells.")


def _draw_seed(seed: int, call: int) -> int:
    """The seed of the ``call``-th call to :meth:`SCMaskGAN.sample` without a seed: the model's own for the
    first, then one derived from both (:class:`numpy.random.SeedSequence`)."""
    if call == 0:
        return seed
    return int(np.random.SeedSequence(seed, spawn_key=(call,)).generate_state(1, np.uint64)[0])


class SCMaskGAN:
    """Imputation model for one AnnData: the count model (default), the neighbour fill or the paper's GAN.

    Parameters
    ----------
    adata
        Cells x genes. Raw counts in ``X`` or in ``layers[layer]`` (dense or sparse).
    mode
        The method (``None``: ``DEFAULT_MODE``): ``"count"``, the learned count model, which answers per
        zero an average value, the value if detected and the probability of detection, and draws
        completed matrices; ``"neighbours"``, each zero filled from the most similar real cells of its
        label (no training); ``"paper"``, the paper's conditional GAN and its generated candidates. The
        earlier names ``"masked"`` (count) and ``"default"`` (neighbours) still work, with a warning.
    labels_key
        ``obs`` column with cell types: the count model's condition, the neighbour fill's pools, the GAN's
        conditions. ``None``: the count model uses no labels; the other methods cluster the cells
        (Leiden on log-normalised PCA) and use the clusters.
    layer
        Layer holding the counts; ``None`` uses ``X``.
    normalized
        ``True`` accepts non-integer, already-normalised non-negative values (not with the count model,
        which learns a count law).
    chunk_size
        Cells imputed at a time (bounds memory).
    seed
        One seed for training, draws, tuning and clustering. At most ``2**32 - 1`` for the methods that
        cluster. The same seed and the same ``n_threads`` on the same machine and library versions give
        identical results; a different ``n_threads`` can change the last digits of the arithmetic and,
        through training, the model (and so every answer slightly); the default ``n_threads=1`` is the
        same everywhere. ``n_threads=None`` repeats only while the libraries' own thread settings do.
    device
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    progress
        Show the progress of training (epochs) and imputation (cells): a bar on a terminal, about ten
        ``INFO`` lines on the ``"scmaskgan"`` logger otherwise (papermill, log files).
    n_threads
        CPU threads of the package's own work (torch's intra-op threads, the BLAS and OpenMP pools):
        set while the model reads the cells, trains, imputes and draws, and restored afterwards (torch's
        only where torch is loaded). 1 (the default) gives the same arithmetic everywhere and was the
        fastest on a 2-core machine beside other work; more threads can be faster on a quiet machine
        with more cores. ``None`` leaves the libraries' own settings (``OMP_NUM_THREADS``,
        ``torch.set_num_threads``), as before this parameter existed.
    **settings
        The method's settings, each checked now: :class:`~scmaskgan.count.settings.CountSettings`,
        :class:`~scmaskgan.neighbours.settings.NeighboursSettings` or
        :class:`~scmaskgan.paper.settings.PaperSettings`. A setting of another method is refused with a
        message that names the method it belongs to.

    Attributes
    ----------
    method
        The method's implementation (:class:`scmaskgan.method.Method`).
    settings
        The method's settings.
    params
        Every parameter as used: the shared ones, ``mode`` and the method's settings.
    """

    def __init__(self, adata, *, mode: str | None = None, labels_key: str | None = None, layer: str | None = None,
                 normalized: bool = False, chunk_size: int = 2048, seed: int = 0, device: str = "auto",
                 progress: bool = True, n_threads: int | None = DEFAULT_THREADS, **settings: Any):
        mode = resolve_mode(mode)
        args = locals()
        common = {name: check_param(name, args[name], kind, **bounds) for name, (kind, bounds) in SHARED_CHECKS.items()}
        self.settings = make_settings(mode, settings).for_input(normalized=normalized)
        if common["seed"] > self.settings.MAX_SEED:
            raise InputError(f"seed must be <= {self.settings.MAX_SEED} with mode={mode!r} (numpy's RandomState, "
                             f"used for PCA and clustering), got {common['seed']!r}.")
        if device == "cuda":  # refused now, not after the data are read
            from .nn.device import resolve_device

            resolve_device(device)
        self.params: dict[str, Any] = common | {"mode": mode} | self.settings.to_dict()
        with using_threads(n_threads):  # reading (clustering, when the method clusters) and building the method
            cells = read_cells(adata, layer=layer, normalized=normalized, labels_key=labels_key, seed=seed,
                               leiden_resolution=getattr(self.settings, "leiden_resolution", 1.0),
                               cluster=self.settings.CLUSTERS, takes_normalized=self.settings.TAKES_NORMALIZED)
            self._input = cells.matrix  # observed values are copied from it unchanged
            self.data, self.scaler = cells.data, cells.data.scaler
            self.genes_used_, self.empty_cells_ = cells.genes_used, cells.empty_cells
            self.categories_, self.labels_info_ = cells.categories, cells.labels_info
            self.var_names_, self.obs_names_ = cells.var_names, cells.obs_names
            self.output_dtype_ = cells.output_dtype
            #: Entries far above every other value of their cell and gene, capped for the method (:mod:`.outliers`).
            self.outliers_ = cells.outliers
            self.n_cells, self.n_genes = self._input.shape
            self.layout = ImageLayout(self.genes_used_.size)
            batch_size = getattr(self.settings, "batch_size", None)
            if batch_size is not None and batch_size > self.n_cells:
                raise InputError(f"batch_size ({batch_size}) is larger than the number of cells ({self.n_cells}); "
                                 "lower batch_size or leave it unset.")
            self.method: Method = _implementation(mode)(cells, self.settings, seed=seed, chunk_size=chunk_size,
                                                        device=device, progress=progress,
                                                        labels_given=labels_key is not None)
        self.is_trained_ = False
        self.timings_: dict[str, float] = {}
        self._calls_to_sample = 0  # the seed of a call to sample() without one is derived from it

    # ------------------------------------------------------------ properties
    @property
    def mode(self) -> str:
        """The method's name."""
        return self.params["mode"]

    @property
    def history_(self) -> pd.DataFrame:
        """The training history, one row per epoch (empty for a method that does not train)."""
        return self.method.history_

    @history_.setter
    def history_(self, history: pd.DataFrame) -> None:
        self.method.history_ = history

    @property
    def answers_(self) -> tuple[str, ...]:
        """The answers the method gives per entry, the main one first (``mean``; the count model also gives
        ``if_detected`` and ``p_detected``)."""
        return self.settings.ANSWERS

    @property
    def count_model(self):
        """The count model's network and training (:class:`scmaskgan.count.model.CountModel`; ``None`` in another mode)."""
        return getattr(self.method, "model", None)

    @property
    def gan(self):
        """The paper's GAN (:class:`scmaskgan.paper.gan.ConditionalGAN`; ``None`` where none is built)."""
        return getattr(self.method, "gan", None)

    @property
    def generator(self):
        """The GAN's generator (``None`` where no GAN is built)."""
        return None if self.gan is None else self.gan.generator

    @property
    def discriminator(self):
        """The GAN's discriminator (``None`` where no GAN is built)."""
        return None if self.gan is None else self.gan.discriminator

    @property
    def uses_generator(self) -> bool:
        """Whether imputation draws on the paper's generated candidates, so that :meth:`train` must run first."""
        return self.gan is not None

    @property
    def batch_size(self) -> int | None:
        """Cells per training batch (``None`` for a method that does not train)."""
        return getattr(self.method, "batch_size", None)

    @property
    def reads_per_molecule_(self) -> float | None:
        """The count model's reads per molecule as used (``None`` until training chooses it, or in another mode)."""
        return getattr(self.method, "reads_per_molecule_", None)

    @property
    def hide_(self) -> float | None:
        """The count model's ``hide`` as used (``None`` until training chooses it, or in another mode)."""
        return getattr(self.method, "hide_", None)

    @property
    def molecule_choice_(self) -> list[dict]:
        """The count model's candidate read-count settings and their errors (empty where nothing was chosen)."""
        return getattr(self.method, "molecule_choice_", [])

    @property
    def count_settings_(self) -> dict[str, float | None]:
        """The count model's ``reads_per_molecule`` and ``hide`` as used (empty in another mode)."""
        return getattr(self.method, "count_settings_", {})

    @property
    def tuning_(self) -> dict | None:
        """The Optuna search of ``k`` and ``k_sigma`` (when tuning ran)."""
        filler = getattr(self.method, "filler", None)
        return None if filler is None else filler.tuning_

    @property
    def imputation_(self) -> dict:
        """What the last imputation used, ``k``, ``k_sigma``, the pool and, per label, ``theta`` for the neighbour
        fill, and its settings for the count model."""
        summary = self.method.summary()
        return summary["imputation"] | {"labels": summary["candidates"]}

    @property
    def n_threads(self) -> int | None:
        """CPU threads of training, imputation and draws (``None``: the libraries' own settings)."""
        return self.params["n_threads"]

    @property
    def device(self) -> str:
        """Where the networks live (``"cpu"`` in a mode without networks)."""
        return self.method.device

    @property
    def labels_(self) -> pd.Categorical:
        """Label of each cell (its pool in the neighbour fill; the networks' condition)."""
        return pd.Categorical.from_codes(self.data.codes, categories=self.categories_)

    def n_parameters(self) -> dict[str, int]:
        """Trainable parameter counts of the generator and the discriminator (0 without a network)."""
        return self.method.n_parameters()

    def default_max_epochs(self) -> int:
        """The paper's GAN's epoch limit from the data size (:meth:`scmaskgan.paper.gan.ConditionalGAN.default_max_epochs`)."""
        if not hasattr(self.method, "default_max_epochs"):
            raise RuntimeError(f"default_max_epochs() concerns the paper's GAN, and mode={self.mode!r} builds none; "
                               "use mode='paper'.")
        return self.method.default_max_epochs()

    # ----------------------------------------------------------------- train
    def train(self, max_epochs: int | None = None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> "SCMaskGAN":
        """Train the method's networks: the count model on the input's own molecule splits, or the paper's
        GAN adversarially (nothing for the neighbour fill).

        Parameters
        ----------
        max_epochs
            Epoch limit; training may stop earlier when the held-out loss (the count model) or the
            convergence measure (the GAN) stalls. ``None``: the ``max_epochs`` setting, or one from the data
            size.
        accelerator
            ``"auto"``, ``"cpu"`` or ``"cuda"``; ``None`` keeps the model's device.
        checkpoint_dir
            Folder to write the best weights to while training (the paper's GAN).

        Notes
        -----
        Inside a ``torch.distributed`` process group (a script launched by ``torchrun`` that called
        :func:`scmaskgan.nn.distributed.init`) the paper's GAN trains data-parallel across the processes.
        """
        check_param("max_epochs", max_epochs, int, low=1, allow_none=True)
        if accelerator is not None:
            check_param("accelerator", accelerator, str, choices=("auto", "cpu", "cuda"))
        if not self.method.needs_training:
            with using_threads(self.n_threads):
                self.method.train(max_epochs)
            return self
        t0 = time.perf_counter()
        with using_threads(self.n_threads):
            self.method.train(max_epochs, accelerator=accelerator, checkpoint_dir=checkpoint_dir)
        self.timings_["train_s"] = time.perf_counter() - t0
        self.is_trained_ = True
        return self

    # ---------------------------------------------------------------- impute
    def impute(self, *, tune: bool | None = None) -> np.ndarray:
        """Impute the model's data; return a dense cells x genes array on the input's scale (the main answer).

        Observed (non-zero) values are returned unchanged. For data too large to hold densely,
        :meth:`iter_imputed` yields the same values in row blocks.
        """
        check_dense_output(self.n_cells, self.n_genes, self.output_dtype_)
        t0 = time.perf_counter()
        imputed = np.empty((self.n_cells, self.n_genes), dtype=self.output_dtype_)
        for start, stop, block in self.iter_imputed(tune=tune):
            imputed[start:stop] = block
        self.timings_["impute_s"] = time.perf_counter() - t0
        return imputed

    def iter_imputed(self, block_size: int | None = None, *, tune: bool | None = None):
        """Impute block by block: yield ``(start, stop, block)`` for consecutive rows ``start:stop``.

        ``block`` is the dense imputed ``stop - start`` x genes array of the main answer (observed values
        unchanged), so a caller can write a result of any size to disk with the memory of one block (as
        ``scmaskgan.pp.impute(..., out_file=...)`` does). ``block_size`` defaults to ``chunk_size``;
        ``tune`` (the neighbour fill and the paper's method) overrides the ``tune`` setting.
        """
        options = {} if tune is None else {"tune": tune}
        for start, stop, answers in self._iter(block_size, options, main_only=True):
            yield start, stop, answers["mean"]

    def iter_answers(self, block_size: int | None = None, *, depth: float | None = None):
        """The method's answers, block by block: yield ``(start, stop, answers)``.

        ``answers`` holds, for rows ``start:stop`` (dense, cells x genes; every observed value returned
        exactly), each answer the method gives (``answers_``). The neighbour fill and the paper's method give
        one, ``"mean"``, the filled value. The count model gives three, about a new measurement of each cell
        of ``depth`` times its library size:

        * ``"mean"``: at a zero, the average that the ``expectation`` setting names
          (:data:`scmaskgan.count.settings.LAYER_MEANINGS`): by default the count whose log1p CP10k value
          is the expected one given the cell, with ``"counts"`` the expected count;
        * ``"if_detected"``: at a zero, the same average over the counts above zero only, the value the
          gene would have if detected;
        * ``"p_detected"``: at a zero, the probability that the gene is detected, ``P(c > 0)``; 1 where a
          value was observed.

        Values are counts on the input's scale (``mean``, ``if_detected``: the measurement's value brought
        back to the cell's own library size) and probabilities.

        Parameters
        ----------
        block_size
            Cells per block; ``None`` uses ``chunk_size``.
        depth
            The count model only: the measurement's depth as a multiple of the cell's library size;
            ``None`` uses the ``depth`` setting.
        """
        if depth is not None and "depth" not in self.settings.names():
            raise InputError(f"depth is a setting of mode='count', not of mode={self.mode!r}; leave it out.")
        yield from self._iter(block_size, {} if depth is None else {"depth": depth})

    def _iter(self, block_size: int | None, options: dict[str, Any], main_only: bool = False):
        """The method's answers with the observed values restored, block by block, with progress.

        Each block is computed with ``n_threads`` threads; between blocks (while the caller holds one) the
        caller's own thread settings are back in force."""
        block_size = check_param("block_size", block_size, int, low=1, allow_none=True) or self.params["chunk_size"]
        if self.method.needs_training and not self.is_trained_:
            raise RuntimeError(f"mode={self.mode!r} needs training, and the model is not trained yet; call train() "
                               "first.")
        with Progress(self.n_cells, desc="scmaskgan imputation", unit="cell", enabled=self.params["progress"]) as shown:
            blocks = self.method.answers(block_size, **options)
            while True:
                with using_threads(self.n_threads):
                    found = next(blocks, None)
                    if found is None:
                        break
                    start, stop, answers = found
                    rows, cols, values = self._observed_entries(start, stop)  # read once, written into every answer
                    for name, block in answers.items():
                        block[rows, cols] = 1.0 if name == "p_detected" else values
                shown.update(stop - start)
                yield start, stop, ({"mean": answers["mean"]} if main_only else answers)

    def sample(self, n_draws: int = 1, *, seed: int | None = None, depth: float | None = None,
               if_detected: bool = False) -> np.ndarray:
        """``n_draws`` completed matrices drawn from the count model (n_draws x cells x genes, counts).

        Every observed value is kept; each zero takes a count drawn from its distribution given the cell
        (with fresh noise ``z`` per draw). For multiple imputation: analyse each draw, then pool.

        Parameters
        ----------
        n_draws
            Matrices to draw.
        seed
            Seed of the draws. ``None``: derived from the model's ``seed`` and the number of earlier calls
            (the first call uses the model's ``seed`` itself), so each call gives new draws and a model
            made again with the same ``seed`` gives the same sequence of draws; drawing ``sample(1)`` ten
            times collects ten different matrices.
        depth
            The measurement the draws come from, as in :meth:`iter_answers`; ``None`` uses the ``depth``
            setting. Each zero's count ``c`` is drawn at ``depth`` times the cell's library size and
            returned on the cell's own scale, ``c / depth`` (a whole count only at depth 1).
        if_detected
            Draw each zero's count given that the gene is detected (``c > 0``): the law whose mean is the
            ``"if_detected"`` answer.
        """
        if not self.settings.DRAWS:
            raise RuntimeError(f"sample() needs the count model: use mode='count' (mode={self.mode!r} has one answer "
                               "and no draws).")
        if not self.is_trained_:
            raise RuntimeError("the count model is not trained yet; call train() first.")
        n_draws = check_param("n_draws", n_draws, int, low=1)
        check_param("if_detected", if_detected, bool)
        if seed is None:
            seed = _draw_seed(self.params["seed"], self._calls_to_sample)
        else:
            seed = check_param("seed", seed, int, low=0, high=2**64 - 1)
        depth = self.method.depth(depth)
        check_dense_output(self.n_cells, self.n_genes, self.output_dtype_, n_matrices=n_draws,
                           what=f"{n_draws} draw(s)", advice=DRAWS_ADVICE)
        self._calls_to_sample += 1
        with using_threads(self.n_threads):
            out = self.method.sample(n_draws, seed=seed, block_size=self.params["chunk_size"], depth=depth,
                                     if_detected=if_detected)
        block_size = self.params["chunk_size"]
        for start in range(0, self.n_cells, block_size):
            stop = min(start + block_size, self.n_cells)
            rows, cols, values = self._observed_entries(start, stop)
            out[:, start + rows, cols] = values
        return out

    def _observed_entries(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row (within the block), column and value of every observed (non-zero) input value of rows
        ``start:stop``."""
        X = self._input[start:stop]
        if sp.issparse(X):
            coo = sp.coo_matrix(X)
            keep = coo.data != 0
            return coo.row[keep], coo.col[keep], coo.data[keep]
        X = np.asarray(X)
        rows, cols = np.nonzero(X)
        return rows, cols, X[rows, cols]

    # ------------------------------------------------------------- save/load
    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``config.json``, ``history.csv``, ``labels.csv`` and, with a network, ``weights.pt`` (tensors only)."""
        from .saving import save_model

        return save_model(self, directory, overwrite=overwrite)

    @classmethod
    def load(cls, directory: str | Path, adata, *, device: str = "auto") -> "SCMaskGAN":
        """Load a model saved by :meth:`save` for ``adata`` (same genes, in the same order).

        Labels come from ``adata.obs[labels_key]`` when the model was trained
        with a labels key, else from the saved ``labels.csv`` (matched by cell name).
        Weights are read with ``torch.load(weights_only=True)``: no arbitrary
        objects are unpickled.
        """
        from .saving import load_model

        return load_model(cls, directory, adata, device=device)


