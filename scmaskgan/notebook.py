"""Plumbing of the book's analysis notebooks: setup, size presets, the imputation step, metrics files.

A notebook starts with :func:`setup_notebook`, takes its sizes from :func:`notebook_settings`
(one preset name, ``"smoke"``, ``"quick"`` or ``"full"``, for every notebook), imputes with
:func:`impute_and_report` and writes its ``metrics.json`` with :func:`run_metrics` and
:func:`save_metrics` (strict JSON: :func:`jsonable`). Everything here is importable from
:mod:`scmaskgan.analysis` as well.

Only numpy is imported with the module.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param
from scmaskgan.modes import resolve_mode
from scmaskgan.evaluation.protocols import SCORED_ANSWER
from scmaskgan.labels import cluster_labels
from scmaskgan.matrices import dense, lognorm
from scmaskgan.pp import answer_layer_names

if TYPE_CHECKING:  # pragma: no cover
    import anndata

__all__ = ["setup_notebook", "limit_threads", "preset_name", "PRESETS", "SMOKE_IMPUTE_KWARGS", "NotebookSettings",
           "notebook_settings", "Imputation", "impute_and_report", "run_metrics", "save_metrics", "jsonable"]


#: Messages of the libraries that are notes, not results: kept off the book's pages.
_QUIET_WARNINGS = (
    "Input matrix contains unexpressed genes",  # MAGIC, for genes that are zero in every cell
    "Cannot perform PCA",  # MAGIC (graphtools) on small data
    "Graph is not fully connected",  # UMAP falls back to a random start when a kNN graph has islands
    "Spectral initialisation failed",
)


def setup_notebook(output_dir: Optional[str] = None, *, verbosity: str = "INFO", threads: Optional[int] = None,
                   dpi: int = 100) -> Optional["Path"]:
    """Set up a notebook of the book in one call; return its output folder (created) when one is given.

    * scmaskgan's progress lines go to the notebook's standard output (not stderr, which papermill
      and Jupyter show as errors), at ``verbosity``;
    * library notes that are not results (tqdm's missing ipywidgets, scanpy/anndata deprecations,
      MAGIC's and UMAP's fallbacks) are not shown;
    * scanpy prints errors only, figures are drawn at ``dpi``;
    * ``threads`` limits BLAS/OpenMP (and torch, once imported) thread pools: on a shared machine
      spinning threads cost more than they give.

    Parameters
    ----------
    output_dir
        Folder for the notebook's metrics and figures; created when missing.
    verbosity
        Level of the ``"scmaskgan"`` logger (``"WARNING"`` shows no progress lines).
    threads
        Thread limit; ``None`` leaves the libraries' defaults.
    dpi
        Resolution of matplotlib figures.

    Returns
    -------
    pathlib.Path or None
        ``Path(output_dir)``, created, or ``None``.
    """
    import logging
    import sys
    import warnings

    import matplotlib.pyplot as plt
    from tqdm import TqdmWarning

    from scmaskgan import set_verbosity

    if threads is not None:
        check_param("threads", threads, int, low=1)
        limit_threads(threads)
    warnings.filterwarnings("ignore", category=TqdmWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    for message in _QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    for handler in logging.getLogger("scmaskgan").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stdout)
    set_verbosity(verbosity)
    try:
        import scanpy as sc

        sc.settings.verbosity = 1
    except ImportError:  # pragma: no cover - scanpy is a dependency
        pass
    plt.rcParams["figure.dpi"] = dpi
    if output_dir is None:
        return None
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out


def limit_threads(threads: int) -> None:
    """Limit BLAS/OpenMP thread pools, and torch's when torch is loaded, to ``threads``
    (:func:`scmaskgan.threads.set_threads`: for the rest of the process, not restored)."""
    from scmaskgan.threads import set_threads

    set_threads(threads)


def preset_name(quick: bool, smoke: bool) -> str:
    """The size preset of a notebook from its ``quick`` and ``smoke`` parameters: "smoke", "quick" or "full"."""
    return "smoke" if smoke else ("quick" if quick else "full")


#: The analysis notebooks' preset sizes, by preset name, as training epochs (``None`` is the model's default;
#: the count model trains to its own default except in the smoke preset, and the neighbour fill trains
#: nothing), most variable genes imputed, and cells kept (``None`` keeps all). A notebook may change them.
PRESETS: dict = {
    "smoke": {"epochs": 2, "n_genes": 200, "max_cells": 150},  # CI: checks that every cell runs, not a result
    "quick": {"epochs": 8, "n_genes": 1000, "max_cells": None},  # the book's default build: minutes on a laptop CPU
    "full": {"epochs": None, "n_genes": 2000, "max_cells": None},
}
#: Further parameters of :func:`scmaskgan.pp.impute` in the smoke preset, by mode (the paper's: a small Optuna
#: search).
SMOKE_IMPUTE_KWARGS: dict = {"paper": {"n_trials": 5, "n_candidates": 128}}


@dataclass(frozen=True)
class NotebookSettings:
    """What a notebook's size preset and parameters decide; made by :func:`notebook_settings`.

    Attributes
    ----------
    preset
        ``"smoke"``, ``"quick"`` or ``"full"``.
    mode
        The imputation method of :func:`scmaskgan.pp.impute` (``"count"``, ``"neighbours"`` or ``"paper"``).
    epochs
        ``max_epochs`` for :func:`scmaskgan.pp.impute` (``None``: the model's default).
    n_genes
        Most variable genes imputed.
    max_cells
        Cells kept (stratified by label); ``None``: all.
    impute_kwargs
        Further parameters of :func:`scmaskgan.pp.impute`.
    """

    preset: str
    mode: str
    epochs: Optional[int]
    n_genes: int
    max_cells: Optional[int]
    impute_kwargs: dict = field(default_factory=dict)

    @property
    def epochs_note(self) -> str:
        """``"count model, max_epochs=model default"`` in mode "count", ``"GAN, max_epochs=8"`` in mode "paper",
        ``"no training"`` in mode "neighbours"."""
        if self.mode == "neighbours":
            return "no training"
        epochs = f"max_epochs={self.epochs if self.epochs is not None else 'model default'}"
        return f"{'count model' if self.mode == 'count' else 'GAN'}, {epochs}"

    def describe(self, *, dataset: str, labels_key: Optional[str], seed: int, output_dir: Any,
                 genes_note: str = "") -> str:
        """The line a notebook prints under its parameters: version, data, preset, mode and sizes.

        Parameters
        ----------
        dataset, labels_key, seed
            The notebook's parameters of these names.
        output_dir
            Folder of the outputs.
        genes_note
            Added after "N most variable genes", e.g. ``" + the marker and control genes"``.

        Returns
        -------
        str
            One line, e.g. ``"scmaskgan 0.3.0; data set 'darmanis_brain', labels 'cell_type'; preset
            quick, mode 'count': count model, max_epochs=model default, seed=0, 1000 most variable genes, all cells;
            outputs in out/"``.
        """
        from scmaskgan import __version__

        cells = "all cells" if self.max_cells is None else f"at most {self.max_cells} cells"
        return (f"scmaskgan {__version__}; data set {dataset!r}, labels {labels_key!r}; preset {self.preset}, "
                f"mode {self.mode!r}: {self.epochs_note}, seed={seed}, {self.n_genes} most variable genes"
                f"{genes_note}, {cells}; outputs in {output_dir}/")


def notebook_settings(quick: bool, smoke: bool, *, mode: Optional[str] = None, max_epochs: Optional[int] = None,
                      n_genes: Optional[int] = None, max_cells: Optional[int] = None,
                      defaults: Optional[Mapping[str, Mapping[str, Any]]] = None) -> NotebookSettings:
    """The settings of an analysis notebook from its ``quick``/``smoke`` parameters and overrides.

    The preset (:func:`preset_name`) gives the epochs, genes and cells of :data:`PRESETS`, changed
    by ``defaults``; a parameter that is not ``None`` wins over the preset. The preset's epochs apply to
    the paper's GAN, and to the count model only in the smoke preset (elsewhere it trains to its own
    default); the neighbour fill trains nothing. The smoke preset adds the mode's
    :data:`SMOKE_IMPUTE_KWARGS`.

    Parameters
    ----------
    quick, smoke
        The notebook's preset parameters (``smoke`` wins).
    mode
        Imputation method (``None``: the package's default, the count model), passed on to the settings.
    max_epochs, n_genes, max_cells
        The notebook's own values; ``None``: the preset's.
    defaults
        ``{preset: {"epochs"|"n_genes"|"max_cells": value}}``: this notebook's preset sizes where they
        differ from :data:`PRESETS`, e.g. ``{"quick": {"n_genes": 2000}}``.

    Returns
    -------
    NotebookSettings

    Raises
    ------
    InputError
        For ``quick``/``smoke`` that are not booleans, a ``mode`` that is not a string, sizes that are
        not positive integers, or ``defaults`` naming an unknown preset or size.
    """
    check_param("quick", quick, bool)
    check_param("smoke", smoke, bool)
    mode = resolve_mode(mode)
    check_param("max_epochs", max_epochs, int, low=1, allow_none=True)
    check_param("n_genes", n_genes, int, low=1, allow_none=True)
    check_param("max_cells", max_cells, int, low=1, allow_none=True)
    preset = preset_name(quick, smoke)
    sizes = dict(PRESETS[preset])
    for name, changes in (defaults or {}).items():
        if name not in PRESETS:
            raise InputError(f"defaults: unknown preset {name!r}; presets: {list(PRESETS)}.")
        unknown = set(changes) - set(sizes)
        if unknown:
            raise InputError(f"defaults[{name!r}]: unknown size(s) {sorted(unknown)}; sizes: {list(sizes)}.")
        if name == preset:
            sizes.update(changes)
    if mode == "neighbours" or (mode == "count" and preset != "smoke"):
        sizes["epochs"] = None
    given = {"epochs": max_epochs, "n_genes": n_genes, "max_cells": max_cells}
    sizes.update({k: v for k, v in given.items() if v is not None})
    return NotebookSettings(preset=preset, mode=mode, epochs=sizes["epochs"], n_genes=sizes["n_genes"],
                            max_cells=sizes["max_cells"],
                            impute_kwargs=dict(SMOKE_IMPUTE_KWARGS.get(mode, {})) if preset == "smoke" else {})


@dataclass
class Imputation:
    """The result of :func:`impute_and_report`.

    Attributes
    ----------
    adata
        The cells x genes imputed (a copy); imputed counts in ``layers["scmaskgan"]``, the run in
        ``uns["scmaskgan"]``.
    X, imputed
        Observed and imputed counts, dense float64.
    log_orig, log_imp
        :func:`~scmaskgan.matrices.lognorm` of both, with the library sizes given (or the matrices' own).
    wall_s
        Seconds the imputation took.
    """

    adata: "anndata.AnnData"
    X: np.ndarray
    imputed: np.ndarray
    log_orig: np.ndarray
    log_imp: np.ndarray
    wall_s: float

    @property
    def observed(self) -> np.ndarray:
        """Boolean mask of the non-zero observed entries."""
        return self.X > 0

    def answer(self, protocol: str) -> np.ndarray:
        """The imputed counts that a held-out protocol scores, dense float64: the count model's answer to that
        protocol's question (protocol A, hidden non-zero entries, the value if detected; protocol B, the
        expected value) where the method gives one, else the main layer."""
        name = answer_layer_names("scmaskgan")[SCORED_ANSWER[protocol]]
        return dense(self.adata.layers[name], dtype=np.float64) if name in self.adata.layers else self.imputed

    @property
    def run(self) -> dict:
        """``adata.uns["scmaskgan"]``: parameters, whether a GAN was trained, its history."""
        return self.adata.uns["scmaskgan"]

    @property
    def gene_names(self) -> "Any":
        """The genes imputed, a ``pandas.Index``."""
        import pandas as pd

        return pd.Index(self.adata.var_names)

    @property
    def epochs_trained(self) -> int:
        """GAN epochs trained (0 without training)."""
        return len(self.run.get("history", {}).get("epoch", []))


#: The ``obs`` column of the cells' groups when a notebook runs without labels: the clusters of a method that
#: clusters, or Leiden clusters of the input where the method uses no labels (the count model).
CLUSTERS_COLUMN = "scmaskgan_labels"


def impute_and_report(adata: "anndata.AnnData", genes: Optional[Sequence[int]] = None, *,
                      labels_key: Optional[str], mode: Optional[str] = None, max_epochs: Optional[int] = None,
                      seed: int = 0, lib: Optional[Any] = None, **kwargs: Any) -> Imputation:
    """Impute the chosen genes of the cells with :func:`scmaskgan.pp.impute`, print what happened.

    Prints the time taken and whether a GAN was trained, whether the observed values came back
    unchanged, and the share of zeros and of filled zeros. Without ``labels_key`` the cells' groups are
    in ``obs[CLUSTERS_COLUMN]``: the method's clusters, or, where it uses no labels, Leiden clusters of
    the input (:func:`scmaskgan.labels.cluster_labels`).

    Parameters
    ----------
    adata
        The cells, raw counts in ``adata.X``; not changed.
    genes
        Column indices of the genes to impute (e.g. from :func:`~scmaskgan.analysis.choose_genes`); ``None``: all.
    labels_key, mode, max_epochs, seed, **kwargs
        Passed to :func:`scmaskgan.pp.impute`.
    lib
        Library size of every cell for :func:`~scmaskgan.matrices.lognorm` (the original ones, over all genes);
        ``None``: the matrices' own row sums.

    Returns
    -------
    Imputation
        The imputed copy, dense matrices, their log values and the wall time.
    """
    import scipy.sparse as sp

    from scmaskgan import pp

    adata_in = adata.copy() if genes is None else adata[:, np.asarray(genes)].copy()
    adata_in.X = sp.csr_matrix(dense(adata_in.X).astype(np.float32))
    t0 = time.perf_counter()
    pp.impute(adata_in, labels_key=labels_key, mode=mode, max_epochs=max_epochs, seed=seed, **kwargs)
    wall_s = time.perf_counter() - t0
    if labels_key is None and CLUSTERS_COLUMN not in adata_in.obs:  # the count model uses no labels and writes none
        import pandas as pd

        codes, categories, _ = cluster_labels(adata_in.X, normalized=bool(kwargs.get("normalized", False)), seed=seed)
        adata_in.obs[CLUSTERS_COLUMN] = pd.Categorical.from_codes(codes, categories=categories)
        print(f"no labels: the groups of this analysis, obs[{CLUSTERS_COLUMN!r}], are {len(categories)} Leiden "
              "clusters of the input (the count model itself uses no labels)")
    X = dense(adata_in.X, dtype=np.float64)
    imputed = dense(adata_in.layers["scmaskgan"], dtype=np.float64)
    result = Imputation(adata_in, X, imputed, lognorm(X, lib), lognorm(imputed, lib), wall_s)
    mode = result.run["params"]["mode"]
    print(f"imputation of {adata_in.n_obs} cells x {adata_in.n_vars} genes (mode {mode!r}) took {wall_s:.1f} s; "
          + (f"{result.epochs_trained} {'count-model' if mode == 'count' else 'GAN'} epochs trained" if result.run["trained"]
             else "no training (zeros filled from similar real cells)"))
    observed = result.observed
    print("observed values unchanged:", bool(np.allclose(imputed[observed], X[observed], rtol=1e-4, atol=1e-4)))
    print(f"zeros in the input: {np.mean(~observed):.1%}; of them filled: {np.mean(imputed[~observed] > 0):.1%}")
    return result


def run_metrics(settings: NotebookSettings, imputation: Imputation, *, seed: int) -> dict:
    """The entries every analysis notebook's ``metrics.json`` has about the run.

    Returns
    -------
    dict
        ``preset``, ``mode``, ``max_epochs``, ``trained``, ``epochs_trained``, ``seed``,
        ``n_cells``, ``n_genes_imputed``, ``impute_wall_s``, ``scmaskgan_version`` and ``params``.
    """
    from scmaskgan import __version__

    run = imputation.run
    return {"preset": settings.preset, "mode": settings.mode, "max_epochs": settings.epochs,
            "trained": bool(run["trained"]), "epochs_trained": imputation.epochs_trained, "seed": seed,
            "n_cells": int(imputation.adata.n_obs), "n_genes_imputed": int(imputation.adata.n_vars),
            "impute_wall_s": imputation.wall_s, "scmaskgan_version": __version__, "params": run.get("params", {})}


def save_metrics(metrics: Mapping[str, Any], output_dir: Any, name: str = "metrics.json") -> dict:
    """Write ``metrics`` as strict JSON (:func:`jsonable`) to ``output_dir/name``; print and return it.

    Returns
    -------
    dict
        The JSON data written.
    """
    data = jsonable(dict(metrics))
    path = Path(output_dir) / name
    path.write_text(json.dumps(data, indent=2, allow_nan=False))
    print(f"wrote {path} and the figures in {Path(output_dir)}/")
    return data


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
