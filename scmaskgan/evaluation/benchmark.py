"""Benchmark: imputation methods x datasets under the held-out protocols.

``scmaskgan benchmark --datasets sc_celseq2,sc_dropseq --methods none,magic,scmaskgan --out DIR``
runs each method on each dataset with protocol A (10% of the non-zero entries hidden) and
protocol B (binomial thinning to 30% of the molecules) of :mod:`scmaskgan.evaluation.protocols`
(../shared/BENCHMARK.md), and writes into ``DIR``:

* ``benchmark.csv``: one row per dataset x protocol x method with every metric
  (protocol A: ``rmse``, ``pearson``, ``spearman``, ``mae``, ``share_zero``, ``ari``, ``nmi``;
  protocol B: ``rmse_zeros``, ``r_zeros``, ``rmse_dropouts``, ``mean_at_true_zeros``,
  ``r_all``), the cost (``wall_s``, ``method_s``, ``peak_rss_mb``) and ``status``/``error``;
* ``benchmark.md``: the same as markdown tables, one per dataset and protocol, with the
  versions used and the dataset settings;
* ``versions.json``: Python, the packages and the machine.

Cost. Every method run happens in its own child process (``python -m scmaskgan.evaluation.benchmark``
reading the input from a ``.npy`` file and writing its output to another), so that memory
is per method: ``peak_rss_mb`` is the child's peak resident set size, ``VmHWM`` of
``/proc/self/status`` read by the child just before it exits (the number ``/usr/bin/time -v``
prints as "Maximum resident set size"), and ``wall_s`` is the child's wall time from start
to exit. Both include starting Python, importing the method's packages and reading/writing
the matrices, as a command-line run under ``/usr/bin/time -v`` would; ``method_s`` is the
time of the method call alone. ``--threads N`` limits each child's thread pools to N
threads (``OMP_NUM_THREADS`` and its kin; on a shared or busy machine, torch's two spinning
OpenMP threads can cost several times the CPU time of one). (``ru_maxrss`` of the child, from ``os.wait4`` or
``RUSAGE_CHILDREN``, is not used: Linux counts the parent's memory at the fork into it, and
``RUSAGE_CHILDREN`` keeps the maximum over all children so far. Where ``/proc`` is missing
the child's own ``ru_maxrss`` is used, which has the same fork caveat.)

Methods. ``scmaskgan`` runs its default mode with the dataset's true labels, ``scmaskgan_auto``
with automatic (Leiden) labels, ``scmaskgan_paper`` the paper's mode (trained GAN, generated
candidates) with true labels; the other names are those of :mod:`scmaskgan.evaluation.baselines`, whose docstrings
state their settings. Only scMASKGAN uses labels. ``--quick`` trains scMASKGAN for 2 epochs
without tuning and with 64 candidates per label (scVI for 2 epochs): a smoke test of the
pipeline whose rows are not results.

Datasets and their labels are in :data:`DATASETS`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("scmaskgan")

__all__ = [
    "DATASETS",
    "DEFAULT_DATASETS",
    "DEFAULT_METHODS",
    "METHODS",
    "METRICS",
    "DatasetSpec",
    "MethodSpec",
    "Prepared",
    "prepare",
    "run_benchmark",
    "run_in_child",
    "versions",
]


@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset enters the benchmark.

    Attributes
    ----------
    labels_key
        ``obs`` column with the labels that clustering is scored against (and that
        ``scmaskgan`` is conditioned on).
    load_kwargs
        Options of :func:`scmaskgan.datasets.load`.
    note
        Why these settings, for the markdown report.
    n_top, min_cells
        Gene selection of protocol A, steps 3-4.
    loader
        Callable returning the AnnData (raw counts, cells x genes); ``None`` loads the
        dataset of that name with :func:`scmaskgan.datasets.load`.
    """

    labels_key: str
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    n_top: int = 2000
    min_cells: int = 3
    loader: Callable[[], Any] | None = None


#: Dataset settings of the benchmark, by dataset name (one table for all of them).
DATASETS: dict[str, DatasetSpec] = {
    "sc_celseq2": DatasetSpec(
        "cell_line_original", {"symbols": False},
        "all 274 cells as in the anchors; labels = the metadata's `cell_line` (kept by the loader "
        "as `cell_line_original`; demuxlet's call differs for 2 doublets)",
    ),
    "sc_dropseq": DatasetSpec(
        "cell_line_original", {"symbols": False},
        "all 225 cells as in the anchors; labels = the metadata's `cell_line`",
    ),
    "sc_celseq2_5cl_p1": DatasetSpec(
        "cell_line", {"symbols": False, "drop_doublets": True},
        "demuxlet singlets only (156 of 297 cells, 5 cell lines): a doublet has no single true "
        "cell line, and 141 doublets would dominate the clustering score",
    ),
    "darmanis_brain": DatasetSpec(
        "cell_type", {},
        "the paper's 420 cells of 8 types (no `hybrid`); raw read counts (not UMIs)",
    ),
    "ercc": DatasetSpec(
        "phase", {},
        "92 ERCC spike-ins (read counts): top-2000 keeps every spike-in detected in >= 3 cells; "
        "the labels are cell-cycle phases, which spike-ins do not carry (ARI near 0 is expected)",
    ),
    "gsm5768752": DatasetSpec(
        "louvain", {},
        "labels are the Louvain clusters of the scMASKGAN repository, not an independent truth",
    ),
}

#: Datasets that ``scmaskgan benchmark`` runs by default.
DEFAULT_DATASETS: tuple[str, ...] = ("sc_celseq2", "sc_dropseq", "sc_celseq2_5cl_p1", "darmanis_brain", "ercc")


@dataclass(frozen=True)
class MethodSpec:
    """A benchmark row: which baseline, whether it gets the true labels, quick-mode options."""

    baseline: str
    true_labels: bool = False
    quick_options: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    options: dict[str, Any] = field(default_factory=dict)


_QUICK_GAN = {"max_epochs": 2, "tune": False, "n_candidates": 64}

#: Benchmark method names (the rows of the tables).
METHODS: dict[str, MethodSpec] = {
    "none": MethodSpec("none", label="no imputation"),
    "magic": MethodSpec("magic", label="MAGIC (knn 5, t auto)"),
    "alra": MethodSpec("alra", label="ALRA (numpy)"),
    "knn_average": MethodSpec("knn_average", label="kNN average (PCA 30, k 15)"),
    "knn_smoothing": MethodSpec("knn_smoothing", label="kNN-smoothing v2.1 (k 15, d 10)"),
    "scvi": MethodSpec("scvi", quick_options={"max_epochs": 2}, label="scVI (400 epochs)"),
    "scmaskgan": MethodSpec("scmaskgan", true_labels=True, quick_options=_QUICK_GAN,
                            label="scMASKGAN, true labels"),
    "scmaskgan_auto": MethodSpec("scmaskgan", quick_options=_QUICK_GAN, label="scMASKGAN, automatic labels"),
    "scmaskgan_paper": MethodSpec("scmaskgan", true_labels=True, quick_options=_QUICK_GAN, options={"mode": "paper"},
                                  label="scMASKGAN paper mode (GAN candidates), true labels"),
}

#: Methods that ``scmaskgan benchmark`` runs by default.
DEFAULT_METHODS: tuple[str, ...] = (
    "none", "magic", "alra", "knn_average", "knn_smoothing", "scmaskgan", "scmaskgan_auto", "scmaskgan_paper",
)

#: Metric columns of each protocol.
METRICS: dict[str, tuple[str, ...]] = {
    "A": ("rmse", "pearson", "spearman", "mae", "share_zero", "ari", "nmi"),
    "B": ("rmse_zeros", "r_zeros", "rmse_dropouts", "mean_at_true_zeros", "r_all"),
}

_COLUMNS = (
    "dataset", "protocol", "method", "labels", "n_cells", "n_genes", "n_scored",
    *METRICS["A"], *METRICS["B"], "wall_s", "method_s", "peak_rss_mb", "threads", "seed", "quick", "status", "error",
)

_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "scanpy", "anndata", "magic-impute", "graphtools",
             "scvi-tools", "scmaskgan")


# ---------------------------------------------------------------------------------------
# versions


def _git_state() -> str | None:
    """Commit of the scmaskgan checkout, marked "modified" when the package's files differ from it."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=20, check=False).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "scmaskgan"],
                                 capture_output=True, text=True, timeout=20, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head} (modified)" if head and changed else head or None


def versions() -> dict[str, str]:
    """Versions of Python, the packages the benchmark uses, and the machine.

    Returns
    -------
    dict
        ``python``, each installed package of interest (``"not installed"`` otherwise),
        ``scmaskgan git`` (the commit of a git checkout, "(modified)" when the package's
        files differ from it), ``platform``, ``machine``, ``cpus``.
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    git = _git_state()
    if git:
        out["scmaskgan git"] = git
    out["platform"] = platform.platform()
    out["machine"] = platform.machine()
    out["cpus"] = str(os.cpu_count())
    return out


# ---------------------------------------------------------------------------------------
# data


@dataclass
class Prepared:
    """A benchmark data set after steps 1-4 of protocol A, and the inputs of both protocols.

    Attributes
    ----------
    name, spec
        The data set's name and its :class:`DatasetSpec`.
    truth
        Cells x selected genes, the counts before any corruption.
    lib_orig
        Each cell's total count over all genes of the file.
    labels
        The spec's label column, as strings.
    n_groups
        Number of distinct labels.
    """

    name: str
    spec: DatasetSpec
    truth: np.ndarray
    lib_orig: np.ndarray
    labels: np.ndarray
    n_groups: int
    _inputs: dict = field(default_factory=dict, repr=False, compare=False)

    def protocol_a(self) -> tuple[np.ndarray, np.ndarray]:
        """Protocol A's input (10% of the non-zero counts set to 0, seed 0) and the hidden flat indices."""
        from .protocols import hide_nonzero

        if "A" not in self._inputs:
            self._inputs["A"] = hide_nonzero(self.truth, 0.1, seed=0)
        return self._inputs["A"]

    def protocol_b(self) -> np.ndarray:
        """Protocol B's input: binomial thinning to 30% of the molecules (seed 0), float64."""
        from .protocols import thin

        if "B" not in self._inputs:
            self._inputs["B"] = thin(self.truth, 0.3, seed=0).astype(np.float64)
        return self._inputs["B"]

    def score(self, protocol: str, imputed: np.ndarray) -> dict:
        """Scores of a method's output on ``protocol``'s input: "A" held-out entries and clustering
        (:func:`~scmaskgan.evaluation.score_hidden`, :func:`~scmaskgan.evaluation.cluster_scores`),
        "B" the thinning scores (:func:`~scmaskgan.evaluation.score_thinning`)."""
        from .protocols import cluster_scores, score_hidden, score_thinning

        if protocol == "A":
            idx = self.protocol_a()[1]
            return (score_hidden(self.truth, imputed, idx, self.lib_orig)
                    | cluster_scores(imputed, self.lib_orig, self.labels))
        if protocol == "B":
            return score_thinning(self.truth, self.protocol_b(), imputed)
        raise ValueError(f"protocol must be 'A' or 'B', got {protocol!r}")

    def anndata(self, counts: np.ndarray):
        """``counts`` (cells x selected genes) as float32 AnnData with the labels in ``obs[spec.labels_key]``."""
        import anndata as ad
        import pandas as pd

        obs = pd.DataFrame({self.spec.labels_key: pd.Categorical(self.labels)},
                           index=[f"cell{i}" for i in range(len(self.labels))])
        return ad.AnnData(np.asarray(counts, dtype=np.float32), obs=obs)


def prepare(name: str, spec: DatasetSpec | None = None) -> Prepared:
    """Load a benchmark data set (:data:`DATASETS`) and apply steps 1-4 of protocol A (genes
    detected in >= 3 cells, top 2000 by variance)."""
    from .protocols import benchmark_genes

    if spec is None:
        if name not in DATASETS:
            raise ValueError(f"unknown benchmark data set {name!r}; known: {', '.join(DATASETS)}")
        spec = DATASETS[name]

    if spec.loader is not None:
        adata = spec.loader()
    else:
        from .. import datasets

        adata = datasets.load(name, **spec.load_kwargs)
    if spec.labels_key not in adata.obs.columns:
        raise ValueError(f"dataset {name!r} has no obs column {spec.labels_key!r} (labels of the benchmark)")
    x = adata.X
    counts = np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)
    labels = adata.obs[spec.labels_key].astype(str).to_numpy()
    lib, genes = benchmark_genes(counts, n_top=spec.n_top, min_cells=spec.min_cells)
    truth = counts[:, genes]
    n_groups = len(np.unique(labels))
    logger.info("benchmark %s: %d cells x %d genes (of %d), %d label groups (%s)",
                name, truth.shape[0], truth.shape[1], counts.shape[1], n_groups, spec.labels_key)
    return Prepared(name, spec, truth, lib, labels, n_groups)


# ---------------------------------------------------------------------------------------
# child process


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MB: ``VmHWM`` (Linux), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _child_env(threads: int | None) -> dict[str, str] | None:
    """Environment of a child: thread pools (OpenMP, hence torch; BLAS; numba) limited to ``threads``."""
    if threads is None:
        return None
    env = dict(os.environ)
    env.update({name: str(threads) for name in _THREAD_VARIABLES})
    return env


def run_in_child(task: dict[str, Any], folder: Path, tag: str, threads: int | None = None,
                 timeout: float | None = None) -> dict[str, Any]:
    """Run one method in a child process; return its wall time, peak memory and method time.

    Parameters
    ----------
    task
        ``baseline`` (a :mod:`scmaskgan.evaluation.baselines` name), ``input`` (a cells x genes ``.npy``
        of counts), ``labels`` (a ``.npy`` of labels or None), ``seed``, ``options`` (keyword
        arguments of the method), ``result`` (where the child writes its timing JSON),
        ``output`` (where it saves the imputed matrix; None: not saved) and ``log_level``.
    folder
        Where the task file and the child's log go.
    tag
        Name stem of those files.
    threads
        Thread limit of the child's numerical libraries (OMP_NUM_THREADS and kin).
    timeout
        Seconds after which the child is killed (a RuntimeError).

    Returns
    -------
    dict
        ``wall_s`` (the whole child process), ``peak_rss_mb`` (its VmHWM), ``method_s``
        (the method call alone).

    Raises
    ------
    RuntimeError
        The child failed or ran past ``timeout``; the message carries the end of its log.
    """
    task_file = folder / f"{tag}.task.json"
    log_file = folder / f"{tag}.log"
    task_file.write_text(json.dumps(task))
    cmd = [sys.executable, "-m", "scmaskgan.evaluation.benchmark", str(task_file)]
    with open(log_file, "wb") as log:
        start = time.perf_counter()
        try:
            returncode = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=_child_env(threads),
                                        check=False, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"timed out after {timeout} s") from None
        wall = time.perf_counter() - start
    if returncode != 0:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-15:]
        raise RuntimeError(f"exit status {returncode}: " + " | ".join(line.strip() for line in tail))
    result = json.loads(Path(task["result"]).read_text())
    return {"wall_s": wall, "peak_rss_mb": result["peak_rss_mb"], "method_s": result["method_s"]}


def _child_main(task_file: str) -> int:
    """Entry point of the child process: read the task, run the method, write the output."""
    task = json.loads(Path(task_file).read_text())
    logging.getLogger("scmaskgan").setLevel(task.get("log_level", "INFO"))
    from . import baselines

    counts = np.load(task["input"])
    labels = np.load(task["labels"]) if task.get("labels") else None
    start = time.perf_counter()
    out = baselines.run(task["baseline"], counts, labels=labels, seed=task["seed"], **task["options"])
    method_s = time.perf_counter() - start
    if task.get("output"):
        np.save(task["output"], out)
    Path(task["result"]).write_text(json.dumps({"method_s": method_s, "peak_rss_mb": _peak_rss_mb()}))
    return 0


# ---------------------------------------------------------------------------------------
# the benchmark


def _parse_names(kind: str, names: Sequence[str], known: Sequence[str]) -> list[str]:
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ValueError(f"no {kind} given")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown {kind} {', '.join(map(repr, unknown))}; choose from {', '.join(known)}")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{kind} listed twice: {', '.join(duplicated)}")
    return names


def _output_paths(out_dir: Path) -> dict[str, Path]:
    return {"csv": out_dir / "benchmark.csv", "md": out_dir / "benchmark.md", "versions": out_dir / "versions.json"}


def run_benchmark(datasets: Sequence[str] = DEFAULT_DATASETS, methods: Sequence[str] = DEFAULT_METHODS,
                  protocols: Sequence[str] = ("A", "B"), out_dir: str | os.PathLike = "benchmark", *,
                  quick: bool = False, seed: int = 0, device: str = "auto", threads: int | None = None,
                  force: bool = False, command: str = "") -> Any:
    """Run methods x datasets x protocols and write the CSV, markdown and versions files.

    Parameters
    ----------
    datasets
        Names from :data:`DATASETS`.
    methods
        Names from :data:`METHODS`.
    protocols
        ``"A"`` and/or ``"B"``.
    out_dir
        Folder for ``benchmark.csv``, ``benchmark.md`` and ``versions.json`` (created).
    quick
        Train scMASKGAN for 2 epochs without tuning and scVI for 2 epochs (a smoke test; not results).
    seed
        Seed of every method (the protocols' corruption always uses seed 0).
    device
        ``device`` of scMASKGAN (``"auto"``, ``"cpu"``, ``"cuda"``).
    threads
        Limit every child's thread pools (OpenMP, which torch follows; BLAS; numba) to this many
        threads through ``OMP_NUM_THREADS`` and its kin; ``None`` keeps the libraries' defaults.
    force
        Overwrite existing output files.
    command
        The command line, recorded in the markdown report.

    Returns
    -------
    pandas.DataFrame
        The rows of ``benchmark.csv``. A failed method run has ``status`` ``"failed"`` and
        its ``error``; the other runs go on.

    Raises
    ------
    ValueError
        Unknown or repeated names, or a method whose optional package is missing.
    FileExistsError
        Output files exist and ``force`` is false.
    """
    from . import baselines

    datasets = _parse_names("dataset", datasets, list(DATASETS))
    methods = _parse_names("method", methods, list(METHODS))
    protocols = _parse_names("protocol", [p.upper() for p in protocols], ["A", "B"])
    for name in methods:
        baseline = baselines.get(METHODS[name].baseline)
        if not baseline.is_available():
            raise ValueError(f"method {name!r} needs the package {baseline.requires!r}, which is not installed; "
                             f"install it with: {baseline.install}")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    out = Path(out_dir)
    paths = _output_paths(out)
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not force:
        raise FileExistsError(f"output exists: {', '.join(existing)} (use --force to overwrite)")
    out.mkdir(parents=True, exist_ok=True)

    info = versions()
    paths["versions"].write_text(json.dumps(info, indent=1) + "\n")
    rows: list[dict[str, Any]] = []
    prepared: dict[str, Prepared] = {}
    log_level = logging.getLevelName(logger.getEffectiveLevel())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scmaskgan-benchmark-") as tmp:
        folder = Path(tmp)
        for ds in datasets:
            data = prepare(ds)
            prepared[ds] = data
            labels_file = folder / f"{ds}.labels.npy"
            np.save(labels_file, data.labels.astype(str))
            for protocol in protocols:
                observed, idx = data.protocol_a() if protocol == "A" else (data.protocol_b(), None)
                input_file = folder / f"{ds}.{protocol}.input.npy"
                np.save(input_file, observed)
                for method in methods:
                    spec = METHODS[method]
                    tag = f"{ds}.{protocol}.{method}"
                    options: dict[str, Any] = dict(spec.options) | (dict(spec.quick_options) if quick else {})
                    if spec.baseline == "scmaskgan":
                        options["device"] = device
                    task = {
                        "baseline": spec.baseline, "input": str(input_file), "seed": seed, "options": options,
                        "labels": str(labels_file) if spec.true_labels else None,
                        "output": str(folder / f"{tag}.output.npy"), "result": str(folder / f"{tag}.result.json"),
                        "log_level": log_level,
                    }
                    row: dict[str, Any] = {
                        "dataset": ds, "protocol": protocol, "method": method,
                        "labels": ("true" if spec.true_labels else "automatic") if spec.baseline == "scmaskgan" else "-",
                        "n_cells": data.truth.shape[0], "n_genes": data.truth.shape[1],
                        "n_scored": int(idx.size) if idx is not None else int((observed == 0).sum()),
                        "threads": "default" if threads is None else threads,
                        "seed": seed, "quick": quick, "status": "ok", "error": "",
                    }
                    logger.info("benchmark: %s, protocol %s, %s", ds, protocol, method)
                    try:
                        row |= run_in_child(task, folder, tag, threads)
                        imputed = np.load(task["output"])
                        row |= data.score(protocol, imputed)
                        row.pop("n_hidden", None)
                        os.remove(task["output"])
                    except Exception as exc:  # one failed run must not lose the others
                        logger.error("benchmark: %s failed: %s", tag, exc)
                        row |= {"status": "failed", "error": " ".join(str(exc).split())[:2000]}
                    rows.append(row)
                    _table(rows).to_csv(paths["csv"], index=False)
    total = time.perf_counter() - started
    table = _table(rows)
    paths["md"].write_text(_markdown(table, prepared, info, quick=quick, command=command, total_s=total,
                                     threads=threads))
    logger.info("benchmark: %d runs in %.0f s -> %s", len(rows), total, out)
    return table


def _table(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows).reindex(columns=list(_COLUMNS))


# ---------------------------------------------------------------------------------------
# markdown


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_HEADERS = {
    "rmse": "RMSE", "pearson": "Pearson", "spearman": "Spearman", "mae": "MAE", "share_zero": "share at 0",
    "ari": "ARI", "nmi": "NMI", "rmse_zeros": "rmse_zeros", "r_zeros": "r_zeros", "rmse_dropouts": "rmse_dropouts",
    "mean_at_true_zeros": "mean at true zeros", "r_all": "r_all",
}


def _markdown(table: Any, prepared: dict[str, Prepared], info: dict[str, str], *, quick: bool, command: str,
              total_s: float, threads: int | None = None) -> str:
    lines = ["# scmaskgan benchmark", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [
        f"Total wall time {total_s:.0f} s. Protocols of ../shared/BENCHMARK.md (A: 10% of the non-zero entries "
        "hidden, scored on log1p CP10k of the original library; B: binomial thinning to 30%, scored over the "
        "entries that the thinned input has at 0). `wall s` and `RSS MB` are the whole child process of each "
        "method run (Python start, imports, I/O; peak RSS is the child's VmHWM, the number `/usr/bin/time -v` reports); "
        "`method s` is the method call alone. Threads per method run: "
        + ("the libraries' defaults." if threads is None else f"{threads} (OMP_NUM_THREADS and kin)."),
        "",
    ]
    if quick:
        lines += ["**Quick mode**: scMASKGAN (2 epochs, no tuning, 64 candidates) and scVI (2 epochs) rows are a "
                  "smoke test, not results.",
                  ""]
    lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in info.items() if k not in ("platform", "machine", "cpus"))
              + f"; {info['platform']}, {info['cpus']} CPUs.", ""]
    lines += ["| dataset | cells x genes | labels (groups) | settings |", "|---|---|---|---|"]
    for name, data in prepared.items():
        lines.append(f"| {name} | {data.truth.shape[0]} x {data.truth.shape[1]} | {data.spec.labels_key} "
                     f"({data.n_groups}) | {data.spec.note} |")
    lines.append("")
    for name in prepared:
        for protocol in ("A", "B"):
            part = table[(table["dataset"] == name) & (table["protocol"] == protocol)]
            if part.empty:
                continue
            metrics = METRICS[protocol]
            lines += [f"## {name}, protocol {protocol}", ""]
            lines.append("| method | " + " | ".join(_HEADERS[m] for m in metrics) + " | wall s | method s | RSS MB |")
            lines.append("|---" * (len(metrics) + 4) + "|")
            for _, row in part.iterrows():
                label = METHODS[row["method"]].label or row["method"]
                if row["status"] != "ok":
                    cells = ["failed: " + str(row["error"])[:120]] + [""] * (len(metrics) + 2)
                else:
                    cells = [_fmt(row[m]) for m in metrics] + [_fmt(row["wall_s"], 1), _fmt(row["method_s"], 1),
                                                               _fmt(row["peak_rss_mb"], 0)]
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m scmaskgan.evaluation.benchmark TASK.json (internal: one method run of the benchmark; "
              "use `scmaskgan benchmark` instead)", file=sys.stderr)
        sys.exit(2)
    sys.exit(_child_main(sys.argv[1]))
