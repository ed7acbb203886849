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
