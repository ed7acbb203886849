"""Helpers shared by the book's analysis notebooks.

Small functions that the notebooks in ``notebooks/`` (gene correlation, GO enrichment, highly
variable genes, marker genes, batch integration, trajectory, simulation) all need: the
benchmark's gene selection (:func:`choose_genes`) and running the baselines
(:func:`run_baselines`). The notebooks' other helpers live where their jobs are and are
importable from here too: dense matrices and log-normalisation (:func:`~scmaskgan.matrices.dense`,
:func:`~scmaskgan.matrices.lognorm`) in :mod:`scmaskgan.matrices`, stratified subsampling of cells
(:func:`~scmaskgan.sampling.subsample_cells`) in :mod:`scmaskgan.sampling`, and the notebooks' plumbing
(:func:`~scmaskgan.notebook.setup_notebook`, :func:`~scmaskgan.notebook.notebook_settings`,
:func:`~scmaskgan.notebook.impute_and_report`, :func:`~scmaskgan.notebook.save_metrics`, strict JSON
with :func:`~scmaskgan.notebook.jsonable`, ...) in :mod:`scmaskgan.notebook`.

Only numpy is imported with the module; pandas, anndata and the baselines load when a function
that needs them is called.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param
from scmaskgan.matrices import dense, lognorm
from scmaskgan.notebook import (PRESETS, SMOKE_IMPUTE_KWARGS, Imputation, NotebookSettings, impute_and_report,
                                jsonable, limit_threads, notebook_settings, preset_name, run_metrics, save_metrics,
                                setup_notebook)
from scmaskgan.sampling import subsample_cells

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = ["setup_notebook", "limit_threads", "preset_name", "PRESETS", "SMOKE_IMPUTE_KWARGS", "NotebookSettings",
           "notebook_settings", "Imputation", "impute_and_report", "run_metrics", "save_metrics", "dense", "lognorm",
           "subsample_cells", "choose_genes", "run_baselines", "jsonable"]


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
