"""The GAN wing: cells as N x N images, the networks, their adversarial training, generated candidates.

* :mod:`~scmaskgan.gan.layout`: a cell's gene vector as a padded N x N image and back;
* :mod:`~scmaskgan.gan.modules`: the generator ``G(z, y)`` and discriminator ``D(x, y)`` (torch);
* :mod:`~scmaskgan.gan.training`: the adversarial training loop and its convergence measure;
* :mod:`~scmaskgan.gan.candidates`: each label's generated profiles and the Isolation Forest;
* :mod:`~scmaskgan.gan.conditional`: :class:`~scmaskgan.gan.conditional.ConditionalGAN`, the paper's
  GAN as one component that :class:`scmaskgan.SCMaskGAN` builds in the paper's mode;
* :mod:`~scmaskgan.gan.distributed`: data-parallel training under ``torchrun``.

Importing this package does not import torch; its modules that build networks do.
"""
