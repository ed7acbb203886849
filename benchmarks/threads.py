"""Seconds per training epoch of the count model against its CPU threads (``n_threads``), alone or beside
one busy process.

The counts are simulated (``scmaskgan.simulate.simulate``, 3 groups, seed 0). Each repeat trains a fresh
count model (``SCMaskGAN(mode="count", seed=0, reads_per_molecule=1, hide=0)``, no labels, the default
network) for ``--epochs`` epochs with each thread setting in turn, so that a change in the machine's load
falls on every setting alike; every epoch of every repeat counts. ``default`` in ``--threads`` is
``n_threads=None``: torch's and the BLAS libraries' own settings (one thread per core unless
``OMP_NUM_THREADS`` says otherwise). ``--busy`` starts one competing process (a Python spin loop) for
the whole measurement, as a second job on the same machine would be. The timings are only as quiet as
the machine: run it on a machine otherwise idle.

Usage::

    python benchmarks/threads.py [--cells 5000] [--genes 2000] [--epochs 3] [--threads 1,2,default]
        [--repeats 3] [--busy] [--out benchmarks/results/threads]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: The competing process of ``--busy``: one core's worth of pure-Python work until it is stopped.
SPIN = "while True:\n    pass\n"


def thread_settings(text: str) -> list[int | None]:
    """``"1,2,default"`` as ``[1, 2, None]``."""
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part == "default":
            out.append(None)
            continue
        if not part.isdigit() or int(part) < 1:
            raise argparse.ArgumentTypeError(f"expected positive integers or 'default', got {part!r}")
        out.append(int(part))
    if not out:
        raise argparse.ArgumentTypeError("expected at least one thread setting")
    return out


def epoch_seconds(adata, n_threads: int | None, epochs: int, seed: int) -> list[float]:
    """Seconds of each training epoch of a fresh count model with ``n_threads``."""
    from scmaskgan import SCMaskGAN

    model = SCMaskGAN(adata, mode="count", seed=seed, n_threads=n_threads, progress=False, reads_per_molecule=1.0,
                      hide=0.0, max_epochs=epochs, patience=epochs + 1)
    model.train()
    return model.history_["seconds"].astype(float).tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=5000, help="simulated cells (default 5000)")
    parser.add_argument("--genes", type=int, default=2000, help="simulated genes (default 2000)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs per repeat (default 3)")
    parser.add_argument("--threads", type=thread_settings, default=[1, 2], metavar="LIST",
                        help="n_threads settings to time, e.g. 1,2,default (default 1,2)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh models per setting (default 3)")
    parser.add_argument("--busy", action="store_true", help="time beside one busy competing process")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the models (default 0)")
    parser.add_argument("--out", default=None, help="folder for threads.csv (every epoch); default: print only")
    args = parser.parse_args()
    for name in ("cells", "genes", "epochs", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")

    from scmaskgan.simulate import simulate

    adata = simulate(args.cells, args.genes, 3, seed=args.seed, keep_truth=False)
    adata.X = adata.X.astype(np.float32)
    busy = subprocess.Popen([sys.executable, "-c", SPIN]) if args.busy else None
    rows = []
    try:
        for repeat in range(args.repeats):
            for n_threads in args.threads:
                label = "default" if n_threads is None else str(n_threads)
                seconds = epoch_seconds(adata, n_threads, args.epochs, args.seed)
                rows += [{"threads": label, "busy": args.busy, "repeat": repeat, "epoch": epoch, "seconds": s}
                         for epoch, s in enumerate(seconds, start=1)]
                print(f"repeat {repeat + 1}/{args.repeats}, threads {label}: "
                      + ", ".join(f"{s:.2f}" for s in seconds) + " s per epoch", flush=True)
    finally:
        if busy is not None:
            busy.terminate()
            busy.wait()
    table = pd.DataFrame(rows)
    summary = (table.groupby("threads", sort=False)["seconds"].agg(["median", "min", "max", "count"])
               .rename(columns={"count": "epochs"}).round(2))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        table.to_csv(out / "threads.csv", index=False)
    print(f"\nseconds per epoch, count model, {args.cells:,} cells x {args.genes:,} genes, {args.epochs} epochs x "
          f"{args.repeats} repeats{', beside one busy process' if args.busy else ''}; {os.cpu_count()} CPUs "
          f"({platform.machine()}), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    print(summary.to_markdown())


if __name__ == "__main__":
    main()
