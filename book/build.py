#!/usr/bin/env python
"""Execute the book's notebooks with papermill, before ``jupyter-book build``.

Each ``notebooks/<name>.ipynb`` is executed into ``book/_executed/<name>.ipynb`` (the copy that
``_toc.yml`` points at), with the working directory ``book/_executed/`` so that what a notebook
writes under its ``output_dir`` parameter lands in ``book/_executed/<name>_outputs/`` beside it.
papermill's own output for each notebook is kept in ``book/_executed/<name>.log``.

Parameters are set only where a notebook declares them in its cell tagged ``parameters``:

* ``output_dir``  -> ``<name>_outputs``
* ``--smoke``     -> ``smoke=True``, ``quick=True`` and ``max_epochs=<--smoke-epochs>``
  (a quick smoke version of the book for CI: minutes, not a result)
* ``-p NAME VALUE`` (repeatable, papermill's syntax) -> passed on as given, for the notebooks that
  declare NAME

Exit status: 0 when every notebook ran, 1 when any failed (each one is still attempted).

Usage (from the repository root; the Makefile's ``book`` target runs it)::

    .venv/bin/python book/build.py [--smoke] [-p NAME VALUE ...] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "book" / "_executed"
KERNEL = "python3"


def declared_parameters(path: Path) -> dict:
    """The parameters declared in a notebook's ``parameters`` cell (empty if it has none)."""
    import papermill

    try:
        return dict(papermill.inspect_notebook(str(path)))
    except Exception as exc:  # a notebook without a parameters cell, or an unreadable one
        print(f"  note: could not read the parameters of {path.name}: {exc}", file=sys.stderr)
        return {}


def check_kernel() -> None:
    """Make sure that the kernel papermill will start as ``python3`` is this Python.

    A ``python3`` kernel spec of another environment that shadows this one would run the
    notebooks without scmaskgan (or with another copy of it).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def kernel_python() -> str | None:
        try:
            spec = KernelSpecManager().get_kernel_spec(KERNEL)
        except NoSuchKernel:
            return None
        exe = spec.argv[0]
        if exe in {"python", "python3", "{python}"}:  # ipykernel's built-in spec uses sys.executable
            return sys.executable
        return shutil.which(exe) or exe

    def same(a: str | None) -> bool:
        return a is not None and Path(a).absolute() == Path(sys.executable).absolute()

    exe = kernel_python()
    if same(exe):
        return
    print(f"  kernel {KERNEL!r} runs {exe}, not {sys.executable}: installing it into {sys.prefix}")
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL],
        check=True,
    )
    exe = kernel_python()
    if not same(exe):
        sys.exit(
            f"error: the Jupyter kernel {KERNEL!r} still runs {exe}, not {sys.executable}. "
            "Another kernel spec of that name shadows this environment's; remove it "
            "(`jupyter kernelspec list` shows where it is) or unset JUPYTER_PATH."
        )


def smoke_parameters(declared: dict, epochs: int) -> list[tuple[str, str]]:
    wanted = {"smoke": "True", "quick": "True", "max_epochs": str(epochs)}
    return [(k, v) for k, v in wanted.items() if k in declared]


def run_notebook(src: Path, params: list[tuple[str, str]], timeout: float | None) -> tuple[bool, float]:
    name = src.stem
    out = EXECUTED / src.name
    log = EXECUTED / f"{name}.log"
    if out.exists():
        out.unlink()  # never leave a stale copy of an earlier run where a failed one should be
    cmd = [sys.executable, "-m", "papermill", "-k", KERNEL, "--cwd", str(EXECUTED),
           "--log-output", "--no-progress-bar", str(src), str(out)]
    for key, value in params:
        cmd += ["-p", key, value]
    shown = " ".join(["papermill"] + cmd[3:]).replace(str(ROOT) + os.sep, "")
    print(f"==> {name}: {shown}", flush=True)
    t0 = time.perf_counter()
    with log.open("w") as fh:
        try:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT, timeout=timeout)
            ok = proc.returncode == 0
        except subprocess.TimeoutExpired:
            fh.write(f"\nbook/build.py: timed out after {timeout} s\n")
            ok = False
    elapsed = time.perf_counter() - t0
    if ok and out.exists():
        ok = not notebook_errors(out)
        hide_injected_parameters(out)
    status = "ok" if ok else "FAILED"
    print(f"    {status} in {elapsed:.0f} s (log: {log.relative_to(ROOT)})", flush=True)
    if not ok:
        tail = log.read_text(errors="replace").splitlines()[-40:]
        print("    --- last lines of the log ---", *("    " + line for line in tail), sep="\n")
    return ok, elapsed


def hide_injected_parameters(path: Path) -> None:
    """Fold the cell that papermill adds with the parameters given (tag ``injected-parameters``) like the
    notebook's own parameters cell: the line after it prints the settings this copy ran with."""
    nb = json.loads(path.read_text())
    changed = False
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            cell["metadata"]["tags"] = [*tags, "hide-input"]
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def notebook_errors(path: Path) -> list[str]:
    """Error outputs left in an executed notebook (papermill normally fails on them already)."""
    nb = json.loads(path.read_text())
    found = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"{output.get('ename')}: {output.get('evalue')}")
    for err in found:
        print(f"    error output in {path.name}: {err}")
    return found


def check_toc(names: list[str]) -> None:
    toc = (ROOT / "_toc.yml").read_text()
    for name in names:
        if f"book/_executed/{name}" not in toc:
            print(f"  note: notebooks/{name}.ipynb is not in _toc.yml, so the book will not show it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny parameters: a quick smoke build for CI")
    parser.add_argument("--smoke-epochs", type=int, default=2, help="max_epochs in smoke mode (default 2)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a papermill parameter for the notebooks that declare it (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="execute only this notebook (its name without .ipynb; repeatable)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per notebook")
    args = parser.parse_args(argv)

    sources = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.only:
        sources = [s for s in sources if s.stem in args.only]
        missing = set(args.only) - {s.stem for s in sources}
        if missing:
            parser.error(f"no such notebook(s) in notebooks/: {', '.join(sorted(missing))}")
    if not sources:
        print("error: no notebooks found in notebooks/", file=sys.stderr)
        return 1

    data = os.environ.get("SCMASKGAN_DATA")
    if data:  # notebooks run with another working directory: make the data path absolute
        os.environ["SCMASKGAN_DATA"] = str((ROOT / data).resolve()) if not Path(data).is_absolute() else data
    EXECUTED.mkdir(parents=True, exist_ok=True)
    check_kernel()
    check_toc([s.stem for s in sources])

    mode = "smoke" if args.smoke else "default"
    print(f"Executing {len(sources)} notebook(s) in {mode} mode into {EXECUTED.relative_to(ROOT)}/")
    results = {}
    for src in sources:
        declared = declared_parameters(src)
        params: list[tuple[str, str]] = []
        if "output_dir" in declared:
            params.append(("output_dir", f"{src.stem}_outputs"))
        if args.smoke:
            params += smoke_parameters(declared, args.smoke_epochs)
        for key, value in args.parameter:
            if key in declared:
                params = [(k, v) for k, v in params if k != key] + [(key, value)]
        results[src.stem] = run_notebook(src, params, args.timeout)

    failed = [name for name, (ok, _) in results.items() if not ok]
    total = sum(t for _, t in results.values())
    print(f"{len(results) - len(failed)} of {len(results)} notebook(s) ran in {total:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
