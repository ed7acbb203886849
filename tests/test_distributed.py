"""Data-parallel training with torch.distributed: 2 CPU processes (gloo) launched by torchrun."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from scmaskgan.evaluation import hide_nonzero, score_hidden

TORCHRUN = Path(sys.executable).with_name("torchrun")


def _cli(args, *, nproc: int, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if nproc == 1:
        cmd = [sys.executable, "-m", "scmaskgan", *args]
    else:
        cmd = [str(TORCHRUN), "--standalone", f"--nproc_per_node={nproc}", "-m", "scmaskgan", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


@pytest.mark.skipif(not TORCHRUN.exists() and shutil.which("torchrun") is None, reason="torchrun not installed")
def test_two_processes_train_data_parallel_as_well_as_one(tmp_path):
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(3), 40)
    base = rng.gamma(0.8, 3.0, size=(3, 120))
    truth = rng.poisson(rng.gamma(2.0, base[labels] / 2.0)).astype(np.float64)
    lib = truth.sum(1)
    corrupted, idx = hide_nonzero(truth, 0.1, seed=0)
    names = [f"c{i}" for i in range(len(labels))]
    pd.DataFrame(corrupted, index=names, columns=[f"g{j}" for j in range(120)]).to_csv(tmp_path / "in.csv")
    pd.DataFrame({"cell": names, "label": [f"t{k}" for k in labels]}).to_csv(tmp_path / "labels.csv", index=False)
    scores = {}
    for nproc in (1, 2):
        out = tmp_path / f"out{nproc}.h5ad"
        proc = _cli(["impute", "in.csv", "-o", out.name, "--labels-file", "labels.csv", "--mode", "paper",
                     "--epochs", "4", "--device", "cpu"], nproc=nproc, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = ad.read_h5ad(out)
        run = result.uns["scmaskgan"]
        assert len(run["history"]["epoch"]) == 4
        imputed = result.layers["scmaskgan"]
        assert np.array_equal(imputed[corrupted != 0], corrupted[corrupted != 0])
        scores[nproc] = score_hidden(truth, imputed, idx, lib)
    assert "rank 0 of 2 (gloo)" in proc.stderr  # the last run was the 2-process one
    # same quality as one process (different batches and noise, so not identical)
    assert scores[2]["rmse"] < 1.1 * scores[1]["rmse"]
    assert scores[2]["pearson"] > scores[1]["pearson"] - 0.1
