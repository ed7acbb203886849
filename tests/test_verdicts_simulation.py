"""The simulation page's verdict, on small hand-made scores."""

from __future__ import annotations

import pandas as pd
import pytest

from scmaskgan.verdicts.simulation import verdict


def _rows(rmse: dict[float, float]) -> list[dict]:
    rows = []
    for mid, zeros in ((0.5, 0.30), (2.5, 0.50)):
        for name, value in (("no imputation", 2.0 + mid / 5), ("scmaskgan", rmse[mid]), ("magic", 1.0)):
            rows.append({"dropout_mid": mid, "zero_rate_observed": zeros, "method": name, "rmse_dropouts": value,
                         "recall": 0.0 if name == "no imputation" else 0.8, "precision": 0.7,
                         "share_true_zeros_kept": 1.0 if name == "no imputation" else 0.3, "mean_at_true_zeros": 0.6})
    return rows


def test_helped_at_every_level() -> None:
    text = verdict(pd.DataFrame(_rows({0.5: 1.2, 2.5: 1.5})), labels="group")
    assert text.startswith("**Verdict.** ") and "helped at every level" in text
    assert "fell from 2.10 to 1.20 (better) at the lowest level" in text and "30.0% to 50.0%" in text
    assert "filled 0.800 of the dropouts (recall) and left 0.300 of the true zeros at exactly 0" in text
    assert "0.700 of the zeros it filled were dropouts (precision)" in text
    assert "the highest RMSE" in text and "lowest: magic, 1.00" in text
    assert "not circular" in text


def test_did_not_help_or_only_at_some_levels() -> None:
    text = verdict(_rows({0.5: 2.5, 2.5: 3.0}), labels="none")
    assert "did not help at any level" in text and "rose from 2.10 to 2.50 (worse)" in text
    assert "circular" not in text
    text = verdict(_rows({0.5: 0.5, 2.5: 3.0}), labels="none")
    assert "helped at only 1 of 2 levels (dropout_mid 0.5)" in text
    assert "the highest RMSE" in text and "(1.75; lowest: magic, 1.00)" in text


def test_calibration_sentence() -> None:
    cal = [{"dropout_mid": 0.5, "ece_depth_1": 0.08, "mean_p_depth_1": 0.4, "dropout_share_of_zeros": 0.46},
           {"dropout_mid": 2.5, "ece_depth_1": 0.33, "mean_p_depth_1": 0.38, "dropout_share_of_zeros": 0.71}]
    text = verdict(_rows({0.5: 1.2, 2.5: 1.5}), calibration=cal)
    assert "ECE of 0.080 to 0.330" in text and "at 2 of 2 levels" in text
    assert 3 <= text.count(". ") + 1 <= 6


def test_missing_rows_are_refused() -> None:
    rows = [r for r in _rows({0.5: 1.0, 2.5: 1.0}) if not (r["method"] == "scmaskgan" and r["dropout_mid"] == 2.5)]
    with pytest.raises(KeyError, match="2.5"):
        verdict(rows)
