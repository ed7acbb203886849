"""Held-out benchmark protocols of ../shared/BENCHMARK.md (A: hidden non-zero entries; B: thinning).

Everything here works on dense cells x genes count matrices and is
deterministic given its seed, so that numbers compare with the published table.
"""

from __future__ import annotations

import numpy as np

__all__ = ["benchmark_genes", "hide_nonzero", "score_hidden", "cluster_scores", "thin", "score_thinning"]


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


def hide_nonzero(counts: np.ndarray, fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Step 5: set a random ``fraction`` of the non-zero entries to 0; return (corrupted, flat indices)."""
    rng = np.random.default_rng(seed)
    nz = np.flatnonzero(counts)
    idx = np.sort(rng.choice(nz, size=round(fraction * nz.size), replace=False))
    corrupted = np.array(counts, copy=True)
    corrupted.flat[idx] = 0
    return corrupted, idx


def _lognorm(values: np.ndarray, lib: np.ndarray) -> np.ndarray:
    return np.log1p(np.clip(values, 0, None) / lib * 1e4)


def score_hidden(truth: np.ndarray, imputed: np.ndarray, idx: np.ndarray, lib_orig: np.ndarray) -> dict:
    """Step 7: RMSE, Pearson, Spearman, MAE and share left at 0 of the hidden entries (log1p CP10k)."""
    from scipy.stats import pearsonr, spearmanr

    rows = idx // truth.shape[1]
    t = _lognorm(np.asarray(truth).flat[idx], lib_orig[rows])
    p = _lognorm(np.asarray(imputed, dtype=np.float64).flat[idx], lib_orig[rows])
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

    x = _lognorm(np.asarray(imputed, dtype=np.float64), lib_orig[:, None])
    x -= x.mean(0)
    pcs = PCA(n_components=min(30, *x.shape), random_state=0).fit_transform(x)
    k = len(np.unique(labels))
    pred = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(pcs)
    return {"ari": float(adjusted_rand_score(labels, pred)), "nmi": float(normalized_mutual_info_score(labels, pred))}


def thin(counts: np.ndarray, keep: float = 0.3, seed: int = 0) -> np.ndarray:
    """Protocol B, step 2: binomial thinning keeping each molecule with probability ``keep``."""
    return np.random.default_rng(seed).binomial(np.asarray(counts).astype(np.int64), keep)


def score_thinning(truth: np.ndarray, observed: np.ndarray, imputed: np.ndarray) -> dict:
    """Protocol B, steps 3-4: scores over the entries where the thinned input is 0."""
    from scipy.stats import pearsonr

    def norm(m: np.ndarray) -> np.ndarray:
        m = np.clip(np.asarray(m, dtype=np.float64), 0, None)
        tot = m.sum(1, keepdims=True)
        return np.log1p(np.divide(m, tot, out=np.zeros_like(m), where=tot > 0) * 1e4)

    t, p = norm(truth), norm(imputed)
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
