"""Cost of scmaskgan against the number of cells: wall time and peak memory, with fitted slopes.

For each size, simulated counts (``scmaskgan.simulate``, ``lib_loc`` 7.5: about 90% zeros, 5
groups) are written to an h5ad file; then, each in its own process
(:func:`scmaskgan.benchmarking.child.run_command`; peak RSS = the process's ``VmHWM``, the "Maximum
resident set size" of ``/usr/bin/time -v``):

* ``impute``: the command line end to end with the neighbour fill, ``scmaskgan impute sim.h5ad -o out.h5ad
  --labels-key group --mode neighbours`` (reading, imputing, writing the imputed layer block by block),
  for the sizes in ``--cells`` (runs before the count model became the default are labelled "default
  mode" in scale.csv);
* ``epoch``: one training epoch of the paper's GAN (``mode="paper"``, ``train(max_epochs=1)``:
  every cell once), for the sizes in ``--epoch-cells``;
* ``count``: the command line end to end with the count model, the default, ``scmaskgan impute ... --mode
  count`` (reading, training with early stopping, the three layers written block by block), for the
  sizes in ``--count-cells`` (earlier name ``--masked-cells``; earlier runs are labelled "masked mode");
  its fitted time is training plus imputation;
* ``paper``: the command line end to end in the paper's mode, ``scmaskgan impute ... --mode paper``
  (reading, training the GAN for its default number of epochs, generating and filtering candidates,
  Optuna tuning, imputing, writing), for the sizes in ``--paper-cells``.

Rows of earlier runs in ``--out``'s scale.csv are kept unless rerun (same cells, genes and run).

Slopes are least-squares fits of log(time) and log(peak memory) on log(cells) over the sizes of at
least ``--fit-from`` cells (1,000: smaller runs are dominated by fixed costs), the time being the
imputation's own (``uns["scmaskgan"]["timings"]["impute_s"]``, without start-up and file I/O) or the
epoch's: 1 is linear cost.

Usage::

    python benchmarks/scale.py [--cells 1000,10000,100000] [--genes 2000] [--epoch-cells 1000,10000,100000]
        [--paper-cells 100000] [--count-cells 1000,10000,100000] [--fit-from 1000] [--out benchmarks/results/scale]
        [--threads 2]

With no sizes (``--cells "" --epoch-cells ""``) it only refits the slopes of the saved table.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from scmaskgan.benchmarking.child import run_command

EPOCH_SCRIPT = """
import sys, time, anndata as ad
from scmaskgan import SCMaskGAN
adata = ad.read_h5ad(sys.argv[1])
model = SCMaskGAN(adata, labels_key="group", mode="paper", progress=False, n_threads=None)  # --threads: the env's
t0 = time.perf_counter()
model.train(max_epochs=1)
print("EPOCH_SECONDS", time.perf_counter() - t0, model.history_["seconds"].iloc[-1])
"""


def simulate(n_cells: int, n_genes: int, path: Path, folder: Path, threads: int | None) -> dict:
    if not path.exists():
        code = ("import sys, scmaskgan; a = scmaskgan.simulate.simulate(int(sys.argv[1]), int(sys.argv[2]), 5, "
                "lib_loc=7.5, seed=0, keep_truth=False); a.write_h5ad(sys.argv[3])")
        run_command(["-c", code, n_cells, n_genes, path], folder, f"simulate_{n_cells}", threads)
    import anndata as ad

    backed = ad.read_h5ad(path, backed="r")
    return {"zeros": float(backed.uns["simulation"]["zero_rate_observed"])}


def slope(x: pd.Series, y: pd.Series) -> float:
    ok = (x > 0) & (y > 0)
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0]) if ok.sum() >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="1000,10000,100000")
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--epoch-cells", default="1000,10000,100000")
    parser.add_argument("--paper-cells", default="", help="sizes run end to end in the paper's mode")
    parser.add_argument("--count-cells", "--masked-cells", dest="count_cells", default="",
                        help="sizes run end to end with --mode count (the default)")
    parser.add_argument("--fit-from", type=int, default=1000, help="smallest size in the fitted slopes")
    parser.add_argument("--out", default="benchmarks/results/scale")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per run (OMP/MKL/torch, and the command line's --threads); default: the "
                        "libraries' own for the epoch timings, the command line's default (1) end to end")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    threads = args.threads or None  # threads per run (OMP_NUM_THREADS and kin), as before: 0 = no limit
    tmp = tempfile.TemporaryDirectory(prefix="scale-")
    folder = Path(tmp.name)  # the child processes' task files and logs
    sizes = {name: {int(c) for c in getattr(args, name).split(",") if c.strip()}
             for name in ("cells", "epoch_cells", "paper_cells", "count_cells")}
    rows = []
    for n in sorted(set().union(*sizes.values())):
        data = out / f"sim_{n}x{args.genes}.h5ad"
        info = simulate(n, args.genes, data, folder, threads)
        result = out / f"imputed_{n}x{args.genes}.h5ad"
        for mode, size_key in (("neighbours", "cells"), ("paper", "paper_cells"), ("count", "count_cells")):
            if n not in sizes[size_key]:
                continue
            run = run_command(["-m", "scmaskgan", "impute", data, "-o", result, "--labels-key", "group", "--mode", mode,
                               "--force", *(["--threads", threads] if threads else [])], folder, f"impute_{mode}_{n}",
                              threads)
            wall, rss = run["wall_s"], run["peak_rss_mb"]
            with h5py.File(result, "r") as f:  # the steps' own times, without start-up and I/O
                times = {f"{step}_s": float(f[f"uns/scmaskgan/timings/{step}_s"][()])
                         for step in ("train", "impute") if f"uns/scmaskgan/timings/{step}_s" in f}
                epochs = int(len(f["uns/scmaskgan/history/epoch"])) if "uns/scmaskgan/history/epoch" in f else 0
            if mode == "count":  # what it costs to answer: training and the three layers
                times["method_s"] = times.get("train_s", 0.0) + times.get("impute_s", 0.0)
            rows.append({"cells": n, "genes": args.genes, "zeros": info["zeros"], "run": f"impute ({mode} mode, CLI)",
                         "wall_s": wall, **times, **({"epochs": epochs} if epochs else {}), "peak_rss_mb": rss})
            print(f"{n} cells, {mode} mode: {times} ({wall:.1f} s end to end), {rss:.0f} MB", flush=True)
            result.unlink(missing_ok=True)
        if n in sizes["epoch_cells"]:
            run = run_command(["-c", EPOCH_SCRIPT, data], folder, f"epoch_{n}", threads)
            wall, rss = run["wall_s"], run["peak_rss_mb"]
            epoch_s = float(re.search(r"EPOCH_SECONDS (\S+) (\S+)", run["output"]).group(2))
            rows.append({"cells": n, "genes": args.genes, "zeros": info["zeros"], "run": "one GAN epoch (paper)",
                         "wall_s": wall, "epoch_s": epoch_s, "peak_rss_mb": rss})
            print(f"{n} cells: one epoch {epoch_s:.1f} s ({wall:.1f} s with setup), {rss:.0f} MB", flush=True)
    tmp.cleanup()
    table = pd.DataFrame(rows)
    if (out / "scale.csv").exists():  # keep earlier rows that were not rerun
        earlier = pd.read_csv(out / "scale.csv")
        table = pd.concat([earlier, table], ignore_index=True) if rows else earlier
        table = table.drop_duplicates(["cells", "genes", "run"], keep="last").sort_values(["cells", "run"])
    table.to_csv(out / "scale.csv", index=False)
    fits = {}
    for run, part in table[table.cells >= args.fit_from].groupby("run"):
        time_col = ("epoch_s" if part["run"].iloc[0].startswith("one GAN") else
                    "method_s" if re.search(r"\((count|masked) mode", part["run"].iloc[0]) else "impute_s")
        fits[run] = {"time_slope": slope(part.cells, part[time_col]), "memory_slope": slope(part.cells,
                                                                                           part.peak_rss_mb)}
    (out / "slopes.json").write_text(json.dumps(fits, indent=1))
    print("\n" + table.round(2).to_markdown(index=False))
    print("\nlog-log slopes (1 = linear in cells):\n" + pd.DataFrame(fits).T.round(2).to_markdown())


if __name__ == "__main__":
    main()
