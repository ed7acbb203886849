"""Data-parallel training (torchrun, CPU gloo) against one process, on held-out truth.

Writes the protocol-A input of a CellBench data set (10% of the non-zero counts hidden) to an
h5ad file, runs ``scmaskgan impute --mode paper`` once as one process and once under
``torchrun --standalone --nproc_per_node N`` (each process with ``--threads`` threads), and
scores both on the hidden entries (``scmaskgan.evaluation.score_hidden``).

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/distributed.py [--dataset sc_celseq2] [--nproc 2]
        [--threads 1] [--out benchmarks/results/distributed]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from scmaskgan.benchmarking import prepare
from scmaskgan.benchmarking.child import run_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="sc_celseq2")
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per process")
    parser.add_argument("--out", default="benchmarks/results/distributed")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = prepare(args.dataset)
    source = out / "input.h5ad"
    data.anndata(data.protocol_a()[0]).write_h5ad(source)
    cli = ["-m", "scmaskgan", "impute", str(source), "--labels-key", data.spec.labels_key, "--mode", "paper",
           "--device", "cpu", "--force", "-q"]
    rows = []
    logs = tempfile.TemporaryDirectory(prefix="distributed-")  # the child processes' task files and logs
    for nproc in (1, args.nproc):
        target = out / f"imputed_{nproc}.h5ad"
        launcher = [] if nproc == 1 else ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
        wall = run_command([*launcher, *cli, "-o", str(target)], Path(logs.name), f"run_{nproc}", args.threads)["wall_s"]
        result = ad.read_h5ad(target)
        run = result.uns["scmaskgan"]
        imputed = np.asarray(result.layers["scmaskgan"], dtype=np.float64)
        rows.append({"processes": nproc, "threads_each": args.threads, "wall_s": wall,
                     "train_s": float(run["timings"]["train_s"]), "epochs": len(run["history"]["epoch"]),
                     **data.score("A", imputed)})
        print(rows[-1], flush=True)
    logs.cleanup()
    table = pd.DataFrame(rows)
    table.to_csv(out / "distributed.csv", index=False)
    print("\n" + table[["processes", "threads_each", "epochs", "train_s", "wall_s", "rmse", "pearson", "spearman",
                        "ari"]].round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
