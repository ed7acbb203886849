"""scmaskgan.sampling: stratified, seeded subsampling of cells."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from scmaskgan.sampling import subsample_cells
from scmaskgan._validation import InputError


def _cells(sizes: dict) -> ad.AnnData:
    labels = [k for k, n in sizes.items() for _ in range(n)]
    X = np.arange(len(labels) * 2, dtype=np.float32).reshape(-1, 2)
    return ad.AnnData(X, obs=pd.DataFrame({"label": labels}, index=[f"c{i}" for i in range(len(labels))]))


def test_subsample_cells_keeps_every_label_and_is_seeded():
    adata = _cells({"a": 80, "b": 18, "c": 2})
    sub = subsample_cells(adata, "label", 20, seed=3)
    counts = sub.obs["label"].value_counts().to_dict()
    # round(20 * share), at least 2 per label (and never more than the label has)
    assert counts == {"a": 16, "b": 4, "c": 2}
    assert list(sub.obs_names) == sorted(sub.obs_names, key=lambda s: int(s[1:]))  # original order
    again = subsample_cells(adata, "label", 20, seed=3)
    assert list(again.obs_names) == list(sub.obs_names)
    other = subsample_cells(adata, "label", 20, seed=4)
    assert list(other.obs_names) != list(sub.obs_names)


def test_subsample_cells_without_labels_and_no_op():
    adata = _cells({"a": 30})
    sub = subsample_cells(adata, None, 7, seed=0)
    assert sub.n_obs == 7 and len(set(sub.obs_names)) == 7
    assert subsample_cells(adata, "label", None) is adata
    assert subsample_cells(adata, "label", 30) is adata
    with pytest.raises(InputError, match="not a column"):
        subsample_cells(adata, "nope", 5)
    with pytest.raises(InputError):
        subsample_cells(adata, "label", 0)
    with pytest.raises(InputError):
        subsample_cells(adata, "label", 5.5)


def test_subsample_cells_draws_batches_in_turn_from_one_generator():
    batches = [ad.AnnData(np.zeros((n, 2), np.float32)) for n in (10, 12)]
    rng = np.random.default_rng(3)
    got = [subsample_cells(b, None, 4, seed=rng).obs_names.astype(int).tolist() for b in batches]
    expected_rng = np.random.default_rng(3)  # what the batch-integration notebook drew before: one generator
    expected = [sorted(expected_rng.choice(b.n_obs, 4, replace=False).tolist()) for b in batches]
    assert got == expected
    assert got[1] != sorted(np.random.default_rng(3).choice(12, 4, replace=False).tolist())  # not reseeded per batch
