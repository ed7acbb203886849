"""The benchmark's data sets prepared for both protocols (scmaskgan.benchmarking.data)."""

from __future__ import annotations

import numpy as np
import pytest

from scmaskgan.benchmarking import DatasetSpec, prepare
from scmaskgan.benchmarking import data as benchmark_data



def test_prepared_names_its_genes_and_gives_the_inputs_by_protocol(tiny_counts):
    data = prepare("tiny", DatasetSpec("cell_type", n_top=40, loader=lambda: tiny_counts))
    assert data.counts is data.truth and data.lib is data.lib_orig
    assert data.genes.size == 40 and np.all(np.diff(data.genes) > 0)
    assert list(data.gene_names) == list(tiny_counts.var_names[data.genes])
    assert np.array_equal(data.counts, np.asarray(tiny_counts.X[:, data.genes], dtype=np.float64))
    inputs = data.inputs()
    assert list(inputs) == ["A", "B"]
    assert inputs["A"] is data.protocol_a()[0] and inputs["B"] is data.protocol_b()
    assert list(data.inputs(["B"])) == ["B"]
    with pytest.raises(ValueError, match="'C'"):
        data.inputs(["A", "C"])


def test_score_answers_scores_each_protocol_on_its_answer(monkeypatch):
    seen = []
    monkeypatch.setattr(benchmark_data.Prepared, "score",
                        lambda self, protocol, imputed: seen.append((protocol, imputed[0, 0])))
    answers = {"mean": np.array([[1.0]]), "if_detected": np.array([[2.0]])}
    for protocol in ("A", "B"):
        benchmark_data.Prepared.score_answers(object.__new__(benchmark_data.Prepared), protocol, answers)
    assert seen == [("A", 2.0), ("B", 1.0)]
