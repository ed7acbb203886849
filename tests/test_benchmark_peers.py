"""DeepImpute and DCA: optional baselines that run in their own environment (``make peers``).

The availability logic, the error messages and the runner's command line are tested everywhere;
the runs themselves only where the environment exists (``.venv-peers/`` or
``$SCMASKGAN_PEERS_PYTHON``), and are skipped with that reason elsewhere.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scmaskgan.cli import main
from scmaskgan.benchmarking import baselines, benchmark, peers, peers_runner
from scmaskgan.benchmarking.baselines import BaselineNotAvailableError
from scmaskgan.benchmarking.benchmark import DatasetSpec
from scmaskgan.benchmarking.comparison import select_methods

TOOLS = ("dca", "deepimpute")
PEERS_INSTALLED = all(baselines.get(tool).is_available() for tool in TOOLS)
needs_peers = pytest.mark.skipif(
    not PEERS_INSTALLED,
    reason=f"the DeepImpute/DCA environment is not installed ({baselines.peers_python()} with dca, deepimpute and "
           "tensorflow; create it with `make peers` or set SCMASKGAN_PEERS_PYTHON)",
)


@pytest.fixture
def counts(tiny_counts) -> np.ndarray:
    return np.asarray(tiny_counts.X, dtype=np.float64)


@pytest.fixture
def tiny_dataset(monkeypatch, tiny_counts) -> str:
    """Register the 60 x 50 fixture as dataset ``tiny`` (40 most variable genes)."""
    monkeypatch.setitem(benchmark.DATASETS, "tiny", DatasetSpec("cell_type", n_top=40, loader=lambda: tiny_counts,
                                                                note="test fixture"))
    return "tiny"


@pytest.fixture
def no_peers(monkeypatch, tmp_path) -> Path:
    """Point the baselines at an interpreter that does not exist."""
    missing = tmp_path / "no-such-env" / "bin" / "python"
    monkeypatch.setenv(baselines.PEERS_PYTHON_VARIABLE, str(missing))
    return missing


# ---------------------------------------------------------------------------------------
# without the environment


@pytest.mark.parametrize("tool", TOOLS)
def test_missing_environment_is_a_clear_error_naming_make_peers(tool, counts, no_peers):
    method = baselines.get(tool)
    assert isinstance(method, baselines.PeersBaseline) and method.requires == tool
    assert not method.is_available()
    with pytest.raises(BaselineNotAvailableError, match=rf"'{tool}'.*Python 3\.8.*does not exist.*make peers"):
        baselines.run(tool, counts)
    with pytest.raises(BaselineNotAvailableError, match=str(no_peers).replace(".", r"\.")):
        method.check_available()


def test_interpreter_without_the_tools_is_not_available(counts, monkeypatch):
    # This Python (3.11, scmaskgan's environment) has neither dca nor deepimpute nor tensorflow.
    if any(importlib.util.find_spec(m) for m in ("dca", "deepimpute", "tensorflow")):
        pytest.skip("this interpreter has dca, deepimpute or tensorflow")
    monkeypatch.setenv(baselines.PEERS_PYTHON_VARIABLE, sys.executable)
    assert baselines.peers_python() == Path(sys.executable)
    assert not baselines.get("dca").is_available()
    with pytest.raises(BaselineNotAvailableError, match=r"'dca' or tensorflow cannot be found.*make peers"):
        baselines.run("dca", counts)


def test_default_interpreter_is_the_checkouts_venv_peers(monkeypatch):
    monkeypatch.delenv(baselines.PEERS_PYTHON_VARIABLE, raising=False)
    root = Path(baselines.__file__).resolve().parents[2]
    assert baselines.peers_python() == root / ".venv-peers" / "bin" / "python"
    assert (root / "Makefile").is_file() and "peers:" in (root / "Makefile").read_text()


def test_methods_entries_are_optional_rows():
    for tool in TOOLS:
        spec = benchmark.METHODS[tool]
        assert spec.baseline == tool and not spec.true_labels and spec.label
        assert tool not in benchmark.DEFAULT_METHODS  # like scvi: run only when asked for
    assert benchmark.METHODS["dca"].quick_options == {"epochs": 2}
    assert benchmark.METHODS["deepimpute"].quick_options == {"max_epochs": 2}
    assert "DCA 0.3.4" in benchmark.METHODS["dca"].label and "DeepImpute 1.2" in benchmark.METHODS["deepimpute"].label


def test_rows_are_left_out_of_the_notebook_selection_when_missing(no_peers):
    kept, missing = select_methods(["none", "dca", "deepimpute", "alra"])
    assert kept == ["none", "alra"] and missing == ["dca", "deepimpute"]


def test_benchmark_refuses_missing_rows_with_make_peers(tiny_dataset, tmp_path, capsys, no_peers):
    assert main(["benchmark", "--datasets", tiny_dataset, "--methods", "none,dca", "--out",
                 str(tmp_path / "b")]) == 2
    assert "make peers" in capsys.readouterr().err


def test_benchmark_page_says_how_to_get_the_rows(tiny_dataset, tmp_path):
    out = tmp_path / "b"
    assert main(["benchmark", "--datasets", tiny_dataset, "--methods", "none", "--protocol", "A", "--out",
                 str(out), "-q"]) == 0
    md = (out / "benchmark.md").read_text()
    assert "DCA 0.3.4 and DeepImpute 1.2 are not in this run: `make peers`" in md


def test_runner_command_line_without_the_tools(tmp_path):
    # The runner imports nothing from scmaskgan and no tool at start-up, so this Python can run its
    # command line: versions, the check (this environment has no dca), and argument errors.
    runner = str(peers.PEERS_RUNNER)
    imported = {line.split()[1].split(".")[0] for line in map(str.strip, Path(runner).read_text().splitlines())
                if line.startswith(("import ", "from "))}
    assert "scmaskgan" not in imported and {"numpy", "dca", "deepimpute"} <= imported
    versions = json.loads(subprocess.run([sys.executable, "-I", runner, "--versions"], capture_output=True,
                                         text=True, check=True).stdout)
    assert versions["python"] == ".".join(map(str, sys.version_info[:3])) and "numpy" in versions
    if importlib.util.find_spec("dca") is None:
        assert subprocess.run([sys.executable, "-I", runner, "--check", "dca"]).returncode == 1
    bad = subprocess.run([sys.executable, "-I", runner, "--tool", "dca"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--tool, --input and --output are needed" in bad.stderr
    np.save(tmp_path / "neg.npy", -np.ones((3, 3)))
    neg = subprocess.run([sys.executable, "-I", runner, "--tool", "dca", "--input", str(tmp_path / "neg.npy"),
                          "--output", str(tmp_path / "out.npy")], capture_output=True, text=True)
    assert neg.returncode == 1 and "finite non-negative counts" in neg.stderr
    assert peers_runner.TOOLS == TOOLS


# ---------------------------------------------------------------------------------------
# with the environment


@needs_peers
def test_environment_has_the_pinned_versions():
    versions = baselines.peers_versions()
    assert versions["python"].startswith("3.8.")
    assert versions["dca"] == "0.3.4" and versions["deepimpute"] == "1.2"
    assert versions["tensorflow-cpu"].startswith("2.4.")


@needs_peers
def test_dca_returns_the_fitted_mean_on_the_input_count_scale(counts):
    x = np.column_stack([counts, np.zeros(len(counts))])  # a gene without counts: left out, returned as 0
    before = x.copy()
    out = baselines.run("dca", x, seed=0, epochs=20)
    np.testing.assert_array_equal(x, before)
    assert out.shape == x.shape and out.dtype == np.float64 and np.isfinite(out).all() and (out >= 0).all()
    assert (out[:, -1] == 0).all()
    # The NB mean times the size factor: every value is positive and each cell keeps about its library.
    assert (out[:, :-1] > 0).all()
    ratio = out.sum(1) / x.sum(1)
    assert 0.5 < np.median(ratio) < 2.0, ratio
    r = [np.corrcoef(np.log1p(x[i, :-1]), np.log1p(out[i, :-1]))[0, 1] for i in range(len(x))]
    assert np.median(r) > 0.5
    # Seeded: the same run gives the same output.
    np.testing.assert_allclose(baselines.run("dca", x, seed=0, epochs=20), out, rtol=1e-5)


@needs_peers
def test_deepimpute_keeps_observed_counts_and_fills_zeros(counts):
    out = baselines.run("deepimpute", counts, seed=0, max_epochs=5)
    assert out.shape == counts.shape and out.dtype == np.float64 and np.isfinite(out).all() and (out >= 0).all()
    observed = counts > 0
    np.testing.assert_allclose(out[observed], counts[observed], rtol=1e-6)  # policy "restore"
    assert (out[~observed] > 0).mean() > 0.3


@needs_peers
def test_runner_failure_carries_the_tools_message(counts):
    # DeepImpute takes a matrix whose largest value is below 10 for log-transformed data and exits.
    with pytest.raises(RuntimeError, match=r"deepimpute failed.*max value"):
        baselines.run("deepimpute", np.minimum(counts, 5), seed=0, max_epochs=1)


@needs_peers
def test_quick_benchmark_runs_both_rows(tiny_dataset, tmp_path):
    out = tmp_path / "bench"
    assert main(["benchmark", "--datasets", tiny_dataset, "--methods", "none,dca,deepimpute", "--protocol", "A",
                 "--quick", "--threads", "1", "--out", str(out), "-q"]) == 0
    table = pd.read_csv(out / "benchmark.csv")
    assert list(table["status"]) == ["ok"] * 3, table["error"].tolist()
    assert table.set_index("method").loc[["dca", "deepimpute"], "rmse"].notna().all()
    md = (out / "benchmark.md").read_text()
    assert "| DCA 0.3.4 (zinb-conddisp) |" in md and "| DeepImpute 1.2 (defaults) |" in md
    assert "peers dca 0.3.4" in md
    assert json.loads((out / "versions.json").read_text())["peers deepimpute"] == "1.2"
