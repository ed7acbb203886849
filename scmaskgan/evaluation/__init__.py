"""Evaluation of an imputation: the held-out protocols, metrics, baselines, the benchmark runner, and the
analyses of the book's notebooks.

Scoring against a known truth:

* :mod:`~scmaskgan.evaluation.protocols`: protocols A (hidden non-zero entries) and B (thinning)
  of ../shared/BENCHMARK.md, and :func:`~scmaskgan.evaluation.protocols.prepare`, which gives a benchmark data set's inputs for both;
* :mod:`~scmaskgan.evaluation.metrics`: the paper's metrics (against the original data) and metrics
  with a known truth (ERCC spike-ins, simulations);
* :mod:`~scmaskgan.evaluation.structure`: clusters against labels, batch mixing, embeddings, and
  protocol S (structure that is not there);
* :mod:`~scmaskgan.evaluation.uncertainty`: calibration of detection probabilities and the coverage
  of intervals from draws;
* :mod:`~scmaskgan.evaluation.questions`: each protocol's questions to the count model, asked and scored.

Running methods:

* :mod:`~scmaskgan.evaluation.baselines`: other imputation methods behind one call;
* :mod:`~scmaskgan.evaluation.benchmark`: methods x data sets, each method run in its own process
  (:mod:`~scmaskgan.evaluation.child`: the one way to run measured work in a child process);
* :mod:`~scmaskgan.evaluation.comparison`: methods side by side in one process (the benchmark page);
* :mod:`~scmaskgan.evaluation.cost`: time and memory against the number of cells.

What the analysis notebooks compute: :mod:`~scmaskgan.evaluation.genes` (gene-gene correlation,
variable genes, markers), :mod:`~scmaskgan.evaluation.enrichment` (GO enrichment) and
:mod:`~scmaskgan.evaluation.trajectory` (pseudotime).

The protocol functions and :func:`~scmaskgan.evaluation.protocols.prepare` are importable from here:
``from scmaskgan.evaluation import prepare, score_hidden``.
"""

from __future__ import annotations

from .protocols import (
    DATASETS,
    DatasetSpec,
    Prepared,
    benchmark_genes,
    cluster_scores,
    hide_nonzero,
    prepare,
    score_hidden,
    score_thinning,
    thin,
)

__all__ = ["DATASETS", "DatasetSpec", "Prepared", "prepare", "benchmark_genes", "cluster_scores", "hide_nonzero",
           "score_hidden", "score_thinning", "thin"]
