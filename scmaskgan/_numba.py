"""Compiling the package's numba kernels (the neighbour fill's Poisson rule, the count model's answers)."""

from __future__ import annotations

from collections.abc import Callable

import numba

__all__ = ["jit"]


def jit(func: Callable) -> Callable:
    """Compile ``func`` with numba (``nogil``), cached on disk where a cache folder can be written.

    Where numba finds no writable cache folder (a read-only install, no home) it compiles in each
    process instead of failing.
    """
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except RuntimeError:  # no writable cache folder: compile in each process
        return numba.njit(nogil=True)(func)
