"""``scmaskgan benchmark``: the protocol's anchor, the output files, errors and failed runs."""

from __future__ import annotations

import importlib.util
import json
import os

import numpy as np
import pandas as pd
import pytest

from scmaskgan.benchmarking import benchmark, child
from scmaskgan.benchmarking.benchmark import METRICS, DatasetSpec
from scmaskgan.benchmarking.child import run_command
from scmaskgan.cli import main

COLUMNS = [
    "dataset", "protocol", "method", "labels", "n_cells", "n_genes", "n_scored",
    "rmse", "pearson", "spearman", "mae", "share_zero", "ari", "nmi",
    "rmse_zeros", "r_zeros", "rmse_dropouts", "mean_at_true_zeros", "r_all",
    "wall_s", "method_s", "peak_rss_mb", "threads", "seed", "quick", "status", "error",
]


@pytest.fixture
def tiny_dataset(monkeypatch, tiny_counts):
    """Register the 60 x 50 fixture as dataset ``tiny`` (40 most variable genes)."""
    monkeypatch.setitem(benchmark.DATASETS, "tiny", DatasetSpec("cell_type", n_top=40, loader=lambda: tiny_counts,
                                                                note="test fixture"))
    return "tiny"


def test_no_imputation_reproduces_the_anchor_row_on_celseq2(require_files, tmp_path):
    require_files("sc_celseq2.count.csv.gz", "sc_celseq2.metadata.csv.gz")
    out = tmp_path / "bench"
    assert main(["benchmark", "--datasets", "sc_celseq2", "--methods", "none", "--protocol", "A",
                 "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "benchmark.csv")
    assert list(table.columns) == COLUMNS
    row = table.iloc[0]
    assert (row["n_cells"], row["n_genes"], row["n_scored"]) == (274, 2000, 32954)
    # ../shared/BENCHMARK.md, protocol A, "no imputation": RMSE 0.645, ARI 0.977.
    assert round(row["rmse"], 3) == 0.645 and round(row["ari"], 3) == 0.977
    assert row["share_zero"] == 1.0 and np.isnan(row["pearson"])
    md = (out / "benchmark.md").read_text()
    assert "| no imputation | 0.645 | - | - | 0.547 | 1.000 | 0.977 | 0.967 |" in md
    assert "cell_line_original (3)" in md


def test_quick_run_writes_every_metric_cost_and_version(tiny_dataset, tmp_path):
    out = tmp_path / "bench"
    code = main(["benchmark", "--datasets", tiny_dataset, "--methods", "none,alra,scmaskgan",
                 "--protocol", "A,B", "--out", str(out), "--quick", "--device", "cpu", "--threads", "1", "-q"])
    assert code == 0
    table = pd.read_csv(out / "benchmark.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == COLUMNS
    assert len(table) == 6 and (table["status"] == "ok").all()
    assert list(table["method"]) == ["none", "alra", "scmaskgan"] * 2
    a, b = table[table["protocol"] == "A"], table[table["protocol"] == "B"]
    for metric in ("rmse", "mae", "share_zero", "ari", "nmi"):
        assert a[metric].notna().all() and b[metric].isna().all()
    for metric in METRICS["B"]:
        if metric != "r_zeros":
            assert b[metric].notna().all() and a[metric].isna().all()
    assert (a["share_zero"].iloc[0], b["mean_at_true_zeros"].iloc[0]) == (1.0, 0.0)  # no imputation
    assert (a["share_zero"].iloc[1:] < 1).all()
    assert (table["wall_s"] > 0).all() and (table["peak_rss_mb"] > 10).all()
    assert (table["method_s"] <= table["wall_s"]).all()
    assert table.loc[table["method"] == "scmaskgan", "labels"].eq("true").all()
    assert table["quick"].all() and (table["n_genes"] == 40).all() and (table["threads"] == 1).all()

    md = (out / "benchmark.md").read_text()
    assert "## tiny, protocol A" in md and "## tiny, protocol B" in md
    assert "Threads per method run: 1 (OMP_NUM_THREADS" in md
    assert "Quick mode" in md and "ALRA (numpy)" in md and "scMASKGAN count model (the default), true labels" in md
    info = json.loads((out / "versions.json").read_text())
    for key in ("python", "numpy", "torch", "scanpy", "magic-impute", "scmaskgan"):
        assert info[key]
    assert f"numpy {info['numpy']}" in md


def test_threads_limit_every_thread_pool_of_the_children(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert child.child_env(None) is None  # children inherit the environment unchanged
    env = child.child_env(1)
    assert {env[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")} == {"1"}
    assert env["PATH"] == os.environ["PATH"]


def test_scmaskgan_rows_get_true_or_no_labels(tiny_dataset, tmp_path, monkeypatch):
    tasks = []

    def fake_child(task, folder, tag, threads=None):
        tasks.append(task | {"label_values": np.load(task["labels"]) if task["labels"] else None})
        np.save(task["output"], np.load(task["input"]))
        return {"wall_s": 1.0, "method_s": 0.5, "peak_rss_mb": 50.0}

    monkeypatch.setattr(benchmark, "run_in_child", fake_child)
    table = benchmark.run_benchmark([tiny_dataset], ["scmaskgan", "scmaskgan_auto", "scmaskgan_neighbours_auto",
                                                     "scmaskgan_paper", "magic"], ["A"], tmp_path / "b",
                                    quick=True, device="cpu", seed=7)
    assert [t["baseline"] for t in tasks] == ["scmaskgan"] * 4 + ["magic"]
    assert tasks[0]["labels"] and tasks[1]["labels"] is None and tasks[2]["labels"] is None and tasks[3]["labels"]
    labels = tasks[0]["label_values"]
    assert list(np.unique(labels)) == ["type0", "type1", "type2"] and labels.size == 60
    assert tasks[0]["options"] == {"max_epochs": 2, "layer": "if_detected", "device": "cpu"}  # A: the value if detected
    assert tasks[2]["options"] == {"mode": "neighbours", "device": "cpu"}
    assert tasks[3]["options"] == {"mode": "paper", "max_epochs": 2, "tune": False, "n_candidates": 64, "device": "cpu"}
    assert tasks[4]["options"] == {} and {t["seed"] for t in tasks} == {7}
    assert list(table["labels"]) == ["true", "none", "automatic", "true", "-"]


def test_peak_memory_is_the_child_s_own(tiny_dataset, tmp_path):
    # The parent holds 320 MB; a child's peak must not include it (ru_maxrss of a forked child
    # would), so "no imputation" on 60 cells reports far less.
    ballast = np.ones(40_000_000)
    table = benchmark.run_benchmark([tiny_dataset], ["none"], ["A"], tmp_path / "bench")
    assert ballast.sum() == 40_000_000
    assert 10 < table.loc[0, "peak_rss_mb"] < 200


def test_failed_run_is_recorded_and_the_others_go_on(monkeypatch, tmp_path, tiny_counts, capsys):
    small = tiny_counts[:8].copy()
    monkeypatch.setitem(benchmark.DATASETS, "eight", DatasetSpec("cell_type", n_top=40, loader=lambda: small))
    out = tmp_path / "bench"
    code = main(["benchmark", "--datasets", "eight", "--methods", "none,knn_smoothing", "--protocol", "A",
                 "--out", str(out), "-q"])
    assert code == 1
    table = pd.read_csv(out / "benchmark.csv", keep_default_na=False, na_values=[""])
    assert list(table["status"]) == ["ok", "failed"]
    assert "k <= 8" in table.loc[1, "error"]  # knn_smoothing's k 15 > 8 cells, reported from the child
    assert "eight protocol A knn_smoothing failed" in capsys.readouterr().err
    assert "failed: " in (out / "benchmark.md").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--methods", "none,saver"], "unknown method 'saver'"),
        (["--datasets", "pbmc3k"], "unknown dataset 'pbmc3k'"),
        (["--protocol", "C"], "unknown protocol 'C'"),
        (["--methods", "none,none"], "method listed twice: none"),
    ],
)
def test_bad_names_exit_2_before_any_work(args, message, tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["benchmark", "--out", str(out), *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_existing_output_needs_force(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "bench"
    out.mkdir()
    (out / "benchmark.csv").write_text("old")
    assert main(["benchmark", "--datasets", tiny_dataset, "--methods", "none", "--protocol", "B",
                 "--out", str(out), "-q"]) == 2
    assert "use --force" in capsys.readouterr().err
    assert (out / "benchmark.csv").read_text() == "old"


def test_missing_scvi_is_refused_with_install_advice(tiny_dataset, tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "scvi" else real(name, *a))
    assert main(["benchmark", "--datasets", tiny_dataset, "--methods", "none,scvi", "--out",
                 str(tmp_path / "b")]) == 2
    assert "pip install scvi-tools" in capsys.readouterr().err


def test_dataset_table_names_a_label_column_for_every_dataset():
    from scmaskgan import datasets

    assert set(benchmark.DEFAULT_DATASETS) <= set(benchmark.DATASETS) <= set(datasets.available())
    assert benchmark.DATASETS["sc_celseq2"].labels_key == "cell_line_original"
    assert benchmark.DATASETS["sc_celseq2_5cl_p1"].load_kwargs["drop_doublets"] is True
    assert {m: s.true_labels for m, s in benchmark.METHODS.items() if s.baseline == "scmaskgan"} == {
        "scmaskgan": True, "scmaskgan_auto": False, "scmaskgan_neighbours": True, "scmaskgan_neighbours_auto": False,
        "scmaskgan_paper": True, "scmaskgan_masked": True, "scmaskgan_masked_auto": False}
    # the count model's rows (the default, and their earlier names) score protocol A on the value if detected
    # and B on the expected value
    for name in ("scmaskgan", "scmaskgan_auto", "scmaskgan_masked", "scmaskgan_masked_auto"):
        assert benchmark.METHODS[name].protocol_options == {"A": {"layer": "if_detected"}, "B": {"layer": "mean"}}
        assert benchmark.METHODS[name].options == {}
    assert benchmark.METHODS["scmaskgan_neighbours"].options == {"mode": "neighbours"}
    assert benchmark.METHODS["scmaskgan_paper"].options == {"mode": "paper"}


def test_prepare_gives_both_protocols_inputs(tiny_dataset, tiny_counts):
    data = benchmark.prepare(tiny_dataset)
    assert data.truth.shape == (tiny_counts.n_obs, 40) and data.n_groups == 3
    corrupted, idx = data.protocol_a()
    nonzero = np.count_nonzero(data.truth)
    assert idx.size == round(0.1 * nonzero) and np.all(corrupted.flat[idx] == 0)
    observed = data.protocol_b()
    assert observed.dtype == np.float64 and np.all(observed <= data.truth) and observed.sum() < data.truth.sum()
    adata = data.anndata(corrupted)
    assert adata.obs["cell_type"].tolist() == list(data.labels) and adata.X.dtype == np.float32
    with pytest.raises(ValueError, match="unknown dataset 'no_such_set'; choose from: sc_celseq2"):
        benchmark.prepare("no_such_set")


def test_prepared_scores_both_protocols(tiny_dataset):
    data = benchmark.prepare(tiny_dataset)
    corrupted, idx = data.protocol_a()
    assert data.protocol_a()[0] is corrupted  # computed once
    a = data.score("A", corrupted)
    assert a["share_zero"] == 1.0 and a["n_hidden"] == idx.size and "ari" in a
    b = data.score("B", data.truth)  # the truth itself: no error at the zeros
    assert b["rmse_zeros"] == 0.0
    with pytest.raises(ValueError, match="protocol"):
        data.score("C", corrupted)


def test_versions_name_the_commit_of_the_checkout():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    import subprocess

    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert benchmark.versions()["scmaskgan git"].split()[0] == head


# ---------------------------------------------------------------------------------------
# child processes


def test_run_command_measures_a_python_command_line(tmp_path):
    code = "import sys, numpy as np; a = np.ones(30_000_000); print('ARGS', sys.argv[1:], a.sum())"
    run = run_command(["-c", code, "x", 3], tmp_path, "ones", threads=1)
    assert "ARGS ['x', '3'] 30000000.0" in run["output"]
    assert run["peak_rss_mb"] > 200  # the 240 MB array
    assert 0 < run["method_s"] < run["wall_s"]
    module = run_command(["-m", "json.tool", "--help"], tmp_path, "module")
    assert "usage" in module["output"]
    with pytest.raises(RuntimeError, match="exit status 3"):
        run_command(["-c", "import sys; print('bad'); sys.exit(3)"], tmp_path, "failing")
    with pytest.raises(ValueError, match="Python command line"):
        run_command(["-m"], tmp_path, "empty")
