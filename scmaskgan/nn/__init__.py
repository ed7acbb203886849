"""Torch pieces that the count model and the paper's GAN share.

* :mod:`~scmaskgan.nn.layout`: a cell's gene vector as a padded N x N image and back;
* :mod:`~scmaskgan.nn.blocks`: self-attention, the residual block and the label map;
* :mod:`~scmaskgan.nn.device`: ``"auto"``, ``"cpu"`` or ``"cuda"`` as a torch device;
* :mod:`~scmaskgan.nn.weights`: reading saved weights safely (tensors only);
* :mod:`~scmaskgan.nn.distributed`: data-parallel training under ``torchrun``.

Importing this package does not import torch; its modules that build networks do.
"""
