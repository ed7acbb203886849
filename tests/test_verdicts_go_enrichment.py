"""The GO-enrichment page's verdict, on small hand-made metrics."""

import pytest

from scmaskgan._validation import InputError
from scmaskgan.verdicts import go_enrichment as V
from scmaskgan.verdicts.text import CIRCULAR


def group(n_o, n_i, n_b):
    return {"markers original": 10, "markers imputed": 9, "markers both": 8, "terms original": n_o,
            "terms imputed": n_i, "terms both": n_b, "terms Jaccard": None,
            "best term original": "", "best term imputed": ""}


def metrics(per_group, *, focus=(3, 3, 3), mode="count", labels_key="cell_type"):
    return {
        "cell_type": "neurons", "mode": mode, "labels_key": labels_key, "cutoff": 0.05,
        "n_significant_terms": {"original": focus[0], "imputed": focus[1]}, "terms_both": focus[2],
        "markers": {"original": ["A", "B", "C", "D"], "imputed": ["A", "B", "E"]},
        "per_cell_type": per_group,
    }


def test_lost_terms_do_not_help_and_are_named_with_numbers():
    text = V.verdict(metrics({"fetal_replicating": group(10, 0, 0), "endothelial": group(14, 1, 1),
                              "neurons": group(3, 3, 3)}))
    assert text.startswith("**Verdict.**")
    assert "did not help" in text and "helped by" not in text
    assert "fetal_replicating (10 to 0, 0 kept) and endothelial (14 to 1, 1 kept) lost most" in text
    assert "fell from 27 to 4 in sum" in text
    assert "2 of the 3 cell types" in text


def test_gained_terms_while_keeping_the_old_ones_help():
    text = V.verdict(metrics({"a": group(4, 9, 4), "b": group(2, 2, 2)}, focus=(4, 9, 4)))
    assert "So imputation helped by this count" in text and "did not help" not in text
    assert "a (4 to 9) gained terms" in text
    assert "GO terms with adjusted p < 0.05 rose from 4 to 9 (4 found on both)" in text


def test_no_change_does_not_help():
    text = V.verdict(metrics({"a": group(0, 0, 0), "b": group(2, 2, 2)}))
    assert "did not help: it neither added terms nor lost them" in text
    assert "stayed at 3" in text


def test_markers_one_method_and_circular():
    text = V.verdict(metrics({"a": group(1, 1, 1)}))
    assert "3 marker genes against 4 on the original data (2 in both)" in text
    assert "count model (the default; this page compares no other method)" in text
    assert CIRCULAR in text
    assert "not the default" in V.verdict(metrics({"a": group(1, 1, 1)}, mode="paper"))


def test_count_model_without_labels_is_not_circular():
    assert CIRCULAR not in V.verdict(metrics({"all": group(1, 1, 1)}, labels_key=None))
    assert CIRCULAR in V.verdict(metrics({"c1": group(1, 1, 1)}, labels_key=None, mode="neighbours"))


def test_three_to_six_sentences():
    body = V.verdict(metrics({"a": group(10, 0, 0)})).removeprefix("**Verdict.** ")
    assert 3 <= body.count(". ") + 1 <= 6


def test_counted():
    assert V.counted(10, 0) == "fell from 10 to 0"
    assert V.counted(1, 1234) == "rose from 1 to 1,234"


def test_needs_the_terms():
    with pytest.raises(InputError):
        V.verdict({"cell_type": "neurons"})
