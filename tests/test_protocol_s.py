"""Protocol S (scmaskgan.evaluation.protocol_s): structure that is not there, on made-up cases and on the
real data's anchor."""

from __future__ import annotations

import numpy as np
import pytest

from scmaskgan._validation import InputError
from scmaskgan.evaluation import protocol_s as P


def test_invented_structure_on_two_made_up_groups_and_on_noise():
    rng = np.random.default_rng(0)
    base = rng.gamma(2.0, 2.0, size=60)
    noise = rng.poisson(np.tile(base, (80, 1)))
    split = noise.copy().astype(float)
    split[:40, :20] *= 30  # half the cells get 20 genes up: two groups that stand apart
    apart, flat = P.invented_structure(split), P.invented_structure(noise)
    assert apart["silhouette"] > 0.25 > flat["silhouette"]  # measured 0.33 and 0.06
    assert apart["cluster_sizes"] == [40, 40] and len(apart["clusters"]) == 80
    assert set(apart["clusters"][:40]).isdisjoint(apart["clusters"][40:])
    assert flat["n_clusters"] > 2  # Leiden at resolution 1 splits even a population without structure
    with pytest.raises(InputError, match="no counts"):
        P.invented_structure(np.vstack([noise, np.zeros((1, 60))]))
    with pytest.raises(InputError, match="more cells"):
        P.invented_structure(noise[:10])


def test_protocol_s_input_reproduces_the_anchor(require_files):
    """The anchor: the procedure on sc_celseq2's H1975 cells of protocol A's input gives -0.056."""
    require_files("sc_celseq2.count.csv.gz", "sc_celseq2.metadata.csv.gz")
    from scmaskgan.benchmarking import prepare

    prepared = prepare("sc_celseq2")
    cells = P.single_population_input(prepared, "H1975")
    assert cells.shape == (114, 2000)
    result = P.invented_structure(cells)
    assert result["silhouette"] == pytest.approx(-0.056, abs=0.01)
    assert result["n_clusters"] == 6
    with pytest.raises(InputError, match="no cell has the label"):
        P.single_population_input(prepared, "A549")
