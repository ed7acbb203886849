"""The neighbour fill: how a cell's zeros take values from similar cells (every mode; no torch).

* :mod:`~scmaskgan.fill.imputer`: :class:`~scmaskgan.fill.imputer.NeighbourFill`, the whole
  imputation step (pools, embedding, threshold, tuning, fill, back to the input's scale);
* :mod:`~scmaskgan.fill.neighbours`: distances, the threshold theta and the k-nearest weights;
* :mod:`~scmaskgan.fill.rules`: the mean and Poisson fill rules (its kernel compiled with numba);
* :mod:`~scmaskgan.fill.tuning`: the Optuna search of ``k`` and ``k_sigma`` on hidden observed entries.
"""
