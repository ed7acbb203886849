"""The neighbour fill: each zero of a cell takes a value from its nearest pool members of the same label.

:class:`NeighbourFill` runs the whole imputation step of both modes, without torch:

1. **Pools** (:meth:`NeighbourFill.prepare`): per label, real cells of that label (the default
   mode), the GAN's generated candidates (the paper's mode, handed in by the caller), or both.
2. **Distances**: root-mean-square over a cell's observed genes (the paper), or Euclidean in a
   30-component PCA of the scaled values (:mod:`scmaskgan.neighbours.distances`); a real cell is
   never its own neighbour.
3. **Threshold and tuning**: ``theta = mu + k_sigma * sigma`` per label; optionally ``k`` and
   ``k_sigma`` searched with Optuna on hidden observed entries (:mod:`scmaskgan.neighbours.tuning`).
4. **Fill rule** (:mod:`scmaskgan.neighbours.rules`): the neighbours' mean, or the Poisson count model
   at the cell's own depth, mapped back to the input's scale.

Observed entries are left at 0 here; the caller copies the observed input values back exactly.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from ..cells import CellData
from .distances import distance_threshold, neighbour_weights, rms_distances
from .rules import fill_values, poisson_fill, pool_rates
from .tuning import LabelGroup, tune_knn, validation_mask

logger = logging.getLogger("scmaskgan")

__all__ = ["NeighbourFill"]

#: Settings of the neighbour fill that :class:`scmaskgan.SCMaskGAN` passes on.
SETTINGS = ("pool", "metric", "fill", "alpha", "k", "k_sigma", "max_real", "tune", "n_trials", "tune_candidates",
            "chunk_size", "seed", "mode")


class NeighbourFill:
    """Fill zeros from the nearest members of each label's pool.

    Parameters
    ----------
    data
        The model's cells (genes in use only) with their label codes.
    categories
        Label names, in code order (for messages and the per-label record).
    params
        The settings named in ``SETTINGS`` (see :class:`scmaskgan.SCMaskGAN` for each).

    Attributes
    ----------
    imputation_
        What :meth:`prepare` used: ``k``, ``k_sigma``, candidates per label, and per label its
        cell count, ``theta`` and pool size.
    tuning_
        The Optuna search's result, when tuning ran.
    """

    def __init__(self, data: CellData, categories: Any, params: dict[str, Any], cell_names: Any = None):
        self.data = data
        self.categories = categories
        self.params = {name: params[name] for name in SETTINGS}
        self.cell_names = None if cell_names is None else np.asarray(cell_names, dtype=str)
        self.imputation_: dict | None = None
        self.tuning_: dict | None = None
        self.fallback_: dict[int, np.ndarray] = {}  # label -> its cells with counts, when its pool is all other cells

    # ------------------------------------------------------------------ pools
    def _pool_members(self, cand_sets: dict, rng: np.random.Generator) -> dict[int, np.ndarray]:
        """Per label: the pool's members, generated candidates first (-1), then real cells (their index)."""
        p = self.params
        pools = {}
        for label in range(len(self.categories)):
            members = []
            if p["pool"] in ("generated", "both"):
                members.append(np.full(cand_sets[label].values.shape[0], -1))
            if p["pool"] in ("real", "both"):
                rows = np.flatnonzero((self.data.codes == label) & (self.data.lib > 0))
                if rows.size > p["max_real"]:
                    rows = np.sort(rng.choice(rows, p["max_real"], replace=False))
                if rows.size == 1 and p["pool"] == "real":  # a cell alone in its label: it would be its own
                    rows = self._fallback_pool(label, rows)  # neighbour and keep every zero
                members.append(rows)
            pools[label] = np.concatenate(members)
        return pools

    def _fallback_pool(self, label: int, alone: np.ndarray) -> np.ndarray:
        """The pool of a label with one cell with counts: the cells with counts of every other label (up to
        ``max_real``, drawn with a generator of its own, so that the other labels' pools do not change)."""
        others = np.flatnonzero((self.data.codes != label) & (self.data.lib > 0))
        if others.size == 0:
            return alone
        if others.size > self.params["max_real"]:
            rng = np.random.default_rng([self.params["seed"], label])
            others = np.sort(rng.choice(others, self.params["max_real"], replace=False))
        self.fallback_[label] = alone
        return others

    def _pool_values(self, members: np.ndarray, candidates: np.ndarray | None, embedding, *,
                     keep_values: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
        """[0, 1] values (``None`` unless ``keep_values``) and embedding (``None`` without one) of a pool's
        members, real cells read a few thousand at a time."""
        values, embedded = [], []
        if candidates is not None and (members < 0).any():
            values.append(candidates)
            if embedding is not None:
                embedded.append(embedding.transform(candidates))
        real = members[members >= 0]
        for i in range(0, real.size, 4096):
            v = self.data.values(real[i:i + 4096])
            if keep_values:
                values.append(v)
            if embedding is not None:
                embedded.append(embedding.transform(v))
        n_genes = self.data.X.shape[1]
        out_values = (np.vstack(values) if values else np.zeros((0, n_genes), np.float32)) if keep_values else None
        out_emb = None
        if embedding is not None:
            out_emb = np.vstack(embedded) if embedded else np.zeros((0, embedding.n_components_))
        return out_values, out_emb

    def _pool_rates(self, pool: np.ndarray, members: np.ndarray) -> sp.csr_matrix:
        """Expression fractions of the pool as a sparse matrix: a real cell's are exactly its
        counts over its library (sparse when the input is); a generated candidate's come
        from its [0, 1] values."""
        real = members >= 0
        scaler = self.data.scaler
        parts = []
        if (~real).any():
            parts.append(sp.csr_matrix(pool_rates(pool[~real], max_value=scaler.max_value,
                                                  target_sum=scaler.target_sum)))
        if real.any():  # raw counts here: the Poisson rule is refused for normalised input at construction
            rows = members[real]
            counts = sp.csr_matrix(self.data.X[rows], dtype=np.float32)
            parts.append(sp.diags((1.0 / self.data.lib[rows]).astype(np.float32)) @ counts)
        return sp.vstack(parts, format="csr") if len(parts) > 1 else parts[0].tocsr()

    def _report_fallback(self) -> dict:
        """Warn about the labels whose pool is all other cells; their record for ``imputation_`` (empty if none)."""
        if not self.fallback_:
            return {}
        labels = [str(self.categories[label]) for label in self.fallback_]
        cells = np.concatenate(list(self.fallback_.values()))
        names = [str(c) for c in (self.cell_names[cells] if self.cell_names is not None else cells)]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        logger.warning("%d label(s) hold a single cell with counts (%s%s; cell(s) %s%s): each such cell is imputed "
                       "from its nearest cells of all other labels instead of its own label's",
                       len(labels), ", ".join(repr(x) for x in labels[:5]), more,
                       ", ".join(repr(x) for x in names[:5]), more)
        return {"pool": "all other cells", "labels": labels, "cells": names}

    # -------------------------------------------------------------- distances
    def _embedding(self, rng: np.random.Generator):
        """PCA of the scaled values (fitted on up to 10,000 cells) for metric='pca', else None."""
        if self.params["metric"] != "pca":
            return None
        from sklearn.decomposition import PCA

        rows = np.flatnonzero(self.data.lib > 0)
        if rows.size > 10_000:
            rows = np.sort(rng.choice(rows, 10_000, replace=False))
        values = self.data.values(rows)
        n_comps = int(max(1, min(30, values.shape[0] - 1, values.shape[1] - 1)))
        return PCA(n_components=n_comps, random_state=self.params["seed"]).fit(values)

    @staticmethod
    def _distances(values: np.ndarray, visible: np.ndarray, pool: np.ndarray, pool_emb: np.ndarray | None,
                   embedding, cells: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Cell-to-pool distances on visible genes (or in PCA space); a cell's distance to itself is inf."""
        if embedding is None:
            d = rms_distances(values, visible, pool)
        else:
            from scipy.spatial.distance import cdist

            d = cdist(embedding.transform(np.where(visible, values, 0.0)), pool_emb)
        if (members >= 0).any():
            pos = {cell: j for j, cell in enumerate(members) if cell >= 0}
            for i, cell in enumerate(cells):
                j = pos.get(int(cell))
                if j is not None:
                    d[i, j] = np.inf
        return d

    # ------------------------------------------------------------------ rules
    def _fill_rule(self) -> Callable[..., np.ndarray]:
        """``rule(weights, pool, lib, rates=None)`` -> fill values ([0, 1] scale) of cells with libraries ``lib``
        (``rates``: the pool's :func:`~scmaskgan.neighbours.rules.pool_rates`, used by the Poisson rule)."""
        p, scaler = self.params, self.data.scaler
        if p["fill"] == "poisson":
            return partial(poisson_fill, alpha=p["alpha"], max_value=scaler.max_value, target_sum=scaler.target_sum)
        expressed_above = self._expressed_above()
        return lambda weights, pool, lib, rates=None: fill_values(weights, pool, alpha=p["alpha"],
                                                                  expressed_above=expressed_above)

    def _expressed_above(self) -> float:
        """Scaled value of half a count at the median library size: below it a pool value counts as 0."""
        scaler = self.data.scaler
        if not scaler.log:
            return 0.0
        lib = float(np.median(self.data.lib[self.data.lib > 0]))
        return float(np.log1p(0.5 / lib * scaler.target_sum) / scaler.max_value)

    # ---------------------------------------------------------------- prepare
    def _tune(self, rng, pools, pool_embs, embedding, n_gen, rule, k, k_sigma):
        """Optuna search of k and k_sigma (and the candidate count) on hidden observed entries."""
        p = self.params
        n_cells = self.data.n_cells
        rows = np.sort(rng.choice(n_cells, size=min(2000, n_cells), replace=False))
        rows = rows[self.data.lib[rows] > 0]
        values = self.data.values(rows)
        hidden = validation_mask(values, 0.1, p["seed"])
        visible = (values > 0) & ~hidden
        groups = []
        for lab, (pv, members) in pools.items():
            sel = np.flatnonzero(self.data.codes[rows] == lab)
            if sel.size and members.size:
                d = self._distances(values[sel], visible[sel], pv, pool_embs[lab], embedding, rows[sel], members)
                groups.append(LabelGroup(sel, d, pv, n_gen[lab]))
        scored = np.zeros(len(rows), bool)  # tuning cells whose label has a pool
        scored[np.concatenate([g.rows for g in groups])] = True
        result = tune_knn(values, hidden & scored[:, None],
                          groups, defaults={"k": k, "k_sigma": k_sigma}, n_trials=p["n_trials"],
                          tune_candidates=p["tune_candidates"],
                          fill=lambda w, pool, sel, tuned=rows: rule(w, pool, self.data.lib[tuned[sel]]),
                          seed=p["seed"])
        self.tuning_ = {"k": int(result.params["k"]), "k_sigma": float(result.params["k_sigma"]),
                        "n_candidates": int(result.params["n_candidates"]),
                        "validation_mse": result.mse, "default_mse": result.default_mse,
                        "n_validation": result.n_validation, "trials": result.trials}
        return result.params["k"], result.params["k_sigma"], result.params["n_candidates"]

    def prepare(self, *, tune: bool, candidates: dict | None = None) -> dict:
        """Pools, embedding, tuned k / k_sigma and each label's theta; records ``imputation_``.

        Parameters
        ----------
        tune
            Search ``k`` and ``k_sigma`` with Optuna first.
        candidates
            Per label, the generated candidates (a :class:`scmaskgan.paper.candidates.CandidateSet`)
            when the pool holds generated members.

        Returns
        -------
        dict
            The state that :meth:`fill_into` reads.
        """
        p = self.params
        rng = np.random.default_rng(p["seed"])
        cand_sets = candidates or {}
        self.fallback_ = {}
        members_of = self._pool_members(cand_sets, rng)
        fallback = self._report_fallback()
        embedding = self._embedding(rng)
        # PCA distances and the Poisson rule need only the pool's embeddings and rates: the dense values
        # of a real-cell pool are not kept then (tuning still scores fills from them)
        keep_values = tune or embedding is None or p["fill"] != "poisson" or p["pool"] != "real"
        pools, pool_embs = {}, {}
        for lab, members in members_of.items():
            pv, pool_embs[lab] = self._pool_values(members, cand_sets[lab].values if lab in cand_sets else None,
                                                   embedding, keep_values=keep_values)
            pools[lab] = (pv, members)
        n_gen = {lab: int((members < 0).sum()) for lab, members in members_of.items()}
        rule = self._fill_rule()
        k, k_sigma = p["k"], p["k_sigma"]
        n_cand = min(n_gen.values())
        if tune:
            k, k_sigma, n_cand = self._tune(rng, pools, pool_embs, embedding, n_gen, rule, k, k_sigma)
        self.imputation_ = {"k": int(k), "k_sigma": float(k_sigma), "n_candidates": int(n_cand), "pool": p["pool"],
                            "metric": p["metric"], "fill": p["fill"], "alpha": p["alpha"],
                            "mode": p["mode"], "labels": {}}
        if fallback:
            self.imputation_["fallback"] = fallback
        labels = {}
        for label, (pv, members) in pools.items():
            cols = np.r_[0:n_cand, n_gen[label]:members.size]
            members, pool_emb = members[cols], None if pool_embs[label] is None else pool_embs[label][cols]
            pool = None if pv is None else pv[cols]
            rows = np.flatnonzero(self.data.codes == label)
            if members.size == 0:
                logger.warning("label %r has no cell with counts to draw neighbours from; its cells are not imputed",
                               self.categories[label])
                continue
            sample = rows if rows.size <= 2000 else np.sort(rng.choice(rows, 2000, replace=False))
            v = self.data.values(sample)
            theta = distance_threshold(self._distances(v, v > 0, pool, pool_emb, embedding, sample, members), k_sigma)
            info = {"n_cells": int(rows.size), "theta": theta, "pool_size": int(members.size)}
            if label in self.fallback_:
                info["pool"] = "all other cells"
            if label in cand_sets:
                cset = cand_sets[label]
                info |= {"n_generated": cset.n_generated, "n_outliers": int(cset.n_generated - cset.values.shape[0]),
                         "tau": cset.threshold}
            self.imputation_["labels"][str(self.categories[label])] = info
            rates = self._pool_rates(pool, members) if p["fill"] == "poisson" else None
            if rates is not None and embedding is not None:
                pool = None  # PCA distances and the Poisson rule need only embeddings and rates
            labels[label] = (pool, members, pool_emb, theta, rates)
        return {"labels": labels, "embedding": embedding, "rule": rule, "k": k}

    # ------------------------------------------------------------------- fill
    def fill_into(self, out: np.ndarray, start: int, stop: int, state: dict, columns: np.ndarray) -> None:
        """Write the fill of rows ``start:stop`` into ``out[:, columns]`` on the input's scale
        (observed entries and empty cells get 0)."""
        codes = self.data.codes[start:stop]
        n_genes = self.data.X.shape[1]
        for label in np.unique(codes):
            if label not in state["labels"]:
                continue  # an empty pool: left unimputed (warned about once)
            pool, members, pool_emb, theta, rates = state["labels"][label]
            local = np.flatnonzero(codes == label)
            # bound the cells x genes work arrays of the fill (about 2**24 values at a time)
            step = max(1, min(self.params["chunk_size"], 2**24 // max(n_genes, 1)))
            for i in range(0, local.size, step):
                part = local[i:i + step]
                cells = start + part
                v = self.data.values(cells)
                observed = v > 0
                d = self._distances(v, observed, pool, pool_emb, state["embedding"], cells, members)
                w = sp.csr_matrix(neighbour_weights(d, state["k"], theta))  # k non-zeros per row
                fill = state["rule"](w, pool, self.data.lib[cells], rates=rates)
                values = np.where(observed, 0.0, self.data.scaler.inverse(fill, self.data.lib[cells]))
                values[self.data.lib[cells] == 0] = 0.0
                out[np.ix_(part, columns)] = values
