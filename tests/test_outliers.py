"""One corrupt entry is reported before training, and cannot poison the rest of its cell."""

from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from scmaskgan import SCMaskGAN, pp
from scmaskgan.outliers import FACTOR, cap_outliers, find_outliers

FORMATS = [np.asarray, sp.csr_matrix, sp.csc_matrix]
FAST = dict(mode="count", max_epochs=4, progress=False, hidden_dim=32, latent_dim=8, noise_dim=4, device="cpu")


def _small() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.poisson(3.0, size=(8, 6)).astype(np.float64)


def _found(X) -> set[tuple[int, int]]:
    found = find_outliers(X)
    return set(zip(found.rows.tolist(), found.cols.tolist()))


# ---------------------------------------------------------------------------------------
# the finder


@pytest.mark.parametrize("form", FORMATS)
def test_a_corrupt_entry_is_found_with_its_cell_and_gene_maxima(form) -> None:
    x = _small()
    x[2, 1] = 1e9
    found = find_outliers(form(x))
    assert (found.rows.tolist(), found.cols.tolist(), found.values.tolist()) == ([2], [1], [1e9])
    others = x.copy()
    others[2, 1] = 0
    assert found.row_max[0] == others[2].max() and found.col_max[0] == others[:, 1].max()
    assert found.caps[0] == max(others[2].max(), others[:, 1].max())


@pytest.mark.parametrize("form", FORMATS)
def test_several_corrupt_entries_are_each_found(form) -> None:
    x = _small()
    x[0, 0], x[3, 4], x[7, 5] = 1e12, 2.0**60, 5e4
    assert _found(form(x)) == {(0, 0), (3, 4), (7, 5)}


@pytest.mark.parametrize("form", FORMATS)
def test_a_gene_high_everywhere_or_a_cell_deep_everywhere_is_not_flagged(form) -> None:
    x = _small()
    x[:, 3] = 1e6 + np.arange(8)  # a gene far above the others, in every cell
    x[5] = 1e7 + np.arange(6)  # a cell far deeper than the others, in every gene
    assert _found(form(x)) == set()
    x[5, 3] = 1e12  # but far above both its row and its column
    assert _found(form(x)) == {(5, 3)}


@pytest.mark.parametrize("form", FORMATS)
def test_ties_at_the_maximum_are_not_flagged(form) -> None:
    x = _small()
    x[2, 1] = x[6, 1] = 1e9  # two cells agree on a gene
    x[4, 0] = x[4, 5] = 1e9  # two genes agree in a cell
    assert _found(form(x)) == set()
    x[6, 1] = 1e9 - 1  # almost a tie: its neighbour is no outlier either
    assert _found(form(x)) == set()


@pytest.mark.parametrize("form", FORMATS)
def test_threshold_and_floor_of_one(form) -> None:
    x = np.zeros((4, 3))
    x[1, 2] = FACTOR  # alone in its cell and gene: compared with 1
    assert _found(form(x)) == set()
    x[1, 2] = FACTOR + 1
    assert _found(form(x)) == {(1, 2)}
    x[0, 2] = 2.0  # its gene's other value is now 2: the bar is 200
    assert _found(form(x)) == set()
    x[1, 2] = 2 * FACTOR + 1
    assert _found(form(x)) == {(1, 2)}


@pytest.mark.parametrize("form", FORMATS)
def test_cap_changes_a_copy_only(form) -> None:
    x = _small()
    x[2, 1] = 1e9
    given = form(x.copy())
    found = find_outliers(given)
    capped = cap_outliers(given, found)
    dense = capped.toarray() if sp.issparse(capped) else capped
    expected = x.copy()
    expected[2, 1] = found.caps[0]
    np.testing.assert_array_equal(dense, expected)
    np.testing.assert_array_equal(given.toarray() if sp.issparse(given) else given, x)  # the input as given
    assert not len(find_outliers(capped))
    clean = form(_small())
    assert cap_outliers(clean, find_outliers(clean)) is clean


def _brute_force(x: np.ndarray, factor: float) -> set[tuple[int, int]]:
    found = set()
    for i, j in np.ndindex(*x.shape):
        row, col = np.delete(x[i], j), np.delete(x[:, j], i)
        if x[i, j] > factor * max(1.0, row.max(initial=0), col.max(initial=0)):
            found.add((i, j))
    return found


@pytest.mark.parametrize("seed", range(20))
def test_finder_agrees_with_the_definition_on_random_matrices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(0.5, 4.0, size=(12, 9))).astype(np.float64) * (rng.random((12, 9)) < 0.6)
    for _ in range(rng.integers(0, 6)):  # planted values, some tied, some just around the bar
        x[rng.integers(12), rng.integers(9)] = rng.choice([1e9, 1e9, 50.0, 3e3, 2e4])
    expected = _brute_force(x, factor=10.0)
    for form in FORMATS:
        found = find_outliers(form(x), factor=10.0)
        assert set(zip(found.rows.tolist(), found.cols.tolist())) == expected
        for i, j, row, col in zip(found.rows, found.cols, found.row_max, found.col_max):
            assert row == np.delete(x[i], j).max() and col == np.delete(x[:, j], i).max()


@pytest.mark.parametrize("name", ["sc_celseq2", "sc_dropseq", "darmanis_brain", "gsm5768752"])
def test_no_entry_of_real_data_is_flagged(data_dir, name: str) -> None:
    from scmaskgan import datasets

    X = datasets.load(name).X
    assert len(find_outliers(X)) == 0
    loose = find_outliers(X, factor=0.0)  # every candidate: none is even 3 times its cell's and gene's others
    assert (loose.values / np.maximum(1, np.maximum(loose.row_max, loose.col_max))).max() < 3


# ---------------------------------------------------------------------------------------
# the model: warned at construction, capped for training and answers, kept in the output

CELL = 7


def _poisoned(tiny_counts, value: float) -> tuple[ad.AnnData, int]:
    adata = tiny_counts.copy()
    x = np.asarray(adata.X, dtype=np.float64)
    gene = int(np.flatnonzero(x[CELL] > 0)[0])
    x[CELL, gene] = value
    adata.X = x
    return adata, gene


def _answers(model: SCMaskGAN) -> dict[str, np.ndarray]:
    blocks: dict[str, list] = {}
    for _, _, answers in model.iter_answers():
        for name, block in answers.items():
            blocks.setdefault(name, []).append(block)
    return {name: np.concatenate(parts) for name, parts in blocks.items()}


def _constructed(adata: ad.AnnData, **kwargs) -> tuple[SCMaskGAN, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model = SCMaskGAN(adata, seed=3, **FAST, **kwargs)
    return model, [w for w in seen if "times every other value" in str(w.message)]


@pytest.mark.parametrize("value", [1e9, 1e300])
def test_corrupt_entry_is_reported_before_training_and_does_not_poison_its_cell(tiny_counts, value: float) -> None:
    clean = _answers(SCMaskGAN(tiny_counts, seed=3, **FAST).train())
    adata, gene = _poisoned(tiny_counts, value)
    model, seen = _constructed(adata)
    assert len(seen) == 1 and seen[0].category is UserWarning  # before train() is called
    message = str(seen[0].message)
    assert f"cell 'cell{CELL}', gene 'gene{gene}': {value:g}" in message
    assert "capped at" in message and "the observed value is kept in the output" in message
    poisoned = _answers(model.train())
    x = np.asarray(tiny_counts.X)
    rest = np.flatnonzero(x[CELL] == 0)
    for name in ("mean", "if_detected", "p_detected"):
        assert np.isfinite(poisoned[name]).all()
        ratio = np.median(poisoned[name][CELL, rest] / clean[name][CELL, rest])
        assert 0.5 < ratio < 2, (name, ratio)
    assert poisoned["mean"][CELL, gene] == value  # the observed value as given
    other = np.arange(x.shape[0]) != CELL  # the other cells hardly move either
    ratio = np.median(poisoned["mean"][other][x[other] == 0] / clean["mean"][other][x[other] == 0])
    assert 0.5 < ratio < 2


@pytest.mark.parametrize("mode", ["neighbours", "paper"])
def test_every_method_reads_the_capped_counts(tiny_counts, mode: str) -> None:
    adata, gene = _poisoned(tiny_counts, 1e9)
    with pytest.warns(UserWarning, match="times every other value"):
        model = SCMaskGAN(adata, mode=mode, labels_key="cell_type", progress=False, device="cpu")
    assert model.data.X.max() < 1e3 and model.data.lib[CELL] < 1e4


def test_run_summary_lists_the_capped_entries_and_writes(tiny_counts, tmp_path: Path) -> None:
    adata, gene = _poisoned(tiny_counts, 1e300)
    with pytest.warns(UserWarning, match="times every other value"):
        pp.impute(adata, seed=3, **FAST)
    listed = adata.uns["scmaskgan"]["outliers"]
    assert listed["cells"] == [f"cell{CELL}"] and listed["genes"] == [f"gene{gene}"]
    assert listed["values"] == [1e300] and 0 < listed["capped_at"][0] < 1e3
    assert adata.layers["scmaskgan"][CELL, gene] == 1e300
    adata.write_h5ad(tmp_path / "out.h5ad")
    back = ad.read_h5ad(tmp_path / "out.h5ad").uns["scmaskgan"]["outliers"]
    assert list(back["cells"]) == [f"cell{CELL}"] and float(back["values"][0]) == 1e300
    clean = tiny_counts.copy()
    pp.impute(clean, seed=3, **FAST)
    assert "outliers" not in clean.uns["scmaskgan"]


def test_warning_lists_five_entries_and_counts_the_rest(tiny_counts) -> None:
    adata = tiny_counts.copy()
    x = np.asarray(adata.X, dtype=np.float64)
    for k in range(7):
        x[k, k] = 1e9 + k
    adata.X = x
    _, seen = _constructed(adata)
    message = str(seen[0].message)
    assert message.startswith("7 entries are more than 100 times")
    assert message.count("; capped at ") == 5 and "; and 2 more." in message


def test_values_beyond_float32_that_agree_are_refused_before_training(tiny_counts) -> None:
    from scmaskgan._validation import InputError

    adata = tiny_counts.copy()
    x = np.asarray(adata.X, dtype=np.float64)
    x[0, 0] = x[1, 0] = 1e300  # two cells agree: no outlier, and no count the model can compute with
    adata.X = x
    with pytest.raises(InputError, match="values above 3.40282e\\+38"):
        SCMaskGAN(adata, **FAST)


def test_benchmark_script_reports_the_largest_ratio_and_finds_the_planted_entry(require_files):
    import subprocess
    import sys
    from pathlib import Path

    require_files("sc_celseq2.count.csv.gz")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "outliers.py"
    proc = subprocess.run([sys.executable, str(script), "--datasets", "sc_celseq2", "--cells", "2000", "--genes", "100"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| sc_celseq2 | 274 x 28,204 | 1.16 |" in proc.stdout
    assert "1 found (1 planted)" in proc.stdout
