"""The quickstart's verdict, on small hand-made metrics: helped or not, both ways, the numbers, circular labels."""

from __future__ import annotations

import pytest

from scmaskgan.verdicts.quickstart import verdict
from scmaskgan.verdicts.text import CIRCULAR

NAMES = {"scmaskgan": "the count model", "scmaskgan_nb": "the neighbour fill"}


def _holdout(count: float, nb: float, base: float = 0.769) -> dict:
    return {"no imputation": {"rmse": base, "pearson": None}, "scmaskgan": {"rmse": count, "pearson": 0.597},
            "scmaskgan_nb": {"rmse": nb, "pearson": 0.518}}


def _clusters(inp: float, count: float, nb: float) -> dict:
    return {"input (10% hidden)": {"ari": inp}, "scmaskgan": {"ari": count}, "scmaskgan_nb": {"ari": nb}}


def test_helped_names_the_numbers_and_the_lead_over_the_neighbour_fill():
    text = verdict(_holdout(0.314, 0.404), _clusters(0.9, 0.95, 1.0), names=NAMES,
                   labels_used={"scmaskgan": False, "scmaskgan_nb": True}, n_hidden=5142)
    assert text.startswith("**Verdict.** ")
    assert "5,142 hidden non-zero counts" in text
    assert "RMSE (log scale) was 0.314 against 0.769 without imputation, so it recovered" in text
    assert "It was ahead of the neighbour fill on these entries (the neighbour fill: RMSE 0.404, r 0.518)." in text
    assert "rose from 0.900 to 0.950 (better), so the count model helped the clusters" in text
    assert "rose from 0.900 to 1.00 (better), so the neighbour fill helped the clusters" in text
    assert "The neighbour fill used these labels to impute and the ARI scores against them, " + CIRCULAR in text
    assert "smoke" not in text and "n/a" not in text


def test_did_not_help_both_ways_and_no_circular_sentence_without_labels():
    text = verdict(_holdout(0.8, 0.5), _clusters(0.986, 0.423, 0.986), names=NAMES,
                   labels_used={"scmaskgan": False, "scmaskgan_nb": False})
    assert "so it did not recover the hidden values" in text
    assert "It did not beat the neighbour fill on these entries (the neighbour fill: RMSE 0.500, r 0.518)." in text
    assert "fell from 0.986 to 0.423 (worse), so the count model did not help the clusters" in text
    assert "stayed at 0.986, so the neighbour fill did not help the clusters" in text
    assert "circular" not in text


def test_circular_for_the_count_model_with_labels_and_the_smoke_note():
    text = verdict(_holdout(0.3, 0.4), _clusters(0.9, 0.9, 0.9), names=NAMES,
                   labels_used={"scmaskgan": True, "scmaskgan_nb": True}, preset="smoke")
    assert "The count model and the neighbour fill used these labels to impute and" in text
    assert "smoke preset" in text


def test_the_default_run_must_be_named():
    with pytest.raises(ValueError, match="default run"):
        verdict(_holdout(0.3, 0.4), _clusters(0.9, 0.9, 0.9), names={"scmaskgan_nb": "x"}, labels_used={})
