"""The trade-off between the two held-out protocols that ``alpha`` sets, in the default mode.

``alpha`` is the exponent of the detection probability in the Poisson fill: 0 fills every zero
with the value the gene would have if detected (what protocol A, scored on hidden non-zero
entries only, rewards), 1 with the posterior mean (what protocol B, scored on every zero,
rewards). For each alpha: protocol A RMSE / Pearson / ARI and protocol B rmse_zeros / r_all on
sc_celseq2 and sc_dropseq (labels: the benchmark's label column, the metadata's cell lines), with the no-imputation row.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/alpha.py [--alphas 0,0.25,0.5,0.75,1] [--out DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from scmaskgan.benchmarking import prepare
from scmaskgan.model import SCMaskGAN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--alphas", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    rows = []
    for name in args.datasets.split(","):
        data = prepare(name)
        inputs = data.inputs()
        none_a, none_b = (data.score(protocol, matrix) for protocol, matrix in inputs.items())
        rows.append({"dataset": name, "alpha": "no imputation", "rmse": none_a["rmse"], "pearson": np.nan,
                     "ari": none_a["ari"], "rmse_zeros": none_b["rmse_zeros"], "r_all": none_b["r_all"]})
        for alpha in (float(a) for a in args.alphas.split(",")):
            row = {"dataset": name, "alpha": alpha}
            for protocol, matrix in inputs.items():
                imputed = SCMaskGAN(data.anndata(matrix), labels_key=data.spec.labels_key, alpha=alpha,
                                    progress=False).impute()
                keep = ("rmse", "pearson", "ari") if protocol == "A" else ("rmse_zeros", "r_all")
                row |= {k: v for k, v in data.score(protocol, imputed).items() if k in keep}
            rows.append(row)
            print(f"{name} alpha {alpha}: A {row['rmse']:.3f}/{row['pearson']:.3f} ARI {row['ari']:.3f}, "
                  f"B {row['rmse_zeros']:.3f}/{row['r_all']:.3f}", flush=True)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "alpha.csv", index=False)
    print("\n" + table.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
