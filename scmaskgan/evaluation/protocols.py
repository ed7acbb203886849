"""Held-out benchmark protocols A (hidden non-zero entries) and B (thinning): their steps and scores.

Protocol A, on a cells x genes count matrix:

1. counts as cells x genes integers;
2. ``lib_orig``: each cell's total count over all genes of the file;
3. keep the genes detected (count > 0) in at least 3 cells;
4. of those, keep the 2000 with the largest variance of ``log1p(count / lib_orig * 1e6)`` (stable
   sort by descending variance), in their original order (steps 2-4: :func:`benchmark_genes`);
5. hide 10% of the non-zero entries: ``rng = numpy.random.default_rng(0)``,
   ``nz = numpy.flatnonzero(X)`` (flat C-order indices), ``idx = numpy.sort(rng.choice(nz,
   size=round(0.1 * nz.size), replace=False))``, set to 0 (:func:`hide_nonzero`, from
   :mod:`scmaskgan.masking`);
6. run the method on the corrupted counts; its output is on the count scale of the input;
7. score the hidden entries in ``log1p(value / lib_orig[cell] * 1e4)`` (negative predictions
   clipped to 0): RMSE, Pearson r, Spearman
   rho, mean absolute error and the share of hidden entries left at exactly 0 (:func:`score_hidden`);
8. cluster ``log1p(imputed / lib_orig * 1e4)``, centred, PCA 30 (``random_state`` 0), KMeans with k =
   the number of labels (``n_init`` 10, ``random_state`` 0): ARI and NMI against the labels
   (:func:`cluster_scores`).

Protocol B (binomial thinning, which scores zeros too):

1. steps 1-4 of protocol A give the count matrix X (no entries hidden);
2. ``X_obs = numpy.random.default_rng(0).binomial(X, 0.3)``: 70% of the molecules lost
   (:func:`thin`, :data:`KEEP`); the method runs on ``X_obs``;
3. truth ``log1p(X / X.sum(1) * 1e4)``, prediction ``log1p(Y / Y.sum(1) * 1e4)`` of the method's
   output Y (each matrix over its own cell totals, so that the output's scale does not matter);
4. over the entries where ``X_obs == 0`` (true zeros and thinning dropouts alike): RMSE
   (``rmse_zeros``) and Pearson (``r_zeros``); also the RMSE on the dropouts alone, the mean
   prediction where ``X == 0`` and Pearson over all entries (``r_all``) (:func:`score_thinning`).

A model with several answers per zero is scored on the answer to each protocol's question,
:data:`SCORED_ANSWER`. Everything here works on dense cells x genes count matrices and is
deterministic given its seed. The benchmark's data sets, prepared for both protocols, are
:func:`scmaskgan.benchmarking.data.prepare`'s.
"""

from __future__ import annotations

import numpy as np

from ..masking import hide_nonzero  # step 5: the rule the count model's own choice uses too
from ..scaling import log_normalize

__all__ = ["KEEP", "SCORED_ANSWER", "benchmark_genes", "hide_nonzero", "score_hidden", "cluster_scores", "thin",
           "score_thinning"]


#: The answer that each protocol scores for a model with several answers per zero. Protocol A, which
#: scores only truly non-zero entries, takes the level if detected (E[x | x > 0]); protocol B, which scores
#: every zero, most of them true zeros, takes the expected value given the zero.
SCORED_ANSWER: dict[str, str] = {"A": "if_detected", "B": "mean"}


def benchmark_genes(counts: np.ndarray, n_top: int = 2000, min_cells: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2-4 of protocol A: ``lib_orig`` over all genes and the selected gene indices.

    Genes detected in at least ``min_cells`` cells; of those the ``n_top`` with the
    largest variance of ``log1p(count / lib_orig * 1e6)`` (stable sort by
    descending variance), returned in their original order.
    """
    counts = np.asarray(counts, dtype=np.float64)
    lib = counts.sum(1)
    detected = np.flatnonzero((counts > 0).sum(0) >= min_cells)
    logcpm = np.log1p(counts[:, detected] / lib[:, None] * 1e6)
    order = np.argsort(-logcpm.var(0), kind="stable")[:n_top]
    return lib, np.sort(detected[order])


def score_hidden(truth: np.ndarray, imputed: np.ndarray, idx: np.ndarray, lib_orig: np.ndarray) -> dict:
    """Step 7: RMSE, Pearson, Spearman, MAE and share left at 0 of the hidden entries (log1p CP10k)."""
    from scipy.stats import pearsonr, spearmanr

    rows = idx // truth.shape[1]
    t = log_normalize(np.asarray(truth).flat[idx], lib_orig[rows])
    p = log_normalize(np.asarray(imputed, dtype=np.float64).flat[idx], lib_orig[rows])
    constant = np.ptp(p) == 0
    return {
        "rmse": float(np.sqrt(np.mean((p - t) ** 2))),
        "pearson": float("nan") if constant else float(pearsonr(p, t)[0]),
        "spearman": float("nan") if constant else float(spearmanr(p, t)[0]),
        "mae": float(np.mean(np.abs(p - t))),
        "share_zero": float(np.mean(np.asarray(imputed).flat[idx] == 0)),
        "n_hidden": int(idx.size),
    }


def cluster_scores(imputed: np.ndarray, lib_orig: np.ndarray, labels: np.ndarray) -> dict:
    """Step 8: centred log1p CP10k, PCA 30, KMeans (k = number of labels): ARI and NMI."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    x = log_normalize(np.asarray(imputed, dtype=np.float64), lib_orig)
    x -= x.mean(0)
    pcs = PCA(n_components=min(30, *x.shape), random_state=0).fit_transform(x)
    k = len(np.unique(labels))
    pred = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(pcs)
    return {"ari": float(adjusted_rand_score(labels, pred)), "nmi": float(normalized_mutual_info_score(labels, pred))}


#: The share of molecules that protocol B's binomial thinning keeps (30%, so 70% of the molecules are lost).
KEEP: float = 0.3


def thin(counts: np.ndarray, keep: float = KEEP, seed: int = 0) -> np.ndarray:
    """Protocol B, step 2: binomial thinning keeping each molecule with probability ``keep``."""
    return np.random.default_rng(seed).binomial(np.asarray(counts).astype(np.int64), keep)


def score_thinning(truth: np.ndarray, observed: np.ndarray, imputed: np.ndarray) -> dict:
    """Protocol B, steps 3-4: scores over the entries where the thinned input is 0."""
    from scipy.stats import pearsonr

    t, p = (log_normalize(np.asarray(m, dtype=np.float64)) for m in (truth, imputed))
    zeros = np.asarray(observed) == 0
    dropouts = zeros & (np.asarray(truth) > 0)
    true_zeros = np.asarray(truth) == 0
    pz = p[zeros]
    return {
        "rmse_zeros": float(np.sqrt(np.mean((pz - t[zeros]) ** 2))),
        "r_zeros": float("nan") if np.ptp(pz) == 0 else float(pearsonr(pz, t[zeros])[0]),
        "rmse_dropouts": float(np.sqrt(np.mean((p[dropouts] - t[dropouts]) ** 2))),
        "mean_at_true_zeros": float(p[true_zeros].mean()),
        "r_all": float(pearsonr(p.ravel(), t.ravel())[0]),
    }
