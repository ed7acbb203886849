"""Readers of GEO downloads, on small files written here in the layouts that GEO serves."""

from __future__ import annotations

import bz2
import gzip
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from scmaskgan import datasets
from scmaskgan.datasets import DatasetFormatError, GeoFileNotFoundError


def _check(adata, accession: str) -> None:
    assert sp.isspmatrix_csr(adata.X)
    assert adata.X.dtype == np.float32
    assert np.all(adata.X.data >= 0)
    assert adata.obs_names.is_unique and adata.var_names.is_unique
    info = adata.uns["dataset"]
    assert info["accession"] == accession
    for key in ("source", "citation", "description", "name"):
        assert info[key]
    assert info["files"]
    for entry in info["files"].values():
        assert entry["sha256"] == datasets.file_sha256(entry["path"])
        assert entry["url"].startswith("https://")
    # h5ad-writable (no index names, no odd types)
    adata.copy()


def _rows(genes, matrix, sep: str = ",") -> list[str]:
    return [sep.join([g, *(_num(v) for v in row)]) for g, row in zip(genes, matrix)]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


# ---------------------------------------------------------------------------------------
# Chu 2016 time course (GSE75748)

CHU_CELLS = [
    f"H9.{t}_{i:03d}" for t in ("00hb4s", "12h", "24h", "36h", "72h", "96h") for i in (1, 2)
]
CHU_GENES = ["DDX11L11", "WASH7P", "POU5F1", "SOX17", "GATA6"]


def _write_chu(folder: Path, name: str = "GSE75748_sc_time_course_ec.csv.gz") -> np.ndarray:
    rng = np.random.default_rng(0)
    values = np.round(rng.gamma(0.5, 40.0, size=(len(CHU_GENES), len(CHU_CELLS))), 2)
    values[values < 5] = 0
    # R write.csv: quoted names, an empty quoted corner name.
    header = ",".join(['""', *(f'"{c}"' for c in CHU_CELLS)])
    rows = [",".join([f'"{g}"', *(_num(v) for v in row)]) for g, row in zip(CHU_GENES, values)]
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / name, "wt", newline="") as fh:
        fh.write("\n".join([header, *rows]) + "\n")
    return values


def test_chu_time_course_from_folder_and_file(tmp_path: Path) -> None:
    values = _write_chu(tmp_path / "GSE75748")
    adata = datasets.read_chu_time_course(tmp_path / "GSE75748")
    _check(adata, "GSE75748")
    assert adata.shape == (12, 5)
    assert list(adata.obs_names) == CHU_CELLS
    assert list(adata.var_names) == CHU_GENES
    assert list(adata.obs["time_h"]) == [0, 0, 12, 12, 24, 24, 36, 36, 72, 72, 96, 96]
    assert list(adata.obs["time"].cat.categories) == ["00h", "12h", "24h", "36h", "72h", "96h"]
    assert adata.obs["time"].cat.ordered
    assert adata.obs.loc["H9.36h_002", "time"] == "36h"
    np.testing.assert_allclose(adata.X.toarray(), values.T.astype(np.float32))
    assert not np.all(adata.X.data == np.round(adata.X.data))  # expected counts stay fractional

    file = tmp_path / "GSE75748" / "GSE75748_sc_time_course_ec.csv.gz"
    same = datasets.read_chu_time_course(file)
    assert (same.X != adata.X).nnz == 0


def test_chu_errors(tmp_path: Path) -> None:
    with pytest.raises(GeoFileNotFoundError, match="does not exist.*GSE75748_sc_time_course_ec"):
        datasets.read_chu_time_course(tmp_path / "nowhere")
    # The other single-cell file of the series is not the time course.
    _write_chu(tmp_path / "wrong", name="GSE75748_sc_cell_type_ec.csv.gz")
    with pytest.raises(GeoFileNotFoundError) as err:
        datasets.read_chu_time_course(tmp_path / "wrong")
    message = str(err.value)
    assert "GSE75748_sc_time_course_ec.csv.gz" in message
    assert "https://www.ncbi.nlm.nih.gov/geo/query/acc.cgi?acc=GSE75748" in message

    bad = tmp_path / "bad" / "GSE75748_sc_time_course_ec.csv"
    bad.parent.mkdir()
    bad.write_text(',"H9.12h_001","cellX"\n"A",1,2\n')
    with pytest.raises(DatasetFormatError, match="without a time point.*cellX"):
        datasets.read_chu_time_course(bad.parent)


# ---------------------------------------------------------------------------------------
# Klein 2015 mESC (GSE65525)

KLEIN = {
    "GSM1599494_ES_d0_main.csv.bz2": (0, 4),
    "GSM1599497_ES_d2_LIFminus.csv.bz2": (2, 3),
    "GSM1599498_ES_d4_LIFminus.csv.bz2": (4, 2),
    "GSM1599499_ES_d7_LIFminus.csv.bz2": (7, 5),
}
KLEIN_GENES = ["0610005C13Rik", "Actb", "Nanog", "Krt18", "Pou5f1", "Zfp42"]


def _klein_bytes(day: int, n_cells: int, genes=KLEIN_GENES) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(day)
    shape = (len(genes), n_cells)
    values = rng.poisson(2.0, size=shape) * rng.integers(0, 2, shape)
    values[0, 0] = 100 + day  # a marker to check the order of cells and samples
    text = "\n".join(_rows(genes, values)) + "\n"  # no header line
    return bz2.compress(text.encode()), values


def _write_klein(folder: Path, names=tuple(KLEIN)) -> dict[str, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in names:
        day, n = KLEIN[name]
        data, values = _klein_bytes(day, n)
        (folder / name).write_bytes(data)
        out[name] = values
    return out


def test_klein_all_days(tmp_path: Path) -> None:
    written = _write_klein(tmp_path)
    adata = datasets.read_klein_mesc(tmp_path)
    _check(adata, "GSE65525")
    assert adata.shape == (14, 6)
    assert list(adata.var_names) == KLEIN_GENES
    assert adata.obs["day"].tolist() == [0] * 4 + [2] * 3 + [4] * 2 + [7] * 5
    assert list(adata.obs["sample"].cat.categories) == [
        "GSM1599494", "GSM1599497", "GSM1599498", "GSM1599499",
    ]
    assert adata.obs_names[0] == "GSM1599494_0001"
    assert adata.obs_names[4] == "GSM1599497_0001"
    expected = np.hstack([written[n] for n in KLEIN]).T
    np.testing.assert_array_equal(adata.X.toarray(), expected)
    assert adata.X[4, 0] == 102


def test_klein_subset_days_tar_and_replicates(tmp_path: Path) -> None:
    _write_klein(
        tmp_path, names=["GSM1599494_ES_d0_main.csv.bz2", "GSM1599499_ES_d7_LIFminus.csv.bz2"]
    )
    adata = datasets.read_klein_mesc(tmp_path)
    assert sorted(set(adata.obs["day"])) == [0, 7]
    assert adata.n_obs == 9

    only7 = datasets.read_klein_mesc(tmp_path, days=[7])
    assert only7.n_obs == 5 and set(only7.obs["day"]) == {7}
    with pytest.raises(GeoFileNotFoundError, match=r"day\(s\) \[2\].*GSM1599497_ES_d2_LIFminus"):
        datasets.read_klein_mesc(tmp_path, days=[0, 2])

    # A day-0 replicate is read only on request.
    rep, _ = _klein_bytes(0, 6)
    (tmp_path / "GSM1599495_ES_d0_biorep_techrep1.csv.bz2").write_bytes(rep)
    assert datasets.read_klein_mesc(tmp_path).n_obs == 9
    with_rep = datasets.read_klein_mesc(tmp_path, replicates=True)
    assert with_rep.n_obs == 15
    assert with_rep.obs["sample"].value_counts()["GSM1599495"] == 6

    # GEO's GSE65525_RAW.tar, unextracted.
    tar_dir = tmp_path / "tar"
    tar_dir.mkdir()
    loose = _write_klein(tmp_path / "loose")
    with tarfile.open(tar_dir / "GSE65525_RAW.tar", "w") as tf:
        for name in KLEIN:
            tf.add(tmp_path / "loose" / name, arcname=name)
    from_tar = datasets.read_klein_mesc(tar_dir / "GSE65525_RAW.tar")
    assert from_tar.n_obs == 14
    np.testing.assert_array_equal(
        from_tar.X.toarray(), np.hstack([loose[n] for n in KLEIN]).T
    )
    assert "member" in from_tar.uns["dataset"]["files"]["GSM1599494_ES_d0_main.csv.bz2"]


def test_klein_errors(tmp_path: Path) -> None:
    with pytest.raises(GeoFileNotFoundError, match="does not exist"):
        datasets.read_klein_mesc(tmp_path / "missing")
    # Misnamed: the sample name without its GSM prefix is not recognised.
    data, _ = _klein_bytes(0, 3)
    (tmp_path / "ES_d0_main.csv.bz2").write_bytes(data)
    with pytest.raises(GeoFileNotFoundError) as err:
        datasets.read_klein_mesc(tmp_path)
    assert "GSM1599494_ES_d0_main.csv.bz2" in str(err.value)
    assert "acc=GSE65525" in str(err.value)

    # Files of one series share one gene list.
    other = tmp_path / "other"
    _write_klein(other, names=["GSM1599494_ES_d0_main.csv.bz2"])
    data, _ = _klein_bytes(2, 3, genes=KLEIN_GENES[::-1])
    (other / "GSM1599497_ES_d2_LIFminus.csv.bz2").write_bytes(data)
    with pytest.raises(DatasetFormatError, match="genes differ"):
        datasets.read_klein_mesc(other)

    # The same sample twice (compressed and not).
    twice = tmp_path / "twice"
    _write_klein(twice, names=["GSM1599494_ES_d0_main.csv.bz2"])
    (twice / "GSM1599494_ES_d0_main.csv").write_bytes(
        bz2.decompress((twice / "GSM1599494_ES_d0_main.csv.bz2").read_bytes())
    )
    with pytest.raises(DatasetFormatError, match="present twice"):
        datasets.read_klein_mesc(twice)

    # A header line is not part of this format: its names are not numbers.
    hdr = tmp_path / "hdr"
    hdr.mkdir()
    (hdr / "GSM1599494_ES_d0_main.csv").write_text("gene,c1,c2\nActb,1,2\n")
    with pytest.raises(DatasetFormatError, match="table of numbers"):
        datasets.read_klein_mesc(hdr)


# ---------------------------------------------------------------------------------------
# Neuroblastoma (GSM5768743-GSM5768752)


def _nb_text(
    cells, genes, values, *, sep: str = ",", trailing: bool = True, crlf: bool = True
) -> str:
    """A sample file as served: header of cell names only (trailing delimiter in the CSV),
    then gene name + counts per row."""
    end = "\r\n" if crlf else "\n"
    header = sep.join(cells) + (sep if trailing else "")
    return end.join([header, *_rows(genes, values, sep)]) + end


def _nb_sample(seed: int, n_cells: int, genes) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    cells = [f"A{seed}_1_0904_{''.join(rng.choice(list('ACGT'), 8))}" for _ in range(n_cells)]
    values = rng.poisson(0.7, size=(len(genes), n_cells))
    return cells, values


NB_GENES = ["MIR1302-2HG", "FAM138A", "PHOX2B", "MYCN", "TH", "DBH", "MT-CO1"]


def test_neuroblastoma_folder_csv_gz_txt_and_zip(tmp_path: Path) -> None:
    c43, v43 = _nb_sample(43, 3, NB_GENES)
    c48, v48 = _nb_sample(48, 4, NB_GENES)
    c52, v52 = _nb_sample(52, 5, NB_GENES)
    with gzip.open(tmp_path / "GSM5768743_NB1_UMI_COUNTS_RAW.csv.gz", "wt", newline="") as fh:
        fh.write(_nb_text(c43, NB_GENES, v43))
    # The tab-separated variant, header without trailing delimiter.
    with gzip.open(tmp_path / "GSM5768748_GNB1_UMI_COUNTS_RAW.txt.gz", "wt", newline="") as fh:
        fh.write(_nb_text(c48, NB_GENES, v48, sep="\t", trailing=False, crlf=False))
    # As in the scMASKGAN repository's Data.zip.
    with zipfile.ZipFile(tmp_path / "GSM5768752_Data.zip", "w") as zf:
        zf.writestr("Data/", "")
        zf.writestr("Data/GSM5768752_GN1_UMI_COUNTS_RAW.csv", _nb_text(c52, NB_GENES, v52))
    (tmp_path / "louvain_labels_GSM5768752.csv").write_text("0\n1\n")  # ignored
    (tmp_path / "notes.zip").write_bytes(b"not a zip")  # skipped with a warning

    adata = datasets.read_neuroblastoma(tmp_path)
    _check(adata, "GSE192906")
    assert adata.shape == (12, 7)
    assert list(adata.var_names) == NB_GENES
    assert list(adata.obs["sample"].cat.categories) == ["GSM5768743", "GSM5768748", "GSM5768752"]
    assert adata.obs["sample"].value_counts().to_dict() == {
        "GSM5768743": 3, "GSM5768748": 4, "GSM5768752": 5,
    }
    per_sample = adata.obs.groupby("sample", observed=True)
    assert per_sample["tumour_type"].first().tolist() == ["NB", "GNB", "GN"]
    assert per_sample["sample_name"].first().tolist() == ["NB1", "GNB1", "GN1"]
    assert adata.obs["high_risk"].tolist() == [True] * 3 + [False] * 9
    assert adata.obs_names[0] == f"GSM5768743_{c43[0]}"
    assert adata.obs["cell"].tolist() == c43 + c48 + c52
    np.testing.assert_array_equal(adata.X.toarray(), np.hstack([v43, v48, v52]).T)

    one = datasets.read_neuroblastoma(tmp_path, samples=["GN1"])
    assert one.n_obs == 5 and set(one.obs["tumour_type"]) == {"GN"}
    two = datasets.read_neuroblastoma(tmp_path, samples=["GSM5768743", "gnb1"])
    assert two.n_obs == 7
    single = datasets.read_neuroblastoma(tmp_path / "GSM5768743_NB1_UMI_COUNTS_RAW.csv.gz")
    np.testing.assert_array_equal(single.X.toarray(), v43.T)


def test_neuroblastoma_gene_join(tmp_path: Path) -> None:
    genes_a = ["G1", "G2", "G3", "G4"]
    genes_b = ["G3", "G5", "G1"]
    ca, va = _nb_sample(44, 2, genes_a)
    cb, vb = _nb_sample(45, 3, genes_b)
    (tmp_path / "GSM5768744_NB2_UMI_COUNTS_RAW.csv").write_text(_nb_text(ca, genes_a, va))
    (tmp_path / "GSM5768745_NB3_UMI_COUNTS_RAW.csv").write_text(_nb_text(cb, genes_b, vb))

    inner = datasets.read_neuroblastoma(tmp_path)
    assert list(inner.var_names) == ["G1", "G3"]
    x = inner.X.toarray()
    np.testing.assert_array_equal(x[:2], va[[0, 2]].T)
    np.testing.assert_array_equal(x[2:], vb[[2, 0]].T)

    outer = datasets.read_neuroblastoma(tmp_path, join="outer")
    assert list(outer.var_names) == ["G1", "G2", "G3", "G4", "G5"]
    x = outer.X.toarray()
    np.testing.assert_array_equal(x[:2, :4], va.T)
    assert np.all(x[:2, 4] == 0)
    np.testing.assert_array_equal(x[2:, [2, 4, 0]], vb.T)
    assert np.all(x[2:, [1, 3]] == 0)
    with pytest.raises(ValueError, match="join"):
        datasets.read_neuroblastoma(tmp_path, join="left")  # type: ignore[arg-type]


def test_neuroblastoma_errors(tmp_path: Path) -> None:
    with pytest.raises(GeoFileNotFoundError, match="does not exist"):
        datasets.read_neuroblastoma(tmp_path / "missing")
    cells, values = _nb_sample(46, 2, NB_GENES)
    # Misnamed: without _UMI_COUNTS_RAW.
    (tmp_path / "GSM5768746_NB4_counts.csv").write_text(_nb_text(cells, NB_GENES, values))
    with pytest.raises(GeoFileNotFoundError) as err:
        datasets.read_neuroblastoma(tmp_path)
    assert "_UMI_COUNTS_RAW.csv" in str(err.value) and "acc=GSE192906" in str(err.value)

    (tmp_path / "GSM5768746_NB4_UMI_COUNTS_RAW.csv").write_text(_nb_text(cells, NB_GENES, values))
    with pytest.raises(GeoFileNotFoundError, match="no file for sample 'GSM5768750'"):
        datasets.read_neuroblastoma(tmp_path, samples=["GSM5768750"])

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "GSM5768747_NB5_UMI_COUNTS_RAW.csv").write_text("c1,c2,c3,c4,\r\nG1,1,2\r\n")
    with pytest.raises(DatasetFormatError, match="header has 4 names"):
        datasets.read_neuroblastoma(bad)
    (bad / "GSM5768747_NB5_UMI_COUNTS_RAW.csv").write_text("c1,c2,\r\nG1,1,2\r\nG2,1\r\n")
    with pytest.raises(DatasetFormatError, match="missing value at gene 'G2'"):
        datasets.read_neuroblastoma(bad)


def test_neuroblastoma_types_follow_table_2() -> None:
    types = datasets.NEUROBLASTOMA_TYPES
    assert len(types) == 10
    assert [types[f"GSM57687{i}"] for i in range(43, 53)] == ["NB"] * 5 + ["GNB"] * 4 + ["GN"]


# ---------------------------------------------------------------------------------------
# CellBench 10x (GSE111108 / sc_mixology sc_10x)

CB_GENES = ["ENSG00000243485", "ENSG00000237613", "ENSG00000146648", "ERCC-00002"]
CB_CELLS = ["AAACCTGAGCGTGTCC", "AAACGGGTCAAGATCC", "AAAGATGAGGCATGTG", "AACTCAGTCACTATTC"]
CB_META = pd.DataFrame(
    {
        "unaligned": [10, 20, 30, 40],
        "cell_line": ["H1975", "H2228", "HCC827", "H1975"],
        "cell_line_demuxlet": ["H1975", "H2228", "HCC827", "HCC827"],
        "demuxlet_cls": ["SNG", "SNG", "SNG", "DBL"],
    },
    index=CB_CELLS,
)
CB_VALUES = np.array([[0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 7, 1], [1, 1, 0, 0]])  # genes x cells


def _write_cb_meta(path: Path, meta: pd.DataFrame = CB_META) -> None:
    """As in sc_mixology: quoted header without a name for the row-name column."""
    header = ",".join(f'"{c}"' for c in meta.columns)
    rows = [
        ",".join([f'"{name}"', *(f'"{v}"' if isinstance(v, str) else str(v) for v in row)])
        for name, row in zip(meta.index, meta.itertuples(index=False))
    ]
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join([header, *rows]) + "\n")


def _write_cb_csv(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # R write.csv(row.names=TRUE) as in sc_mixology: no corner name, quoted names.
    header = ",".join(f'"{c}"' for c in CB_CELLS)
    rows = [",".join([f'"{g}"', *map(str, r)]) for g, r in zip(CB_GENES, CB_VALUES)]
    with gzip.open(folder / "sc_10x.count.csv.gz", "wt") as fh:
        fh.write("\n".join([header, *rows]) + "\n")
    _write_cb_meta(folder / "sc_10x.metadata.csv.gz")


def test_cellbench_10x_csv(tmp_path: Path) -> None:
    _write_cb_csv(tmp_path)
    adata = datasets.read_cellbench_10x(tmp_path, symbols=False)
    _check(adata, "GSE111108")
    assert adata.shape == (4, 4)
    assert list(adata.obs_names) == CB_CELLS
    assert list(adata.var_names) == CB_GENES
    assert adata.obs["cell_line"].tolist() == ["H1975", "H2228", "HCC827", "HCC827"]
    assert adata.obs["cell_line_original"].tolist()[3] == "H1975"
    assert adata.var["ercc"].tolist() == [False, False, False, True]
    np.testing.assert_array_equal(adata.X.toarray(), CB_VALUES.T)
    assert set(adata.uns["dataset"]["files"]) == {"sc_10x.count.csv.gz", "sc_10x.metadata.csv.gz"}

    singlets = datasets.read_cellbench_10x(tmp_path / "sc_10x.count.csv.gz", symbols=False,
                                           drop_doublets=True)
    assert singlets.n_obs == 3 and "DBL" not in set(singlets.obs["demuxlet_cls"])


def _write_mtx(folder: Path, prefix: str, barcodes: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / f"{prefix}matrix.mtx.gz", "wb") as fh:
        scipy.io.mmwrite(fh, sp.coo_matrix(CB_VALUES), field="integer")
    symbols = ["MIR1302-2HG", "FAM138A", "EGFR", "ERCC-00002"]
    with gzip.open(folder / f"{prefix}genes.tsv.gz", "wt") as fh:
        fh.writelines(f"{g}\t{s}\n" for g, s in zip(CB_GENES, symbols))
    with gzip.open(folder / f"{prefix}barcodes.tsv.gz", "wt") as fh:
        fh.writelines(f"{b}\n" for b in barcodes)


def test_cellbench_10x_mtx_folder(tmp_path: Path) -> None:
    # GEO prefix, 10x barcodes with the -1 suffix, one extra barcode not in the metadata.
    barcodes = [f"{c}-1" for c in CB_CELLS]
    _write_mtx(tmp_path / "mtx", "GSM3022245_", barcodes)
    meta = tmp_path / "sc_10x.metadata.csv.gz"
    _write_cb_meta(meta, CB_META.iloc[[2, 0, 1]])
    adata = datasets.read_cellbench_10x(tmp_path / "mtx", metadata=meta)
    _check(adata, "GSE111108")
    assert list(adata.obs_names) == [CB_CELLS[i] for i in (2, 0, 1)]
    assert list(adata.var_names) == CB_GENES
    assert adata.var["symbol"].tolist()[2] == "EGFR"
    np.testing.assert_array_equal(adata.X.toarray(), CB_VALUES.T[[2, 0, 1]])
    assert adata.obs["cell_line"].tolist() == ["HCC827", "H1975", "H2228"]

    by_file = datasets.read_cellbench_10x(
        tmp_path / "mtx" / "GSM3022245_matrix.mtx.gz", metadata=meta
    )
    assert (by_file.X != adata.X).nnz == 0


def test_cellbench_10x_errors(tmp_path: Path) -> None:
    with pytest.raises(GeoFileNotFoundError, match="does not exist"):
        datasets.read_cellbench_10x(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GeoFileNotFoundError) as err:
        datasets.read_cellbench_10x(empty)
    assert "sc_10x.count.csv.gz" in str(err.value) and "sc_mixology" in str(err.value)

    _write_cb_csv(tmp_path / "csv")
    (tmp_path / "csv" / "sc_10x.metadata.csv.gz").unlink()
    with pytest.raises(GeoFileNotFoundError, match="no sc_10x.metadata.csv.gz.*metadata="):
        datasets.read_cellbench_10x(tmp_path / "csv", symbols=False)

    _write_mtx(tmp_path / "mtx", "", ["X1", "X2", "X3", "X4"])
    meta = tmp_path / "meta.csv"
    CB_META.to_csv(meta)
    with pytest.raises(DatasetFormatError, match="not barcodes of the matrix"):
        datasets.read_cellbench_10x(tmp_path / "mtx", metadata=meta)
    (tmp_path / "mtx" / "barcodes.tsv.gz").unlink()
    with pytest.raises(GeoFileNotFoundError, match="no barcodes.tsv"):
        datasets.read_cellbench_10x(tmp_path / "mtx", metadata=meta)


def test_neuroblastoma_reads_the_real_gsm5768752_zip(require_files) -> None:
    """The reader on the real file of the scMASKGAN repository agrees with the loader."""
    folder = require_files("GSM5768752_Data.zip", "louvain_labels_GSM5768752.csv")
    adata = datasets.read_neuroblastoma(folder / "GSM5768752_Data.zip")
    assert adata.shape == (551, 33514)
    assert set(adata.obs["tumour_type"]) == {"GN"} and set(adata.obs["sample_name"]) == {"GN1"}
    reference = datasets.load("gsm5768752")
    assert list(adata.obs["cell"]) == list(reference.obs_names)
    assert list(adata.var_names) == list(reference.var_names)
    assert (adata.X != reference.X).nnz == 0
