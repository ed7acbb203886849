"""The count model's architecture: a plain MLP against the paper's blocks on the gene layout.

Each variant of :class:`scmaskgan.gan.masked.MaskedGenerator` is trained (``mode="masked"``) on the
protocol A input (10% of the non-zero entries hidden) and the protocol B input (binomial thinning
to 30%) of each data set:

* ``mlp``: the fully connected encoder;
* ``conv``: convolutions, a residual block, self-attention and the label map on the N x N image of
  the genes in the input's order;
* ``conv_corr``: the same with correlated genes side by side (``gene_order="correlation"``).

The selection criterion is the count model's own held-out loss: the negative log-likelihood per
cell of the held-out molecules of its held-out cells (a molecule split of the input itself, the
same cells and split for every variant of one input and seed), at the epoch training kept. The
benchmark's scores are printed beside it for information only (A: RMSE and Pearson r of the
hidden entries, scored on the ``if_detected`` answer; B: ``rmse_zeros`` and ``r_all`` of the
expected value), with the training time and epochs.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/masked_architecture.py [--datasets sc_celseq2,sc_dropseq]
        [--variants mlp,conv,conv_corr] [--labels true,none] [--seeds 0] [--threads 1] [--out DIR]

It writes ``masked_architecture.csv`` (one row per run) under ``--out`` and prints the table and
the variant with the lowest held-out loss summed over the inputs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: Name -> (architecture, gene_order) of each variant.
VARIANTS = {"mlp": ("mlp", "input"), "conv": ("conv", "input"), "conv_corr": ("conv", "correlation")}


def run_one(data, protocol: str, counts: np.ndarray, variant: str, *, labels: bool, seed: int,
            max_epochs: int | None) -> dict:
    """Train one variant on one protocol's input; its held-out loss, epochs, time and scores."""
    from scmaskgan.model import SCMaskGAN

    architecture, gene_order = VARIANTS[variant]
    t0 = time.perf_counter()
    model = SCMaskGAN(data.anndata(counts), labels_key=data.spec.labels_key if labels else None, mode="masked",
                      architecture=architecture, gene_order=gene_order, seed=seed, max_epochs=max_epochs,
                      progress=False)
    model.train()
    train_s = time.perf_counter() - t0  # construction (the gene order) and training
    history = model.history_
    best = history.loc[history["best"].astype(bool)].iloc[0]
    answers = {"mean": np.empty(counts.shape), "if_detected": np.empty(counts.shape)}
    for start, stop, blocks in model.iter_answers():
        for name in answers:
            answers[name][start:stop] = blocks[name]
    row = {"dataset": data.name, "input": protocol, "variant": variant, "labels": "true" if labels else "none",
           "seed": seed, "val_loss": float(best["val_loss"]), "best_epoch": int(best["epoch"]),
           "epochs": int(history["epoch"].max()), "train_s": train_s,
           "parameters": model.n_parameters()["generator"]}
    if protocol == "A":
        scores = data.score_answers("A", answers)
        row |= {"A_rmse": scores["rmse"], "A_r": scores["pearson"]}
    else:
        scores = data.score_answers("B", answers)
        row |= {"B_rmse_zeros": scores["rmse_zeros"], "B_r_all": scores["r_all"]}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--protocols", default="A,B", help="whose inputs to train on")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--labels", default="true", help="'true', 'none' or 'true,none'")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-epochs", type=int, default=None, help="the model's default when unset (300)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"--variants: unknown {unknown}; known: {list(VARIANTS)}")
    labels = args.labels.split(",")
    if not set(labels) <= {"true", "none"}:
        parser.error("--labels takes 'true', 'none' or 'true,none'")

    import torch

    from scmaskgan.evaluation import prepare

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.datasets.split(","):
        data = prepare(name)
        for protocol, counts in data.inputs(tuple(args.protocols.split(","))).items():
            for use_labels in labels:
                for seed in (int(s) for s in args.seeds.split(",")):
                    for variant in variants:
                        row = run_one(data, protocol, counts, variant, labels=use_labels == "true", seed=seed,
                                      max_epochs=args.max_epochs)
                        rows.append(row)
                        scores = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k[:2] in ("A_", "B_"))
                        print(f"{name} {protocol} labels={row['labels']} seed {seed} {variant:9s} held-out "
                              f"{row['val_loss']:.2f} (epoch {row['best_epoch']}/{row['epochs']}, "
                              f"{row['train_s']:.0f} s)  {scores}", flush=True)
                        pd.DataFrame(rows).to_csv(out / "masked_architecture.csv", index=False)
    table = pd.DataFrame(rows)
    print("\n" + table.round(3).to_markdown(index=False))
    keys = ["dataset", "input", "labels", "seed"]
    complete = table.groupby(keys)["variant"].transform("nunique") == len(variants)
    total = table[complete].groupby("variant")["val_loss"].sum().sort_values()
    wins = table[complete].loc[table[complete].groupby(keys)["val_loss"].idxmin(), "variant"].value_counts()
    print("\nheld-out loss summed over the inputs (lower is better):")
    for variant, loss in total.items():
        print(f"  {variant:9s} {loss:.2f}  (lowest on {int(wins.get(variant, 0))} of "
              f"{int(table[complete].groupby(keys).ngroups)} inputs)")
    print(f"selected by the held-out loss: {total.index[0]}")


if __name__ == "__main__":
    main()
