"""The count model's architecture and its ablation: a plain MLP against the paper's blocks on the gene layout.

Each variant of the count model (``mode="count"``, :class:`scmaskgan.count.network.CountGenerator`)
is trained on the protocol A input (10% of the non-zero entries hidden) and the protocol B input
(binomial thinning to 30%) of each data set. A variant changes one thing; every other setting is
the package default, and the truth only scores:

* ``mlp``: the package default (the fully connected encoder, the data set's true labels);
* ``mlp_nolabels``: the same without labels;
* ``conv``: convolutions, a residual block, self-attention and the label map on the N x N image of
  the genes in the input's order (``architecture="conv"``);
* ``conv_noattention``, ``conv_noresidual``: ``conv`` without its self-attention block, without
  its residual block (:class:`~scmaskgan.count.network.CountGenerator`'s ``attention=False``,
  ``residual=False``; ``SCMaskGAN`` has no such parameter, so this script builds the count model's
  generator again with the same seed, options and gene order and the block dropped);
* ``conv_nolabels``: ``conv`` without labels (and so without the label map);
* ``conv_corr``: ``conv`` with correlated genes side by side (``gene_order="correlation"``: the layout);
* ``mlp_adversarial``: ``mlp`` with the GAIN discriminator (``adversarial_weight=1.0``, the default
  ``hint_rate``; see ``benchmarks/masked_adversarial.py``);
* ``mlp_nb``: ``mlp`` with the plain negative binomial instead of the zero-inflated one (the
  likelihood; ``zero_inflated=False``);
* ``mlp_hide0``, ``mlp_hide10``, ..., ``mlp_hide90``: ``mlp`` with ``hide`` 0, 0.1, 0.3, 0.5, 0.7, 0.9
  and the counts as they are (``reads_per_molecule=1``: no choice of either; ``hide`` is the share of
  the non-zero entries it sees that training also hides).

With ``--self-mask`` every variant is trained instead on its input with a further 10% of the
input's own non-zero entries set to 0 (:func:`scmaskgan.evaluation.protocols.hide_nonzero`, seed 1),
and is also scored on those: ``self_A_rmse`` and ``self_A_r``, the RMSE and Pearson r of the
``if_detected`` answer against the input's values there, on ``log1p`` CP10k of the input's own
library sizes (:func:`~scmaskgan.evaluation.protocols.score_hidden`). That is protocol A's question
asked of the input itself, with nothing from the truth: the criterion for ``hide``, which the
molecule split's held-out loss cannot judge (it does not hide). The benchmark's scores are then
not computed (they would describe a model trained on less than the protocol's input).

Every variant uses the package's default likelihood, the zero-inflated negative binomial, except
``mlp_nb``.

Labels are part of the variant: every variant gets the data set's true labels except the
``*_nolabels`` ones, which get none (this replaces the former ``--labels`` option, which crossed
every variant with 'true' and 'none'; its 'none' is now ``--variants mlp_nolabels,conv_nolabels``).

The selection criterion is the count model's own held-out loss: the negative log-likelihood per
cell of the held-out molecules of its held-out cells (a molecule split of the input itself, the
same cells and split for every variant of one input and seed), at the epoch training kept. The
benchmark's scores are printed beside it for information only (A: RMSE and Pearson r of the
hidden entries, scored on the ``if_detected`` answer; B: ``rmse_zeros`` and ``r_all`` of the
expected value), with the training time and epochs.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/masked_architecture.py [--datasets sc_celseq2,sc_dropseq]
        [--protocols A,B] [--variants mlp,conv,...] [--seeds 0] [--threads 1] [--out DIR]

It writes ``masked_architecture.csv`` (one row per run) under ``--out`` and prints the table, the
variant with the lowest held-out loss summed over the inputs, each variant's loss against ``mlp``'s
(and the conv variants' against ``conv``'s) of the same input, and the benchmark's means;
``--from-csv FILE [FILE ...]`` prints the same from earlier runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: Name -> what the variant changes from the package default: ``labels`` (False: no labels), ``SCMaskGAN``
#: parameters (``architecture``, ``gene_order``, ``adversarial_weight``) and ``CountGenerator`` blocks
#: (``attention``, ``residual``).
VARIANTS = {
    "mlp": {},
    "mlp_nolabels": {"labels": False},
    "conv": {"architecture": "conv"},
    "conv_noattention": {"architecture": "conv", "attention": False},
    "conv_noresidual": {"architecture": "conv", "residual": False},
    "conv_nolabels": {"architecture": "conv", "labels": False},
    "conv_corr": {"architecture": "conv", "gene_order": "correlation"},
    "mlp_adversarial": {"adversarial_weight": 1.0},
    "mlp_nb": {"zero_inflated": False},  # the likelihood: the plain negative binomial instead of zero inflation
    # the share of non-zero entries hidden in training (``hide``), without the read-count choice
    "mlp_hide0": {"hide": 0.0, "reads_per_molecule": 1.0},
    "mlp_hide10": {"hide": 0.1, "reads_per_molecule": 1.0},
    "mlp_hide30": {"hide": 0.3, "reads_per_molecule": 1.0},
    "mlp_hide50": {"hide": 0.5, "reads_per_molecule": 1.0},
    "mlp_hide70": {"hide": 0.7, "reads_per_molecule": 1.0},
    "mlp_hide90": {"hide": 0.9, "reads_per_molecule": 1.0},
}
#: The variants' settings that are ``CountGenerator`` options, not ``SCMaskGAN`` parameters.
BLOCKS = ("attention", "residual")


def rebuild_generator(model, **blocks) -> None:
    """Build ``model``'s count-model generator again as ``CountModel`` builds it (same seed, sizes,
    labels and gene order), with the ``CountGenerator`` options ``blocks`` (``attention``, ``residual``)."""
    import torch

    from scmaskgan.count.network import CountGenerator

    p, old = model.params, model.count_model.generator
    order = None if old.gene_order is None else old.gene_order.cpu().numpy()
    torch.manual_seed(p["seed"])
    model.count_model.generator = CountGenerator(
        old.n_genes, old.n_labels, hidden_dim=p["hidden_dim"], latent_dim=p["latent_dim"], noise_dim=p["noise_dim"],
        dropout=p["dropout"], zero_inflated=p["zero_inflated"], architecture=p["architecture"], gene_order=order,
        **blocks).to(model.count_model.device)


def build(adata, labels_key: str | None, variant: str, *, seed: int, max_epochs: int | None = None):
    """An untrained ``SCMaskGAN`` (``mode="count"``) of ``variant`` on ``adata`` (labels in ``labels_key``)."""
    from scmaskgan.model import SCMaskGAN

    settings = dict(VARIANTS[variant])
    labels = settings.pop("labels", True)
    blocks = {name: settings.pop(name) for name in BLOCKS if name in settings}
    model = SCMaskGAN(adata, labels_key=labels_key if labels else None, mode="count", seed=seed,
                      max_epochs=max_epochs, progress=False, n_threads=None, **settings)
    if blocks:
        rebuild_generator(model, **blocks)
    return model


def run_one(data, protocol: str, counts: np.ndarray, variant: str, *, seed: int, max_epochs: int | None,
            self_mask: bool = False) -> dict:
    """Train one variant on one protocol's input; its held-out loss, epochs, time and scores (with ``self_mask``,
    on the input with 10% of its own non-zero entries hidden, scored on those)."""
    from scmaskgan.evaluation.protocols import hide_nonzero, score_hidden

    t0 = time.perf_counter()
    hidden = None
    if self_mask:
        own, hidden = counts, hide_nonzero(counts, 0.1, seed=1)
        counts = hidden[0]
    model = build(data.anndata(counts), data.spec.labels_key, variant, seed=seed, max_epochs=max_epochs)
    model.train()
    train_s = time.perf_counter() - t0  # construction (the gene order) and training
    history = model.history_
    best = history.loc[history["best"].astype(bool)].iloc[0]
    from scmaskgan.evaluation.questions import answers as count_answers

    answers = count_answers(model)
    labels = model.params["labels_key"] is not None
    row = {"dataset": data.name, "input": protocol, "variant": variant, "labels": "true" if labels else "none",
           "seed": seed, "val_loss": float(best["val_loss"]), "best_epoch": int(best["epoch"]),
           "epochs": int(history["epoch"].max()), "train_s": train_s,
           "parameters": model.n_parameters()["generator"]}
    if hidden is not None:
        scores = score_hidden(own, answers["if_detected"], hidden[1], own.sum(1))
        row |= {"self_A_rmse": scores["rmse"], "self_A_r": scores["pearson"]}
    elif protocol == "A":
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
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--max-epochs", type=int, default=None, help="the model's default when unset (300)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--self-mask", action="store_true",
                        help="train on each input with 10%% of its own non-zeros hidden, scored on those")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--from-csv", nargs="+", default=None, metavar="CSV",
                        help="print the summary of earlier runs' masked_architecture.csv files (joined; a run "
                             "of the same data set, input, seed and variant is counted once) and train nothing")
    args = parser.parse_args()
    if args.from_csv:
        table = pd.concat([pd.read_csv(path) for path in args.from_csv], ignore_index=True)
        summarize(table.drop_duplicates(["dataset", "input", "seed", "variant"]).reset_index(drop=True))
        return
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"--variants: unknown {unknown}; known: {list(VARIANTS)}")

    import torch

    from scmaskgan.benchmarking import prepare

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.datasets.split(","):
        data = prepare(name)
        for protocol, counts in data.inputs(tuple(args.protocols.split(","))).items():
            for seed in (int(s) for s in args.seeds.split(",")):
                for variant in variants:
                    row = run_one(data, protocol, counts, variant, seed=seed, max_epochs=args.max_epochs,
                                  self_mask=args.self_mask)
                    rows.append(row)
                    scores = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k.split("_")[0] in ("A", "B", "self"))
                    print(f"{name} {protocol} seed {seed} {variant:16s} held-out {row['val_loss']:.2f} (epoch "
                          f"{row['best_epoch']}/{row['epochs']}, {row['train_s']:.0f} s)  {scores}", flush=True)
                    pd.DataFrame(rows).to_csv(out / "masked_architecture.csv", index=False)
    summarize(pd.DataFrame(rows))


def summarize(table: pd.DataFrame) -> None:
    """Print the table of runs and what selection reads from it: the held-out loss summed over the inputs
    (one input: a data set, protocol and seed, where every variant ran), each variant's held-out loss
    against ``mlp`` (and the ``conv_*`` variants' against ``conv``) of the same input, the benchmark's means
    and the training time, and with ``--self-mask`` the self-masked RMSE relative to ``mlp_hide0``."""
    print("\n" + table.round(3).to_markdown(index=False))
    keys = ["dataset", "input", "seed"]
    complete = table[table.groupby(keys)["variant"].transform("nunique") == table["variant"].nunique()]
    total = complete.groupby("variant")["val_loss"].sum().sort_values()
    wins = complete.loc[complete.groupby(keys)["val_loss"].idxmin(), "variant"].value_counts()
    print("\nheld-out loss summed over the inputs (lower is better):")
    for variant, loss in total.items():
        print(f"  {variant:16s} {loss:.2f}  (lowest on {int(wins.get(variant, 0))} of "
              f"{int(complete.groupby(keys).ngroups)} inputs)")
    print(f"selected by the held-out loss: {total.index[0]}")
    loss = complete.set_index(keys + ["variant"])["val_loss"].unstack("variant")
    for reference in ("mlp", "conv"):
        if reference not in loss:
            continue
        others = [v for v in loss if v != reference and (reference == "mlp" or v.startswith("conv"))]
        diff = loss[others].sub(loss[reference], axis=0)
        print(f"\nheld-out loss minus {reference}'s on the same input: mean (min to max), by protocol's input")
        for variant in others:
            by_input = diff[variant].groupby(level="input")
            print(f"  {variant:16s} " + "   ".join(
                f"{name}: {d.mean():+.1f} ({d.min():+.1f} to {d.max():+.1f})" for name, d in by_input))
    scores = [c for c in ("A_rmse", "A_r", "B_rmse_zeros", "B_r_all", "train_s") if c in complete]
    print("\nmeans over the inputs (train_s: of protocol A's inputs where there are any; sum: all inputs):")
    means = complete.groupby("variant")[scores].mean()
    if "A" in set(complete["input"]):
        means["train_s"] = complete[complete["input"] == "A"].groupby("variant")["train_s"].mean()
    means["train_s_sum"] = complete.groupby("variant")["train_s"].sum()
    print(means.round(3).to_string())
    if "self_A_rmse" in complete and "mlp_hide0" in loss:
        # hide's criterion: protocol A's question on the input itself, each input's RMSE relative to hide = 0's
        done = complete.set_index(keys + ["variant"])["self_A_rmse"].unstack("variant")
        ratio = done.div(done["mlp_hide0"], axis=0)
        print("\nself-masked RMSE of if_detected relative to mlp_hide0, mean over the inputs (lower is better):")
        for variant, value in ratio.mean().sort_values().items():
            print(f"  {variant:16s} {value:.4f}  (worst input {ratio[variant].max():.4f})")
        print(f"selected by the self-masked RMSE: {ratio.mean().idxmin()}")


if __name__ == "__main__":
    main()
