"""The data of the batch-integration and trajectory notebooks (scmaskgan.datasets.load_batches,
scmaskgan.evaluation.trajectory.trajectory_data) and the benchmark notebook's figures
(scmaskgan.evaluation.comparison.plot_*): small cases, and the real CellBench and neuroblastoma
files where SCMASKGAN_DATA has them."""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scmaskgan import datasets
from scmaskgan._validation import InputError
from scmaskgan.evaluation import comparison as C
from scmaskgan.evaluation import trajectory as T
from scmaskgan.sampling import subsample_cells

CELLBENCH_FILES = [f"{name}.{kind}.csv.gz" for name in datasets.CELLBENCH_BATCHES for kind in ("count", "metadata")]

# ---------------------------------------------------------------------------------------
# batches


def _two_batches() -> ad.AnnData:
    rng = np.random.default_rng(0)
    counts = rng.poisson(2.0, size=(40, 60)).astype(np.float64)
    counts[:, 50:] = 0  # genes seen in no cell
    counts[:, 49] = 0
    counts[0, 49] = counts[1, 49] = 1  # a gene seen in 2 cells only
    obs = pd.DataFrame({"batch": np.repeat(["b1", "b2"], 20), "kind": np.tile(["x", "y"], 20)},
                       index=[f"c{i}" for i in range(40)])
    return ad.AnnData(counts, obs=obs, var=pd.DataFrame(index=[f"g{j}" for j in range(60)]))


def test_select_batch_genes_small():
    a = _two_batches()
    out = datasets.select_batch_genes(a, 10)
    assert out.n_vars == 10 and out.n_obs <= 40
    assert sp.isspmatrix_csr(out.X) and out.X.dtype == np.float32
    assert a.n_vars == 49  # genes detected in fewer than 3 cells were dropped, in place
    order = [a.var_names.get_loc(g) for g in out.var_names]
    assert order == sorted(order)  # the original gene order
    assert np.all(np.asarray(out.X.sum(axis=1)).ravel() > 0)
    assert all(isinstance(out.obs[c].dtype, pd.CategoricalDtype) for c in out.obs.columns)
    assert datasets.select_batch_genes(_two_batches(), 1000).n_vars == 49  # fewer genes than asked: all
    with pytest.raises(InputError, match="not a column"):
        datasets.select_batch_genes(_two_batches(), 10, batch_key="plate")
    with pytest.raises(InputError):
        datasets.select_batch_genes(_two_batches(), 0)


def test_load_batches_rejects_bad_input():
    with pytest.raises(InputError, match="source"):
        datasets.load_batches("zheng", n_top_genes=10)
    with pytest.raises(InputError, match="cell_lines"):
        datasets.cellbench_batches("some")
    with pytest.raises(InputError, match="need a path"):
        datasets.neuroblastoma_batches(None)
    with pytest.raises(InputError, match="max_cells_per_batch"):
        datasets.neuroblastoma_batches("x", 0)


@pytest.mark.parametrize("max_cells", [40, None])
def test_cellbench_batches_real(require_files, max_cells):
    require_files(*CELLBENCH_FILES)
    b = datasets.cellbench_batches("shared", max_cells, seed=0)
    a = b.adata
    assert b.label_key == "cell_line" and b.accession == "GSE118767" and b.qc is None
    assert "the shared cell lines H1975, H2228, HCC827" in b.note
    assert set(a.obs["cell_line"]) == {"H1975", "H2228", "HCC827"}
    assert list(pd.unique(a.obs["batch"])) == list(datasets.CELLBENCH_BATCHES)
    assert not a.var_names.str.startswith("ERCC").any()
    if max_cells is not None:
        assert a.obs["batch"].value_counts().to_dict() == {name: 40 for name in datasets.CELLBENCH_BATCHES}
    # the same cells as drawn by hand: each plate in turn from one generator
    rng = np.random.default_rng(0)
    for name in datasets.CELLBENCH_BATCHES:
        plate = datasets.load(name, drop_doublets=True)
        plate = plate[plate.obs["cell_line"].astype(str).isin(["H1975", "H2228", "HCC827"])].copy()
        expected = subsample_cells(plate, None, max_cells, seed=rng).obs_names
        assert list(a.obs_names[a.obs["batch"] == name]) == [f"{c}-{name}" for c in expected]
    # a generator is drawn from as a seed would be; another seed draws other cells
    again = datasets.cellbench_batches("shared", max_cells, seed=np.random.default_rng(0)).adata
    assert list(again.obs_names) == list(a.obs_names) and (again.X != a.X).nnz == 0
    if max_cells is not None:
        assert list(datasets.cellbench_batches("shared", max_cells, seed=1).adata.obs_names) != list(a.obs_names)


def test_load_batches_all_cell_lines_real(require_files):
    require_files(*CELLBENCH_FILES)
    b = datasets.load_batches("cellbench", n_top_genes=150, max_cells_per_batch=40, cell_lines="all", seed=0)
    assert b.adata.n_vars == 150 and b.note.endswith("all five cell lines, doublets removed")
    assert {"A549", "H838"} <= set(b.adata.obs["cell_line"])


def test_neuroblastoma_batches_real(require_files):
    folder = require_files("GSM5768752_Data.zip")
    b = datasets.neuroblastoma_batches(folder / "GSM5768752_Data.zip", 40, seed=0)
    assert b.label_key is None and b.accession == "GSE192906"
    assert b.qc.startswith("QC kept ") and b.note.startswith("neuroblastoma samples (GEO GSE192906): GN1,")
    assert b.adata.n_obs == 40 and list(b.adata.obs.columns) == ["batch", "sample_name", "tumour_type"]
    full = datasets.load_batches("neuroblastoma", n_top_genes=100, path=folder / "GSM5768752_Data.zip", seed=0)
    assert full.adata.n_vars == 100 and full.qc == b.qc
    # the QC by hand: mitochondrial share < 5%, then cells with >= 200 genes
    raw = datasets.read_neuroblastoma(folder / "GSM5768752_Data.zip")
    X = raw.X.toarray()
    mt = raw.var_names.str.upper().str.startswith("MT-")
    keep = (100 * X[:, mt].sum(1) / X.sum(1) < 5) & ((X > 0).sum(1) >= 200)
    assert f"QC kept {int(keep.sum())} of {raw.n_obs} cells" in b.qc


# ---------------------------------------------------------------------------------------
# trajectory


def _write_chu(folder: Path) -> None:
    rng = np.random.default_rng(1)
    cells = [f"H9.{t}_{i:03d}" for t in ("00hb4s", "12h", "24h", "36h", "72h", "96h") for i in range(1, 6)]
    genes = [f"G{j}" for j in range(40)] + list(T.CHU_MARKERS)
    values = np.round(rng.gamma(0.4, 30.0, size=(len(genes), len(cells))), 2)
    values[values < 3] = 0
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(folder / "GSE75748_sc_time_course_ec.csv.gz", "wt") as fh:
        fh.write(",".join(['""'] + [f'"{c}"' for c in cells]) + "\n")
        for g, row in zip(genes, values):
            fh.write(",".join([f'"{g}"'] + [repr(float(v)) for v in row]) + "\n")


def test_chu_time_course_small(tmp_path):
    _write_chu(tmp_path)
    d = T.trajectory_data("chu2016", n_cells=12, n_genes=10, chu_path=tmp_path, seed=0)
    raw = datasets.read_chu_time_course(tmp_path)
    a = d.adata
    assert a.n_obs == 12 and d.truth is None and (d.time_key, d.time_label) == ("time_h", "sampling time (h)")
    assert d.note == f"Chu et al. 2016 time course, GEO GSE75748 (12 cells x {a.n_vars} genes, RSEM expected counts rounded)"
    chosen = np.sort(np.random.default_rng(0).choice(raw.n_obs, 12, replace=False))
    assert list(a.obs_names) == list(raw.obs_names[chosen])
    present = [g for g in T.CHU_MARKERS if (raw[chosen, g].X.toarray() > 0).any()]
    assert set(present) <= set(a.var_names)
    assert 10 <= a.n_vars <= 10 + len(T.CHU_MARKERS)
    expected = np.round(raw[chosen][:, a.var_names].X.toarray())
    np.testing.assert_array_equal(a.X.toarray(), expected.astype(np.float32))
    assert a.X.dtype == np.float32 and sp.isspmatrix_csr(a.X)
    # all cells when n_cells is None or larger; marker genes given replace the defaults
    assert T.chu_time_course(tmp_path, None, 5).adata.n_obs == 30
    only = T.chu_time_course(tmp_path, 100, 5, marker_genes=["G39"])
    assert "G39" in only.adata.var_names and only.adata.n_vars <= 6


def test_trajectory_data_errors(tmp_path):
    with pytest.raises(InputError, match="simulated' or 'chu2016"):
        T.trajectory_data("paul15", n_cells=10, n_genes=10)
    with pytest.raises(InputError, match="GSE75748"):
        T.trajectory_data("chu2016", n_cells=10, n_genes=10)
    _write_chu(tmp_path)
    with pytest.raises(InputError, match="string"):
        T.chu_time_course(tmp_path, 10, 5, marker_genes="SOX17")


def test_simulated_trajectory_is_simulate():
    from scmaskgan.simulate import simulate

    d = T.trajectory_data("simulated", n_cells=60, n_genes=40, de_prob=0.3, de_fac_loc=0.8, dropout_mid=1.5, seed=2)
    a = simulate(n_cells=60, n_genes=40, n_groups=1, trajectory=True, de_prob=0.3, de_fac_loc=0.8, dropout_mid=1.5,
                 seed=2)
    assert (d.adata.X != a.X).nnz == 0 and list(d.adata.obs_names) == list(a.obs_names)
    np.testing.assert_array_equal(d.truth, a.layers["true_counts"].toarray())
    assert d.truth.dtype == np.float64 and (d.time_key, d.time_label) == ("time", "true time")
    assert d.note.startswith("simulated linear trajectory (scmaskgan.simulate, 60 cells x 40 genes, de_prob=0.3, "
                             "de_fac_loc=0.8, dropout_mid=1.5, seed=2): ")


def test_choose_markers():
    var = pd.DataFrame({"de_fac_Group1": [4.0, 0.5, 2.0, 0.25], "base_mean": [6.0, 6.0, 6.0, 6.0]},
                       index=["g0", "g1", "SOX17", "T"])
    assert T.choose_markers(var, ["T", "nope", "g0"]) == ["T", "g0"]
    assert T.choose_markers(var) == ["T", "SOX17"]  # the Chu markers present, in CHU_MARKERS' order
    assert T.choose_markers(var, [], simulated=True, n=1) == T.strongest_trend_genes(var, 1)
    with pytest.raises(InputError, match="string"):
        T.choose_markers(var, "T")


# ---------------------------------------------------------------------------------------
# benchmark figures


def _tables():
    methods = ["none", "alra", "scmaskgan"]
    dist = pd.DataFrame({"js_mean": [0.0, 0.1, 0.2]}, index=methods)
    pearson = pd.DataFrame({"pearson_all": [1.0, 0.9, 0.8]}, index=methods)
    a = pd.DataFrame({"rmse": [0.6, 0.5, 0.7]}, index=methods)
    b = pd.DataFrame({"rmse_zeros": [1.0, 1.2, 0.9], "mean_at_true_zeros": [0.0, 1.0, 0.5]}, index=methods)
    return methods, dist, pearson, a, b


def test_method_colour():
    assert [C.method_colour(m) for m in ["none", "scmaskgan_auto", "magic"]] == ["black", "tab:red", "tab:blue"]


def test_plot_heldout_and_paper_vs_heldout():
    methods, dist, pearson, a, b = _tables()
    fig = C.plot_heldout(a, b, ["scmaskgan", "none"])
    axes = fig.axes
    assert len(axes) == 3 and axes[0].get_title() == "protocol A: RMSE at hidden entries"
    heights = [p.get_height() for p in axes[1].patches]
    assert heights == [0.9, 1.0]  # protocol B's RMSE at zeros, in the order asked
    assert axes[0].lines[0].get_ydata()[0] == 0.6  # the dashed line of "none"
    assert [t.get_text() for t in axes[2].get_xticklabels()] == ["scmaskgan", "none"]
    plt.close(fig)
    fig = C.plot_paper_vs_heldout(dist, pearson, a, b)
    left = fig.axes[0]
    np.testing.assert_allclose(left.collections[1].get_offsets(), [[0.1, 0.5]])  # alra: JS, protocol A RMSE
    assert [t.get_text() for t in left.texts] == methods
    plt.close(fig)
    with pytest.raises(InputError, match="no rows"):
        C.plot_heldout(a, b, ["knn"])
    with pytest.raises(InputError, match="no rows"):
        C.plot_paper_vs_heldout(dist, pearson, a.drop(index="none"), b, ["alra"])
    with pytest.raises(InputError, match="string"):
        C.plot_heldout(a, b, "alra")


def test_plot_cv_zscores_and_umaps():
    rng = np.random.default_rng(0)
    X = rng.poisson(3.0, size=(30, 20)).astype(np.float64)
    outputs = {"none": X, "other": X + 1.0}
    fig = C.plot_cv_zscores(outputs)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == ["none", "other"]
    assert [line.get_label() for line in right.get_lines()] == ["none", "other"]
    plt.close(fig)
    with pytest.raises(InputError):
        C.plot_cv_zscores(outputs, ["none", "magic"])
    labels = np.repeat(["a", "b", "c"], 10)
    fig = C.plot_label_umaps([("none", X), ("other", X + 1.0)], labels, legend_title="kind", ncols=3)
    assert len(fig.axes) == 3 and not fig.axes[2].axison  # the empty panel is hidden
    assert fig.axes[0].get_title() == "none" and len(fig.axes[0].collections) == 3  # one colour per label
    assert fig.axes[0].get_legend().get_title().get_text() == "kind"
    plt.close(fig)
    with pytest.raises(InputError, match="cells"):
        C.plot_label_umaps([("none", X)], labels[:5])
    with pytest.raises(InputError, match="at least one panel"):
        C.plot_label_umaps([], labels)
