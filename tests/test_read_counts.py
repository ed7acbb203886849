"""Read counts (scmaskgan.count.read_counts): reads per molecule and hide, chosen on the input's own non-zeros."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan import InputError, SCMaskGAN
from scmaskgan.count import read_counts as molecules

FAST = dict(mode="count", max_epochs=3, progress=False, hidden_dim=32, latent_dim=8, noise_dim=4)


def _reads(adata, reads: int = 40, seed: int = 0):
    """``adata`` as read counts: each molecule gives a Poisson number of reads (mean ``reads``), at least one."""
    rng = np.random.default_rng(seed)
    out = adata.copy()
    m = np.asarray(out.X, dtype=np.int64)
    out.X = np.where(m > 0, np.maximum(1, rng.poisson(reads * np.maximum(m, 1))), 0).astype(np.float32)
    return out


def test_candidates_follow_the_median_nonzero_count():
    assert molecules.candidates(np.array([[0, 1, 2], [1, 0, 3]])) == (1.0,)
    assert molecules.candidates(np.array([[0, 16, 20], [17, 0, 40]])) == (1.0, 4.0)
    assert molecules.candidates(sp.csr_matrix(np.full((3, 3), 300.0))) == (1.0, 4.0, 16.0, 64.0)
    assert molecules.candidates(np.zeros((2, 2))) == (1.0,)


@pytest.mark.parametrize("sparse", [False, True])
def test_to_molecules_rounds_and_keeps_zeros_and_non_zeros(tiny_counts, sparse):
    from scmaskgan.cells import CellData
    from scmaskgan.scaling import Scaler, library_sizes

    X = np.array([[0, 1, 7, 9, 40], [3, 0, 0, 12, 0]], dtype=np.float32)
    data = CellData(sp.csr_matrix(X) if sparse else X, library_sizes(X), np.zeros(2, dtype=np.int64), 1, Scaler.fit(X))
    assert molecules.to_molecules(data, 1.0) is data
    m = molecules.to_molecules(data, 8.0)
    dense = m.X.toarray() if sparse else m.X
    np.testing.assert_array_equal(dense, [[0, 1, 1, 1, 5], [1, 0, 0, 2, 0]])  # 1/8 and 3/8 stay 1; 0 stays 0
    np.testing.assert_array_equal(m.lib, [8, 3])
    assert (data.X.toarray() if sparse else data.X)[0, 4] == 40  # the input is untouched


@pytest.mark.parametrize("sparse", [False, True])
def test_hide_own_nonzero_hides_a_share_and_returns_the_values(tiny_counts, sparse):
    from scmaskgan.cells import CellData
    from scmaskgan.scaling import Scaler, library_sizes

    X = np.asarray(tiny_counts.X)
    data = CellData(sp.csr_matrix(X) if sparse else X, library_sizes(X), np.zeros(X.shape[0], dtype=np.int64), 1,
                    Scaler.fit(X))
    hidden, rows, cols, values = molecules.hide_own_nonzero(data, 0.1, seed=3)
    h = hidden.X.toarray() if sparse else hidden.X
    assert rows.size == round(0.1 * np.count_nonzero(X))
    assert np.all(np.diff(rows) >= 0) and np.all(values > 0)
    np.testing.assert_array_equal(values, X[rows, cols])
    assert np.all(h[rows, cols] == 0)
    assert np.count_nonzero(h) == np.count_nonzero(X) - rows.size
    np.testing.assert_allclose(hidden.lib, h.sum(1))
    again = molecules.hide_own_nonzero(data, 0.1, seed=3)
    np.testing.assert_array_equal(again[1], rows)
    # the entries protocol A would hide with the same seed, dense or sparse alike
    from scmaskgan.evaluation.protocols import hide_nonzero

    np.testing.assert_array_equal(rows * X.shape[1] + cols, hide_nonzero(X, 0.1, seed=3)[1])


def test_umi_counts_train_nothing_more(tiny_counts):
    model = SCMaskGAN(tiny_counts, **FAST).train()
    assert model.reads_per_molecule_ == 1 and model.hide_ == 0 and model.molecule_choice_ == []
    assert model.count_model.data is model.data and model.count_model.hide == 0


def test_read_counts_choose_their_settings_on_their_own_hidden_entries(tiny_counts, caplog, tmp_path):
    reads = _reads(tiny_counts)
    with caplog.at_level(logging.INFO, logger="scmaskgan"):
        model = SCMaskGAN(reads, labels_key="cell_type", **FAST).train()
    tried = [(row["reads_per_molecule"], row["hide"]) for row in model.molecule_choice_]
    assert tried == [(r, h) for r in molecules.candidates(reads.X) for h in molecules.HIDE_CANDIDATES]
    assert len(tried) > 2
    best = min(model.molecule_choice_, key=lambda row: row["self_mask_rmse"])
    assert (model.reads_per_molecule_, model.hide_) == (best["reads_per_molecule"], best["hide"])
    assert model.count_model.hide == model.hide_
    assert "reads per molecule, hide" in caplog.text
    # fixed settings train once and give the same model as the choice's final fit
    fixed = SCMaskGAN(reads, labels_key="cell_type", reads_per_molecule=model.reads_per_molecule_, hide=model.hide_,
                      **FAST).train()
    assert fixed.molecule_choice_ == []
    first, second = model.impute(), fixed.impute()
    np.testing.assert_array_equal(first, second)
    x = np.asarray(reads.X)
    np.testing.assert_array_equal(first[x > 0], x[x > 0])  # observed reads returned exactly
    # one setting fixed: the other is chosen alone
    half = SCMaskGAN(reads, labels_key="cell_type", hide=0.0, **FAST).train()
    assert {row["hide"] for row in half.molecule_choice_} == {0.0} and half.hide_ == 0.0
    # saved and loaded with the chosen settings
    loaded = SCMaskGAN.load(model.save(tmp_path / "m"), reads, device="cpu")
    assert (loaded.reads_per_molecule_, loaded.hide_) == (model.reads_per_molecule_, model.hide_)
    assert loaded.molecule_choice_ == model.molecule_choice_
    np.testing.assert_array_equal(loaded.impute(), first)


def test_answers_and_draws_are_on_the_reads_scale(tiny_counts):
    reads = _reads(tiny_counts)
    model = SCMaskGAN(reads, labels_key="cell_type", reads_per_molecule=16, hide=0.0, **FAST).train()
    assert model.molecule_choice_ == [] and model.count_model.data is not model.data
    zeros = np.asarray(reads.X) == 0
    _, _, answers = next(model.iter_answers(block_size=len(zeros)))
    # one molecule is about 16 reads of the cell's library: nothing detected is below that scale
    assert answers["if_detected"][zeros].min() > 8
    draws = model.sample(2, if_detected=True)
    assert draws[:, zeros].min() > 8


def test_reads_per_molecule_is_checked(tiny_counts):
    with pytest.raises(InputError, match="reads_per_molecule"):
        SCMaskGAN(tiny_counts, mode="count", reads_per_molecule=0.5)
    with pytest.raises(InputError, match="reads_per_molecule"):
        SCMaskGAN(tiny_counts, labels_key="cell_type", reads_per_molecule=4.0, mode="neighbours")
