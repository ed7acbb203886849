"""The gene-correlation page's verdict, on small hand-made metrics."""

import pytest

from scmaskgan._validation import InputError
from scmaskgan.verdicts import gene_correlation as V
from scmaskgan.verdicts.text import CIRCULAR


def row(ari, g2m=0.3, s=0.2, between=0.1):
    return {"within G2/M: mean r": g2m, "within S: mean r": s, "between sets: mean r": between,
            "all pairs: mean |r|": 0.2, "ARI of 2 clusters vs sets": ari}


def metrics(focus_before, focus_after, *, mode="count", labels_key="cell_type", auroc=(0.91, 0.961)):
    return {
        "mode": mode, "labels_key": labels_key, "focus_group": "fetal_replicating", "n_focus_cells": 25,
        "n_cell_cycle_genes": 97, "r_original_imputed_correlations": 0.968,
        "summary": {"original": row(0.0004), "imputed": row(0.012),
                    "original, only fetal_replicating": focus_before,
                    "imputed, only fetal_replicating": focus_after},
        "cell_cycle_score_auroc": {"original": auroc[0], "imputed": auroc[1]},
    }


def test_worse_ari_does_not_help_and_names_the_numbers():
    text = V.verdict(metrics(row(0.531, between=0.107), row(0.036, between=0.154)))
    assert text.startswith("**Verdict.**")
    assert "did not help" in text and "helped here" not in text
    assert "fell from 0.531 to 0.036 (worse)" in text
    assert "within the 25 fetal_replicating cells" in text
    assert "r = 0.968" in text and "97 cell-cycle genes" in text
    assert "between the two sets it rose from 0.107 to 0.154 (worse)" in text


def test_better_ari_and_wider_gap_helps():
    text = V.verdict(metrics(row(0.2, between=0.15), row(0.6, between=0.05)))
    assert "So imputation helped here" in text and "did not" not in text
    assert "rose from 0.200 to 0.600 (better)" in text


def test_mixed_evidence_is_not_called_help():
    text = V.verdict(metrics(row(0.274, between=0.012), row(0.326, between=0.049)))
    assert "did not clearly help" in text and "helped here" not in text


def test_unchanged_ari_does_not_help():
    text = V.verdict(metrics(row(0.5), row(0.52)))
    assert "did not help" in text and "stayed where it was" in text


def test_one_method_and_circular_auroc():
    text = V.verdict(metrics(row(0.531), row(0.036)))
    assert "count model (the default; this page compares no other method)" in text
    assert "AUROC 0.910 on the original and 0.961 on the imputed" in text
    assert CIRCULAR in text
    assert "not the default" in V.verdict(metrics(row(0.531), row(0.036), mode="neighbours"))


def test_no_labels_no_circular_claim_and_all_cells_fallback():
    m = metrics(row(0.531), row(0.036), labels_key=None)
    assert CIRCULAR not in V.verdict(m)
    m["focus_group"] = None
    for key in ("original, only fetal_replicating", "imputed, only fetal_replicating"):
        del m["summary"][key]
    text = V.verdict(m)
    assert "over all cells, the ARI" in text and "AUROC" not in text


def test_three_to_six_sentences():
    body = V.verdict(metrics(row(0.531), row(0.036))).removeprefix("**Verdict.** ")
    assert 3 <= body.count(". ") + 1 <= 6


def test_needs_the_summary():
    with pytest.raises(InputError):
        V.verdict({"summary": {"original": row(0.1)}})
