"""The user-facing model: set up on AnnData, train, impute, save and load (scvi-tools style).

Every parameter is checked when the model is built (MAGIC style), so a bad
value fails in milliseconds rather than after minutes of training.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ._progress import Progress
from ._validation import InputError, check_counts, check_labels, check_param
from .imputation import (distance_threshold, fill_values, filter_outliers, generate_candidates, neighbour_weights,
                         poisson_fill, pool_rates, rms_distances)
from .labels import cluster_labels
from .layout import ImageLayout
from .modules import Discriminator, Generator
from .scaling import Scaler, library_sizes
from .training import CellData, TrainingConfig, train_gan
from .tuning import LabelGroup, tune_knn, validation_mask

logger = logging.getLogger("scmaskgan")

__all__ = ["SCMaskGAN"]

_FORMAT = "scmaskgan-model"
_FORMAT_VERSION = 1

#: Presets of the imputation step. "paper" is the paper's method; "default" is the mode that
#: measured best on both held-out protocols of ../shared/BENCHMARK.md (benchmarks/ablation.py).
MODES: dict[str, dict[str, Any]] = {
    "default": {"pool": "real", "metric": "pca", "fill": "poisson", "alpha": 0.5, "k": 30, "k_sigma": 1.0,
                "tune": False},
    "paper": {"pool": "generated", "metric": "observed", "fill": "mean", "alpha": 1.0, "k": 10, "k_sigma": 1.0,
              "tune": True},
}


def available_memory(meminfo: str | Path = "/proc/meminfo", cgroup: str | Path = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory that new allocations can take without swapping: Linux ``MemAvailable``,
    or less where a container's memory limit (cgroup v2) leaves less; ``None`` where the system
    does not say."""
    found = []
    try:
        with open(meminfo) as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = (Path(cgroup) / "memory.max").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int((Path(cgroup) / "memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def check_dense_output(n_cells: int, n_genes: int, dtype: np.dtype) -> None:
    """Refuse, before any work, a dense imputed matrix larger than the memory available.

    The imputed matrix is dense (every zero may get a value); where it cannot fit, the
    message names the ways that write it to disk block by block instead.
    """
    need = int(n_cells) * int(n_genes) * np.dtype(dtype).itemsize
    available = available_memory()
    if available is not None and need > available:
        raise InputError(
            f"the imputed matrix would take {need / 2**30:.1f} GiB in memory ({n_cells:,} cells x {n_genes:,} "
            f"genes, dense {np.dtype(dtype).name}) and {available / 2**30:.1f} GiB are available. Write it to "
            "disk block by block instead: scmaskgan.pp.impute(adata, ..., out_file='imputed.h5ad'), "
            "SCMaskGAN.iter_imputed(), or the command line (scmaskgan impute in.h5ad -o out.h5ad).")


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device='cuda' was asked for but torch sees no CUDA device; use device='auto' or 'cpu'.")
    return torch.device(device)


class SCMaskGAN:
    """scMASKGAN imputation model for one AnnData.

    Parameters
    ----------
    adata
        Cells x genes. Raw counts in ``X`` or in ``layers[layer]`` (dense or sparse).
    labels_key
        ``obs`` column with cell types that condition the generator. ``None``
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
        Default epoch limit of :meth:`train`; ``None`` picks one from the data size.
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
    """

    def __init__(self, adata, *, labels_key: str | None = None, layer: str | None = None, normalized: bool = False,
                 latent_dim: int = 64, base_channels: int = 64, head_channels: int = 8, gene_channels: int = 8,
                 batch_size: int | None = None, lr: float = 2e-4, max_epochs: int | None = None,
                 patience: int = 20, n_candidates: int = 512, k: int | None = None, k_sigma: float | None = None,
                 tau: float | None = None, mode: str = "default", pool: str | None = None, metric: str | None = None,
                 fill: str | None = None, alpha: float | None = None, max_real: int = 5000, tune: bool | None = None,
                 n_trials: int = 40, tune_candidates: bool = False, attention: bool = True, residual: bool = True,
                 conditional: bool = True, mixed_precision: bool = False,
                 leiden_resolution: float = 1.0, chunk_size: int = 2048, seed: int = 0, device: str = "auto",
                 progress: bool = True):
        self.params = dict(
            labels_key=check_param("labels_key", labels_key, str, allow_none=True),
            layer=check_param("layer", layer, str, allow_none=True),
            normalized=check_param("normalized", normalized, bool),
            latent_dim=check_param("latent_dim", latent_dim, int, low=1, high=4096),
            base_channels=check_param("base_channels", base_channels, int, low=4, high=1024),
            head_channels=check_param("head_channels", head_channels, int, low=1, high=256),
            gene_channels=check_param("gene_channels", gene_channels, int, low=1, high=256),
            batch_size=check_param("batch_size", batch_size, int, low=2, allow_none=True),
            lr=check_param("lr", lr, float, low=0, high=1, low_inclusive=False),
            max_epochs=check_param("max_epochs", max_epochs, int, low=1, allow_none=True),
            patience=check_param("patience", patience, int, low=1),
            n_candidates=check_param("n_candidates", n_candidates, int, low=2),
            k=check_param("k", k, int, low=1, allow_none=True),
            k_sigma=check_param("k_sigma", k_sigma, float, allow_none=True),
            tau=check_param("tau", tau, float, low=0, high=1, allow_none=True),
            mode=check_param("mode", mode, str, choices=tuple(MODES)),
            pool=check_param("pool", pool, str, choices=("generated", "real", "both"), allow_none=True),
            metric=check_param("metric", metric, str, choices=("observed", "pca"), allow_none=True),
            fill=check_param("fill", fill, str, choices=("mean", "poisson"), allow_none=True),
            alpha=check_param("alpha", alpha, float, low=0, high=1, allow_none=True),
            max_real=check_param("max_real", max_real, int, low=1),
            tune=check_param("tune", tune, bool, allow_none=True),
            n_trials=check_param("n_trials", n_trials, int, low=1),
            tune_candidates=check_param("tune_candidates", tune_candidates, bool),
            attention=check_param("attention", attention, bool),
            residual=check_param("residual", residual, bool),
            conditional=check_param("conditional", conditional, bool),
            mixed_precision=check_param("mixed_precision", mixed_precision, bool),
            leiden_resolution=check_param("leiden_resolution", leiden_resolution, float, low=0, low_inclusive=False),
            chunk_size=check_param("chunk_size", chunk_size, int, low=1),
            seed=check_param("seed", seed, int, low=0),
            device=check_param("device", device, str, choices=("auto", "cpu", "cuda")),
            progress=check_param("progress", progress, bool),
        )
        for name, value in MODES[mode].items():  # the mode's preset for every setting left unset
            if self.params[name] is None:
                self.params[name] = value
        self.params["alpha"] = float(self.params["alpha"])
        self.params["k_sigma"] = float(self.params["k_sigma"])
        k = self.params["k"]
        if self.params["fill"] == "poisson" and normalized:
            if fill is not None:
                raise InputError("fill='poisson' needs raw counts; use fill='mean' with normalized=True.")
            self.params["fill"] = "mean"
        if self.params["pool"] != "real" and k > n_candidates:
            raise InputError(f"k ({k}) must not exceed n_candidates ({n_candidates}).")
        self.device = resolve_device(device)
        self._setup(adata)
        self.history_: pd.DataFrame = pd.DataFrame(columns=["epoch", "loss_d", "loss_g", "convergence", "seconds", "best"])
        self.tuning_: dict | None = None
        self.is_trained_ = False
        self.timings_: dict[str, float] = {}
        self._build_networks()

    # ------------------------------------------------------------------ setup
    def _counts(self, adata) -> Any:
        layer = self.params["layer"]
        if layer is not None and layer not in adata.layers:
            raise InputError(f"layer {layer!r} is not in adata.layers (available: {list(adata.layers)}).")
        return adata.X if layer is None else adata.layers[layer]

    def _setup(self, adata) -> None:
        p = self.params
        self._input = self._counts(adata)  # a reference: observed values are copied from it unchanged
        X = check_counts(self._input, normalized=p["normalized"],
                         what=f"adata.{'X' if p['layer'] is None else 'layers[' + repr(p['layer']) + ']'}")
        n_cells, n_genes = X.shape
        batch_size = p["batch_size"] if p["batch_size"] is not None else min(64, n_cells)
        if batch_size > n_cells:
            raise InputError(f"batch_size ({batch_size}) is larger than the number of cells ({n_cells}); "
                             "lower batch_size or leave it unset.")
        if n_cells < 2:
            raise InputError("at least two cells are needed.")
        self.batch_size = batch_size
        nonzero_per_gene = np.asarray((X != 0).sum(axis=0)).ravel()
        self.genes_used_ = np.flatnonzero(nonzero_per_gene > 0)
        if self.genes_used_.size == 0:
            raise InputError("every value of the input is zero; there is nothing to learn from.")
        lib = library_sizes(X)
        self.empty_cells_ = np.flatnonzero(lib == 0)
        if self.empty_cells_.size:
            logger.warning("%d cell(s) have no counts at all; they are left as zeros.", self.empty_cells_.size)
        if self.genes_used_.size < n_genes:
            logger.info("%d gene(s) are zero in every cell; they are left as zeros and not modelled.",
                        n_genes - self.genes_used_.size)
        if p["labels_key"] is not None:
            if p["labels_key"] not in adata.obs:
                raise InputError(f"labels_key {p['labels_key']!r} is not a column of adata.obs "
                                 f"(columns: {list(adata.obs.columns)}).")
            codes, categories = check_labels(adata.obs[p["labels_key"]].to_numpy(), n_cells,
                                             what=f"adata.obs[{p['labels_key']!r}]")
            self.labels_info_ = {"method": "obs", "key": p["labels_key"]}
        else:
            codes, categories, self.labels_info_ = cluster_labels(
                X, normalized=p["normalized"], seed=p["seed"], resolution=p["leiden_resolution"])
        Xu = X[:, self.genes_used_]
        self.scaler = Scaler.fit(Xu, normalized=p["normalized"])
        self.layout = ImageLayout(self.genes_used_.size)
        self.categories_ = categories
        self.var_names_ = np.asarray(adata.var_names, dtype=str)
        self.obs_names_ = np.asarray(adata.obs_names, dtype=str)
        self.data = CellData(Xu, lib, codes, len(categories), self.scaler, self.layout)
        self.n_cells, self.n_genes = n_cells, n_genes
        # float32 holds every integer count up to 2**24 exactly; wider input keeps float64.
        wide = np.dtype(self._input.dtype) == np.float64 or (
            not p["normalized"] and (X.data if sp.issparse(X) else X).max(initial=0) > 2**24)
        self.output_dtype_ = np.dtype(np.float64 if wide else np.float32)

    def _build_networks(self) -> None:
        p = self.params
        torch.manual_seed(p["seed"])
        n_labels = self._network_labels()
        self.generator = Generator(n_labels, self.layout.side, latent_dim=p["latent_dim"],
                                   base_channels=p["base_channels"], head_channels=p["head_channels"],
                                   gene_channels=p["gene_channels"], attention=p["attention"], residual=p["residual"])
        self.discriminator = Discriminator(n_labels, self.layout.side, attention=p["attention"], residual=p["residual"])
        self.generator.init_output_bias(self._label_means())

    def _network_labels(self) -> int:
        """Labels the networks are conditioned on: every label, or one when ``conditional`` is off."""
        return len(self.categories_) if self.params["conditional"] else 1

    def _training_data(self) -> CellData:
        """The cells with the codes the networks see (all 0 without label conditioning)."""
        if self.params["conditional"]:
            return self.data
        d = self.data
        return CellData(d.X, d.lib, np.zeros_like(d.codes), 1, d.scaler, d.layout)

    def _label_means(self, max_cells: int = 4096) -> torch.Tensor:
        """Mean scaled value of each gene pixel per label (n_labels x N*N), from up to max_cells cells per label."""
        rng = np.random.default_rng(self.params["seed"])
        codes = self._training_data().codes
        means = torch.zeros(self._network_labels(), self.layout.n_pixels)
        for label in range(self._network_labels()):
            rows = np.flatnonzero(codes == label)
            if rows.size > max_cells:
                rows = np.sort(rng.choice(rows, max_cells, replace=False))
            means[label, : self.layout.n_genes] = torch.from_numpy(self.data.values(rows).mean(0))
        return means

    @property
    def uses_generator(self) -> bool:
        """Whether imputation draws on generated candidates (``pool`` "generated" or "both"), so that
        :meth:`train` must run first. The default mode's real-cell pool needs no training."""
        return self.params["pool"] != "real"

    @property
    def labels_(self) -> pd.Categorical:
        """Label of each cell used to condition the generator."""
        return pd.Categorical.from_codes(self.data.codes, categories=self.categories_)

    def n_parameters(self) -> dict[str, int]:
        """Trainable parameter counts of the generator and the discriminator."""
        return {name: sum(t.numel() for t in net.parameters())
                for name, net in (("generator", self.generator), ("discriminator", self.discriminator))}

    def default_max_epochs(self) -> int:
        """Epoch limit from the data size: about 35 million cell-pixel passes, between 10 and 300 epochs.

        Training cost grows with cells x image pixels, so this keeps the default
        run's cost roughly constant (60 epochs for 274 cells x 2,000 genes).
        """
        return int(np.clip(round(3.5e7 / (self.n_cells * self.layout.n_pixels)), 10, 300))

    # ----------------------------------------------------------------- train
    def train(self, max_epochs: int | None = None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> "SCMaskGAN":
        """Train the generator and discriminator adversarially.

        Parameters
        ----------
        max_epochs
            Epoch limit; training may stop earlier when the convergence measure stalls.
        accelerator
            ``"auto"``, ``"cpu"`` or ``"cuda"``; ``None`` keeps the model's device.
        checkpoint_dir
            Folder to write the best weights to while training.

        Notes
        -----
        Inside a ``torch.distributed`` process group (a script launched by ``torchrun`` that
        called :func:`scmaskgan.distributed.init`) training is data-parallel across the processes.
        """
        p = self.params
        if accelerator is not None:
            check_param("accelerator", accelerator, str, choices=("auto", "cpu", "cuda"))
            self.device = resolve_device(accelerator)
        epochs = max_epochs if max_epochs is not None else (p["max_epochs"] or self.default_max_epochs())
        check_param("max_epochs", epochs, int, low=1)
        config = TrainingConfig(max_epochs=epochs, min_epochs=min(epochs, max(10, p["patience"])),
                                batch_size=self.batch_size, lr_g=p["lr"], lr_d=p["lr"], patience=p["patience"],
                                checkpoint_dir=str(checkpoint_dir) if checkpoint_dir else None, progress=p["progress"],
                                mixed_precision=p["mixed_precision"])
        from .distributed import local_device

        self.device = local_device(self.device)  # cuda:LOCAL_RANK under torchrun
        t0 = time.perf_counter()
        rows = train_gan(self.generator, self.discriminator, self._training_data(), config, device=self.device,
                         seed=p["seed"])
        self.timings_["train_s"] = time.perf_counter() - t0
        history = pd.DataFrame(rows)
        if self.is_trained_ and len(self.history_):
            history["epoch"] += int(self.history_["epoch"].max())
            history = pd.concat([self.history_, history], ignore_index=True)
        self.history_ = history
        self.is_trained_ = True
        return self

    # ---------------------------------------------------------------- impute
    def _candidates(self) -> dict[int, Any]:
        p = self.params
        out = {}
        for label in range(len(self.categories_)):
            net_label = label if p["conditional"] else 0
            raw = generate_candidates(self.generator, self.layout, net_label, self._network_labels(),
                                      p["n_candidates"], device=self.device, seed=p["seed"])
            out[label] = filter_outliers(raw, tau=p["tau"], min_keep=min(p["k"], p["n_candidates"]), seed=p["seed"])
        return out

    def _pool_members(self, cand_sets: dict, rng: np.random.Generator) -> dict[int, np.ndarray]:
        """Per label: the pool's members, generated candidates first (-1), then real cells (their index)."""
        p = self.params
        pools = {}
        for label in range(len(self.categories_)):
            members = []
            if p["pool"] in ("generated", "both"):
                members.append(np.full(cand_sets[label].values.shape[0], -1))
            if p["pool"] in ("real", "both"):
                rows = np.flatnonzero((self.data.codes == label) & (self.data.lib > 0))
                if rows.size > p["max_real"]:
                    rows = np.sort(rng.choice(rows, p["max_real"], replace=False))
                members.append(rows)
            pools[label] = np.concatenate(members)
        return pools

    def _pool_values(self, members: np.ndarray, candidates: np.ndarray | None, embedding, *,
                     keep_values: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
        """[0, 1] values (``None`` unless ``keep_values``) and embedding (``None`` without one) of a pool's
        members, real cells read a few thousand at a time."""
        values, embedded = [], []
        if candidates is not None and (members < 0).any():
            values.append(candidates)
            if embedding is not None:
                embedded.append(embedding.transform(candidates))
        real = members[members >= 0]
        for i in range(0, real.size, 4096):
            v = self.data.values(real[i:i + 4096])
            if keep_values:
                values.append(v)
            if embedding is not None:
                embedded.append(embedding.transform(v))
        n_genes = self.genes_used_.size
        out_values = (np.vstack(values) if values else np.zeros((0, n_genes), np.float32)) if keep_values else None
        out_emb = None
        if embedding is not None:
            out_emb = np.vstack(embedded) if embedded else np.zeros((0, embedding.n_components_))
        return out_values, out_emb

    def _embedding(self, rng: np.random.Generator):
        """PCA of the scaled values (fitted on up to 10,000 cells) for metric='pca', else None."""
        if self.params["metric"] != "pca":
            return None
        from sklearn.decomposition import PCA

        rows = np.flatnonzero(self.data.lib > 0)
        if rows.size > 10_000:
            rows = np.sort(rng.choice(rows, 10_000, replace=False))
        values = self.data.values(rows)
        n_comps = int(max(1, min(30, values.shape[0] - 1, values.shape[1] - 1)))
        return PCA(n_components=n_comps, random_state=self.params["seed"]).fit(values)

    @staticmethod
    def _distances(values: np.ndarray, visible: np.ndarray, pool: np.ndarray, pool_emb: np.ndarray | None,
                   embedding, cells: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Cell-to-pool distances on visible genes (or in PCA space); a cell's distance to itself is inf."""
        if embedding is None:
            d = rms_distances(values, visible, pool)
        else:
            from scipy.spatial.distance import cdist

            d = cdist(embedding.transform(np.where(visible, values, 0.0)), pool_emb)
        if (members >= 0).any():
            pos = {cell: j for j, cell in enumerate(members) if cell >= 0}
            for i, cell in enumerate(cells):
                j = pos.get(int(cell))
                if j is not None:
                    d[i, j] = np.inf
        return d

    def _fill_rule(self):
        """``rule(weights, pool, lib, rates=None)`` -> fill values ([0, 1] scale) of cells with libraries ``lib``
        (``rates``: the pool's :func:`~scmaskgan.imputation.pool_rates`, used by the Poisson rule)."""
        p = self.params
        if p["fill"] == "poisson":
            return partial(poisson_fill, alpha=p["alpha"], max_value=self.scaler.max_value,
                           target_sum=self.scaler.target_sum)
        expressed_above = self._expressed_above()
        return lambda weights, pool, lib, rates=None: fill_values(weights, pool, alpha=p["alpha"],
                                                                  expressed_above=expressed_above)

    def _expressed_above(self) -> float:
        """Scaled value of half a count at the median library size: below it a pool value counts as 0."""
        if not self.scaler.log:
            return 0.0
        lib = float(np.median(self.data.lib[self.data.lib > 0]))
        return float(np.log1p(0.5 / lib * self.scaler.target_sum) / self.scaler.max_value)

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
        if self.uses_generator and not self.is_trained_:
            raise RuntimeError(f"pool={self.params['pool']!r} imputes from generated candidates and the model is "
                               "not trained yet; call train() first.")
        block_size = check_param("block_size", block_size, int, low=1, allow_none=True) or self.params["chunk_size"]
        state = self._prepare_imputation(self.params["tune"] if tune is None else tune)
        used = self.genes_used_
        with Progress(self.n_cells, desc="scmaskgan imputation", unit="cell", enabled=self.params["progress"]) as shown:
            for start in range(0, self.n_cells, block_size):
                block = self._impute_block(start, min(start + block_size, self.n_cells), state, used)
                shown.update(block.shape[0])
                yield start, start + block.shape[0], block

    def _impute_block(self, start: int, stop: int, state: dict, used: np.ndarray) -> np.ndarray:
        """Imputed rows ``start:stop`` (dense, observed values unchanged)."""
        block = np.zeros((stop - start, self.n_genes), dtype=self.output_dtype_)
        codes = self.data.codes[start:stop]
        for label in np.unique(codes):
            if label not in state["labels"]:
                continue  # an empty pool: left unimputed (warned about once)
            pool, members, pool_emb, theta, rates = state["labels"][label]
            local = np.flatnonzero(codes == label)
            # bound the cells x genes work arrays of the fill (about 2**24 values at a time)
            step = max(1, min(self.params["chunk_size"], 2**24 // max(self.genes_used_.size, 1)))
            for i in range(0, local.size, step):
                part = local[i:i + step]
                cells = start + part
                v = self.data.values(cells)
                observed = v > 0
                d = self._distances(v, observed, pool, pool_emb, state["embedding"], cells, members)
                w = sp.csr_matrix(neighbour_weights(d, state["k"], theta))  # k non-zeros per row
                fill = state["rule"](w, pool, self.data.lib[cells], rates=rates)
                out = np.where(observed, 0.0, self.scaler.inverse(fill, self.data.lib[cells]))
                out[self.data.lib[cells] == 0] = 0.0
                block[np.ix_(part, used)] = out
        self._restore_observed(block, start, stop)
        return block

    def _prepare_imputation(self, tune: bool) -> dict:
        """Pools, embedding, tuned k / k_sigma and each label's theta; records ``imputation_``."""
        p = self.params
        rng = np.random.default_rng(p["seed"])
        cand_sets = self._candidates() if p["pool"] != "real" else {}
        members_of = self._pool_members(cand_sets, rng)
        embedding = self._embedding(rng)
        # PCA distances and the Poisson rule need only the pool's embeddings and rates: the dense values
        # of a real-cell pool are not kept then (tuning still scores fills from them)
        keep_values = tune or embedding is None or p["fill"] != "poisson" or p["pool"] != "real"
        pools, pool_embs = {}, {}
        for lab, members in members_of.items():
            pv, pool_embs[lab] = self._pool_values(members, cand_sets[lab].values if lab in cand_sets else None,
                                                   embedding, keep_values=keep_values)
            pools[lab] = (pv, members)
        n_gen = {lab: int((members < 0).sum()) for lab, members in members_of.items()}
        rule = self._fill_rule()
        k, k_sigma = p["k"], p["k_sigma"]
        n_cand = min(n_gen.values())
        if tune:
            rows = np.sort(rng.choice(self.n_cells, size=min(2000, self.n_cells), replace=False))
            rows = rows[self.data.lib[rows] > 0]
            values = self.data.values(rows)
            hidden = validation_mask(values, 0.1, p["seed"])
            visible = (values > 0) & ~hidden
            groups = []
            for lab, (pv, members) in pools.items():
                sel = np.flatnonzero(self.data.codes[rows] == lab)
                if sel.size and members.size:
                    d = self._distances(values[sel], visible[sel], pv, pool_embs[lab], embedding, rows[sel], members)
                    groups.append(LabelGroup(sel, d, pv, n_gen[lab]))
            scored = np.zeros(len(rows), bool)  # tuning cells whose label has a pool
            scored[np.concatenate([g.rows for g in groups])] = True
            result = tune_knn(values, hidden & scored[:, None],
                              groups, defaults={"k": k, "k_sigma": k_sigma}, n_trials=p["n_trials"],
                              tune_candidates=p["tune_candidates"],
                              fill=lambda w, pool, sel, tuned=rows: rule(w, pool, self.data.lib[tuned[sel]]),
                              seed=p["seed"])
            k, k_sigma, n_cand = result.params["k"], result.params["k_sigma"], result.params["n_candidates"]
            self.tuning_ = {"k": int(k), "k_sigma": float(k_sigma), "n_candidates": int(n_cand),
                            "validation_mse": result.mse, "default_mse": result.default_mse,
                            "n_validation": result.n_validation, "trials": result.trials}
        self.imputation_ = {"k": int(k), "k_sigma": float(k_sigma), "n_candidates": int(n_cand), "pool": p["pool"],
                            "metric": p["metric"], "fill": p["fill"], "alpha": p["alpha"],
                            "mode": p["mode"], "labels": {}}
        labels = {}
        for label, (pv, members) in pools.items():
            cols = np.r_[0:n_cand, n_gen[label]:members.size]
            members, pool_emb = members[cols], None if pool_embs[label] is None else pool_embs[label][cols]
            pool = None if pv is None else pv[cols]
            rows = np.flatnonzero(self.data.codes == label)
            if members.size == 0:
                logger.warning("label %r has no cell with counts to draw neighbours from; its cells are not imputed",
                               self.categories_[label])
                continue
            sample = rows if rows.size <= 2000 else np.sort(rng.choice(rows, 2000, replace=False))
            v = self.data.values(sample)
            theta = distance_threshold(self._distances(v, v > 0, pool, pool_emb, embedding, sample, members), k_sigma)
            info = {"n_cells": int(rows.size), "theta": theta, "pool_size": int(members.size)}
            if label in cand_sets:
                cset = cand_sets[label]
                info |= {"n_generated": cset.n_generated, "n_outliers": int(cset.n_generated - cset.values.shape[0]),
                         "tau": cset.threshold}
            self.imputation_["labels"][str(self.categories_[label])] = info
            rates = self._pool_rates(pool, members) if p["fill"] == "poisson" else None
            if rates is not None and embedding is not None:
                pool = None  # PCA distances and the Poisson rule need only embeddings and rates
            labels[label] = (pool, members, pool_emb, theta, rates)
        return {"labels": labels, "embedding": embedding, "rule": rule, "k": k}

    def _pool_rates(self, pool: np.ndarray, members: np.ndarray) -> sp.csr_matrix:
        """Expression fractions of the pool as a sparse matrix: a real cell's are exactly its
        counts over its library (sparse when the input is); a generated candidate's come
        from its [0, 1] values."""
        real = members >= 0
        parts = []
        if (~real).any():
            parts.append(sp.csr_matrix(pool_rates(pool[~real], max_value=self.scaler.max_value,
                                                  target_sum=self.scaler.target_sum)))
        if real.any():  # raw counts here: the Poisson rule is refused for normalised input at construction
            rows = members[real]
            counts = sp.csr_matrix(self.data.X[rows], dtype=np.float32)
            parts.append(sp.diags((1.0 / self.data.lib[rows]).astype(np.float32)) @ counts)
        return sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0].tocsr()

    def _restore_observed(self, block: np.ndarray, start: int, stop: int) -> None:
        """Copy every observed input value of rows ``start:stop`` back into ``block`` exactly (equation 6)."""
        X = self._input[start:stop]
        if sp.issparse(X):
            coo = sp.coo_matrix(X)
            keep = coo.data != 0
            block[coo.row[keep], coo.col[keep]] = coo.data[keep]
        else:
            X = np.asarray(X)
            nz = X != 0
            block[nz] = X[nz]

    # ------------------------------------------------------------- save/load
    def _config(self) -> dict:
        return {
            "format": _FORMAT, "format_version": _FORMAT_VERSION,
            "params": self.params, "var_names": self.var_names_.tolist(), "genes_used": self.genes_used_.tolist(),
            "categories": [str(c) for c in self.categories_], "labels_info": self.labels_info_,
            "scaler": self.scaler.to_dict(), "batch_size": self.batch_size, "tuning": self.tuning_,
            "is_trained": self.is_trained_,
        }

    def save(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write ``config.json``, ``weights.pt`` (tensors only), ``history.csv`` and ``labels.csv``."""
        directory = Path(directory)
        if directory.exists() and any(directory.iterdir()) and not overwrite:
            raise FileExistsError(f"{directory} exists and is not empty; pass overwrite=True to replace it.")
        directory.mkdir(parents=True, exist_ok=True)
        tuning = dict(self.tuning_ or {})
        tuning.pop("trials", None)
        config = self._config() | {"tuning": tuning or None}
        torch.save({"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict()},
                   directory / "weights.pt")
        self.history_.to_csv(directory / "history.csv", index=False)
        pd.DataFrame({"cell": self.obs_names_, "label": np.asarray(self.labels_.astype(str))}).to_csv(
            directory / "labels.csv", index=False)
        (directory / "config.json").write_text(json.dumps(config, indent=1, default=_json_default))
        return directory

    @classmethod
    def load(cls, directory: str | Path, adata, *, device: str = "auto") -> "SCMaskGAN":
        """Load a model saved by :meth:`save` for ``adata`` (same genes, in the same order).

        Labels come from ``adata.obs[labels_key]`` when the model was trained
        with a labels key, else from the saved ``labels.csv`` (matched by cell name).
        Weights are read with ``torch.load(weights_only=True)``: no arbitrary
        objects are unpickled.
        """
        directory = Path(directory)
        config_path = directory / "config.json"
        if not config_path.is_file():
            raise InputError(f"{directory} holds no config.json; it is not a saved scmaskgan model.")
        try:
            config = json.loads(config_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise InputError(f"{config_path} is not valid JSON ({err}); the saved model is corrupt.") from None
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            raise InputError(f"{config_path} is not a scmaskgan model configuration.")
        if config.get("format_version") != _FORMAT_VERSION:
            raise InputError(f"{directory} was saved in format version {config.get('format_version')}; "
                             f"this scmaskgan reads version {_FORMAT_VERSION}.")
        var_names = np.asarray(adata.var_names, dtype=str)
        if var_names.tolist() != config["var_names"]:
            raise InputError(f"the genes of adata ({len(var_names)}) differ from the model's "
                             f"({len(config['var_names'])}) or are in another order.")
        params = dict(config["params"]) | {"device": device}
        labels_key = params["labels_key"]
        if labels_key is None:
            saved = pd.read_csv(directory / "labels.csv", dtype=str).set_index("cell")["label"]
            missing = ~pd.Index(np.asarray(adata.obs_names, dtype=str)).isin(saved.index)
            if missing.any():
                raise InputError(f"{int(missing.sum())} cell(s) of adata have no label in {directory / 'labels.csv'}; "
                                 "the model was trained with automatic labels, which exist only for its own cells.")
            adata = adata.copy()
            labels_key = "_scmaskgan_labels"
            adata.obs[labels_key] = pd.Categorical(saved.loc[np.asarray(adata.obs_names, dtype=str)].to_numpy(),
                                                   categories=config["categories"])
            params["labels_key"] = labels_key
        model = cls(adata, **params)
        if [str(c) for c in model.categories_] != config["categories"]:
            raise InputError(f"the labels of adata.obs[{labels_key!r}] ({list(model.categories_)}) differ from "
                             f"the model's ({config['categories']}).")
        model.params["labels_key"] = config["params"]["labels_key"]
        model.labels_info_ = config["labels_info"]
        model.scaler = Scaler(**config["scaler"])
        model.data.scaler = model.scaler
        try:
            state = torch.load(directory / "weights.pt", map_location="cpu", weights_only=True)
            model.generator.load_state_dict(state["generator"])
            model.discriminator.load_state_dict(state["discriminator"])
        except FileNotFoundError:
            raise InputError(f"{directory / 'weights.pt'} is missing; the saved model is incomplete.") from None
        except Exception as err:  # corrupt file, foreign pickle, wrong shapes
            raise InputError(f"{directory / 'weights.pt'} cannot be loaded as this model's weights: {err}") from None
        model.generator.to(model.device).eval()
        model.discriminator.to(model.device).eval()
        history = directory / "history.csv"
        if history.is_file():
            model.history_ = pd.read_csv(history)
        model.tuning_ = config.get("tuning")
        model.is_trained_ = bool(config.get("is_trained", True))
        return model


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
