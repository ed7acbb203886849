"""One way to run a measured piece of work in its own process: a baseline, or a Python command line.

:func:`run_in_child` runs a method of :mod:`scmaskgan.benchmarking.baselines` on a matrix saved in
a ``.npy`` file; :func:`run_command` runs a Python command line (``["-m", "scmaskgan", "impute",
...]``, ``["-c", code, ...]`` or a script) as ``python`` would. Both start this module as the
child process (``python -m scmaskgan.benchmarking.child TASK.json``), which does the work and
then writes its own peak memory and the time of the work into a JSON file; the parent adds the
child's wall time. The benchmark runner and every script in ``benchmarks/`` that runs work in a
child process use them.

Cost. ``peak_rss_mb`` is the child's peak resident set size, ``VmHWM`` of ``/proc/self/status``
read by the child just before it exits (the number ``/usr/bin/time -v`` prints as "Maximum
resident set size"); ``wall_s`` is the child's wall time from start to exit, Python start-up,
imports and file I/O included; ``method_s`` the time of the work alone. (``ru_maxrss`` of the
child, from ``os.wait4`` or ``RUSAGE_CHILDREN``, is not used: Linux counts the parent's memory at
the fork into it, and ``RUSAGE_CHILDREN`` keeps the maximum over all children so far. Where
``/proc`` is missing the child's own ``ru_maxrss`` is used, which has the same fork caveat.)
``threads`` limits the child's thread pools through ``OMP_NUM_THREADS`` and its kin (OpenMP,
hence torch; BLAS; numba).
"""

from __future__ import annotations

import json
import logging
import os
import runpy
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["THREAD_VARIABLES", "child_env", "peak_rss_mb", "run_command", "run_in_child"]

#: Environment variables that limit the thread pools of a child's numerical libraries.
THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def peak_rss_mb() -> float:
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


def child_env(threads: int | None, env: dict[str, str] | None = None) -> dict[str, str] | None:
    """Environment of a child: ``env`` (default: this process's) with the thread pools limited to ``threads``.

    Returns ``env`` unchanged (``None``: the child inherits this process's environment) when
    ``threads`` is ``None``.
    """
    if threads is None:
        return env
    out = dict(os.environ if env is None else env)
    out.update({name: str(threads) for name in THREAD_VARIABLES})
    return out


def run_in_child(task: dict[str, Any], folder: Path, tag: str, threads: int | None = None,
                 timeout: float | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one task in a child process; return its wall time, peak memory and the work's time.

    Parameters
    ----------
    task
        Either a method run: ``baseline`` (a :mod:`scmaskgan.benchmarking.baselines` name), ``input``
        (a cells x genes ``.npy`` of counts), ``labels`` (a ``.npy`` of labels or None), ``seed``,
        ``options`` (keyword arguments of the method), ``output`` (where the child saves the
        imputed matrix; None: not saved) and ``log_level``; or a command line: ``argv`` (the
        arguments of ``python``, see :func:`run_command`). Both with ``result``: where the child
        writes its timing JSON.
    folder
        Where the task file and the child's log (``TAG.log``: its standard output and error) go.
    tag
        Name stem of those files.
    threads
        Thread limit of the child's numerical libraries (OMP_NUM_THREADS and kin).
    timeout
        Seconds after which the child is killed (a RuntimeError).
    env
        The child's environment (before the thread limits); ``None``: this process's.

    Returns
    -------
    dict
        ``wall_s`` (the whole child process), ``peak_rss_mb`` (its VmHWM), ``method_s``
        (the work alone).

    Raises
    ------
    RuntimeError
        The child failed or ran past ``timeout``; the message carries the end of its log.
    """
    folder = Path(folder)
    task_file = folder / f"{tag}.task.json"
    log_file = folder / f"{tag}.log"
    task_file.write_text(json.dumps(task))
    cmd = [sys.executable, "-m", "scmaskgan.benchmarking.child", str(task_file)]
    with open(log_file, "wb") as log:
        start = time.perf_counter()
        try:
            returncode = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env(threads, env),
                                        check=False, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"timed out after {timeout} s") from None
        wall = time.perf_counter() - start
    if returncode != 0:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-15:]
        raise RuntimeError(f"exit status {returncode}: " + " | ".join(line.strip() for line in tail))
    result = json.loads(Path(task["result"]).read_text())
    return {"wall_s": wall, "peak_rss_mb": result["peak_rss_mb"], "method_s": result["method_s"]}


def run_command(argv: Sequence[str], folder: Path, tag: str, threads: int | None = None,
                timeout: float | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a Python command line in a child process, measured like a method run (:func:`run_in_child`).

    Parameters
    ----------
    argv
        What would follow ``python`` on a command line: ``["-m", module, *args]``,
        ``["-c", code, *args]`` or ``[script, *args]``. ``python -m torch.distributed.run ...``
        runs torchrun (its worker processes are not in ``peak_rss_mb``).
    folder, tag, threads, timeout, env
        As for :func:`run_in_child`.

    Returns
    -------
    dict
        ``wall_s``, ``peak_rss_mb``, ``method_s`` (the command after the child's start-up) and
        ``output`` (the command's standard output and error, as text).

    Raises
    ------
    ValueError
        An empty ``argv``, or ``-m``/``-c`` without what follows it.
    RuntimeError
        The command exited with a status other than 0, or ran past ``timeout``.
    """
    argv = [str(a) for a in argv]
    if not argv or (argv[0] in ("-m", "-c") and len(argv) < 2):
        raise ValueError(f"run_command needs a Python command line such as ['-m', module, ...], got {argv!r}")
    folder = Path(folder)
    task = {"argv": argv, "result": str(folder / f"{tag}.result.json")}
    out = run_in_child(task, folder, tag, threads, timeout, env)
    return out | {"output": (folder / f"{tag}.log").read_text(errors="replace")}


def _run_argv(argv: list[str]) -> int:
    """Run ``python ARGV`` in this process; return its exit status."""
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        elif argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        else:
            sys.argv = list(argv)
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def _child_main(task_file: str) -> int:
    """Entry point of the child process: read the task, do it, write the timing (and the output)."""
    task = json.loads(Path(task_file).read_text())
    start = time.perf_counter()
    if "argv" in task:
        status = _run_argv(task["argv"])
        method_s = time.perf_counter() - start
        sys.stdout.flush()
        sys.stderr.flush()
        if status != 0:
            return status
    else:
        logging.getLogger("scmaskgan").setLevel(task.get("log_level", "INFO"))
        import scmaskgan.benchmarking.baselines as baselines

        counts = np.load(task["input"])
        labels = np.load(task["labels"]) if task.get("labels") else None
        start = time.perf_counter()
        out = baselines.run(task["baseline"], counts, labels=labels, seed=task["seed"], **task["options"])
        method_s = time.perf_counter() - start
        if task.get("output"):
            np.save(task["output"], out)
    # A method that starts its own process (dca, deepimpute: the Python 3.8 environment) has its peak
    # there: take the larger of this process's VmHWM and its waited-for children's ru_maxrss (a child's
    # ru_maxrss also counts this process's memory at the fork, which VmHWM already holds), which is
    # what /usr/bin/time -v reports for the whole tree.
    import resource

    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    Path(task["result"]).write_text(json.dumps({"method_s": method_s,
                                                "peak_rss_mb": max(peak_rss_mb(), children_mb)}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m scmaskgan.benchmarking.child TASK.json (internal: one measured run of the benchmark "
              "or a benchmark script)", file=sys.stderr)
        sys.exit(2)
    sys.exit(_child_main(sys.argv[1]))
