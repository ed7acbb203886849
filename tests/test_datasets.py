"""Dataset registry, fetch() and the loaders, on the real shared files."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests
import scipy.sparse as sp

from scmaskgan import datasets
from scmaskgan.datasets import _registry

REPO = Path(__file__).resolve().parent.parent
PACKAGED_CSV = Path(_registry.__file__).with_name("registry.csv")

CELLBENCH_FILES = {
    name: (f"{name}.count.csv.gz", f"{name}.metadata.csv.gz", "ensembl2symbol_human.tsv.gz")
    for name in ("sc_celseq2", "sc_dropseq", "sc_celseq2_5cl_p1")
}


def _check_counts(adata) -> None:
    assert sp.isspmatrix_csr(adata.X)
    assert adata.X.dtype == np.float32
    data = adata.X.data
    assert np.all(data >= 0)
    assert np.array_equal(data, np.round(data))
    assert adata.obs_names.is_unique and adata.var_names.is_unique
    files = adata.uns["dataset"]["files"]
    for filename, info in files.items():
        assert info["sha256"] == datasets.REGISTRY[filename].sha256
    for key in ("source", "accession", "citation"):
        assert adata.uns["dataset"][key]


def _offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every pooch HTTP download fail as it does without a network; returns tried URLs."""
    tried: list[str] = []

    def refuse(self, url, output_file, pooch_, check_only=False):
        tried.append(url)
        raise requests.exceptions.ConnectionError(f"Failed to resolve host for {url}")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", refuse)
    return tried


# ---------------------------------------------------------------------------------------
# registry and fetch


def test_registry_urls_follow_the_readme_pattern() -> None:
    entry = datasets.REGISTRY["ercc.txt"]
    assert entry.url == (
        "https://raw.githubusercontent.com/xuyungang/scIGANs/"
        "9716a86d1ab19a56863158430702fe1fd7d99a5b/test_data/ercc.txt"
    )
    darmanis = datasets.REGISTRY["darmanis_GSE67835.data.tsv.gz"]
    assert darmanis.url.endswith("/2015-Darmanis/b_prepared/data.csv.gz")
    for entry in datasets.REGISTRY.values():
        assert len(entry.sha256) == 64
        assert entry.description


def test_available_lists_the_loaders() -> None:
    assert set(datasets.available()) >= {
        "sc_celseq2", "sc_dropseq", "sc_celseq2_5cl_p1", "darmanis_brain", "ercc", "gsm5768752",
        "rnamix_celseq2", "cellmix1", "cellmix2",
    }
    with pytest.raises(datasets.UnknownDatasetError, match="available datasets"):
        datasets.load("no_such_dataset")
    with pytest.raises(datasets.UnknownDataFileError, match="not a registered"):
        datasets.fetch("no_such_file.csv")


def test_all_shared_files_match_the_registry(require_files) -> None:
    folder = require_files(*datasets.REGISTRY)
    for name in datasets.REGISTRY:
        assert datasets.fetch(name) == folder / name


def test_fetch_hash_mismatch_names_both_hashes(monkeypatch, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "ercc.label.txt").write_text("G1\nS\n")
    monkeypatch.setenv("SCMASKGAN_DATA", str(folder))
    monkeypatch.setenv("SCMASKGAN_CACHE", str(tmp_path / "cache"))
    actual = datasets.file_sha256(folder / "ercc.label.txt")
    expected = datasets.REGISTRY["ercc.label.txt"].sha256
    with pytest.raises(datasets.DataFileHashError) as info:
        datasets.fetch("ercc.label.txt")
    assert actual in str(info.value) and expected in str(info.value)


def test_fetch_offline_error_names_file_url_and_remedy(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCMASKGAN_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("SCMASKGAN_CACHE", str(tmp_path / "cache"))
    tried = _offline(monkeypatch)
    entry = datasets.REGISTRY["ercc.txt"]
    with pytest.raises(datasets.DataFileNotAvailableError) as info:
        datasets.fetch("ercc.txt")
    message = str(info.value)
    assert "ercc.txt" in message
    assert entry.url in message
    assert "SCMASKGAN_DATA" in message
    assert tried == [entry.url]
    assert isinstance(info.value, FileNotFoundError)
    # nothing half-downloaded is left in the cache
    assert not (tmp_path / "cache" / "ercc.txt").exists()


def test_fetch_derived_file_without_url(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SCMASKGAN_DATA", raising=False)
    monkeypatch.setenv("SCMASKGAN_CACHE", str(tmp_path / "cache"))
    _offline(monkeypatch)
    with pytest.raises(datasets.DataFileNotAvailableError, match="no download URL"):
        datasets.fetch("ensembl2symbol_human.tsv.gz")


def test_fetch_uses_cache_then_downloads_with_hash_check(
    monkeypatch, tmp_path: Path, require_files
) -> None:
    source = require_files("ercc.label.txt") / "ercc.label.txt"
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.delenv("SCMASKGAN_DATA", raising=False)
    monkeypatch.setenv("SCMASKGAN_CACHE", str(cache))

    # a good file in the cache is used without any download
    shutil.copy(source, cache / "ercc.label.txt")
    tried = _offline(monkeypatch)
    assert datasets.fetch("ercc.label.txt") == cache / "ercc.label.txt"
    assert tried == []

    # a corrupt cached file is downloaded again (here: "served" from the shared copy)
    (cache / "ercc.label.txt").write_text("corrupt\n")
    served: list[str] = []

    def serve(self, url, output_file, pooch_, check_only=False):
        served.append(url)
        Path(output_file).write_bytes(source.read_bytes())

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", serve)
    path = datasets.fetch("ercc.label.txt")
    assert served == [datasets.REGISTRY["ercc.label.txt"].url]
    assert datasets.file_sha256(path) == datasets.REGISTRY["ercc.label.txt"].sha256


def test_hashes_are_computed_once_per_process(require_files, monkeypatch) -> None:
    folder = require_files("ercc.txt")
    _registry._HASH_CACHE.clear()
    calls = []
    real = _registry.hashlib.sha256

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(_registry.hashlib, "sha256", counting)
    for _ in range(3):
        datasets.fetch("ercc.txt")
    assert len(calls) == 1
    assert datasets.file_sha256(folder / "ercc.txt") == datasets.REGISTRY["ercc.txt"].sha256


# ---------------------------------------------------------------------------------------
# the registry CSV (data/registry.csv -> scmaskgan/datasets/registry.csv)


def _csv_rows(path: Path = PACKAGED_CSV) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a registry CSV, read with the csv module only (not read_registry)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [dict(zip(header, fields, strict=True)) for fields in reader]
    return header, rows


def test_registry_csv_parses_with_every_column() -> None:
    header, rows = _csv_rows()
    assert header == list(_registry.REGISTRY_COLUMNS)
    assert {"filename", "url", "sha256", "size_bytes", "licence", "citation", "loader",
            "description"} <= set(header)
    assert len(rows) >= 16  # the 16 files of the shared data folder, at least
    for row in rows:
        assert set(row) == set(header)
        for column in ("filename", "sha256", "size_bytes", "loader", "licence", "citation",
                       "description"):
            assert row[column].strip(), (row["filename"], column)
        assert re.fullmatch(r"[0-9a-f]{64}", row["sha256"])
        assert int(row["size_bytes"]) > 0
        # a URL exactly when the file is pinned to a repository
        assert bool(row["url"]) == bool(row["repo"]) == bool(row["commit"]) == bool(row["path"])
    filenames = [row["filename"] for row in rows]
    assert len(set(filenames)) == len(filenames)


def test_top_level_data_registry_is_the_packaged_file() -> None:
    top = REPO / "data" / "registry.csv"
    if not top.exists() and not (REPO / ".git").exists():
        pytest.skip("not a source checkout")
    assert top.is_symlink(), "data/registry.csv must be a symbolic link to the packaged CSV"
    assert top.resolve() == PACKAGED_CSV.resolve()
    assert (REPO / "data" / "README.md").is_file()


def test_registry_entries_equal_the_csv_rows() -> None:
    _, rows = _csv_rows()
    assert list(datasets.REGISTRY) == [row["filename"] for row in rows]
    for row in rows:
        entry = datasets.REGISTRY[row["filename"]]
        assert entry.url == row["url"]
        assert (entry.repo, entry.commit, entry.path) == (row["repo"], row["commit"], row["path"])
        assert entry.sha256 == row["sha256"]
        assert entry.size_bytes == int(row["size_bytes"])
        assert entry.loader == tuple(row["loader"].split(";"))
        assert (entry.accession, entry.licence, entry.citation, entry.description) == (
            row["accession"], row["licence"], row["citation"], row["description"]
        )
    assert _registry.read_registry() == datasets.REGISTRY
    assert _registry.read_registry(PACKAGED_CSV) == datasets.REGISTRY


def test_shared_files_match_registered_sha256_and_size(require_files) -> None:
    folder = require_files(*datasets.REGISTRY)
    for name, entry in datasets.REGISTRY.items():
        path = folder / name
        assert path.stat().st_size == entry.size_bytes, name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256, name


def test_loader_column_names_existing_loaders() -> None:
    named_datasets = set()
    for entry in datasets.REGISTRY.values():
        assert entry.loader, entry.filename
        for loader in entry.loader:
            if loader.startswith("load:"):
                named_datasets.add(loader.removeprefix("load:"))
                assert loader.removeprefix("load:") in datasets.available(), loader
            else:
                assert loader in datasets.__all__, loader
                assert callable(getattr(datasets, loader)), loader
    # every dataset of load() reads at least one registered file
    assert named_datasets == set(datasets.available())


def test_loader_column_lists_exactly_the_files_each_dataset_reads(require_files) -> None:
    require_files(*datasets.REGISTRY)
    for name in datasets.available():
        registered = {
            filename for filename, entry in datasets.REGISTRY.items()
            if f"load:{name}" in entry.loader
        }
        read = set(datasets.load(name).uns["dataset"]["files"])
        assert read == registered, name


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _set(column: str, value: str, row: int = 2) -> Callable:
    def edit(header: list[str], rows: list[list[str]]):
        rows[row][header.index(column)] = value
        return header, rows

    return edit


def _drop_column(column: str) -> Callable:
    def edit(header: list[str], rows: list[list[str]]):
        i = header.index(column)
        return header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows]

    return edit


def _extra_field(header: list[str], rows: list[list[str]]):
    rows[2] = [*rows[2], "surplus"]
    return header, rows


def _duplicate(header: list[str], rows: list[list[str]]):
    return header, [*rows, list(rows[2])]


def _unknown_column(header: list[str], rows: list[list[str]]):
    return [*header, "mirror"], [[*r, ""] for r in rows]


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (_set("sha256", "a50b004f"), 4, "sha256 'a50b004f' is not 64 lower-case hex"),
        (_set("sha256", "A" * 64), 4, "is not 64 lower-case hex digits"),
        (_set("size_bytes", "4 kB"), 4, "size_bytes '4 kB' is not a positive integer"),
        (_set("url", "https://example.org/ERCC.tsv"), 4, "differs from the URL built"),
        (_set("commit", "088d025"), 4, "not a full 40-hex commit"),
        (_set("citation", ""), 4, "empty citation"),
        (_set("loader", "load:ercc;read ercc"), 4, "loader entries ['read ercc']"),
        (_set("filename", "../ERCC.tsv"), 4, "is not a plain file name"),
        (_extra_field, 4, "13 fields, but the header has 12 columns"),
        (_duplicate, None, "duplicate filename 'ERCC.tsv' (first on line 4)"),  # line: after the last row
        (_drop_column("licence"), 1, "missing: ['licence']"),
        (_unknown_column, 1, "unknown: ['mirror']"),
    ],
)
def test_malformed_registry_csv_raises_a_clear_error(
    tmp_path: Path, edit: Callable, line: int | None, message: str
) -> None:
    with open(PACKAGED_CSV, newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    line = len(rows) + 2 if line is None else line
    assert rows[2][0] == "ERCC.tsv"  # the row the edits change is on line 4
    path = _write_csv(tmp_path / "registry.csv", *edit(header, rows))
    with pytest.raises(_registry.RegistryFormatError) as info:
        _registry.read_registry(path)
    assert f"{path}, line {line}" in str(info.value)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_registry_csv_copy_reads_back_and_empty_ones_are_refused(tmp_path: Path) -> None:
    with open(PACKAGED_CSV, newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    # the same rows rewritten (CRLF line ends, as a spreadsheet saves them) read back equal
    crlf = tmp_path / "crlf.csv"
    with open(crlf, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    assert _registry.read_registry(crlf) == datasets.REGISTRY
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(_registry.RegistryFormatError, match="is empty"):
        _registry.read_registry(empty)
    with pytest.raises(_registry.RegistryFormatError, match="has a header but no rows"):
        _registry.read_registry(_write_csv(tmp_path / "header.csv", header, []))


# ---------------------------------------------------------------------------------------
# loaders


def test_sc_celseq2(require_files) -> None:
    require_files(*CELLBENCH_FILES["sc_celseq2"])
    adata = datasets.load("sc_celseq2")
    assert adata.shape == (274, 28_204)
    _check_counts(adata)
    assert adata.obs["cell_line"].value_counts().to_dict() == {"H1975": 112, "H2228": 81, "HCC827": 81}
    assert (adata.obs["cell_line"].astype(str) == adata.obs["cell_line_demuxlet"].astype(str)).all()
    # metadata kept, the upstream non-demuxlet annotation renamed
    assert {"demuxlet_cls", "total_count_per_cell", "cell_line_original"} <= set(adata.obs.columns)
    assert adata.var["ercc"].sum() == 62
    assert adata.var_names[adata.var["ercc"]].str.startswith("ERCC-").all()
    assert adata.var_names.str.startswith(("ENSG", "ERCC-")).all()
    assert adata.var.loc["ENSG00000281131", "symbol"] == "SCHLAP1"
    # ids without a symbol keep their id
    assert (adata.var.loc[adata.var["ercc"], "symbol"] == adata.var_names[adata.var["ercc"]]).all()
    zeros = 1 - adata.X.nnz / np.prod(adata.shape)
    assert 0.70 < zeros < 0.80
    # library sizes agree with the metadata's own column (orientation check)
    totals = np.asarray(adata[:, ~adata.var["ercc"].to_numpy()].X.sum(axis=1)).ravel()
    assert np.corrcoef(totals, adata.obs["total_count_per_cell"])[0, 1] > 0.99


@pytest.mark.parametrize("name, prefix, shape", [("rnamix_celseq2", "RNAmix_celseq2", (340, 14_804)),
                                                  ("cellmix1", "cellmix1", (266, 11_798)),
                                                  ("cellmix2", "cellmix2", (268, 13_747))])
def test_cellbench_mixtures(require_files, name, prefix, shape) -> None:
    require_files(f"{prefix}.count.csv.gz", f"{prefix}.metadata.csv.gz", "ensembl2symbol_human.tsv.gz")
    adata = datasets.load(name)
    assert adata.shape == shape
    _check_counts(adata)
    shares = adata.obs[["H2228_share", "H1975_share", "HCC827_share"]].to_numpy()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=0.011)
    # every pure line is there
    assert all((shares[:, j] == 1).sum() >= 9 for j in range(3))
    if name == "rnamix_celseq2":
        np.testing.assert_array_equal(shares[:, 0], adata.obs["H2228_prop"].to_numpy())
        assert sorted(adata.obs["mRNA_amount"].unique()) == [3.75, 7.5, 15.0, 30.0]
    else:
        assert adata.obs["traj"].dtype == bool and adata.obs["poor_quality"].dtype == bool
        cells = adata.obs[["H2228", "H1975", "HCC827"]].to_numpy()
        np.testing.assert_allclose(shares, cells / cells.sum(axis=1, keepdims=True))
        assert (cells.sum(axis=1) == 9).mean() > 0.95  # nine cells per well, with a few exceptions
        assert adata.obs["traj"].sum() >= 150
    # library sizes agree with the metadata's own column (orientation check)
    totals = np.asarray(adata[:, ~adata.var["ercc"].to_numpy()].X.sum(axis=1)).ravel()
    assert np.corrcoef(totals, adata.obs["total_count_per_cell"])[0, 1] > 0.99


def test_sc_dropseq(require_files) -> None:
    require_files(*CELLBENCH_FILES["sc_dropseq"])
    adata = datasets.load("sc_dropseq")
    assert adata.shape == (225, 15_127)
    _check_counts(adata)
    assert adata.obs["cell_line"].value_counts().to_dict() == {"H1975": 86, "HCC827": 70, "H2228": 69}
    assert adata.var["ercc"].sum() == 0
    assert "symbol" in adata.var


def test_sc_celseq2_5cl_p1(require_files) -> None:
    require_files(*CELLBENCH_FILES["sc_celseq2_5cl_p1"])
    adata = datasets.load("sc_celseq2_5cl_p1")
    assert adata.shape == (297, 15_564)
    _check_counts(adata)
    assert set(adata.obs["cell_line"].cat.categories) == {"A549", "H838", "H1975", "H2228", "HCC827"}
    singlets = datasets.load("sc_celseq2_5cl_p1", drop_doublets=True, symbols=False)
    assert singlets.n_obs == (adata.obs["demuxlet_cls"] == "SNG").sum() == 156
    assert "symbol" not in singlets.var


def test_cellbench_symbols_file_missing_hint(monkeypatch, tmp_path: Path, require_files) -> None:
    folder = require_files(*CELLBENCH_FILES["sc_dropseq"])
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in CELLBENCH_FILES["sc_dropseq"][:2]:
        (partial / name).symlink_to(folder / name)
    monkeypatch.setenv("SCMASKGAN_DATA", str(partial))
    _offline(monkeypatch)
    with pytest.raises(datasets.DataFileNotAvailableError, match="symbols=False"):
        datasets.load("sc_dropseq")
    assert datasets.load("sc_dropseq", symbols=False).shape == (225, 15_127)


def test_darmanis_brain(require_files) -> None:
    require_files("darmanis_GSE67835.data.tsv.gz", "darmanis_GSE67835.meta.csv.gz")
    adata = datasets.load("darmanis_brain")
    assert adata.shape == (420, 22_085)
    _check_counts(adata)
    assert adata.obs["cell_type"].value_counts().to_dict() == {
        "neurons": 131, "fetal_quiescent": 110, "astrocytes": 62, "oligodendrocytes": 38,
        "fetal_replicating": 25, "endothelial": 20, "OPC": 18, "microglia": 16,
    }
    assert "hybrid" not in adata.obs["cell_type"].cat.categories
    for counter in ("no_feature", "ambiguous", "alignment_not_unique"):
        assert counter not in adata.var_names
        assert f"htseq_{counter}" in adata.obs
    assert adata.obs_names.str.startswith("GSM").all()
    zeros = 1 - adata.X.nnz / np.prod(adata.shape)
    assert 0.75 < zeros < 0.87
    full = datasets.load("darmanis_brain", include_hybrid=True)
    assert full.shape == (466, 22_085)
    assert (full.obs["cell_type"] == "hybrid").sum() == 46


def test_ercc(require_files) -> None:
    require_files("ercc.txt", "ERCC.tsv")
    adata = datasets.load("ercc")
    assert adata.shape == (288, 92)
    _check_counts(adata)
    assert adata.obs["phase"].value_counts().to_dict() == {"G1": 96, "S": 96, "G2M": 96}
    prefix = adata.obs_names.str.split("_").str[0]
    assert (prefix == adata.obs["phase"].astype(str)).all()
    # the columns are G1, S, G2M in blocks, unlike ercc.label.txt (G1, G2M, S)
    assert list(adata.obs["phase"].iloc[[0, 96, 192]]) == ["G1", "S", "G2M"]
    assert adata.var.loc["ERCC-00130", "concentration_mix1"] == 30_000
    assert adata.var["concentration_mix1"].notna().all()
    # the known concentrations are a real ground truth: mean counts follow them
    mean = np.asarray(adata.X.mean(axis=0)).ravel()
    expressed = mean > 0
    rho = np.corrcoef(
        np.argsort(np.argsort(mean[expressed])),
        np.argsort(np.argsort(adata.var["concentration_mix1"].to_numpy()[expressed])),
    )[0, 1]
    assert rho > 0.8


def test_gsm5768752(require_files, tmp_path) -> None:
    require_files("GSM5768752_Data.zip", "louvain_labels_GSM5768752.csv")
    adata = datasets.load("gsm5768752")
    adata.write_h5ad(tmp_path / "gsm.h5ad")  # index names from the file's header must not break h5ad
    assert adata.shape == (551, 33_514)
    _check_counts(adata)
    assert adata.obs_names[0] == "A1_1_0904_AACGAGGT"
    assert adata.obs_names[-1] == "F2_2_0904_TTCCGTTC"
    assert adata.var_names[0] == "MIR1302-2HG"
    louvain = adata.obs["louvain"]
    assert list(louvain.cat.categories) == [str(i) for i in range(10)]
    assert louvain.value_counts().to_dict() == {
        "0": 81, "1": 72, "2": 65, "3": 62, "4": 60, "5": 51, "6": 50, "7": 49, "8": 37, "9": 24,
    }
    zeros = 1 - adata.X.nnz / np.prod(adata.shape)
    assert 0.95 < zeros < 0.98
