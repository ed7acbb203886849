"""Spread of scmaskgan's results over seeds on both held-out protocols (../shared/BENCHMARK.md).

The protocols' hidden entries and thinning do not depend on the seed; only the method's seed
changes (PCA, Leiden, GAN training, candidates, Optuna).

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/seeds.py [--datasets sc_celseq2,sc_dropseq]
        [--seeds 0,1,2] [--runs default,auto,paper] [--threads 1] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import scmaskgan
from scmaskgan.benchmarking import prepare

#: run name -> (pp.impute options, uses the true labels)
RUNS = {"default": ({}, True), "auto": ({}, False), "paper": ({"mode": "paper"}, True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--runs", default="default,auto,paper")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows = []
    for name in args.datasets.split(","):
        data = prepare(name)
        key = data.spec.labels_key
        for run in args.runs.split(","):
            options, true_labels = RUNS[run]
            for seed in (int(s) for s in args.seeds.split(",")):
                row = {"dataset": name, "run": run, "seed": seed}
                for protocol, matrix in data.inputs().items():
                    adata = data.anndata(matrix)
                    t0 = time.perf_counter()
                    scmaskgan.pp.impute(adata, labels_key=key if true_labels else None, seed=seed,
                                        progress=False, n_threads=None, **options)
                    imputed = adata.layers["scmaskgan"]
                    row[f"seconds_{protocol}"] = time.perf_counter() - t0
                    row |= data.score(protocol, imputed)
                rows.append(row)
                print(f"{name} {run} seed {seed}: A {row['rmse']:.3f}/{row['pearson']:.3f} ARI {row['ari']:.3f}, "
                      f"B {row['rmse_zeros']:.3f}/{row['r_all']:.3f}", flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "seeds.csv", index=False)
    cols = ["rmse", "pearson", "spearman", "ari", "rmse_zeros", "r_all", "seconds_A"]
    summary = table.groupby(["dataset", "run"])[cols].agg(["mean", "std"]).round(3)
    print("\n" + table.set_index(["dataset", "run", "seed"])[cols].round(3).to_markdown())
    print("\nmean and sd over seeds\n\n" + summary.to_markdown())


if __name__ == "__main__":
    main()
