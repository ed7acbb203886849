"""Helpers shared by the book's analysis notebooks.

Small functions that the notebooks in ``notebooks/`` (gene correlation, GO enrichment, highly
variable genes, marker genes, batch integration, trajectory, simulation) all need: dense
matrices, log-normalisation, stratified subsampling of cells, the benchmark's gene selection,
running the baselines and strict JSON for the ``metrics.json`` files. The notebooks' plumbing
(:func:`~scmaskgan.notebook.setup_notebook`, :func:`~scmaskgan.notebook.notebook_settings`,
:func:`~scmaskgan.notebook.impute_and_report`, :func:`~scmaskgan.notebook.save_metrics`, ...) lives in :mod:`scmaskgan.notebook` and is importable from here too.

Only numpy is imported with the module; pandas, anndata and the baselines load when a function
that needs them is called.
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param
from scmaskgan.notebook import (PRESETS, SMOKE_IMPUTE_KWARGS, Imputation, NotebookSettings, impute_and_report,
                                limit_threads, notebook_settings, preset_name, run_metrics, save_metrics,
                                setup_notebook)

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = ["setup_notebook", "limit_threads", "preset_name", "PRESETS", "SMOKE_IMPUTE_KWARGS", "NotebookSettings",
           "notebook_settings", "Imputation", "impute_and_report", "run_metrics", "save_metrics", "dense", "lognorm",
           "subsample_cells", "choose_genes", "run_baselines", "jsonable"]


def _issparse(m: Any) -> bool:
    import scipy.sparse as sp

    return sp.issparse(m)


def dense(m: Any, dtype: Any = None) -> np.ndarray:
    """A dense numpy array of a matrix, sparse or not.

    Parameters
    ----------
    m
        A scipy sparse matrix, numpy array or anything ``numpy.asarray`` accepts.
    dtype
        ``None`` (default): keep the matrix's dtype (no copy of a dense numpy array). A dtype
        (e.g. ``numpy.float64``): always a new array of that dtype.

    Returns
    -------
    numpy.ndarray
        The values of ``m`` as a dense array.

    Raises
    ------
    InputError
        When ``m`` is ``None``.
    """
    if m is None:
        raise InputError("dense() got None instead of a matrix.")
    out = m.toarray() if _issparse(m) else np.asarray(m)
    return out if dtype is None else out.astype(dtype)


def lognorm(counts: Any, lib: Optional[Any] = None) -> np.ndarray:
    """``log(1 + 1e4 * count / library size)`` of every cell (row); negative values count as 0.

    Parameters
    ----------
    counts
        Cells x genes matrix (dense or sparse; sparse is made dense).
    lib
        Library size of every cell. Give the ORIGINAL library sizes (over all genes) to compare
        several matrices of the same cells: observed entries then keep their value and only the
        filled zeros change. ``None`` (default): each matrix's own row sums (of the values
        clipped at 0); an empty cell gives zeros.

    Returns
    -------
    numpy.ndarray
        The log-normalised values, the shape of ``counts``.

    Raises
    ------
    InputError
        When ``counts`` is not two-dimensional, or ``lib`` does not hold one positive, finite
        value per cell.
    """
    counts = dense(counts)
    if counts.ndim != 2:
        raise InputError(f"lognorm() needs a two-dimensional cells x genes matrix, got shape {counts.shape}.")
    from scmaskgan.scaling import log_normalize

    if lib is None:
        return log_normalize(counts)
    lib = np.asarray(lib)
    if lib.shape != (counts.shape[0],):
        raise InputError(f"lib must hold one library size per cell: shape ({counts.shape[0]},) expected, "
                         f"got {lib.shape}.")
    if not np.issubdtype(lib.dtype, np.number) or not np.all(np.isfinite(lib)) or np.any(lib <= 0):
        raise InputError("lib must hold positive, finite library sizes (a cell without counts has none; "
                         "drop it first).")
    return log_normalize(counts, lib)


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


def choose_genes(adata: "anndata.AnnData", n_top: int,
                 required: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray, list, list, list]:
    """Library sizes over ALL genes, and the genes to analyse.

    The ``n_top`` most variable genes of :func:`scmaskgan.evaluation.protocols.benchmark_genes` (genes
    detected in at least 3 cells, variance of log1p-CPM) plus the ``required`` genes that are
    detected in at least 3 cells.

    Parameters
    ----------
    adata
        The cells, raw counts in ``adata.X``.
    n_top
        How many of the most variable genes.
    required
        Gene names to add (e.g. marker genes), if detected in at least 3 cells.

    Returns
    -------
    lib : numpy.ndarray
        Library size of every cell over all genes (float64).
    idx : numpy.ndarray
        Sorted column indices of the chosen genes.
    kept : list
        The ``required`` genes that are included.
    missing : list
        The ``required`` genes that are not in ``adata.var_names``.
    rare : list
        The ``required`` genes detected in fewer than 3 cells (left out).

    Raises
    ------
    InputError
        For an ``n_top`` that is not a positive integer, or a ``required`` that is a single string.
    """
    check_param("n_top", n_top, int, low=1)
    if isinstance(required, str):
        raise InputError(f"required must be a list of gene names, got the string {required!r}.")
    import pandas as pd

    from scmaskgan import evaluation

    required = list(required)
    counts = dense(adata.X, dtype=np.float64)
    lib, top = evaluation.benchmark_genes(counts, n_top=n_top)
    names = pd.Index(adata.var_names)
    missing = [g for g in required if g not in names]
    present = [g for g in required if g in names]
    n_detected = (counts[:, names.get_indexer(present)] > 0).sum(0) if present else np.array([], int)
    rare = [g for g, k in zip(present, n_detected) if k < 3]
    kept = [g for g, k in zip(present, n_detected) if k >= 3]
    idx = np.union1d(top, names.get_indexer(kept)).astype(int)
    return lib, idx, kept, missing, rare


def run_baselines(counts: Any, names: Sequence[str], labels: Optional[Any] = None, *,
                  seed: int = 0) -> tuple[dict, dict]:
    """Each baseline of :mod:`scmaskgan.benchmarking.baselines` on the same counts, timed.

    Parameters
    ----------
    counts
        Cells x genes counts, passed to :func:`scmaskgan.benchmarking.baselines.run` as they are.
    names
        Names of the baselines (see :func:`scmaskgan.benchmarking.baselines.available`).
    labels
        Cell labels for the baselines that use them.
    seed
        Seed of every baseline.

    Returns
    -------
    results : dict
        ``{name: imputed counts}``, dense float64 arrays.
    seconds : dict
        ``{name: wall-clock seconds}``; each is also printed.

    Raises
    ------
    InputError
        For ``names`` given as a single string, or a ``seed`` that is not an integer.
    """
    if isinstance(names, str):
        raise InputError(f"names must be a list of baseline names, got the string {names!r}.")
    check_param("seed", seed, int)
    import scmaskgan.benchmarking.baselines as baselines

    results, seconds = {}, {}
    for name in names:
        t0 = time.perf_counter()
        results[name] = dense(baselines.run(name, counts, labels=labels, seed=seed), dtype=np.float64)
        seconds[name] = time.perf_counter() - t0
        print(f"{name}: {seconds[name]:.1f} s")
    return results, seconds


def jsonable(value: Any) -> Any:
    """The value as strict JSON data: NaN and infinities become ``None``, numpy values plain Python.

    Dictionary keys become strings, tuples lists; anything else that ``json`` cannot write becomes
    its ``repr``.

    Parameters
    ----------
    value
        Nested dicts, lists and tuples of numbers, strings, numpy scalars and arrays.

    Returns
    -------
    Any
        A value that ``json.dumps(..., allow_nan=False)`` accepts.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None  # strict JSON has no NaN
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    try:
        json.dumps(value)
        return value
    except TypeError:
        if isinstance(value, np.generic):
            return jsonable(value.item())
        if isinstance(value, np.ndarray):
            return jsonable(value.tolist())
        return repr(value)
