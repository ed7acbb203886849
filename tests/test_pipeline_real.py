"""The whole pipeline on a real dataset (CellBench Drop-seq, GSE118706) with the held-out protocol."""

import numpy as np
import pytest

import scmaskgan
from scmaskgan.evaluation import benchmark_genes, cluster_scores, hide_nonzero, score_hidden


@pytest.mark.parametrize("mode, max_rmse_ratio, min_pearson", [("default", 0.6, 0.45), ("paper", 0.75, 0.2)])
def test_dropseq_held_out_entries_recovered(require_files, mode, max_rmse_ratio, min_pearson):
    require_files("sc_dropseq.count.csv.gz", "sc_dropseq.metadata.csv.gz")
    adata = scmaskgan.datasets.load("sc_dropseq")
    counts = adata.X.toarray().astype(np.float64)
    lib, genes = benchmark_genes(counts, n_top=500)
    truth = counts[:, genes]
    corrupted, idx = hide_nonzero(truth, 0.1, seed=0)
    sub = adata[:, genes].copy()
    sub.X = corrupted.astype(np.float32)
    scmaskgan.pp.impute(sub, labels_key="cell_line", max_epochs=8, n_trials=10, progress=False, mode=mode)
    out = sub.layers["scmaskgan"]
    nz = corrupted != 0
    assert np.array_equal(out[nz], corrupted[nz])
    scores = score_hidden(truth, out, idx, lib)
    left_at_zero = score_hidden(truth, corrupted, idx, lib)
    assert scores["share_zero"] < 0.01
    # far better than leaving the hidden entries at zero, and positively correlated with the truth
    assert scores["rmse"] < max_rmse_ratio * left_at_zero["rmse"]
    assert scores["pearson"] > min_pearson
    labels = sub.obs["cell_line"].astype(str).to_numpy()
    assert cluster_scores(out, lib, labels)["ari"] >= cluster_scores(corrupted, lib, labels)["ari"] - 0.05
