"""What a GAIN discriminator (``adversarial_weight``) changes in the count model's answers and draws.

For each data set (sc_celseq2, sc_dropseq; true labels), protocol (A: 10% of the non-zero entries
hidden; B: 30% of the molecules kept), discriminator weight and seed, the count model
(``mode="count"``) is trained on the protocol's input and scored on:

* its own held-out loss: the count likelihood of the held-out cells' held-out molecules at the kept
  epoch (``val_loss``, the only number a user without the truth has; the discriminator never enters it)
  and the discriminator's loss per judged entry at that epoch (``d_loss``; ln 2 = 0.693 is guessing);
* the point estimates: protocol A on the ``_if_detected`` layer (RMSE, Pearson r of the hidden
  entries on ``log1p(x / lib_orig * 1e4)``), protocol B on the main layer (``rmse_zeros``, ``r_all``);
* the draws: ``K`` draws of ``SCMaskGAN.sample(K)``; each entry's 90% interval runs from the 5% to
  the 95% quantile of its draws (``numpy.quantile``, linear) on the protocol's scale (A:
  ``log1p(x / lib_orig * 1e4)``; B: each drawn matrix normalised by its own cell totals, as the
  truth is by its own); coverage (bounds included) of protocol A's hidden entries and of protocol B's
  zeros (also split into true zeros and thinning dropouts), with the share of truths below and
  above the interval and its mean width. A calibrated model covers about 90%.

Nothing here chooses a setting: the table only reports.

Usage::

    SCMASKGAN_DATA=../shared/data python benchmarks/masked_adversarial.py [--weights 0,0.1,1] [--seeds 0,1]
        [--draws 50] [--threads 1] [--out benchmarks/results]

Writes ``masked_adversarial.csv`` (one row per run, written as each run ends) and prints the table.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scmaskgan.benchmarking import prepare
from scmaskgan.evaluation.questions import answers
from scmaskgan.model import SCMaskGAN


def interval_scores(draws_log: np.ndarray, truth_log: np.ndarray, level: float = 0.9) -> dict:
    """Coverage of ``truth_log`` (entries) by the central ``level`` interval of ``draws_log`` (K x entries)."""
    lo, hi = np.quantile(draws_log, [(1 - level) / 2, (1 + level) / 2], axis=0)
    below, above = truth_log < lo, truth_log > hi
    return {"coverage": float(np.mean(~below & ~above)), "below": float(below.mean()), "above": float(above.mean()),
            "width": float(np.mean(hi - lo))}


def draws_a(draws: np.ndarray, truth: np.ndarray, idx: np.ndarray, lib: np.ndarray) -> dict:
    """Protocol A: coverage of the hidden entries on ``log1p(x / lib_orig * 1e4)``."""
    rows, cols = np.divmod(idx, truth.shape[1])
    d = np.log1p(draws[:, rows, cols].astype(np.float64) / lib[rows] * 1e4)
    t = np.log1p(truth[rows, cols] / lib[rows] * 1e4)
    return {f"A_{k}": v for k, v in interval_scores(d, t).items()}


def draws_b(draws: np.ndarray, truth: np.ndarray, observed: np.ndarray) -> dict:
    """Protocol B: coverage of the input's zeros, each matrix normalised by its own cell totals."""
    zeros = observed == 0
    t = np.log1p(truth / truth.sum(1, keepdims=True) * 1e4)
    totals = draws.sum(2, keepdims=True).astype(np.float64)
    d = np.log1p(draws[:, zeros].astype(np.float64) / np.broadcast_to(totals, draws.shape)[:, zeros] * 1e4)
    out = {f"B_{k}": v for k, v in interval_scores(d, t[zeros]).items()}
    dropout = truth[zeros] > 0
    for name, keep in (("true_zeros", ~dropout), ("dropouts", dropout)):
        out[f"B_coverage_{name}"] = interval_scores(d[:, keep], t[zeros][keep])["coverage"]
    return out



def run(data, protocol: str, weight: float, seed: int, n_draws: int) -> dict:
    """One trained model: held-out loss, point estimates and draws on ``protocol``."""
    matrix = data.inputs([protocol])[protocol]
    t0 = time.perf_counter()
    model = SCMaskGAN(data.anndata(matrix), labels_key=data.spec.labels_key, mode="count", seed=seed,
                      adversarial_weight=weight, progress=False, n_threads=None).train()
    train_s = time.perf_counter() - t0
    history = model.history_
    best = history.loc[history["best"]].iloc[0]
    judged = model.n_genes * (1 - model.params["hint_rate"])  # entries per cell the discriminator is scored on
    row = {"dataset": data.name, "protocol": protocol, "weight": weight, "seed": seed,
           "epochs": int(history["epoch"].max()), "best_epoch": int(best["epoch"]), "val_loss": float(best["val_loss"]),
           "d_loss": float(best["loss_d"]) / judged if "loss_d" in history else math.nan, "train_s": train_s}
    layers = answers(model)
    if protocol == "A":
        scores = data.score_answers("A", layers)
        row |= {"rmse": scores["rmse"], "r": scores["pearson"]}
    else:
        scores = data.score_answers("B", layers)
        row |= {"rmse_zeros": scores["rmse_zeros"], "r_all": scores["r_all"]}
    draws = model.sample(n_draws)
    if protocol == "A":
        row |= draws_a(draws, data.truth, data.protocol_a()[1], data.lib_orig)
    else:
        row |= draws_b(draws, data.truth, matrix)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="sc_celseq2,sc_dropseq")
    parser.add_argument("--protocols", default="A,B")
    parser.add_argument("--weights", default="0,0.1,1")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.datasets.split(","):
        data = prepare(name)
        for protocol in args.protocols.split(","):
            for weight in (float(w) for w in args.weights.split(",")):
                for seed in (int(s) for s in args.seeds.split(",")):
                    row = run(data, protocol, weight, seed, args.draws)
                    rows.append(row)
                    pd.DataFrame(rows).to_csv(out / "masked_adversarial.csv", index=False)
                    shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
                    print(shown, flush=True)
    table = pd.DataFrame(rows)
    print("\n" + table.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
