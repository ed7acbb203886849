"""The benchmark harness: data sets, other methods, the runner and the count model's target checks.

It scores with :mod:`scmaskgan.evaluation` (which never imports it):

* :mod:`~scmaskgan.benchmarking.data`: the benchmark's data sets (:data:`~scmaskgan.benchmarking.data.DATASETS`) and
  :func:`~scmaskgan.benchmarking.data.prepare`, which gives a data set's inputs for protocols A and B and scores them;
* :mod:`~scmaskgan.benchmarking.baselines`: other imputation methods behind one call (registry:
  :mod:`~scmaskgan.benchmarking.registry`; DeepImpute and DCA in their own environment:
  :mod:`~scmaskgan.benchmarking.peers`, which runs ``peers_runner.py``);
* :mod:`~scmaskgan.benchmarking.benchmark`: methods x data sets, each method run in its own process
  (:func:`~scmaskgan.benchmarking.benchmark.run_benchmark`; :mod:`~scmaskgan.benchmarking.child`: the one way to run measured work in a
  child process);
* :mod:`~scmaskgan.benchmarking.comparison`: methods side by side in one process (the benchmark page);
* :mod:`~scmaskgan.benchmarking.cost`: time and memory against the number of cells;
* :mod:`~scmaskgan.benchmarking.checks`: the count model's calibration and coverage against their
  targets;
* :mod:`~scmaskgan.benchmarking.trajectory_data`: the trajectory notebook's data.

``from scmaskgan.benchmarking import prepare, DATASETS, run_benchmark``.
"""

from __future__ import annotations

from .benchmark import DEFAULT_METHODS, METHODS, METRICS, MethodSpec, run_benchmark
from .data import DATASETS, DEFAULT_DATASETS, DatasetSpec, Prepared, prepare

__all__ = ["DATASETS", "DEFAULT_DATASETS", "DEFAULT_METHODS", "METHODS", "METRICS", "DatasetSpec", "MethodSpec",
           "Prepared", "prepare", "run_benchmark"]
