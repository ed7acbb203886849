"""Shared fixtures.

Real data: set ``SCMASKGAN_DATA`` to a folder holding the registered files (see
``scmaskgan.datasets.REGISTRY``). When it is unset, ``../shared/data`` beside the repository
is used if it exists. A test that needs a missing file is skipped, or fails when the
environment variable ``CI`` is set (so that CI cannot pass by skipping).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import anndata as ad  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

_REPO = Path(__file__).resolve().parent.parent
_FALLBACK_DATA = _REPO.parent / "shared" / "data"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so missing data is an error)")
    pytest.skip(reason)


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Folder of real data files (``SCMASKGAN_DATA``), also exported for ``fetch``.

    The download cache is pointed at an empty temporary folder so that tests never read
    or write the user's cache.
    """
    env = os.environ.get("SCMASKGAN_DATA")
    folder = (Path(env) if env else _FALLBACK_DATA).resolve()
    if not folder.is_dir():
        _missing(f"real data folder not found: set SCMASKGAN_DATA (tried {folder})")
    monkeypatch.setenv("SCMASKGAN_DATA", str(folder))
    monkeypatch.setenv("SCMASKGAN_CACHE", str(tmp_path / "cache"))
    return folder


@pytest.fixture
def require_files(data_dir: Path) -> Callable[..., Path]:
    """Call with file names; skips (or fails under CI) unless all are in ``data_dir``."""

    def check(*names: str) -> Path:
        missing = [n for n in names if not (data_dir / n).is_file()]
        if missing:
            _missing(f"data files missing from {data_dir}: {', '.join(missing)}")
        return data_dir

    return check


@pytest.fixture
def tiny_counts() -> ad.AnnData:
    """60 cells x 50 genes of negative-binomial counts, 3 labels, about half zeros, seeded."""
    rng = np.random.default_rng(12345)
    n_cells, n_genes, n_labels = 60, 50, 3
    labels = np.repeat(np.arange(n_labels), n_cells // n_labels)
    base = rng.gamma(shape=0.8, scale=2.5, size=(n_labels, n_genes))
    mean = base[labels] * rng.lognormal(0.0, 0.3, size=(n_cells, 1))
    dispersion = 2.0
    lam = rng.gamma(shape=dispersion, scale=mean / dispersion)
    counts = rng.poisson(lam).astype(np.float32)
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical([f"type{i}" for i in labels])},
        index=[f"cell{i}" for i in range(n_cells)],
    )
    var = pd.DataFrame(index=[f"gene{j}" for j in range(n_genes)])
    return ad.AnnData(X=counts, obs=obs, var=var)


def _two_cell_types(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Counts of two cell types, 60 genes: type 1 expresses genes 0-29, type 2 genes 30-59."""
    rng = np.random.default_rng(seed)
    means = np.ones((2, 60))
    means[0, :30] = means[1, 30:] = 20.0
    labels = np.repeat([0, 1], n // 2)
    return rng.poisson(means[labels]).astype(float), labels.astype(str)


@pytest.fixture
def two_cell_types() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``make(n=20, seed=0)``: Poisson counts of ``n`` cells of two types (60 genes) and their labels."""
    return _two_cell_types


#: Count-model settings of the questions' tests. The simulated counts below are deep enough to be tried
#: as read counts (scmaskgan.count.read_counts); these tests are about the questions, so the counts are
#: read as they are.
COUNT_MODEL_FAST = dict(mode="count", max_epochs=4, progress=False, hidden_dim=32, latent_dim=8, noise_dim=4,
                        reads_per_molecule=1.0, hide=0.0)


@pytest.fixture(scope="session")
def prepared():
    """80 simulated cells x 60 genes, 3 groups, through the benchmark's set-up."""
    import scmaskgan
    from scmaskgan.benchmarking import DatasetSpec, prepare

    def loader():
        adata = scmaskgan.simulate.simulate(80, 60, 3, seed=1, keep_truth=False)
        adata.X = adata.X.astype("float32")
        return adata

    return prepare("sim", DatasetSpec("group", n_top=60, loader=loader))


@pytest.fixture(scope="session")
def models(prepared):
    """Count models fitted (a few epochs, true labels) on protocol A's and protocol B's inputs."""
    from scmaskgan import SCMaskGAN

    fitted = {}
    for protocol, counts in prepared.inputs().items():
        fitted[protocol] = SCMaskGAN(prepared.anndata(counts), labels_key="group", seed=2,
                                     **COUNT_MODEL_FAST).train()
    return fitted
