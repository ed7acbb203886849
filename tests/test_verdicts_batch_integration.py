"""The batch-integration page's verdict, on small hand-made score tables."""

from __future__ import annotations

import pandas as pd
import pytest

from scmaskgan.verdicts.batch_integration import verdict


def _scores(entropy: float, ari: float) -> dict:
    return {"observed": {"batch_entropy": 0.487, "kbet_acceptance": 0.30, "leiden_ari": 1.0},
            "ComBat (observed)": {"batch_entropy": 0.879, "kbet_acceptance": 0.80, "leiden_ari": 1.0},
            "scmaskgan": {"batch_entropy": entropy, "kbet_acceptance": 0.10, "leiden_ari": ari},
            "magic": {"batch_entropy": 0.30, "kbet_acceptance": 0.05, "leiden_ari": 0.90}}


def test_did_not_help_names_the_numbers_and_combat() -> None:
    text = verdict(_scores(0.132, 0.51), labels="none")
    assert text.startswith("**Verdict.** ")
    assert "did not help" in text and "helped:" not in text
    assert "fell from 0.487 to 0.132 (worse)" in text and "fell from 1.00 to 0.510 (worse)" in text
    assert "the batches mixed less and the cell lines were told apart less well" in text
    assert "ComBat" in text and "0.879" in text
    assert "second of 2 by batch entropy (highest: magic, 0.300)" in text
    assert "circular" not in text
    assert 3 <= text.count(". ") + 1 <= 6


def test_helped_when_batches_mix_and_lines_stay_apart() -> None:
    table = pd.DataFrame(_scores(0.70, 0.98)).T  # a DataFrame works as well as the dict metrics.json holds
    text = verdict(table, labels="none")
    assert "it helped: the batches mixed better and the cell lines stayed apart" in text
    assert "rose from 0.487 to 0.700 (better)" in text and "first of 2 by batch entropy" in text


def test_small_rise_or_lost_lines_do_not_count() -> None:
    assert "rose by only 0.010" in verdict(_scores(0.497, 1.0), labels="none")
    text = verdict(_scores(0.70, 0.80), labels="none")
    assert "did not help: the cell lines were told apart less well" in text


def test_circular_where_the_truth_drove_the_imputation() -> None:
    assert "circular" in verdict(_scores(0.70, 1.0), labels="cell_line")
    assert "mixing scores" in verdict(_scores(0.70, 1.0), labels="batch")
    assert "circular" not in verdict(_scores(0.70, 1.0), labels="Leiden clusters", mode="neighbours")


def test_without_cell_lines_only_mixing_is_judged() -> None:
    scores = {name: {"batch_entropy": e, "kbet_acceptance": 0.5} for name, e in
              (("observed", 0.40), ("scmaskgan", 0.60), ("alra", 0.50))}
    text = verdict(scores, labels="none", truth_key=None, correction=None)
    assert "helped" in text and "not measured" in text and "ARI" not in text and "ComBat" not in text


def test_missing_rows_are_refused() -> None:
    with pytest.raises(KeyError, match="scmaskgan"):
        verdict({"observed": {"batch_entropy": 0.5}})
