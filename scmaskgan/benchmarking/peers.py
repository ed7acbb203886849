"""DeepImpute and DCA: baselines that run in their own environment (Python 3.8, TensorFlow 2.4).

``make peers`` creates ``.venv-peers/`` in the checkout (``$SCMASKGAN_PEERS_PYTHON`` can name
another interpreter); each run writes the input to a ``.npy`` file, runs
``scmaskgan/benchmarking/peers_runner.py`` (which imports nothing from scmaskgan) in that
interpreter in a subprocess, and reads its output back. The methods register here as
:class:`PeersBaseline` entries of :data:`~scmaskgan.benchmarking.registry.BASELINES`, so that
:func:`scmaskgan.benchmarking.baselines.run` runs them like any other.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .registry import BASELINES, Baseline, BaselineNotAvailableError

logger = logging.getLogger("scmaskgan")

__all__ = ["PEERS_PYTHON_VARIABLE", "PEERS_RUNNER", "PeersBaseline", "peers_python", "peers_versions"]

#: Environment variable that names the interpreter of the DeepImpute/DCA environment; without it,
#: ``.venv-peers/bin/python`` of the scmaskgan checkout (made by ``make peers``).
PEERS_PYTHON_VARIABLE = "SCMASKGAN_PEERS_PYTHON"
#: The script that the peers' interpreter runs (it imports nothing from scmaskgan).
PEERS_RUNNER = Path(__file__).with_name("peers_runner.py")
_PEERS_INSTALL = ("make peers (in the scmaskgan checkout: creates .venv-peers/ with Python 3.8 and TensorFlow 2.4 "
                  f"from peers-constraints.txt), or set {PEERS_PYTHON_VARIABLE} to a Python that has them")
_peers_found: set[tuple[str, str]] = set()  # (interpreter, tool) pairs already found (failures are checked again)


def peers_python() -> Path:
    """The interpreter that runs DeepImpute and DCA.

    Returns
    -------
    pathlib.Path
        ``$SCMASKGAN_PEERS_PYTHON`` when set, else ``.venv-peers/bin/python`` in the checkout that
        holds this package (``make peers`` creates it). The path may not exist.
    """
    named = os.environ.get(PEERS_PYTHON_VARIABLE, "").strip()
    if named:
        return Path(named).expanduser()
    return Path(__file__).resolve().parents[2] / ".venv-peers" / "bin" / "python"


def _peers_finds(python: Path, tool: str) -> bool:
    """Whether ``python`` exists and finds ``tool`` and TensorFlow (``peers_runner.py --check``, no import)."""
    key = (str(python), tool)
    if key in _peers_found:
        return True
    if not (python.is_file() and os.access(python, os.X_OK)):
        return False
    try:
        status = subprocess.run([str(python), "-I", str(PEERS_RUNNER), "--check", tool], capture_output=True,
                                timeout=120, check=False).returncode
    except (OSError, subprocess.SubprocessError):
        return False
    if status == 0:
        _peers_found.add(key)
    return status == 0


def peers_versions() -> dict[str, str]:
    """Versions of Python and the packages of the DeepImpute/DCA environment (empty when it is missing).

    Returns
    -------
    dict
        ``{"python": ..., "dca": ..., "deepimpute": ..., "tensorflow-cpu": ..., ...}`` as
        ``peers_runner.py --versions`` reports them.
    """
    python = peers_python()
    if not python.is_file():
        return {}
    try:
        proc = subprocess.run([str(python), "-I", str(PEERS_RUNNER), "--versions"], capture_output=True, text=True,
                              timeout=120, check=False)
        return dict(json.loads(proc.stdout)) if proc.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}


@dataclass(frozen=True)
class PeersBaseline(Baseline):
    """A method that runs in the DeepImpute/DCA environment (``peers_python()``), not in this Python.

    ``requires`` is the tool's module in that environment.
    """

    def is_available(self) -> bool:
        """Whether the environment's interpreter exists and finds the tool and TensorFlow."""
        return _peers_finds(peers_python(), str(self.requires))

    def check_available(self) -> None:
        """Raise :class:`~scmaskgan.benchmarking.registry.BaselineNotAvailableError`, naming ``make peers``, when the environment is missing."""
        if self.is_available():
            return
        python = peers_python()
        where = f"{PEERS_PYTHON_VARIABLE}={python}" if os.environ.get(PEERS_PYTHON_VARIABLE, "").strip() else python
        reason = (f"the package {self.requires!r} or tensorflow cannot be found by {where}" if python.is_file()
                  else f"its interpreter {where} does not exist")
        raise BaselineNotAvailableError(
            f"baseline {self.name!r} runs in its own environment (Python 3.8, TensorFlow 2.4), and {reason}; "
            f"create it with: {self.install}"
        )


def _register_peers(name: str, summary: str) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Register a ``PeersBaseline`` (the registry's decorator, with the tool's module as ``requires``)."""
    if name in BASELINES:
        raise ValueError(f"baseline {name!r} is registered twice")

    def decorator(func: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        BASELINES[name] = PeersBaseline(name, func, summary, requires=name, install=_PEERS_INSTALL)
        return func

    return decorator


def _run_peer(tool: str, x: np.ndarray, *, seed: int, threads: int | None, timeout: float | None,
              options: dict[str, Any]) -> np.ndarray:
    """Run ``peers_runner.py --tool TOOL`` on ``x`` in the peers' interpreter; return its output."""
    if threads is None:
        env_threads = os.environ.get("OMP_NUM_THREADS", "")
        threads = int(env_threads) if env_threads.isdigit() and int(env_threads) > 0 else 1
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    python = peers_python()
    env = dict(os.environ) | {name: str(threads) for name in
                              ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix=f"scmaskgan-{tool}-") as tmp:
        folder = Path(tmp)
        np.save(folder / "input.npy", x)
        cmd = [str(python), "-I", str(PEERS_RUNNER), "--tool", tool, "--input", str(folder / "input.npy"),
               "--output", str(folder / "output.npy"), "--info", str(folder / "info.json"), "--seed", str(seed),
               "--threads", str(threads), "--options", json.dumps(options)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{tool} ran past {timeout} s in {python}") from None
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise RuntimeError(f"{tool} failed in {python} (exit status {proc.returncode}): "
                               + " | ".join(line.strip() for line in tail))
        out = np.load(folder / "output.npy")
        info = json.loads((folder / "info.json").read_text())
    logger.info("%s %s (TensorFlow %s, Python %s, %d thread(s)): %.1f s, peak RSS %.0f MB in its own process",
                tool, info["version"], info["tensorflow"], info["python"], threads, info["method_s"],
                info["peak_rss_mb"])
    return out


@_register_peers(
    "dca",
    "DCA 0.3.4 (own Python 3.8 / TensorFlow 2.4 environment, `make peers`): zinb-conddisp autoencoder, "
    "defaults otherwise; the fitted mean on the count scale",
)
def _dca(x: np.ndarray, *, labels: Any = None, seed: int = 0, threads: int | None = None,
         timeout: float | None = None, **options: Any) -> np.ndarray:
    """DCA, the deep count autoencoder (Eraslan et al. 2019), in the environment of ``make peers``.

    ``dca.api.dca(adata, ae_type="zinb-conddisp", random_state=seed, threads=threads)`` with its
    defaults otherwise (denoise mode; size factors, log1p and scaling of the input; hidden layers
    64-32-64; at most 300 epochs, early stopping after 15; RMSprop): the settings of the anchor
    measured on sc_celseq2 with protocol A (RMSE 0.349, Pearson 0.532, Spearman 0.368, ARI 0.977)
    and protocol B (``rmse_zeros`` 1.197, ``r_zeros`` 0.238). DCA returns the mean of the fitted
    negative-binomial component times each cell's size factor (total count over the median total),
    i.e. counts on the input's scale, and that is returned as it is. Genes and cells without counts are left out of the fit and
    returned as 0. The runner turns TensorFlow's eager execution off before calling DCA, so that
    DCA's seeding reaches its graph and a seed gives one output (called as DCA's documentation shows,
    two runs with one seed differ). ``threads`` (default: ``$OMP_NUM_THREADS``, else 1) sets
    TensorFlow's thread pools; ``timeout`` kills the run after that many seconds; other ``options``
    (for example ``epochs``) go to ``dca.api.dca``. The work is done by
    ``scmaskgan/benchmarking/peers_runner.py`` in ``peers_python()``. Labels are not used.
    """
    return _run_peer("dca", x, seed=seed, threads=threads, timeout=timeout, options=options)


@_register_peers(
    "deepimpute",
    "DeepImpute 1.2 (own Python 3.8 / TensorFlow 2.4 environment, `make peers`): its defaults; zeros "
    "replaced, observed counts kept",
)
def _deepimpute(x: np.ndarray, *, labels: Any = None, seed: int = 0, threads: int | None = None,
                timeout: float | None = None, **options: Any) -> np.ndarray:
    """DeepImpute (Arisdakessian et al. 2019), in the environment of ``make peers``.

    ``deepimpute.multinet.MultiNet(seed=seed, ncores=threads)`` with its defaults otherwise
    (sub-networks of 512 target genes with 5 predictors each, a dense layer of 256 with dropout
    0.2, learning rate 1e-4, batch 64, at most 500 epochs with patience 5), ``fit`` and ``predict``
    with theirs (``minVMR=0.5``, ``policy="restore"``): the settings of the anchor measured on
    sc_celseq2 with protocol A (RMSE 0.306, Pearson 0.509, Spearman 0.407, ARI 0.398) and protocol B
    (``rmse_zeros`` 1.414, ``r_zeros`` 0.058). DeepImpute works on ``log1p`` of the raw counts (no library-size
    scaling) and converts its prediction back with ``expm1``; with ``policy="restore"`` the
    non-zero input counts are kept and only zeros are replaced, so its output is on the input's
    count scale and is returned as it is. DeepImpute refuses inputs whose largest count is below 10.
    ``threads``, ``timeout`` and the execution as for ``dca``; other ``options`` go to ``MultiNet``
    (for example ``max_epochs``) or to ``MultiNet.fit`` (``minVMR``, ``n_pred``, ...). Labels are
    not used.
    """
    return _run_peer("deepimpute", x, seed=seed, threads=threads, timeout=timeout, options=options)


