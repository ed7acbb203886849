"""Cost of scmaskgan against the number of cells: wall time and peak memory, with fitted slopes.

For each size, simulated counts (``scmaskgan.simulate``, ``lib_loc`` 7.5: about 90% zeros, 5
groups) are written to an h5ad file; then, each in its own process under ``/usr/bin/time -v``
(peak RSS = its "Maximum resident set size"):

* ``impute``: the command line end to end, default mode, ``scmaskgan impute sim.h5ad -o out.h5ad
  --labels-key group`` (reading, imputing, writing the imputed layer block by block);
* ``epoch``: one training epoch of the paper's GAN (``mode="paper"``, ``train(max_epochs=1)``:
  every cell once), for the sizes in ``--epoch-cells``;
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
        [--paper-cells 100000] [--fit-from 1000] [--out benchmarks/results/scale] [--threads 2]

With no sizes (``--cells "" --epoch-cells ""``) it only refits the slopes of the saved table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

EPOCH_SCRIPT = """
import sys, time, anndata as ad
from scmaskgan import SCMaskGAN
adata = ad.read_h5ad(sys.argv[1])
model = SCMaskGAN(adata, labels_key="group", mode="paper", progress=False)
t0 = time.perf_counter()
model.train(max_epochs=1)
print("EPOCH_SECONDS", time.perf_counter() - t0, model.history_["seconds"].iloc[-1])
"""


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Run ``cmd`` under /usr/bin/time -v: (wall seconds, peak RSS MB, stdout+stderr)."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return wall, rss_kb / 1024, proc.stdout + proc.stderr


def simulate(n_cells: int, n_genes: int, path: Path, env: dict) -> dict:
    if not path.exists():
        code = ("import sys, scmaskgan; a = scmaskgan.simulate.simulate(int(sys.argv[1]), int(sys.argv[2]), 5, "
                "lib_loc=7.5, seed=0, keep_truth=False); a.write_h5ad(sys.argv[3])")
        timed([sys.executable, "-c", code, str(n_cells), str(n_genes), str(path)], env)
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
    parser.add_argument("--fit-from", type=int, default=1000, help="smallest size in the fitted slopes")
    parser.add_argument("--out", default="benchmarks/results/scale")
    parser.add_argument("--threads", type=int, default=None, help="threads per run (OMP/MKL/torch)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
            env[var] = str(args.threads)
    scmaskgan_cli = str(Path(sys.executable).with_name("scmaskgan"))
    sizes = {name: {int(c) for c in getattr(args, name).split(",") if c.strip()}
             for name in ("cells", "epoch_cells", "paper_cells")}
    rows = []
    for n in sorted(set().union(*sizes.values())):
        data = out / f"sim_{n}x{args.genes}.h5ad"
        info = simulate(n, args.genes, data, env)
        result = out / f"imputed_{n}x{args.genes}.h5ad"
        for mode in ("default", "paper"):
            if n not in sizes["cells" if mode == "default" else "paper_cells"]:
                continue
            wall, rss, _ = timed([scmaskgan_cli, "impute", str(data), "-o", str(result), "--labels-key", "group",
                                  "--mode", mode, "--force"], env)
            with h5py.File(result, "r") as f:  # the steps' own times, without start-up and I/O
                times = {f"{step}_s": float(f[f"uns/scmaskgan/timings/{step}_s"][()])
                         for step in ("train", "impute") if f"uns/scmaskgan/timings/{step}_s" in f}
                epochs = int(len(f["uns/scmaskgan/history/epoch"])) if "uns/scmaskgan/history/epoch" in f else 0
            rows.append({"cells": n, "genes": args.genes, "zeros": info["zeros"], "run": f"impute ({mode} mode, CLI)",
                         "wall_s": wall, **times, **({"epochs": epochs} if epochs else {}), "peak_rss_mb": rss})
            print(f"{n} cells, {mode} mode: {times} ({wall:.1f} s end to end), {rss:.0f} MB", flush=True)
            result.unlink(missing_ok=True)
        if n in sizes["epoch_cells"]:
            wall, rss, text = timed([sys.executable, "-c", EPOCH_SCRIPT, str(data)], env)
            epoch_s = float(re.search(r"EPOCH_SECONDS (\S+) (\S+)", text).group(2))
            rows.append({"cells": n, "genes": args.genes, "zeros": info["zeros"], "run": "one GAN epoch (paper)",
                         "wall_s": wall, "epoch_s": epoch_s, "peak_rss_mb": rss})
            print(f"{n} cells: one epoch {epoch_s:.1f} s ({wall:.1f} s with setup), {rss:.0f} MB", flush=True)
    table = pd.DataFrame(rows)
    if (out / "scale.csv").exists():  # keep earlier rows that were not rerun
        earlier = pd.read_csv(out / "scale.csv")
        table = pd.concat([earlier, table], ignore_index=True) if rows else earlier
        table = table.drop_duplicates(["cells", "genes", "run"], keep="last").sort_values(["cells", "run"])
    table.to_csv(out / "scale.csv", index=False)
    fits = {}
    for run, part in table[table.cells >= args.fit_from].groupby("run"):
        time_col = "epoch_s" if part["run"].iloc[0].startswith("one GAN") else "impute_s"
        fits[run] = {"time_slope": slope(part.cells, part[time_col]), "memory_slope": slope(part.cells,
                                                                                           part.peak_rss_mb)}
    (out / "slopes.json").write_text(json.dumps(fits, indent=1))
    print("\n" + table.round(2).to_markdown(index=False))
    print("\nlog-log slopes (1 = linear in cells):\n" + pd.DataFrame(fits).T.round(2).to_markdown())


if __name__ == "__main__":
    main()
