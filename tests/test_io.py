"""Reading inputs and writing outputs (scmaskgan.io: reading, tenx, writing, formats) on small files made in tmp_path."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from scmaskgan import io as sio
from scmaskgan.io import formats, reading, tenx, writing


def _frame(adata: ad.AnnData) -> pd.DataFrame:
    x = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    return pd.DataFrame(x, index=adata.obs_names, columns=adata.var_names)


def _assert_same(adata: ad.AnnData, expected: ad.AnnData) -> None:
    assert list(adata.obs_names) == list(expected.obs_names)
    assert list(adata.var_names) == list(expected.var_names)
    np.testing.assert_array_equal(_frame(adata).to_numpy(), _frame(expected).to_numpy())


# ---------------------------------------------------------------------------------------
# reading matrices


@pytest.mark.parametrize("name", ["counts.csv", "counts.tsv", "counts.csv.gz", "counts.tsv.gz", "counts.txt"])
def test_table_cells_as_rows(tiny_counts, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    sep = "," if ".csv" in name else "\t"
    _frame(tiny_counts).to_csv(path, sep=sep)
    adata = sio.read_input(path)
    _assert_same(adata, tiny_counts)
    assert adata.X.dtype == np.float32


@pytest.mark.parametrize("name", ["genes.csv", "genes.tsv.gz"])
def test_table_genes_as_rows(tiny_counts, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _frame(tiny_counts).T.to_csv(path, sep="," if ".csv" in name else "\t")
    _assert_same(sio.read_input(path, genes_as_rows=True), tiny_counts)
    # the default reads the table as it stands: genes would be taken for cells
    assert sio.read_input(path).shape == (tiny_counts.n_vars, tiny_counts.n_obs)


def test_table_r_style_header_one_name_short(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('"g1","g2","g3"\n"c1",1,0,2\n"c2",0,5,0\n')
    adata = sio.read_input(path)
    assert list(adata.obs_names) == ["c1", "c2"]
    assert list(adata.var_names) == ["g1", "g2", "g3"]
    np.testing.assert_array_equal(adata.X, [[1, 0, 2], [0, 5, 0]])


def test_table_non_numeric_cell_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(",g1,g2,g3\nc1,1,2,3\nc2,4,five,6\nc3,7,8,9\n")
    with pytest.raises(sio.InputFormatError) as info:
        sio.read_input(path)
    message = str(info.value)
    assert "'five'" in message and "'c2'" in message and "'g2'" in message
    assert isinstance(info.value, ValueError)


def test_table_wrong_delimiter_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("x;g1;g2\nc1;1;2\n")
    with pytest.raises(sio.InputFormatError, match="delimiter"):
        sio.read_input(path)


@pytest.mark.parametrize("sparse", [True, False])
def test_h5ad_round_trip_keeps_sparsity(tiny_counts, tmp_path: Path, sparse: bool) -> None:
    src = tiny_counts.copy()
    if sparse:
        src.X = sp.csr_matrix(src.X)
    path = tmp_path / "in.h5ad"
    src.write_h5ad(path)
    adata = sio.read_input(path)
    assert sp.issparse(adata.X) == sparse
    _assert_same(adata, tiny_counts)
    assert list(adata.obs["cell_type"]) == list(tiny_counts.obs["cell_type"])
    with pytest.raises(sio.InputFormatError, match="genes_as_rows"):
        sio.read_input(path, genes_as_rows=True)


def _write_10x(adata: ad.AnnData, folder: Path, *, v3: bool) -> None:
    folder.mkdir()
    genes_by_cells = sp.coo_matrix(adata.X.T.astype(np.int64))
    ids = [f"ENSG{i:011d}" for i in range(adata.n_vars)]
    if v3:
        with gzip.open(folder / "matrix.mtx.gz", "wb") as fh:
            scipy.io.mmwrite(fh, genes_by_cells)
        features = pd.DataFrame({"id": ids, "name": adata.var_names, "type": "Gene Expression"})
        features.to_csv(folder / "features.tsv.gz", sep="\t", header=False, index=False)
        pd.Series(adata.obs_names).to_csv(folder / "barcodes.tsv.gz", header=False, index=False)
    else:
        scipy.io.mmwrite(folder / "matrix.mtx", genes_by_cells)
        pd.DataFrame({"id": ids, "name": adata.var_names}).to_csv(
            folder / "genes.tsv", sep="\t", header=False, index=False
        )
        pd.Series(adata.obs_names).to_csv(folder / "barcodes.tsv", header=False, index=False)


@pytest.mark.parametrize("v3", [True, False])
def test_10x_mtx_folder(tiny_counts, tmp_path: Path, v3: bool) -> None:
    folder = tmp_path / "filtered_feature_bc_matrix"
    _write_10x(tiny_counts, folder, v3=v3)
    adata = sio.read_input(folder)
    assert sp.isspmatrix_csr(adata.X)
    _assert_same(adata, tiny_counts)
    assert adata.var["gene_ids"].iloc[0] == "ENSG00000000000"
    matrix = folder / ("matrix.mtx.gz" if v3 else "matrix.mtx")
    _assert_same(sio.read_input(matrix), tiny_counts)


def test_10x_mtx_folder_with_geo_prefixes(tiny_counts, tmp_path: Path) -> None:
    folder = tmp_path / "GSM0000001"
    _write_10x(tiny_counts, folder, v3=True)
    for part in list(folder.iterdir()):
        part.rename(folder / f"GSM0000001_{part.name}")
    _assert_same(sio.read_input(folder), tiny_counts)
    _assert_same(sio.read_input(folder / "GSM0000001_matrix.mtx.gz"), tiny_counts)
    (folder / "GSM0000002_barcodes.tsv.gz").write_bytes((folder / "GSM0000001_barcodes.tsv.gz").read_bytes())
    with pytest.raises(sio.InputFormatError, match="several barcodes"):
        sio.read_input(folder)


def test_10x_missing_file(tiny_counts, tmp_path: Path) -> None:
    folder = tmp_path / "mtx"
    _write_10x(tiny_counts, folder, v3=True)
    (folder / "barcodes.tsv.gz").unlink()
    with pytest.raises(sio.InputFormatError, match="barcodes"):
        sio.read_input(folder)


def test_find_10x_part_with_and_without_geo_prefix(tmp_path: Path) -> None:
    for name in ("matrix.mtx.gz", "GSM1_genes.tsv", "GSM1_Barcodes.TSV.gz", "notes_matrix.mtx.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "barcodes.tsv").mkdir()  # a folder is not a part
    assert sio.find_10x_part(tmp_path, "matrix.mtx") == [tmp_path / "matrix.mtx.gz"]
    assert sio.find_10x_part(tmp_path, "features.tsv", "genes.tsv") == [tmp_path / "GSM1_genes.tsv"]
    assert sio.find_10x_part(tmp_path, "barcodes.tsv") == [tmp_path / "GSM1_Barcodes.TSV.gz"]
    (tmp_path / "GSM1_genes.tsv").unlink()
    with pytest.raises(sio.Missing10xPartError, match=r"no features\.tsv\(\.gz\) or genes\.tsv"):
        sio.read_10x_parts(tmp_path)


def test_package_names_are_those_of_the_modules() -> None:
    modules = {"InputFormatError": formats, "read_input": reading, "read_labels": reading,
               "Missing10xPartError": tenx, "find_10x_part": tenx, "read_10x_parts": tenx,
               "OutputExistsError": writing, "check_output_path": writing, "write_output": writing,
               "check_output_files": writing, "output_files": writing, "memory_copy": writing}
    assert sorted(sio.__all__) == sorted(modules)
    for name, module in modules.items():
        assert getattr(sio, name) is getattr(module, name)
    assert issubclass(sio.Missing10xPartError, sio.InputFormatError)


def test_missing_and_unsupported_inputs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sio.read_input(tmp_path / "nope.csv")
    odd = tmp_path / "counts.xlsx"
    odd.write_text("x")
    with pytest.raises(sio.InputFormatError, match="unsupported input"):
        sio.read_input(odd)


# ---------------------------------------------------------------------------------------
# labels


@pytest.fixture
def counts_csv(tiny_counts, tmp_path: Path) -> Path:
    path = tmp_path / "counts.csv"
    _frame(tiny_counts).to_csv(path)
    return path


def test_labels_one_per_line(tiny_counts, counts_csv: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\r\n".join(tiny_counts.obs["cell_type"].astype(str)) + "\r\n")
    adata = sio.read_input(counts_csv, labels_file=labels, labels_key="ct")
    assert adata.obs["ct"].dtype == "category"
    assert list(adata.obs["ct"]) == list(tiny_counts.obs["cell_type"])
    # default key
    assert "label" in sio.read_input(counts_csv, labels_file=labels).obs


def test_labels_with_header_line(tiny_counts, counts_csv: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("cell_type\n" + "\n".join(tiny_counts.obs["cell_type"].astype(str)) + "\n")
    adata = sio.read_input(counts_csv, labels_file=labels, labels_key="cell_type")
    assert list(adata.obs["cell_type"]) == list(tiny_counts.obs["cell_type"])


def test_labels_table_by_cell_name(tiny_counts, counts_csv: Path, tmp_path: Path) -> None:
    table = tiny_counts.obs[["cell_type"]].assign(batch="b1").iloc[::-1]
    labels = tmp_path / "labels.csv"
    table.to_csv(labels, index_label="cell")
    adata = sio.read_input(counts_csv, labels_file=labels, labels_key="cell_type")
    assert list(adata.obs["cell_type"]) == list(tiny_counts.obs["cell_type"])


def test_labels_wrong_length_names_both_lengths(tiny_counts, counts_csv: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(["a"] * (tiny_counts.n_obs - 5)) + "\n")
    with pytest.raises(sio.InputFormatError) as info:
        sio.read_input(counts_csv, labels_file=labels)
    assert str(tiny_counts.n_obs - 5) in str(info.value)
    assert str(tiny_counts.n_obs) in str(info.value)
    with pytest.raises(FileNotFoundError, match="labels file"):
        sio.read_input(counts_csv, labels_file=tmp_path / "none.txt")


# ---------------------------------------------------------------------------------------
# writing


@pytest.fixture
def imputed(tiny_counts) -> ad.AnnData:
    adata = tiny_counts.copy()
    adata.layers["scmaskgan"] = adata.X + 0.5
    adata.uns["scmaskgan"] = {
        "params": {"k": 5, "device": None, "path": Path("/x")},
        "history": [{"epoch": 0, "loss": 1.0}, {"epoch": 1, "loss": 0.5}],
        "losses": [1.0, None, 0.5],
        "classes": ["type0", "type1", "type2"],
        "shape": (60, 50),
    }
    return adata


def test_write_h5ad(imputed, tmp_path: Path) -> None:
    path = tmp_path / "out.h5ad"
    before = dict(imputed.uns["scmaskgan"])
    assert sio.write_output(imputed, path) == path
    assert imputed.uns["scmaskgan"] == before  # the caller's uns is left as it was
    back = ad.read_h5ad(path)
    _assert_same(back, imputed)
    np.testing.assert_array_equal(back.layers["scmaskgan"], imputed.layers["scmaskgan"])
    uns = back.uns["scmaskgan"]
    assert uns["params"]["k"] == 5
    assert uns["params"]["path"] == "/x"
    assert uns["history"]["1"]["loss"] == 0.5
    assert np.isnan(uns["losses"][1])
    assert list(uns["classes"]) == ["type0", "type1", "type2"]
    assert [p.name for p in tmp_path.iterdir()] == ["out.h5ad"]


@pytest.mark.parametrize("name", ["out.csv", "out.tsv", "out.csv.gz", "out.tsv.gz"])
def test_write_table(imputed, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    sio.write_output(imputed, path)
    back = pd.read_csv(path, sep="," if ".csv" in name else "\t", index_col=0)
    assert list(back.index) == list(imputed.obs_names)
    assert list(back.columns) == list(imputed.var_names)
    np.testing.assert_allclose(back.to_numpy(), imputed.layers["scmaskgan"])


def test_write_table_sparse_layer(imputed, tmp_path: Path) -> None:
    imputed.layers["scmaskgan"] = sp.csr_matrix(imputed.layers["scmaskgan"])
    sio.write_output(imputed, tmp_path / "o.csv")
    back = pd.read_csv(tmp_path / "o.csv", index_col=0)
    np.testing.assert_allclose(back.to_numpy(), imputed.layers["scmaskgan"].toarray())


def test_write_table_needs_the_layer(tiny_counts, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="scmaskgan"):
        sio.write_output(tiny_counts, tmp_path / "o.csv")
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_force(imputed, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    path.write_text("keep me")
    with pytest.raises(sio.OutputExistsError, match="force"):
        sio.write_output(imputed, path)
    assert path.read_text() == "keep me"
    with pytest.raises(FileExistsError):
        sio.check_output_path(path)
    sio.write_output(imputed, path, force=True)
    assert path.read_text() != "keep me"


def test_bad_output_paths(imputed, tmp_path: Path) -> None:
    with pytest.raises(sio.InputFormatError, match="unsupported output"):
        sio.check_output_path(tmp_path / "out.xlsx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sio.check_output_path(tmp_path / "no" / "out.h5ad")


@pytest.mark.parametrize("name", ["out.h5ad", "out.csv.gz"])
def test_failed_write_leaves_nothing(imputed, tmp_path: Path, monkeypatch, name: str) -> None:
    def fail_midway(self, filename, *args, **kwargs):
        Path(filename).write_bytes(b"half written")
        raise OSError("disk full")

    if name.endswith(".h5ad"):
        monkeypatch.setattr(ad.AnnData, "write_h5ad", fail_midway)
    else:
        def fail_table(blocks, adata, handles, sep, key):
            for handle in handles.values():
                handle.write("partial,")
            raise OSError("disk full")

        monkeypatch.setattr(writing, "_write_tables", fail_table)
    with pytest.raises(OSError, match="disk full"):
        sio.write_output(imputed, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_table_output_writes_one_file_per_layer(imputed, tmp_path: Path, monkeypatch) -> None:
    imputed.layers["scmaskgan_p_detected"] = np.full(imputed.shape, 0.25)
    layers = ["scmaskgan", "scmaskgan_p_detected"]
    assert sio.output_files(tmp_path / "Out.CSV.gz", key="scmaskgan", layers=layers) == {
        "scmaskgan": tmp_path / "Out.CSV.gz", "scmaskgan_p_detected": tmp_path / "Out_p_detected.CSV.gz"}
    assert set(sio.output_files(tmp_path / "o.h5ad", key="scmaskgan", layers=layers).values()) == {tmp_path / "o.h5ad"}

    def fail_after_first_block(blocks, adata, handles, sep, key):
        next(iter(blocks))
        for handle in handles.values():
            handle.write("partial,")
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(writing, "_write_tables", fail_after_first_block)
        with pytest.raises(OSError, match="disk full"):
            sio.write_output(imputed, tmp_path / "o.tsv", layers=layers)
    assert list(tmp_path.iterdir()) == []  # neither table, nor a temporary file
    (tmp_path / "o_p_detected.tsv").write_text("old")
    with pytest.raises(sio.OutputExistsError, match="o_p_detected.tsv exists"):
        sio.write_output(imputed, tmp_path / "o.tsv", layers=layers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o_p_detected.tsv"]
    sio.write_output(imputed, tmp_path / "o.tsv", layers=layers, force=True)
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "o_p_detected.tsv", sep="\t", index_col=0), 0.25)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "o.tsv", sep="\t", index_col=0), imputed.layers["scmaskgan"])


def test_failed_overwrite_keeps_old_file(imputed, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old")

    def fail_table(blocks, adata, handles, sep, key):
        raise OSError("disk full")

    monkeypatch.setattr(writing, "_write_tables", fail_table)
    with pytest.raises(OSError):
        sio.write_output(imputed, path, force=True)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_written_file_has_normal_permissions(imputed, tmp_path: Path) -> None:
    path = sio.write_output(imputed, tmp_path / "out.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
