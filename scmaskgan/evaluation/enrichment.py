"""Marker genes of cell groups and their gene-set enrichment, on original and imputed data.

Used by the book's GO-enrichment notebook: :func:`rank_markers` (Wilcoxon tests of every group
against the rest), :func:`select_markers` (the rule that makes a marker), :func:`read_gene_sets`
and :func:`enrich` (gseapy's offline hypergeometric test against a local GMT file, with the genes
tested as background), :func:`significant_terms`, :func:`compare_terms` and
:func:`enrichment_by_group`.

scanpy and gseapy load when a function needs them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import anndata
    import pandas as pd

__all__ = ["ENRICH_COLUMNS", "rank_markers", "select_markers", "read_gene_sets", "enrich", "significant_terms",
           "compare_terms", "enrichment_by_group"]

#: Columns of gseapy's enrichment table (an empty table has them too).
ENRICH_COLUMNS = ["Gene_set", "Term", "Overlap", "P-value", "Adjusted P-value", "Odds Ratio", "Combined Score",
                  "Genes"]


def rank_markers(values: np.ndarray, gene_names: Sequence[str], groups: Sequence[str]) -> "anndata.AnnData":
    """Every group against all other cells: ``scanpy.tl.rank_genes_groups`` (Wilcoxon, Benjamini-Hochberg).

    Parameters
    ----------
    values
        Cells x genes log-normalised values.
    gene_names
        Names of the columns.
    groups
        Group of every cell.

    Returns
    -------
    anndata.AnnData
        The values, with the test results in ``uns["rank_genes_groups"]`` (read them with
        :func:`select_markers` or ``scanpy.get.rank_genes_groups_df``).
    """
    import anndata as ad
    import pandas as pd
    import scanpy as sc

    groups = np.asarray(groups).astype(str)
    if len(groups) != np.shape(values)[0]:
        raise InputError(f"rank_markers(): {len(groups)} groups for {np.shape(values)[0]} cells.")
    obs = pd.DataFrame({"group": pd.Categorical(groups)}, index=[str(i) for i in range(len(groups))])
    a = ad.AnnData(np.asarray(values, dtype=np.float32), obs=obs, var=pd.DataFrame(index=[str(g) for g in gene_names]))
    sc.tl.rank_genes_groups(a, "group", method="wilcoxon", reference="rest", use_raw=False, pts=True)
    return a


def select_markers(ranked: "anndata.AnnData", group: str, *, n_markers: int = 100, min_logfc: float = 1.0,
                   max_padj: float = 0.05) -> "pd.DataFrame":
    """The marker genes of ``group``: adjusted p below ``max_padj``, log2 fold change at least ``min_logfc``.

    Returns
    -------
    pandas.DataFrame
        At most ``n_markers`` rows of ``scanpy.get.rank_genes_groups_df``, highest score first
        (column ``names``: the genes).
    """
    import scanpy as sc

    check_param("n_markers", n_markers, int, low=1)
    known = list(ranked.obs["group"].cat.categories)
    if str(group) not in known:
        raise InputError(f"select_markers(): {group!r} is not a group; groups: {known}.")
    df = sc.get.rank_genes_groups_df(ranked, group=str(group))
    keep = (df["pvals_adj"] < max_padj) & (df["logfoldchanges"] >= min_logfc)
    return df[keep].sort_values("scores", ascending=False).head(n_markers).reset_index(drop=True)


def read_gene_sets(path: str) -> tuple[Path, dict]:
    """A local GMT file (``$VARS`` and ``~`` expanded): its path and ``{set name: [genes]}``.

    Raises
    ------
    InputError
        When the file does not exist.
    """
    import gseapy

    gmt = Path(os.path.expanduser(os.path.expandvars(path)))
    if not gmt.is_file():
        raise InputError(f"gene-set file {path!r} -> {gmt} not found: give a local GMT file "
                         "(e.g. $SCMASKGAN_DATA/GO_Biological_Process_2021.human.gmt).")
    return gmt, gseapy.read_gmt(str(gmt))


def enrich(genes: Sequence[str], gene_sets: "str | Path", background: Sequence[str]) -> "pd.DataFrame":
    """gseapy's offline hypergeometric test of ``genes`` against a GMT file, within ``background``.

    Returns
    -------
    pandas.DataFrame
        gseapy's table (:data:`ENRICH_COLUMNS`) of every set that overlaps ``genes``, smallest p
        first; an empty table with those columns when ``genes`` is empty.
    """
    import gseapy
    import pandas as pd

    genes = [str(g) for g in genes]
    if not genes:
        return pd.DataFrame(columns=ENRICH_COLUMNS)
    res = gseapy.enrich(genes, gene_sets=str(gene_sets), background=[str(g) for g in background], outdir=None,
                        no_plot=True, cutoff=1.0, verbose=False).results
    return res.sort_values("P-value", kind="stable").reset_index(drop=True)


def significant_terms(res: "pd.DataFrame", cutoff: float) -> set:
    """The terms of an enrichment table with adjusted p below ``cutoff``."""
    return set(res.loc[res["Adjusted P-value"] < cutoff, "Term"])


def compare_terms(enriched: Mapping[str, "pd.DataFrame"], cutoff: float) -> tuple["pd.DataFrame", dict]:
    """Terms of the ``"original"`` and ``"imputed"`` enrichment tables side by side.

    Returns
    -------
    table : pandas.DataFrame
        One row per term tested on either side: ``-log10`` adjusted p of each (0 where the term
        overlaps no marker), and ``found on``: ``"both"``, ``"only original"``, ``"only imputed"``
        or ``"neither"`` (adjusted p below ``cutoff``).
    summary : dict
        ``n_significant`` (per side), ``both``, ``only original``, ``only imputed`` (counts) and
        ``jaccard`` of the significant sets (NaN when neither has one).
    """
    import pandas as pd

    if set(enriched) != {"original", "imputed"}:
        raise InputError(f"compare_terms() needs the tables 'original' and 'imputed', got {sorted(enriched)}.")
    neglog = {k: -np.log10(r.set_index("Term")["Adjusted P-value"].astype(float).clip(lower=1e-300))
              for k, r in enriched.items()}
    table = pd.DataFrame({k: neglog[k] for k in ("original", "imputed")}).fillna(0.0)
    sig = {k: significant_terms(r, cutoff) for k, r in enriched.items()}
    shared, only_o, only_i = sig["original"] & sig["imputed"], sig["original"] - sig["imputed"], \
        sig["imputed"] - sig["original"]
    table["found on"] = ["both" if t in shared else "only original" if t in only_o else
                         "only imputed" if t in only_i else "neither" for t in table.index]
    union = shared | only_o | only_i
    summary = {"n_significant": {k: len(v) for k, v in sig.items()}, "both": len(shared),
               "only original": len(only_o), "only imputed": len(only_i),
               "jaccard": len(shared) / len(union) if union else float("nan")}
    return table, summary


def enrichment_by_group(ranked: Mapping[str, "anndata.AnnData"], gene_sets: "str | Path",
                        background: Sequence[str], cutoff: float, **marker_rule) -> "pd.DataFrame":
    """Markers and significant terms of every group, original against imputed.

    Parameters
    ----------
    ranked
        ``{"original": ..., "imputed": ...}`` of :func:`rank_markers`.
    gene_sets, background, cutoff
        As for :func:`enrich` and :func:`significant_terms`.
    **marker_rule
        ``n_markers``, ``min_logfc``, ``max_padj`` of :func:`select_markers`.

    Returns
    -------
    pandas.DataFrame
        One row per group: markers and significant terms on each side and in both, the Jaccard index
        of the terms, and the best (smallest p) term of each side.
    """
    import pandas as pd

    rows = {}
    for group in ranked["original"].obs["group"].cat.categories:
        mk = {k: select_markers(a, group, **marker_rule) for k, a in ranked.items()}
        en = {k: enrich(m["names"], gene_sets, background) for k, m in mk.items()}
        s = {k: significant_terms(r, cutoff) for k, r in en.items()}
        union = s["original"] | s["imputed"]
        rows[group] = {
            "markers original": len(mk["original"]), "markers imputed": len(mk["imputed"]),
            "markers both": len(set(mk["original"]["names"]) & set(mk["imputed"]["names"])),
            "terms original": len(s["original"]), "terms imputed": len(s["imputed"]),
            "terms both": len(s["original"] & s["imputed"]),
            "terms Jaccard": len(s["original"] & s["imputed"]) / len(union) if union else float("nan"),
            "best term original": en["original"]["Term"].iloc[0] if len(en["original"]) else "",
            "best term imputed": en["imputed"]["Term"].iloc[0] if len(en["imputed"]) else "",
        }
    return pd.DataFrame(rows).T
