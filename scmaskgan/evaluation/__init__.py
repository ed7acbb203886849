"""Evaluation of an imputation: what a user calls to score imputed data.

Scoring against a known truth:

* :mod:`~scmaskgan.evaluation.protocols`: the steps and scores of the held-out protocols A (hidden
  non-zero entries) and B (thinning), stated in its module docstring;
* :mod:`~scmaskgan.evaluation.metrics`: the paper's metrics (against the original data) and metrics
  with a known truth (ERCC spike-ins, simulations);
* :mod:`~scmaskgan.evaluation.structure`: clusters against labels, and embeddings;
* :mod:`~scmaskgan.evaluation.integration`: batches mixed, cell types kept apart;
* :mod:`~scmaskgan.evaluation.protocol_s`: protocol S, structure that is not there;
* :mod:`~scmaskgan.evaluation.uncertainty`: calibration of detection probabilities and the coverage
  of intervals from draws;
* :mod:`~scmaskgan.evaluation.questions`: each protocol's questions to the count model, asked.

What the analysis notebooks compute: :mod:`~scmaskgan.evaluation.genes` (gene-gene correlation,
variable genes, markers), :mod:`~scmaskgan.evaluation.enrichment` (GO enrichment) and
:mod:`~scmaskgan.evaluation.trajectory` (pseudotime).

The benchmark harness (data sets, other methods, the runner, the count model's target checks) is
:mod:`scmaskgan.benchmarking`. The protocols' scoring functions are importable from here:
``from scmaskgan.evaluation import score_hidden, hide_nonzero``.
"""

from __future__ import annotations

from .protocols import (
    KEEP,
    SCORED_ANSWER,
    benchmark_genes,
    cluster_scores,
    hide_nonzero,
    score_hidden,
    score_thinning,
    thin,
)

__all__ = ["KEEP", "SCORED_ANSWER", "benchmark_genes", "cluster_scores", "hide_nonzero", "score_hidden",
           "score_thinning", "thin"]
