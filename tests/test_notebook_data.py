"""The data of the batch-integration notebook (scmaskgan.datasets.load_batches) and the trajectory notebook's
marker genes (scmaskgan.evaluation.trajectory.choose_markers): small cases, and the real CellBench and
neuroblastoma files where SCMASKGAN_DATA has them. The trajectory notebook's data are
tests/test_benchmark_trajectory_data.py's, the benchmark notebook's figures
tests/test_benchmark_comparison_cost.py's."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from scmaskgan import datasets
from scmaskgan._validation import InputError
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


def test_choose_markers():
    var = pd.DataFrame({"de_fac_Group1": [4.0, 0.5, 2.0, 0.25], "base_mean": [6.0, 6.0, 6.0, 6.0]},
                       index=["g0", "g1", "SOX17", "T"])
    assert T.choose_markers(var, ["T", "nope", "g0"]) == ["T", "g0"]
    assert T.choose_markers(var) == ["T", "SOX17"]  # the Chu markers present, in CHU_MARKERS' order
    assert T.choose_markers(var, [], simulated=True, n=1) == T.strongest_trend_genes(var, 1)
    with pytest.raises(InputError, match="string"):
        T.choose_markers(var, "T")
