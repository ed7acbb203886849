"""scmaskgan.verdicts.hvg_cell_types on small hand-made metrics."""

from __future__ import annotations

import pandas as pd

from scmaskgan.verdicts import hvg_cell_types as V
from scmaskgan.verdicts.text import CIRCULAR

OVERALL = {"original": 50, "imputed": 50, "both": 41, "only original": 9, "only imputed": 9, "jaccard": 0.695,
           "dispersion spearman": 0.946}


def _types(*jaccards: float) -> dict:
    return {f"type{k}": {"cells": 40 - k, "jaccard": j} for k, j in enumerate(jaccards)}


def test_within_type_change_did_not_help_with_the_numbers() -> None:
    text = V.verdict(OVERALL, _types(0.667, 0.25, 0.4), same_top=1.0, r_zscores=0.995, n_hvg=50, n_hvg_per_type=25)
    assert text.startswith("**Verdict.** The count model (the default")
    assert "did not help" in text and "helped" not in text
    assert "41 of the 50 HVGs" in text and "Jaccard 0.695" in text and "Spearman 0.946" in text
    assert "from 0.250 (type1, 39 cells) to 0.667 (type0, 40 cells), median 0.400" in text
    assert "100% of them" in text and "r = 0.995" in text
    assert CIRCULAR in text and "`cell_type`" in text


def test_structure_kept_helped_and_a_dataframe_works() -> None:
    per_type = pd.DataFrame(_types(0.8, 0.6, 0.7)).T
    text = V.verdict(OVERALL, per_type, same_top=0.95, r_zscores=0.9, n_hvg=50, n_hvg_per_type=25, mode="paper")
    assert "helped the paper's reading" in text and "did not help" not in text
    assert text.startswith("**Verdict.** The paper's GAN (not the default count model")


def test_each_failure_is_named() -> None:
    low = dict(OVERALL, jaccard=0.3)
    text = V.verdict(low, _types(0.8, 0.7), same_top=0.5, r_zscores=0.4, n_hvg=50, n_hvg_per_type=25)
    assert "did not help" in text
    assert "over all cells changed (Jaccard 0.300, below 0.500)" in text and "only 50.0% of the genes shown" in text


def test_not_circular_without_labels_for_the_count_model() -> None:
    kwargs = dict(same_top=1.0, r_zscores=0.9, n_hvg=50, n_hvg_per_type=25, labels_key=None,
                  group_key="scmaskgan_labels")
    assert CIRCULAR not in V.verdict(OVERALL, _types(0.8), mode="count", **kwargs)
    assert CIRCULAR in V.verdict(OVERALL, _types(0.8), mode="neighbours", **kwargs)
