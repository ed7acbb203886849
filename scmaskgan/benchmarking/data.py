"""The benchmark's data sets, prepared for both held-out protocols.

:data:`DATASETS` holds one :class:`DatasetSpec` per data set (its label column, loader options and
gene selection); :func:`prepare` loads one (:func:`scmaskgan.datasets.load`, or the spec's own
loader) and applies steps 1-4 of protocol A: ``lib_orig``, each cell's total count over all genes
of the file; the genes detected in at least 3 cells; of those the 2000 most variable in
``log1p(count / lib_orig * 1e6)``, in their original order
(:func:`scmaskgan.evaluation.protocols.benchmark_genes`). The result, a :class:`Prepared`, gives
both protocols' inputs (protocol A: 10% of the non-zero entries hidden, seed 0; protocol B:
binomial thinning to 30% of the molecules, seed 0) and their scores
(:mod:`scmaskgan.evaluation.protocols`): the one set-up that the benchmark runner, the scripts in
``benchmarks/``, the notebooks and the tests use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._name_registry import Registry
from ..evaluation.protocols import (KEEP, SCORED_ANSWER, benchmark_genes, cluster_scores, hide_nonzero, score_hidden,
                                    score_thinning, thin)

logger = logging.getLogger("scmaskgan")

__all__ = ["DATASETS", "DEFAULT_DATASETS", "DatasetSpec", "Prepared", "prepare"]



@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset enters the benchmark.

    Attributes
    ----------
    labels_key
        ``obs`` column with the labels that clustering is scored against (and that
        ``scmaskgan`` is conditioned on).
    load_kwargs
        Options of :func:`scmaskgan.datasets.load`.
    note
        Why these settings, for the markdown report.
    n_top, min_cells
        Gene selection of protocol A, steps 3-4.
    loader
        Callable returning the AnnData (raw counts, cells x genes); ``None`` loads the
        dataset of that name with :func:`scmaskgan.datasets.load`.
    """

    labels_key: str
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    n_top: int = 2000
    min_cells: int = 3
    loader: Callable[[], Any] | None = None


#: Dataset settings of the benchmark, by dataset name (one table for all of them).
DATASETS: Registry[DatasetSpec] = Registry("dataset", {
    "sc_celseq2": DatasetSpec(
        "cell_line_original", {"symbols": False},
        "all 274 cells as in the anchors; labels = the metadata's `cell_line` (kept by the loader "
        "as `cell_line_original`; demuxlet's call differs for 2 doublets)",
    ),
    "sc_dropseq": DatasetSpec(
        "cell_line_original", {"symbols": False},
        "all 225 cells as in the anchors; labels = the metadata's `cell_line`",
    ),
    "sc_celseq2_5cl_p1": DatasetSpec(
        "cell_line", {"symbols": False, "drop_doublets": True},
        "demuxlet singlets only (156 of 297 cells, 5 cell lines): a doublet has no single true "
        "cell line, and 141 doublets would dominate the clustering score",
    ),
    "darmanis_brain": DatasetSpec(
        "cell_type", {},
        "the paper's 420 cells of 8 types (no `hybrid`); raw read counts (not UMIs)",
    ),
    "ercc": DatasetSpec(
        "phase", {},
        "92 ERCC spike-ins (read counts): top-2000 keeps every spike-in detected in >= 3 cells; "
        "the labels are cell-cycle phases, which spike-ins do not carry (ARI near 0 is expected)",
    ),
    "gsm5768752": DatasetSpec(
        "louvain", {},
        "labels are the Louvain clusters of the scMASKGAN repository, not an independent truth",
    ),
})

#: Datasets that ``scmaskgan benchmark`` runs by default.
DEFAULT_DATASETS: tuple[str, ...] = ("sc_celseq2", "sc_dropseq", "sc_celseq2_5cl_p1", "darmanis_brain", "ercc")


@dataclass
class Prepared:
    """A benchmark data set after steps 1-4 of protocol A, and the inputs of both protocols.

    Attributes
    ----------
    name, spec
        The data set's name and its :class:`DatasetSpec`.
    truth
        Cells x selected genes, the counts before any corruption (also :attr:`counts`).
    lib_orig
        Each cell's total count over all genes of the file (also :attr:`lib`).
    labels
        The spec's label column, as strings.
    n_groups
        Number of distinct labels.
    genes
        Column indices of the selected genes in the loaded data (sorted).
    gene_names
        Their names (the loaded data's ``var_names``).
    """

    name: str
    spec: DatasetSpec
    truth: np.ndarray
    lib_orig: np.ndarray
    labels: np.ndarray
    n_groups: int
    genes: np.ndarray | None = None
    gene_names: np.ndarray | None = None
    _inputs: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def counts(self) -> np.ndarray:
        """Cells x selected genes before any corruption (the same array as :attr:`truth`)."""
        return self.truth

    @property
    def lib(self) -> np.ndarray:
        """Each cell's total count over all genes of the file (the same array as :attr:`lib_orig`)."""
        return self.lib_orig

    def protocol_a(self) -> tuple[np.ndarray, np.ndarray]:
        """Protocol A's input (10% of the non-zero counts set to 0, seed 0) and the hidden flat indices."""
        if "A" not in self._inputs:
            self._inputs["A"] = hide_nonzero(self.truth, 0.1, seed=0)
        return self._inputs["A"]

    def protocol_b(self) -> np.ndarray:
        """Protocol B's input: binomial thinning to 30% of the molecules (seed 0), float64."""
        if "B" not in self._inputs:
            self._inputs["B"] = thin(self.truth, KEEP, seed=0).astype(np.float64)
        return self._inputs["B"]

    def inputs(self, protocols: Sequence[str] = ("A", "B")) -> dict[str, np.ndarray]:
        """The input counts of each protocol, by protocol name (``{"A": corrupted, "B": thinned}``)."""
        unknown = [p for p in protocols if p not in ("A", "B")]
        if unknown:
            raise ValueError(f"protocol must be 'A' or 'B', got {', '.join(map(repr, unknown))}")
        return {p: self.protocol_a()[0] if p == "A" else self.protocol_b() for p in protocols}

    def score(self, protocol: str, imputed: np.ndarray) -> dict:
        """Scores of a method's output on ``protocol``'s input: "A" held-out entries and clustering
        (:func:`~scmaskgan.evaluation.protocols.score_hidden`,
        :func:`~scmaskgan.evaluation.protocols.cluster_scores`), "B" the thinning scores
        (:func:`~scmaskgan.evaluation.protocols.score_thinning`)."""
        if protocol == "A":
            idx = self.protocol_a()[1]
            return (score_hidden(self.truth, imputed, idx, self.lib_orig)
                    | cluster_scores(imputed, self.lib_orig, self.labels))
        if protocol == "B":
            return score_thinning(self.truth, self.protocol_b(), imputed)
        raise ValueError(f"protocol must be 'A' or 'B', got {protocol!r}")

    def score_answers(self, protocol: str, answers: dict) -> dict:
        """Scores of a model with several answers per zero (the count model's ``mean``, ``if_detected``):
        each protocol scores the answer to its question,
        :data:`~scmaskgan.evaluation.protocols.SCORED_ANSWER`."""
        return self.score(protocol, np.asarray(answers[SCORED_ANSWER[protocol]], dtype=np.float64))

    def anndata(self, counts: np.ndarray):
        """``counts`` (cells x selected genes) as float32 AnnData with the labels in ``obs[spec.labels_key]``."""
        import anndata as ad
        import pandas as pd

        obs = pd.DataFrame({self.spec.labels_key: pd.Categorical(self.labels)},
                           index=[f"cell{i}" for i in range(len(self.labels))])
        return ad.AnnData(np.asarray(counts, dtype=np.float32), obs=obs)


def prepare(name: str, spec: DatasetSpec | None = None) -> Prepared:
    """Load a benchmark data set and apply steps 1-4 of protocol A.

    Parameters
    ----------
    name
        A name from :data:`DATASETS` or, with ``spec``, any name :func:`scmaskgan.datasets.load` knows
        (or any name at all when the spec has a ``loader``).
    spec
        Settings other than the table's (labels, gene selection, loader options).

    Returns
    -------
    Prepared
        The selected genes' counts (genes detected in >= ``min_cells`` cells, the ``n_top`` most
        variable), library sizes over all genes, labels, and both protocols' inputs and scores.

    Raises
    ------
    ValueError
        An unknown name without ``spec``, or a data set without the spec's label column.
    """
    if spec is None:
        spec = DATASETS.lookup(name)
    if spec.loader is not None:
        adata = spec.loader()
    else:
        from .. import datasets

        adata = datasets.load(name, **spec.load_kwargs)
    if spec.labels_key not in adata.obs.columns:
        raise ValueError(f"dataset {name!r} has no obs column {spec.labels_key!r} (labels of the benchmark)")
    x = adata.X
    counts = np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)
    labels = adata.obs[spec.labels_key].astype(str).to_numpy()
    lib, genes = benchmark_genes(counts, n_top=spec.n_top, min_cells=spec.min_cells)
    truth = counts[:, genes]
    n_groups = len(np.unique(labels))
    logger.info("benchmark %s: %d cells x %d genes (of %d), %d label groups (%s)",
                name, truth.shape[0], truth.shape[1], counts.shape[1], n_groups, spec.labels_key)
    return Prepared(name, spec, truth, lib, labels, n_groups, genes=genes,
                    gene_names=np.asarray(adata.var_names[genes]).astype(str))
