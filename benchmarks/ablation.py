"""Ablation of scmaskgan on held-out truth (protocols A and B of ../shared/BENCHMARK.md).

Rows, per dataset and protocol:

* the paper's method (``mode="paper"``: trained conditional GAN, generated candidates,
  distances over observed genes, Isolation Forest, theta, Optuna, plain mean of the neighbours);
* each of its components switched off in turn: self-attention, residual blocks, label
  conditioning (each a separately trained GAN), Isolation Forest, Optuna, theta;
* the improvements added in turn, ending at the default mode: real cells in the pool, real
  cells only, PCA distances, the Poisson fill at the cell's own depth (alpha 1, then the
  default alpha 0.5), k 30;
* the default mode with automatic (Leiden) labels, and alpha 0 (every zero a dropout).

Wall time = training of the GAN the row uses (0 when it uses none) + its imputation.
Nothing here sees the hidden entries except the scoring: labels are the benchmark's label
column (the metadata's cell lines), the GANs and Optuna see only the corrupted input.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/ablation.py [--datasets sc_celseq2,sc_dropseq]
        [--out DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from scmaskgan.benchmarking import prepare
from scmaskgan.model import MODES, SCMaskGAN

PAPER = MODES["paper"]
DEFAULT = MODES["default"]

#: row -> (network switches of the GAN it uses or None for no GAN, imputation settings)
CONFIGS: dict[str, tuple[dict | None, dict]] = {
    "paper (mode='paper')": ({}, PAPER),
    "paper - self-attention": ({"attention": False}, PAPER),
    "paper - residual blocks": ({"residual": False}, PAPER),
    "paper - label conditioning": ({"conditional": False}, PAPER),
    "paper - Isolation Forest (tau 1)": ({}, PAPER | {"tau": 1.0}),
    "paper - Optuna (k 10, k_sigma 1)": ({}, PAPER | {"tune": False}),
    "paper - theta and Optuna": ({}, PAPER | {"tune": False, "k_sigma": 1e6}),
    "+ real cells in the pool": ({}, PAPER | {"pool": "both"}),
    "+ real cells only (no GAN)": (None, PAPER | {"pool": "real"}),
    "+ PCA distances": (None, PAPER | {"pool": "real", "metric": "pca"}),
    "+ Poisson fill, alpha 1 (posterior mean)": (None, PAPER | {"pool": "real", "metric": "pca", "fill": "poisson"}),
    "+ alpha 0.5, no Optuna (k 10)": (None, DEFAULT | {"k": 10}),
    "+ k 30 = default mode": (None, DEFAULT),
    "default, Poisson fill on generated candidates": ({}, DEFAULT | {"pool": "generated"}),
    "default, Poisson fill on both pools": ({}, DEFAULT | {"pool": "both"}),
    "default, alpha 0 (every zero a dropout)": (None, DEFAULT | {"alpha": 0.0}),
    "default, automatic labels": (None, DEFAULT | {"auto_labels": True}),
}


def run(name: str, seed: int) -> list[dict]:
    data = prepare(name)
    key = data.spec.labels_key
    rows = []
    for protocol, matrix in data.inputs().items():
        adata = data.anndata(matrix)
        trained: dict[str, tuple[SCMaskGAN, float]] = {}  # one GAN per set of network switches
        for config, (switches, settings) in CONFIGS.items():
            settings = dict(settings)
            auto = settings.pop("auto_labels", False)
            train_s = 0.0
            if switches is None:
                model = SCMaskGAN(adata, labels_key=None if auto else key, seed=seed, progress=False,
                                  n_threads=None, **settings)
            else:
                tag = json.dumps(switches, sort_keys=True)
                if tag not in trained:
                    model = SCMaskGAN(adata, labels_key=key, seed=seed, progress=False, n_threads=None,
                                      **switches)
                    t0 = time.perf_counter()
                    model.train()
                    trained[tag] = (model, time.perf_counter() - t0)
                model, train_s = trained[tag]
                model.params = model.params | settings
            t0 = time.perf_counter()
            imputed = model.impute()
            impute_s = time.perf_counter() - t0
            row = {"dataset": name, "protocol": protocol, "config": config, "seed": seed,
                   "train_s": train_s, "impute_s": impute_s, "wall_s": train_s + impute_s}
            row |= data.score(protocol, imputed)
            rows.append(row)
            print(f"{name} {protocol} {config}: " + ", ".join(
                f"{k} {row[k]:.3f}" for k in ("rmse", "pearson", "ari", "rmse_zeros", "r_all", "wall_s") if k in row),
                flush=True)
    return rows


def tables(table: pd.DataFrame) -> str:
    """Markdown tables of protocol A and B, rows in the order of CONFIGS."""
    order = [c for c in CONFIGS if c in set(table.config)]
    a = table[table.protocol == "A"].pivot(index="config", columns="dataset",
                                           values=["rmse", "pearson", "spearman", "ari", "wall_s"])
    b = table[table.protocol == "B"].pivot(index="config", columns="dataset", values=["rmse_zeros", "r_zeros", "r_all"])
    return ("## Protocol A (hidden non-zero entries)\n\n" + a.reindex(order).round(3).to_markdown()
            + "\n\n## Protocol B (thinning; zeros scored)\n\n" + b.reindex(order).round(3).to_markdown() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is faster on a busy machine)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows = [row for name in args.datasets.split(",") for row in run(name, args.seed)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(out / "ablation.csv", index=False)
    text = tables(table)
    (out / "ablation.md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
