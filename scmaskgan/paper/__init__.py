"""The paper's method (``mode="paper"``): a conditional GAN draws candidate cells per label, an Isolation
Forest removes outlying candidates, and each cell's zeros are filled from its nearest candidates.

* :mod:`~scmaskgan.paper.settings`: :class:`~scmaskgan.paper.settings.PaperSettings` (no torch);
* :mod:`~scmaskgan.paper.method`: :class:`~scmaskgan.paper.method.PaperMethod`, the method behind
  :class:`scmaskgan.SCMaskGAN`;
* :mod:`~scmaskgan.paper.gan`: :class:`~scmaskgan.paper.gan.ConditionalGAN`, the networks, their training
  and the candidates they generate;
* :mod:`~scmaskgan.paper.networks`: the generator ``G(z, y)`` and discriminator ``D(x, y)``;
* :mod:`~scmaskgan.paper.training`: the adversarial training loop and its convergence measure;
* :mod:`~scmaskgan.paper.candidates`: each label's generated profiles and the Isolation Forest.

The fill itself is the neighbour fill's (:mod:`scmaskgan.neighbours`), with the candidates as the pool.
"""
