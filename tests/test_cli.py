"""The command line, end to end on a tiny CSV (2 epochs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from scmaskgan import cli

FAST = ["--epochs", "2", "--seed", "0", "--device", "cpu", "--quiet"]


def _write_csv(tiny_counts, path: Path, *, values: np.ndarray | None = None) -> Path:
    x = np.asarray(tiny_counts.X) if values is None else values
    pd.DataFrame(x, index=tiny_counts.obs_names, columns=tiny_counts.var_names).to_csv(path)
    return path


@pytest.fixture
def counts_csv(tiny_counts, tmp_path: Path) -> Path:
    return _write_csv(tiny_counts, tmp_path / "counts.csv")


@pytest.fixture
def labels_txt(tiny_counts, tmp_path: Path) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text("\n".join(tiny_counts.obs["cell_type"].astype(str)) + "\n")
    return path


def _run_error(argv: list[str], capsys, output: Path) -> str:
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("scmaskgan: error: ")
    assert "Traceback" not in err
    assert not output.exists()
    assert not [p for p in output.parent.iterdir() if p.name.startswith(f".{output.name}")]
    return lines[-1]


# ---------------------------------------------------------------------------------------
# success


def test_impute_csv_to_h5ad(tiny_counts, counts_csv: Path, labels_txt: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.h5ad"
    status = cli.main(
        ["impute", str(counts_csv), "-o", str(out), "--labels-file", str(labels_txt),
         "--labels-key", "cell_type", *FAST]
    )
    assert status == 0
    result = ad.read_h5ad(out)
    assert list(result.obs_names) == list(tiny_counts.obs_names)
    assert list(result.var_names) == list(tiny_counts.var_names)
    x = np.asarray(result.X)
    np.testing.assert_array_equal(x, np.asarray(tiny_counts.X))
    imputed = result.layers["scmaskgan"]
    imputed = imputed.toarray() if hasattr(imputed, "toarray") else np.asarray(imputed)
    assert imputed.shape == x.shape
    observed = x != 0
    np.testing.assert_allclose(imputed[observed], x[observed], rtol=1e-5)
    assert np.isfinite(imputed).all() and (imputed >= 0).all()
    assert list(result.obs["cell_type"]) == list(tiny_counts.obs["cell_type"])
    assert "scmaskgan" in result.uns
    assert result.uns["scmaskgan"]["cli"]["input"] == str(counts_csv)


def test_impute_h5ad_labels_key_to_csv(tiny_counts, tmp_path: Path) -> None:
    src = tmp_path / "in.h5ad"
    tiny_counts.write_h5ad(src)
    out = tmp_path / "out.csv.gz"
    assert cli.main(["impute", str(src), "-o", str(out), "--labels-key", "cell_type", *FAST]) == 0
    table = pd.read_csv(out, index_col=0)
    assert list(table.index) == list(tiny_counts.obs_names)
    assert list(table.columns) == list(tiny_counts.var_names)
    x = np.asarray(tiny_counts.X)
    np.testing.assert_allclose(table.to_numpy()[x != 0], x[x != 0], rtol=1e-5)


def test_force_overwrites(counts_csv: Path, labels_txt: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old")
    argv = ["impute", str(counts_csv), "-o", str(out), "--labels-file", str(labels_txt), *FAST]
    assert cli.main([*argv, "--force"]) == 0
    assert out.read_text() != "old"


def test_python_dash_m_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scmaskgan", "impute", "--help"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0
    assert "--labels-key" in done.stdout and "--genes-as-rows" in done.stdout


# ---------------------------------------------------------------------------------------
# errors: exit 2, one line, no file


def test_existing_output_without_force(counts_csv: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "out.h5ad"
    out.write_text("keep")
    # the check comes before any reading: a reader that fails would show otherwise
    import scmaskgan.io

    def never(*args, **kwargs):
        raise AssertionError("input was read although the output exists")

    monkeypatch.setattr(scmaskgan.io, "read_input", never)
    status = cli.main(["impute", str(counts_csv), "-o", str(out), *FAST])
    err = capsys.readouterr().err
    assert status == 2
    assert "exists" in err and "--force" in err
    assert out.read_text() == "keep"


def test_missing_labels_key(counts_csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.h5ad"
    line = _run_error(["impute", str(counts_csv), "-o", str(out), "--labels-key", "nope", *FAST], capsys, out)
    assert "nope" in line


def test_nan_in_input(tiny_counts, labels_txt: Path, tmp_path: Path, capsys) -> None:
    x = np.asarray(tiny_counts.X).copy()
    x[3, 7] = np.nan
    src = _write_csv(tiny_counts, tmp_path / "nan.csv", values=x)
    out = tmp_path / "out.h5ad"
    line = _run_error(
        ["impute", str(src), "-o", str(out), "--labels-file", str(labels_txt), *FAST], capsys, out
    )
    assert "NaN" in line


def test_negative_values(tiny_counts, labels_txt: Path, tmp_path: Path, capsys) -> None:
    x = np.asarray(tiny_counts.X).copy()
    x[0, 0] = -3
    src = _write_csv(tiny_counts, tmp_path / "neg.csv", values=x)
    out = tmp_path / "out.h5ad"
    line = _run_error(
        ["impute", str(src), "-o", str(out), "--labels-file", str(labels_txt), *FAST], capsys, out
    )
    assert "negative" in line


def test_non_integer_needs_normalized(tiny_counts, labels_txt: Path, tmp_path: Path, capsys) -> None:
    x = np.log1p(np.asarray(tiny_counts.X))
    src = _write_csv(tiny_counts, tmp_path / "log.csv", values=x)
    out = tmp_path / "out.h5ad"
    line = _run_error(
        ["impute", str(src), "-o", str(out), "--labels-file", str(labels_txt), *FAST], capsys, out
    )
    assert "--layer" in line and "mode='neighbours' with normalized=True" in line  # advice that the count model takes
    assert "pass normalized=True" not in line
    # the count model (the default) learns a count law: normalised values are refused, naming the method to use
    line = _run_error(["impute", str(src), "-o", str(out), "--labels-file", str(labels_txt), "--normalized", *FAST],
                      capsys, out)
    assert "needs raw counts" in line and "mode='neighbours'" in line
    # accepted with --normalized by the neighbour fill
    assert cli.main(
        ["impute", str(src), "-o", str(out), "--labels-file", str(labels_txt), "--normalized", "--mode", "neighbours",
         "--seed", "0", "--device", "cpu", "--quiet"]
    ) == 0
    assert out.exists()


def test_non_numeric_cell(tiny_counts, tmp_path: Path, capsys) -> None:
    src = tmp_path / "text.csv"
    frame = pd.DataFrame(np.asarray(tiny_counts.X), index=tiny_counts.obs_names, columns=tiny_counts.var_names)
    frame = frame.astype(object)
    frame.iloc[5, 2] = "high"
    frame.to_csv(src)
    out = tmp_path / "out.h5ad"
    line = _run_error(["impute", str(src), "-o", str(out), *FAST], capsys, out)
    assert "'high'" in line and "'cell5'" in line and "'gene2'" in line


def test_wrong_length_labels_file(counts_csv: Path, tmp_path: Path, capsys) -> None:
    labels = tmp_path / "short.txt"
    labels.write_text("a\nb\nc\n")
    out = tmp_path / "out.h5ad"
    line = _run_error(["impute", str(counts_csv), "-o", str(out), "--labels-file", str(labels), *FAST], capsys, out)
    assert "3" in line and "60" in line


def test_missing_input(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.h5ad"
    line = _run_error(["impute", str(tmp_path / "none.csv"), "-o", str(out), *FAST], capsys, out)
    assert "does not exist" in line


def test_usage_errors_exit_2(capsys) -> None:
    assert cli.main([]) == 2
    assert cli.main(["impute", "x.csv"]) == 2  # no -o
    assert cli.main(["impute", "x.csv", "-o", "y.h5ad", "--epochs", "0"]) == 2
    assert cli.main(["--help"]) == 0
    capsys.readouterr()


def test_verbose_prints_traceback(counts_csv: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.h5ad"
    status = cli.main(["impute", str(counts_csv), "-o", str(out), "--labels-file", str(tmp_path / "x.txt"), "-v"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("scmaskgan: error: ")


def test_warnings_are_log_lines_without_source(tiny_counts, tmp_path: Path, capsys, caplog) -> None:
    x = np.asarray(tiny_counts.X, dtype=np.float64).copy()
    x[0, np.argmax(x[0])] = 1e9  # a corrupt entry: warned about before training
    src = _write_csv(tiny_counts, tmp_path / "corrupt.csv", values=x)
    out = tmp_path / "out.h5ad"
    with caplog.at_level("INFO", logger="scmaskgan"):
        assert cli.main(["impute", str(src), "-o", str(out), "--epochs", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert any(r.levelname == "WARNING" and "more than 100 times" in r.getMessage() for r in caplog.records)
    assert "UserWarning" not in err and ".py:" not in err  # no Python source location for the user
