"""Read counts: the count model's reads per molecule and hidden entries, chosen on the input's own non-zeros.

The count model's likelihood (:mod:`scmaskgan.count.network`) is a law of molecules: a gene that is
detected holds at least one, and the law given detection starts at one count. Read counts (full-length
protocols without UMIs, such as Smart-seq2) are not molecules, and two settings of the count model
are for them:

* **reads per molecule** ``r``: one molecule gives many reads, so a detected gene rarely has a count
  of one or two, and a negative binomial fitted to reads puts much of its mass given detection at
  such counts, which pulls the value if detected far below the truth. With ``r``, the count model
  reads the counts as molecules, ``m = max(1, round(c / r))`` where ``c > 0`` and 0 where ``c = 0``
  (:func:`to_molecules`: no entry changes between zero and non-zero), and its answers, on the
  log-normalised scale of the molecules, are brought back to each cell's read library;
* **hide**: molecular cross-validation splits reads as if they were molecules, and the reads of one
  molecule go together, so thinning almost never empties a gene with many reads: without hiding a
  share of the non-zero entries in training (``hide``, :mod:`scmaskgan.count.model`), the
  network never sees an abundant gene at zero, which is what a dropout looks like.

Both are chosen on the input itself (:func:`choose_count_settings`, for each of them left ``None``): a
further share :data:`SELF_MASK` of the input's own non-zero entries is hidden, the count model is
trained at each candidate pair and the one whose value if detected is nearest (RMSE of log1p CP10k)
to the hidden values wins: the held-out protocol A's question, asked of the input and never of a
benchmark's truth. The scales are :data:`CANDIDATES`, each larger than 1 only where the input's median
non-zero count is at least :data:`MIN_COUNTS_PER_MOLECULE` times it, so that rounding keeps most of a
typical count's information; ``hide`` takes the values of :data:`HIDE_CANDIDATES` where some scale
above 1 is a candidate (counts that may be reads). On UMI counts (median non-zero count 1 or 2)
there is nothing to choose: ``r = 1``, ``hide = 0`` and nothing more is trained.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..cells import CellData
from ..masking import hide_nonzero, hide_nonzero_sparse
from ..scaling import library_sizes, log_normalize

logger = logging.getLogger("scmaskgan")

__all__ = ["CANDIDATES", "HIDE_CANDIDATES", "MIN_COUNTS_PER_MOLECULE", "SELF_MASK", "candidates", "to_molecules",
           "hide_own_nonzero", "self_mask_rmse", "choose_count_settings"]

#: The reads-per-molecule scales that the choice considers.
CANDIDATES: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0)
#: A scale ``r > 1`` is a candidate only where the median non-zero count is at least this many times ``r``.
MIN_COUNTS_PER_MOLECULE: float = 4.0
#: The values of ``hide`` that the choice considers on counts that may be reads (0 elsewhere).
HIDE_CANDIDATES: tuple[float, ...] = (0.0, 0.7)
#: Share of the input's own non-zero entries hidden to choose the settings.
SELF_MASK: float = 0.1


def _nonzero_values(X: Any) -> np.ndarray:
    values = X.data if sp.issparse(X) else np.asarray(X).ravel()
    return values[values > 0]


def candidates(X: Any) -> tuple[float, ...]:
    """The scales of :data:`CANDIDATES` worth trying on counts ``X``: 1, and each ``r`` with the median
    non-zero count at least :data:`MIN_COUNTS_PER_MOLECULE` ``* r``."""
    values = _nonzero_values(X)
    median = float(np.median(values)) if values.size else 0.0
    return tuple(r for r in CANDIDATES if r == 1 or median >= MIN_COUNTS_PER_MOLECULE * r)


def to_molecules(data: CellData, reads_per_molecule: float) -> CellData:
    """``data`` with its counts read as molecules, ``max(1, round(c / r))`` where ``c > 0`` (0 stays 0), and
    the library sizes of those; ``data`` itself where ``r = 1``."""
    if reads_per_molecule == 1:
        return data
    X = data.X
    if sp.issparse(X):
        X = X.copy()
        X.data = np.maximum(1, np.round(X.data / reads_per_molecule)).astype(X.dtype)
        X.data[data.X.data == 0] = 0
    else:
        X = np.asarray(X)
        X = np.where(X > 0, np.maximum(1, np.round(X / reads_per_molecule)), 0).astype(X.dtype)
    return replace(data, X=X, lib=library_sizes(X))


def hide_own_nonzero(data: CellData, share: float, seed: int) -> tuple[CellData, np.ndarray, np.ndarray, np.ndarray]:
    """``data`` with a random ``share`` of its non-zero entries set to 0, chosen as protocol A chooses them
    (:mod:`scmaskgan.masking`; sparse input stays sparse); return it, and the rows, columns and values of
    the hidden entries (in row order)."""
    if not sp.issparse(data.X):
        hidden, flat = hide_nonzero(np.asarray(data.X), share, seed)
        rows, cols = np.divmod(flat, hidden.shape[1])
        values = np.asarray(data.X)[rows, cols]
    else:
        hidden, rows, cols, values = hide_nonzero_sparse(data.X, share, seed)
    return replace(data, X=hidden, lib=library_sizes(hidden)), rows, cols, values.astype(np.float64)


def self_mask_rmse(model: Any, hidden: CellData, rows: np.ndarray, cols: np.ndarray, values: np.ndarray,
                   lib: np.ndarray, target_sum: float, block_size: int = 2048) -> float:
    """RMSE of ``log1p(x / lib * target_sum)`` between ``model``'s value if detected at the hidden entries
    (``rows``, ``cols``, sorted by row) and the hidden ``values``, with ``lib`` each cell's library before
    hiding. The answers, on the log-normalised scale of the model's cells, are brought back to counts of
    ``hidden``'s library, as :meth:`scmaskgan.SCMaskGAN.iter_answers` does; one block of cells at a time."""
    squared = 0.0
    cells = np.unique(rows)
    for start in range(0, cells.size, block_size):
        block = cells[start:start + block_size]
        answers = model.answers(block)["if_detected"].astype(np.float64)
        lo, hi = np.searchsorted(rows, [block[0], block[-1] + 1])
        at = np.searchsorted(block, rows[lo:hi])
        counts = np.expm1(answers[at, cols[lo:hi]]) * hidden.lib[rows[lo:hi]] / target_sum
        error = (log_normalize(counts, lib[rows[lo:hi]], target_sum=target_sum)
                 - log_normalize(values[lo:hi], lib[rows[lo:hi]], target_sum=target_sum))
        squared += float(np.sum(error ** 2))
    return float(np.sqrt(squared / max(rows.size, 1)))


def choose_count_settings(data: CellData, fit: Callable[[CellData, float], Any], *, seed: int,
                          reads_per_molecule: float | None = None,
                          hide: float | None = None) -> tuple[float, float, list[dict]]:
    """Choose the reads per molecule and ``hide`` of ``data`` (each where it is ``None``) on a share
    :data:`SELF_MASK` of its own non-zeros.

    Parameters
    ----------
    data
        The input's cells (counts of the genes in use).
    fit
        ``fit(cells, hide)`` builds and trains a count model on ``cells`` with ``hide`` and returns it
        (a :class:`~scmaskgan.count.model.CountModel`, whose ``answers`` are asked here).
    seed
        Seed of the hidden entries.
    reads_per_molecule, hide
        A fixed value, or ``None`` to choose it.

    Returns
    -------
    reads_per_molecule, hide, table
        The chosen settings, and one row per pair tried (none where there is one pair only):
        ``reads_per_molecule``, ``hide``, ``self_mask_rmse``.
    """
    scales = candidates(data.X)
    may_be_reads = len(scales) > 1
    if reads_per_molecule is not None:
        scales = (float(reads_per_molecule),)
    hides = (float(hide),) if hide is not None else HIDE_CANDIDATES if may_be_reads else (0.0,)
    if len(scales) * len(hides) == 1:
        return scales[0], hides[0], []
    masked, rows, cols, values = hide_own_nonzero(data, SELF_MASK, seed)
    table = []
    for r in scales:
        for h in hides:
            model = fit(to_molecules(masked, r), h)
            rmse = self_mask_rmse(model, masked, rows, cols, values, data.lib, data.scaler.target_sum)
            table.append({"reads_per_molecule": r, "hide": h, "self_mask_rmse": rmse})
            logger.info("count model: %g reads per molecule, hide %g: RMSE %.4f of the value if detected on %d of "
                        "the input's own non-zero entries, hidden", r, h, rmse, rows.size)
    best = min(table, key=lambda row: row["self_mask_rmse"])
    return best["reads_per_molecule"], best["hide"], table
