"""Cost of imputation methods against the number of cells (the paper's Fig. 6), measured on simulated data.

Every run is a child process started by :func:`scmaskgan.benchmarking.child.run_in_child`, so that
its peak memory is its own. Used by the book's cost notebook.

- :func:`write_dense_npy`: a sparse matrix to a dense float64 ``.npy`` file, block by block;
- :func:`measure_cost`: simulate each size, run every method on it, one row per run;
- :func:`fit_loglog` and :func:`cost_slopes`: power-law slopes of runtime and memory;
- :func:`largest_common_size` and :func:`describe_cost`: where to compare, and a summary in words.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

logger = logging.getLogger("scmaskgan")

__all__ = ["COST_COLUMNS", "write_dense_npy", "measure_cost", "fit_loglog", "cost_slopes", "largest_common_size",
           "describe_cost"]

#: Columns of :func:`measure_cost`'s table.
COST_COLUMNS = ("n_cells", "n_genes", "method", "method_s", "wall_s", "peak_rss_mb", "status", "error")


def write_dense_npy(matrix: Any, path: str | Path, block: int = 4096) -> None:
    """Write a cells x genes matrix (sparse or dense) to a dense float64 ``.npy`` file, ``block`` cells at a time.

    The dense matrix is never held in memory as a whole: the file is a memory map filled block by block.
    """
    import scipy.sparse as sp

    check_param("block", block, int, low=1)
    if getattr(matrix, "ndim", 2) != 2:
        raise InputError(f"write_dense_npy() needs a two-dimensional matrix, got shape {matrix.shape}.")
    rows = sp.csr_matrix(matrix) if sp.issparse(matrix) else np.asarray(matrix)
    out = np.lib.format.open_memmap(str(path), mode="w+", dtype=np.float64, shape=rows.shape)
    for start in range(0, rows.shape[0], block):
        part = rows[start:start + block]
        out[start:start + block] = part.toarray() if sp.issparse(part) else part
    out.flush()
    del out


def measure_cost(sizes: Sequence[int], methods: Sequence[str], options: Mapping[str, Mapping[str, Any]], *,
                 n_genes: int, n_groups: int = 5, data_seed: int = 0, seed: int = 0, threads: int | None = 1,
                 max_cells: Mapping[str, int] | None = None, max_seconds: float = 3600.0,
                 run: Callable[..., dict] | None = None) -> "pd.DataFrame":
    """Runtime and peak memory of every method at every number of cells, each run in its own process.

    For each size: :func:`scmaskgan.simulate.simulate` (the same seed and settings at every size),
    the observed counts written with :func:`write_dense_npy`, then each method in a child process.
    A failed run is recorded with the end of its error and the others go on; a method whose run
    took longer than ``max_seconds`` is recorded as skipped at the larger sizes.

    Parameters
    ----------
    sizes
        Numbers of cells (run in increasing order).
    methods
        Benchmark rows (:data:`~scmaskgan.benchmarking.benchmark.METHODS`).
    options
        Keyword arguments of each method (e.g. :func:`~scmaskgan.benchmarking.comparison.method_options`).
    n_genes, n_groups, data_seed
        Of the simulation; its groups are the labels of the methods that use labels.
    seed
        Seed of every method.
    threads
        Thread limit of each child (``None``: the libraries' defaults).
    max_cells
        ``{method: largest size}``: the method does not run (no row) above it.
    max_seconds
        Wall time after which a method is not run at the larger sizes.
    run
        The runner, :func:`~scmaskgan.benchmarking.child.run_in_child` by default (a test may
        pass another with the same signature).

    Returns
    -------
    pandas.DataFrame
        One row per size and method: :data:`COST_COLUMNS` and ``threads``.
    """
    import pandas as pd

    from ..simulate import simulate
    from .benchmark import METHODS, run_in_child

    sizes = sorted(int(n) for n in sizes)
    if not sizes or sizes[0] < 1:
        raise InputError(f"sizes must be positive numbers of cells, got {sizes}.")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown methods {unknown}; choose from {list(METHODS)}.")
    run = run or run_in_child
    max_cells = dict(max_cells or {})
    rows, too_slow = [], {}
    with tempfile.TemporaryDirectory(prefix="scmaskgan-cost-") as tmp:
        folder = Path(tmp)
        for n in sizes:
            t0 = time.perf_counter()
            sim = simulate(n_cells=n, n_genes=n_genes, n_groups=n_groups, seed=data_seed)
            input_file, labels_file = folder / f"{n}.input.npy", folder / f"{n}.labels.npy"
            write_dense_npy(sim.X, input_file)
            np.save(labels_file, sim.obs["group"].to_numpy().astype(str))  # str: the child loads it without pickle
            zeros = 1 - sim.X.nnz / (sim.n_obs * sim.n_vars) if hasattr(sim.X, "nnz") else float(np.mean(sim.X == 0))
            del sim
            logger.info("%d cells: simulated in %.0f s, %.0f%% zeros", n, time.perf_counter() - t0, 100 * zeros)
            for name in methods:
                if n > max_cells.get(name, n):
                    continue
                row = {"n_cells": n, "n_genes": n_genes, "method": name, "status": "ok", "error": ""}
                if name in too_slow:
                    rows.append(row | {"status": "skipped", "error": f"over max_seconds at {too_slow[name]} cells"})
                    continue
                tag, spec = f"{n}.{name}", METHODS[name]
                task = {"baseline": spec.baseline, "input": str(input_file), "seed": seed,
                        "options": dict(options.get(name, {})),
                        "labels": str(labels_file) if spec.true_labels else None,
                        "output": None, "result": str(folder / f"{tag}.result.json"), "log_level": "WARNING"}
                try:
                    row |= run(task, folder, tag, threads)
                except RuntimeError as exc:
                    row |= {"status": "failed", "error": " ".join(str(exc).split())[-500:]}  # the end holds the error
                rows.append(row)
                if row["status"] == "ok":
                    logger.info("%d cells, %s: %.1f s method, %.1f s wall, %.0f MB peak", n, name, row["method_s"],
                                row["wall_s"], row["peak_rss_mb"])
                    if row["wall_s"] > max_seconds:
                        too_slow[name] = n
                else:
                    logger.warning("%d cells, %s failed: ...%s", n, name, row["error"][-300:])
            input_file.unlink()
    cost = pd.DataFrame(rows).reindex(columns=list(COST_COLUMNS))
    cost["threads"] = "default" if threads is None else threads
    return cost


def fit_loglog(n_cells: Any, values: Any) -> tuple[float, float, np.ndarray]:
    """Power law ``values = 10**intercept * n_cells**slope`` fitted over the larger half of the sizes.

    Least squares of ``log10(values)`` on ``log10(n_cells)`` over the positive values of the
    ``max(2, n - n // 2)`` largest sizes.

    Returns
    -------
    slope, intercept : float
        NaN when fewer than two sizes have a positive value.
    fitted : numpy.ndarray
        The sizes the line was fitted to.
    """
    n_cells = np.asarray(n_cells, dtype=np.float64).ravel()
    values = np.asarray(values, dtype=np.float64).ravel()
    if n_cells.size != values.size:
        raise InputError(f"n_cells ({n_cells.size}) and values ({values.size}) must have the same length.")
    ok = np.isfinite(values) & (values > 0) & (n_cells > 0)
    order = np.argsort(n_cells[ok], kind="stable")
    x, y = n_cells[ok][order], values[ok][order]
    x, y = x[-max(2, x.size - x.size // 2):], y[-max(2, y.size - y.size // 2):]
    if x.size < 2 or np.ptp(x) == 0:
        return float("nan"), float("nan"), x
    slope, intercept = np.polyfit(np.log10(x), np.log10(y), 1)
    return float(slope), float(intercept), x


def cost_slopes(cost: "pd.DataFrame", methods: Sequence[str] | None = None,
                columns: Sequence[str] = ("method_s", "peak_rss_mb")) -> "pd.DataFrame":
    """:func:`fit_loglog` of every method and cost column over the successful runs of :func:`measure_cost`.

    ``none`` gets no runtime slope (no imputation takes no time; its memory is the floor of every run).

    Returns
    -------
    pandas.DataFrame
        ``method``, ``cost``, ``slope``, ``intercept``, ``fitted_sizes`` (a list), one row per fit.
    """
    import pandas as pd

    ok = cost[cost["status"] == "ok"]
    methods = list(methods) if methods is not None else list(dict.fromkeys(ok["method"]))
    rows = []
    for column in columns:
        for name in methods:
            part = ok[ok["method"] == name]
            if part.empty or (column == "method_s" and name == "none"):
                continue
            slope, intercept, fitted = fit_loglog(part["n_cells"], part[column])
            rows.append({"method": name, "cost": column, "slope": slope, "intercept": intercept,
                         "fitted_sizes": [int(n) for n in fitted]})
    return pd.DataFrame(rows, columns=["method", "cost", "slope", "intercept", "fitted_sizes"])


def largest_common_size(cost: "pd.DataFrame") -> int:
    """The largest number of cells at which every method that succeeded anywhere succeeded (else the
    size with the most successful methods)."""
    ok = cost[cost["status"] == "ok"]
    if ok.empty:
        raise InputError("no run succeeded.")
    ran = ok.groupby("n_cells")["method"].nunique()
    everyone = ran[ran == ok["method"].nunique()]
    return int(everyone.index.max()) if len(everyone) else int(ran.idxmax())


def describe_cost(cost: "pd.DataFrame", slopes: "pd.DataFrame", methods: Sequence[str], *,
                  preset: str = "full") -> str:
    """The cost notebook's findings in words (markdown bullet points).

    Parameters
    ----------
    cost
        :func:`measure_cost`'s table.
    slopes
        :func:`cost_slopes` of it.
    methods
        The methods, in the order to describe them.
    preset
        The size preset; a bullet says so unless ``"full"``.

    Returns
    -------
    str
        Markdown.
    """
    def slope_of(name: str, column: str) -> float:
        found = slopes[(slopes["method"] == name) & (slopes["cost"] == column)]["slope"]
        return float(found.iloc[0]) if len(found) else float("nan")

    ok = cost[cost["status"] == "ok"]
    lines = []
    largest = ok.loc[ok.groupby("method")["n_cells"].idxmax()].set_index("method") if len(ok) else ok
    for name in [m for m in methods if m in largest.index and m != "none"]:
        r = largest.loc[name]
        t_slope, m_slope = slope_of(name, "method_s"), slope_of(name, "peak_rss_mb")
        lines.append(f"- `{name}`: {r['method_s']:.1f} s and {r['peak_rss_mb']:,.0f} MB at {int(r['n_cells']):,} cells"
                     + (f"; runtime slope {t_slope:.2f}" if np.isfinite(t_slope) else "")
                     + (f", memory slope {m_slope:.2f}" if np.isfinite(m_slope) else "") + ".")
    if "none" in largest.index:
        r = largest.loc["none"]
        lines.append(f"- *none* (start, read and write only): {r['wall_s']:.1f} s wall and {r['peak_rss_mb']:,.0f} MB "
                     f"at {int(r['n_cells']):,} cells. Memory slopes are flattened by this floor at small sizes.")
    both = ok[ok["method"].isin(["scmaskgan", "scmaskgan_paper"])].pivot(index="n_cells", columns="method",
                                                                          values="method_s").dropna()
    if {"scmaskgan", "scmaskgan_paper"} <= set(both.columns) and len(both):
        ratio = both["scmaskgan_paper"] / both["scmaskgan"]
        span = f"about {ratio.mean():.1f}" if ratio.max() - ratio.min() < 0.5 else f"{ratio.min():.1f} to {ratio.max():.1f}"
        lines.append(f"- The paper mode (GAN training and generated candidates) took {span} times as long as the "
                     f"default mode at the sizes where both ran ({', '.join(f'{n:,}' for n in both.index)} cells).")
    failed = cost[cost["status"] != "ok"]
    if len(failed):
        lines.append(f"- {len(failed)} run(s) did not finish or were skipped: "
                     + "; ".join(f"`{r.method}` at {r.n_cells:,} cells ({r.status})" for r in failed.itertuples()) + ".")
    if preset != "full":
        sizes = sorted(set(int(n) for n in cost["n_cells"]))
        lines.append(f"- This copy ran with the **{preset} preset** ({', '.join(f'{n:,}' for n in sizes)} cells); "
                     "slopes over so few and such small sizes are rough, and fixed costs weigh more than they do at "
                     "100,000 cells.")
    return "\n".join(lines)
