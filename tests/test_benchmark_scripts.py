"""The prepared benchmark scripts run (on CPU, tiny sizes), so they have not rotted when a session
gets a GPU or time to rerun them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_script_runs_on_cpu_and_writes_every_row(tmp_path):
    out = tmp_path / "gpu"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--device", "cpu", "--cells", "120",
                           "--genes", "300", "--epochs", "2", "--precision", "fp32,bf16", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads((out / "results.json").read_text())
    assert [(r["precision"], r["step"]) for r in rows] == [("fp32", "train"), ("fp32", "impute"),
                                                          ("bf16", "train"), ("bf16", "impute")]
    assert all(r["cells"] == 120 and r["cells_per_s"] > 0 for r in rows)
    assert all(r["epochs"] == 2 for r in rows if r["step"] == "train")
    assert json.loads((out / "device.json").read_text())["device"] == "cpu"


def test_gpu_script_refuses_a_missing_gpu_or_a_bad_precision(tmp_path):
    import torch

    args = [sys.executable, str(ROOT / "benchmarks" / "gpu.py"), "--out", str(tmp_path)]
    bad = subprocess.run(args + ["--device", "cpu", "--precision", "fp16"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--precision" in bad.stderr
    if not torch.cuda.is_available():
        no_gpu = subprocess.run(args + ["--device", "cuda"], capture_output=True, text=True)
        assert no_gpu.returncode == 2 and "no CUDA device" in no_gpu.stderr


def test_scale_script_measures_each_run_in_a_child_process(tmp_path):
    out = tmp_path / "scale"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--cells", "150", "--genes", "60",
                           "--epoch-cells", "", "--count-cells", "150", "--fit-from", "100", "--threads", "1",
                           "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import pandas as pd

    table = pd.read_csv(out / "scale.csv")
    assert list(table["run"]) == ["impute (neighbours mode, CLI)", "impute (count mode, CLI)"]
    assert list(table["cells"]) == [150, 150]
    assert table.loc[0, "peak_rss_mb"] > 50 and table.loc[0, "wall_s"] > table.loc[0, "impute_s"] > 0
    masked = table.loc[1]  # the count model: training and the three layers, inside the wall time
    assert masked["epochs"] >= 1 and masked["method_s"] == pytest.approx(masked["train_s"] + masked["impute_s"])
    assert masked["wall_s"] > masked["method_s"] > 0
    assert (out / "sim_150x60.h5ad").exists() and (out / "slopes.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["scale.csv", "sim_150x60.h5ad", "slopes.json"]


def test_masked_integration_script_runs_the_notebook_and_keeps_other_presets(require_files, tmp_path):
    from scmaskgan.datasets import CELLBENCH_BATCHES

    require_files(*[f"{name}.{kind}.csv.gz" for name in CELLBENCH_BATCHES for kind in ("count", "metadata")])
    import pandas as pd

    out = tmp_path / "masked"
    out.mkdir()
    pd.DataFrame([{"mode": "count", "labels": "none", "preset": "quick", "method": "scmaskgan"}]).to_csv(
        out / "integration.csv", index=False)  # a row of another preset: kept
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "masked_integration.py"), "--smoke",
                           "--modes", "masked", "--labels", "none", "--depths", "0.3,1", "--threads", "1",
                           "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = pd.read_csv(out / "integration.csv")
    assert list(zip(table["preset"], table["method"], table["depth"])) == [
        ("quick", "scmaskgan", 1.0), ("smoke", "un-imputed", 0.3), ("smoke", "scmaskgan", 0.3),
        ("smoke", "un-imputed", 1.0), ("smoke", "scmaskgan", 1.0)]
    assert "mode masked by depth" in proc.stdout
    shallow, deep = (table[(table["preset"] == "smoke") & (table["depth"] == d)].set_index("method") for d in (0.3, 1.0))
    assert shallow.loc["un-imputed", "batch_entropy"] == deep.loc["un-imputed", "batch_entropy"]
    smoke = deep
    assert (smoke["mode"] == "masked").all() and (smoke["labels"] == "none").all()
    assert smoke[["batch_entropy", "cell_line_ari"]].notna().all().all()
    assert smoke.loc["scmaskgan", "epochs_trained"] == 2 and smoke.loc["un-imputed", "n_cells"] == 120
    assert "issue 12 targets met:" in proc.stdout and "cell_line_ari" in proc.stdout


def test_masked_script_scores_the_targets_and_the_frontier(tmp_path):
    import pandas as pd

    out = tmp_path / "masked"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "masked.py"), "--datasets", "sim:60x40",
                           "--labels", "none", "--draws", "2", "--max-epochs", "2", "--depths", "0.1",
                           "--threads", "1", "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    targets = pd.read_csv(out / "targets.csv")
    assert {"A rmse (if_detected)", "B rmse_zeros (mean)"} <= set(targets["target"])
    frontier = pd.read_csv(out / "frontier.csv")
    assert list(frontier["depth"]) == [0.0, 0.1, 1.0]  # 0: the input itself
    b = targets.set_index("target").loc["B rmse_zeros (mean)", "value"]
    assert frontier.set_index("depth").loc[1.0, "rmse_zeros"] == pytest.approx(b)  # depth 1 is the target's layer
    assert "protocol B's main layer by depth" in proc.stdout
