"""scmaskgan.evaluation.structure: label conservation and embeddings on hand-made cases."""

from __future__ import annotations

import anndata
import numpy as np
import pandas as pd
import pytest

from scmaskgan._validation import InputError
from scmaskgan.evaluation import metrics as M
from scmaskgan.evaluation import structure as S


def test_clustering_names_stay_importable_from_metrics():
    for name in ("cluster", "match_clusters", "clustering_agreement", "cluster_and_score"):
        assert getattr(M, name) is getattr(S, name)
        assert name in M.__all__


def test_nearest_neighbours_on_a_line():
    coords = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_array_equal(S.nearest_neighbours(coords, 1).ravel(), [1, 0, 1, 2])
    np.testing.assert_array_equal(S.nearest_neighbours(coords, 2), [[1, 2], [0, 2], [1, 0], [2, 1]])
    with pytest.raises(InputError):
        S.nearest_neighbours(coords, 4)  # only 3 other cells


def test_embed_gives_pca_graph_and_umap(two_cell_types):
    counts, labels = two_cell_types()
    obs = pd.DataFrame({"type": labels}, index=[f"c{i}" for i in range(len(labels))])
    a = S.embed(counts, obs, n_pcs=50, n_neighbors=5)
    assert a.obsm["X_pca"].shape == (20, 19)  # n_pcs capped at the smaller side - 1
    assert a.obsm["X_umap"].shape == (20, 2)
    assert "neighbors" in a.uns and list(a.obs["type"]) == list(labels)
    b = S.embed(np.log1p(counts), normalize=False, scale=True, umap=False, n_neighbors=5)
    assert "X_umap" not in b.obsm and np.abs(b.X).max() <= 10
    np.testing.assert_allclose(S.umap_coordinates(counts, n_neighbors=5), a.obsm["X_umap"], rtol=1e-5)
    with pytest.raises(InputError):
        S.embed(counts, obs.iloc[:5])


def test_best_leiden_finds_twotwo_cell_types(two_cell_types):
    counts, labels = two_cell_types(40)
    a = S.embed(counts, n_neighbors=8, umap=False)
    best = S.best_leiden(a, labels, resolutions=[0.1, 0.3])
    assert best["ari"] == pytest.approx(1.0) and best["resolution"] in (0.1, 0.3)
    with pytest.raises(InputError, match="neighbour graph"):
        S.best_leiden(anndata.AnnData(counts), labels)
