"""Issue 12's "no invented structure" target for the count model on the batch-integration page.

The target (main layer, ``layers[key_added]``, the expected value): on the batch-integration page
(three CellBench platforms, ``notebooks/batch_integration.ipynb``) the **batch entropy** and the
**cell-line ARI** of ``mode="count"`` are not below those of the un-imputed data without labels,
and the cell-line ARI is not below the un-imputed data's with the true labels (``cell_line``).

Each run executes the notebook itself with papermill (``-p mode ... -p labels_key ...``), with
``combat=False`` and the baselines of ``--baselines`` (none by default: they do not change the two
matrices the targets score, the observed counts and scmaskgan's; given, they show where other
imputation methods stand), into a folder of its own, and reads the scores of ``observed`` (the
un-imputed data), ``scmaskgan`` and each baseline from its ``metrics.json``: ``batch_entropy`` and
``leiden_ari`` (the cell-line ARI of the Leiden clusters), with the notebook's other scores beside
them. Runs: every mode of ``--modes`` (``masked``, and ``default`` for comparison) for every
labelling of ``--labels`` (``none``: no labels, scmaskgan's own grouping; ``cell_line``: the truth),
on the notebook's quick preset, or its full one with ``--full`` (``--smoke``: the notebook's smoke
preset, which only checks that everything runs). Nothing is tuned: every other setting is the
notebook's and the package's default.

Writes ``integration.csv`` into ``--out`` (one row per run and method: mode, labels, preset,
method, batch_entropy, cell_line_ari, the other scores, cells, genes, epochs trained, the
imputation's and the run's seconds); the runs made replace that file's rows of the same preset,
mode and labels, so other runs' results stand beside them. Prints each target (a score of scmaskgan
>= the un-imputed data's) and whether it is met; the issue's targets are those of mode
``masked`` (entropy and ARI without labels, ARI with the true labels); the other rows are
comparisons. ``--keep DIR`` keeps the executed notebooks and their outputs.

The frontier: ``--depths 0.1,0.3,1`` runs mode ``masked`` with its main layer asked about a
measurement of each depth (``SCMaskGAN(depth=...)``, the notebook's ``depth``). A shallower
measurement detects less, so its expected value fills each zero with less: the depth moves the main
layer from the un-imputed data (depth near 0) to the full expected value (depth 1 and above). The
scores along it show how much structure each amount of filling costs; the issue's targets are
those at depth 1, and the CSV has a ``depth`` column.

Usage::

    SCMASKGAN_DATA=/path/to/data python benchmarks/masked_integration.py [--full | --smoke]
        [--modes masked,default] [--labels none,cell_line] [--baselines magic,alra,...] [--depths 1]
        [--threads N] [--keep DIR] [--out benchmarks/results/masked]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "batch_integration.ipynb"
#: As scmaskgan.benchmarking.child.THREAD_VARIABLES; set before the kernels start (--threads).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
LABELS = {"none": None, "cell_line": "cell_line"}
#: Scores of the notebook's metrics.json kept in the CSV, under these names.
SCORES = {"batch_entropy": "batch_entropy", "leiden_ari": "cell_line_ari", "kbet_acceptance": "kbet_acceptance",
          "label_knn_purity": "cell_line_knn_purity", "label_silhouette": "cell_line_silhouette",
          "leiden_nmi": "cell_line_nmi"}
#: Targets: labels -> the scores scmaskgan must not have below the un-imputed data's (issue 12, mode masked).
TARGETS = {"none": ("batch_entropy", "cell_line_ari"), "cell_line": ("cell_line_ari",)}
METHODS = {"observed": "un-imputed", "scmaskgan": "scmaskgan"}


def run_notebook(mode: str, labels: str, preset: str, folder: Path,
                 baselines: list[str] | None = None, depth: float = 1.0) -> tuple[dict, float]:
    """Execute the notebook once into ``folder`` (``depth``: the count model's, mode masked); its metrics.json and
    the run's wall seconds."""
    import papermill

    folder.mkdir(parents=True, exist_ok=True)
    params = {"mode": mode, "labels_key": LABELS[labels], "quick": preset != "full", "smoke": preset == "smoke",
              "baselines": list(baselines or []), "combat": False, "output_dir": str(folder / "outputs"),
              "depth": float(depth)}
    t0 = time.perf_counter()
    papermill.execute_notebook(str(NOTEBOOK), str(folder / "batch_integration.ipynb"), parameters=params,
                               kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False)
    wall = time.perf_counter() - t0
    return json.loads((folder / "outputs" / "metrics.json").read_text()), wall


def rows_of(metrics: dict, mode: str, labels: str, preset: str, wall: float, depth: float = 1.0) -> list[dict]:
    """One row per method (the un-imputed data, scmaskgan, each baseline) of one run."""
    assert metrics["mode"] == mode and metrics["preset"] == preset, (metrics["mode"], metrics["preset"])
    rows = []
    for key, scores in metrics["scores"].items():
        method = METHODS.get(key, key)
        rows.append({"mode": mode, "labels": labels, "preset": metrics["preset"], "depth": depth, "method": method,
                     **{name: scores.get(k) for k, name in SCORES.items()},
                     "n_cells": metrics["n_cells"], "n_genes": metrics["n_genes"],
                     "epochs_trained": metrics["epochs_trained"] if key == "scmaskgan" else None,
                     "impute_s": scores.get("seconds") if key == "scmaskgan" else None,
                     "run_s": round(wall, 1)})
    return rows


def targets_of(table) -> "list[dict]":
    """Each target (scmaskgan's score >= the un-imputed data's) of every run, met or not."""
    out = []
    for (mode, labels, preset), run in table[table["depth"] == 1].groupby(["mode", "labels", "preset"], sort=False):
        by = run.set_index("method")
        for score in ("batch_entropy", "cell_line_ari"):
            base, value = by.loc["un-imputed", score], by.loc["scmaskgan", score]
            issue = mode == "masked" and score in TARGETS[labels]
            out.append({"mode": mode, "labels": labels, "preset": preset, "score": score,
                        "un_imputed": base, "scmaskgan": value, "difference": value - base,
                        "target": "issue 12" if issue else "comparison", "met": bool(value >= base)})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the notebook's full preset (quick=False)")
    size.add_argument("--smoke", action="store_true", help="the notebook's smoke preset (checks that it runs)")
    parser.add_argument("--modes", default="masked,default", help="masked and/or default")
    parser.add_argument("--labels", default="none,cell_line", help="none and/or cell_line")
    parser.add_argument("--baselines", default="", help="baselines the notebook also runs (comma-separated; "
                        "default none)")
    parser.add_argument("--depths", default="1", help="mode masked: depths of its main layer (comma-separated; "
                        "default 1, the targets' depth; smaller ones fill less, for the frontier)")
    parser.add_argument("--threads", type=int, default=None, help="thread limit of the kernels (OMP and kin)")
    parser.add_argument("--keep", default=None, help="keep the executed notebooks and outputs in this folder")
    parser.add_argument("--out", default="benchmarks/results/masked")
    args = parser.parse_args(argv)
    modes = [v.strip() for v in args.modes.split(",") if v.strip()]
    labelings = [v.strip() for v in args.labels.split(",") if v.strip()]
    if not modes or set(modes) - {"masked", "default", "paper"}:
        parser.error("--modes takes masked, default and/or paper")
    if not labelings or set(labelings) - set(LABELS):
        parser.error("--labels takes none and/or cell_line")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        os.environ.update({v: str(args.threads) for v in THREAD_VARIABLES})
    preset = "smoke" if args.smoke else "full" if args.full else "quick"
    try:
        depths = [float(v) for v in args.depths.split(",") if v.strip()]
    except ValueError:
        parser.error("--depths takes positive numbers")
    if not depths or min(depths) <= 0:
        parser.error("--depths takes positive numbers")

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="masked_integration_") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        rows = []
        for labels in labelings:
            for mode in modes:
                for depth in depths if mode == "masked" else [1.0]:
                    print(f"running the notebook: mode {mode}, labels {labels}, preset {preset}, depth {depth:g} ...",
                          flush=True)
                    metrics, wall = run_notebook(mode, labels, preset, base / f"{preset}_{mode}_{labels}_{depth:g}",
                                                 [v.strip() for v in args.baselines.split(",") if v.strip()], depth)
                    rows += rows_of(metrics, mode, labels, preset, wall, depth)
                    print(f"  done in {wall:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "integration.csv"
    keys = ["preset", "mode", "labels", "depth"]
    if path.exists():  # keep the rows of the runs not rerun (preset, mode, labels, depth)
        old = pd.read_csv(path)
        if "depth" not in old:
            old["depth"] = 1.0
        rerun = old.set_index(keys).index.isin(table.set_index(keys).index)
        table = pd.concat([old[~rerun], table], ignore_index=True)
    for column in ("n_cells", "n_genes", "epochs_trained"):
        table[column] = table[column].astype("Int64")
    table.to_csv(path, index=False, float_format="%.4f")
    targets = pd.DataFrame(targets_of(table[table["preset"] == preset]))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(targets.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    issue = targets[targets["target"] == "issue 12"]
    print(f"issue 12 targets met: {int(issue['met'].sum())}/{len(issue)}; wrote {path}")
    if depths != [1.0]:  # the frontier: how much the main layer fills against the structure
        runs = table[(table["preset"] == preset) & (table["mode"] == "masked")]
        frontier = runs.pivot_table(index=["labels", "method", "depth"], values=["batch_entropy", "cell_line_ari"])
        print("\nmode masked by depth (the un-imputed rows are the same at every depth):")
        print(frontier.to_string(float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    sys.exit(main())
