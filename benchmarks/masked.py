"""Every target of issue 12 ("scMASKGAN learns to impute") for the count model, ``mode="count"``.

For each data set of ``--datasets`` and each labelling of ``--labels`` (``true``: the data set's
labels; ``none``: no labels), the count model runs with the package's defaults
(``SCMaskGAN(mode="count", seed=0)``) on protocol A's and protocol B's inputs
(../shared/BENCHMARK.md), each run in its own child process
(:func:`scmaskgan.benchmarking.child.run_command`). Scored, each beside its target:

* **A**: RMSE and Pearson r of the hidden entries on the ``_if_detected`` answer;
* **B**: ``rmse_zeros`` and ``r_all`` on the main layer (the expected value);
* **calibration**: on protocol B's zeros, the expected calibration error (10 equal-width bins,
  :func:`scmaskgan.evaluation.uncertainty.calibration`) of ``_p_detected`` against "the truth was
  non-zero", and a reliability plot (``reliability.png``). The truth holds 1 / 0.3 times the
  input's molecules (0.3: protocol B's kept share), so at an input zero it is non-zero exactly when
  the molecules the thinning removed, (1 - 0.3) / 0.3 = 7/3 times the input's, hold the gene: the
  target asks the model that question, ``iter_answers(depth=7/3)``; beside it, ``ece_depth_1`` is
  the package's default question (a new measurement as deep as the input);
* **draws**: each entry's 90% interval from the 5% and 95% quantiles of ``--draws`` draws
  (``SCMaskGAN.sample``), against the truth on the protocol's scale. Protocol A's hidden entries
  are non-zero and A scores the level if detected, so its target takes the draws given detection
  (``sample(if_detected=True)``; ``coverage_draws_as_drawn`` beside it), on
  ``log1p(x / lib_orig * 1e4)``. Protocol B's zeros take the draws of the removed molecules
  (``sample(depth=7/3)``) over the truth's library, the input's divided by 0.3
  (``coverage_depth_1``: the default draws, each matrix normalised by its own cell totals);
  target 85-95%;
* **structure** (protocol S, on ``--s-dataset``'s ``--s-label`` cells of protocol A's input, only
  when that data set is run): the silhouette of the Leiden clusters of the output
  (:func:`scmaskgan.evaluation.protocol_s.invented_structure`) for the input itself (``none``),
  the count model without labels (as the protocol says; with "true labels" the population has one
  label, which the package refuses), and the default mode with automatic labels (``scmaskgan_auto``);
* **cost**: ``scmaskgan.pp.impute(adata, mode="count")`` (train and all three layers) on protocol A's
  input in a child process: wall time of the whole child (start-up and imports included, as
  ``/usr/bin/time`` measures it) and its peak RSS; targets on sc_celseq2 only.

The questions and their scores are those of :mod:`scmaskgan.evaluation.questions` (the child saves
:func:`~scmaskgan.evaluation.questions.answers` and :func:`~scmaskgan.evaluation.questions.protocol_arrays`;
the parent scores them with :func:`~scmaskgan.benchmarking.checks.score_count_model`), the same code as
the benchmark page's section on the count model.

Nothing is tuned here: every setting is the package's default; the truth is only scored. Writes
``results.json`` (every row), ``targets.csv`` (one row per target, data set and labels),
``calibration.csv`` (the reliability tables), ``structure.csv``, ``cost.csv``, ``runs.csv``
(every child's time and memory) and ``reliability.png`` into ``--out``. With ``--depths 0.03,0.1,0.3``
it also scores protocol B's main layer asked at those depths (``iter_answers(depth=...)`` of the same
fit: a shallower measurement fills each zero with less), beside depth 1 and the un-imputed input
(depth 0), into ``frontier.csv``: the other side of ``benchmarks/masked_integration.py --depths``.

Usage::

    python benchmarks/masked.py [--datasets sc_celseq2,sc_dropseq] [--labels true,none] [--draws 50]
        [--depths 0.03,0.1,0.3] [--threads 1] [--out benchmarks/results/masked]

``--datasets`` also takes ``sim:CELLSxGENES`` (simulated counts with 3 groups, labels ``obs["group"]``;
used by the smoke test with ``--max-epochs``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve()
#: As scmaskgan.benchmarking.child.THREAD_VARIABLES; set here before numpy is imported (--threads).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

#: The targets whose question depends on a depth or on detection (names of TARGETS' rows).
CALIBRATION, COVERAGE_A, COVERAGE_B = (
    "calibration ECE (B zeros, p_detected at depth 7/3)", "coverage A hidden (90% draws given detection)",
    "coverage B zeros (90% draws at depth 7/3)")

#: Targets of issue 12: metric -> (data set -> (comparison, threshold)). "<" below, ">" above, "<=", "in".
#: (The calibration and coverage goals are also scmaskgan.benchmarking.checks.ECE_GOAL and COVERAGE_GOAL, which
#: the benchmark page prints; they are written out here so that numpy is imported only after --threads.)
TARGETS = {
    "A rmse (if_detected)": {"sc_celseq2": ("<", 0.29), "sc_dropseq": ("<", 0.33)},
    "A pearson (if_detected)": {"sc_celseq2": (">", 0.56), "sc_dropseq": (">", 0.55)},
    "B rmse_zeros (mean)": {"sc_celseq2": ("<", 0.93), "sc_dropseq": ("<", 0.95)},
    "B r_all (mean)": {"sc_celseq2": (">", 0.70), "sc_dropseq": (">", 0.70)},
    CALIBRATION: {"*": ("<=", 0.03)},
    COVERAGE_A: {"*": ("in", (0.85, 0.95))},
    COVERAGE_B: {"*": ("in", (0.85, 0.95))},
    "S silhouette (H1975)": {"sc_celseq2": ("<=", 0.10)},
    "cost wall s (train + impute)": {"sc_celseq2": ("<=", 30.0)},
    "cost peak RSS MB": {"sc_celseq2": ("<=", 1024.0)},
}
S_ANCHORS = {"none": -0.056, "scmaskgan_auto": 0.216}  # BENCHMARK.md, protocol S (sc_celseq2 H1975)


# --------------------------------------------------------------------------- the child: one model run
def child(task_file: str) -> None:
    """Train the count model on one input; save its three answers, draw bounds and (B) the diagnostic."""
    import numpy as np

    from scmaskgan import SCMaskGAN
    from scmaskgan.benchmarking.child import peak_rss_mb
    from scmaskgan.evaluation.questions import answers, protocol_arrays

    task = json.loads(Path(task_file).read_text())
    out = Path(task["out"])
    adata = _anndata(np.load(task["input"]), task.get("labels"))
    t0 = time.perf_counter()
    model = SCMaskGAN(adata, labels_key="label" if task.get("labels") else None, mode="count", seed=0,
                      progress=False, max_epochs=task.get("max_epochs"), n_threads=None)
    model.train()
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    layers = answers(model)
    impute_s = time.perf_counter() - t0
    info = {"train_s": train_s, "impute_s": impute_s, "rss_after_impute_mb": peak_rss_mb(),
            "epochs": int(len(model.history_)),
            "best_epoch": int(model.history_.loc[model.history_["best"], "epoch"].iloc[0])}
    for name, values in layers.items():
        np.save(out / f"{name}.npy", values)
    for depth in task.get("depths") or []:  # the frontier: the main layer at other depths (protocol B)
        np.save(out / f"mean_depth_{depth:g}.npy", answers(model, depth)["mean"])
    t0 = time.perf_counter()
    # protocol A: the draws as they come, and given detection (A's question), over lib_orig; protocol B: also
    # p_detected at the protocol's depth and the draws of the molecules the thinning took away
    protocol = "A" if task.get("keep") is None else "B"
    options = ({"lib": np.load(task["lib"])} if protocol == "A"
               else {"counts": np.asarray(adata.X), "keep": task["keep"]})
    arrays = protocol_arrays(model, protocol, task["draws"], **options)
    for name, values in arrays.items():
        np.save(out / f"{name}.npy", values)
    info["sample_s"] = time.perf_counter() - t0
    (out / "info.json").write_text(json.dumps(info))


def _anndata(counts, labels_file: str | None):
    import anndata as ad
    import numpy as np
    import pandas as pd

    adata = ad.AnnData(np.asarray(counts, dtype=np.float32))
    if labels_file:
        adata.obs["label"] = pd.Categorical(np.load(labels_file, allow_pickle=True).astype(str))
    return adata


#: The cost run: what a user runs, scmaskgan.pp.impute with mode="count" (argv: input, labels or "", max_epochs or "").
COST_CODE = """
import json, sys
import numpy as np, anndata as ad, pandas as pd
import scmaskgan
x = np.load(sys.argv[1]).astype(np.float32)
adata = ad.AnnData(x)
key = None
if sys.argv[2]:
    key = "label"
    adata.obs[key] = pd.Categorical(np.load(sys.argv[2], allow_pickle=True).astype(str))
epochs = int(sys.argv[3]) if sys.argv[3] else None
scmaskgan.pp.impute(adata, labels_key=key, mode="count", seed=0, progress=False, max_epochs=epochs,
                    n_threads=None)
print(json.dumps(adata.uns["scmaskgan"].get("timings", {})))
"""


# --------------------------------------------------------------------------- the parent
def _prepare(name: str):
    from scmaskgan.benchmarking import DatasetSpec, prepare

    if name.startswith("sim:"):
        cells, genes = (int(v) for v in name[4:].lower().split("x"))

        def loader():
            import scmaskgan

            adata = scmaskgan.simulate.simulate(cells, genes, 3, seed=0, keep_truth=False)
            adata.X = adata.X.astype("float32")
            return adata

        return prepare(name, DatasetSpec("group", n_top=min(2000, genes), loader=loader))
    return prepare(name)


def _target(metric: str, dataset: str):
    spec = TARGETS[metric]
    return spec.get(dataset, spec.get("*"))


def _met(value: float, target) -> bool | None:
    import math

    if target is None or value is None or math.isnan(value):
        return None
    op, threshold = target
    if op == "in":
        return bool(threshold[0] <= value <= threshold[1])
    return bool({"<": value < threshold, ">": value > threshold, "<=": value <= threshold}[op])


def _fmt_target(target) -> str:
    if target is None:
        return "-"
    op, threshold = target
    return f"{threshold[0]:.2f}-{threshold[1]:.2f}" if op == "in" else f"{op} {threshold:g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--labels", default="true,none", help="true and/or none")
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None, help="thread limit of every process (OMP and kin)")
    parser.add_argument("--s-dataset", default="sc_celseq2", help="data set of protocol S")
    parser.add_argument("--s-label", default="H1975", help="the population of protocol S")
    parser.add_argument("--max-epochs", type=int, default=None, help="epoch limit (default: the package's)")
    parser.add_argument("--depths", default="", help="protocol B's main layer also at these depths (comma-separated; "
                        "the frontier: frontier.csv)")
    parser.add_argument("--out", default="benchmarks/results/masked")
    args = parser.parse_args(argv)
    labelings = [v.strip() for v in args.labels.split(",") if v.strip()]
    if not labelings or set(labelings) - {"true", "none"}:
        parser.error("--labels takes true and/or none")
    if args.draws < 2:
        parser.error("--draws must be at least 2")
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        os.environ.update({v: str(args.threads) for v in THREAD_VARIABLES})
    try:
        args.depths = [float(v) for v in args.depths.split(",") if v.strip()]
    except ValueError:
        parser.error("--depths takes positive numbers")
    if any(d <= 0 for d in args.depths):
        parser.error("--depths takes positive numbers")
    args.depths = sorted(set(args.depths) - {1.0})  # depth 1 is the main layer itself, always scored
    datasets = [v.strip() for v in args.datasets.split(",") if v.strip()]
    run(datasets, labelings, args)


def run(datasets: list[str], labelings: list[str], args) -> None:
    import logging

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from scmaskgan.benchmarking.checks import plot_reliability_questions, score_count_model
    from scmaskgan.benchmarking.child import run_command, run_in_child
    from scmaskgan.evaluation.protocol_s import invented_structure, single_population_input
    from scmaskgan.evaluation.protocols import KEEP
    from scmaskgan.evaluation.questions import B_DEPTH

    logging.getLogger("scmaskgan").setLevel(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="masked_", dir=out))
    rows, runs, structure, cost, cal_tables, cal_rows, frontier = [], [], [], [], {}, [], []
    t_start = time.perf_counter()

    def add(metric: str, dataset: str, labels: str, value: float, **extra) -> None:
        target = _target(metric, dataset)
        rows.append({"target": metric, "dataset": dataset, "labels": labels, "value": value,
                     "goal": _fmt_target(target), "met": _met(value, target), **extra})

    for name in datasets:
        prepared = _prepare(name)
        a_input, hidden = prepared.protocol_a()
        b_input = prepared.protocol_b()
        folder = work / name.replace(":", "_")
        folder.mkdir()
        np.save(folder / "A.npy", a_input.astype(np.float32))
        np.save(folder / "B.npy", b_input.astype(np.float32))
        np.save(folder / "lib_orig.npy", prepared.lib_orig)
        np.save(folder / "labels.npy", prepared.labels.astype(str))
        for labels in labelings:
            label_file = str(folder / "labels.npy") if labels == "true" else None
            outputs = {}
            for protocol, input_file in (("A", "A.npy"), ("B", "B.npy")):
                tag = f"{protocol}_{labels}"
                run_dir = folder / tag
                run_dir.mkdir()
                task = {"input": str(folder / input_file), "labels": label_file, "draws": args.draws,
                        "out": str(run_dir), "max_epochs": args.max_epochs,
                        "lib": str(folder / "lib_orig.npy") if protocol == "A" else None,
                        "keep": KEEP if protocol == "B" else None,
                        "depths": args.depths if protocol == "B" else []}
                (run_dir / "task.json").write_text(json.dumps(task))
                measured = run_command([str(SCRIPT), "--child", str(run_dir / "task.json")], run_dir, "run",
                                       threads=args.threads)
                info = json.loads((run_dir / "info.json").read_text())
                runs.append({"dataset": name, "labels": labels, "run": f"protocol {protocol} + {args.draws} draws",
                             "wall_s": measured["wall_s"], "peak_rss_mb": measured["peak_rss_mb"],
                             **{k: info[k] for k in ("train_s", "impute_s", "sample_s", "rss_after_impute_mb",
                                                     "epochs", "best_epoch")}})
                extra = (("draw_lo_if_detected", "draw_hi_if_detected") if protocol == "A" else
                         ("p_detected_protocol_depth", "draw_lo_protocol_depth", "draw_hi_protocol_depth"))
                outputs[protocol] = {k: np.load(run_dir / f"{k}.npy") for k in
                                     ("mean", "if_detected", "p_detected", "draw_lo", "draw_hi", *extra)}
                if protocol == "B":  # the frontier: the input itself (depth 0: nothing filled), then each depth
                    for depth in [0.0, *args.depths, 1.0]:
                        mean = (b_input if depth == 0 else
                                np.load(run_dir / ("mean.npy" if depth == 1 else f"mean_depth_{depth:g}.npy")))
                        scores = prepared.score("B", np.asarray(mean, dtype=np.float64))
                        frontier.append({"dataset": name, "labels": labels, "depth": depth,
                                         **{k: scores[k] for k in ("rmse_zeros", "r_all", "mean_at_true_zeros")}})
                print(f"{name} labels={labels} protocol {protocol}: {measured['wall_s']:.1f} s, "
                      f"{measured['peak_rss_mb']:.0f} MB ({info['epochs']} epochs)", flush=True)

            # protocol A on if_detected, B on the main layer; calibration on protocol B's zeros asked at the
            # protocol's depth (the target) and at the input's; coverage of the draws' 90% intervals: A given
            # detection (the target) and as drawn, B's zeros at the protocol's depth (the target) and at the input's
            checks = score_count_model(prepared, outputs["A"], outputs["B"])
            add("A rmse (if_detected)", name, labels, checks["A"]["rmse"])
            add("A pearson (if_detected)", name, labels, checks["A"]["pearson"])
            add("B rmse_zeros (mean)", name, labels, checks["B"]["rmse_zeros"])
            add("B r_all (mean)", name, labels, checks["B"]["r_all"])
            cal = checks["calibration"]
            add(CALIBRATION, name, labels, cal["ece"], **{k: v for k, v in cal.items() if k != "ece"})
            tables = checks["calibration_tables"]
            cal_tables[f"{name}, labels {labels}"] = (tables["protocol depth"], tables["depth 1"])
            for tab, question in ((tables["protocol depth"], f"p_detected, depth {B_DEPTH:.3g}"),
                                  (tables["depth 1"], "p_detected, depth 1")):
                cal_rows.append(tab.assign(dataset=name, labels=labels, prediction=question))
            cov_a, cov_b = checks["coverage_A"], checks["coverage_B"]
            add(COVERAGE_A, name, labels, cov_a["coverage"], below=cov_a["below"], above=cov_a["above"],
                mean_width=cov_a["mean_width"], coverage_draws_as_drawn=cov_a["coverage_draws_as_drawn"])
            add(COVERAGE_B, name, labels, cov_b["coverage"], below=cov_b["below"], above=cov_b["above"],
                mean_width=cov_b["mean_width"], coverage_depth_1=cov_b["coverage_depth_1"],
                coverage_dropouts_only=cov_b["coverage_dropouts_only"])

            # cost: pp.impute on protocol A's input, in its own child
            cost_dir = folder / f"cost_{labels}"
            cost_dir.mkdir()
            measured = run_command(["-c", COST_CODE, str(folder / "A.npy"), label_file or "",
                                    "" if args.max_epochs is None else str(args.max_epochs)], cost_dir, "cost",
                                   threads=args.threads)
            timings = json.loads(measured["output"].strip().splitlines()[-1])
            cost.append({"dataset": name, "labels": labels, "wall_s": measured["wall_s"],
                         "method_s": measured["method_s"], "peak_rss_mb": measured["peak_rss_mb"],
                         "train_s": timings.get("train_s"), "impute_s": timings.get("impute_s"),
                         "threads": args.threads})
            add("cost wall s (train + impute)", name, labels, measured["wall_s"])
            add("cost peak RSS MB", name, labels, measured["peak_rss_mb"])

        # protocol S: one population of the protocol A input
        if name == args.s_dataset:
            population = single_population_input(prepared, args.s_label, "A")
            s_dir = folder / "S"
            s_dir.mkdir()
            np.save(s_dir / "input.npy", population)
            epochs = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
            methods = {"none": None,
                       "scmaskgan_masked (no labels)": ("scmaskgan", None, {"mode": "count", **epochs}),
                       "scmaskgan_auto (default mode, automatic labels)": ("scmaskgan", None, dict(epochs))}
            for method, spec in methods.items():
                if spec is None:
                    output = population
                else:
                    baseline, labels_file, options = spec
                    tag = f"S_{len(structure)}"
                    task = {"baseline": baseline, "input": str(s_dir / "input.npy"), "labels": labels_file,
                            "seed": 0, "options": options, "output": str(s_dir / f"{tag}.npy"),
                            "result": str(s_dir / f"{tag}.result.json"), "log_level": "WARNING"}
                    measured = run_in_child(task, s_dir, tag, threads=args.threads)
                    runs.append({"dataset": name, "labels": "none",
                                 "run": f"protocol S: {method}", "wall_s": measured["wall_s"],
                                 "peak_rss_mb": measured["peak_rss_mb"]})
                    output = np.load(s_dir / f"{tag}.npy")
                score = invented_structure(output, seed=0)
                anchor = None
                if (name, args.s_label) == ("sc_celseq2", "H1975"):  # the anchors' population
                    anchor = next((v for k, v in S_ANCHORS.items() if method.startswith(k)), None)
                structure.append({"dataset": name, "population": args.s_label, "cells": int(population.shape[0]),
                                  "method": method, "silhouette": score["silhouette"],
                                  "n_clusters": score["n_clusters"],
                                  "cluster_sizes": " ".join(map(str, score["cluster_sizes"])),
                                  "anchor": anchor})
                if method.startswith("scmaskgan_masked"):
                    add("S silhouette (H1975)", name, "none", score["silhouette"], n_clusters=score["n_clusters"])

    # ------------------------------------------------------------------ write and print
    targets = pd.DataFrame(rows)
    targets.to_csv(out / "targets.csv", index=False)
    pd.concat(cal_rows, ignore_index=True).to_csv(out / "calibration.csv", index=False)
    pd.DataFrame(structure).to_csv(out / "structure.csv", index=False)
    pd.DataFrame(cost).to_csv(out / "cost.csv", index=False)
    pd.DataFrame(runs).to_csv(out / "runs.csv", index=False)
    if args.depths:
        table = pd.DataFrame(frontier).sort_values(["dataset", "labels", "depth"])
        table.to_csv(out / "frontier.csv", index=False)
        print("\nprotocol B's main layer by depth (the frontier; the targets are at depth 1):")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    fig = plot_reliability_questions(cal_tables)
    fig.savefig(out / "reliability.png", dpi=120)
    plt.close(fig)
    meta = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "threads": args.threads,
            "draws": args.draws, "max_epochs": args.max_epochs, "git": _git(), "seconds": time.perf_counter() - t_start}
    (out / "results.json").write_text(json.dumps({"meta": meta, "targets": rows, "structure": structure,
                                                  "cost": cost, "runs": runs}, indent=1, default=str))
    import shutil

    shutil.rmtree(work, ignore_errors=True)

    pd.set_option("display.width", 200)
    for metric, table in targets.groupby("target", sort=False):
        extra = [c for c in table.columns if c not in ("target", "value", "goal", "met") and table[c].notna().any()]
        print(f"\n### {metric}\n")
        print(table[["dataset", "labels", "value", "goal", "met"]
                    + [c for c in extra if c not in ("dataset", "labels")]].round(3).to_markdown(index=False))
    if structure:
        print("\n### protocol S (all rows; anchors from BENCHMARK.md)\n")
        print(pd.DataFrame(structure).round(3).to_markdown(index=False))
    print("\n### runs (every child process)\n")
    print(pd.DataFrame(runs).round(2).to_markdown(index=False))
    print(f"\n{meta['command']}: {meta['seconds']:.0f} s; threads {args.threads}; git {meta['git']}")


def _git() -> str | None:
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=SCRIPT.parent, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=SCRIPT.parent,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
