"""Dataset registry, fetch() and the loaders, on the real shared files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pooch
import pytest
import requests
import scipy.sparse as sp

from scmaskgan import datasets
from scmaskgan.datasets import _registry

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
