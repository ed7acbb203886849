"""Input that the tool cannot handle well gets a clear word, and no observed value moves (issue 13)."""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from scmaskgan import cli, pp
from scmaskgan._validation import InputError
from scmaskgan.io import read_input

FAST = ["--seed", "0", "--device", "cpu", "--quiet"]
EDGE = (2**24 + 1, 2**25 + 1)  # the first integers that float32 cannot hold


class _Opaque:
    """An object that a weights file of tensors only never holds."""


def _labels(adata: ad.AnnData) -> list[str]:
    return list(adata.obs["cell_type"].astype(str))


def _imputed(path: Path) -> np.ndarray:
    if path.name.endswith(".h5ad"):
        layer = ad.read_h5ad(path).layers["scmaskgan"]
        return layer.toarray() if sp.issparse(layer) else np.asarray(layer)
    return pd.read_csv(path, index_col=0).to_numpy()


def _with_edge(tiny_counts, *, fraction: bool = False) -> np.ndarray:
    x = np.asarray(tiny_counts.X, dtype=np.float64).copy()
    nz = np.argwhere(x > 0)
    x[tuple(nz[0])], x[tuple(nz[1])] = EDGE
    if fraction:
        x[tuple(nz[2])], x[tuple(nz[3])] = 0.1, 1.23456789
    return x


def _cli_impute(source: Path, out: Path, labels: Path, *extra: str) -> None:
    assert cli.main(["impute", str(source), "-o", str(out), "--labels-file", str(labels), *FAST, *extra]) == 0


# ---------------------------------------------------------------------------------------
# 2. observed values are returned exactly


@pytest.mark.parametrize("kind", ["csv", "tsv.gz", "h5ad-int64", "h5ad-sparse-int64", "10x", "normalized-csv"])
@pytest.mark.parametrize("out_name", ["out.h5ad", "out.csv"])
def test_observed_values_exact_at_float32_edge(tiny_counts, tmp_path: Path, kind: str, out_name: str) -> None:
    x = _with_edge(tiny_counts, fraction=kind == "normalized-csv")
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(_labels(tiny_counts)) + "\n")
    frame = pd.DataFrame(x, index=tiny_counts.obs_names, columns=tiny_counts.var_names)
    extra: tuple[str, ...] = ()
    if kind in ("csv", "normalized-csv"):
        source = tmp_path / "in.csv"
        frame.to_csv(source, float_format="%.17g")
        extra = ("--normalized", "--mode", "neighbours") if kind == "normalized-csv" else ()  # not a count model's
    elif kind == "tsv.gz":
        source = tmp_path / "in.tsv.gz"
        frame.astype(np.int64).to_csv(source, sep="\t")
    elif kind.startswith("h5ad"):
        source = tmp_path / "in.h5ad"
        values = x.astype(np.int64)
        ad.AnnData(sp.csr_matrix(values) if "sparse" in kind else values, obs=pd.DataFrame(index=tiny_counts.obs_names),
                   var=pd.DataFrame(index=tiny_counts.var_names)).write_h5ad(source)
    else:
        source = tmp_path / "tenx"
        source.mkdir()
        with gzip.open(source / "matrix.mtx.gz", "wb") as fh:
            scipy.io.mmwrite(fh, sp.coo_matrix(x.T.astype(np.int64)))
        pd.DataFrame({"id": tiny_counts.var_names, "name": tiny_counts.var_names}).to_csv(
            source / "features.tsv.gz", sep="\t", header=False, index=False)
        pd.Series(tiny_counts.obs_names).to_csv(source / "barcodes.tsv.gz", sep="\t", header=False, index=False)
    out = tmp_path / out_name
    _cli_impute(source, out, labels, *extra)
    imputed = _imputed(out)
    observed = x != 0
    np.testing.assert_array_equal(imputed[observed], x[observed])


@pytest.mark.parametrize("sparse", [False, True])
def test_int64_count_just_above_float32_keeps_float64(tiny_counts, sparse: bool) -> None:
    x = np.asarray(tiny_counts.X).astype(np.int64)
    row, col = np.argwhere(x > 0)[0]
    x[row, col] = 2**24 + 1  # its float32 copy is 2**24: the dtype is chosen on the input itself
    adata = ad.AnnData(sp.csr_matrix(x) if sparse else x, obs=tiny_counts.obs.copy(), var=tiny_counts.var.copy())
    pp.impute(adata, labels_key="cell_type", device="cpu")
    assert adata.layers["scmaskgan"].dtype == np.float64
    assert adata.layers["scmaskgan"][row, col] == 2**24 + 1


def test_reader_keeps_float32_when_exact(tiny_counts, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    tiny_counts.to_df().to_csv(source)
    assert read_input(source).X.dtype == np.float32  # unchanged for counts float32 holds exactly


# ---------------------------------------------------------------------------------------
# 1. a cell alone in its label is imputed from all other cells, and the user is told


def test_cell_alone_in_its_label_is_imputed_from_other_cells(tiny_counts, caplog) -> None:
    adata = tiny_counts.copy()
    labels = _labels(adata)
    labels[5] = "lonely"
    adata.obs["cell_type"] = pd.Categorical(labels)
    with caplog.at_level("WARNING", logger="scmaskgan"):
        pp.impute(adata, labels_key="cell_type", device="cpu", mode="neighbours")
    x, imputed = np.asarray(adata.X), adata.layers["scmaskgan"]
    zeros = x[5] == 0
    assert (imputed[5][zeros] > 0).mean() > 0.5  # before: every zero of the cell stayed zero
    assert "single cell" in caplog.text and "'lonely'" in caplog.text and "'cell5'" in caplog.text
    record = adata.uns["scmaskgan"]
    assert record["imputation"]["fallback"] == {"pool": "all other cells", "labels": ["lonely"], "cells": ["cell5"]}
    assert np.isfinite(record["candidates"]["lonely"]["theta"])
    assert record["candidates"]["lonely"]["pool"] == "all other cells"


def test_count_model_imputes_a_cell_alone_in_its_label_as_any_other(tiny_counts, caplog) -> None:
    """The count model's labels are a condition of the network, not a pool: a lone label needs nothing else."""
    adata = tiny_counts.copy()
    labels = _labels(adata)
    labels[5] = "lonely"
    adata.obs["cell_type"] = pd.Categorical(labels)
    with caplog.at_level("WARNING", logger="scmaskgan"):
        pp.impute(adata, labels_key="cell_type", device="cpu", max_epochs=5)
    x, imputed = np.asarray(adata.X), adata.layers["scmaskgan"]
    assert (imputed[5][x[5] == 0] > 0).all() and "single cell" not in caplog.text


@pytest.mark.parametrize("mode, options", [("neighbours", {}), ("count", {"max_epochs": 5})])
def test_one_label_per_cell_fills_zeros(tiny_counts, mode, options) -> None:
    adata = tiny_counts.copy()
    adata.obs["cell_type"] = pd.Categorical(adata.obs_names)
    pp.impute(adata, labels_key="cell_type", device="cpu", mode=mode, **options)
    x, imputed = np.asarray(adata.X), adata.layers["scmaskgan"]
    assert (imputed[x == 0] > 0).mean() > 0.5


def test_labels_without_a_lone_cell_are_unchanged(tiny_counts) -> None:
    adata = tiny_counts.copy()
    pp.impute(adata, labels_key="cell_type", device="cpu", mode="neighbours")
    assert "fallback" not in adata.uns["scmaskgan"]["imputation"]


@pytest.mark.parametrize("missing", ["NA", "nan", "", "  "])
def test_na_in_labels_file_is_a_missing_label(tiny_counts, tmp_path: Path, capsys, missing: str) -> None:
    source, labels, out = tmp_path / "in.csv", tmp_path / "labels.csv", tmp_path / "out.h5ad"
    tiny_counts.to_df().to_csv(source)
    names = _labels(tiny_counts)
    names[3] = missing
    pd.DataFrame({"cell": tiny_counts.obs_names, "label": names}).to_csv(labels, index=False)
    assert cli.main(["impute", str(source), "-o", str(out), "--labels-file", str(labels), *FAST]) == 2
    err = capsys.readouterr().err
    assert f"labels file {labels}: the label is missing (empty, NA or nan) for 1 cell(s), the first 'cell3'" in err
    assert not out.exists()


# ---------------------------------------------------------------------------------------
# 6. pp.impute does not overwrite layers silently


def test_key_added_refuses_the_input_layer(tiny_counts) -> None:
    adata = tiny_counts.copy()
    adata.layers["counts"] = adata.X.copy()
    with pytest.raises(InputError, match=r"key_added='counts' would write the imputation over layers\['counts'\]"):
        pp.impute(adata, layer="counts", key_added="counts", overwrite=True, device="cpu")
    np.testing.assert_array_equal(adata.layers["counts"], tiny_counts.X)


@pytest.mark.parametrize("layer", ["imp_if_detected", "imp_p_detected"])
def test_key_added_refuses_the_count_models_layers(tiny_counts, layer: str) -> None:
    adata = tiny_counts.copy()
    adata.layers[layer] = adata.X.copy()
    with pytest.raises(InputError, match="would write the imputation over"):
        pp.impute(adata, layer=layer, key_added="imp", mode="count", device="cpu")


def test_existing_layer_needs_overwrite(tiny_counts) -> None:
    adata = tiny_counts.copy()
    adata.layers["scmaskgan"] = np.zeros(adata.shape, np.float32)
    with pytest.raises(InputError, match=r"would replace the existing 'scmaskgan' of adata.layers.*overwrite=True"):
        pp.impute(adata, labels_key="cell_type", device="cpu")
    assert not adata.layers["scmaskgan"].any()
    pp.impute(adata, labels_key="cell_type", device="cpu", overwrite=True)
    assert adata.layers["scmaskgan"].any()


# ---------------------------------------------------------------------------------------
# 5. an unwritable output folder is found before any work


def test_unwritable_output_folder_refused_before_reading(tmp_path: Path, capsys, monkeypatch) -> None:
    import scmaskgan.io as io
    from scmaskgan.io import writing

    folder = tmp_path / "locked"
    folder.mkdir()
    real_access = writing.os.access
    monkeypatch.setattr(writing.os, "access", lambda p, mode, **kw: False if Path(p) == folder else real_access(p, mode, **kw))
    read = []
    monkeypatch.setattr(io, "read_input", lambda *a, **k: read.append(a))
    status = cli.main(["impute", str(tmp_path / "in.csv"), "-o", str(folder / "out.h5ad"), *FAST])
    err = capsys.readouterr().err
    assert status == 2 and not read
    assert f"scmaskgan: error: output folder {folder} is not writable" in err
    with pytest.raises(PermissionError, match="is not writable"):
        pp.impute(ad.AnnData(np.ones((3, 2))), out_file=folder / "out.h5ad")


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() == 0,
                    reason="root may write into a read-only folder")
def test_read_only_output_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        assert cli.main(["impute", str(tmp_path / "in.csv"), "-o", str(folder / "out.h5ad"), *FAST]) == 2
        assert "is not writable" in capsys.readouterr().err
    finally:
        folder.chmod(0o755)


def test_folder_as_output_is_named_a_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    assert cli.main(["impute", str(tmp_path / "in.csv"), "-o", str(folder), *FAST]) == 2
    assert f"scmaskgan: error: output {folder} is a folder; give a file name in it" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# 3. SIGTERM and SIGHUP leave nothing beside the output

_SLOW_WRITE = """
import sys, time
from scmaskgan import cli
from scmaskgan.io import writing

def stalled(path, *args, **kwargs):  # the run is caught while the temporary file exists
    print("writing", flush=True)
    time.sleep(60)

writing._stream_h5ad_layer = stalled
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("name", "status"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_signal_removes_the_temporary_file(tiny_counts, tmp_path: Path, name: str, status: int) -> None:
    import signal
    import subprocess
    import sys

    source, out_dir = tmp_path / "in.csv", tmp_path / "out"
    out_dir.mkdir()
    tiny_counts.to_df().to_csv(source)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(_labels(tiny_counts)) + "\n")
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE, "impute", str(source), "-o", str(out_dir / "r.h5ad"),
                              "--labels-file", str(labels), *FAST], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        assert [p.name for p in out_dir.iterdir() if p.name.endswith(".tmp")]  # the partial file exists now
        child.send_signal(getattr(signal, name))
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == status, err
    assert f"scmaskgan: stopped by {name}" in err
    assert list(out_dir.iterdir()) == []


# ---------------------------------------------------------------------------------------
# 7. one-line messages, exit 2, the file named


def _error_line(argv: list[str], capsys) -> str:
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_truncated_and_fake_gzip(tiny_counts, tmp_path: Path, capsys) -> None:
    good = tmp_path / "good.csv.gz"
    tiny_counts.to_df().to_csv(good)
    truncated, fake = tmp_path / "truncated.csv.gz", tmp_path / "fake.csv.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    fake.write_text(tiny_counts.to_df().to_csv())  # plain text under a .gz name
    line = _error_line(["impute", str(truncated), "-o", str(tmp_path / "a.h5ad"), *FAST], capsys)
    assert f"scmaskgan: error: cannot read {truncated}: the gzip data end early" in line
    line = _error_line(["impute", str(fake), "-o", str(tmp_path / "b.h5ad"), *FAST], capsys)
    assert f"scmaskgan: error: cannot read {fake}: the data are not gzip" in line


def test_single_gene_without_labels(tiny_counts, tmp_path: Path, capsys) -> None:
    source = tmp_path / "one_gene.csv"
    tiny_counts.to_df().iloc[:, :1].to_csv(source)
    line = _error_line(["impute", str(source), "-o", str(tmp_path / "a.h5ad"), *FAST], capsys)
    assert f"scmaskgan: error: {source}: the input has a single gene; the count model learns each gene" in line
    line = _error_line(["impute", str(source), "-o", str(tmp_path / "b.h5ad"), *FAST, "--mode", "neighbours"], capsys)
    assert f"scmaskgan: error: {source}: the input has a single gene; clustering the cells" in line


def test_seed_out_of_range(tmp_path: Path, capsys) -> None:
    status = cli.main(["impute", str(tmp_path / "in.csv"), "-o", str(tmp_path / "a.h5ad"), "--seed", "9" * 20])
    assert status == 2
    assert f"argument --seed: expected an integer from 0 to {2**64 - 1}" in capsys.readouterr().err
    with pytest.raises(InputError, match=f"seed must be <= {2**64 - 1}"):
        pp.impute(ad.AnnData(np.ones((3, 2))), seed=10**20)
    with pytest.raises(InputError, match="seed must be <= 4294967295 with mode='neighbours'"):
        pp.impute(ad.AnnData(np.ones((3, 2))), seed=2**32, mode="neighbours")


def test_unknown_key_in_saved_config(tiny_counts, tmp_path: Path) -> None:
    import json

    from scmaskgan import SCMaskGAN

    folder = SCMaskGAN(tiny_counts, labels_key="cell_type", device="cpu").save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["params"]["bogus"] = 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match=r"config.json has unknown parameter\(s\) 'bogus'"):
        SCMaskGAN.load(folder, tiny_counts, device="cpu")


def test_refused_pickle_gives_no_unsafe_advice(tmp_path: Path) -> None:
    import torch

    from scmaskgan.nn.weights import load_weights

    path = tmp_path / "weights.pt"
    torch.save({"net": _Opaque()}, path)  # not tensors: loading it would unpickle an object
    with pytest.raises(InputError) as info:
        load_weights(path, {})
    assert str(path) in str(info.value) and "refused" in str(info.value)
    assert "weights_only" not in str(info.value) and "safe_globals" not in str(info.value)  # torch's advice


# ---------------------------------------------------------------------------------------
# 4. wrongly shaped input: orientation, a missing column of row names, duplicate gene names


def _table(tiny_counts, rows: list[str], cols: list[str], *, transpose: bool = False) -> pd.DataFrame:
    x = np.asarray(tiny_counts.X, dtype=np.int64)
    return pd.DataFrame(x.T if transpose else x, index=rows, columns=cols)


@pytest.mark.parametrize("case", ["ensembl", "barcodes", "header"])
def test_transposed_table_is_warned_about(tiny_counts, tmp_path: Path, caplog, case: str) -> None:
    genes = [f"ENSG{j:011d}" for j in range(tiny_counts.n_vars)] if case == "ensembl" else list(tiny_counts.var_names)
    barcodes = ["".join("ACGT"[(i >> (2 * k)) & 3] for k in range(12)) + "-1" for i in range(tiny_counts.n_obs)]
    cells = barcodes if case == "barcodes" else list(tiny_counts.obs_names)
    frame = _table(tiny_counts, genes, cells, transpose=True)  # genes x cells, as many published tables
    frame.index.name = "gene_id" if case == "header" else None
    source = tmp_path / "genes_by_cells.csv"
    frame.to_csv(source)
    with caplog.at_level("WARNING", logger="scmaskgan"):
        wrong = read_input(source)
    assert wrong.shape == (tiny_counts.n_vars, tiny_counts.n_obs)
    assert f"{source}: read as {tiny_counts.n_vars} cells x {tiny_counts.n_obs} genes, but" in caplog.text
    assert "pass --genes-as-rows" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="scmaskgan"):
        assert read_input(source, genes_as_rows=True).shape == tiny_counts.shape
    assert "genes-as-rows" not in caplog.text


def test_usual_table_has_no_orientation_warning(tiny_counts, tmp_path: Path, caplog) -> None:
    source = tmp_path / "in.csv"
    _table(tiny_counts, [f"AAACCTGAGC{i:03d}-1" for i in range(tiny_counts.n_obs)],
           [f"ENSG{j:011d}" for j in range(tiny_counts.n_vars)]).to_csv(source)
    with caplog.at_level("WARNING", logger="scmaskgan"):
        read_input(source)
    assert caplog.text == ""


def test_table_without_row_names_is_refused(tiny_counts, tmp_path: Path, capsys) -> None:
    source = tmp_path / "no_row_names.csv"
    _table(tiny_counts, list(tiny_counts.obs_names), list(tiny_counts.var_names)).to_csv(source, index=False)
    line = _error_line(["impute", str(source), "-o", str(tmp_path / "a.h5ad"), *FAST], capsys)
    assert f"scmaskgan: error: {source}: the first column, read as row names, holds numbers that repeat" in line
    adata = read_input(source, numeric_row_names=True)  # the user says the numbers are the names
    assert adata.n_vars == tiny_counts.n_vars - 1


def test_duplicate_gene_names_are_warned_about(tiny_counts, tmp_path: Path, caplog) -> None:
    genes = list(tiny_counts.var_names)
    genes[1] = genes[0]
    source = tmp_path / "dup.csv"
    _table(tiny_counts, list(tiny_counts.obs_names), genes).to_csv(source)
    with caplog.at_level("WARNING", logger="scmaskgan"):
        adata = read_input(source)
    assert f"{source}: 1 gene name(s) appear more than once in the first line (such as 'gene0')" in caplog.text
    assert list(adata.var_names[:2]) == ["gene0", "gene0.1"]  # the names as before


# ---------------------------------------------------------------------------------------
# the table of book/usage.md: each case is run, and its message must be in the output

_PAGE = Path(__file__).resolve().parent.parent / "book" / "usage.md"


def _page_cases() -> dict[str, str]:
    """``{input column: message excerpt}`` of the table "What the tool does with unusual input"."""
    text = _PAGE.read_text().split("### What the tool does with unusual input", 1)[1]
    rows = [line for line in text.split("\n\n")[2].splitlines() if line.startswith("| ")][1:]
    cases = {}
    for row in rows:
        case, _, message = (cell.strip() for cell in row.strip("|").split(" | "))
        cases[case] = message.strip("`")
    return cases


class _Case:
    """Runs one case of the table in ``tmp_path``: ``run()`` returns what the user sees (stderr and log)."""

    def __init__(self, tiny_counts, tmp_path: Path, capsys, caplog):
        self.tiny, self.tmp, self.capsys, self.caplog = tiny_counts, tmp_path, capsys, caplog

    def csv(self, frame: pd.DataFrame | None = None, name: str = "in.csv", **kwargs) -> Path:
        path = self.tmp / name
        (self.tiny.to_df() if frame is None else frame).to_csv(path, **kwargs)
        return path

    def labels(self, names: list[str]) -> Path:
        path = self.tmp / "labels.txt"
        path.write_text("\n".join(names) + "\n")
        return path

    def cli(self, *argv: str, output: str = "out.h5ad", labels: bool = True) -> str:
        extra = ["--labels-file", str(self.labels(_labels(self.tiny)))] if labels else []
        with self.caplog.at_level("INFO", logger="scmaskgan"):
            cli.main(["impute", *argv, "-o", str(self.tmp / output), "--device", "cpu", *extra])
        return self.capsys.readouterr().err + self.caplog.text

    def python(self, **kwargs) -> str:
        adata = self.tiny.copy()
        adata.layers["counts"] = adata.X.copy()
        try:
            pp.impute(adata, labels_key="cell_type", device="cpu", **kwargs)
        except InputError as exc:
            return str(exc)
        return ""


def _frame_with(tiny_counts, values: np.ndarray | None = None, **changes) -> pd.DataFrame:
    frame = pd.DataFrame(np.asarray(tiny_counts.X) if values is None else values, index=tiny_counts.obs_names,
                         columns=tiny_counts.var_names)
    return frame.rename(**changes) if changes else frame


def _sigterm(case: _Case) -> str:
    import signal
    import subprocess
    import sys

    source = case.csv()
    child = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE, "impute", str(source), "-o", str(case.tmp / "o.h5ad"),
                              "--labels-file", str(case.labels(_labels(case.tiny))), *FAST],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child.stdout.readline()
        child.send_signal(signal.SIGTERM)
        return child.communicate(timeout=30)[1]
    finally:
        child.kill()


def _gz(case: _Case, truncated: bool) -> str:
    good = case.csv(name="good.csv.gz")
    bad = case.tmp / "bad.csv.gz"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2] if truncated else case.tiny.to_df().to_csv().encode())
    return case.cli(str(bad))


def _edge_values(tiny_counts) -> np.ndarray:
    x = np.asarray(tiny_counts.X, dtype=np.float64).copy()
    x[tuple(np.argwhere(x > 0)[0])] = 2**24 + 1
    return x


def _corrupt_entry(case: _Case) -> str:
    import warnings

    x = np.asarray(case.tiny.X, dtype=np.float64).copy()
    x[tuple(np.argwhere(x > 0)[0])] = 1e9
    with warnings.catch_warnings(record=True) as seen:  # shown on stderr outside pytest
        warnings.simplefilter("always")
        text = case.cli(str(case.csv(_frame_with(case.tiny, x))))
    return text + " ".join(str(w.message) for w in seen)


def _locked(case: _Case) -> str:
    from scmaskgan.io import writing

    folder = case.tmp / "locked"
    folder.mkdir()
    real = writing.os.access
    writing.os.access = lambda p, mode, **kw: False if Path(p) == folder else real(p, mode, **kw)
    try:
        return case.cli(str(case.csv()), output="locked/out.h5ad")
    finally:
        writing.os.access = real


def _lonely(case: _Case) -> str:
    names = _labels(case.tiny)
    names[0] = "lonely"
    return case.cli(str(case.csv()), "--labels-file", str(case.labels(names)), "--mode", "neighbours", labels=False)


_COUNT_LAYERS = ("scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected")


def _earlier_output(case: _Case) -> str:
    adata = case.tiny.copy()
    for name in _COUNT_LAYERS:
        adata.layers[name] = np.asarray(adata.X) + 0.5
    adata.write_h5ad(case.tmp / "earlier.h5ad")
    return case.cli(str(case.tmp / "earlier.h5ad"))


def _python(case: _Case, adata: ad.AnnData, **kwargs) -> str:
    with case.caplog.at_level("INFO", logger="scmaskgan"):
        try:
            pp.impute(adata, device="cpu", max_epochs=2, **kwargs)
        except InputError as exc:
            return str(exc)
    return case.caplog.text


def _labels_column(case: _Case) -> str:
    adata = case.tiny.copy()
    adata.obs["scmaskgan_labels"] = "mine"
    return _python(case, adata, mode="neighbours")


def _other_runs_layer(case: _Case) -> str:
    adata = case.tiny.copy()
    pp.impute(adata, labels_key="cell_type", device="cpu", max_epochs=2)
    return _python(case, adata, labels_key="cell_type", key_added="scmaskgan_if_detected", overwrite=True)


def _fewer_layers(case: _Case) -> str:
    adata = case.tiny.copy()
    pp.impute(adata, labels_key="cell_type", device="cpu", max_epochs=2, n_draws=2)
    with case.caplog.at_level("INFO", logger="scmaskgan"):
        pp.impute(adata, labels_key="cell_type", device="cpu", mode="neighbours", overwrite=True)
    return case.caplog.text


def _backed(case: _Case) -> str:
    adata = case.tiny.copy()
    adata.X = sp.csr_matrix(adata.X)
    adata.write_h5ad(case.tmp / "in.h5ad")
    return _python(case, ad.read_h5ad(case.tmp / "in.h5ad", backed="r"), labels_key="cell_type", copy=True)


CASES = {
    "counts above 2\\*\\*24, or values that float32 rounds":
        lambda c: c.cli(str(c.csv(_frame_with(c.tiny, _edge_values(c.tiny)), float_format="%.17g"))),
    "a label held by a single cell, with `--mode neighbours` (the count model imputes it as any other cell)":
        _lonely,
    "one label for every cell in `--labels-file`":
        lambda c: c.cli(str(c.csv()), "--labels-file", str(c.labels(["same"] * c.tiny.n_obs)), labels=False),
    "`NA`, `nan` or an empty label in `--labels-file`":
        lambda c: c.cli(str(c.csv()), "--labels-file", str(c.labels(["NA"] + _labels(c.tiny)[1:])), labels=False),
    "a table with genes as rows, read without `--genes-as-rows`":
        lambda c: c.cli(str(c.csv(_frame_with(c.tiny).T.rename_axis("gene")))),  # the warning, then wrong labels
    "a table without a column of row names": lambda c: c.cli(str(c.csv(index=False))),
    "a gene name twice in a table's first line":
        lambda c: c.cli(str(c.csv(_frame_with(c.tiny, columns={"gene1": "gene0"})))),
    "a cell name twice": lambda c: c.cli(str(c.csv(_frame_with(c.tiny, index={"cell1": "cell0"})))),
    "cells without any count":
        lambda c: c.cli(str(c.csv(_frame_with(c.tiny, np.where(np.arange(c.tiny.n_obs)[:, None] == 0, 0, c.tiny.X))))),
    "a count more than 100 times every other value of its cell and of its gene (a corrupt entry, such as 1e9 among "
    "values below 1,000)": _corrupt_entry,
    "non-integer values without `--normalized`": lambda c: c.cli(str(c.csv(_frame_with(c.tiny, c.tiny.X + 0.5)))),
    "a single gene": lambda c: c.cli(str(c.csv(c.tiny.to_df().iloc[:, :1])), labels=False),
    "a truncated `.gz` file": lambda c: _gz(c, truncated=True),
    "a `.gz` name on a file that is not gzip": lambda c: _gz(c, truncated=False),
    "an output folder that is not writable": _locked,
    "a folder given as output": lambda c: (c.tmp / "folder").mkdir() or c.cli(str(c.csv()), output="folder"),
    "an existing output without `--force`":
        lambda c: (c.tmp / "out.h5ad").write_text("") or c.cli(str(c.csv())),
    "a seed outside 0 to 2\\*\\*64 - 1": lambda c: c.cli(str(c.csv()), "--seed", str(2**64)),
    "SIGTERM (or SIGHUP) during a run": _sigterm,
    "Python: `pp.impute(..., layer=\"counts\", key_added=\"counts\")`":
        lambda c: c.python(layer="counts", key_added="counts"),
    "Python: `key_added` naming an existing layer": lambda c: c.python(key_added="counts"),
    "a table output (`-o out.csv`) with the count model":
        lambda c: c.cli(str(c.csv()), "--epochs", "2", output="out.csv"),
    "an `.h5ad` input that already holds the layers of an earlier run (an earlier output)": _earlier_output,
    "Python: no `labels_key` with a method that clusters, and an existing `obs[key_added + \"_labels\"]`":
        _labels_column,
    "Python: a `key_added` whose layers would replace a layer of another run recorded in `uns` (such as "
    "`key_added=\"scmaskgan_if_detected\"` after a run with `\"scmaskgan\"`)": _other_runs_layer,
    "Python: `overwrite=True` over a run that wrote more (the count model's three layers and draws, then "
    "`mode=\"neighbours\"`)": _fewer_layers,
    "Python: a backed AnnData (`anndata.read_h5ad(path, backed=\"r\")`), dense or sparse": _backed,
}


def test_page_lists_every_checked_case() -> None:
    assert sorted(_page_cases()) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_page_message_is_what_the_user_sees(tiny_counts, tmp_path: Path, capsys, caplog, case: str) -> None:
    message = _page_cases().get(case)
    assert message is not None, f"{case!r} is not in the table of book/usage.md"
    seen = CASES[case](_Case(tiny_counts, tmp_path, capsys, caplog))
    assert message in " ".join(seen.split()), f"book/usage.md says {message!r}; the tool said:\n{seen}"
