"""Compiled kernel of :func:`scmaskgan.count.answers.count_answers` (numba, imported on first use).

For every entry ``(i, j)`` of a dense cells x genes matrix of negative-binomial means ``mu`` with
inverse dispersions ``theta`` and zero-inflation probabilities ``pi``, and with
``s = target_sum / lib_i``, it writes

* ``mean = (1 - pi) * S``, with ``S = E[log1p(c s)]`` for ``c ~ NB(mu, theta)``;
* ``if_detected = S / D``, with ``D = P(c > 0) = 1 - (1 + mu / theta) ** -theta``
  (``log1p(s)``, the value of one count, where ``mu = 0``);
* ``p_detected = (1 - pi) * D``.

A structural zero adds nothing to ``S`` (``log1p(0) = 0``) and leaves the law of ``c`` given
``c > 0`` unchanged, so zero inflation only scales ``mean`` and ``p_detected``.

``S`` is computed in one of two ways, both exact up to a relative error below ``1e-8``:

* **Sum over counts** (:func:`nb_log_sum`): ``c = 1, 2, ...`` with the mass built up recursively,
  ``P(c + 1) = P(c) (c + theta) / (c + 1) * mu / (theta + mu)``, and ``log1p(c s)`` from a per-cell
  table. The ratio of successive terms ``P(k) log1p(k s)`` is at most
  ``rho_c = q (c + max(theta, 1)) / c`` for every ``k >= c`` (``q = mu / (theta + mu)``), so once
  ``rho_c < 1`` the rest of the sum is below ``term_c rho_c / (1 - rho_c)``; the sum stops when that
  bound falls below ``1e-10`` of what has been summed. It is tried when
  ``mu + 25 (1 + mu / theta) <= max_count`` (about the number of terms it needs) and abandoned if it
  has not stopped after ``max_count`` terms or ``P(0)`` underflows.
* **One-dimensional integral** (:func:`nb_log_integral`), everywhere else (large ``mu``, or
  ``mu / theta`` large): by Frullani's integral ``log1p(x) = int_0^inf e^-u (1 - e^(-u x)) du / u``
  and the NB probability generating function ``G(z) = (1 + (mu / theta) (1 - z)) ** -theta``,

  ``S = int_0^inf e^-u (1 - G(e^(-s u))) du / u``,

  evaluated with the trapezoid rule in ``t = log u`` (step ``h = 0.45``: the integrand is analytic in
  the strip ``|Im t| < pi / 2``, so the error falls like ``exp(-pi^2 / h)``; measured against exact
  sums it is below ``4e-9`` relative for ``mu >= 1``, ``theta`` in ``[0.05, 1e4]``, ``s`` in
  ``[0.1, 50]``), from ``u_lo`` up to ``u = 40`` (``e^-40 ~ 4e-18``); the nodes below ``u_lo`` are added in closed form from the
  integrand's first-order behaviour ``mu s u``, with ``u_lo`` chosen so that the second-order term
  there is below ``1e-11``. Its cost (35 to 65 nodes of four elementary functions) does not grow
  with ``mu``, unlike the sum's.

A second-order (delta) approximation ``log1p(mu s) - s^2 Var / (2 (1 + mu s)^2)`` with the NB
variance ``Var = mu + mu^2 / theta``, as in the Poisson kernel, is not used: its next term is of
order ``(1 / mu + 1 / theta)^2``, so it is only accurate when both ``mu`` and ``theta`` are large:
for ``mu`` from 10 to 1000 it is off by 0.03 to 0.3 at ``theta = 1`` and by 2 to 7 at
``theta = 0.05``, and needs ``theta >= 100`` and ``mu >= 100`` to come within ``1e-4``.
"""

from __future__ import annotations

import math

import numpy as np

from scmaskgan._numba import jit as _jit

#: Relative size of the tail left out of the sum over counts.
SUM_TOLERANCE = 1e-10
#: Step of the trapezoid rule in ``t = log u``.
INTEGRAL_STEP = 0.45
#: Upper end of the integral in ``u`` (the integrand is below ``e^-u``).
INTEGRAL_END = 40.0


@_jit
def nb_log_integral(mu: float, theta: float, scale: float) -> float:
    """``E[log1p(c * scale)]`` for ``c ~ NB(mu, theta)``, ``mu > 0``, by the integral over ``u``."""
    a = mu / theta
    ms = mu * scale
    # integrand e^-u (1 - G(e^-su)) = ms u - b u^2 + O(u^3) near u = 0
    b = ms + 0.5 * mu * scale * scale + 0.5 * ms * ms * (1.0 + 1.0 / theta)
    u_lo = min(1e-3, math.sqrt(2e-11 / b))
    h = INTEGRAL_STEP
    step = math.exp(h)
    total = 0.0
    u = u_lo
    while u < INTEGRAL_END:
        w = -math.expm1(-scale * u)  # 1 - e^(-s u)
        total += math.exp(-u) * -math.expm1(-theta * math.log1p(a * w))
        u *= step
    # the nodes u_lo e^(-k h), k >= 1, where the integrand is ms u: a geometric series
    return h * total + ms * u_lo * h / math.expm1(h)


@_jit
def nb_log_sum(mu: float, theta: float, log_p0: float, logs: np.ndarray, inv: np.ndarray, scale: float,
               filled: int) -> tuple[float, int]:
    """``E[log1p(c * scale)]`` for ``c ~ NB(mu, theta)`` by the sum over counts (``-1.0`` where it has not
    converged within ``len(logs) - 1`` terms). ``log_p0 = log P(c = 0)``; ``logs[c] = log1p(c * scale)``
    is filled up to ``filled`` and extended as needed; returns the sum and the new ``filled``."""
    max_count = logs.shape[0] - 1
    p_detect = -math.expm1(log_p0)
    pmf = 1.0 - p_detect if p_detect < 0.5 else math.exp(log_p0)  # P(0), an exp saved where it is exact
    if pmf == 0.0:  # P(0) underflows: the recursion cannot start
        return -1.0, filled
    q = mu / (theta + mu)
    lead = max(theta, 1.0)
    total = 0.0
    for c in range(1, max_count + 1):
        if c > filled:
            logs[c] = math.log1p(c * scale)
            filled = c
        pmf *= (c - 1.0 + theta) * q * inv[c]
        term = pmf * logs[c]
        total += term
        rho = q * (c + lead) * inv[c]  # bound on the ratio of all later successive terms
        if rho < 1.0 and total > 0.0 and term * rho <= SUM_TOLERANCE * total * (1.0 - rho):
            return total, filled
    return -1.0, filled


@_jit
def answers_dense(mu: np.ndarray, theta: np.ndarray, pi: np.ndarray, lib: np.ndarray, target_sum: float,
                  max_count: int, mean: np.ndarray, if_detected: np.ndarray, p_detected: np.ndarray) -> None:
    """Write the three answers of every entry of ``mu`` (cells x genes) into the float32 outputs.

    ``theta`` has one row (per gene) or ``mu``'s shape; ``pi`` has no rows (no zero inflation), one
    row (per gene) or ``mu``'s shape; ``lib`` one library size per row of ``mu``.
    """
    n_rows, n_genes = mu.shape
    inv = np.empty(max_count + 1)
    inv[0] = 0.0
    for c in range(1, max_count + 1):
        inv[c] = 1.0 / c
    logs = np.empty(max_count + 1)
    logs[0] = 0.0
    theta_rows = theta.shape[0]
    pi_rows = pi.shape[0]
    for i in range(n_rows):
        scale = target_sum / lib[i]
        filled = 0  # logs[1:] is filled lazily, per cell
        one_count = math.log1p(scale)
        ti = i if theta_rows > 1 else 0
        pr = i if pi_rows > 1 else 0
        for j in range(n_genes):
            m = np.float64(mu[i, j])
            kept = 1.0 - np.float64(pi[pr, j]) if pi_rows > 0 else 1.0
            if m <= 0.0:
                mean[i, j] = 0.0
                if_detected[i, j] = one_count  # the limit as mu -> 0
                p_detected[i, j] = 0.0
                continue
            th = np.float64(theta[ti, j])  # numba keeps float(float32) in float32
            log_p0 = -th * math.log1p(m / th)
            detect = -math.expm1(log_p0)
            total = -1.0
            if m + 25.0 * (1.0 + m / th) <= max_count:
                total, filled = nb_log_sum(m, th, log_p0, logs, inv, scale, filled)
            if total < 0.0:
                total = nb_log_integral(m, th, scale)
            mean[i, j] = kept * total
            if_detected[i, j] = total / detect
            p_detected[i, j] = kept * detect
