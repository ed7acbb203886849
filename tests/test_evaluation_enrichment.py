"""scmaskgan.evaluation.enrichment: marker genes and offline enrichment, on small cases computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from scmaskgan._validation import InputError
from scmaskgan.evaluation import enrichment as E


def _values():
    rng = np.random.default_rng(0)
    values = rng.uniform(0.0, 0.2, size=(40, 8))
    values[:20, 0] += 3.0  # g0 marks group A
    values[20:, 1] += 3.0  # g1 marks group B
    return values, [f"g{j}" for j in range(8)], ["A"] * 20 + ["B"] * 20


def test_rank_and_select_markers():
    values, names, groups = _values()
    ranked = E.rank_markers(values, names, groups)
    a = E.select_markers(ranked, "A", n_markers=5, min_logfc=1.0, max_padj=0.05)
    b = E.select_markers(ranked, "B", n_markers=5, min_logfc=1.0, max_padj=0.05)
    assert list(a["names"]) == ["g0"] and list(b["names"]) == ["g1"]
    loose = E.select_markers(ranked, "A", n_markers=2, min_logfc=-100, max_padj=1.1)
    assert len(loose) == 2 and loose["names"].iloc[0] == "g0"  # at most n_markers, best first
    with pytest.raises(InputError, match="not a group"):
        E.select_markers(ranked, "C")
    with pytest.raises(InputError, match="groups for"):
        E.rank_markers(values, names, groups[:3])


@pytest.fixture
def gmt(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text("SET1\tdesc\tg0\tg1\tg2\nSET2\tdesc\tg3\tg4\tg5\tg6\nSET3\tdesc\tg0\tg7\n")
    return path


def test_read_gene_sets_and_enrich_by_hand(gmt, monkeypatch):
    monkeypatch.setenv("GMTDIR", str(gmt.parent))
    path, library = E.read_gene_sets("$GMTDIR/sets.gmt")
    assert path == gmt and library["SET1"] == ["g0", "g1", "g2"]
    with pytest.raises(InputError, match="not found"):
        E.read_gene_sets(str(gmt.parent / "none.gmt"))
    background = [f"g{j}" for j in range(10)]
    res = E.enrich(["g0", "g1", "g2"], gmt, background)
    assert res["Term"].iloc[0] == "SET1" and set(res["Term"]) == {"SET1", "SET3"}  # SET2 overlaps no gene
    # SET1: all 3 of its genes among the 3 chosen of 10: P(X >= 3) = 1 / C(10, 3)
    assert res.loc[res["Term"] == "SET1", "P-value"].iloc[0] == pytest.approx(hypergeom.sf(2, 10, 3, 3))
    assert list(res["P-value"]) == sorted(res["P-value"])
    empty = E.enrich([], gmt, background)
    assert empty.empty and list(empty.columns) == E.ENRICH_COLUMNS


def _table(terms_p: dict) -> pd.DataFrame:
    return pd.DataFrame({"Term": list(terms_p), "Adjusted P-value": list(terms_p.values())})


def test_significant_and_compare_terms():
    original = _table({"t1": 0.001, "t2": 0.01, "t3": 0.5})
    imputed = _table({"t1": 0.01, "t4": 0.0001})
    assert E.significant_terms(original, 0.05) == {"t1", "t2"}
    table, summary = E.compare_terms({"original": original, "imputed": imputed}, 0.05)
    assert table.loc["t1", "original"] == pytest.approx(3.0) and table.loc["t4", "imputed"] == pytest.approx(4.0)
    assert table.loc["t4", "original"] == 0.0 and table.loc["t3", "imputed"] == 0.0
    assert table["found on"].to_dict() == {"t1": "both", "t2": "only original", "t3": "neither",
                                           "t4": "only imputed"}
    assert summary == {"n_significant": {"original": 2, "imputed": 2}, "both": 1, "only original": 1,
                       "only imputed": 1, "jaccard": pytest.approx(1 / 3)}
    _, none = E.compare_terms({"original": _table({"t": 0.9}), "imputed": _table({})}, 0.05)
    assert np.isnan(none["jaccard"])
    with pytest.raises(InputError):
        E.compare_terms({"original": original}, 0.05)


def test_enrichment_by_group(gmt):
    values, names, groups = _values()
    ranked = {k: E.rank_markers(values, names, groups) for k in ("original", "imputed")}
    table = E.enrichment_by_group(ranked, gmt, names, 1.0, n_markers=5, min_logfc=1.0, max_padj=0.05)
    assert list(table.index) == ["A", "B"]
    assert table.loc["A", "markers original"] == 1 and table.loc["A", "markers both"] == 1
    assert table.loc["A", "best term original"] in {"SET1", "SET3"}  # g0 is in both
    assert table.loc["B", "best term imputed"] == "SET1"  # g1
