"""Data-parallel GAN training across processes with ``torch.distributed``.

Launch any scmaskgan entry point with ``torchrun``; every process (rank) reads the same data,
trains the generator and discriminator wrapped in ``DistributedDataParallel`` on its share of
each epoch's batches (gradients are averaged across ranks after every step), and rank 0
imputes and writes the result::

    # one machine, 2 processes (CPU: gloo backend; CUDA: nccl, one GPU per process)
    torchrun --standalone --nproc_per_node 2 -m scmaskgan impute data.h5ad -o out.h5ad --mode paper

    # two machines with 4 GPUs each (run on both; node_rank 0 and 1)
    torchrun --nnodes 2 --nproc_per_node 4 --node_rank 0 --rdzv_backend c10d \\
        --rdzv_endpoint HOST0:29500 -m scmaskgan impute data.h5ad -o out.h5ad --mode paper --device cuda

From Python, call :func:`init` at the start of a script launched by torchrun; ``SCMaskGAN.train``
then trains data-parallel by itself. The default mode trains nothing, so it gains nothing here.
"""

from __future__ import annotations

import logging
import os

import torch

logger = logging.getLogger("scmaskgan")

__all__ = ["init", "is_distributed", "rank", "world_size", "is_main", "local_device"]


def is_distributed() -> bool:
    """Whether a process group with more than one process is running."""
    return torch.distributed.is_available() and torch.distributed.is_initialized() and world_size() > 1


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return torch.distributed.get_rank() if _initialized() else 0


def world_size() -> int:
    """Number of processes (1 without a process group)."""
    return torch.distributed.get_world_size() if _initialized() else 1


def is_main() -> bool:
    """True on rank 0 (and always without a process group): the process that imputes and writes."""
    return rank() == 0


def _initialized() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def local_device(device: torch.device) -> torch.device:
    """The CUDA device of this process (``cuda:LOCAL_RANK``) when training on CUDA data-parallel."""
    if device.type == "cuda" and is_distributed():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device


def init(backend: str | None = None) -> bool:
    """Join the process group that ``torchrun`` describes in the environment.

    Does nothing (returns False) when the environment holds no ``WORLD_SIZE`` above 1 or a
    group already exists. ``backend`` defaults to ``nccl`` when CUDA is available, else ``gloo``.
    """
    if _initialized() or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    torch.distributed.init_process_group(backend=backend)
    logger.info("torch.distributed: rank %d of %d (%s)", rank(), world_size(), backend)
    return True
