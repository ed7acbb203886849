"""Command line interface: ``scmaskgan impute INPUT -o OUTPUT`` and ``scmaskgan benchmark``.

Exit status: 0 on success, 2 for bad input or usage (one line ``scmaskgan: error: ...`` on
standard error; the traceback only with ``-v``), 1 for unexpected failures, 130 when
interrupted (Ctrl-C), 143 on SIGTERM and 129 on SIGHUP. No output file is left behind when a run
fails or is stopped by one of these signals.

Adding a subcommand: write a function ``_add_<name>(subparsers, parents)`` that creates its
parser with ``subparsers.add_parser(name, parents=parents, ...)`` and sets
``func=<handler>`` with ``set_defaults``; the handler takes the parsed namespace and returns
an exit status. Then append the function to :data:`SUBCOMMANDS`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

from .count.settings import LAYER_MEANINGS
from .modes import MODES, RENAMED_MODES, method_table

logger = logging.getLogger("scmaskgan")

#: The methods' table shown under ``scmaskgan impute --help``.
METHOD_TABLE = method_table()

#: Errors that mean "the input or the request is wrong": exit status 2, no traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, OSError)


def _int_at_least(low: int, high: int | None = None):
    """argparse type: an integer >= ``low`` (and <= ``high`` when given)."""
    expected = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_seed = _int_at_least(0, 2**64 - 1)  # torch's bound; the model refuses more than 2**32 - 1 where it clusters


def _common_options() -> argparse.ArgumentParser:
    """Options every subcommand shares (verbosity)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_mutually_exclusive_group()
    group.add_argument(
        "-v", "--verbose", action="store_true",
        help="log details (DEBUG) and print tracebacks on errors",
    )
    group.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    return common


# ---------------------------------------------------------------------------------------
# impute


def _add_impute(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "impute",
        parents=parents,
        help="impute dropouts in a count matrix",
        description=(
            "Impute dropouts in a cells x genes count matrix with scMASKGAN. INPUT may be "
            ".h5ad, .csv/.tsv/.txt (optionally .gz; first column = row names, first line = "
            "column names, cells as rows unless --genes-as-rows) or a 10x mtx folder. "
            "OUTPUT .h5ad keeps the input counts in X and the imputation in "
            "layers['scmaskgan'] (the count model adds layers['scmaskgan_if_detected'] and "
            "layers['scmaskgan_p_detected']); OUTPUT .csv/.tsv(.gz) holds the main layer, cells x genes, "
            "and each further layer goes to a table beside it (out.csv, out_if_detected.csv, "
            "out_p_detected.csv). An input that already holds these layers (an earlier output) is refused "
            "before any training: name the new ones with --key-added, or replace them with --force."
        ),
        epilog=METHOD_TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="count matrix: .h5ad, .csv/.tsv(.gz), 10x folder")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUTPUT",
        help="result file: .h5ad, .csv, .tsv (optionally .gz); a table holds one layer, and each further layer "
        "goes to a table beside it (OUTPUT_if_detected.csv, OUTPUT_p_detected.csv with the count model)",
    )
    parser.add_argument(
        "--labels-key", metavar="KEY",
        help="obs column with cell labels (h5ad input), or the name given to --labels-file's "
        "labels; without labels, the count model uses none and the other modes cluster the cells first",
    )
    parser.add_argument(
        "--labels-file", metavar="FILE",
        help="cell labels: one per line (optional header line), or a CSV/TSV whose first "
        "column holds the cell names",
    )
    parser.add_argument(
        "--genes-as-rows", action="store_true",
        help="a CSV/TSV input has genes as rows and cells as columns (default: cells as rows)",
    )
    parser.add_argument(
        "--numeric-row-names", action="store_true",
        help="a CSV/TSV input's row names are numbers that repeat (refused by default: usually a file without "
        "row names whose first column of counts was taken as names)",
    )
    parser.add_argument("--seed", type=_seed, default=0,
                        help="random seed, 0 to 2**64 - 1 (--mode neighbours or paper: 2**32 - 1; default 0)")
    parser.add_argument(
        "--mode", choices=(*MODES, *RENAMED_MODES), default=None,
        help="count (the default): train the count model and write three layers (the main layer, the value if "
        "detected, the probability of detection); neighbours: fill zeros from similar real cells (no training); "
        "paper: train the paper's conditional GAN and fill from its candidates. The earlier names masked "
        "(count) and default (neighbours) still work, with a warning. See the table below.",
    )
    parser.add_argument(
        "--depth", type=float, default=None, metavar="D",
        help="--mode count: the layers describe a new measurement of each cell of D times its library size "
        "(default 1: as deep as the cell's own; deeper measurements detect more)",
    )
    parser.add_argument(
        "--expectation", choices=("log", "counts"), default=None,
        help="--mode count: what the main layer holds. log (the default): "
        + LAYER_MEANINGS["log"]["mean"] + ". counts: " + LAYER_MEANINGS["counts"]["mean"],
    )
    parser.add_argument(
        "--layer", default=None, metavar="NAME",
        help="h5ad input: the layer that holds the raw counts (default: X)",
    )
    parser.add_argument(
        "--epochs", type=_positive_int, default=None, metavar="N",
        help="training epochs of --mode count or paper (default: the model's default)",
    )
    parser.add_argument(
        "--normalized", action="store_true",
        help="the input is already normalised (non-integer values allowed)",
    )
    parser.add_argument(
        "--key-added", default="scmaskgan", metavar="NAME",
        help="name of the layers (NAME, NAME_if_detected, NAME_p_detected) and of the uns entry of the run "
        "(default scmaskgan); another name keeps the layers of an earlier run in an .h5ad input",
    )
    parser.add_argument(
        "--force", action="store_true",
        help="overwrite OUTPUT (and the tables beside it) if it exists, and replace the layers of an earlier run "
        "with the same --key-added in an .h5ad input",
    )
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto",
        help="where to train (default: auto = cuda when available)",
    )
    parser.add_argument(
        "--threads", type=_positive_int, default=1, metavar="N",
        help="CPU threads of training, imputation and draws (torch, BLAS, OpenMP; default 1: the same "
        "results everywhere, and the fastest on a small or busy machine)",
    )
    parser.set_defaults(func=_run_impute)


def _run_impute(args: argparse.Namespace) -> int:
    import os

    from . import pp
    from ._validation import InputError
    from .io import check_output_files, read_input
    from .modes import DEFAULT_MODE

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # launched by torchrun: data-parallel GAN training
        from .nn import distributed

        if distributed.init() and not distributed.is_main():
            logger.setLevel(logging.WARNING)  # only the main process reports; it imputes and writes

    # Refuse an existing output (each file of a table output) before reading or training anything.
    mode = RENAMED_MODES.get(args.mode, args.mode) or DEFAULT_MODE  # pp.impute warns about an earlier name
    layers = pp.answer_layer_names(args.key_added, MODES[mode].ANSWERS).values()
    files = check_output_files(args.output, key=args.key_added, layers=list(layers), force=args.force)
    output = files[args.key_added]
    labels_key = args.labels_key
    if args.labels_file is not None and labels_key is None:
        labels_key = "label"
    adata = read_input(
        args.input,
        genes_as_rows=args.genes_as_rows,
        labels_file=args.labels_file,
        labels_key=labels_key,
        numeric_row_names=args.numeric_row_names,
    )

    cli = {"input": str(args.input), "labels_file": "" if args.labels_file is None else str(args.labels_file),
           "argv": list(args.argv)}
    # the imputed matrix goes to the file block by block: never held in memory as a whole
    try:
        settings = {name: getattr(args, name) for name in ("depth", "expectation")  # the count model's only
                    if getattr(args, name) is not None}
        pp.impute(adata, labels_key=labels_key, layer=args.layer, seed=args.seed, max_epochs=args.epochs,
                  mode=args.mode, normalized=args.normalized, device=args.device, n_threads=args.threads,
                  out_file=output, overwrite=args.force, uns_extra={"cli": cli}, key_added=args.key_added,
                  **settings)
    except InputError as exc:  # name the file the message is about
        if str(args.input) in str(exc):
            raise
        raise InputError(f"{args.input}: {exc}") from exc
    written = ", ".join(str(path) for path in dict.fromkeys(files.values()))
    logger.info("Imputed %d cells x %d genes -> %s", adata.n_obs, adata.n_vars, written)
    return 0


# ---------------------------------------------------------------------------------------
# benchmark


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_benchmark(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from .benchmarking.benchmark import DATASETS, DEFAULT_DATASETS, DEFAULT_METHODS, METHODS

    parser = subparsers.add_parser(
        "benchmark",
        parents=parents,
        help="score imputation methods on public datasets (held-out protocols)",
        description=(
            "Run imputation methods x datasets with the held-out protocols A (10% of the non-zero "
            "entries hidden) and B (binomial thinning) and write benchmark.csv, benchmark.md and "
            "versions.json into --out. Each method run is a child process: its wall time and peak "
            "memory are reported per run."
        ),
    )
    parser.add_argument(
        "--datasets", type=_comma_list, default=list(DEFAULT_DATASETS), metavar="LIST",
        help=f"comma-separated datasets (default {','.join(DEFAULT_DATASETS)}; known: {','.join(DATASETS)})",
    )
    parser.add_argument(
        "--methods", type=_comma_list, default=list(DEFAULT_METHODS), metavar="LIST",
        help=f"comma-separated methods (default {','.join(DEFAULT_METHODS)}; known: {','.join(METHODS)})",
    )
    parser.add_argument(
        "--protocol", type=_comma_list, default=["A", "B"], metavar="LIST",
        help="comma-separated protocols, A and/or B (default A,B)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the CSV, markdown and versions")
    parser.add_argument(
        "--quick", action="store_true",
        help="train scMASKGAN for 2 epochs without tuning (scVI: 2 epochs): a smoke test, not results",
    )
    parser.add_argument("--seed", type=_seed, default=0, help="seed of every method (default 0)")
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto",
        help="where scMASKGAN trains (default: auto = cuda when available)",
    )
    parser.add_argument(
        "--threads", type=_positive_int, default=None, metavar="N",
        help="limit each method run to N threads (OMP_NUM_THREADS and kin; default: the libraries' defaults)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite the output files in --out")
    parser.set_defaults(func=_run_benchmark)


def _run_benchmark(args: argparse.Namespace) -> int:
    from .benchmarking.benchmark import run_benchmark

    table = run_benchmark(
        args.datasets, args.methods, args.protocol, args.out, quick=args.quick, seed=args.seed,
        device=args.device, threads=args.threads, force=args.force, command="scmaskgan " + " ".join(args.argv),
    )
    failed = table[table["status"] != "ok"]
    if len(failed):
        for _, row in failed.iterrows():
            print(f"scmaskgan: {row['dataset']} protocol {row['protocol']} {row['method']} failed: {row['error']}",
                  file=sys.stderr)
        return 1
    logger.info("Wrote %s/benchmark.csv, benchmark.md and versions.json", args.out)
    return 0


#: Functions that add one subcommand each to the parser.
SUBCOMMANDS: list[Callable[[Any, list[argparse.ArgumentParser]], None]] = [_add_impute, _add_benchmark]


# ---------------------------------------------------------------------------------------
# entry point


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("scmaskgan")
    except Exception:  # not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``scmaskgan`` argument parser with all subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Parser whose namespace has ``func`` (the subcommand's handler).
    """
    parser = argparse.ArgumentParser(
        prog="scmaskgan",
        description="scMASKGAN: impute dropouts in single-cell RNA-seq counts with a conditional GAN.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parents = [_common_options()]
    for add in SUBCOMMANDS:
        add(subparsers, parents)
    return parser


class _Terminated(BaseException):
    """Raised in the main thread on SIGTERM or SIGHUP, so that a run stops as on Ctrl-C: ``finally``
    blocks and the writers' cleanup run (no temporary file is left beside the output)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated(signum)


def _catch_signals() -> dict:
    """Handle SIGTERM and SIGHUP as Ctrl-C is handled; return the previous handlers (none outside the main thread)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, _raise_terminated)
    return previous


def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    text = " ".join(str(text).split())
    return text or type(exc).__name__


def _log_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
                 line: str | None = None) -> None:
    """Show a Python warning as a ``WARNING`` line of the ``"scmaskgan"`` logger (the command line's own format)."""
    logger.warning("%s", message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv
        Arguments without the program name; ``None`` uses ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 success, 1 unexpected failure, 2 bad input or usage, 130 interrupted,
        143 terminated (SIGTERM), 129 hung up (SIGHUP).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    args.argv = argv

    # The package configures a handler on import; add one only if it is missing.
    handler: logging.Handler | None = None
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    previous_level = logger.level
    logger.setLevel(level)
    previous_handlers = _catch_signals()
    try:
        with warnings.catch_warnings():  # a warning is a log line, without the source line that raised it
            warnings.showwarning = _log_warning
            return int(args.func(args))
    except KeyboardInterrupt:
        print("scmaskgan: interrupted", file=sys.stderr)
        return 130
    except _Terminated as exc:
        import signal

        print(f"scmaskgan: stopped by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum
    except USER_ERRORS as exc:
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
        print(f"scmaskgan: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
        print(
            f"scmaskgan: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
            "(run with -v for the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        import signal

        for number, previous in previous_handlers.items():
            if previous is not None:
                signal.signal(number, previous)
        if handler is not None:
            logger.removeHandler(handler)
        logger.setLevel(previous_level)
