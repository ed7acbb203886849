"""The neighbour fill (``mode="neighbours"``): each zero of a cell takes a value from the most similar
real cells of its label, with a Poisson model at the cell's own depth (no training, no torch).

* :mod:`~scmaskgan.neighbours.settings`: :class:`~scmaskgan.neighbours.settings.NeighboursSettings`;
* :mod:`~scmaskgan.neighbours.method`: :class:`~scmaskgan.neighbours.method.NeighboursMethod`, the method
  behind :class:`scmaskgan.SCMaskGAN`;
* :mod:`~scmaskgan.neighbours.imputer`: :class:`~scmaskgan.neighbours.imputer.NeighbourFill`, the whole
  fill (pools, embedding, threshold, tuning, fill, back to the input's scale), which the paper's method
  also uses with generated candidates as the pool;
* :mod:`~scmaskgan.neighbours.distances`: distances, the threshold theta and the k-nearest weights;
* :mod:`~scmaskgan.neighbours.rules`: the mean and Poisson fill rules (its kernel compiled with numba);
* :mod:`~scmaskgan.neighbours.tuning`: the Optuna search of ``k`` and ``k_sigma`` on hidden observed entries.
"""
