"""Training and imputation throughput (cells per second) on a GPU, in fp32 and bf16 mixed precision.

The prepared device check of the scale issue: the same code that runs on CPU, timed on CUDA. For
each size in ``--cells`` (simulated counts, ``scmaskgan.simulate``, ``lib_loc`` 7.5: about 90%
zeros, 5 groups, like ``benchmarks/scale.py``) and each precision in ``--precision``:

* ``train``: ``SCMaskGAN(mode="paper", device=..., mixed_precision=...)`` trained for ``--epochs``
  epochs at batch size ``--batch-size`` (default: the model's, 64). Throughput is cells / median
  epoch seconds over the epochs after the first (the first includes CUDA start-up), or the only epoch.
* ``impute``: paper-mode imputation of the trained model without tuning (generated candidates on the
  device, Isolation Forest and the kNN fill on the CPU), cells / seconds.

Peak GPU memory (``torch.cuda.max_memory_allocated``) is reported per run. Every row is appended to
``results.json`` as soon as it is measured, so a run cut short keeps what it finished. The card,
torch and CUDA versions go to ``device.json``. ``--device cpu`` runs the same script on the CPU (how
``tests/test_benchmark_scripts.py`` keeps it working on a machine without a GPU).

Usage::

    python benchmarks/gpu.py [--cells 10000,100000] [--genes 2000] [--precision fp32,bf16] [--epochs 3]
        [--batch-size 64] [--device cuda] [--out benchmarks/results/gpu]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import scmaskgan
from scmaskgan import SCMaskGAN


def device_info(device: str) -> dict:
    info = {"device": device, "torch": torch.__version__, "scmaskgan": scmaskgan.__version__,
            "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info |= {"card": torch.cuda.get_device_name(0), "memory_gb": round(props.total_memory / 2**30, 1),
                 "cuda": torch.version.cuda, "bf16_supported": torch.cuda.is_bf16_supported()}
    return info


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def measure(adata, *, device: str, precision: str, epochs: int, batch_size: int | None, seed: int) -> list[dict]:
    """Train then impute one model; one row per step."""
    n = adata.n_obs
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    model = SCMaskGAN(adata, labels_key="group", mode="paper", device=device, mixed_precision=precision == "bf16",
                      batch_size=batch_size, tune=False, progress=False, seed=seed)
    synchronize(device)
    t0 = time.perf_counter()
    model.train(max_epochs=epochs)
    synchronize(device)
    train_s = time.perf_counter() - t0
    seconds = model.history_["seconds"].to_numpy()
    epoch_s = float(np.median(seconds[1:])) if seconds.size > 1 else float(seconds[0])
    base = {"cells": n, "genes": adata.n_vars, "precision": precision, "device": device,
            "batch_size": model.batch_size}
    peak = (lambda: round(torch.cuda.max_memory_allocated() / 2**20)) if device == "cuda" else (lambda: None)
    rows = [base | {"step": "train", "epochs": int(seconds.size), "seconds": train_s, "epoch_s": epoch_s,
                    "cells_per_s": n / epoch_s, "first_epoch_s": float(seconds[0]), "peak_gpu_mb": peak()}]
    t0 = time.perf_counter()
    imputed = model.impute()
    synchronize(device)
    impute_s = time.perf_counter() - t0
    if not np.isfinite(imputed).all():
        raise RuntimeError(f"non-finite imputed values ({precision}, {n} cells)")
    rows.append(base | {"step": "impute", "seconds": impute_s, "cells_per_s": n / impute_s, "peak_gpu_mb": peak()})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="10000,100000")
    parser.add_argument("--genes", type=int, default=2000)
    parser.add_argument("--precision", default="fp32,bf16")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/gpu")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device (use --device cpu to try the script)")
    precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    if not precisions or set(precisions) - {"fp32", "bf16"}:
        parser.error("--precision takes fp32 and/or bf16")
    logging.getLogger("scmaskgan").setLevel(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "device.json").write_text(json.dumps(device_info(args.device), indent=1))
    print(json.dumps(device_info(args.device)), flush=True)
    rows: list[dict] = []
    for n in (int(c) for c in args.cells.split(",") if c.strip()):
        t0 = time.perf_counter()
        adata = scmaskgan.simulate.simulate(n, args.genes, 5, lib_loc=7.5, seed=args.seed, keep_truth=False)
        print(f"simulated {n} cells x {args.genes} genes in {time.perf_counter() - t0:.1f} s", flush=True)
        for precision in precisions:
            for row in measure(adata, device=args.device, precision=precision, epochs=args.epochs,
                               batch_size=args.batch_size, seed=args.seed):
                rows.append(row)
                (out / "results.json").write_text(json.dumps(rows, indent=1))
                print(json.dumps(row), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(out / "results.csv", index=False)
    print("\n" + table.round(2).to_markdown(index=False))


if __name__ == "__main__":
    main()
