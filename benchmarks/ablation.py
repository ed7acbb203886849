"""Ablation of scmaskgan's imputation step on held-out truth (protocols A and B of ../shared/BENCHMARK.md).

For each dataset and protocol the GAN is trained once with the default settings
(true labels); then the imputation runs under each configuration below, so the
rows differ only in the imputation step. Nothing here sees the hidden entries
except the scoring.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/ablation.py [--datasets sc_celseq2,sc_dropseq] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

import scmaskgan
from scmaskgan.evaluation import benchmark_genes, cluster_scores, hide_nonzero, score_hidden, score_thinning, thin
from scmaskgan.model import SCMaskGAN

# name -> parameter overrides of the imputation step (the paper's method first)
CONFIGS: dict[str, dict] = {
    "paper (generated pool, observed-gene distances, IF, theta, Optuna)": {},
    "- Isolation Forest (tau = 1)": {"tau": 1.0},
    "- Optuna (k 10, k_sigma 1)": {"tune": False},
    "- theta and Optuna (k 10, all candidates within theta)": {"tune": False, "k_sigma": 1e6},
    "+ real cells in the pool": {"pool": "both"},
    "real cells only": {"pool": "real"},
    "real cells only, PCA distances": {"pool": "real", "metric": "pca"},
    "real cells only, PCA distances, alpha 0.5": {"pool": "real", "metric": "pca", "alpha": 0.5},
    "both pools, PCA distances, alpha 0.5": {"pool": "both", "metric": "pca", "alpha": 0.5},
}
LABELS = {"sc_celseq2": "cell_line_original", "sc_dropseq": "cell_line_original"}


def run(name: str) -> list[dict]:
    data = scmaskgan.datasets.load(name)
    counts = data.X.toarray().astype(np.float64)
    lib, genes = benchmark_genes(counts)
    truth = counts[:, genes]
    key = LABELS[name]
    labels = data.obs[key].astype(str).to_numpy()
    corrupted, idx = hide_nonzero(truth, 0.1, seed=0)
    observed = thin(truth, 0.3, seed=0).astype(np.float64)
    rows = []
    for protocol, matrix in (("A", corrupted), ("B", observed)):
        adata = ad.AnnData(matrix.astype(np.float32), obs=data.obs[[key]].copy())
        model = SCMaskGAN(adata, labels_key=key, progress=False)
        t0 = time.perf_counter()
        model.train()
        train_s = time.perf_counter() - t0
        defaults = dict(model.params)
        for config, overrides in CONFIGS.items():
            model.params = defaults | overrides
            t0 = time.perf_counter()
            imputed = model.impute()
            row = {"dataset": name, "protocol": protocol, "config": config, "train_s": train_s,
                   "impute_s": time.perf_counter() - t0}
            if protocol == "A":
                row |= score_hidden(truth, imputed, idx, lib) | cluster_scores(imputed, lib, labels)
            else:
                row |= score_thinning(truth, observed, imputed)
            rows.append(row)
            print(f"{name} {protocol} {config}: " + ", ".join(
                f"{k} {row[k]:.3f}" for k in ("rmse", "pearson", "ari", "rmse_zeros", "r_all") if k in row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is faster on a busy machine)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rows = [row for name in args.datasets.split(",") for row in run(name)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    table.to_csv(out / "ablation.csv", index=False)
    a = table[table.protocol == "A"].pivot(index="config", columns="dataset", values=["rmse", "pearson", "spearman", "ari"])
    b = table[table.protocol == "B"].pivot(index="config", columns="dataset", values=["rmse_zeros", "r_zeros", "r_all"])
    order = list(CONFIGS)
    print("\n## Protocol A (hidden non-zero entries)\n")
    print(a.reindex(order).round(3).to_markdown())
    print("\n## Protocol B (thinning; zeros scored)\n")
    print(b.reindex(order).round(3).to_markdown())
    (out / "ablation.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
