"""The user-facing model: set up on AnnData, train, impute, save and load (scvi-tools style).

:class:`SCMaskGAN` reads and checks the data and every parameter (MAGIC style: a bad value
fails in milliseconds rather than after minutes of training), then hands the work to the
component that its mode names:

* the neighbour fill (:mod:`scmaskgan.neighbours`): pools, distances, fill rules and tuning, used by
  every mode; it needs no torch;
* the paper's conditional GAN (:mod:`scmaskgan.gan`): built only when the pool holds generated
  candidates (``mode="paper"``, ``pool="generated"`` or ``"both"``);
* the learned count model (:mod:`scmaskgan.count.model`, ``mode="masked"``): a masked,
  cell-conditional generator of each entry's count distribution, which answers per zero the
  expected value, the value if detected and the probability of detection, and gives draws.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._progress import Progress
from ._validation import InputError, check_dense_output, check_param
from .cells import CellData, read_cells
from .neighbours.imputer import NeighbourFill
from .nn.layout import ImageLayout

logger = logging.getLogger("scmaskgan")

__all__ = ["SCMaskGAN", "MODES"]

#: Presets of the imputation step. "paper" is the paper's method; "default" is the mode that
#: measured best on both held-out protocols of ../shared/BENCHMARK.md (benchmarks/ablation.py).
MODES: dict[str, dict[str, Any]] = {
    "default": {"pool": "real", "metric": "pca", "fill": "poisson", "alpha": 0.5, "k": 30, "k_sigma": 1.0,
                "tune": False},
    "paper": {"pool": "generated", "metric": "observed", "fill": "mean", "alpha": 1.0, "k": 10, "k_sigma": 1.0,
              "tune": True},
}

#: The mode of the learned count model (:class:`scmaskgan.count.model.CountModel`); the
#: other modes are the neighbour fill's presets in ``MODES``.
MASKED = "masked"

#: Settings of the count model's generator (:class:`scmaskgan.count.network.CountGenerator`) and training.
_COUNT_SETTINGS = ("hidden_dim", "latent_dim", "noise_dim", "dropout", "zero_inflated", "thinning", "hide",
                   "seed", "architecture", "gene_order")

#: Settings of the GAN component (:class:`scmaskgan.paper.gan.ConditionalGAN`).
_GAN_SETTINGS = ("latent_dim", "base_channels", "head_channels", "gene_channels", "attention", "residual",
                 "conditional", "seed")


#: How each parameter of :class:`SCMaskGAN` is checked at construction: (type, bounds and choices).
_CHECKS: dict[str, tuple[Any, dict[str, Any]]] = {
    "labels_key": (str, {"allow_none": True}),
    "layer": (str, {"allow_none": True}),
    "normalized": (bool, {}),
    "latent_dim": (int, {"low": 1, "high": 4096}),
    "base_channels": (int, {"low": 4, "high": 1024}),
    "head_channels": (int, {"low": 1, "high": 256}),
    "gene_channels": (int, {"low": 1, "high": 256}),
    "batch_size": (int, {"low": 2, "allow_none": True}),
    "lr": (float, {"low": 0, "high": 1, "low_inclusive": False, "allow_none": True}),
    "max_epochs": (int, {"low": 1, "allow_none": True}),
    "patience": (int, {"low": 1}),
    "n_candidates": (int, {"low": 2}),
    "k": (int, {"low": 1, "allow_none": True}),
    "k_sigma": (float, {"allow_none": True}),
    "tau": (float, {"low": 0, "high": 1, "allow_none": True}),
    "mode": (str, {"choices": (*MODES, MASKED)}),
    "pool": (str, {"choices": ("generated", "real", "both"), "allow_none": True}),
    "metric": (str, {"choices": ("observed", "pca"), "allow_none": True}),
    "fill": (str, {"choices": ("mean", "poisson"), "allow_none": True}),
    "alpha": (float, {"low": 0, "high": 1, "allow_none": True}),
    "max_real": (int, {"low": 1}),
    "tune": (bool, {"allow_none": True}),
    "n_trials": (int, {"low": 1}),
    "tune_candidates": (bool, {}),
    "attention": (bool, {}),
    "residual": (bool, {}),
    "conditional": (bool, {}),
    "mixed_precision": (bool, {}),
    "leiden_resolution": (float, {"low": 0, "low_inclusive": False}),
    "chunk_size": (int, {"low": 1}),
    "seed": (int, {"low": 0, "high": 2**64 - 1}),  # torch's bound; modes other than masked: 2**32 - 1 (below)
    "device": (str, {"choices": ("auto", "cpu", "cuda")}),
    "progress": (bool, {}),
    "hidden_dim": (int, {"low": 4, "high": 8192}),
    "noise_dim": (int, {"low": 0, "high": 1024}),
    "dropout": (float, {"low": 0, "high": 1}),
    "zero_inflated": (bool, {}),
    "thinning": (float, {"low": 0, "high": 1, "low_inclusive": False}),
    "hide": (float, {"low": 0, "high": 0.95, "allow_none": True}),
    "architecture": (str, {"choices": ("mlp", "conv")}),
    "gene_order": (str, {"choices": ("input", "correlation")}),
    "adversarial_weight": (float, {"low": 0}),
    "hint_rate": (float, {"low": 0, "high": 1}),
    "depth": (float, {"low": 0, "low_inclusive": False, "high": 1e6}),
    "reads_per_molecule": (float, {"low": 1, "high": 1e6, "allow_none": True}),
}


class SCMaskGAN:
    """scMASKGAN imputation model for one AnnData.

    Parameters
    ----------
    adata
        Cells x genes. Raw counts in ``X`` or in ``layers[layer]`` (dense or sparse).
    labels_key
        ``obs`` column with cell types: the pools of the neighbour fill, and the GAN's conditions. ``None``
        clusters the cells (Leiden on log-normalised PCA) and uses the clusters.
    layer
        Layer holding the counts; ``None`` uses ``X``.
    normalized
        ``True`` accepts non-integer, already-normalised non-negative values.
    latent_dim
        Size of the generator's noise vector ``z``.
    base_channels
        Channels of the generator's first feature map (halved at each upsampling).
    head_channels
        Channels of the generator's full-resolution head (its cost grows with cells x genes x head_channels).
    gene_channels
        Size of the generator's per-gene embedding.
    batch_size
        Cells per training batch; ``None`` uses ``min(64, n_cells)``. Must not exceed the number of cells.
    lr
        Adam learning rate of both networks.
    max_epochs
        Default epoch limit of :meth:`train`; ``None`` picks one from the data size (the count model:
        :func:`scmaskgan.count.model.default_max_epochs`, 300 up to about 7,400 cells, then
        fewer, so that training sees at most two million cells; 23 at 100,000).
    patience
        Epochs without improvement of the convergence measure before training stops.
    n_candidates
        Generated profiles per label.
    k, k_sigma
        Neighbours averaged and the distance threshold ``theta = mu + k_sigma * sigma``
        (starting values when ``tune`` is true); ``None`` takes the mode's.
    tau
        Isolation-Forest anomaly-score threshold; ``None`` uses mean + 2 sd of the scores.
    mode
        Preset of the imputation step (``pool``, ``metric``, ``fill``, ``alpha``, ``k``, ``k_sigma``, ``tune``; any of
        them given explicitly wins): ``"default"``, the best measured mode (see ``MODES``), or
        ``"paper"``, the paper's method (generated candidates, distances over observed genes,
        plain mean of the neighbours, Optuna).
    pool
        Where a cell's neighbours come from: ``"generated"`` candidates of its label (the paper),
        ``"real"`` cells of its label (the cell itself excluded), or ``"both"``.
    metric
        ``"observed"``: root-mean-square distance over the cell's observed genes (the paper);
        ``"pca"``: Euclidean distance in a 30-component PCA of the scaled values.
    fill
        How a zero's value comes from its neighbours: ``"mean"`` of their scaled values (the
        paper; with ``alpha``, ``P ** alpha * E`` with ``P`` the share of neighbours expressing
        the gene and ``E`` their mean expressed value), or ``"poisson"``: the neighbours'
        expression fractions give the expected count at this cell's own library size,
        ``lam``, and the fill is ``P ** alpha * E`` with ``P = 1 - exp(-lam)`` and ``E`` the
        mean log-normalised value of a Poisson(``lam``) count given that it is non-zero
        (needs raw counts).
    alpha
        Exponent of the detection probability ``P`` in the fill: 1 is the (posterior) mean, which
        keeps probable true zeros near zero; 0 treats every zero as a dropout and fills the value
        the gene would have if detected.
    max_real
        Largest number of real cells per label in the pool.
    tune
        Search ``k`` and ``k_sigma`` with Optuna on hidden observed entries before imputing.
    n_trials
        Optuna trials.
    tune_candidates
        Also search the number of candidates.
    mixed_precision
        Train with bfloat16 autocast (on CUDA: faster, less memory; no loss scaling is needed).
    attention, residual, conditional
        Switches of the networks' self-attention layers, residual blocks and label conditioning
        (all on in the paper); off only to measure what each part contributes. Without label
        conditioning one unconditional generator's candidates serve every label.
    leiden_resolution
        Resolution of the automatic clustering when ``labels_key`` is ``None``.
    chunk_size
        Cells imputed at a time (bounds memory).
    seed
        One seed for training, candidates, tuning and clustering; CPU runs repeat exactly.
    device
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    progress
        Show the progress of training (epochs) and imputation (cells): a bar on a terminal, about
        ten ``INFO`` lines on the ``"scmaskgan"`` logger otherwise (papermill, log files).
    hidden_dim, noise_dim, dropout
        The count model's (``mode="masked"``) hidden width, size of its noise ``z`` (the draws differ
        through it) and dropout rate in training; its code has ``latent_dim`` values.
    zero_inflated
        The count model's likelihood: zero-inflated negative binomial (the default), or the plain
        negative binomial with ``False``. Chosen on the count model's own held-out loss: zero
        inflation had the lower loss summed over the benchmark's inputs, by about 0.1% on UMI counts
        and by 12-21% on read counts (book: method page, section 8).
    thinning
        Share of a cell's molecules the count model sees in a training step (molecular
        cross-validation); the rest are what it is scored on.
    hide
        Share of the non-zero entries of what the count model sees in a training step that are set
        to 0 besides, in ``[0, 0.95]``, so that it also learns from genes with many counts seen at zero
        (dropouts; thinning alone rarely empties them in read counts, where the reads of one molecule
        go together). The held-out loss that stops training hides nothing. ``None`` (the default):
        0 on UMI counts; on counts that may be reads, 0 or 0.7, chosen with ``reads_per_molecule``
        (below). The value used is in ``hide_``.
    architecture
        Encoder of the count model (``mode="masked"``): ``"mlp"`` (fully connected) or ``"conv"``
        (the paper's blocks on the gene layout: convolutions, a residual block, self-attention, the
        label map; :class:`scmaskgan.count.network.CountGenerator`). ``benchmarks/masked_architecture.py``
        compares them on the count model's own held-out loss.
    gene_order
        Order of the genes in the conv encoder's image: ``"input"``, or ``"correlation"`` (correlated
        genes side by side: the leaf order of a hierarchical clustering of the input's gene-gene
        correlation, stored with the model). Only with ``architecture="conv"``.
    adversarial_weight
        Weight of a GAIN discriminator's adversarial loss in the count model's training, relative to
        its count likelihood (both summed over a cell's entries); 0 (the default) trains no
        discriminator. The discriminator judges cells completed with the model's draws, with the GAIN
        paper's hint (:mod:`scmaskgan.count.discriminator`); early stopping stays on the held-out likelihood.
        ``benchmarks/masked_adversarial.py`` measures what it changes in the answers and the draws.
    hint_rate
        Probability that the hint reveals to the discriminator whether an entry is real (GAIN's hint
        rate), in ``[0, 1)``; only with ``adversarial_weight > 0``.
    reads_per_molecule
        Reads per molecule of the counts, for the count model (``mode="masked"``): it models
        ``max(1, round(c / r))`` molecules where a count ``c`` is non-zero, and brings its answers back
        to each cell's reads (:mod:`scmaskgan.count.read_counts`). 1 keeps the counts as they are.
        ``None`` (the default) chooses it on the input itself, with ``hide`` where that is ``None``:
        the count model is trained at each candidate (``r`` in 1, 4, 16 and 64, ``hide`` in 0 and 0.7)
        on the input with a further 10% of its own non-zero entries hidden, and the candidate whose
        value if detected is nearest to them wins. Scales above 1 are tried only where the median
        non-zero count is at least four times the scale, and ``hide`` only where some scale above 1
        is: on UMI counts nothing is chosen (``r = 1``, ``hide = 0``) and nothing more is trained; on
        read counts training takes up to nine times longer. The values used are in
        ``reads_per_molecule_`` and ``hide_``, the candidates' errors in ``molecule_choice_``.
    depth
        The measurement the count model's answers describe (``mode="masked"``), as a multiple of each
        cell's library size: 1 (the default) asks what a new measurement of the cell, as deep as its
        own, would show at each zero; 2, one twice as deep; ``(1 - f) / f`` asks what the molecules
        missing from a cell that kept only a share ``f`` of them would show (protocol B's question,
        ``f = 0.3``). It changes the three answers (the detection probability most: deeper
        measurements detect more), not the training; :meth:`iter_answers` can ask another depth of
        the same fit.
    """

    def __init__(self, adata, *, labels_key: str | None = None, layer: str | None = None, normalized: bool = False,
                 latent_dim: int = 64, base_channels: int = 64, head_channels: int = 8, gene_channels: int = 8,
                 batch_size: int | None = None, lr: float | None = None, max_epochs: int | None = None,
                 patience: int = 20, n_candidates: int = 512, k: int | None = None, k_sigma: float | None = None,
                 tau: float | None = None, mode: str = "default", pool: str | None = None, metric: str | None = None,
                 fill: str | None = None, alpha: float | None = None, max_real: int = 5000, tune: bool | None = None,
                 n_trials: int = 40, tune_candidates: bool = False, attention: bool = True, residual: bool = True,
                 conditional: bool = True, mixed_precision: bool = False,
                 leiden_resolution: float = 1.0, chunk_size: int = 2048, seed: int = 0, device: str = "auto",
                 progress: bool = True, hidden_dim: int = 256, noise_dim: int = 16, dropout: float = 0.1,
                 zero_inflated: bool = True, thinning: float = 0.5, hide: float | None = None,
                 architecture: str = "mlp", gene_order: str = "input", adversarial_weight: float = 0.0,
                 hint_rate: float = 0.9, depth: float = 1.0, reads_per_molecule: float | None = None):
        args = locals()  # the parameters as given, each checked against its row of _CHECKS
        self.params = {name: check_param(name, args[name], kind, **bounds) for name, (kind, bounds) in _CHECKS.items()}
        if self.params["hint_rate"] == 1:
            raise InputError("hint_rate must be < 1: a hint that reveals every entry leaves the discriminator "
                             "nothing to judge.")
        if self.params["lr"] is None:  # Adam's step: the GAN's 2e-4, the count model's 1e-3
            self.params["lr"] = 1e-3 if mode == MASKED else 2e-4
        for name, value in MODES.get(mode, {}).items():  # the mode's preset for every setting left unset
            if self.params[name] is None:
                self.params[name] = value
        if mode != MASKED and self.params["seed"] > 2**32 - 1:
            raise InputError(f"seed must be <= {2**32 - 1} with mode={mode!r} (numpy's RandomState, used for PCA and "
                             f"clustering), got {self.params['seed']!r}.")
        if mode != MASKED and self.params["depth"] != 1:
            raise InputError(f"depth is a setting of the count model's answers (mode='masked'); mode={mode!r} has no "
                             "such answers. Leave depth at 1 or use mode='masked'.")
        if mode != MASKED and self.params["reads_per_molecule"] is not None:
            raise InputError(f"reads_per_molecule is a setting of the count model (mode='masked'); mode={mode!r} does "
                             "not read counts as molecules. Leave it unset or use mode='masked'.")
        self.params["depth"] = float(self.params["depth"])
        if mode != MASKED:
            self.params["alpha"] = float(self.params["alpha"])
            self.params["k_sigma"] = float(self.params["k_sigma"])
        elif normalized:
            raise InputError("mode='masked' learns a count model and needs raw counts; use mode='default' "
                             "for normalised input.")
        if self.params["fill"] == "poisson" and normalized:
            if fill is not None:
                raise InputError("fill='poisson' needs raw counts; use fill='mean' with normalized=True.")
            self.params["fill"] = "mean"
        if self.uses_generator and self.params["k"] > n_candidates:
            raise InputError(f"k ({self.params['k']}) must not exceed n_candidates ({n_candidates}).")
        if device == "cuda":  # refused now, not after the data are read
            from .nn.device import resolve_device

            resolve_device(device)
        self._setup(adata)
        self.history_: pd.DataFrame = pd.DataFrame(columns=["epoch", "loss_d", "loss_g", "convergence", "seconds", "best"])
        self.is_trained_ = False
        self.timings_: dict[str, float] = {}
        #: The count model's reads per molecule and ``hide`` (``None`` until training chooses them), and the
        #: candidates' errors.
        self.reads_per_molecule_: float | None = self.params["reads_per_molecule"]
        self.hide_: float | None = self.params["hide"]
        self.molecule_choice_: list[dict] = []
        self.filler = NeighbourFill(self.data, self.categories_, self.params, self.obs_names_) if mode != MASKED else None
        self.gan = self._build_gan() if self.uses_generator else None
        self.count_model = self._build_count_model() if mode == MASKED else None

    # ------------------------------------------------------------------ setup
    def _setup(self, adata) -> None:
        p = self.params
        n_cells = adata.n_obs
        self.batch_size = p["batch_size"] if p["batch_size"] is not None else min(64, n_cells)
        if self.batch_size > n_cells:
            raise InputError(f"batch_size ({self.batch_size}) is larger than the number of cells ({n_cells}); "
                             "lower batch_size or leave it unset.")
        cells = read_cells(adata, layer=p["layer"], normalized=p["normalized"], labels_key=p["labels_key"],
                           seed=p["seed"], leiden_resolution=p["leiden_resolution"], cluster=p["mode"] != MASKED)
        self._input = cells.matrix  # observed values are copied from it unchanged
        self.data, self.scaler = cells.data, cells.data.scaler
        self.genes_used_, self.empty_cells_ = cells.genes_used, cells.empty_cells
        self.categories_, self.labels_info_ = cells.categories, cells.labels_info
        self.var_names_, self.obs_names_ = cells.var_names, cells.obs_names
        self.output_dtype_ = cells.output_dtype
        self.n_cells, self.n_genes = self._input.shape
        self.layout = ImageLayout(self.genes_used_.size)

    def _build_gan(self):
        from .nn.device import resolve_device
        from .paper.gan import ConditionalGAN

        return ConditionalGAN(self.data, **{name: self.params[name] for name in _GAN_SETTINGS},
                              device=resolve_device(self.params["device"]))

    def _build_count_model(self, data: CellData | None = None, hide: float | None = None):
        """The count model on ``data`` with ``hide`` (``None``: the input's cells as molecules at
        ``reads_per_molecule``, or as they are where it is unset; the ``hide`` parameter, or 0)."""
        from .nn.device import resolve_device
        from .count.model import CountModel
        from .count.read_counts import to_molecules

        if data is None:
            data = to_molecules(self.data, self.params["reads_per_molecule"] or 1.0)
        settings = {name: self.params[name] for name in _COUNT_SETTINGS}
        if hide is None:
            hide = self.params["hide"] or 0.0
        settings["hide"] = float(hide)
        return CountModel(data, use_labels=self.params["labels_key"] is not None, **settings,
                                device=resolve_device(self.params["device"]))

    @property
    def count_settings_(self) -> dict[str, float | None]:
        """The count model's ``reads_per_molecule`` and ``hide`` as used (``None`` where training has not
        chosen them yet)."""
        return {"reads_per_molecule": self.reads_per_molecule_, "hide": self.hide_}

    @property
    def uses_generator(self) -> bool:
        """Whether imputation draws on generated candidates (``pool`` "generated" or "both"), so that
        :meth:`train` must run first. The default mode's real-cell pool needs no training and builds
        no network."""
        return self.params["pool"] in ("generated", "both")

    @property
    def generator(self):
        """The GAN's generator (``None`` in a mode that builds no GAN)."""
        return None if self.gan is None else self.gan.generator

    @property
    def discriminator(self):
        """The GAN's discriminator (``None`` in a mode that builds no GAN)."""
        return None if self.gan is None else self.gan.discriminator

    @property
    def device(self) -> str:
        """Where the networks live (``"cpu"`` in a mode without networks)."""
        net = self.gan or self.count_model
        return "cpu" if net is None else str(net.device)

    @property
    def tuning_(self) -> dict | None:
        """The Optuna search of ``k`` and ``k_sigma`` (when tuning ran)."""
        return None if self.filler is None else self.filler.tuning_

    @property
    def imputation_(self) -> dict | None:
        """``k``, ``k_sigma``, the pool and, per label, ``theta`` of the last imputation (the count model:
        its settings)."""
        if self.filler is None:
            return {"mode": MASKED, "labels": {}} | {k: self.params[k] for k in _COUNT_SETTINGS}
        return self.filler.imputation_

    @property
    def labels_(self) -> pd.Categorical:
        """Label of each cell (its pool in the neighbour fill; the GAN's condition)."""
        return pd.Categorical.from_codes(self.data.codes, categories=self.categories_)

    def n_parameters(self) -> dict[str, int]:
        """Trainable parameter counts of the generator and the discriminator (0 without a network)."""
        if self.count_model is not None:
            disc = self.count_model.discriminator
            return {"generator": self.count_model.n_parameters(),
                    "discriminator": 0 if disc is None else sum(t.numel() for t in disc.parameters())}
        return {"generator": 0, "discriminator": 0} if self.gan is None else self.gan.n_parameters()

    def default_max_epochs(self) -> int:
        """The GAN's epoch limit from the data size (:meth:`scmaskgan.paper.gan.ConditionalGAN.default_max_epochs`)."""
        return self._require_gan("default_max_epochs()").default_max_epochs()

    def _require_gan(self, what: str):
        if self.gan is None:
            raise RuntimeError(f"{what} concerns the GAN, and mode={self.params['mode']!r} with "
                               f"pool={self.params['pool']!r} builds none; use mode='paper' (or pool='generated'/'both').")
        return self.gan

    # ----------------------------------------------------------------- train
    def train(self, max_epochs: int | None = None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> "SCMaskGAN":
        """Train the networks of the mode: the GAN adversarially, or the count model on the input's own
        molecule splits (a no-op in a mode without networks).

        Parameters
        ----------
        max_epochs
            Epoch limit; training may stop earlier when the convergence measure (the GAN) or the
            held-out loss (the count model) stalls.
        accelerator
            ``"auto"``, ``"cpu"`` or ``"cuda"``; ``None`` keeps the model's device.
        checkpoint_dir
            Folder to write the best weights to while training.

        Notes
        -----
        Inside a ``torch.distributed`` process group (a script launched by ``torchrun`` that
        called :func:`scmaskgan.nn.distributed.init`) training is data-parallel across the processes.
        """
        if self.count_model is not None:
            return self._train_count_model(max_epochs)
        if self.gan is None:
            logger.info("mode %r imputes from real cells of the same label and builds no GAN: nothing to train "
                        "(mode='paper' or pool='generated'/'both' use it).", self.params["mode"])
            return self
        from .nn.device import resolve_device
        from .paper.training import TrainingConfig

        gan, p = self.gan, self.params
        if accelerator is not None:
            check_param("accelerator", accelerator, str, choices=("auto", "cpu", "cuda"))
            gan.device = resolve_device(accelerator)
        epochs = max_epochs if max_epochs is not None else (p["max_epochs"] or gan.default_max_epochs())
        check_param("max_epochs", epochs, int, low=1)
        config = TrainingConfig(max_epochs=epochs, min_epochs=min(epochs, max(10, p["patience"])),
                                batch_size=self.batch_size, lr_g=p["lr"], lr_d=p["lr"], patience=p["patience"],
                                checkpoint_dir=str(checkpoint_dir) if checkpoint_dir else None, progress=p["progress"],
                                mixed_precision=p["mixed_precision"])
        rows, self.timings_["train_s"] = gan.train(config)
        history = pd.DataFrame(rows)
        if self.is_trained_ and len(self.history_):
            history["epoch"] += int(self.history_["epoch"].max())
            history = pd.concat([self.history_, history], ignore_index=True)
        self.history_ = history
        self.is_trained_ = True
        return self

    def _train_count_model(self, max_epochs: int | None) -> "SCMaskGAN":
        from .count.model import CountTrainingConfig, default_max_epochs

        p = self.params
        if max_epochs is None:
            max_epochs = p["max_epochs"] or default_max_epochs(self.data.n_cells)
        epochs = check_param("max_epochs", max_epochs, int, low=1)
        config = CountTrainingConfig(max_epochs=epochs, min_epochs=min(epochs, 10), patience=p["patience"],
                                      batch_size=self.batch_size, lr=p["lr"], progress=p["progress"],
                                      adversarial_weight=float(p["adversarial_weight"]), hint_rate=float(p["hint_rate"]))
        t0 = time.perf_counter()
        r, hide = p["reads_per_molecule"], p["hide"]
        self.molecule_choice_ = []
        if r is None or hide is None:
            from .count.read_counts import choose_count_settings, to_molecules

            quiet = dataclasses.replace(config, progress=False)

            def fit(cells: CellData, share: float):
                model = self._build_count_model(cells, share)
                model.train(quiet)
                return model

            r, hide, self.molecule_choice_ = choose_count_settings(self.data, fit, seed=p["seed"],
                                                                   reads_per_molecule=r, hide=hide)
            if self.molecule_choice_:
                logger.info("count model: %g reads per molecule, hide %g (chosen on the input's own hidden "
                            "non-zero entries)", r, hide)
            # the model built at construction is on the counts as they are, with hide 0 unless given
            if self.count_model.data is not self.data or r != 1 or self.count_model.hide != hide:
                self.count_model = self._build_count_model(to_molecules(self.data, r), hide)
        self.reads_per_molecule_, self.hide_ = r, hide
        rows, _ = self.count_model.train(config)
        self.timings_["train_s"] = time.perf_counter() - t0
        self.history_ = pd.DataFrame(rows)
        self.is_trained_ = True
        return self

    # ---------------------------------------------------------------- impute
    def impute(self, *, tune: bool | None = None) -> np.ndarray:
        """Impute the model's data; return a dense cells x genes array on the input's scale.

        Observed (non-zero) values are returned unchanged; zeros are filled from
        the nearest members of the cell's label pool (generated candidates, real
        cells, or both: the ``pool`` parameter) by the ``fill`` rule. With the
        default real-cell pool no training is needed. For data too large to hold
        densely, :meth:`iter_imputed` yields the same values in row blocks.
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

        ``block`` is the dense imputed ``stop - start`` x genes array (observed values
        unchanged), so a caller can write a result of any size to disk with the memory
        of one block (as ``scmaskgan.pp.impute(..., out_file=...)`` does). ``block_size`` defaults
        to ``chunk_size``.
        """
        if self.count_model is not None:
            for start, stop, blocks in self.iter_answers(block_size):
                yield start, stop, blocks["mean"]
            return
        if self.uses_generator and not self.is_trained_:
            raise RuntimeError(f"pool={self.params['pool']!r} imputes from generated candidates and the model is "
                               "not trained yet; call train() first.")
        block_size = check_param("block_size", block_size, int, low=1, allow_none=True) or self.params["chunk_size"]
        p = self.params
        candidates = None
        if self.uses_generator:
            candidates = self.gan.candidates(len(self.categories_), p["n_candidates"], tau=p["tau"],
                                             min_keep=min(p["k"], p["n_candidates"]))
        state = self.filler.prepare(tune=p["tune"] if tune is None else tune, candidates=candidates)
        with Progress(self.n_cells, desc="scmaskgan imputation", unit="cell", enabled=p["progress"]) as shown:
            for start in range(0, self.n_cells, block_size):
                stop = min(start + block_size, self.n_cells)
                block = np.zeros((stop - start, self.n_genes), dtype=self.output_dtype_)
                self.filler.fill_into(block, start, stop, state, self.genes_used_)
                self._restore_observed(block, start, stop)
                shown.update(block.shape[0])
                yield start, stop, block

    def _require_count_model(self, what: str):
        if self.count_model is None:
            raise RuntimeError(f"{what} needs the count model: use mode='masked'.")
        if not self.is_trained_:
            raise RuntimeError("the count model is not trained yet; call train() first.")
        return self.count_model

    def iter_answers(self, block_size: int | None = None, *, depth: float | None = None):
        """The count model's three answers, block by block: yield ``(start, stop, answers)``.

        ``answers`` holds, for rows ``start:stop`` (dense, cells x genes; every observed value
        returned exactly), about a new measurement of each cell of ``depth`` times its library size
        (the count ``c`` of a zero in it, on the log-normalised scale of that measurement):

        * ``"mean"``: at a zero, the expected value given that it was observed as zero; for
          clustering, differential expression, correlation;
        * ``"if_detected"``: at a zero, the value the gene would have if detected, ``E[x | c > 0]``;
        * ``"p_detected"``: at a zero, the probability that the gene is detected, ``P(c > 0)``;
          1 where a value was observed.

        Values are counts on the input's scale (``mean``, ``if_detected``; the measurement's value
        brought back to the cell's own library size) and probabilities.

        Parameters
        ----------
        block_size
            Cells per block; ``None`` uses ``chunk_size``.
        depth
            The measurement's depth as a multiple of the cell's library size; ``None`` uses the
            model's ``depth`` (see the class's parameters).
        """
        model = self._require_count_model("iter_answers()")
        block_size = check_param("block_size", block_size, int, low=1, allow_none=True) or self.params["chunk_size"]
        depth = self._depth(depth)
        used, target_sum = self.genes_used_, self.scaler.target_sum
        with Progress(self.n_cells, desc="scmaskgan imputation", unit="cell", enabled=self.params["progress"]) as shown:
            for start in range(0, self.n_cells, block_size):
                stop = min(start + block_size, self.n_cells)
                rows = np.arange(start, stop)
                answers = model.answers(rows, depth=depth)
                lib = self.data.lib[rows][:, None]
                observed = self._observed_entries(start, stop)  # read once, written into all three
                out = {}
                for name in ("mean", "if_detected", "p_detected"):
                    block = np.zeros((stop - start, self.n_genes), dtype=self.output_dtype_)
                    values = answers[name] if name == "p_detected" else np.expm1(answers[name]) * (lib / target_sum)
                    block[:, used] = np.where(lib > 0, values, 0.0)
                    if name == "p_detected":
                        block[observed[0], observed[1]] = 1.0
                    else:
                        self._restore_observed(block, start, stop, observed)
                    out[name] = block
                shown.update(stop - start)
                yield start, stop, out

    def sample(self, n_draws: int = 1, *, seed: int | None = None, depth: float | None = None,
               if_detected: bool = False) -> np.ndarray:
        """``n_draws`` completed matrices drawn from the count model (n_draws x cells x genes, counts).

        Every observed value is kept; each zero takes a count drawn from its distribution given the
        cell (with fresh noise ``z`` per draw). For multiple imputation: analyse each draw, then pool.

        Parameters
        ----------
        n_draws
            Matrices to draw.
        seed
            Seed of the draws; ``None`` uses the model's ``seed``.
        depth
            The measurement the draws come from, as in :meth:`iter_answers`; ``None`` uses the model's
            ``depth``. Each zero's count ``c`` is drawn at ``depth`` times the cell's library size and
            returned on the cell's own scale, ``c / depth`` (a whole count only at depth 1).
        if_detected
            Draw each zero's count given that the gene is detected (``c > 0``): the law whose mean is
            the ``"if_detected"`` answer, for the level a gene would have where it is known to be
            expressed.
        """
        model = self._require_count_model("sample()")
        n_draws = check_param("n_draws", n_draws, int, low=1)
        depth = self._depth(depth)
        check_param("if_detected", if_detected, bool)
        check_dense_output(n_draws * self.n_cells, self.n_genes, self.output_dtype_)
        rng = np.random.default_rng(self.params["seed"] if seed is None else check_param("seed", seed, int, low=0))
        out = np.zeros((n_draws, self.n_cells, self.n_genes), dtype=self.output_dtype_)
        block_size = self.params["chunk_size"]
        for k in range(n_draws):
            for start in range(0, self.n_cells, block_size):
                stop = min(start + block_size, self.n_cells)
                rows = np.arange(start, stop)
                counts = model.sample(rows, rng, depth=depth, detected=if_detected)
                if model.data is not self.data:  # molecules, as reads of the cell's library
                    molecules = model.data.lib[rows]
                    counts = counts * (self.data.lib[rows] / np.where(molecules > 0, molecules, 1))[:, None]
                out[k, start:stop][:, self.genes_used_] = counts if depth == 1 else counts / depth
                if if_detected:  # a cell without counts has nothing to detect
                    out[k, start:stop][self.data.lib[rows] <= 0] = 0
                self._restore_observed(out[k, start:stop], start, stop)
        return out

    def _depth(self, depth: float | None) -> float:
        """``depth`` checked as at construction; ``None``: the model's own."""
        if depth is None:
            return self.params["depth"]
        kind, bounds = _CHECKS["depth"]
        return float(check_param("depth", depth, kind, **bounds))

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

    def _restore_observed(self, block: np.ndarray, start: int, stop: int,
                          entries: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """Copy every observed input value of rows ``start:stop`` back into ``block`` exactly (equation 6);
        ``entries``: :meth:`_observed_entries` when already read."""
        rows, cols, values = self._observed_entries(start, stop) if entries is None else entries
        block[rows, cols] = values

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


