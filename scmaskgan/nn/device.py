"""Where the networks run: ``"auto"``, ``"cpu"`` or ``"cuda"`` resolved to a torch device."""

from __future__ import annotations

import torch

from .._validation import InputError

__all__ = ["resolve_device"]


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a CUDA device is refused."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("device='cuda' was asked for but torch sees no CUDA device; use device='auto' or 'cpu'.")
    return torch.device(device)
