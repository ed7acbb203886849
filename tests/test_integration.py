"""scmaskgan.evaluation.integration: batch mixing and label conservation on hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scmaskgan._validation import InputError
from scmaskgan.evaluation import integration
from scmaskgan.evaluation import structure as S

# every cell's neighbours in a 4-cell example: cell 0 sees a and b, cells 1 and 2 their own batch only
NN = np.array([[1, 2], [0, 0], [3, 3], [0, 2]])
BATCH = np.array(["a", "a", "b", "b"])


def test_batch_entropy_by_hand():
    # cell 0: one a, one b -> log 2 / log 2 = 1; cells 1, 2: one batch -> 0; cell 3: a and b -> 1
    np.testing.assert_allclose(integration.batch_entropy(NN, BATCH), [1.0, 0.0, 0.0, 1.0])
    # three batches: neighbours a, b, c, c -> -(2 * 1/4 log 1/4 + 1/2 log 1/2) / log 3
    nn = np.array([[0, 1, 2, 3], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    expected = -(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5)) / math.log(3)
    assert integration.batch_entropy(nn, ["a", "b", "c", "c"])[0] == pytest.approx(expected)


def test_batch_entropy_normalises_by_the_batches_of_the_group():
    # group x lies in batches a and b, group y only in a: its cells are not scored
    groups = np.array(["x", "x", "x", "y"])
    batch = np.array(["a", "b", "a", "a"])
    nn = np.array([[1, 2], [0, 2], [0, 1], [0, 1]])
    e = integration.batch_entropy(nn, batch, groups)
    np.testing.assert_allclose(e[:3], [1.0, 0.0, 1.0])  # cell 1 (b) sees a, a
    assert np.isnan(e[3])


def test_kbet_pvalues_by_hand():
    # one group, half a and half b; k = 2: counts (1, 1) fit exactly (p 1), counts (2, 0) give
    # chi2 = 1 + 1 = 2 with 1 degree of freedom: p = erfc(1)
    p = integration.kbet_pvalues(NN, BATCH)
    assert p[0] == pytest.approx(1.0) and p[3] == pytest.approx(1.0)
    assert p[1] == pytest.approx(math.erfc(1.0)) and p[2] == pytest.approx(math.erfc(1.0))
    # k = 4, all from one batch: chi2 = 4, p = erfc(sqrt 2) < 0.05 (rejected)
    nn = np.array([[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert integration.kbet_pvalues(nn, BATCH)[0] == pytest.approx(math.erfc(math.sqrt(2.0)))
    assert np.isnan(integration.kbet_pvalues(NN, BATCH, ["x", "x", "y", "y"])).all()  # each group in one batch


def test_kbet_expects_the_group_composition_not_the_global_one():
    # group x: 1 cell of a, 3 of b; a cell of x whose 4 neighbours are 1 a and 3 b fits exactly
    batch = np.array(["a", "b", "b", "b", "a", "a"])
    groups = np.array(["x", "x", "x", "x", "y", "y"])
    nn = np.array([[0, 1, 2, 3]] * 6)
    assert integration.kbet_pvalues(nn, batch, groups)[0] == pytest.approx(1.0)


def test_mixing_input_checks():
    with pytest.raises(InputError, match="one entry per cell"):
        integration.batch_entropy(NN, ["a", "b"])
    with pytest.raises(InputError, match="outside"):
        integration.batch_entropy(np.array([[4, 0]] * 4), BATCH)
    with pytest.raises(InputError, match="integer"):
        integration.kbet_pvalues(NN.astype(float), BATCH)
    with pytest.raises(InputError, match="missing"):
        integration.batch_entropy(NN, ["a", None, "b", "b"])


def test_label_knn_purity_by_hand():
    # cell 0: 1 of 2 same; 1: 2 of 2; 2: 2 of 2; 3: 1 of 2 -> 6 / 8
    assert integration.label_knn_purity(NN, ["x", "x", "y", "y"]) == pytest.approx(0.75)
    with pytest.raises(InputError):
        integration.label_knn_purity(NN, ["x", "y"])


def test_scaled_silhouette_by_hand():
    coords = np.array([[0.0], [1.0], [10.0], [11.0]])
    # the outer points: a = 1, b = 10.5; the inner ones: a = 1, b = 9.5
    s = np.mean([1 - 1 / 10.5, 1 - 1 / 9.5, 1 - 1 / 9.5, 1 - 1 / 10.5])
    assert integration.scaled_silhouette(coords, ["a", "a", "b", "b"]) == pytest.approx((s + 1) / 2)
    with pytest.raises(InputError):
        integration.scaled_silhouette(coords, ["a"] * 4)




def test_integration_scores_of_separated_batches_and_of_composed_functions(two_cell_types):
    counts, labels = two_cell_types(40)
    a = S.embed(counts, n_neighbors=5, umap=False)
    # each type split into two batches by position in the PCA: the same as composing the functions
    batch = np.where(a.obsm["X_pca"][:, 1] > np.median(a.obsm["X_pca"][:, 1]), "p", "q")
    scores = integration.integration_scores(a, batch, labels, n_neighbors=5, resolutions=[0.1])
    nn = S.nearest_neighbours(a.obsm["X_pca"], 5)
    entropy = integration.batch_entropy(nn, batch, labels)
    ok = np.isfinite(entropy)
    assert scores["batch_entropy"] == pytest.approx(entropy[ok].mean())
    assert scores["kbet_acceptance"] == pytest.approx(np.mean(integration.kbet_pvalues(nn, batch, labels)[ok] >= 0.05))
    assert scores["label_knn_purity"] == pytest.approx(1.0) and scores["leiden_ari"] == pytest.approx(1.0)
    # batch = cell type: no type lies in two batches, so mixing is not scored
    none = integration.integration_scores(a, labels, labels, n_neighbors=5, resolutions=[0.1])
    assert math.isnan(none["batch_entropy"]) and math.isnan(none["kbet_acceptance"])
    # without labels: one group, batch = type is perfectly unmixed
    unlabelled = integration.integration_scores(a, labels, None, n_neighbors=5)
    assert unlabelled["batch_entropy"] == pytest.approx(0.0) and unlabelled["kbet_acceptance"] == 0.0
    assert "label_knn_purity" not in unlabelled
