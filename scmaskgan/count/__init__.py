"""The count model (``mode="count"``, the default): a cell-conditional network that predicts each entry's
count law and answers, per zero, the expected value, the value if detected and the probability of
detection, with draws for multiple imputation.

* :mod:`~scmaskgan.count.settings`: :class:`~scmaskgan.count.settings.CountSettings`, its settings, checked
  at construction (no torch);
* :mod:`~scmaskgan.count.method`: :class:`~scmaskgan.count.method.CountMethod`, the method behind
  :class:`scmaskgan.SCMaskGAN` (training, answers on the input's scale, draws, state);
* :mod:`~scmaskgan.count.model`: :class:`~scmaskgan.count.model.CountModel`, the network's training on
  the input's own molecule splits, its answers and draws;
* :mod:`~scmaskgan.count.network`: the generator (MLP or conv encoder) and the count likelihood;
* :mod:`~scmaskgan.count.answers`: what a (zero-inflated) negative binomial says about each entry;
* :mod:`~scmaskgan.count.read_counts`: reads per molecule and ``hide``, chosen on the input's own
  hidden non-zeros;
* :mod:`~scmaskgan.count.discriminator`: the optional GAIN discriminator with the paper's hint.
"""
