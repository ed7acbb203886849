"""scmaskgan.verdicts.marker_genes and the fill floor it reports, on small hand-made metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scmaskgan._validation import InputError
from scmaskgan.evaluation.genes import fill_floor
from scmaskgan.verdicts import marker_genes as V
from scmaskgan.verdicts.text import CIRCULAR


def _row(before: float, after: float, spearman: float) -> dict:
    return {"mean original": before, "mean imputed": after, "ratio imputed/original": after / before,
            "cluster-mean Spearman": spearman}


FLOORS = {"ATRX": {"group": "3", "zeros": 12, "lowest filled": 0.71, "observed mean": 1.27},
          "NTRK2": {"group": "6", "zeros": 40, "lowest filled": 0.14, "observed mean": 1.07}}


def test_control_raised_did_not_help_with_the_numbers() -> None:
    per_gene = {"ATRX": _row(0.42, 0.57, 1.0), "HIF1A": _row(0.40, 0.60, 0.96), "NTRK2": _row(0.036, 0.097, 0.45)}
    text = V.verdict(per_gene, control_genes=["NTRK2"], floors=FLOORS)
    assert text.startswith("**Verdict.** The count model (the default")
    assert "did not help" in text and "helped" not in text
    assert "NTRK2 more than 1.50-fold" in text and "2.69-fold (0.036 to 0.097)" in text
    assert "ATRX 1.36-fold (0.420 to 0.570)" in text and "at least 0.960 (HIF1A)" in text
    assert "group 3 of `louvain`" in text and "filled to 0.710 or more" in text
    assert CIRCULAR in text  # louvain conditioned the imputation and scores the pattern


def test_control_kept_helped_and_a_dataframe_works() -> None:
    per_gene = pd.DataFrame({"ATRX": _row(0.42, 0.57, 1.0), "NTRK2": _row(0.20, 0.22, 0.9)}).T
    text = V.verdict(per_gene, control_genes=["NTRK2"], floors={}, mode="neighbours")
    assert "helped the paper's question" in text and "did not help" not in text
    assert text.startswith("**Verdict.** The neighbour fill (not the default count model")
    assert "less than the markers" in text


def test_pattern_lost_is_said() -> None:
    per_gene = {"ATRX": _row(0.42, 0.57, 0.3), "NTRK2": _row(0.2, 0.2, 1.0)}
    text = V.verdict(per_gene, control_genes=["NTRK2"], floors={})
    assert "was not kept" in text and "did not keep the markers' pattern" in text and "did not help" in text


def test_circular_only_where_the_scored_groups_drove_the_imputation() -> None:
    per_gene = {"ATRX": _row(0.42, 0.57, 1.0)}
    # no labels, count model: one group of all cells drove nothing; scmaskgan's clusters are only scored
    assert CIRCULAR not in V.verdict(per_gene, control_genes=[], floors={}, labels_key=None, mode="count",
                                     group_key="scmaskgan_labels")
    # no labels, neighbour fill: scmaskgan's own clusters drove it and are scored
    assert CIRCULAR in V.verdict(per_gene, control_genes=[], floors={}, labels_key=None, mode="neighbours",
                                 group_key="scmaskgan_labels")
    # labels given but the pattern scored over other groups
    assert CIRCULAR not in V.verdict(per_gene, control_genes=[], floors={}, labels_key="louvain",
                                     group_key="leiden")


def test_fill_floor_by_hand() -> None:
    o = np.array([0, 0, 0, 2.0, 0, 0, 0, 1.0])
    i = np.array([0.7, 0.8, 0.9, 2.0, 0.1, 0.5, 0.2, 1.0])
    g = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    res = fill_floor(o, i, g)
    assert res == {"group": "a", "zeros": 3, "lowest filled": 0.7, "observed mean": 1.5}
    none = fill_floor(o, i, g, min_zeros=4)
    assert none["group"] is None and np.isnan(none["lowest filled"])
    with pytest.raises(InputError):
        fill_floor(o, i[:3], g)


def test_markers_too_sparse_are_named_not_judged() -> None:
    per_gene = {"ALK": dict(_row(0.002, 0.003, 0.2), **{"cells at 0 (input)": 0.99}),
                "ATRX": dict(_row(0.42, 0.57, 0.95), **{"cells at 0 (input)": 0.7}),
                "NTRK2": _row(0.2, 0.2, 1.0)}
    text = V.verdict(per_gene, control_genes=["NTRK2"], floors={})
    assert "was kept" in text and "at least 0.950 (ATRX; ALK, detected in under 5% of the cells, is too sparse to judge)" in text
    assert "helped the paper's question" in text
