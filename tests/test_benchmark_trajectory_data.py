"""The trajectory notebook's data (scmaskgan.benchmarking.trajectory_data): the Chu 2016 time course on a small
made-up file, and the simulated trajectory."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan import datasets
from scmaskgan._validation import InputError
from scmaskgan.benchmarking import trajectory_data as D
from scmaskgan.evaluation import trajectory as T


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
    d = D.trajectory_data("chu2016", n_cells=12, n_genes=10, chu_path=tmp_path, seed=0)
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
    assert D.chu_time_course(tmp_path, None, 5).adata.n_obs == 30
    only = D.chu_time_course(tmp_path, 100, 5, marker_genes=["G39"])
    assert "G39" in only.adata.var_names and only.adata.n_vars <= 6


def test_trajectory_data_errors(tmp_path):
    with pytest.raises(InputError, match="'rnamix_celseq2'\\], 'simulated' or 'chu2016"):
        D.trajectory_data("paul15", n_cells=10, n_genes=10)
    with pytest.raises(InputError, match="GSE75748"):
        D.trajectory_data("chu2016", n_cells=10, n_genes=10)
    _write_chu(tmp_path)
    with pytest.raises(InputError, match="string"):
        D.chu_time_course(tmp_path, 10, 5, marker_genes="SOX17")


def test_simulated_trajectory_is_simulate():
    from scmaskgan.simulate import simulate

    d = D.trajectory_data("simulated", n_cells=60, n_genes=40, de_prob=0.3, de_fac_loc=0.8, dropout_mid=1.5, seed=2)
    a = simulate(n_cells=60, n_genes=40, n_groups=1, trajectory=True, de_prob=0.3, de_fac_loc=0.8, dropout_mid=1.5,
                 seed=2)
    assert (d.adata.X != a.X).nnz == 0 and list(d.adata.obs_names) == list(a.obs_names)
    np.testing.assert_array_equal(d.truth, a.layers["true_counts"].toarray())
    assert d.truth.dtype == np.float64 and (d.time_key, d.time_label) == ("time", "true time")
    assert d.note.startswith("simulated linear trajectory (scmaskgan.simulate, 60 cells x 40 genes, de_prob=0.3, "
                             "de_fac_loc=0.8, dropout_mid=1.5, seed=2): ")


def test_cellbench_rna_mixture_paths(require_files):
    require_files("RNAmix_celseq2.count.csv.gz", "RNAmix_celseq2.metadata.csv.gz")
    d = D.trajectory_data("rnamix_celseq2", n_cells=120, n_genes=50, seed=1)
    a = d.adata
    assert a.shape == (120, 50) and d.truth is None and d.time_key == "distance_from_pure"
    assert not a.var_names.str.startswith("ERCC-").any()
    assert sp.isspmatrix_csr(a.X) and a.X.dtype == np.float32
    assert list(d.positions) == ["H2228", "H1975", "HCC827"]
    for line, position in d.positions.items():
        on = np.isfinite(position)
        share = a.obs[f"{line}_share"].to_numpy()
        np.testing.assert_allclose(position[on], 1 - share[on])
        assert set(np.round(share[on], 2)) == {1.0, 0.68, 0.33}
        assert on.sum() == int(d.note.split(f"{line} ")[1].split(",")[0])
    np.testing.assert_allclose(a.obs["distance_from_pure"],
                               1 - a.obs[["H2228_share", "H1975_share", "HCC827_share"]].max(axis=1))


def test_cellbench_cell_mixture_paths(require_files):
    require_files("cellmix1.count.csv.gz", "cellmix1.metadata.csv.gz")
    d = D.trajectory_data("cellmix1", n_cells=None, n_genes=30)
    a = d.adata
    assert a.n_obs == 254 and not a.obs["poor_quality"].any()  # 266 wells less 12 of poor quality
    for line, position in d.positions.items():
        on = np.isfinite(position)
        assert a.obs["traj"].to_numpy()[on].all()
        assert set(np.round(9 * (1 - position[on]))) == {9, 7, 5, 3}
    with pytest.raises(InputError, match="dataset must be one of"):
        D.cellbench_mixture("sc_celseq2", None, 10)


def test_score_paths_on_a_simulated_path():
    d = D.trajectory_data("simulated", n_cells=80, n_genes=60, de_prob=0.5, de_fac_loc=1.0, dropout_mid=0.0, seed=0)
    assert list(d.positions) == ["all cells"]
    e = T.embed(d.adata.X.toarray(), d.adata.obs[["time"]])
    roots = T.path_roots(e, d.positions)
    assert roots["all cells"] == T.choose_root(e, d.adata.obs["time"].to_numpy(), "earliest")
    table = T.score_paths({"observed": e}, d.positions, roots)
    assert table.shape[0] == 1 and table.loc[0, "spearman"] > 0.5 and table.loc[0, "n_wells"] == 80
    np.testing.assert_allclose(T.path_pseudotime(e, roots["all cells"])[roots["all cells"]], 0.0)
    with pytest.raises(InputError, match="no root"):
        T.score_paths({"observed": e}, d.positions, {})
