"""Methods side by side in one process: the benchmark's rows run on the protocol inputs, and how the
paper's metrics (against the original data) rank them beside the held-out truth.

Used by the book's benchmark and cost notebooks; ``scmaskgan benchmark``
(:mod:`scmaskgan.benchmarking.benchmark`) runs the same rows, each in its own process.

- :func:`select_methods`: benchmark rows by name, checked, without those not installed;
- :func:`method_options`: the keyword arguments of one row for a size preset;
- :func:`run_methods`: every row on every input, timed;
- :func:`heldout_tables`: protocol A and B scores of every method's outputs;
- :func:`method_ranks` and :func:`describe_benchmark`: the two rankings and a summary in words;
- figures of the benchmark notebook, one panel per method or one bar per method
  (:func:`plot_label_umaps`, :func:`plot_cv_zscores`, :func:`plot_heldout`,
  :func:`plot_paper_vs_heldout`), coloured by :func:`method_colour`.

matplotlib loads when a figure is drawn.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import InputError, check_param
from ..modes import DEFAULT_MODE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from .data import Prepared

__all__ = ["select_methods", "method_options", "run_methods", "heldout_tables", "method_ranks",
           "describe_benchmark", "method_colour", "plot_label_umaps", "plot_cv_zscores", "plot_heldout",
           "plot_paper_vs_heldout", "readable", "FONT_SIZE", "METHOD_MARKERS"]


def select_methods(methods: Sequence[str] | None = None, default: Sequence[str] | None = None, *,
                   none_first: bool = False) -> tuple[list[str], list[str]]:
    """Benchmark rows (:data:`~scmaskgan.benchmarking.benchmark.METHODS`) to run; those not installed left out.

    Parameters
    ----------
    methods
        Row names; ``None``: ``default``.
    default
        Row names used when ``methods`` is ``None``; ``None``: the benchmark's default rows.
    none_first
        Put ``"none"`` (no imputation, the reference of every score) first, adding it if missing.

    Returns
    -------
    kept : list
        The rows to run, in the order given.
    missing : list
        The rows left out because their package is not installed.

    Raises
    ------
    InputError
        For a single string, or names that are not benchmark rows.
    """
    import scmaskgan.benchmarking.baselines as baselines
    from .benchmark import DEFAULT_METHODS, METHODS

    names = methods if methods is not None else (default if default is not None else DEFAULT_METHODS)
    if isinstance(names, str):
        raise InputError(f"methods must be a list of names, got the string {names!r}.")
    names = list(names)
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise InputError(f"unknown methods {unknown}; choose from {list(METHODS)}.")
    if none_first:
        names = ["none"] + [m for m in names if m != "none"]
    missing = [m for m in names if not baselines.get(METHODS[m].baseline).is_available()]
    return [m for m in names if m not in missing], missing


def method_options(name: str, *, quick: bool = False, max_epochs: int | None = None,
                   count_max_epochs: int | None = None, device: str | None = None) -> dict[str, Any]:
    """Keyword arguments of one benchmark row for :func:`scmaskgan.benchmarking.baselines.run`.

    Parameters
    ----------
    name
        A benchmark row.
    quick
        Add the row's options of ``scmaskgan benchmark --quick`` (scMASKGAN: no tuning, 64
        candidates, 2 epochs; scVI: 2 epochs); ``max_epochs`` still wins.
    max_epochs
        Training epochs of the paper's GAN rows (``None``: the row's own).
    count_max_epochs
        Training epochs of the count model's rows (``None``: the row's own, early stopping).
    device
        ``device`` of the scMASKGAN rows (``None``: the row's own).

    Returns
    -------
    dict
        The options.
    """
    from .benchmark import METHODS

    if name not in METHODS:
        raise InputError(f"unknown method {name!r}; choose from {list(METHODS)}.")
    check_param("max_epochs", max_epochs, int, low=1, allow_none=True)
    check_param("count_max_epochs", count_max_epochs, int, low=1, allow_none=True)
    spec = METHODS[name]
    options = dict(spec.options)
    if quick:
        options |= spec.quick_options
    if spec.baseline == "scmaskgan":
        epochs = {"paper": max_epochs, "count": count_max_epochs}.get(options.get("mode", DEFAULT_MODE))
        if epochs is not None:  # the neighbour fill trains nothing
            options["max_epochs"] = epochs
        if device is not None:
            options["device"] = device
    return options


def run_methods(inputs: Mapping[str, Any], methods: Sequence[str], labels: Any = None, *, seed: int = 0,
                quick: bool = False, max_epochs: int | None = None, count_max_epochs: int | None = None,
                threads: int | None = None) -> tuple[dict[str, dict[str, np.ndarray]], "pd.DataFrame"]:
    """Every benchmark row on every input matrix, in this process, timed.

    Parameters
    ----------
    inputs
        ``{input name: cells x genes counts}``, e.g. ``{"original": X, "A": X_A, "B": X_B}``. An input named
        after a protocol gets the row's options for that protocol, as ``scmaskgan benchmark`` gives them (the
        count model answers protocol A with its value if detected, B with its expected value).
    methods
        Benchmark rows.
    labels
        True labels, given to the rows that use them.
    seed, quick, max_epochs, count_max_epochs
        Seed of every method; options of :func:`method_options`.
    threads
        Thread limit set again before every run (Leiden clustering can raise torch's); ``None``:
        left alone.

    Returns
    -------
    outputs : dict
        ``{input name: {method: imputed counts}}``, dense float64.
    timings : pandas.DataFrame
        Seconds of each run: one row per method, one column ``"<input> input (s)"`` per input.
    """
    import pandas as pd

    from ..matrices import dense
    from ..notebook import limit_threads
    import scmaskgan.benchmarking.baselines as baselines
    from .benchmark import METHODS

    methods, _ = select_methods(methods)
    outputs: dict[str, dict[str, np.ndarray]] = {key: {} for key in inputs}
    seconds: dict[str, dict[str, float]] = {f"{key} input (s)": {} for key in inputs}
    for key, counts in inputs.items():
        for name in methods:
            if threads is not None:
                limit_threads(threads)
            spec = METHODS[name]
            t0 = time.perf_counter()
            options = method_options(name, quick=quick, max_epochs=max_epochs, count_max_epochs=count_max_epochs)
            options |= spec.protocol_options.get(key, {})  # a protocol's input: the answer that protocol scores
            result = baselines.run(spec.baseline, counts, labels=labels if spec.true_labels else None, seed=seed,
                                   **options)
            seconds[f"{key} input (s)"][name] = time.perf_counter() - t0
            outputs[key][name] = dense(result, dtype=np.float64)
    return outputs, pd.DataFrame(seconds).loc[methods]


def heldout_tables(data: "Prepared", outputs: Mapping[str, Mapping[str, Any]]) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """Protocol A and B scores of every method's outputs on a prepared benchmark data set.

    Parameters
    ----------
    data
        :func:`scmaskgan.benchmarking.data.prepare`'s result (truth, library sizes, labels, protocol inputs).
    outputs
        ``outputs["A"][method]`` and ``outputs["B"][method]``: the methods' results on
        ``data.protocol_a()[0]`` and ``data.protocol_b()``.

    Returns
    -------
    heldout_a : pandas.DataFrame
        Per method: :func:`~scmaskgan.evaluation.protocols.score_hidden` (without ``n_hidden``) and
        :func:`~scmaskgan.evaluation.protocols.cluster_scores` (``ari``, ``nmi``).
    heldout_b : pandas.DataFrame
        Per method: :func:`~scmaskgan.evaluation.protocols.score_thinning`.
    """
    import pandas as pd

    from ..evaluation.protocols import cluster_scores, score_hidden, score_thinning

    if "A" not in outputs or "B" not in outputs:
        raise InputError(f"outputs needs the runs on the inputs 'A' and 'B', got {list(outputs)}.")
    _, hidden = data.protocol_a()
    a = pd.DataFrame({name: {**score_hidden(data.truth, values, hidden, data.lib_orig),
                             **cluster_scores(values, data.lib_orig, data.labels)}
                      for name, values in outputs["A"].items()}).T.drop(columns="n_hidden")
    b = pd.DataFrame({name: score_thinning(data.truth, data.protocol_b(), values)
                      for name, values in outputs["B"].items()}).T
    return a, b


def method_ranks(distances: "pd.DataFrame", pearson: "pd.DataFrame", heldout_a: "pd.DataFrame",
                 heldout_b: "pd.DataFrame", methods: Sequence[str]) -> tuple["pd.Series", "pd.Series", float]:
    """How the paper's metrics and the held-out errors rank the same methods (1 = best).

    Parameters
    ----------
    distances
        :func:`~scmaskgan.evaluation.metrics.distribution_distances` per method (``js_mean``,
        ``wasserstein_mean``).
    pearson
        :func:`~scmaskgan.evaluation.metrics.pearson_with_original` per method (``pearson_all``).
    heldout_a, heldout_b
        :func:`heldout_tables` (``rmse``; ``rmse_zeros``).
    methods
        The methods to rank (the imputation methods, without ``"none"``).

    Returns
    -------
    paper_rank : pandas.Series
        Mean rank over JS distance, Wasserstein distance (lower is better) and Pearson r (higher).
    heldout_rank : pandas.Series
        Mean rank over protocol A's RMSE and protocol B's RMSE at zeros.
    rho : float
        Spearman's rho between the two (NaN for fewer than 3 methods).
    """
    import pandas as pd
    from scipy.stats import spearmanr

    methods = list(methods)
    if not methods:
        raise InputError("method_ranks() needs at least one method.")
    paper = pd.DataFrame({"js": distances.loc[methods, "js_mean"].rank(),
                          "wasserstein": distances.loc[methods, "wasserstein_mean"].rank(),
                          "pearson": (-pearson.loc[methods, "pearson_all"]).rank()}).mean(axis=1)
    heldout = pd.DataFrame({"A": heldout_a.loc[methods, "rmse"].rank(),
                            "B": heldout_b.loc[methods, "rmse_zeros"].rank()}).mean(axis=1)
    rho = float(spearmanr(paper, heldout)[0]) if len(methods) >= 3 else float("nan")
    return paper, heldout, rho


def _names(items: Sequence[str]) -> str:
    items = list(items)
    return ", ".join(f"`{n}`" for n in items) if items else "none of them"


def _verb(items: Sequence[str], singular: str, plural: str) -> str:
    return singular if len(list(items)) == 1 else plural


def describe_benchmark(tables: Mapping[str, "pd.DataFrame"], *, truth: np.ndarray, thinned: np.ndarray,
                       resolution: float, labels_key: str, preset: str = "full", epochs: int | None = None,
                       n_genes: int | None = None) -> str:
    """The benchmark notebook's findings in words (markdown bullet points), from its tables.

    Parameters
    ----------
    tables
        ``"distances"``, ``"pearson"``, ``"clustering"`` (:func:`~scmaskgan.evaluation.structure.cluster_and_score`
        per method), ``"heldout_A"`` and ``"heldout_B"`` (:func:`heldout_tables`); one row per method,
        ``"none"`` among them.
    truth, thinned
        The original counts and protocol B's input (to count the zeros scored that are true zeros).
    resolution, labels_key
        Leiden resolution and label column, as named in the text.
    preset, epochs, n_genes
        The size preset (a bullet says so unless ``"full"``), paper-mode epochs and genes.

    Returns
    -------
    str
        Markdown.
    """
    missing = {"distances", "pearson", "clustering", "heldout_A", "heldout_B"} - set(tables)
    if missing:
        raise InputError(f"describe_benchmark() needs the tables {sorted(missing)}.")
    dist, pearson, clust = tables["distances"], tables["pearson"], tables["clustering"]
    a, b = tables["heldout_A"], tables["heldout_B"]
    methods = list(dist.index)
    if "none" not in methods:
        raise InputError("the tables need the row 'none' (no imputation), the reference of every score.")
    imputers = [m for m in methods if m != "none"]
    if not imputers:
        raise InputError("the tables hold no imputation method besides 'none'.")
    none = {"js": dist.loc["none", "js_mean"], "w": dist.loc["none", "wasserstein_mean"],
            "r": pearson.loc["none", "pearson_all"]}
    changed = [m for m in imputers if dist.loc[m, "js_mean"] > none["js"] or pearson.loc[m, "pearson_all"] < none["r"]]
    beat_a = [m for m in imputers if a.loc[m, "rmse"] < a.loc["none", "rmse"]]
    beat_b = [m for m in imputers if b.loc[m, "rmse_zeros"] < b.loc["none", "rmse_zeros"]]
    a_not_b = [m for m in beat_a if m not in beat_b]
    lifted = b.loc[imputers, "mean_at_true_zeros"]
    truth, thinned = np.asarray(truth), np.asarray(thinned)
    real_zeros = float(((truth == 0) & (thinned == 0)).sum() / max((thinned == 0).sum(), 1))
    acc = clust["acc"].astype(float)
    n_clusters = clust["n_clusters"].astype(int)
    n_labels = int(clust["n_labels"].astype(int).iloc[0])
    other_k = [m for m in methods if n_clusters[m] != n_labels]
    ari_k = a["ari"].astype(float)

    lines = [
        f"- **The paper's comparisons with the original reward changing nothing.** *none* has JS distance "
        f"{none['js']:.3f}, Wasserstein distance {none['w']:.3f} and Pearson r {none['r']:.3f}, the best values these "
        f"scores can take. Any change to the data, right or wrong, moves them away from these values: here "
        f"{len(changed)} of the {len(imputers)} methods score worse than *none* on them."]
    if len(imputers) >= 2:
        paper_rank, heldout_rank, rho = method_ranks(dist, pearson, a, b, imputers)
        paper_best, heldout_best = paper_rank.idxmin(), heldout_rank.idxmin()
        agreement = "agree on the best method" if paper_best == heldout_best else "disagree on the best method"
        if np.isfinite(rho):
            strength = ("they order the methods in much the same way" if rho >= 0.7 else
                        "their orders of the methods are only loosely related" if rho >= 0.3 else
                        "their orders of the methods are unrelated or opposed")
            order = f"Spearman's rho between the two rankings is {rho:.2f}: {strength}."
        else:
            order = "There are too few methods to compare the two rankings."
        lines.append(
            f"- **Ranking.** Among the imputation methods, the paper's comparisons with the original (mean rank over "
            f"JS, Wasserstein and Pearson) put `{paper_best}` first; the held-out errors (mean rank over protocol A's "
            f"RMSE and protocol B's RMSE at zeros) put `{heldout_best}` first. The two {agreement}. {order}")
    lines.append(
        f"- **Protocol A** (hidden non-zero counts): {_names(beat_a)} {_verb(beat_a, 'beats', 'beat')} no imputation "
        f"(RMSE {a.loc['none', 'rmse']:.3f}); the lowest RMSE is `{a.loc[imputers, 'rmse'].idxmin()}`'s "
        f"({a.loc[imputers, 'rmse'].min():.3f}).")
    lines.append(
        f"- **Protocol B** (every zero of the thinned input, true zeros included): {_names(beat_b)} "
        f"{_verb(beat_b, 'beats', 'beat')} no imputation (RMSE at zeros {b.loc['none', 'rmse_zeros']:.3f})"
        + (f"; {_names(a_not_b)} {_verb(a_not_b, 'beats', 'beat')} it on protocol A but not on protocol B: "
           f"filling zeros helps where every hidden value was non-zero, and costs where {real_zeros:.0%} of the zeros "
           f"scored are zeros of the original counts too." if a_not_b else ".")
        + f" At the true zeros the methods predict between {lifted.min():.2f} (`{lifted.idxmin()}`) and "
          f"{lifted.max():.2f} (`{lifted.idxmax()}`) log1p CP10k on average, where *none* predicts "
          f"{b.loc['none', 'mean_at_true_zeros']:.2f}.")
    lines.append(
        f"- **Clusters.** With Leiden at resolution {resolution:g}, ACC against {labels_key} ranges from "
        f"{acc.min():.2f} (`{acc.idxmin()}`) to {acc.max():.2f} over all matrices (original: {acc['none']:.2f}). "
        + (f"{_names(other_k)} {_verb(other_k, 'gives', 'give')} a number of clusters other than the "
           f"{n_labels} labels at this resolution, which costs ACC, AUC and F1 by itself: these scores depend on the "
           f"resolution as much as on the data. " if other_k else
           f"Every matrix gives {n_labels} clusters, one per label, at this resolution. ")
        + f"With the number of clusters fixed to {n_labels} (KMeans on the protocol A outputs), ARI ranges from "
          f"{ari_k.min():.2f} to {ari_k.max():.2f}.")
    if preset != "full":
        lines.append(f"- This copy ran with the **{preset} preset** (paper mode: {epochs} epochs"
                     + (f", {n_genes} genes" if preset == "smoke" else "") + "); its numbers show the behaviour of "
                     "the methods, not the best each can do.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Figures of the benchmark notebook


#: The markers of the methods in the benchmark's scatter plots, in the order of the methods (a legend names them).
METHOD_MARKERS = "oDs^vP*Xph<>"


def method_colour(name: str) -> str:
    """A method's colour in the benchmark's figures: black for ``"none"``, red for scMASKGAN's rows, blue otherwise."""
    return "black" if name == "none" else ("tab:red" if name.startswith("scmaskgan") else "tab:blue")


#: Font size in points of the benchmark's figures (at most about 10 in wide). Every panel's ticks, axis
#: labels and legends use it; titles are one point larger.
FONT_SIZE = 9


def readable(fig: "Figure", size: int = FONT_SIZE) -> "Figure":
    """Set every panel's ticks, axis labels and legend text of ``fig`` to ``size`` points (titles one more); return ``fig``."""
    for ax in fig.axes:
        ax.tick_params(labelsize=size)
        ax.xaxis.label.set_fontsize(size)
        ax.yaxis.label.set_fontsize(size)
        ax.title.set_fontsize(size + 1)
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_fontsize(size)
    for legend in fig.legends:
        for text in legend.get_texts():
            text.set_fontsize(size)
    return fig


def _check_methods(methods: Sequence[str], *tables: "pd.DataFrame") -> list[str]:
    if isinstance(methods, str):
        raise InputError(f"methods must be a list of names, got the string {methods!r}.")
    methods = list(methods)
    if not methods:
        raise InputError("no methods to plot.")
    for table in tables:
        missing = [m for m in methods if m not in table.index]
        if missing:
            raise InputError(f"the tables have no rows for the methods {missing}.")
    return methods


def plot_label_umaps(panels: Sequence[tuple[str, Any]], labels: Any, *, seed: int = 0,
                     legend_title: str | None = None, ncols: int = 3) -> "Figure":
    """One UMAP per matrix, the cells coloured by their label.

    Each matrix gets :func:`scmaskgan.evaluation.structure.umap_coordinates` (library-size
    normalisation, log1p, PCA, kNN graph, UMAP) with ``seed``; the labels' colours are those of
    matplotlib's ``tab10``, in the sorted order of the labels.

    Parameters
    ----------
    panels
        ``(title, cells x genes counts)`` pairs, one panel each.
    labels
        One label per cell (the same cells in every matrix).
    seed
        Seed of the embeddings.
    legend_title
        Title of the legend (drawn in the first panel).
    ncols
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        For no panels, an ``ncols`` that is not a positive integer, or labels without one per cell.
    """
    import matplotlib.pyplot as plt

    from ..evaluation.structure import umap_coordinates

    check_param("ncols", ncols, int, low=1)
    panels = list(panels)
    if not panels:
        raise InputError("plot_label_umaps() needs at least one panel.")
    labels = np.asarray(labels)
    for title, values in panels:
        if np.shape(values)[0] != labels.shape[0]:
            raise InputError(f"panel {title!r} has {np.shape(values)[0]} cells, the labels {labels.shape[0]}.")
    categories = sorted(set(labels))
    palette = {cat: plt.cm.tab10.colors[i % 10] for i, cat in enumerate(categories)}
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.1 * nrows), squeeze=False)
    for ax, (title, values) in zip(axes.flat, panels):
        xy = umap_coordinates(values, seed=seed)
        for cat in categories:
            ax.scatter(*xy[labels == cat].T, s=12, color=palette[cat], label=cat, rasterized=True)
        ax.set(title=title, xticks=[], yticks=[], xlabel="UMAP 1", ylabel="UMAP 2")
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    axes.flat[0].legend(title=legend_title, fontsize=FONT_SIZE, title_fontsize=FONT_SIZE, markerscale=1.5)
    readable(fig)
    fig.tight_layout()
    return fig


def plot_cv_zscores(outputs: Mapping[str, Any], methods: Sequence[str] | None = None) -> "Figure":
    """Per-gene coefficients of variation (box plots) and the pooled z-scores (histograms) of every method.

    Left: :func:`~scmaskgan.evaluation.metrics.coefficient_of_variation` of each gene (counts per
    10^4; genes with mean 0 left out), log scale. Right: the density of
    :func:`~scmaskgan.evaluation.metrics.zscores` of every gene with more than one value, pooled,
    in 80 bins shared by all methods; ``"none"`` in black and thicker.

    Parameters
    ----------
    outputs
        ``{method: cells x genes counts}`` (e.g. the runs on the original counts).
    methods
        The methods to show, in this order; ``None``: all of ``outputs``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        For a method missing from ``outputs``, or none.
    """
    import matplotlib.pyplot as plt

    from ..evaluation import metrics as M

    if isinstance(methods, str):
        raise InputError(f"methods must be a list of names, got the string {methods!r}.")
    methods = list(outputs) if methods is None else list(methods)
    if not methods or any(m not in outputs for m in methods):
        raise InputError(f"methods must name outputs ({list(outputs)}), got {methods!r}.")
    cv = {name: M.coefficient_of_variation(outputs[name]) for name in methods}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    ax1.boxplot([cv[name][np.isfinite(cv[name])] for name in methods], showfliers=False)
    ax1.set_xticks(range(1, len(methods) + 1), methods, rotation=30, ha="right")
    ax1.set(title="CV of each gene (counts per 10^4)", ylabel="coefficient of variation", yscale="log")
    pooled = {}
    for name in methods:
        z = M.zscores(outputs[name])
        pooled[name] = z[:, z.std(0) > 0].ravel()  # genes with one value in every cell have no z-scores
    bins = np.linspace(min(z.min() for z in pooled.values()), max(z.max() for z in pooled.values()), 81)
    for i, name in enumerate(methods):
        density, edges = np.histogram(pooled[name], bins=bins, density=True)
        ax2.step(edges[:-1], density, where="post", label=name,
                 color="black" if name == "none" else plt.cm.tab10(i % 10), linewidth=2.2 if name == "none" else 1.2)
    ax2.set(title="z-scores of every gene, pooled", xlabel="z-score", ylabel="density", yscale="log")
    ax2.legend(fontsize=FONT_SIZE)
    readable(fig)
    fig.tight_layout()
    return fig


def plot_heldout(heldout_a: "pd.DataFrame", heldout_b: "pd.DataFrame",
                 methods: Sequence[str] | None = None) -> "Figure":
    """The held-out errors as bars, one per method: protocol A's RMSE, protocol B's RMSE at zeros and mean at true zeros.

    The dashed line in each panel is ``"none"`` (no imputation), the bar every method must clear.

    Parameters
    ----------
    heldout_a, heldout_b
        :func:`heldout_tables` (``rmse``; ``rmse_zeros``, ``mean_at_true_zeros``), with a row ``"none"``.
    methods
        The methods to show, in this order; ``None``: the rows of ``heldout_a``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        For methods, or the row ``"none"``, missing from a table.
    """
    import matplotlib.pyplot as plt

    methods = _check_methods(list(heldout_a.index) if methods is None else methods, heldout_a, heldout_b)
    _check_methods(["none"], heldout_a, heldout_b)
    xpos = np.arange(len(methods))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.8))
    for ax, (table, col, title) in zip(axes, [(heldout_a, "rmse", "protocol A: RMSE at hidden entries"),
                                              (heldout_b, "rmse_zeros", "protocol B: RMSE at the input's zeros"),
                                              (heldout_b, "mean_at_true_zeros", "protocol B: mean at true zeros")]):
        ax.bar(xpos, table.loc[methods, col], color=[method_colour(name) for name in methods])
        ax.axhline(table.loc["none", col], color="grey", linestyle="--", linewidth=1)
        ax.set_xticks(xpos, methods, rotation=30, ha="right")
        ax.set(title=title, ylabel="log1p CP10k")
    readable(fig)
    fig.tight_layout()
    return fig


def plot_paper_vs_heldout(distances: "pd.DataFrame", pearson: "pd.DataFrame", heldout_a: "pd.DataFrame",
                          heldout_b: "pd.DataFrame", methods: Sequence[str] | None = None) -> "Figure":
    """Each method as a point: its closeness to the original data as the paper scores it, against its held-out error.

    Left: mean JS distance to the original (x) against protocol A's RMSE (y); right: Pearson r
    with the original (x) against protocol B's RMSE at zeros (y). The dashed line is ``"none"``. Each method
    has its own marker (:data:`METHOD_MARKERS`, in the order of ``methods``), named in the legend below the panels.

    Parameters
    ----------
    distances, pearson
        :func:`~scmaskgan.evaluation.metrics.distribution_distances` (``js_mean``) and
        :func:`~scmaskgan.evaluation.metrics.pearson_with_original` (``pearson_all``) per method.
    heldout_a, heldout_b
        :func:`heldout_tables` (``rmse``; ``rmse_zeros``), with a row ``"none"``.
    methods
        The methods to show; ``None``: the rows of ``distances``.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        For methods, or the row ``"none"``, missing from a table.
    """
    import matplotlib.pyplot as plt

    tables = (distances, pearson, heldout_a, heldout_b)
    methods = _check_methods(list(distances.index) if methods is None else methods, *tables)
    _check_methods(["none"], heldout_a, heldout_b)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    pairs = [(distances["js_mean"], "mean JS distance to the original (paper: lower is better)",
              heldout_a["rmse"], "protocol A RMSE (lower is better)"),
             (pearson["pearson_all"], "Pearson r with the original (paper: higher is better)",
              heldout_b["rmse_zeros"], "protocol B RMSE at zeros (lower is better)")]
    for ax, (x, xlabel, y, ylabel) in zip(axes, pairs):
        for i, name in enumerate(methods):
            ax.scatter(x[name], y[name], s=60, color=method_colour(name), marker=METHOD_MARKERS[i % len(METHOD_MARKERS)],
                       edgecolor="white", linewidth=0.6, alpha=0.9, label=name)
        ax.axhline(y["none"], color="grey", linestyle="--", linewidth=1)
        ax.set(xlabel=xlabel, ylabel=ylabel)
        ax.grid(alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=min(len(methods), 5), frameon=False)
    readable(fig)
    fig.tight_layout(rect=(0, 0.06 * math.ceil(len(methods) / 5) + 0.02, 1, 1))
    return fig
