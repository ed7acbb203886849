"""Spread of the default scmaskgan run over seeds on protocol A (../shared/BENCHMARK.md).

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/seeds.py [--dataset sc_celseq2] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import time

import anndata as ad
import numpy as np
import pandas as pd

import scmaskgan
from scmaskgan.evaluation import benchmark_genes, cluster_scores, hide_nonzero, score_hidden


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="sc_celseq2")
    parser.add_argument("--labels-key", default="cell_line_original")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    data = scmaskgan.datasets.load(args.dataset)
    counts = data.X.toarray().astype(np.float64)
    lib, genes = benchmark_genes(counts)
    truth = counts[:, genes]
    labels = data.obs[args.labels_key].astype(str).to_numpy()
    corrupted, idx = hide_nonzero(truth, 0.1, seed=0)  # the protocol's hidden set does not depend on the seed
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        adata = ad.AnnData(corrupted.astype(np.float32), obs=data.obs[[args.labels_key]].copy())
        t0 = time.perf_counter()
        scmaskgan.pp.impute(adata, labels_key=args.labels_key, seed=seed, progress=False)
        imputed = adata.layers["scmaskgan"]
        rows.append({"seed": seed, "seconds": time.perf_counter() - t0,
                     **score_hidden(truth, imputed, idx, lib), **cluster_scores(imputed, lib, labels)})
    table = pd.DataFrame(rows).set_index("seed")[["rmse", "pearson", "spearman", "ari", "seconds"]]
    print(table.round(3).to_markdown())
    print(f"\nmean +- sd over {len(table)} seeds: RMSE {table.rmse.mean():.3f} +- {table.rmse.std():.3f}, "
          f"Pearson {table.pearson.mean():.3f} +- {table.pearson.std():.3f}")


if __name__ == "__main__":
    main()
