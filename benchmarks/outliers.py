"""How far the real data sets stay from the corrupt-entry threshold, and what finding outliers costs.

For every data set that ``scmaskgan.datasets.load`` knows (read from ``SCMASKGAN_DATA``), the largest
ratio of an entry to ``max(1, its cell's other values, its gene's other values)``: the quantity that
``scmaskgan.outliers.find_outliers`` compares with ``FACTOR``. Then the seconds that
``find_outliers`` takes on a simulated sparse matrix of ``--cells`` x ``--genes`` (about 20 counts per
cell per 1,000 genes, one count of 1e9 planted), which it must find.

Usage::

    python benchmarks/outliers.py [--datasets sc_celseq2,...] [--cells 1000000] [--genes 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp


def largest_ratio(X) -> float:
    """The largest ratio of an entry to ``max(1, other values of its row, other values of its column)``."""
    from scmaskgan.outliers import find_outliers

    found = find_outliers(X, factor=0.0)  # every entry that is the maximum of its row and of its column
    return float((found.values / found.caps).max()) if len(found) else 0.0


def main() -> None:
    from scmaskgan import datasets
    from scmaskgan.outliers import FACTOR, find_outliers

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(datasets.available()), help="comma-separated names")
    parser.add_argument("--cells", type=int, default=1_000_000, help="cells of the timed matrix (0: skip)")
    parser.add_argument("--genes", type=int, default=2000, help="genes of the timed matrix")
    args = parser.parse_args()

    print(f"| data set | cells x genes | largest ratio (threshold {FACTOR:g}) |\n|---|---|---|")
    for name in (n.strip() for n in args.datasets.split(",") if n.strip()):
        adata = datasets.load(name)
        X = sp.csr_matrix(adata.X) if sp.issparse(adata.X) else np.asarray(adata.X)
        print(f"| {name} | {adata.n_obs:,} x {adata.n_vars:,} | {largest_ratio(X):.2f} |", flush=True)
    if args.cells:
        rng = np.random.default_rng(0)
        per_cell = max(1, args.genes // 50)
        rows = np.repeat(np.arange(args.cells), per_cell)
        cols = rng.integers(0, args.genes, rows.size)
        values = rng.geometric(0.2, rows.size).astype(np.float32)
        X = sp.csr_matrix((values, (rows, cols)), shape=(args.cells, args.genes))
        X.data[X.indptr[args.cells // 2]] = 1e9
        t0 = time.perf_counter()
        found = find_outliers(X)
        seconds = time.perf_counter() - t0
        print(f"\nfind_outliers on {args.cells:,} x {args.genes:,} ({X.nnz:,} stored values): {seconds:.1f} s, "
              f"{len(found)} found (1 planted)")


if __name__ == "__main__":
    main()
