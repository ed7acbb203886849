"""Recovery of dropouts and of true zeros on simulated data with known truth, against the baselines.

``scmaskgan.simulate`` (Splatter-style: groups with differentially expressed genes, gamma-Poisson
counts, logistic dropout) gives the true counts and the dropout mask. For each dropout level
every method imputes the observed counts; ``scmaskgan.evaluation.metrics.simulation_scores`` scores, on
``log1p(x / cell total * 1e4)``: RMSE and Pearson on the dropout entries, how many true zeros
stay exactly 0, precision/recall/F1 of "imputed >= 0.5 counts" for dropouts against true zeros,
and the RMSE over all observed zeros (protocol B's ``rmse_zeros``).

Usage::

    python benchmarks/simulation.py [--cells 1000] [--genes 2000] [--dropout-mids 0.5,1.5,3]
        [--methods none,magic,...] [--out DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import scmaskgan
from scmaskgan.benchmarking import baselines
from scmaskgan.benchmarking.benchmark import DEFAULT_METHODS, METHODS
from scmaskgan.evaluation.metrics import simulation_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--dropout-mids", default="0.5,1.5,3.0",
                        help="midpoints of the logistic dropout curve (log mean); larger = more dropout")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                        help="names of scmaskgan.benchmarking.benchmark.METHODS (the benchmark's rows)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    methods = args.methods.split(",")
    try:
        METHODS.check(methods)
    except ValueError as exc:
        parser.error(f"--methods: {exc}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows = []
    for mid in (float(m) for m in args.dropout_mids.split(",")):
        sim = scmaskgan.simulate.simulate(args.cells, args.genes, args.groups, dropout_mid=mid, seed=args.seed)
        observed = sim.X.toarray().astype(np.float64)
        truth = sim.layers["true_counts"].toarray()
        mask = sim.layers["dropout"].toarray()
        groups = sim.obs["group"].astype(str).to_numpy()
        zeros = float((observed == 0).mean())
        for name in methods:
            spec = METHODS[name]
            t0 = time.perf_counter()
            imputed = baselines.run(spec.baseline, observed, labels=groups if spec.true_labels else None,
                                    seed=args.seed, **spec.options)
            seconds = time.perf_counter() - t0
            scores = simulation_scores(truth, observed, imputed, mask)
            rows.append({"dropout_mid": mid, "share_zeros": zeros, "share_dropouts": float(mask.mean()),
                         "method": name, "seconds": seconds, **scores})
            print(f"mid {mid}: {name}: rmse_dropouts {scores['rmse_dropouts']:.3f} "
                  f"r {scores['pearson_dropouts']:.3f} true zeros kept {scores['share_true_zeros_kept']:.3f} "
                  f"F1 {scores['f1']:.3f} rmse_zeros {scores['rmse_observed_zeros']:.3f} ({seconds:.1f} s)",
                  flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "simulation.csv", index=False)
    cols = ["rmse_dropouts", "pearson_dropouts", "share_true_zeros_kept", "mean_at_true_zeros", "precision",
            "recall", "f1", "rmse_observed_zeros", "seconds"]
    for mid, part in table.groupby("dropout_mid"):
        print(f"\n## dropout midpoint {mid}: {part.share_zeros.iloc[0]:.1%} zeros, "
              f"{part.share_dropouts.iloc[0]:.1%} of entries are dropouts\n")
        print(part.set_index("method")[cols].round(3).to_markdown())


if __name__ == "__main__":
    main()
