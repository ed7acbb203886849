"""Image layout, masks, and the scale round trip."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from scmaskgan.nn.layout import ImageLayout
from scmaskgan.scaling import Scaler, library_sizes


@pytest.mark.parametrize("m, side", [(1, 1), (4, 2), (5, 3), (2000, 45), (33514, 184)])
def test_side_is_smallest_square(m, side):
    assert ImageLayout(m).side == side


def test_row_wise_layout_and_padding_mask():
    layout = ImageLayout(7)  # N = 3, two padding pixels
    values = torch.arange(1, 15, dtype=torch.float32).view(2, 7)
    images = layout.to_images(values)
    assert images.shape == (2, 1, 3, 3)
    # gene j sits at pixel (j // N, j % N)
    assert images[0, 0, 1, 0] == values[0, 3]
    assert images[1, 0, 2, 0] == values[1, 6]
    assert torch.all(images[:, :, 2, 1:] == 0)  # padding is zero
    mask = layout.padding_mask()
    assert mask.sum() == 7 and mask[0, 0, 2, 1] == 0 and mask[0, 0, 2, 0] == 1
    assert torch.equal(layout.to_vectors(images), values)


def test_observed_mask_marks_nonzero():
    layout = ImageLayout(4)
    images = layout.to_images(torch.tensor([[0.0, 0.5, 0.0, 1.0]]))
    assert layout.observed_mask(images).flatten().tolist() == [0, 1, 0, 1]


def test_wrong_gene_count_is_refused():
    with pytest.raises(ValueError, match="expected 4 genes"):
        ImageLayout(4).to_images(torch.zeros(2, 5))


def test_scale_round_trip_and_range():
    rng = np.random.default_rng(0)
    X = rng.poisson(2.0, size=(30, 20)).astype(np.float32)
    X[0] = 0  # an empty cell stays empty
    scaler = Scaler.fit(X)
    lib = library_sizes(X)
    V = scaler.transform(X, lib)
    assert V.min() >= 0 and V.max() == pytest.approx(1.0)
    assert np.all((V > 0) == (X > 0))
    back = scaler.inverse(V, lib)
    np.testing.assert_allclose(back, X, rtol=1e-5, atol=1e-4)
    assert np.all(back[0] == 0)


def test_scaler_fit_same_on_sparse_and_dense():
    rng = np.random.default_rng(1)
    X = rng.poisson(0.5, size=(40, 25)).astype(np.float32)
    assert Scaler.fit(X).max_value == pytest.approx(Scaler.fit(sp.csr_matrix(X)).max_value)


@pytest.mark.parametrize("normalized", [False, True])
def test_transform_of_a_sparse_block_equals_the_dense_one_exactly(normalized):
    rng = np.random.default_rng(2)
    X = rng.poisson(0.3, size=(30, 50)).astype(np.float32)
    X[3] = 0  # an empty cell
    scaler = Scaler.fit(X, normalized=normalized)
    lib = library_sizes(X)
    dense = scaler.transform(X, lib)
    sparse = scaler.transform(sp.csr_matrix(X), lib)
    assert sparse.dtype == dense.dtype == np.float32 and not sp.issparse(sparse)
    np.testing.assert_array_equal(sparse, dense)


def test_normalized_input_is_only_divided_by_its_maximum():
    X = np.array([[0.0, 0.5], [2.0, 1.5]])
    scaler = Scaler.fit(X, normalized=True)
    lib = library_sizes(X)
    np.testing.assert_allclose(scaler.transform(X, lib), X / 2.0)
    np.testing.assert_allclose(scaler.inverse(X / 2.0, lib), X)
