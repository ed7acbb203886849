"""Stratified subsampling of cells: at most ``n`` cells, the same share of every label.

:func:`subsample_cells` is what the data loaders (:func:`scmaskgan.datasets.load_batches`) and
the notebooks (through :mod:`scmaskgan.analysis`) use to keep a data set small; it imports
nothing else of the package but its parameter checks, so both can import it.

Neither pandas nor anndata is imported with the module; pandas loads when cells are subsampled by label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from scmaskgan._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = ["subsample_cells"]


def subsample_cells(adata: "anndata.AnnData", key: Optional[str], n: Optional[int],
                    seed: "int | np.random.Generator" = 0) -> "anndata.AnnData":
    """At most ``n`` cells, the same share of every label (at least 2 cells of each).

    Parameters
    ----------
    adata
        The cells.
    key
        Column of ``adata.obs`` with the labels to stratify by; ``None``: ``n`` cells at random.
    n
        How many cells to keep (about ``n`` with ``key``: every label keeps
        ``max(2, round(n * share))`` cells, or all of its cells if it has fewer). ``None``: all cells.
    seed
        Seed of the random choice, or a :class:`numpy.random.Generator` to draw from (several
        batches subsampled in turn from one generator, as the batch-integration notebook does).

    Returns
    -------
    anndata.AnnData
        ``adata`` itself when ``n`` is ``None`` or not smaller than the number of cells;
        otherwise a copy of the chosen cells, in their original order.

    Raises
    ------
    InputError
        For a ``key`` that is not a column of ``adata.obs``, or an ``n`` or ``seed`` that is not a
        non-negative integer (``n`` at least 1).
    """
    check_param("n", n, int, low=1, allow_none=True)
    if not isinstance(seed, np.random.Generator):
        check_param("seed", seed, int, low=0)
    if key is not None and key not in adata.obs.columns:
        raise InputError(f"subsample_cells(): {key!r} is not a column of adata.obs "
                         f"(columns: {list(adata.obs.columns)}).")
    if n is None or adata.n_obs <= n:
        return adata
    import pandas as pd

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if key is None:
        keep = rng.choice(adata.n_obs, size=n, replace=False)
    else:
        groups = adata.obs[key].astype(str).to_numpy()
        keep = []
        for g in pd.unique(groups):
            rows = np.flatnonzero(groups == g)
            keep.append(rng.choice(rows, size=min(rows.size, max(2, round(n * rows.size / adata.n_obs))),
                                   replace=False))
        keep = np.concatenate(keep)
    return adata[np.sort(keep)].copy()
