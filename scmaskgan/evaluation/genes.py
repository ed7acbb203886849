"""Gene-level comparisons of original and imputed data, used by the book's analysis notebooks.

* cell-cycle genes (:data:`TIROSH_S`, :data:`TIROSH_G2M`, :func:`cell_cycle_groups`,
  :func:`read_gene_list`) and summaries of gene-gene correlation matrices
  (:func:`correlation_summary`, :func:`correlation_agreement`, :func:`cell_cycle_score`);
* highly variable genes (:func:`hvg_table`, :func:`set_overlap`) and the genes that mark each
  cell type (:func:`type_marker_genes`, :func:`zscore`);
* a gene's expression before and after imputation (:func:`expression_change`), and the group where
  its zeros were filled highest (:func:`fill_floor`).

numpy is imported with the module; pandas, scipy, scikit-learn and scanpy when a function needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from scmaskgan._validation import InputError, check_param

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["TIROSH_S", "TIROSH_G2M", "PAPER_COEXPRESSED", "cell_cycle_groups", "label_subset", "read_gene_list", "correlation_summary",
           "correlation_agreement", "cell_cycle_score", "hvg_table", "set_overlap", "type_marker_genes", "zscore",
           "expression_change", "fill_floor"]

#: S-phase genes of Tirosh et al., Science 352, 189-196 (2016), Table S5, as Seurat ships them (``cc.genes``).
TIROSH_S = """MCM5 PCNA TYMS FEN1 MCM2 MCM4 RRM1 UNG GINS2 MCM6 CDCA7 DTL PRIM1 UHRF1 MLF1IP HELLS RFC2 RPA2 NASP
RAD51AP1 GMNN WDR76 SLBP CCNE2 UBR7 POLD3 MSH2 ATAD2 RAD51 RRM2 CDC45 CDC6 EXO1 TIPIN DSCC1 BLM CASP8AP2 USP1
CLSPN POLA1 CHAF1B BRIP1 E2F8""".split()
#: G2/M genes of Tirosh et al. (2016), as Seurat ships them.
TIROSH_G2M = """HMGB2 CDK1 NUSAP1 UBE2C BIRC5 TPX2 TOP2A NDC80 CKS2 NUF2 CKS1B MKI67 TMPO CENPF TACC3 FAM64A SMC4
CCNB2 CKAP2L CKAP2 AURKB BUB1 KIF11 ANP32E TUBB4B GTSE1 KIF20B HJURP CDCA3 HN1 CDC20 TTK CDC25C KIF2C RANGAP1
NCAPD2 DLGAP5 CDCA2 CDCA8 ECT2 KIF23 HMMR AURKA PSRC1 ANLN LBR CKAP5 CENPE CTCF NEK2 G2E3 GAS2L3 CBX5 CENPA""".split()
#: The genes that the paper's Fig. 7A names as staying co-expressed after imputation (any symbol case).
PAPER_COEXPRESSED = ("MCM2", "MCM6", "NASP", "PCNA", "CDK1", "TOP2A")


def cell_cycle_groups(var_names: Sequence[str]) -> dict:
    """Tirosh et al.'s cell-cycle genes as ``{gene: "S" | "G2/M"}``, in the symbol style of ``var_names``.

    When most of the first 2,000 ``var_names`` look like mouse symbols (``Mcm2``: all letters after
    the first lower case), the genes are given as ``Gene.capitalize()``.
    """
    groups = {**{g: "S" for g in TIROSH_S}, **{g: "G2/M" for g in TIROSH_G2M}}
    names = [str(n) for n in list(var_names)[:2000]]
    if names and np.mean([n[1:] == n[1:].lower() for n in names]) > 0.5:
        groups = {g.capitalize(): grp for g, grp in groups.items()}
    return groups


def label_subset(names: Sequence[str], max_labels: int = 40, keep: Sequence[str] = ()) -> list[int]:
    """Which rows of a long, ordered gene list to label on a heatmap: at most ``max_labels``, not adjacent.

    The genes of ``keep`` (compared without case) are labelled first; the others are labelled at
    evenly spaced rows, skipping rows that are closer than half a step to a row already labelled, so
    that labels of 8 pt do not overprint.

    Parameters
    ----------
    names
        Gene names in the order of the heatmap's rows.
    max_labels
        Most rows labelled (the genes of ``keep`` count too).
    keep
        Genes to label wherever they are (when in ``names``).

    Returns
    -------
    list of int
        Row positions, ascending.

    >>> label_subset([f"G{i}" for i in range(10)], max_labels=4, keep=["g5"])
    [0, 3, 5, 9]
    """
    check_param("max_labels", max_labels, int, low=1)
    names = [str(n) for n in names]
    n = len(names)
    if n <= max_labels:
        return list(range(n))
    wanted = {str(k).upper() for k in keep}
    chosen = [i for i, name in enumerate(names) if name.upper() in wanted][:max_labels]
    step = int(np.ceil(n / max_labels))
    gap = max(1, step // 2 + (step % 2))
    for i in range(0, n, step):
        if len(chosen) >= max_labels:
            break
        if all(abs(i - j) >= gap for j in chosen):
            chosen.append(i)
    return sorted(chosen)


def read_gene_list(path: str) -> dict:
    """``{gene: group}`` from a text file: one gene per line, optionally followed by a group name.

    Fields are separated by a tab or spaces; lines starting with ``#`` and empty lines are skipped.
    The groups ``S``, ``G2M``, ``G2/M`` (any case) become ``"S"`` and ``"G2/M"``; a gene without a
    group gets ``"genes"``.

    Raises
    ------
    InputError
        When the file does not exist or lists no gene.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError(f"gene list {path!r} not found: give a text file with one gene per line.")
    groups = {}
    for line in file.read_text().splitlines():
        fields = line.split()
        if fields and not fields[0].startswith("#"):
            group = fields[1] if len(fields) > 1 else "genes"
            canonical = {"S": "S", "G2M": "G2/M"}.get(group.upper().replace("/", ""))
            groups[fields[0]] = canonical or group
    if not groups:
        raise InputError(f"gene list {path!r} lists no gene.")
    return groups


def _upper(n: int) -> np.ndarray:
    return np.triu(np.ones((n, n), bool), k=1)


def correlation_summary(corr: "pd.DataFrame", groups: Mapping[str, str]) -> dict:
    """Mean correlation within and between gene groups, and how a 2-cluster cut finds two groups.

    Parameters
    ----------
    corr
        Gene x gene correlation matrix (index = columns = gene names).
    groups
        Group of every gene of ``corr`` (a dict or a ``pandas.Series``).

    Returns
    -------
    dict
        ``"within G: mean r"`` for every group G, ``"between sets: mean r"`` (pairs of different
        groups), ``"all pairs: mean |r|"`` (NaN where there is no such pair), and with exactly two
        groups ``"ARI of 2 clusters vs sets"``: the adjusted Rand index between the groups and the
        average-linkage dendrogram on the correlation distance of the rows (as seaborn's
        ``clustermap`` draws it) cut into two clusters.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist
    from sklearn.metrics import adjusted_rand_score

    missing = [g for g in corr.index if g not in groups]
    if missing:
        raise InputError(f"correlation_summary(): no group for gene(s) {missing[:5]}.")
    g = np.array([groups[x] for x in corr.index])
    upper = _upper(len(g))
    vals = corr.to_numpy(dtype=np.float64)

    def mean(mask: np.ndarray, values: np.ndarray = vals) -> float:
        return float(np.nanmean(values[mask])) if mask.any() else float("nan")

    kinds = sorted(set(g))
    res = {f"within {a}: mean r": mean(upper & (g[:, None] == a) & (g[None, :] == a)) for a in kinds}
    res["between sets: mean r"] = mean(upper & (g[:, None] != g[None, :]))
    res["all pairs: mean |r|"] = mean(upper, np.abs(vals))
    if len(kinds) == 2 and len(g) > 2:
        clusters = fcluster(linkage(pdist(vals, metric="correlation"), method="average"), t=2, criterion="maxclust")
        res["ARI of 2 clusters vs sets"] = float(adjusted_rand_score(g, clusters))
    return res


def correlation_agreement(a: "pd.DataFrame", b: "pd.DataFrame") -> float:
    """Pearson correlation between the gene-pair entries (upper triangle) of two correlation matrices.

    Raises
    ------
    InputError
        When the matrices are not square with the same genes in the same order.
    """
    if a.shape != b.shape or a.shape[0] != a.shape[1] or list(a.index) != list(b.index):
        raise InputError("correlation_agreement() needs two square matrices of the same genes in the same order.")
    upper = _upper(a.shape[0])
    if upper.sum() < 2:
        return float("nan")
    return float(np.corrcoef(a.to_numpy()[upper], b.to_numpy()[upper])[0, 1])


def cell_cycle_score(values: np.ndarray, gene_names: Sequence[str], groups: Mapping[str, str],
                     seed: int = 0) -> np.ndarray:
    """A cell-cycle score of every cell: S score + G2/M score of :func:`scanpy.tl.score_genes_cell_cycle`.

    Parameters
    ----------
    values
        Cells x genes log-normalised values.
    gene_names
        Names of the columns of ``values``.
    groups
        ``{gene: group}`` of the genes to score with; the genes of ``gene_names`` are used. Without
        both an ``"S"`` and a ``"G2/M"`` gene, one :func:`scanpy.tl.score_genes` score over them all.
    seed
        Seed of scanpy's choice of reference genes.
    """
    import anndata as ad
    import pandas as pd
    import scanpy as sc

    a = ad.AnnData(np.asarray(values, dtype=np.float32), var=pd.DataFrame(index=[str(g) for g in gene_names]))
    used = [g for g in a.var_names if g in groups]
    if not used:
        raise InputError("cell_cycle_score(): none of the listed genes is in gene_names.")
    s_genes = [g for g in used if groups[g] == "S"]
    g2m_genes = [g for g in used if groups[g] == "G2/M"]
    if not s_genes or not g2m_genes:
        sc.tl.score_genes(a, used, random_state=seed)
        return a.obs["score"].to_numpy()
    sc.tl.score_genes_cell_cycle(a, s_genes=s_genes, g2m_genes=g2m_genes, random_state=seed)
    return (a.obs["S_score"] + a.obs["G2M_score"]).to_numpy()


def hvg_table(values: np.ndarray, gene_names: Sequence[str], n: int) -> "pd.DataFrame":
    """Highly variable genes (``scanpy.pp.highly_variable_genes``, Seurat flavour) of log-normalised values.

    Genes that are zero in every cell have no dispersion: they are left out of the selection and
    get ``highly_variable=False`` and ``dispersions_norm=NaN``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``gene_names``: ``highly_variable`` (bool) and
        ``dispersions_norm`` (float); ``n`` genes selected, or more where scanpy finds ties.
    """
    import anndata as ad
    import pandas as pd
    import scanpy as sc

    check_param("n", n, int, low=1)
    values = np.asarray(values, dtype=np.float32)
    names = pd.Index([str(g) for g in gene_names])
    keep = values.max(0) > 0
    table = pd.DataFrame({"highly_variable": False, "dispersions_norm": np.nan}, index=names)
    if keep.sum() < 2:
        return table
    sub = ad.AnnData(values[:, keep], var=pd.DataFrame(index=names[keep]))
    sc.pp.highly_variable_genes(sub, flavor="seurat", n_top_genes=min(n, int(keep.sum())))
    table.loc[sub.var_names, "highly_variable"] = sub.var["highly_variable"].to_numpy()
    table.loc[sub.var_names, "dispersions_norm"] = sub.var["dispersions_norm"].to_numpy()
    return table.astype({"highly_variable": bool, "dispersions_norm": float})


def set_overlap(original: set, imputed: set) -> dict:
    """Sizes of two sets, their intersection and differences, and their Jaccard index (NaN when both are empty)."""
    a, b = set(original), set(imputed)
    union = a | b
    return {"original": len(a), "imputed": len(b), "both": len(a & b), "only original": len(a - b),
            "only imputed": len(b - a), "jaccard": len(a & b) / len(union) if union else float("nan")}


def type_marker_genes(means: "pd.DataFrame", n: int) -> dict:
    """The genes that mark each cell type: ``{type: [genes]}``.

    Each gene (column of ``means``) belongs to the type (row) where its mean is highest; per type,
    the ``n`` of its genes with the largest difference between that type's mean and the mean of the
    other types' means are kept, largest first. Types without a gene are left out; the types keep
    the order of ``means``' rows.
    """
    check_param("n", n, int, low=1)
    home = means.idxmax(axis=0)
    selected = {}
    for t in means.index:
        cand = [g for g in means.columns if home[g] == t]
        if cand:
            gap = means.loc[t, cand] - means.drop(index=t)[cand].mean(axis=0)
            selected[t] = gap.sort_values(ascending=False, kind="stable").index[:n].tolist()
    return selected


def zscore(m: "pd.DataFrame") -> "pd.DataFrame":
    """Every column standardised over the rows (mean 0, sample standard deviation 1); constant columns NaN."""
    return (m - m.mean(0)) / m.std(0).replace(0, np.nan)


def expression_change(log_orig: np.ndarray, log_imp: np.ndarray, groups: Sequence[str]) -> dict:
    """One gene before and after imputation: zeros, means, filled values, pattern over groups.

    Parameters
    ----------
    log_orig, log_imp
        The gene's log-normalised values in every cell, original and imputed.
    groups
        Group (cluster) of every cell.

    Returns
    -------
    dict
        ``"cells at 0 (input)"``, ``"mean original"``, ``"mean imputed"``, ``"ratio imputed/original"``,
        ``"mean of observed values"`` (original, non-zero cells), ``"mean of filled values"``
        (imputed, cells at 0 in the input) and ``"cluster-mean Spearman"`` (of the per-group means
        before and after); NaN where undefined.
    """
    import pandas as pd
    from scipy.stats import spearmanr

    o, i = np.asarray(log_orig, dtype=np.float64), np.asarray(log_imp, dtype=np.float64)
    g = np.asarray(groups)
    if not (o.ndim == 1 and o.shape == i.shape == g.shape):
        raise InputError("expression_change() needs one value per cell in log_orig, log_imp and groups.")
    zero = o == 0
    means_o, means_i = pd.Series(o).groupby(g).mean(), pd.Series(i).groupby(g).mean()
    varied = means_o.nunique() > 1 and means_i.nunique() > 1
    nan = float("nan")
    return {
        "cells at 0 (input)": float(zero.mean()),
        "mean original": float(o.mean()),
        "mean imputed": float(i.mean()),
        "ratio imputed/original": float(i.mean() / o.mean()) if o.mean() > 0 else nan,
        "mean of observed values": float(o[~zero].mean()) if (~zero).any() else nan,
        "mean of filled values": float(i[zero].mean()) if zero.any() else nan,
        "cluster-mean Spearman": float(spearmanr(means_o, means_i).statistic) if varied else nan,
    }



def fill_floor(log_orig: np.ndarray, log_imp: np.ndarray, groups: Sequence[str], *, min_zeros: int = 3) -> dict:
    """The group whose zeros were all filled highest: the largest, over groups, of the lowest filled value.

    A value well above 0 means that imputation left no zero of that group near 0: every cell of the group
    that did not detect the gene was given at least that much.

    Parameters
    ----------
    log_orig, log_imp
        The gene's log-normalised values in every cell, original and imputed.
    groups
        Group (cluster) of every cell.
    min_zeros
        Groups with fewer zeros in the input are left out.

    Returns
    -------
    dict
        ``"group"`` (``None`` where no group has ``min_zeros`` zeros), ``"zeros"`` (its zeros in the
        input), ``"lowest filled"`` (the smallest imputed value among them; NaN without a group) and
        ``"observed mean"`` (the gene's mean over its non-zero original values, all groups; NaN if none).
    """
    import pandas as pd

    o, i = np.asarray(log_orig, dtype=np.float64), np.asarray(log_imp, dtype=np.float64)
    g = np.asarray(groups)
    if not (o.ndim == 1 and o.shape == i.shape == g.shape):
        raise InputError("fill_floor() needs one value per cell in log_orig, log_imp and groups.")
    check_param("min_zeros", min_zeros, int, low=1)
    zero = o == 0
    observed_mean = float(o[~zero].mean()) if (~zero).any() else float("nan")
    filled = pd.Series(i[zero]).groupby(g[zero])
    table = pd.DataFrame({"zeros": filled.size(), "lowest": filled.min()})
    table = table[table["zeros"] >= min_zeros]
    if table.empty:
        return {"group": None, "zeros": 0, "lowest filled": float("nan"), "observed mean": observed_mean}
    best = table["lowest"].idxmax()
    return {"group": str(best), "zeros": int(table.loc[best, "zeros"]),
            "lowest filled": float(table.loc[best, "lowest"]), "observed mean": observed_mean}
