"""scmaskgan.verdicts.trajectory: the trajectory page's verdict on small hand-made path tables."""

from __future__ import annotations

import pandas as pd
import pytest

from scmaskgan._validation import InputError
from scmaskgan.verdicts.text import CIRCULAR
from scmaskgan.verdicts.trajectory import verdict


def _table(observed, count, others=None, unreached=None):
    """One row per method and path; each method's values are (spearman, discordant, misplaced) per path."""
    rows = []
    unreached = unreached or {}
    for method, values in {"observed": observed, "count model": count, **(others or {})}.items():
        for path, (rho, disc, mis) in zip(["H2228", "H1975", "HCC827"], values):
            rows.append({"method": method, "path": path, "spearman": rho, "discordant_pairs": disc,
                         "misplaced": mis, "n_wells": 50, "unreached": unreached.get(method, 0)})
    return pd.DataFrame(rows)


OBSERVED = [(0.8, 0.1, 5), (0.7, 0.15, 6), (0.9, 0.05, 2)]


def test_helped_names_the_numbers_and_the_best():
    better = [(0.9, 0.05, 3), (0.85, 0.06, 4), (0.95, 0.02, 1)]
    text = verdict(_table(OBSERVED, better, {"magic": [(0.7, 0.2, 9)] * 3}), data="CellBench's RNA mixtures")
    assert text.startswith("**Verdict.** On CellBench's RNA mixtures, the pseudotime of the observed counts")
    assert "mean Spearman's rho of 0.800" in text and "13 wells outside their level (summed over the paths)" in text
    assert "the mean rho rose from 0.800 to 0.900 (better)" in text
    assert "discordant pairs fell from 0.100 to 0.043 (better)" in text
    assert "went from 13 to 8" in text
    assert "count model helped the ordering" in text and "did not help" not in text
    assert "H2228 0.800 and 0.900, H1975 0.700 and 0.850 and HCC827 0.900 and 0.950" in text
    assert "magic 0.700" in text and "the count model is the best" in text
    assert "not circular" in text and CIRCULAR not in text


def test_did_not_help_both_ways():
    worse = [(0.6, 0.2, 9), (0.5, 0.25, 9), (0.7, 0.1, 4)]
    text = verdict(_table(OBSERVED, worse, {"magic": [(0.95, 0.01, 0)] * 3}), data="d")
    assert "the mean rho fell from 0.800 to 0.600 (worse)" in text
    assert "did not help; it ordered the wells by their known position worse" in text
    assert "helped the ordering" not in text
    assert "the count model is number 3; the best is magic (0.950)" in text
    same = [(0.81, 0.1, 5), (0.7, 0.15, 6), (0.9, 0.05, 2)]
    text = verdict(_table(OBSERVED, same), data="d")
    assert "did not help; the mean rho changed by less than 0.020" in text
    assert "Mean rho of the other methods" not in text


def test_circular_unreached_and_one_path():
    text = verdict(_table(OBSERVED, OBSERVED, {"knn_smoothing": [(-0.1, 0.6, 1)] * 3},
                          unreached={"knn_smoothing": 40}), data="d", circular=True)
    assert CIRCULAR in text and "not circular" not in text
    assert "knn_smoothing left 120 wells of the paths unreached, and its scores cover only" in text
    one = _table(OBSERVED, OBSERVED).query("path == 'H2228'")
    text = verdict(one, data="a simulated trajectory")
    assert "along the known path with" in text and "Per path" not in text and "summed over" not in text
    # 3 to 6 sentences
    assert 3 <= text.count(". ") + 1 <= 6


def test_errors():
    table = _table(OBSERVED, OBSERVED)
    with pytest.raises(InputError, match="no method 'count model'"):
        verdict(table[table["method"] == "observed"], data="d")
    with pytest.raises(InputError, match="lacks the columns"):
        verdict(table.drop(columns="misplaced"), data="d")
    assert "paper GAN" in verdict(table.replace({"count model": "paper GAN"}), data="d", default="paper GAN")
