"""The count model's answers: what a (zero-inflated) negative-binomial prediction says about each entry.

A learned model predicts, for every entry ``(i, j)`` of a cells x genes count matrix, the law of
the count ``c`` at the cell's own library size ``lib[i]``: a negative binomial with mean
``mu[i, j]`` and inverse dispersion ``theta`` (per gene or per entry),

``P(c) = Gamma(c + theta) / (Gamma(theta) c!) (theta / (theta + mu))^theta (mu / (theta + mu))^c``

(mean ``mu``, variance ``mu + mu^2 / theta``), optionally zero-inflated: with probability
``pi[i, j]`` the count is a structural zero. This module turns such predictions into

* :func:`count_answers`: three numbers per entry on the log-normalised scale
  ``v(c) = log1p(c * target_sum / lib[i])``: the expected value, the expected value if the gene
  is detected, and the probability that it is detected (a numba kernel,
  ``scmaskgan.count._answers_kernel``);
* :func:`sample_counts`: integer draws from the predicted laws (gamma-Poisson).

Importing this module does not import torch.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._validation import InputError

__all__ = ["CountAnswers", "count_answers", "sample_counts"]

#: Entries per block of rows handed to the kernel (and per block of draws).
BLOCK_ENTRIES = 1 << 20


class CountAnswers(NamedTuple):
    """The three answers of :func:`count_answers`, float32 arrays of ``mu``'s shape."""

    mean: np.ndarray
    """``E[v(c)]``: the expected log-normalised value, zeros counted."""
    if_detected: np.ndarray
    """``E[v(c) | c > 0]``: the value the gene would have if detected."""
    p_detected: np.ndarray
    """``P(c > 0)``: the probability that the gene is detected."""


def _dense(x: Any, what: str) -> np.ndarray:
    if sp.issparse(x):
        raise InputError(f"{what} must be a dense array, got a scipy sparse matrix; use .toarray() first.")
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise InputError(f"{what} must hold real numbers, got dtype {x.dtype}.")
    return x


def _check_range(x: np.ndarray, what: str, *, low: float, low_open: bool, high: float | None = None) -> None:
    """Raise unless every value of ``x`` is finite and in the range (two reductions, no temporaries)."""
    if x.size == 0:
        return
    lo, hi = x.min(), x.max()  # NaN propagates into both
    if not (np.isfinite(lo) and np.isfinite(hi)):
        n_bad = int(np.count_nonzero(~np.isfinite(x)))
        raise InputError(f"{what} holds {n_bad} NaN or infinite value(s); every value must be finite.")
    if lo < low or (low_open and lo == low):
        n_bad = int(np.count_nonzero(x <= low if low_open else x < low))
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        raise InputError(f"{what} must be {bound} everywhere; {n_bad} value(s) are not (minimum {lo:g}).")
    if high is not None and hi > high:
        n_bad = int(np.count_nonzero(x > high))
        raise InputError(f"{what} must be <= {high:g} everywhere; {n_bad} value(s) are not (maximum {hi:g}).")


def _per_gene_or_entry(x: Any, shape: tuple[int, int], what: str, *, low: float, low_open: bool,
                       high: float | None = None) -> np.ndarray:
    """``x`` as a 2-D array with one row (a scalar or one value per gene) or ``shape``."""
    x = _dense(x, what)
    if x.ndim == 0 or x.shape in ((shape[1],), (1, shape[1])):
        x = x.reshape(1, -1) if x.ndim else np.full((1, shape[1]), x)
    elif x.shape != shape:
        raise InputError(
            f"{what} must be a scalar, have one value per gene (shape ({shape[1]},)) or mu's shape {shape}; "
            f"got shape {x.shape}."
        )
    _check_range(x, what, low=low, low_open=low_open, high=high)
    return x


def _check_mu(mu: Any) -> np.ndarray:
    mu = _dense(mu, "mu")
    if mu.ndim != 2:
        raise InputError(f"mu must be two-dimensional (cells x genes), got shape {mu.shape}.")
    _check_range(mu, "mu", low=0.0, low_open=False)
    return mu


def _float_rows(x: np.ndarray, start: int, stop: int, dtype: np.dtype) -> np.ndarray:
    """Rows ``start:stop`` of ``x`` (all of it where it has one row), C-contiguous in ``dtype``:
    a view where ``x`` already is, else a copy of those rows only."""
    block = x if x.shape[0] <= 1 else x[start:stop]
    return np.ascontiguousarray(block, dtype=dtype)


def count_answers(mu: Any, theta: Any, lib: Any, *, pi: Any = None, target_sum: float = 1e4,
                  max_count: int = 1024, n_threads: int = 1) -> CountAnswers:
    """Expected log-normalised value, value if detected and detection probability of NB/ZINB counts.

    For every entry ``(i, j)``, with ``c`` drawn from the predicted law (a negative binomial
    ``NB(mu[i, j], theta)``, a structural zero with probability ``pi[i, j]``) and
    ``v(c) = log1p(c * target_sum / lib[i])``:

    * ``mean = E[v(c)]``: the expected value given everything the model knows (a zero counts);
    * ``if_detected = E[v(c) | c > 0]``: the level the gene would have if detected. Zero inflation
      does not change it; where ``P(c > 0)`` tends to 0 (``mu -> 0``) it tends to ``v(1)``, the
      value of a single count, and is ``v(1)`` where ``mu = 0``;
    * ``p_detected = P(c > 0) = (1 - pi) (1 - (1 + mu / theta) ** -theta)``.

    ``mean = p_detected * if_detected`` holds exactly.

    Parameters
    ----------
    mu
        Predicted means, cells x genes, finite and non-negative. Dense; float32 or float64
        C-contiguous arrays are read in place, others are converted one block of rows at a time.
    theta
        Inverse dispersions, ``> 0`` and finite: a scalar, one per gene (shape ``(genes,)``) or one
        per entry (``mu``'s shape). Large values approach the Poisson law.
    lib
        Library size of each cell, shape ``(cells,)``, positive.
    pi
        Zero-inflation probabilities in ``[0, 1]`` (same shapes as ``theta``), or ``None`` for a
        plain negative binomial.
    target_sum
        Counts per cell of the log-normalised scale.
    max_count
        Most terms of the exact sum over counts. The sum is used where it needs about that many
        terms or fewer (``mu + 25 (1 + mu / theta) <= max_count``) and stops once the part left is
        below ``1e-10`` of what has been summed; elsewhere ``E[log1p(c s)]`` is computed from the
        NB generating function as a one-dimensional integral, ``int_0^inf e^-u (1 - G(e^-su)) du / u``
        (trapezoid rule in ``log u``, 35 to 65 nodes), whose cost does not grow with ``mu``. Both
        are exact up to a relative error below ``1e-8``, so nothing jumps at the switch; see
        ``scmaskgan.count._answers_kernel``.
    n_threads
        Threads that share the blocks of rows (the kernel releases the GIL).

    Returns
    -------
    CountAnswers
        ``(mean, if_detected, p_detected)``, float32 arrays of ``mu``'s shape.

    Raises
    ------
    InputError
        For shapes that do not fit, NaN or infinite values, negative ``mu``, ``theta <= 0``,
        ``pi`` outside ``[0, 1]``, non-positive library sizes or parameters out of range.

    Notes
    -----
    The kernel is compiled with numba on first use (a few seconds) and cached on disk. Rows are
    processed in blocks of about a million entries; besides the three float32 outputs, at most one
    block-sized copy per input is made (where an input is not C-contiguous float32/float64).
    On typical predictions (most ``mu`` below 1, a few per cent up to a few hundred) it takes about
    0.2 microseconds of one core per entry: 10,000 x 2,000 entries in about 4 s, 100,000 x 2,000
    in under a minute. The entries that cost most are mid-range ``mu`` with small ``theta``
    (a few hundred terms, about 1 microsecond) and those handed to the integral (about 2).
    """
    mu = _check_mu(mu)
    n_cells, n_genes = mu.shape
    theta = _per_gene_or_entry(theta, mu.shape, "theta", low=0.0, low_open=True)
    pi = (np.zeros((0, n_genes)) if pi is None
          else _per_gene_or_entry(pi, mu.shape, "pi", low=0.0, low_open=False, high=1.0))
    lib = _dense(lib, "lib")
    if lib.shape != (n_cells,):
        raise InputError(f"lib must hold one library size per cell (shape ({n_cells},)), got shape {lib.shape}.")
    _check_range(lib, "lib", low=0.0, low_open=True)
    lib = lib.astype(np.float64)
    if isinstance(target_sum, bool) or not isinstance(target_sum, Real) or not (0 < target_sum < np.inf):
        raise InputError(f"target_sum must be a positive finite number, got {target_sum!r}.")
    if isinstance(max_count, bool) or not isinstance(max_count, Integral) or max_count < 1:
        raise InputError(f"max_count must be a positive integer, got {max_count!r}.")
    if isinstance(n_threads, bool) or not isinstance(n_threads, Integral) or n_threads < 1:
        raise InputError(f"n_threads must be a positive integer, got {n_threads!r}.")

    from ._answers_kernel import answers_dense  # numba: compiled on first use, cached on disk

    dtype = mu.dtype if mu.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    out = CountAnswers(*(np.empty(mu.shape, dtype=np.float32) for _ in range(3)))
    rows = max(1, BLOCK_ENTRIES // max(n_genes, 1))

    def run(start: int) -> None:
        stop = min(start + rows, n_cells)
        answers_dense(_float_rows(mu, start, stop, dtype), _float_rows(theta, start, stop, dtype),
                      _float_rows(pi, start, stop, dtype), lib[start:stop], float(target_sum), int(max_count),
                      out.mean[start:stop], out.if_detected[start:stop], out.p_detected[start:stop])

    starts = range(0, n_cells, rows)
    if n_threads == 1 or len(starts) == 1:
        for start in starts:
            run(start)
    else:
        with ThreadPoolExecutor(min(n_threads, len(starts))) as pool:
            list(pool.map(run, starts))
    return out


def _detected_draws(m: np.ndarray, th: np.ndarray, rng: np.random.Generator, rounds: int = 8) -> np.ndarray:
    """Draws of NB(``m``, ``th``) given that the count is positive (``m`` and ``th`` of one shape; 1 where
    ``m == 0``, the limit as ``m -> 0``).

    Zeros are redrawn up to ``rounds`` times (rejection: exact, and quick where ``P(c > 0)`` is not
    small); the entries still at zero then take the inverse of the zero-truncated distribution
    function, summed term by term (``P(k + 1) = P(k) (k + th) / (k + 1) * m / (th + m)``), which
    needs few terms exactly where rejection would need many (small ``m``).
    """
    out = rng.poisson(rng.gamma(th, m / th))
    todo = np.flatnonzero((out == 0) & (m > 0))
    for _ in range(rounds):
        if not todo.size:
            break
        redraw = rng.poisson(rng.gamma(th.flat[todo], m.flat[todo] / th.flat[todo]))
        out.flat[todo] = redraw
        todo = todo[redraw == 0]
    if todo.size:
        mt, tt = m.flat[todo], th.flat[todo]
        q = mt / (tt + mt)
        log_p0 = tt * np.log(tt / (tt + mt))
        target = rng.random(todo.size) * -np.expm1(log_p0)  # the mass above zero to reach
        pk = np.exp(log_p0) * tt * q  # P(1)
        k, cum = np.ones(todo.size), pk.copy()
        active = np.flatnonzero(cum < target)
        while active.size:
            pk[active] *= (k[active] + tt[active]) / (k[active] + 1) * q[active]
            k[active] += 1
            cum[active] += pk[active]
            active = active[(cum[active] < target[active]) & (pk[active] > 0)]
        out.flat[todo] = k
    out[m <= 0] = 1
    return out


def sample_counts(mu: Any, theta: Any, *, pi: Any = None, rng: np.random.Generator,
                  detected: bool = False) -> np.ndarray:
    """Integer draws from the predicted (zero-inflated) negative binomials, one per entry of ``mu``.

    Each count is drawn as a gamma-Poisson mixture: ``lam ~ Gamma(shape=theta, scale=mu / theta)``,
    ``c ~ Poisson(lam)``, which is ``NB(mu, theta)``; with zero inflation it is then set to 0 with
    probability ``pi``. With ``detected``, each count is drawn given ``c > 0`` (the law behind the
    ``if_detected`` answer; zero inflation does not change it), and is 1 where ``mu = 0``. The draws
    are made one block of rows at a time, in a fixed order, so the same generator state and shapes
    give the same draws.

    Parameters
    ----------
    mu
        Means, cells x genes, finite and non-negative.
    theta
        Inverse dispersions, ``> 0``: a scalar, one per gene or one per entry.
    pi
        Zero-inflation probabilities in ``[0, 1]`` (same shapes as ``theta``), or ``None``.
    rng
        The random generator (``numpy.random.default_rng(seed)``).
    detected
        Draw each count given that it is positive.

    Returns
    -------
    numpy.ndarray
        int64 counts of ``mu``'s shape.
    """
    if not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)), got {type(rng)}.")
    if not isinstance(detected, (bool, np.bool_)):
        raise InputError(f"detected must be True or False, got {detected!r}.")
    mu = _check_mu(mu)
    theta = _per_gene_or_entry(theta, mu.shape, "theta", low=0.0, low_open=True)
    if pi is not None:
        pi = _per_gene_or_entry(pi, mu.shape, "pi", low=0.0, low_open=False, high=1.0)
    n_cells, n_genes = mu.shape
    out = np.empty(mu.shape, dtype=np.int64)
    rows = max(1, BLOCK_ENTRIES // max(n_genes, 1))
    for start in range(0, n_cells, rows):
        stop = min(start + rows, n_cells)
        m = mu[start:stop].astype(np.float64)
        th = np.broadcast_to(_float_rows(theta, start, stop, np.float64), m.shape)
        if detected:
            out[start:stop] = _detected_draws(m, np.ascontiguousarray(th), rng)
            continue
        lam = rng.gamma(th, m / th)
        block = rng.poisson(lam)
        if pi is not None:
            block[rng.random(m.shape) < np.broadcast_to(pi if pi.shape[0] == 1 else pi[start:stop], m.shape)] = 0
        out[start:stop] = block
    return out
