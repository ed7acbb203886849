"""scmaskgan.analysis: the helpers shared by the book's analysis notebooks, on hand-checked cases."""

from __future__ import annotations

import json
import subprocess
import sys

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scmaskgan import analysis as A
from scmaskgan._validation import InputError


def test_import_is_light_and_lazy():
    code = ("import sys, scmaskgan; m = scmaskgan.analysis; "
            "print(sorted(x for x in ('pandas', 'anndata', 'torch', 'scanpy', 'sklearn') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_data_helpers_are_those_of_their_modules():
    from scmaskgan import matrices, sampling

    for module, names in ((matrices, ["dense", "lognorm"]), (sampling, ["subsample_cells"])):
        for name in names:
            assert name in A.__all__ and getattr(A, name) is getattr(module, name)


def test_choose_genes():
    # 4 cells x 4 genes: g0 in 4 cells, g1 in 3, g2 in 1 (rare), g3 in 4 but constant
    X = np.array([[1, 0, 0, 2], [5, 1, 0, 2], [1, 4, 0, 2], [9, 2, 7, 2]], dtype=np.float32)
    adata = ad.AnnData(sp.csr_matrix(X), var=pd.DataFrame(index=["g0", "g1", "g2", "g3"]))
    lib, idx, kept, missing, rare = A.choose_genes(adata, 1, ["g3", "g2", "gX"])
    np.testing.assert_array_equal(lib, X.sum(1))
    assert lib.dtype == np.float64
    assert kept == ["g3"] and missing == ["gX"] and rare == ["g2"]
    # the most variable gene of g0, g1, g3 (g2 is in < 3 cells) plus g3
    from scmaskgan.evaluation import benchmark_genes

    top = benchmark_genes(X.astype(np.float64), n_top=1)[1]
    np.testing.assert_array_equal(idx, np.union1d(top, [3]))
    assert idx.dtype.kind == "i"
    _, idx0, kept0, missing0, rare0 = A.choose_genes(adata, 10, [])
    np.testing.assert_array_equal(idx0, [0, 1, 3])
    assert kept0 == missing0 == rare0 == []
    with pytest.raises(InputError):
        A.choose_genes(adata, 0, [])
    with pytest.raises(InputError, match="list of gene names"):
        A.choose_genes(adata, 2, "g0")


def test_run_baselines(capsys):
    rng = np.random.default_rng(0)
    counts = rng.poisson(2.0, size=(20, 6)).astype(np.float32)
    results, seconds = A.run_baselines(counts, ["none"], seed=0)
    assert set(results) == set(seconds) == {"none"}
    assert results["none"].dtype == np.float64 and results["none"].shape == counts.shape
    assert seconds["none"] >= 0
    assert "none:" in capsys.readouterr().out
    with pytest.raises(InputError, match="list of baseline names"):
        A.run_baselines(counts, "none")


def test_jsonable_strict_json():
    value = {
        1: np.float32(0.5),
        "i": np.int64(3),
        "b": np.bool_(True),
        "nan": float("nan"),
        "npnan": np.float64(np.nan),
        "inf": -np.inf,
        "arr": np.array([[1.0, np.nan], [np.inf, 2.0]]),
        "tuple": (np.int32(1), "x"),
        "other": object,
    }
    out = A.jsonable(value)
    text = json.dumps(out, allow_nan=False)  # strict JSON: raises on NaN/inf
    back = json.loads(text)
    assert back == {
        "1": 0.5, "i": 3, "b": True, "nan": None, "npnan": None, "inf": None,
        "arr": [[1.0, None], [None, 2.0]], "tuple": [1, "x"], "other": repr(object),
    }
    assert type(out["i"]) is int and type(out["1"]) is float
    assert A.jsonable("text") == "text" and A.jsonable(None) is None


# --- the notebooks' plumbing (scmaskgan.notebook, importable from scmaskgan.analysis) ---------------


def test_notebook_settings_presets():
    s = A.notebook_settings(quick=True, smoke=True, mode="paper")  # smoke wins over quick
    assert (s.preset, s.epochs, s.n_genes, s.max_cells) == ("smoke", 2, 200, 150)
    assert s.impute_kwargs == {"n_trials": 5, "n_candidates": 128}
    s.impute_kwargs["n_trials"] = 99  # a copy: the module's defaults stay
    assert A.SMOKE_IMPUTE_KWARGS["paper"]["n_trials"] == 5
    q = A.notebook_settings(quick=True, smoke=False)  # the count model trains to its own default
    assert (q.preset, q.mode, q.epochs, q.n_genes, q.max_cells, q.impute_kwargs) == ("quick", "count", None, 1000,
                                                                                         None, {})
    assert A.notebook_settings(quick=True, smoke=False, mode="paper").epochs == 8
    assert A.notebook_settings(quick=True, smoke=True).epochs == 2  # smoke: the count model too
    assert A.notebook_settings(quick=True, smoke=True, mode="neighbours").epochs is None  # nothing to train
    f = A.notebook_settings(quick=False, smoke=False)
    assert (f.preset, f.epochs, f.n_genes, f.max_cells) == ("full", None, 2000, None)


def test_notebook_settings_overrides_and_defaults():
    s = A.notebook_settings(True, False, max_epochs=3, n_genes=50, max_cells=10)
    assert (s.epochs, s.n_genes, s.max_cells) == (3, 50, 10)
    per_notebook = {"quick": {"n_genes": 2000}, "full": {"n_genes": 3000, "max_cells": 900}}
    assert A.notebook_settings(True, False, defaults=per_notebook).n_genes == 2000
    full = A.notebook_settings(False, False, defaults=per_notebook)
    assert (full.n_genes, full.max_cells) == (3000, 900)
    assert A.notebook_settings(False, True, defaults=per_notebook).n_genes == 200  # smoke not changed
    assert A.notebook_settings(False, False, n_genes=7, defaults=per_notebook).n_genes == 7  # the parameter wins
    with pytest.raises(InputError, match="unknown preset"):
        A.notebook_settings(True, False, defaults={"fast": {"n_genes": 1}})
    with pytest.raises(InputError, match="unknown size"):
        A.notebook_settings(True, False, defaults={"quick": {"genes": 1}})
    with pytest.raises(InputError):
        A.notebook_settings("yes", False)
    with pytest.raises(InputError):
        A.notebook_settings(True, False, max_epochs=0)


def test_notebook_settings_describe():
    import scmaskgan

    s = A.notebook_settings(quick=True, smoke=False, mode="neighbours")
    assert s.epochs_note == "no training"
    line = s.describe(dataset="darmanis_brain", labels_key="cell_type", seed=0, output_dir="out",
                      genes_note=" + the cell-cycle genes")
    assert line == (f"scmaskgan {scmaskgan.__version__}; data set 'darmanis_brain', labels 'cell_type'; preset quick, "
                    "mode 'neighbours': no training, seed=0, 1000 most variable genes + the cell-cycle genes, "
                    "all cells; outputs in out/")
    smoke = A.notebook_settings(quick=True, smoke=True, mode="paper")
    assert smoke.epochs_note == "GAN, max_epochs=2"
    assert A.notebook_settings(quick=True, smoke=True, mode="count").epochs_note == "count model, max_epochs=2"
    assert A.notebook_settings(quick=False, smoke=False, mode="count").epochs_note == "count model, max_epochs=model default"
    assert smoke.describe(dataset="x.h5ad", labels_key=None, seed=3, output_dir="o").endswith(
        "labels None; preset smoke, mode 'paper': GAN, max_epochs=2, seed=3, 200 most variable genes, "
        "at most 150 cells; outputs in o/")
    assert A.notebook_settings(False, False, mode="paper").epochs_note == "GAN, max_epochs=model default"


def _labelled_counts() -> ad.AnnData:
    rng = np.random.default_rng(7)
    labels = np.repeat(["a", "b"], 15)
    base = np.where(labels[:, None] == "a", 4.0, 1.0) * rng.gamma(1.0, 1.0, size=(1, 12))
    counts = rng.poisson(base).astype(np.float32)
    counts[0, :] = np.arange(12)  # one cell with a known zero (gene 0)
    return ad.AnnData(sp.csr_matrix(counts), obs=pd.DataFrame({"label": labels}, index=[f"c{i}" for i in range(30)]),
                      var=pd.DataFrame(index=[f"g{j}" for j in range(12)]))


def test_impute_and_report(capsys):
    adata = _labelled_counts()
    before = adata.X.toarray().copy()
    lib = before.sum(1).astype(np.float64) * 2  # as if the genes were half of the library
    res = A.impute_and_report(adata, [0, 2, 3, 5], labels_key="label", mode="neighbours", seed=0, lib=lib)
    np.testing.assert_array_equal(adata.X.toarray(), before)  # the input is not changed
    assert "scmaskgan" not in adata.layers
    assert res.adata.n_vars == 4 and list(res.gene_names) == ["g0", "g2", "g3", "g5"]
    np.testing.assert_array_equal(res.X, before[:, [0, 2, 3, 5]])
    assert res.X.dtype == res.imputed.dtype == np.float64
    np.testing.assert_allclose(res.imputed[res.observed], res.X[res.observed], rtol=1e-5)
    np.testing.assert_allclose(res.log_orig, np.log1p(res.X / lib[:, None] * 1e4))
    np.testing.assert_allclose(res.log_imp, np.log1p(res.imputed / lib[:, None] * 1e4))
    assert res.run["trained"] is False and res.epochs_trained == 0 and res.wall_s > 0
    out = capsys.readouterr().out.splitlines()
    zeros = np.mean(res.X == 0)
    filled = np.mean(res.imputed[res.X == 0] > 0)
    assert any(line.startswith("imputation of 30 cells x 4 genes (mode 'neighbours') took ")
               and line.endswith("s; no training (zeros filled from similar real cells)") for line in out)
    assert "observed values unchanged: True" in out
    assert f"zeros in the input: {zeros:.1%}; of them filled: {filled:.1%}" in out
    # all genes, and each matrix's own library sizes
    whole = A.impute_and_report(adata, labels_key="label", seed=0, mode="neighbours")
    assert whole.adata.shape == adata.shape
    np.testing.assert_allclose(whole.log_orig, A.lognorm(before))


def test_run_metrics_and_save_metrics(tmp_path, capsys):
    import scmaskgan

    res = A.impute_and_report(_labelled_counts(), [1, 4], labels_key="label", seed=0, mode="neighbours")
    settings = A.notebook_settings(True, True, mode="neighbours")
    m = A.run_metrics(settings, res, seed=5)
    assert m == {"preset": "smoke", "mode": "neighbours", "max_epochs": None, "trained": False, "epochs_trained": 0,
                 "seed": 5, "n_cells": 30, "n_genes_imputed": 2, "impute_wall_s": res.wall_s,
                 "scmaskgan_version": scmaskgan.__version__, "params": res.run.get("params", {})}
    data = A.save_metrics({**m, "score": float("nan"), "arr": np.array([1, 2])}, tmp_path)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written == data and written["score"] is None and written["arr"] == [1, 2]
    assert f"wrote {tmp_path / 'metrics.json'}" in capsys.readouterr().out
    A.save_metrics({"a": 1}, tmp_path, name="other.json")
    assert json.loads((tmp_path / "other.json").read_text()) == {"a": 1}


def test_notebook_plumbing_is_the_same_from_both_modules():
    from scmaskgan import notebook

    for name in notebook.__all__:
        assert getattr(A, name) is getattr(notebook, name)


def test_imputation_answer_is_the_layer_each_protocol_scores(capsys):
    adata = _labelled_counts()
    count = A.impute_and_report(adata, labels_key="label", seed=0, max_epochs=3, progress=False)
    np.testing.assert_array_equal(count.answer("A"), count.adata.layers["scmaskgan_if_detected"])
    np.testing.assert_array_equal(count.answer("B"), count.imputed)
    neighbours = A.impute_and_report(adata, labels_key="label", seed=0, mode="neighbours")
    np.testing.assert_array_equal(neighbours.answer("A"), neighbours.imputed)
