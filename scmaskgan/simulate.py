"""Splatter-style simulation of scRNA-seq counts with known truth.

The model follows Splatter's ``splatSimulate`` (Zappia, Phipson and Oshlack, Genome
Biology 18, 174, 2017), in a vectorised float32 form that runs in blocks of cells:

1. **Gene means**: ``lambda_g ~ Gamma(mean_shape, rate=mean_rate)``.
2. **Batches** (``n_batches > 1``): each batch b has a factor per gene,
   ``LogNormal(batch_fac_loc, batch_fac_scale)``, multiplying the means of its cells.
3. **Groups**: each gene is differentially expressed (DE) in group k with probability
   ``de_prob``; its factor is ``LogNormal(de_fac_loc, de_fac_scale)``, inverted
   (down-regulation) with probability ``de_down_prob``; other genes have factor 1.
4. **Trajectory** (``trajectory=True``): each group is a path from a common start
   profile (the base means) to an end profile (base means x the group's DE factors).
   A cell with pseudotime ``t ~ Uniform(0, 1)`` (``obs["time"]``) has means
   ``lambda_g * f_gk ** t``: linear interpolation of the log means.
5. **Library sizes**: ``L_c ~ LogNormal(lib_loc, lib_scale)``; each cell's means are
   rescaled to proportions and multiplied by ``L_c``.
6. **Biological variation**: ``BCV_cg = (bcv + 1 / sqrt(mu_cg)) * sqrt(bcv_df / chi2_c(bcv_df))``,
   ``lambda_cg ~ Gamma(1 / BCV^2, scale=mu_cg * BCV^2)``, true counts ``~ Poisson(lambda_cg)``
   (a gamma-Poisson, i.e. negative binomial).
7. **Dropout**: entry (c, g) is dropped with probability
   ``1 / (1 + exp(-dropout_shape * (log(lambda_cg) - dropout_mid)))``; a negative shape
   makes lowly expressed entries drop more often. ``dropout_shape=0`` or
   ``dropout_mid=None`` turns dropout off.

Defaults (2,000 genes) give a median of about 4,900 true counts per cell, about 49% zeros
in the true counts and about 79% zeros in the observed counts, so that 30% of all entries
are dropouts (the paper's datasets range from 40% to over 90% zeros). Raising
``dropout_mid`` (2.0: about 84% observed zeros) or lowering ``lib_loc`` (7.0 with
``dropout_mid=1.0``: about 92%) gives sparser data; ``dropout_mid=0`` about 64%.
Splatter's own defaults (``de_fac_loc=0.1``, ``lib_loc=11``, ``dropout_mid=0``) model
deeper sequencing and weaker group differences.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._validation import InputError, check_param

__all__ = ["simulate"]

logger = logging.getLogger("scmaskgan")

#: Matrix entries drawn per block of cells (about 4 M: tens of MB of temporaries). The block
#: size depends only on ``n_genes``, so a seed gives the same data on every machine; each
#: block has its own child random stream.
_BLOCK_ENTRIES = 1 << 22


def _stack(blocks: list, dtype: type) -> sp.csr_matrix:
    """Stack CSR blocks of cells and empty the list (one matrix is doubled at a time)."""
    out = sp.vstack(blocks, format="csr", dtype=dtype)
    blocks.clear()
    return out


def _check_prob(name: str, value: Any) -> float:
    return float(check_param(name, value, float, low=0.0, high=1.0))


def simulate(
    n_cells: int = 1000,
    n_genes: int = 2000,
    n_groups: int = 3,
    *,
    group_prob: Any = None,
    de_prob: float = 0.1,
    de_down_prob: float = 0.5,
    de_fac_loc: float = 0.5,
    de_fac_scale: float = 0.4,
    lib_loc: float = 8.5,
    lib_scale: float = 0.3,
    mean_shape: float = 0.6,
    mean_rate: float = 0.3,
    bcv: float = 0.2,
    bcv_df: float = 60.0,
    dropout_mid: float | None = 1.5,
    dropout_shape: float = -1.0,
    trajectory: bool = False,
    n_batches: int = 1,
    batch_fac_loc: float = 0.1,
    batch_fac_scale: float = 0.1,
    seed: int = 0,
    keep_truth: bool = True,
):
    """Simulate a cells x genes count matrix with known true counts and dropout mask.

    Parameters
    ----------
    n_cells, n_genes
        Size of the matrix.
    n_groups
        Number of cell groups (cell types), or of trajectory paths when ``trajectory``.
    group_prob
        Probability of each group (length ``n_groups``, summing to 1); equal by default.
    de_prob
        Probability that a gene is differentially expressed in a group.
    de_down_prob
        Probability that a DE factor is a down-regulation (factor inverted).
    de_fac_loc, de_fac_scale
        Location and scale (of the log) of the log-normal DE factors.
    lib_loc, lib_scale
        Location and scale (of the log) of the log-normal library sizes.
    mean_shape, mean_rate
        Shape and rate of the gamma distribution of gene means.
    bcv
        Common biological coefficient of variation.
    bcv_df
        Degrees of freedom of the scaled inverse chi-squared variation of the BCV per cell.
    dropout_mid
        Log mean expression at which the dropout probability is 0.5; ``None`` turns
        dropout off.
    dropout_shape
        Slope of the logistic dropout curve in log mean expression (negative: lowly
        expressed entries drop more often); 0 turns dropout off.
    trajectory
        When true, groups are paths from a shared start profile to group-specific end
        profiles and every cell has a pseudotime in ``obs["time"]``.
    n_batches
        Number of batches (``obs["batch"]`` when more than one).
    batch_fac_loc, batch_fac_scale
        Location and scale (of the log) of the log-normal batch factors per gene.
    seed
        Seed of all random draws; the same seed gives the same data.
    keep_truth
        Keep the true counts and the dropout mask as layers (False keeps only ``X``: about a
        third of the memory, for cost measurements at atlas scale).

    Returns
    -------
    anndata.AnnData
        ``X``: observed counts (CSR, float32); ``layers["true_counts"]`` (CSR, float32);
        ``layers["dropout"]`` (CSR, bool): entries with a true count > 0 that dropout set
        to 0. ``obs``: ``group`` (categorical), ``lib_size``, ``time`` (trajectory),
        ``batch`` (several batches). ``var``: ``base_mean``, ``de_fac_<group>``,
        ``batch_fac_<batch>``. ``uns["simulation"]``: every parameter, and the zero
        rates of the true and observed counts.

    Raises
    ------
    InputError
        For out-of-range parameters.

    Examples
    --------
    >>> from scmaskgan.simulate import simulate
    >>> adata = simulate(n_cells=200, n_genes=500, n_groups=2, seed=1)
    >>> adata.layers["dropout"].shape
    (200, 500)
    """
    import anndata as ad

    check_param("n_cells", n_cells, int, low=1)
    check_param("n_genes", n_genes, int, low=1)
    check_param("n_groups", n_groups, int, low=1)
    check_param("n_batches", n_batches, int, low=1)
    check_param("seed", seed, int, low=0)
    de_prob = _check_prob("de_prob", de_prob)
    de_down_prob = _check_prob("de_down_prob", de_down_prob)
    for name, value in (("de_fac_loc", de_fac_loc), ("lib_loc", lib_loc), ("batch_fac_loc", batch_fac_loc),
                        ("dropout_shape", dropout_shape)):
        check_param(name, value, float)
    for name, value in (("de_fac_scale", de_fac_scale), ("lib_scale", lib_scale), ("bcv", bcv),
                        ("batch_fac_scale", batch_fac_scale)):
        check_param(name, value, float, low=0.0)
    for name, value in (("mean_shape", mean_shape), ("mean_rate", mean_rate), ("bcv_df", bcv_df)):
        check_param(name, value, float, low=0.0, low_inclusive=False)
    check_param("dropout_mid", dropout_mid, float, allow_none=True)
    check_param("trajectory", trajectory, bool)
    check_param("keep_truth", keep_truth, bool)
    if group_prob is None:
        group_prob = np.full(n_groups, 1.0 / n_groups)
    else:
        group_prob = np.asarray(group_prob, dtype=np.float64).ravel()
        if group_prob.size != n_groups or (group_prob < 0).any() or not np.isclose(group_prob.sum(), 1.0):
            raise InputError(
                f"group_prob must hold {n_groups} non-negative probabilities summing to 1, got {group_prob.tolist()}."
            )
        group_prob = group_prob / group_prob.sum()
    dropout_on = dropout_mid is not None and dropout_shape != 0

    ss = np.random.SeedSequence(seed)
    gene_rng, cell_rng = (np.random.default_rng(s) for s in ss.spawn(2))

    # Gene-level parameters (independent of n_cells).
    base_mean = gene_rng.gamma(mean_shape, 1.0 / mean_rate, size=n_genes)
    is_de = gene_rng.random((n_groups, n_genes)) < de_prob
    fac = gene_rng.lognormal(de_fac_loc, de_fac_scale, size=(n_groups, n_genes))
    down = gene_rng.random((n_groups, n_genes)) < de_down_prob
    de_fac = np.where(is_de, np.where(down, 1.0 / fac, fac), 1.0)
    if n_batches > 1:
        batch_fac = gene_rng.lognormal(batch_fac_loc, batch_fac_scale, size=(n_batches, n_genes))
    else:
        batch_fac = np.ones((1, n_genes))

    # Cell-level parameters.
    group = cell_rng.choice(n_groups, size=n_cells, p=group_prob)
    batch = cell_rng.integers(0, n_batches, size=n_cells) if n_batches > 1 else np.zeros(n_cells, dtype=np.int64)
    time = cell_rng.random(n_cells) if trajectory else None
    lib_size = cell_rng.lognormal(lib_loc, lib_scale, size=n_cells)
    bcv_chi2 = cell_rng.chisquare(bcv_df, size=n_cells)

    log_base = np.log(base_mean)
    log_de = np.log(de_fac)
    log_batch = np.log(batch_fac)
    true_blocks, obs_blocks, drop_blocks = [], [], []
    nnz_true = nnz_drop = 0
    block = max(1, _BLOCK_ENTRIES // n_genes)
    n_blocks = -(-n_cells // block)
    for b, child in enumerate(ss.spawn(n_blocks)):
        rng = np.random.default_rng(child)
        sl = slice(b * block, min((b + 1) * block, n_cells))
        g = group[sl]
        weight = time[sl, None] if trajectory else 1.0
        log_mu = log_base[None, :] + weight * log_de[g] + log_batch[batch[sl]]
        log_mu -= log_mu.max(1, keepdims=True)
        mu = np.exp(log_mu)
        mu *= (lib_size[sl] / mu.sum(1))[:, None]
        mu = np.maximum(mu, 1e-12).astype(np.float32)
        cell_bcv = bcv + 1.0 / np.sqrt(mu)
        cell_bcv *= np.sqrt(bcv_df / bcv_chi2[sl]).astype(np.float32)[:, None]
        var = cell_bcv * cell_bcv
        del cell_bcv
        lam = rng.gamma(1.0 / var, mu * var).astype(np.float32)
        del var, mu
        true = rng.poisson(lam).astype(np.float32)
        if dropout_on:
            with np.errstate(divide="ignore", over="ignore"):
                logit = -dropout_shape * (np.log(lam) - dropout_mid)
                p_drop = 1.0 / (1.0 + np.exp(logit))
            dropped = (rng.random(lam.shape, dtype=np.float32) < p_drop) & (true > 0)
            del p_drop, logit
        else:
            dropped = np.zeros(lam.shape, dtype=bool)
        del lam
        nnz_true += int(np.count_nonzero(true))
        nnz_drop += int(np.count_nonzero(dropped))
        if keep_truth:
            true_blocks.append(sp.csr_matrix(true))
            drop_blocks.append(sp.csr_matrix(dropped))
        true[dropped] = 0
        obs_blocks.append(sp.csr_matrix(true))
        del true, dropped

    observed = _stack(obs_blocks, np.float32)
    layers = {"true_counts": _stack(true_blocks, np.float32), "dropout": _stack(drop_blocks, bool)} if keep_truth else {}

    group_names = [f"Group{k + 1}" for k in range(n_groups)]
    obs = pd.DataFrame(index=[f"Cell{i + 1}" for i in range(n_cells)])
    obs["group"] = pd.Categorical.from_codes(group, categories=group_names)
    obs["lib_size"] = lib_size.astype(np.float32)
    if trajectory:
        obs["time"] = time.astype(np.float32)
    if n_batches > 1:
        obs["batch"] = pd.Categorical.from_codes(batch, categories=[f"Batch{k + 1}" for k in range(n_batches)])
    var = pd.DataFrame(index=[f"Gene{j + 1}" for j in range(n_genes)])
    var["base_mean"] = base_mean.astype(np.float32)
    for k, name in enumerate(group_names):
        var[f"de_fac_{name}"] = de_fac[k].astype(np.float32)
    if n_batches > 1:
        for k in range(n_batches):
            var[f"batch_fac_Batch{k + 1}"] = batch_fac[k].astype(np.float32)

    total = float(n_cells) * n_genes
    params = {
        "model": "splatter-style (gamma means, log-normal library sizes and DE factors, gamma-Poisson, "
                 "logistic dropout)",
        "n_cells": n_cells, "n_genes": n_genes, "n_groups": n_groups, "group_prob": group_prob.tolist(),
        "de_prob": de_prob, "de_down_prob": de_down_prob, "de_fac_loc": float(de_fac_loc),
        "de_fac_scale": float(de_fac_scale), "lib_loc": float(lib_loc), "lib_scale": float(lib_scale),
        "mean_shape": float(mean_shape), "mean_rate": float(mean_rate), "bcv": float(bcv), "bcv_df": float(bcv_df),
        "dropout_mid": None if dropout_mid is None else float(dropout_mid), "dropout_shape": float(dropout_shape),
        "dropout": bool(dropout_on), "trajectory": bool(trajectory), "n_batches": n_batches,
        "batch_fac_loc": float(batch_fac_loc), "batch_fac_scale": float(batch_fac_scale), "seed": seed,
        "zero_rate_true": 1.0 - nnz_true / total,
        "zero_rate_observed": 1.0 - observed.nnz / total,
        "dropout_rate": nnz_drop / total,
    }
    if params["dropout_mid"] is None:
        del params["dropout_mid"]  # h5ad cannot store None
    adata = ad.AnnData(X=observed, obs=obs, var=var,
                       layers=layers, uns={"simulation": params})
    logger.info("simulated %d cells x %d genes: %.1f%% zeros observed (%.1f%% true, %.1f%% dropouts)",
                n_cells, n_genes, 100 * params["zero_rate_observed"], 100 * params["zero_rate_true"],
                100 * params["dropout_rate"])
    return adata
