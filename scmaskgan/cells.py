"""The model's cells: the input read from AnnData and checked, and the container both wings read.

:func:`read_cells` does, once, what every mode needs before any work: it checks the counts
(or normalised values), drops genes that are zero in every cell from the modelling, takes the
library sizes, reads the labels (or clusters the cells when none are given), fits the
[0, 1] :class:`~scmaskgan.scaling.Scaler` and chooses the output's dtype. :class:`CellData` holds
the counts of the genes in use and hands out [0, 1] values a few rows at a time, to the
neighbour fill (:mod:`scmaskgan.neighbours`) and to the GAN (:mod:`scmaskgan.paper`) alike.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ._validation import InputError, check_counts, check_labels
from .labels import cluster_labels
from .outliers import FACTOR, Outliers, cap_outliers, find_outliers
from .scaling import Scaler, library_sizes

logger = logging.getLogger("scmaskgan")

__all__ = ["CellData", "ModelInput", "read_cells"]


@dataclass
class CellData:
    """The model's cells: counts (genes in use only), library sizes and label codes, read as [0, 1]
    values a few rows at a time (:meth:`values`), never all at once."""

    X: np.ndarray | sp.csr_matrix  # cells x genes, float32 counts (or normalised values)
    lib: np.ndarray  # library size per cell
    codes: np.ndarray  # label code per cell
    n_labels: int
    scaler: Scaler

    @property
    def n_cells(self) -> int:
        return self.X.shape[0]

    def values(self, rows: np.ndarray) -> np.ndarray:
        """Scaled values (len(rows) x genes, float32) of the given cells."""
        block = self.X[rows]
        return self.scaler.transform(block if sp.issparse(block) else np.asarray(block), self.lib[rows])

    def batches(self, batch_size: int, rng: np.random.Generator, min_size: int = 2) -> Iterator[np.ndarray]:
        """Shuffled row indices in batches; a last batch of fewer than ``min_size`` cells joins the one
        before (batch norm needs two cells per batch, on every rank)."""
        order = rng.permutation(self.n_cells)
        starts = list(range(0, self.n_cells, batch_size))
        if len(starts) > 1 and self.n_cells - starts[-1] < min_size:
            starts.pop()
        for i, s in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else self.n_cells
            yield order[s:end]


@dataclass
class ModelInput:
    """What :func:`read_cells` read: the input matrix (a reference, never modified), the cells of the
    genes in use, and what the model reports about them."""

    matrix: Any  # adata.X or adata.layers[layer], as given: observed values are copied from it
    data: CellData
    genes_used: np.ndarray  # columns with a non-zero value in some cell
    empty_cells: np.ndarray  # rows without any count
    categories: np.ndarray  # label names, in code order
    labels_info: dict  # where the labels came from
    var_names: np.ndarray
    obs_names: np.ndarray
    output_dtype: np.dtype  # float32 unless a value needs float64
    outliers: Outliers | None = None  # entries far above their cell and gene, capped in ``data`` (values as given)


def read_cells(adata, *, layer: str | None, normalized: bool, labels_key: str | None, seed: int,
               leiden_resolution: float, cluster: bool = True, takes_normalized: bool = True) -> ModelInput:
    """Read and check the cells of ``adata`` for a model (see :class:`scmaskgan.SCMaskGAN` for the parameters).

    Without ``labels_key`` the cells are clustered (Leiden) when ``cluster`` is true, else they all
    share one label (a model that needs no labels). ``takes_normalized`` says whether the method also
    takes normalised values (what the message about non-integer values advises).

    Raises
    ------
    InputError
        For a missing layer or labels column, values that are not counts (unless ``normalized``),
        fewer than two cells, or an input without any non-zero value.
    """
    if layer is not None and layer not in adata.layers:
        raise InputError(f"layer {layer!r} is not in adata.layers (available: {list(adata.layers)}).")
    matrix = _in_memory(adata.X if layer is None else adata.layers[layer])
    X = check_counts(matrix, normalized=normalized, takes_normalized=takes_normalized,
                     what=f"adata.{'X' if layer is None else 'layers[' + repr(layer) + ']'}")
    n_cells, n_genes = X.shape
    if n_cells < 2:
        raise InputError("at least two cells are needed.")
    top = float((X.data if sp.issparse(X) else X).max(initial=0))
    outliers = _given_values(find_outliers(X), matrix)
    if len(outliers):
        _warn_outliers(outliers, np.asarray(adata.obs_names, dtype=str), np.asarray(adata.var_names, dtype=str))
        X = cap_outliers(X, outliers)  # a copy: the input, and the observed values returned, stay as given
    if not np.isfinite(X.data if sp.issparse(X) else X).all():  # above float32's range, and not an outlier
        raise InputError(f"the input holds values above {np.finfo(np.float32).max:g}, which the model cannot compute "
                         "with; check the input for corrupt values.")
    genes_used = np.flatnonzero(np.asarray((X != 0).sum(axis=0)).ravel() > 0)
    if genes_used.size == 0:
        raise InputError("every value of the input is zero; there is nothing to learn from.")
    lib = library_sizes(X)
    empty_cells = np.flatnonzero(lib == 0)
    if empty_cells.size:
        logger.warning("%d cell(s) have no counts at all; they are left as zeros.", empty_cells.size)
    if genes_used.size < n_genes:
        logger.info("%d gene(s) are zero in every cell; they are left as zeros and not modelled.",
                    n_genes - genes_used.size)
    if labels_key is not None:
        if labels_key not in adata.obs:
            raise InputError(f"labels_key {labels_key!r} is not a column of adata.obs "
                             f"(columns: {list(adata.obs.columns)}).")
        codes, categories = check_labels(adata.obs[labels_key].to_numpy(), n_cells,
                                         what=f"adata.obs[{labels_key!r}]", clusters=cluster)
        labels_info = {"method": "obs", "key": labels_key}
    elif cluster:
        if n_genes < 2:
            raise InputError(f"the input has a single gene; clustering the cells (when no labels are given) needs at "
                             "least two. Give labels (labels_key; command line: --labels-file).")
        codes, categories, labels_info = cluster_labels(X, normalized=normalized, seed=seed,
                                                        resolution=leiden_resolution)
    else:
        codes, categories, labels_info = np.zeros(n_cells, dtype=np.int64), np.array(["all"], dtype=object), {"method": "none"}
    Xu = X[:, genes_used]
    scaler = Scaler.fit(Xu, normalized=normalized)
    # float32 holds every integer count up to 2**24 exactly; wider input keeps float64, and so does input
    # with a value that float32 cannot hold (decided on the input itself, not on X, its float32 copy)
    wide = np.dtype(matrix.dtype) == np.float64 or (
        not normalized and top > 2**24) or not _fits_float32(matrix)
    return ModelInput(matrix=matrix, data=CellData(Xu, lib, codes, len(categories), scaler), genes_used=genes_used,
                      empty_cells=empty_cells, categories=categories, labels_info=labels_info,
                      var_names=np.asarray(adata.var_names, dtype=str), obs_names=np.asarray(adata.obs_names, dtype=str),
                      output_dtype=np.dtype(np.float64 if wide else np.float32), outliers=outliers)


def _given_values(outliers: Outliers, matrix: Any) -> Outliers:
    """``outliers`` with the values as the input holds them (its float32 copy turns 1e300 into inf)."""
    readable = isinstance(matrix, np.ndarray) or (sp.issparse(matrix) and matrix.format in ("csr", "csc"))
    if not len(outliers) or not readable:
        return outliers
    values = matrix[outliers.rows, outliers.cols]
    values = np.asarray(values.toarray() if sp.issparse(values) else values, dtype=np.float64).ravel()
    return dataclasses.replace(outliers, values=values)


def _warn_outliers(outliers: Outliers, obs_names: np.ndarray, var_names: np.ndarray, shown: int = 5) -> None:
    """One warning naming the first ``shown`` outliers, what they were capped at, and how many more there are."""
    n = len(outliers)
    entries = [f"cell {str(obs_names[i])!r}, gene {str(var_names[j])!r}: {value:g} (its cell's other values reach "
               f"{row:g}, its gene's {col:g}; capped at {cap:g})"
               for i, j, value, row, col, cap in zip(outliers.rows[:shown], outliers.cols[:shown], outliers.values,
                                                     outliers.row_max, outliers.col_max, outliers.caps)]
    more = f"; and {n - shown} more" if n > shown else ""
    warnings.warn(f"{n} {'entry is' if n == 1 else 'entries are'} more than {FACTOR:g} times every other value of "
                  f"{'its' if n == 1 else 'their'} cell and of {'its' if n == 1 else 'their'} gene (a corrupt value?): "
                  f"{'; '.join(entries)}{more}. For training and imputation each is capped at the largest other value "
                  "of its cell or gene; the observed value is kept in the output.", UserWarning, stacklevel=4)


def _in_memory(matrix: Any) -> Any:
    """``matrix`` itself, or read into memory when it is backed (``read_h5ad(..., backed="r")``): numpy and scipy
    cannot read a backed sparse matrix, and anndata may close the file of a backed one before its observed values
    are copied (when it writes or copies the AnnData)."""
    import h5py

    to_memory = getattr(matrix, "to_memory", None)  # anndata's CSRDataset and CSCDataset
    if not isinstance(matrix, h5py.Dataset) and not callable(to_memory):
        return matrix
    logger.info("The input matrix is backed (read_h5ad(..., backed='r')); it is read into memory.")
    return matrix[()] if isinstance(matrix, h5py.Dataset) else to_memory()


def _fits_float32(matrix: Any) -> bool:
    """Whether every value of ``matrix`` (dense or sparse, any numeric dtype) is exactly a float32."""
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix)
    if values.dtype == np.float32 or values.dtype.kind == "b" or (values.dtype.kind in "iu" and values.dtype.itemsize <= 2):
        return True
    for start in range(0, values.size, 2**24):  # a block at a time: no full-size float32 copy
        part = values.reshape(-1)[start:start + 2**24]
        if not np.array_equal(part.astype(np.float32).astype(part.dtype), part):
            return False
    return True
