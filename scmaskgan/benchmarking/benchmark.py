"""Benchmark: imputation methods x datasets under the held-out protocols.

``scmaskgan benchmark --datasets sc_celseq2,sc_dropseq --methods none,magic,scmaskgan --out DIR``
runs each method on each dataset with protocol A (10% of the non-zero entries hidden) and
protocol B (binomial thinning to 30% of the molecules) of :mod:`scmaskgan.evaluation.protocols`
(whose module docstring states both protocols' steps), and writes into ``DIR``:

* ``benchmark.csv``: one row per dataset x protocol x method with every metric
  (protocol A: ``rmse``, ``pearson``, ``spearman``, ``mae``, ``share_zero``, ``ari``, ``nmi``;
  protocol B: ``rmse_zeros``, ``r_zeros``, ``rmse_dropouts``, ``mean_at_true_zeros``,
  ``r_all``), the cost (``wall_s``, ``method_s``, ``peak_rss_mb``) and ``status``/``error``;
* ``benchmark.md``: the same as markdown tables, one per dataset and protocol, with the
  versions used and the dataset settings;
* ``versions.json``: Python, the packages and the machine.

Cost. Every method run happens in its own child process (:func:`~scmaskgan.benchmarking.child.run_in_child`:
the child reads the input from a ``.npy`` file and writes its output to another), so that memory
is per method: ``peak_rss_mb`` is the child's peak resident set size (its ``VmHWM``, the number
``/usr/bin/time -v`` prints as "Maximum resident set size"), and ``wall_s`` is the child's wall
time from start to exit. Both include starting Python, importing the method's packages and
reading/writing the matrices, as a command-line run under ``/usr/bin/time -v`` would;
``method_s`` is the time of the method call alone. ``--threads N`` limits each child's thread
pools to N threads (``OMP_NUM_THREADS`` and its kin; on a shared or busy machine, torch's two
spinning OpenMP threads can cost several times the CPU time of one).

Methods. ``scmaskgan`` runs the default method, the count model, with the dataset's true labels
(protocol A scores its value if detected, protocol B its expected value), ``scmaskgan_auto`` without
labels; ``scmaskgan_neighbours`` the neighbour fill with true labels, ``scmaskgan_neighbours_auto`` with
automatic (Leiden) labels; ``scmaskgan_paper`` the paper's method (trained GAN, generated candidates) with
true labels (``scmaskgan_masked`` and ``scmaskgan_masked_auto`` are the count model's rows' earlier names); the other names are those of :mod:`scmaskgan.benchmarking.baselines`, whose docstrings
state their settings. Only scMASKGAN uses labels. ``--quick`` trains scMASKGAN for 2 epochs
without tuning and with 64 candidates per label (scVI, DCA and DeepImpute for 2 epochs): a smoke
test of the pipeline whose rows are not results. ``dca`` and ``deepimpute`` run in their own Python 3.8 /
TensorFlow 2.4 environment, made by ``make peers`` (``scmaskgan/benchmarking/peers_runner.py``).

Datasets and their labels are in :data:`~scmaskgan.benchmarking.data.DATASETS`, and each is
set up by :func:`~scmaskgan.benchmarking.data.prepare` (imported here).
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._name_registry import Registry
from ..modes import DEFAULT_MODE, MODES
from ..evaluation.protocols import SCORED_ANSWER
from .child import run_in_child
from .data import DATASETS, DEFAULT_DATASETS, DatasetSpec, Prepared, prepare

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
    "labels_column",
    "run_in_child",
    "versions",
]


@dataclass(frozen=True)
class MethodSpec:
    """A benchmark row: which baseline, whether it gets the true labels, quick-mode options, and options
    per protocol (a method with several outputs says which one each protocol scores)."""

    baseline: str
    true_labels: bool = False
    quick_options: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    protocol_options: dict[str, dict[str, Any]] = field(default_factory=dict)


_QUICK_GAN = {"max_epochs": 2, "tune": False, "n_candidates": 64}
_QUICK_COUNT = {"max_epochs": 2}
#: The count model's answers that each protocol scores (:data:`~scmaskgan.evaluation.protocols.SCORED_ANSWER`).
_COUNT_LAYERS = {protocol: {"layer": answer} for protocol, answer in SCORED_ANSWER.items()}

#: Benchmark method names (the rows of the tables).
METHODS: Registry[MethodSpec] = Registry("method", {
    "none": MethodSpec("none", label="no imputation"),
    "magic": MethodSpec("magic", label="MAGIC (knn 5, t auto)"),
    "alra": MethodSpec("alra", label="ALRA (numpy)"),
    "knn_average": MethodSpec("knn_average", label="kNN average (PCA 30, k 15)"),
    "knn_smoothing": MethodSpec("knn_smoothing", label="kNN-smoothing v2.1 (k 15, d 10)"),
    "scvi": MethodSpec("scvi", quick_options={"max_epochs": 2}, label="scVI (400 epochs)"),
    # Optional rows in their own environment (Python 3.8, TensorFlow 2.4): `make peers`.
    "dca": MethodSpec("dca", quick_options={"epochs": 2}, label="DCA 0.3.4 (zinb-conddisp)"),
    "deepimpute": MethodSpec("deepimpute", quick_options={"max_epochs": 2}, label="DeepImpute 1.2 (defaults)"),
    "scmaskgan": MethodSpec("scmaskgan", true_labels=True, quick_options=_QUICK_COUNT, protocol_options=_COUNT_LAYERS,
                            label="scMASKGAN count model (the default), true labels (A: if detected; B: expected value)"),
    "scmaskgan_auto": MethodSpec("scmaskgan", quick_options=_QUICK_COUNT, protocol_options=_COUNT_LAYERS,
                                 label="scMASKGAN count model (the default), no labels (A: if detected; B: expected value)"),
    "scmaskgan_neighbours": MethodSpec("scmaskgan", true_labels=True, options={"mode": "neighbours"},
                                       label="scMASKGAN neighbour fill, true labels"),
    "scmaskgan_neighbours_auto": MethodSpec("scmaskgan", options={"mode": "neighbours"},
                                            label="scMASKGAN neighbour fill, automatic labels"),
    "scmaskgan_paper": MethodSpec("scmaskgan", true_labels=True, quick_options=_QUICK_GAN, options={"mode": "paper"},
                                  label="scMASKGAN paper mode (GAN candidates), true labels"),
    # the earlier names of the count model's rows
    "scmaskgan_masked": MethodSpec("scmaskgan", true_labels=True, quick_options=_QUICK_COUNT,
                                   protocol_options=_COUNT_LAYERS, label="scmaskgan (earlier name)"),
    "scmaskgan_masked_auto": MethodSpec("scmaskgan", quick_options=_QUICK_COUNT, protocol_options=_COUNT_LAYERS,
                                        label="scmaskgan_auto (earlier name)"),
})

#: Methods that ``scmaskgan benchmark`` runs by default.
DEFAULT_METHODS: tuple[str, ...] = (
    "none", "magic", "alra", "knn_average", "knn_smoothing", "scmaskgan", "scmaskgan_auto", "scmaskgan_neighbours",
    "scmaskgan_neighbours_auto", "scmaskgan_paper",
)

#: Metric columns of each protocol.
METRICS: Registry[tuple[str, ...]] = Registry("protocol", {
    "A": ("rmse", "pearson", "spearman", "mae", "share_zero", "ari", "nmi"),
    "B": ("rmse_zeros", "r_zeros", "rmse_dropouts", "mean_at_true_zeros", "r_all"),
})

_COLUMNS = (
    "dataset", "protocol", "method", "labels", "n_cells", "n_genes", "n_scored",
    *METRICS["A"], *METRICS["B"], "wall_s", "method_s", "peak_rss_mb", "threads", "seed", "quick", "status", "error",
)

#: Rows that run in the DeepImpute/DCA environment of ``make peers`` (a subprocess of the method's child).
_PEERS = ("dca", "deepimpute")

_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "scanpy", "anndata", "magic-impute", "graphtools",
             "scvi-tools", "scmaskgan")


# ---------------------------------------------------------------------------------------
# versions


def _git_state() -> str | None:
    """Commit of the scmaskgan checkout, marked "modified" when the package's files differ from it."""
    root = Path(__file__).resolve().parents[2]  # scmaskgan/benchmarking/benchmark.py -> the repository
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
# the benchmark


def labels_column(spec: MethodSpec) -> str:
    """The ``labels`` column of a row: ``"true"``, ``"automatic"`` (clusters of a scmaskgan method that makes
    them), ``"none"`` (the count model without labels) or ``"-"`` (a method that takes no labels)."""
    if spec.baseline != "scmaskgan":
        return "-"
    if spec.true_labels:
        return "true"
    return "automatic" if MODES[spec.options.get("mode", DEFAULT_MODE)].CLUSTERS else "none"


def _parse_names(names: Sequence[str], known: Registry) -> list[str]:
    """``names`` stripped, checked against ``known`` (unknown, missing or repeated names: ValueError)."""
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ValueError(f"no {known.kind} given")
    known.check(names)
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{known.kind} listed twice: {', '.join(duplicated)}")
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
        Names from :data:`scmaskgan.benchmarking.data.DATASETS`.
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
    import scmaskgan.benchmarking.baselines as baselines

    datasets = _parse_names(datasets, DATASETS)
    methods = _parse_names(methods, METHODS)
    protocols = _parse_names([p.upper() for p in protocols], METRICS)
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
    if any(METHODS[name].baseline in _PEERS for name in methods):
        info |= {f"peers {key}": value for key, value in baselines.peers_versions().items()}
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
            for protocol, observed in data.inputs(protocols).items():
                idx = data.protocol_a()[1] if protocol == "A" else None
                input_file = folder / f"{ds}.{protocol}.input.npy"
                np.save(input_file, observed)
                for method in methods:
                    spec = METHODS[method]
                    tag = f"{ds}.{protocol}.{method}"
                    options: dict[str, Any] = (dict(spec.options) | (dict(spec.quick_options) if quick else {})
                                               | dict(spec.protocol_options.get(protocol, {})))
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
                        "labels": labels_column(spec),
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


def _peers_note(table: Any) -> list[str]:
    """Markdown lines about the DCA/DeepImpute rows: how their cost is measured, or how to get them."""
    ran = sorted(set(table["method"]) & set(_PEERS))
    if ran:
        return [f"Rows {', '.join(ran)} run DCA/DeepImpute in their own Python 3.8 / TensorFlow 2.4 environment "
                "(`make peers`), a process started by the method's child: `wall s` and `method s` include it, "
                "`RSS MB` is the child's own peak only (the TensorFlow process's peak is not in it).", ""]
    return ["DCA 0.3.4 and DeepImpute 1.2 are not in this run: `make peers` creates their environment "
            "(.venv-peers/, Python 3.8 and TensorFlow 2.4), then `--methods ...,dca,deepimpute` adds their rows.", ""]


def _markdown(table: Any, prepared: dict[str, Prepared], info: dict[str, str], *, quick: bool, command: str,
              total_s: float, threads: int | None = None) -> str:
    lines = ["# scmaskgan benchmark", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [
        f"Total wall time {total_s:.0f} s. Held-out protocols (A: 10% of the non-zero entries "
        "hidden, scored on log1p CP10k of the original library; B: binomial thinning to 30%, scored over the "
        "entries that the thinned input has at 0). `wall s` and `RSS MB` are the whole child process of each "
        "method run (Python start, imports, I/O; peak RSS is the child's VmHWM, the number `/usr/bin/time -v` reports); "
        "`method s` is the method call alone. Threads per method run: "
        + ("the libraries' defaults." if threads is None else f"{threads} (OMP_NUM_THREADS and kin)."),
        "",
    ]
    if quick:
        lines += ["**Quick mode**: scMASKGAN (2 epochs, no tuning, 64 candidates), scVI, DCA and DeepImpute "
                  "(2 epochs) rows are a smoke test, not results.",
                  ""]
    lines += _peers_note(table)
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
