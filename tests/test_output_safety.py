"""Outputs and re-runs: every layer reaches a table output, and nothing already in the data is replaced
unless asked (and then only what belongs to the run replaced), all decided before any training."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scmaskgan import cli, pp
from scmaskgan._validation import InputError
from scmaskgan.model import SCMaskGAN

FAST = ["--epochs", "2", "--seed", "0", "--device", "cpu"]
PY_FAST = dict(device="cpu", max_epochs=2, progress=False)
COUNT_LAYERS = ("scmaskgan", "scmaskgan_if_detected", "scmaskgan_p_detected")


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any training from now on fails the test: what is checked must be checked before it."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(SCMaskGAN, "train", refuse)


def _h5ad(adata: ad.AnnData, path: Path) -> Path:
    adata.write_h5ad(path)
    return path


def _table(path: Path) -> np.ndarray:
    return pd.read_csv(path, index_col=0, sep="\t" if ".tsv" in path.name.lower() else ",").to_numpy()


# ---------------------------------------------------------------------------------------
# a table output holds every layer the method writes, one file each


@pytest.mark.parametrize("name, others", [("out.csv", ("out_if_detected.csv", "out_p_detected.csv")),
                                          ("res.TSV.gz", ("res_if_detected.TSV.gz", "res_p_detected.TSV.gz"))])
def test_table_output_writes_every_layer(tiny_counts, tmp_path: Path, caplog, name: str, others: tuple) -> None:
    source = _h5ad(tiny_counts, tmp_path / "in.h5ad")
    with caplog.at_level("INFO", logger="scmaskgan"):
        assert cli.main(["impute", str(source), "-o", str(tmp_path / name), "--labels-key", "cell_type", *FAST]) == 0
    mean, if_detected, p_detected = (_table(tmp_path / n) for n in (name, *others))
    x = np.asarray(tiny_counts.X)
    assert mean.shape == if_detected.shape == p_detected.shape == x.shape
    np.testing.assert_array_equal(p_detected[x > 0], 1.0)
    assert ((p_detected >= 0) & (p_detected <= 1)).all() and (p_detected[x == 0] < 1).any()
    assert (if_detected[x == 0] >= mean[x == 0]).all()
    for written in (name, *others):
        assert str(tmp_path / written) in caplog.text  # the command says which files it wrote


def test_neighbours_table_output_is_one_file(tiny_counts, tmp_path: Path) -> None:
    source = _h5ad(tiny_counts, tmp_path / "in.h5ad")
    assert cli.main(["impute", str(source), "-o", str(tmp_path / "out.csv"), "--labels-key", "cell_type",
                     "--mode", "neighbours", "--device", "cpu", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.h5ad", "out.csv"]


def test_existing_companion_file_refused_before_training(tiny_counts, tmp_path: Path, capsys, no_training) -> None:
    source = _h5ad(tiny_counts, tmp_path / "in.h5ad")
    (tmp_path / "out_p_detected.csv").write_text("keep")
    status = cli.main(["impute", str(source), "-o", str(tmp_path / "out.csv"), "--labels-key", "cell_type", *FAST])
    err = capsys.readouterr().err
    assert status == 2, err
    assert f"output {tmp_path / 'out_p_detected.csv'} exists" in err and "--force" in err
    assert (tmp_path / "out_p_detected.csv").read_text() == "keep"
    assert not (tmp_path / "out.csv").exists()


def test_python_table_output_writes_every_layer(tiny_counts, tmp_path: Path) -> None:
    adata = tiny_counts.copy()
    (tmp_path / "x_if_detected.csv").write_text("keep")
    with pytest.raises(FileExistsError, match="x_if_detected.csv exists"):
        pp.impute(adata, labels_key="cell_type", out_file=tmp_path / "x.csv", **PY_FAST)
    assert "scmaskgan" not in adata.uns  # refused before training
    pp.impute(adata, labels_key="cell_type", out_file=tmp_path / "x.csv", overwrite=True, **PY_FAST)
    p_detected = _table(tmp_path / "x_p_detected.csv")
    np.testing.assert_array_equal(p_detected[np.asarray(adata.X) > 0], 1.0)
    assert adata.uns["scmaskgan"]["out_files"] == {name: str(tmp_path / f"x{name[9:]}.csv") for name in COUNT_LAYERS}


# ---------------------------------------------------------------------------------------
# re-running on an earlier output


def test_rerun_on_earlier_output(tiny_counts, tmp_path: Path, capsys, monkeypatch) -> None:
    source = _h5ad(tiny_counts, tmp_path / "in.h5ad")
    first = tmp_path / "first.h5ad"
    assert cli.main(["impute", str(source), "-o", str(first), "--labels-key", "cell_type", *FAST, "--quiet"]) == 0
    trained = SCMaskGAN.train

    def refuse(self, *args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(SCMaskGAN, "train", refuse)
    second = tmp_path / "second.h5ad"
    status = cli.main(["impute", str(first), "-o", str(second), "--labels-key", "cell_type", *FAST, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("scmaskgan: error: ")
    assert "'scmaskgan', 'scmaskgan_if_detected', 'scmaskgan_p_detected'" in err
    assert "--key-added NAME" in err and "--force" in err
    assert not second.exists()

    monkeypatch.setattr(SCMaskGAN, "train", trained)
    assert cli.main(["impute", str(first), "-o", str(second), "--labels-key", "cell_type", "--key-added", "again",
                     *FAST, "--quiet"]) == 0
    both = ad.read_h5ad(second)
    assert {*COUNT_LAYERS, "again", "again_if_detected", "again_p_detected"} <= set(both.layers)
    assert set(both.uns["again"]["layers"]) == {"again", "again_if_detected", "again_p_detected"}
    np.testing.assert_array_equal(both.layers["scmaskgan"], ad.read_h5ad(first).layers["scmaskgan"])

    third = tmp_path / "third.h5ad"
    assert cli.main(["impute", str(first), "-o", str(third), "--labels-key", "cell_type", "--mode", "neighbours",
                     "--device", "cpu", "--quiet", "--force"]) == 0
    replaced = ad.read_h5ad(third)
    assert [name for name in replaced.layers if name.startswith("scmaskgan")] == ["scmaskgan"]
    assert replaced.uns["scmaskgan"]["params"]["mode"] == "neighbours"


def test_rerun_on_earlier_output_in_python(tiny_counts, no_training) -> None:
    adata = tiny_counts.copy()
    for name in COUNT_LAYERS:
        adata.layers[name] = np.asarray(adata.X).copy()
    with pytest.raises(InputError, match=r"would replace the existing 'scmaskgan', 'scmaskgan_if_detected', "
                                         r"'scmaskgan_p_detected' of adata.layers.*overwrite=True"):
        pp.impute(adata, labels_key="cell_type", out_file=None, **PY_FAST)


def test_a_run_recorded_only_in_uns_is_not_replaced_silently(tiny_counts, tmp_path: Path, monkeypatch) -> None:
    adata = tiny_counts.copy()
    pp.impute(adata, labels_key="cell_type", out_file=tmp_path / "first.h5ad", **PY_FAST)  # layers went to the file
    assert "scmaskgan" in adata.uns and "scmaskgan" not in adata.layers
    first = dict(adata.uns["scmaskgan"])

    def refuse(self, *args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(SCMaskGAN, "train", refuse)
    with pytest.raises(InputError, match=r"would replace the existing adata.uns\['scmaskgan'\].*overwrite=True"):
        pp.impute(adata, labels_key="cell_type", **PY_FAST)
    assert adata.uns["scmaskgan"]["out_file"] == first["out_file"]


# ---------------------------------------------------------------------------------------
# the labels column


def test_count_model_without_labels_writes_no_labels_column(tiny_counts, caplog) -> None:
    adata = tiny_counts.copy()
    adata.obs["scmaskgan_labels"] = "mine"
    pp.impute(adata, **PY_FAST)
    assert (adata.obs["scmaskgan_labels"] == "mine").all()
    assert adata.uns["scmaskgan"]["labels"]["method"] == "none"
    assert adata.uns["scmaskgan"]["labels"]["used"] is False
    fresh = tiny_counts.copy()
    pp.impute(fresh, **PY_FAST)
    assert "scmaskgan_labels" not in fresh.obs


def test_clusters_do_not_replace_a_column_without_overwrite(tiny_counts) -> None:
    adata = tiny_counts.copy()
    adata.obs["scmaskgan_labels"] = "mine"
    with pytest.raises(InputError, match=r"would replace the existing column adata.obs\['scmaskgan_labels'\].*"
                                         r"overwrite=True"):
        pp.impute(adata, mode="neighbours", device="cpu")
    assert (adata.obs["scmaskgan_labels"] == "mine").all() and "scmaskgan" not in adata.layers
    pp.impute(adata, mode="neighbours", device="cpu", overwrite=True)
    assert adata.uns["scmaskgan"]["labels"]["used"] is True
    assert adata.obs["scmaskgan_labels"].nunique() > 1  # the clusters


# ---------------------------------------------------------------------------------------
# one run per key: a key whose layers belong to another run is refused; stale layers go


def test_key_ending_like_another_runs_layer_is_refused(tiny_counts, no_training) -> None:
    adata = tiny_counts.copy()
    for name in COUNT_LAYERS:
        adata.layers[name] = np.asarray(adata.X).copy()
    adata.uns["scmaskgan"] = {"version": "0", "params": {"mode": "count"},
                              "layers": {name: "what it holds" for name in COUNT_LAYERS}}
    with pytest.raises(InputError, match=r"layers\['scmaskgan_if_detected'\], which belongs to the run recorded in "
                                         r"uns\['scmaskgan'\]"):
        pp.impute(adata, labels_key="cell_type", key_added="scmaskgan_if_detected", overwrite=True, **PY_FAST)
    # the other way round: a run whose key is another run's layer name
    other = tiny_counts.copy()
    other.layers["x_p_detected"] = np.asarray(other.X).copy()
    other.uns["x_p_detected"] = {"version": "0", "params": {"mode": "neighbours"}}
    with pytest.raises(InputError, match=r"layers\['x_p_detected'\], which belongs to the run recorded in "
                                         r"uns\['x_p_detected'\]"):
        pp.impute(other, labels_key="cell_type", key_added="x", overwrite=True, **PY_FAST)


def test_overwrite_with_fewer_layers_removes_the_stale_ones(tiny_counts, caplog) -> None:
    adata = tiny_counts.copy()
    pp.impute(adata, labels_key="cell_type", n_draws=2, **PY_FAST)
    assert {*COUNT_LAYERS} <= set(adata.layers) and "scmaskgan_draws" in adata.obsm
    with caplog.at_level("INFO", logger="scmaskgan"):
        pp.impute(adata, labels_key="cell_type", mode="neighbours", device="cpu", overwrite=True)
    assert [name for name in adata.layers if name.startswith("scmaskgan")] == ["scmaskgan"]
    assert "scmaskgan_draws" not in adata.obsm
    assert adata.uns["scmaskgan"]["params"]["mode"] == "neighbours"
    assert "removed 'scmaskgan_if_detected', 'scmaskgan_p_detected' and obsm['scmaskgan_draws']" in caplog.text


# ---------------------------------------------------------------------------------------
# backed AnnData


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("how", ["copy", "in-place", "out_file"])
def test_backed_input(tiny_counts, tmp_path: Path, sparse: bool, how: str) -> None:
    adata = tiny_counts.copy()
    if sparse:
        adata.X = sp.csr_matrix(adata.X)
    path = _h5ad(adata, tmp_path / "in.h5ad")
    backed = ad.read_h5ad(path, backed="r")
    out_file = tmp_path / "out.h5ad" if how == "out_file" else None
    result = pp.impute(backed, labels_key="cell_type", copy=how == "copy", out_file=out_file, **PY_FAST)
    imputed = ad.read_h5ad(out_file) if out_file else result if how == "copy" else backed
    if how == "copy":
        assert not result.isbacked and "scmaskgan" not in backed.layers
    assert backed.isbacked and Path(backed.filename) == path and backed.X[:2].shape == (2, 50)  # the file as it was
    x = np.asarray(tiny_counts.X)
    for name in COUNT_LAYERS:
        layer = np.asarray(imputed.layers[name])
        assert layer.shape == x.shape and np.isfinite(layer).all()
    np.testing.assert_array_equal(imputed.layers["scmaskgan"][x > 0], x[x > 0])
    assert (imputed.layers["scmaskgan"][x == 0] > 0).any()


def test_overwrite_removes_the_earlier_runs_clusters(tiny_counts, caplog) -> None:
    adata = tiny_counts.copy()
    pp.impute(adata, mode="neighbours", device="cpu")  # no labels: clusters in obs
    assert "scmaskgan_labels" in adata.obs
    with caplog.at_level("INFO", logger="scmaskgan"):
        pp.impute(adata, overwrite=True, **PY_FAST)  # the count model uses no labels: no column
    assert "scmaskgan_labels" not in adata.obs and adata.uns["scmaskgan"]["labels"]["used"] is False
    assert "removed obs['scmaskgan_labels'] of the earlier run" in caplog.text
