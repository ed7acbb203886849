"""Scores of an imputation: the paper's metrics and metrics with a known truth.

All matrices are cells x genes, dense or scipy sparse. Functions that compare an
imputed matrix with the original one apply the same ``transform`` to both:

``"log1p_cp10k"``
    ``log1p(x / cell_total * 1e4)``, each matrix normalised by its own cell totals
    (as protocol B does, so that the output's scale does not matter).
``"cp10k"``
    ``x / cell_total * 1e4``.
``"none"``
    The values as given.

Negative values are clipped to 0 before normalising; cells with a total of 0 stay 0.

**The paper's metrics** compare the imputed data with the original (observed) data; they
reward changing nothing, so read them beside the metrics with a known truth:

- :func:`coefficient_of_variation` / :func:`cv_summary`: per-gene CV (std / mean over cells).
- :func:`zscores` / :func:`zscore_summary`: per-gene z-scores and the shape of their pooled
  distribution (skewness, kurtosis, share beyond +-3).
- :func:`js_distance`, :func:`wasserstein`, :func:`distribution_distances`: per gene, the
  distance between the original and the imputed distribution of the gene's values over cells.
- :func:`pearson_with_original`: over all entries, and per cell.
- :func:`~scmaskgan.evaluation.structure.cluster` (Leiden) and
  :func:`~scmaskgan.evaluation.structure.clustering_agreement` (ACC, AUC, F1, ARI, NMI) live in
  :mod:`scmaskgan.evaluation.structure` (with the embeddings) and are importable from here too.

**Known truth**:

- the held-out protocols A and B, re-exported from :mod:`scmaskgan.evaluation.protocols`
  (:func:`benchmark_genes`, :func:`hide_nonzero`, :func:`score_hidden`, :func:`cluster_scores`,
  :func:`thin`, :func:`score_thinning`);
- :func:`ercc_scores`: imputed spike-in expression against the known concentration;
- :func:`simulation_scores`: simulated true counts and dropout mask (:mod:`scmaskgan.simulate`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import InputError, check_param
from ._matrices import check_matrix as _matrix
from .protocols import benchmark_genes, cluster_scores, hide_nonzero, score_hidden, score_thinning, thin
from .structure import cluster, cluster_and_score, clustering_agreement, match_clusters

__all__ = [
    "TRANSFORMS",
    # paper
    "coefficient_of_variation",
    "cv_summary",
    "zscores",
    "zscore_summary",
    "js_distance",
    "wasserstein",
    "distribution_distances",
    "pearson_with_original",
    "cluster",
    "match_clusters",
    "clustering_agreement",
    "cluster_and_score",
    # known truth
    "benchmark_genes",
    "hide_nonzero",
    "score_hidden",
    "cluster_scores",
    "thin",
    "score_thinning",
    "ercc_scores",
    "simulation_scores",
]

logger = logging.getLogger("scmaskgan")

TRANSFORMS = ("log1p_cp10k", "cp10k", "none")

#: Entries held as dense float64 at a time by the block-wise functions (about 32 MB).
_BLOCK_ENTRIES = 1 << 22


# ---------------------------------------------------------------------------------------
# helpers


def _pair(original: Any, imputed: Any) -> tuple[np.ndarray | sp.csr_matrix, np.ndarray | sp.csr_matrix]:
    original = _matrix(original, "original")
    imputed = _matrix(imputed, "imputed")
    if original.shape != imputed.shape:
        raise InputError(f"original {original.shape} and imputed {imputed.shape} must have the same shape.")
    return original, imputed


def _check_transform(transform: str) -> None:
    check_param("transform", transform, str, choices=TRANSFORMS)


def _cell_totals(X: np.ndarray | sp.csr_matrix) -> np.ndarray:
    if sp.issparse(X):
        Y = X.copy()
        np.clip(Y.data, 0, None, out=Y.data)
        return np.asarray(Y.sum(1), dtype=np.float64).ravel()
    return np.clip(X, 0, None).sum(1, dtype=np.float64)


def _dense(X: np.ndarray | sp.spmatrix) -> np.ndarray:
    return X.toarray().astype(np.float64, copy=False) if sp.issparse(X) else np.asarray(X, dtype=np.float64)


def _apply(block: np.ndarray, totals: np.ndarray, transform: str) -> np.ndarray:
    """Transform a dense block (cells x some genes) given the cells' totals over all genes."""
    if transform == "none":
        return block
    from ..scaling import log_normalize

    return log_normalize(block, totals, log=transform == "log1p_cp10k", multiply=True)


def _gene_blocks(matrices: list, transform: str) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """Yield (gene slice, transformed dense blocks) over all cells, a few genes at a time."""
    n_cells, n_genes = matrices[0].shape
    totals = [_cell_totals(m) if transform != "none" else None for m in matrices]
    cols = [m.tocsc() if sp.issparse(m) else m for m in matrices]
    step = max(1, _BLOCK_ENTRIES // n_cells)
    for start in range(0, n_genes, step):
        sl = slice(start, min(start + step, n_genes))
        yield sl, [_apply(np.array(_dense(c[:, sl]), dtype=np.float64), t, transform) for c, t in zip(cols, totals)]


def _cell_blocks(matrices: list) -> Iterator[tuple[slice, list[np.ndarray]]]:
    """Yield (cell slice, dense float64 blocks) over all genes, a few cells at a time."""
    n_cells, n_genes = matrices[0].shape
    step = max(1, _BLOCK_ENTRIES // n_genes)
    for start in range(0, n_cells, step):
        sl = slice(start, min(start + step, n_cells))
        yield sl, [_dense(m[sl]) for m in matrices]


def _pearson_from_sums(n: float, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float:
    if n < 2:
        return float("nan")
    cov = sxy - sx * sy / n
    vx = sxx - sx * sx / n
    vy = syy - sy * sy / n
    if vx <= 1e-12 * max(sxx, 1e-300) or vy <= 1e-12 * max(syy, 1e-300):
        return float("nan")
    return float(np.clip(cov / np.sqrt(vx * vy), -1.0, 1.0))


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of ``a`` with the same row of ``b`` (NaN where a row is constant)."""
    a = a - a.mean(1, keepdims=True)
    b = b - b.mean(1, keepdims=True)
    num = (a * b).sum(1)
    den = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    r[den <= 1e-12] = np.nan
    return np.clip(r, -1.0, 1.0)


# ---------------------------------------------------------------------------------------
# the paper's metrics: coefficient of variation and z-scores


def coefficient_of_variation(X: Any, *, transform: str = "cp10k", ddof: int = 0) -> np.ndarray:
    """Coefficient of variation of each gene over cells: ``std / mean``.

    Parameters
    ----------
    X
        Cells x genes matrix (dense or sparse).
    transform
        ``"cp10k"`` (default), ``"log1p_cp10k"`` or ``"none"`` (see the module docstring).
    ddof
        Delta degrees of freedom of the standard deviation (0: population std).

    Returns
    -------
    numpy.ndarray
        One CV per gene; NaN for genes whose mean is 0.
    """
    _check_transform(transform)
    X = _matrix(X, "X")
    check_param("ddof", ddof, int, low=0, high=X.shape[0] - 1)
    out = np.empty(X.shape[1])
    for sl, (block,) in _gene_blocks([X], transform):
        mean = block.mean(0)
        sd = block.std(0, ddof=ddof)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[sl] = np.where(mean != 0, sd / np.where(mean != 0, mean, 1.0), np.nan)
    return out


def cv_summary(original: Any, imputed: Any, *, transform: str = "cp10k") -> dict:
    """Compare per-gene coefficients of variation of the imputed and the original data.

    Returns
    -------
    dict
        ``cv_original_median`` and ``cv_imputed_median`` (medians over genes with a
        defined CV), ``cv_ratio_median`` (median over genes of imputed / original CV),
        ``cv_mean_abs_diff`` (mean absolute difference), ``cv_pearson`` (Pearson r of the
        two CV vectors) and ``n_genes`` (genes defined in both).
    """
    original, imputed = _pair(original, imputed)
    a = coefficient_of_variation(original, transform=transform)
    b = coefficient_of_variation(imputed, transform=transform)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        raise InputError("no gene has a defined coefficient of variation in both matrices (all means are 0).")
    a, b = a[ok], b[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = b[a > 0] / a[a > 0]
    constant = np.ptp(a) == 0 or np.ptp(b) == 0
    return {
        "cv_original_median": float(np.median(a)),
        "cv_imputed_median": float(np.median(b)),
        "cv_ratio_median": float(np.median(ratio)) if ratio.size else float("nan"),
        "cv_mean_abs_diff": float(np.mean(np.abs(b - a))),
        "cv_pearson": float("nan") if constant or a.size < 2 else float(np.corrcoef(a, b)[0, 1]),
        "n_genes": int(ok.sum()),
    }


def zscores(X: Any, *, transform: str = "log1p_cp10k") -> np.ndarray:
    """Per-gene z-scores ``(x - mean) / std`` over cells (population std), dense float64.

    Genes with a standard deviation of 0 get z-scores of 0. The result is dense (8 bytes
    per entry: 1.6 GB for 100k cells x 2,000 genes).
    """
    _check_transform(transform)
    X = _matrix(X, "X")
    out = np.empty(X.shape, dtype=np.float64)
    for sl, (block,) in _gene_blocks([X], transform):
        sd = block.std(0)
        block -= block.mean(0)
        block /= np.where(sd > 0, sd, 1.0)
        out[:, sl] = block
    return out


def zscore_summary(X: Any, *, transform: str = "log1p_cp10k", threshold: float = 3.0) -> dict:
    """Shape of the pooled per-gene z-score distribution (genes with a constant value left out).

    Every gene's z-scores have mean 0 and standard deviation 1, so the pool does too; what
    differs between data sets is the shape. The paper reads a more concentrated distribution
    (fewer outliers) as better.

    Returns
    -------
    dict
        ``skewness``, ``kurtosis`` (excess, Fisher), ``share_beyond`` (share of ``abs(z) > threshold``),
        ``q01``, ``median``, ``q99`` (quantiles), ``threshold`` and ``n_constant_genes``.
    """
    from scipy.stats import kurtosis, skew

    check_param("threshold", threshold, float, low=0.0, low_inclusive=False)
    z = zscores(X, transform=transform)
    varying = z.std(0) > 0
    if not varying.any():
        raise InputError("every gene is constant over cells: z-scores are undefined.")
    pool = z[:, varying].ravel()
    q01, med, q99 = np.quantile(pool, [0.01, 0.5, 0.99])
    return {
        "skewness": float(skew(pool)),
        "kurtosis": float(kurtosis(pool)),
        "share_beyond": float(np.mean(np.abs(pool) > threshold)),
        "q01": float(q01),
        "median": float(med),
        "q99": float(q99),
        "threshold": float(threshold),
        "n_constant_genes": int((~varying).sum()),
    }


# ---------------------------------------------------------------------------------------
# the paper's metrics: distances between distributions, correlation with the original


def js_distance(original: Any, imputed: Any, *, transform: str = "log1p_cp10k", bins: int = 20) -> np.ndarray:
    """Jensen-Shannon distance per gene between the original and the imputed values over cells.

    For each gene, both samples (one value per cell) are binned into ``bins`` equal-width
    bins spanning the smallest to the largest value of the two samples together; the
    distance is ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` of the two
    histograms, the square root of the JS divergence in bits, between 0 (same histogram)
    and 1 (no shared bin). A gene that has one and the same value everywhere in both is 0.

    Returns
    -------
    numpy.ndarray
        One distance per gene.
    """
    from scipy.spatial.distance import jensenshannon

    _check_transform(transform)
    check_param("bins", bins, int, low=1)
    original, imputed = _pair(original, imputed)
    out = np.empty(original.shape[1])
    for sl, (a, b) in _gene_blocks([original, imputed], transform):
        lo = np.minimum(a.min(0), b.min(0))
        width = np.maximum(a.max(0), b.max(0)) - lo
        span = np.where(width > 0, width, 1.0)
        n_g = a.shape[1]
        offsets = np.arange(n_g) * bins
        hist = []
        for v in (a, b):
            idx = np.minimum(((v - lo) / span * bins).astype(np.int64), bins - 1)
            hist.append(np.bincount((idx + offsets).ravel(), minlength=n_g * bins).reshape(n_g, bins))
        d = jensenshannon(hist[0], hist[1], axis=1, base=2)
        out[sl] = np.where(width > 0, d, 0.0)
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)


def wasserstein(original: Any, imputed: Any, *, transform: str = "log1p_cp10k") -> np.ndarray:
    """Wasserstein-1 (earth mover's) distance per gene between original and imputed values.

    Both samples have one value per cell, so the distance equals
    ``scipy.stats.wasserstein_distance`` and is computed as the mean absolute difference of
    the sorted samples.

    Returns
    -------
    numpy.ndarray
        One distance per gene, on the scale of ``transform``.
    """
    _check_transform(transform)
    original, imputed = _pair(original, imputed)
    out = np.empty(original.shape[1])
    for sl, (a, b) in _gene_blocks([original, imputed], transform):
        out[sl] = np.abs(np.sort(a, axis=0) - np.sort(b, axis=0)).mean(0)
    return out


def distribution_distances(original: Any, imputed: Any, *, transform: str = "log1p_cp10k", bins: int = 20) -> dict:
    """Mean and median over genes of :func:`js_distance` and :func:`wasserstein`.

    Returns
    -------
    dict
        ``js_mean``, ``js_median``, ``wasserstein_mean``, ``wasserstein_median``.
    """
    js = js_distance(original, imputed, transform=transform, bins=bins)
    w = wasserstein(original, imputed, transform=transform)
    return {"js_mean": float(js.mean()), "js_median": float(np.median(js)),
            "wasserstein_mean": float(w.mean()), "wasserstein_median": float(np.median(w))}


def pearson_with_original(original: Any, imputed: Any, *, transform: str = "log1p_cp10k") -> dict:
    """Pearson correlation of the imputed with the original values.

    Returns
    -------
    dict
        ``pearson_all`` (over all entries), ``pearson_cell_mean`` and ``pearson_cell_median``
        (over cells of each cell's r across genes; cells whose profile is constant in either
        matrix are left out and counted in ``n_cells_undefined``).
    """
    _check_transform(transform)
    original, imputed = _pair(original, imputed)
    n_cells = original.shape[0]
    sums = np.zeros(6)
    per = np.zeros((5, n_cells))  # per cell: sx, sy, sxx, syy, sxy
    for _, (a, b) in _gene_blocks([original, imputed], transform):
        sums += [a.size, a.sum(), b.sum(), (a * a).sum(), (b * b).sum(), (a * b).sum()]
        per += [a.sum(1), b.sum(1), (a * a).sum(1), (b * b).sum(1), (a * b).sum(1)]
    n_genes = original.shape[1]
    sx, sy, sxx, syy, sxy = per
    cov = sxy - sx * sy / n_genes
    vx = sxx - sx * sx / n_genes
    vy = syy - sy * sy / n_genes
    ok = (vx > 1e-12 * np.maximum(sxx, 1e-300)) & (vy > 1e-12 * np.maximum(syy, 1e-300))
    r = np.clip(cov[ok] / np.sqrt(vx[ok] * vy[ok]), -1.0, 1.0)
    return {
        "pearson_all": _pearson_from_sums(*sums),
        "pearson_cell_mean": float(r.mean()) if r.size else float("nan"),
        "pearson_cell_median": float(np.median(r)) if r.size else float("nan"),
        "n_cells_undefined": int((~ok).sum()),
    }


# ---------------------------------------------------------------------------------------
# known truth: ERCC spike-ins


def ercc_scores(imputed_counts: Any, concentration: Any, *, pseudocount: float = 1.0) -> dict:
    """Correlation of imputed spike-in expression with the known log concentration.

    Expression is ``log(count + pseudocount)`` of the spike-in columns as given (the method's
    output on the count scale); the truth is ``log(concentration)``.

    - per cell: each cell's Pearson and Spearman correlation across spike-ins; the median
      over cells (cells with a constant profile are left out and counted).
    - over cells: the correlation, across spike-ins, of each spike-in's mean log expression
      over cells with its log concentration.

    Parameters
    ----------
    imputed_counts
        Cells x spike-ins matrix (only the ERCC columns), dense or sparse.
    concentration
        Known concentration per spike-in (e.g. ERCC Mix 1, attomoles/ul), all positive.
    pseudocount
        Added before the log (positive).

    Returns
    -------
    dict
        ``pearson_cell_median``, ``spearman_cell_median``, ``pearson_over_cells``,
        ``spearman_over_cells``, ``n_cells_undefined``, ``n_spikeins``.
    """
    from scipy.stats import pearsonr, rankdata, spearmanr

    check_param("pseudocount", pseudocount, float, low=0.0, low_inclusive=False)
    X = _matrix(imputed_counts, "imputed_counts")
    conc = np.asarray(concentration, dtype=np.float64).ravel()
    if conc.size != X.shape[1]:
        raise InputError(f"concentration has {conc.size} values but imputed_counts has {X.shape[1]} spike-in columns.")
    if not np.isfinite(conc).all() or (conc <= 0).any():
        raise InputError("every concentration must be positive and finite (its log is the truth).")
    if conc.size < 3 or np.ptp(conc) == 0:
        raise InputError("at least 3 spike-ins with different concentrations are needed.")
    log_conc = np.log(conc)
    expr = np.log(np.clip(_dense(X), 0, None) + pseudocount)
    ref = np.broadcast_to(log_conc, expr.shape)
    r_cell = _rowwise_pearson(expr, ref)
    rho_cell = _rowwise_pearson(rankdata(expr, axis=1), rankdata(ref, axis=1))
    mean_expr = expr.mean(0)
    constant = np.ptp(mean_expr) == 0
    return {
        "pearson_cell_median": float(np.nanmedian(r_cell)) if np.isfinite(r_cell).any() else float("nan"),
        "spearman_cell_median": float(np.nanmedian(rho_cell)) if np.isfinite(rho_cell).any() else float("nan"),
        "pearson_over_cells": float("nan") if constant else float(pearsonr(mean_expr, log_conc)[0]),
        "spearman_over_cells": float("nan") if constant else float(spearmanr(mean_expr, log_conc)[0]),
        "n_cells_undefined": int(np.isnan(r_cell).sum()),
        "n_spikeins": int(conc.size),
    }


# ---------------------------------------------------------------------------------------
# known truth: simulated data


def simulation_scores(true_counts: Any, observed: Any, imputed: Any, dropout_mask: Any, *,
                      threshold: float = 0.5) -> dict:
    """Scores of an imputation of simulated data against its true counts.

    Values are compared on ``log1p(x / cell_total * 1e4)``, each matrix normalised by its own
    cell totals (as protocol B does). Among the observed zeros, the dropouts
    (``dropout_mask``) are the positives and the true zeros (true count 0) the negatives;
    an entry is called "imputed as expressed" when its imputed value (count scale) is
    ``>= threshold``.

    Parameters
    ----------
    true_counts, observed, imputed
        Cells x genes matrices (dense or sparse) of the same shape: the simulation's
        ``layers["true_counts"]`` and ``X``, and the method's output on the count scale.
    dropout_mask
        Boolean matrix of the dropout entries (true count > 0, observed 0), e.g. the
        simulation's ``layers["dropout"]``.
    threshold
        Imputed value from which a zero counts as imputed as expressed.

    Returns
    -------
    dict
        ``rmse_dropouts``, ``mae_dropouts``, ``pearson_dropouts`` (on the dropout entries);
        ``precision``, ``recall``, ``f1`` (dropouts told from true zeros);
        ``share_true_zeros_kept`` (true zeros left at exactly 0); ``mean_at_true_zeros``
        (mean log1p CP10k prediction there); ``rmse_observed_zeros`` (over all observed
        zeros, protocol B's ``rmse_zeros``); ``n_dropouts``, ``n_true_zeros``, ``threshold``.
        A score that is undefined is NaN (``precision`` when no zero is called expressed,
        ``pearson_dropouts`` when the predictions are constant). Spearman's rho is not
        reported: the function works block-wise (memory bounded for 100k cells), and ranks
        would need every dropout value at once.

    Raises
    ------
    InputError
        When shapes differ, or the mask marks an entry that is not a zero of ``observed``
        with a positive true count.
    """
    check_param("threshold", threshold, float, low=0.0, low_inclusive=False)
    true_counts = _matrix(true_counts, "true_counts")
    observed = _matrix(observed, "observed")
    imputed = _matrix(imputed, "imputed")
    mask = _matrix(dropout_mask, "dropout_mask")
    shapes = {m.shape for m in (true_counts, observed, imputed, mask)}
    if len(shapes) != 1:
        raise InputError(f"true_counts, observed, imputed and dropout_mask must have one shape, got {shapes}.")
    tot_t, tot_p = _cell_totals(true_counts), _cell_totals(imputed)
    drop_sums = np.zeros(6)  # n, sx, sy, sxx, syy, sxy over dropouts (x: truth, y: prediction)
    sq_drop = abs_drop = 0.0
    sq_zero = 0.0
    n_zero = 0
    tp = fp = n_true_zero = kept = 0
    pred_true_zero = 0.0
    for sl, (t, o, y, m) in _cell_blocks([true_counts, observed, imputed, mask]):
        m = m != 0
        if (o[m] != 0).any() or (t[m] <= 0).any():
            raise InputError("dropout_mask marks entries where observed is not 0 or true_counts is not positive.")
        zeros = o == 0
        true_zero = zeros & (t == 0)
        tl = _apply(t, tot_t[sl], "log1p_cp10k")
        pl = _apply(y.copy(), tot_p[sl], "log1p_cp10k")
        x_d, y_d = tl[m], pl[m]
        drop_sums += [x_d.size, x_d.sum(), y_d.sum(), (x_d * x_d).sum(), (y_d * y_d).sum(), (x_d * y_d).sum()]
        sq_drop += float(((y_d - x_d) ** 2).sum())
        abs_drop += float(np.abs(y_d - x_d).sum())
        sq_zero += float(((pl[zeros] - tl[zeros]) ** 2).sum())
        n_zero += int(zeros.sum())
        called = y >= threshold
        tp += int((called & m).sum())
        fp += int((called & true_zero).sum())
        n_true_zero += int(true_zero.sum())
        kept += int((y[true_zero] == 0).sum())
        pred_true_zero += float(pl[true_zero].sum())
    n_drop = int(drop_sums[0])
    nan = float("nan")
    precision = tp / (tp + fp) if tp + fp else nan
    recall = tp / n_drop if n_drop else nan
    f1 = 2 * tp / (tp + fp + n_drop) if tp + fp + n_drop else nan
    return {
        "rmse_dropouts": float(np.sqrt(sq_drop / n_drop)) if n_drop else nan,
        "mae_dropouts": abs_drop / n_drop if n_drop else nan,
        "pearson_dropouts": _pearson_from_sums(*drop_sums),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "share_true_zeros_kept": kept / n_true_zero if n_true_zero else nan,
        "mean_at_true_zeros": pred_true_zero / n_true_zero if n_true_zero else nan,
        "rmse_observed_zeros": float(np.sqrt(sq_zero / n_zero)) if n_zero else nan,
        "n_dropouts": n_drop,
        "n_true_zeros": n_true_zero,
        "threshold": float(threshold),
    }
