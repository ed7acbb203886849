"""Generated candidates of the paper's imputation: draws of the trained generator per label, and the
Isolation Forest that removes outlier candidates (paper, "Imputed method").

For each label ``K`` the generator draws ``n_candidates`` profiles; an Isolation Forest fitted on
that candidate set scores them (anomaly score ``s(x) = 2 ** (-E(h(x)) / c(n))``) and candidates
above ``tau`` are removed. The kept candidates are a neighbour pool for :mod:`scmaskgan.neighbours`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..nn.layout import ImageLayout

__all__ = ["CandidateSet", "generate_candidates", "anomaly_scores", "filter_outliers"]


@dataclass
class CandidateSet:
    """Generated profiles of one label (rows, on the [0, 1] scale) after outlier removal."""

    values: np.ndarray  # kept candidates x genes, float32
    scores: np.ndarray  # anomaly score s(x) of every generated candidate
    threshold: float  # tau used
    n_generated: int


@torch.no_grad()
def generate_candidates(generator: torch.nn.Module, layout: ImageLayout, label: int, n_labels: int,
                        n_candidates: int, *, device: torch.device, seed: int, batch_size: int = 256) -> np.ndarray:
    """Draw ``n_candidates`` profiles of one label from the generator (genes only, [0, 1] scale)."""
    generator.eval()
    gen = torch.Generator().manual_seed(int(seed) * 1000 + int(label))
    onehot_row = torch.zeros(1, n_labels, device=device)
    onehot_row[0, label] = 1.0
    out = []
    for start in range(0, n_candidates, batch_size):
        n = min(batch_size, n_candidates - start)
        z = torch.randn(n, generator.latent_dim, generator=gen).to(device)
        out.append(layout.to_vectors(generator(z, onehot_row.expand(n, -1))).float().cpu().numpy())
    return np.concatenate(out, axis=0)


def anomaly_scores(candidates: np.ndarray, *, seed: int) -> np.ndarray:
    """Isolation-Forest anomaly score ``s(x)`` in (0, 1] of each candidate, fitted on the set itself."""
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=100, random_state=seed).fit(candidates)
    return -forest.score_samples(candidates)  # scikit-learn returns -s(x)


def filter_outliers(candidates: np.ndarray, *, tau: float | None, min_keep: int, seed: int) -> CandidateSet:
    """Remove candidates whose anomaly score exceeds ``tau``.

    ``tau=None`` sets it from the score distribution: mean + 2 standard
    deviations. At least ``min_keep`` candidates (those with the lowest scores)
    are always kept.
    """
    scores = anomaly_scores(candidates, seed=seed)
    threshold = float(scores.mean() + 2 * scores.std()) if tau is None else float(tau)
    keep = scores <= threshold
    if keep.sum() < min_keep:
        keep = np.zeros(len(scores), bool)
        keep[np.argsort(scores, kind="stable")[:min_keep]] = True
    return CandidateSet(candidates[keep], scores, threshold, len(candidates))
