"""Compiled kernel of :func:`scmaskgan.neighbours.rules.poisson_fill` (numba, imported on first use).

For every stored entry ``(i, j)`` of a sparse cells x genes matrix of expression fractions
``r``, with ``lam = r * lib_i``, ``s = target_sum / lib_i`` and ``c ~ Poisson(lam)``, it writes
``P ** alpha * E / max_value`` into a dense output, where ``P = 1 - exp(-lam)`` and
``E = E[log1p(c s) | c > 0]``.

``E`` is summed exactly over counts ``c = 1, 2, ...`` with the Poisson mass built up
recursively and ``log1p(c s)`` taken from a per-cell table, so each term costs a multiply and
an add. The sum stops once the terms left are below ``1e-16`` of ``P`` (the ratio of
successive terms is below 1 past the mode, so the tail is geometric), and never goes past
``max_count`` terms. Above ``lam = max_count / 3`` a second-order (delta) approximation
``log1p(lam s) - lam s^2 / (2 (1 + lam s)^2)`` is used instead.
"""

from __future__ import annotations

import math

import numpy as np

from scmaskgan._numba import jit as _jit


@_jit
def _expected_log_detected(lam: float, p_detect: float, scale: float, logs: np.ndarray, inv: np.ndarray,
                           max_count: int) -> float:
    """``E[log1p(c * scale) | c > 0]`` for ``c ~ Poisson(lam)``, ``lam > 0``, ``p_detect = P(c > 0)``
    (tables ``logs[c] = log1p(c * scale)``, ``inv[c] = 1 / c``)."""
    if lam >= max_count / 3.0:
        ls = lam * scale
        return math.log1p(ls) - lam * scale * scale / (2.0 * (1.0 + ls) ** 2)
    pmf = 1.0 - p_detect  # exp(-lam)
    total = 0.0
    tiny = 1e-16 * p_detect
    for c in range(1, max_count + 1):
        pmf *= lam * inv[c]
        total += pmf * logs[c]
        if c > lam:  # the terms left shrink at least geometrically, by ratio = lam / (c + 1) < 1
            ratio = lam * inv[c + 1]
            if pmf * ratio < tiny * (1.0 - ratio):
                break
    return total / p_detect


@_jit
def fill_csr(indptr: np.ndarray, indices: np.ndarray, rate: np.ndarray, lib: np.ndarray, alpha: float,
             max_value: float, target_sum: float, max_count: int, out: np.ndarray) -> None:
    """Write the fill of every stored entry of the CSR matrix ``(indptr, indices, rate)`` into ``out``."""
    logs = np.empty(max_count + 1)
    inv = np.empty(max_count + 2)
    inv[0] = 0.0
    for c in range(1, max_count + 2):
        inv[c] = 1.0 / c
    for i in range(lib.shape[0]):
        depth = lib[i] if lib[i] > 0 else 1.0
        scale = target_sum / depth
        for c in range(max_count + 1):
            logs[c] = math.log1p(c * scale)
        for pos in range(indptr[i], indptr[i + 1]):
            lam = rate[pos] * lib[i]
            if lam <= 0.0:
                continue  # no neighbour shows the gene: a true zero
            p_detect = -math.expm1(-lam)
            expressed = _expected_log_detected(lam, p_detect, scale, logs, inv, max_count)
            weight = 1.0 if alpha == 0.0 else (p_detect if alpha == 1.0 else p_detect ** alpha)
            out[i, indices[pos]] = weight * expressed / max_value
