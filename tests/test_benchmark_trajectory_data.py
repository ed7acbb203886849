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
    with pytest.raises(InputError, match="simulated' or 'chu2016"):
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
