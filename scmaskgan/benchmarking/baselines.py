"""Baseline imputation methods behind one interface: counts in, counts out.

>>> from scmaskgan.benchmarking import baselines
>>> baselines.available()  # doctest: +SKIP
['alra', 'dca', 'deepimpute', 'knn_average', 'knn_smoothing', 'magic', 'none', 'scmaskgan', 'scvi']
>>> imputed = baselines.run("alra", counts, seed=0)  # doctest: +SKIP

Every method takes a cells x genes count matrix (dense or ``scipy.sparse``) and returns a
dense ``float64`` matrix of the same shape on the count scale of the input (each cell keeps
its own library size), so that the held-out protocols of :mod:`scmaskgan.evaluation` can
score it directly. The settings of each method are stated in its function's docstring; they
are the settings with which the anchors of protocols A and B were measured (each function states
its anchor's numbers), and with them ``none``, ``magic``, ``alra``, ``knn_average`` and
``knn_smoothing`` reproduce those numbers.

Cells whose library size is 0 are returned as zeros by every method except ``none``,
``scvi``, ``deepimpute`` and ``scmaskgan``, which decide for themselves.

``dca`` and ``deepimpute`` need TensorFlow 2.4 and Python 3.8: they run in their own environment
(``make peers`` creates ``.venv-peers/``; ``$SCMASKGAN_PEERS_PYTHON`` can name another
interpreter), through ``scmaskgan/benchmarking/peers_runner.py`` in a subprocess
(:mod:`scmaskgan.benchmarking.peers`). The registry itself is :mod:`scmaskgan.benchmarking.registry`.
"""

from __future__ import annotations

import logging
import warnings
from math import ceil, log2
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..scaling import log_normalize
from .peers import PEERS_PYTHON_VARIABLE, PeersBaseline, peers_python, peers_versions
from .registry import BASELINES, Baseline, BaselineNotAvailableError

logger = logging.getLogger("scmaskgan")

__all__ = ["BASELINES", "PEERS_PYTHON_VARIABLE", "Baseline", "BaselineNotAvailableError", "PeersBaseline",
           "available", "get", "peers_python", "peers_versions", "run"]

_register = BASELINES.register


def available() -> list[str]:
    """Names of all registered baselines (installed or not), sorted.

    Returns
    -------
    list of str
        The names that :func:`get` and :func:`run` accept.
    """
    return BASELINES.names()


def get(name: str) -> Baseline:
    """The registered baseline called ``name``.

    Parameters
    ----------
    name
        A name from :func:`available`.

    Returns
    -------
    Baseline
        The method's registry entry.

    Raises
    ------
    ValueError
        When no baseline has that name.
    """
    return BASELINES.lookup(name)


def _as_counts(counts: Any) -> np.ndarray:
    """Dense float64 copy of a cells x genes count matrix, checked."""
    if sp.issparse(counts):
        x = counts.toarray()
    else:
        x = np.asarray(counts)
    if x.ndim != 2:
        raise ValueError(f"counts must be a 2-D cells x genes matrix, got shape {x.shape}")
    if x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"counts need at least 2 cells and 1 gene, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise ValueError(f"counts must be real numbers, got dtype {x.dtype}")
    x = np.array(x, dtype=np.float64, copy=True)
    if not np.isfinite(x).all():
        raise ValueError("counts contain NaN or infinite values")
    if (x < 0).any():
        raise ValueError("counts contain negative values")
    return x


def run(name: str, counts: Any, *, labels: Any = None, seed: int = 0, **options: Any) -> np.ndarray:
    """Impute ``counts`` with the baseline ``name``.

    Parameters
    ----------
    name
        A name from :func:`available`.
    counts
        Cells x genes counts, dense or sparse, non-negative and finite.
    labels
        One label per cell; only ``scmaskgan`` uses them (``None``: automatic labels).
    seed
        Seed of every random step of the method.
    **options
        Method-specific settings that override the documented defaults (for example
        ``k`` of ``knn_average`` or ``max_epochs`` of ``scmaskgan``).

    Returns
    -------
    numpy.ndarray
        Dense ``float64`` cells x genes matrix on the count scale of the input.

    Raises
    ------
    ValueError
        Unknown name, malformed counts, or labels of the wrong length.
    BaselineNotAvailableError
        The method's optional package is not installed.
    """
    method = get(name)
    method.check_available()
    x = _as_counts(counts)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ValueError(f"labels must have one entry per cell ({x.shape[0]}), got shape {labels.shape}")
    logger.debug("baseline %s on %d cells x %d genes (seed %d, options %s)", name, *x.shape, seed, options)
    out = np.asarray(method.func(x, labels=labels, seed=int(seed), **options), dtype=np.float64)
    if out.shape != x.shape:
        raise RuntimeError(f"baseline {name!r} returned shape {out.shape} for input {x.shape}")
    return out


# ---------------------------------------------------------------------------------------
# helpers


def _library(x: np.ndarray) -> np.ndarray:
    """Library size of each cell, as a column."""
    return x.sum(1, keepdims=True)


def _per_library(x: np.ndarray, lib: np.ndarray) -> np.ndarray:
    """Each cell divided by its library size (zeros for empty cells)."""
    return np.divide(x, lib, out=np.zeros_like(x), where=lib > 0)


# ---------------------------------------------------------------------------------------
# methods


@_register("none", "no imputation: the input counts unchanged")
def _none(x: np.ndarray, *, labels: Any = None, seed: int = 0) -> np.ndarray:
    """No imputation: returns the input counts unchanged."""
    return x


@_register(
    "magic",
    "MAGIC (magic-impute; knn 5, t auto, decay 1, n_pca 100, exact solver) on library-size "
    "normalised (median) square-rooted counts, squared and rescaled to each cell's library",
    requires="magic",
    install='pip install "scmaskgan[baselines]" (or pip install magic-impute)',
)
def _magic(x: np.ndarray, *, labels: Any = None, seed: int = 0, knn: int = 5, t: int | str = "auto",
           n_jobs: int = 1) -> np.ndarray:
    """MAGIC (van Dijk et al. 2018) with the ``magic-impute`` package.

    Preprocessing as in MAGIC's tutorial: each cell is scaled to the median library size
    (``scprep.normalize.library_size_normalize``'s default) and square-rooted; MAGIC then
    runs with ``knn=5``, ``t="auto"`` and its other defaults (``decay=1``, ``n_pca=100``,
    ``solver="exact"``) on all genes, with ``random_state=seed``. The output is clipped at 0,
    squared, divided by the median library size and multiplied by each cell's library size.

    This preprocessing reproduces the anchor measured with protocol A (sc_celseq2: RMSE 0.408, Pearson 0.519, Spearman 0.358, ARI 0.977; sc_dropseq 0.492,
    0.510, 0.348, 0.945) exactly; log1p instead of the square root gives RMSE 0.391 /
    Pearson 0.510 on sc_celseq2.
    """
    import magic

    lib = _library(x)
    scale = float(np.median(lib[lib > 0])) if (lib > 0).any() else 1.0
    data = np.sqrt(_per_library(x, lib) * scale)
    op = magic.MAGIC(knn=min(knn, x.shape[0] - 1), t=t, random_state=seed, n_jobs=n_jobs, verbose=0)
    with warnings.catch_warnings():
        # magic-impute 3.0 calls tasklogger methods that tasklogger 1.2 deprecates.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(magic|graphtools|tasklogger)")
        smoothed = np.asarray(op.fit_transform(data, genes="all_genes"), dtype=np.float64)
    return np.square(np.clip(smoothed, 0, None)) / scale * lib


def _randomized_svd(a: np.ndarray, k: int, n_iter: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.utils.extmath import randomized_svd

    return randomized_svd(a, k, n_oversamples=10, n_iter=n_iter, random_state=seed)


def alra_choose_k(a: np.ndarray, *, max_rank: int = 100, thresh: float = 6.0, noise_start: int = 80,
                  n_iter: int = 2, seed: int = 0) -> tuple[int, np.ndarray]:
    """ALRA's rank choice: the last large gap in the singular value spectrum.

    Computes the ``max_rank`` largest singular values (randomized SVD, ``n_iter`` power
    iterations), the gaps ``d[i] - d[i+1]``, and the mean and standard deviation of the gaps
    among the singular values ``noise_start..max_rank`` (1-based; taken as noise). The rank is
    the largest ``i`` whose gap lies more than ``thresh`` standard deviations above that mean.
    When the matrix is smaller than ``max_rank``, ``max_rank`` becomes its smaller dimension
    and ``noise_start`` keeps its share (80%) of it.

    Parameters
    ----------
    a
        Log-normalised cells x genes matrix.
    max_rank, thresh, noise_start, n_iter, seed
        ALRA's ``K``, ``thresh``, ``noise_start`` and ``q`` (defaults as in ALRA's code), and the
        seed of the randomized SVD.

    Returns
    -------
    k, n_sds
        The chosen rank (>= 1) and each gap's distance from the noise gaps in standard deviations.
    """
    k_max = min(max_rank, *a.shape)
    if k_max < max_rank:
        noise_start = max(2, int(round(noise_start / max_rank * k_max)))
    if k_max < 3 or noise_start > k_max - 1:
        raise ValueError(f"ALRA needs a matrix with at least 3 cells and genes, got {a.shape}")
    _, d, _ = _randomized_svd(a, k_max, n_iter, seed)
    diffs = d[:-1] - d[1:]
    noise = diffs[noise_start - 2:]  # gaps after the singular values noise_start..k_max (1-based)
    sd = noise.std(ddof=1)
    n_sds = (diffs - noise.mean()) / (sd if sd > 0 else 1.0)
    above = np.flatnonzero(n_sds > thresh)
    if above.size == 0:
        k = int(np.argmax(n_sds)) + 1
        logger.warning("ALRA: no singular value gap above %g noise SDs; using the largest gap, rank %d", thresh, k)
    else:
        k = int(above[-1]) + 1
    return k, n_sds


def _nonzero_mean_sd(m: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and sample SD of the entries in ``mask`` (NaN where undefined)."""
    n = mask.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, m, 0).sum(0) / n
        var = np.where(mask, (m - mean) ** 2, 0).sum(0) / (n - 1)
    mean = np.where(n > 0, mean, np.nan)
    sd = np.sqrt(np.where(n > 1, var, np.nan))
    return mean, sd


@_register(
    "alra",
    "ALRA (numpy reimplementation of Linderman et al. 2022): log1p CP10k, rank by ALRA's "
    "spectral-gap rule (K 100, 6 SDs, noise from 80), randomized SVD (10 power iterations), "
    "per-gene threshold at the 0.001 quantile's magnitude, non-zero mean/SD rescaling",
)
def _alra(x: np.ndarray, *, labels: Any = None, seed: int = 0, k: int | None = None,
          quantile_prob: float = 0.001, n_iter: int = 10) -> np.ndarray:
    """ALRA: adaptively-thresholded low-rank approximation (Linderman et al. 2022).

    Implemented in numpy from the paper and its reference R code:

    1. ``A = log1p(count / library * 1e4)``.
    2. Rank ``k`` by :func:`alra_choose_k` (unless given).
    3. Rank-``k`` reconstruction ``R`` from a randomized SVD (``n_iter=10`` power iterations,
       10 oversamples, ``random_state=seed``).
    4. Per gene, entries of ``R`` at or below ``|quantile(R[:, g], 0.001)|`` (the magnitude of
       about the most negative value, i.e. the symmetric noise around zero) are set to 0.
    5. Per gene, the remaining non-zero values are linearly rescaled so that their mean and
       SD match those of the gene's observed non-zero values in ``A``; values that become
       negative are set to 0.
    6. Entries that were observed (non-zero in ``A``) but were thresholded to 0 get their
       observed value back.

    The result is mapped back with ``expm1(value) / 1e4 * library``. On sc_celseq2 this
    reproduces the anchor measured with protocol A (RMSE 0.385, Pearson 0.385, Spearman 0.223,
    ARI 0.966; rank 10).
    """
    lib = _library(x)
    a = log_normalize(x, lib)
    if k is None:
        k, _ = alra_choose_k(a, seed=seed)
    if not 1 <= k <= min(a.shape):
        raise ValueError(f"ALRA rank k must be between 1 and {min(a.shape)}, got {k}")
    logger.info("ALRA: rank %d", k)
    u, d, vt = _randomized_svd(a, k, n_iter, seed)
    low_rank = (u * d) @ vt
    threshold = np.abs(np.quantile(low_rank, quantile_prob, axis=0))
    low_rank[low_rank <= threshold] = 0.0
    kept = low_rank != 0
    observed = a > 0
    mu_1, sd_1 = _nonzero_mean_sd(low_rank, kept)
    mu_2, sd_2 = _nonzero_mean_sd(a, observed)
    scale_ok = ~np.isnan(sd_1) & ~np.isnan(sd_2) & (sd_1 != 0)
    out = low_rank.copy()
    ratio = sd_2[scale_ok] / sd_1[scale_ok]
    out[:, scale_ok] = low_rank[:, scale_ok] * ratio + (mu_2[scale_ok] - mu_1[scale_ok] * ratio)
    out[~kept] = 0.0
    out[out < 0] = 0.0
    restore = observed & (out == 0)
    out[restore] = a[restore]
    return np.expm1(out) / 1e4 * lib


def _pca(a: np.ndarray, n_components: int, seed: int, solver: str = "full") -> np.ndarray:
    from sklearn.decomposition import PCA

    n = int(min(n_components, a.shape[0], a.shape[1]))
    return PCA(n_components=n, svd_solver=solver, random_state=seed).fit_transform(a)


@_register(
    "knn_average",
    "kNN average: PCA 30 (exact) of log1p CP10k, each cell replaced by the mean "
    "library-normalised profile of itself and its 15 nearest cells, times its library",
)
def _knn_average(x: np.ndarray, *, labels: Any = None, seed: int = 0, k: int = 15, n_pcs: int = 30) -> np.ndarray:
    """kNN average: every value replaced by the average of the cell's neighbourhood.

    ``log1p(count / library * 1e4)`` -> PCA with ``n_pcs`` components (exact SVD) ->
    the ``k`` nearest other cells by Euclidean distance plus the cell itself (``k + 1``
    cells) -> mean of their library-normalised profiles ``count / library`` -> times the
    cell's own library. Every value is replaced, observed ones included. These settings
    reproduce the anchor measured with protocol A (sc_celseq2: RMSE 0.338, Pearson 0.530,
    Spearman 0.359, ARI 0.977).
    """
    from sklearn.neighbors import NearestNeighbors

    if k < 1:
        raise ValueError(f"knn_average needs k >= 1, got {k}")
    k = min(k, x.shape[0] - 1)
    lib = _library(x)
    pcs = _pca(log_normalize(x, lib), n_pcs, seed)
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(pcs).kneighbors(pcs)
    return _per_library(x, lib)[neighbours].mean(1) * lib


@_register(
    "knn_smoothing",
    "kNN-smoothing v2.1 (Wagner et al.): k 15, d 10, dither 0.03, summed neighbour counts "
    "rescaled to each cell's library",
)
def _knn_smoothing(x: np.ndarray, *, labels: Any = None, seed: int = 0, k: int = 15, d: int = 10,
                   dither: float = 0.03) -> np.ndarray:
    """kNN-smoothing v2.1 (Wagner, Yan & Yanai 2018), step-wise aggregation of neighbours.

    In ``ceil(log2(k))`` steps with ``k_t = min(2**t, k)``: median-normalise the current
    smoothed matrix ``S`` (each cell scaled to the median library), Freeman-Tukey transform
    (``sqrt(x) + sqrt(x + 1)``), PCA with ``d`` components (randomized, ``random_state=seed``),
    add dither (uniform noise of ``dither`` times each component's range, from
    ``numpy.random.RandomState(seed)``), and set each cell of ``S`` to the sum of the raw
    counts of its ``k_t`` nearest cells (itself included) by Euclidean distance.
    The algorithm returns summed counts of ``k`` cells; here each smoothed cell is rescaled to
    its own input library, ``S / S.sum(1) * library``. This reproduces the anchor measured with
    protocol A (sc_celseq2: RMSE 0.343, Pearson 0.519, Spearman 0.356, ARI 1.000).
    """
    from sklearn.metrics import pairwise_distances

    n_cells, n_genes = x.shape
    if not 1 <= k <= n_cells:
        raise ValueError(f"knn_smoothing needs 1 <= k <= {n_cells} (cells), got {k}")
    if not 1 <= d <= min(n_genes, n_cells - 1):
        raise ValueError(f"knn_smoothing needs 1 <= d <= {min(n_genes, n_cells - 1)}, got {d}")
    rng = np.random.RandomState(seed)
    n_steps = 0 if k == 1 else ceil(log2(k))
    smoothed = x.copy()
    for step in range(1, n_steps + 1):
        k_step = min(2**step, k)
        totals = _library(smoothed)
        normalised = _per_library(smoothed, totals) * np.median(totals)
        scores = _pca(np.sqrt(normalised) + np.sqrt(normalised + 1), d, seed, solver="randomized")
        if dither > 0:
            for j in range(scores.shape[1]):
                scores[:, j] += (rng.rand(n_cells) - 0.5) * np.ptp(scores[:, j]) * dither
        order = np.argsort(pairwise_distances(scores, metric="euclidean"), axis=1, kind="mergesort")
        smoothed = x[order[:, :k_step]].sum(1)
    return _per_library(smoothed, _library(smoothed)) * _library(x)


@_register(
    "scvi",
    "scVI (scvi-tools, optional): default SCVI model, 400 epochs on CPU, normalised "
    "expression (library size 1) times each cell's library",
    requires="scvi",
    install="pip install scvi-tools (not a dependency of scmaskgan)",
)
def _scvi(x: np.ndarray, *, labels: Any = None, seed: int = 0, max_epochs: int = 400,
          accelerator: str = "cpu") -> np.ndarray:
    """scVI (Lopez et al. 2018), only when ``scvi-tools`` is installed.

    ``scvi.model.SCVI`` with its defaults (10 latent dimensions, ZINB likelihood) trained for
    ``max_epochs`` (400, the anchor's setting) on ``accelerator`` (CPU), seed set with
    ``scvi.settings.seed``; the output is ``get_normalized_expression(library_size=1)`` times
    each cell's library. Labels are not used.
    """
    import anndata as ad
    import scvi

    scvi.settings.seed = seed
    adata = ad.AnnData(x.astype(np.float32))
    scvi.model.SCVI.setup_anndata(adata)
    model = scvi.model.SCVI(adata)
    model.train(max_epochs=max_epochs, accelerator=accelerator)
    rate = np.asarray(model.get_normalized_expression(adata, library_size=1, return_numpy=True), dtype=np.float64)
    return rate * _library(x)


@_register(
    "scmaskgan",
    "scMASKGAN (scmaskgan.pp.impute, default settings): with the given labels, or Leiden "
    "clusters when none are given",
)
def _scmaskgan(x: np.ndarray, *, labels: Any = None, seed: int = 0, **options: Any) -> np.ndarray:
    """scmaskgan through :func:`scmaskgan.pp.impute`, by default the count model.

    ``labels`` condition the network (the count model, the paper's GAN) or make the neighbour fill's
    pools; without them the count model uses none and the other methods cluster the cells first
    (Leiden on log-normalised PCA). ``options`` go to :func:`scmaskgan.pp.impute`
    (for example ``mode``, ``max_epochs``), except ``layer``: which answer of the count model
    to return, ``"mean"`` (default) or ``"if_detected"``. Observed values
    are returned unchanged. ``n_threads`` defaults to ``None`` here: the run takes the thread limit
    its process was given (the benchmark's ``--threads``, through ``OMP_NUM_THREADS`` and its kin), as
    every other method does.
    """
    import anndata as ad
    import pandas as pd

    from .. import pp

    adata = ad.AnnData(x.astype(np.float32))
    key = None
    if labels is not None:
        key = "label"
        adata.obs[key] = pd.Categorical(np.asarray(labels).astype(str))
    layer = options.pop("layer", "mean")
    options.setdefault("progress", False)
    options.setdefault("n_threads", None)  # the process's thread limit, as for the other methods
    pp.impute(adata, labels_key=key, seed=seed, **options)
    return np.asarray(adata.layers[pp.answer_layer_names("scmaskgan")[layer]], dtype=np.float64)
