"""Run DeepImpute or DCA on a counts ``.npy`` file, in the peers' own environment (Python 3.8, TensorFlow 2.4).

This file imports nothing from scmaskgan: ``make peers`` creates ``.venv-peers/`` with Python 3.8
and the pinned packages of ``peers-constraints.txt``, and the baselines ``dca`` and ``deepimpute``
of :mod:`scmaskgan.benchmarking.baselines` run it there as a script::

    .venv-peers/bin/python -I scmaskgan/benchmarking/peers_runner.py --tool dca \\
        --input counts.npy --output imputed.npy --seed 0 --threads 1 --info info.json

``--input`` is a cells x genes matrix of raw counts (non-negative integers, any numeric dtype);
``--output`` receives a ``float64`` matrix of the same shape on the count scale of the input (each
cell keeps its own library size). ``--info`` (optional) receives a JSON object with the tool's
version, the time of the imputation alone, the number of genes the tool was given and this
process's peak resident memory (``VmHWM``). ``--versions`` prints the versions of the environment's
packages as JSON; ``--check TOOL`` exits with status 0 when the tool and TensorFlow can be found.

Settings (those with which the anchors were measured: on sc_celseq2 with protocol A, DCA RMSE 0.349,
Pearson 0.532, ARI 0.977 and DeepImpute RMSE 0.306, Pearson 0.509, ARI 0.398):

* **DCA** (Eraslan et al. 2019; ``dca`` 0.3.4): ``dca.api.dca(adata, ae_type="zinb-conddisp",
  random_state=seed, threads=threads)``, its defaults otherwise (denoise mode, size-factor
  normalisation, log1p and scaling of the input, hidden layers 64-32-64, 300 epochs at most with
  early stopping after 15 epochs without improvement, RMSprop). DCA overwrites ``adata.X`` with the
  **mean of the fitted negative-binomial component**, ``mu`` times the cell's size factor (its total
  count over the median total), i.e. counts on the scale of the input; this runner returns that
  matrix as it is (the zero-inflation probability is not applied). DCA refuses genes without
  counts, so those genes are left out of the fit and returned as 0; cells without counts are
  left out and returned as 0.
* **DeepImpute** (Arisdakessian et al. 2019; ``deepimpute`` 1.2):
  ``deepimpute.multinet.MultiNet(seed=seed, ncores=threads)`` with its defaults otherwise
  (sub-networks of 512 target genes, 5 predictors per target, one dense layer of 256 with dropout
  0.2, learning rate 1e-4, batch 64, 500 epochs at most with patience 5), then ``fit(data)`` and
  ``predict(data)`` with their defaults (``minVMR=0.5``, ``policy="restore"``). DeepImpute
  normalises with ``log1p`` of the raw counts (no library-size scaling), predicts on that scale
  and converts back with ``expm1``; with ``policy="restore"`` every non-zero input count is kept
  and only zeros are replaced. Its output is therefore already on the count scale of the input
  and is returned as it is. Genes that DeepImpute does not select for imputation keep their input
  values (its own behaviour).

Both tools seed Python's, NumPy's and TensorFlow's generators from ``--seed``, and the same seed and
input give the same output (for DCA only because this runner turns TensorFlow's eager execution off
before calling it: DCA sets the seed first and turns it off itself, which leaves its graph unseeded).
``--threads`` sets TensorFlow's intra- and inter-op thread pools (the caller sets ``OMP_NUM_THREADS``
and kin).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

TOOLS = ("dca", "deepimpute")

#: Packages whose versions ``--versions`` reports.
PACKAGES = ("dca", "deepimpute", "tensorflow-cpu", "tensorflow", "keras", "numpy", "pandas", "scanpy", "anndata",
            "scikit-learn", "h5py", "protobuf")

#: Keyword arguments of ``MultiNet.fit`` (the other DeepImpute options go to ``MultiNet``).
_DEEPIMPUTE_FIT_OPTIONS = ("cell_subset", "NN_lim", "genes_to_impute", "n_pred", "ntop", "minVMR", "mode")


def package_versions() -> dict:
    """Versions of Python and of the installed packages of :data:`PACKAGES` (missing ones left out).

    Returns
    -------
    dict
        ``{"python": "3.8.x", package: version, ...}``.
    """
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": ".".join(str(v) for v in sys.version_info[:3])}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (``VmHWM`` of ``/proc/self/status``; else ``ru_maxrss``)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _quiet_tensorflow() -> None:
    """Keep TensorFlow's C++ and Python logging to errors."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def run_dca(counts, *, seed: int = 0, threads: int = 1, **options):
    """DCA with ``ae_type="zinb-conddisp"``: the fitted mean on the count scale of the input.

    Parameters
    ----------
    counts : numpy.ndarray
        Cells x genes raw counts (float64, non-negative integers).
    seed
        ``random_state`` of DCA (Python, NumPy and TensorFlow seeds; TensorFlow's eager execution is
        turned off before the call so that the seed reaches DCA's graph).
    threads
        ``threads`` of DCA (TensorFlow's thread pools).
    **options
        Other keyword arguments of ``dca.api.dca`` (for example ``epochs``), overriding its defaults.

    Returns
    -------
    numpy.ndarray
        Float64 matrix of the input's shape: the mean of the negative-binomial component times each
        cell's size factor; 0 for genes and cells without counts.
    """
    import numpy as np

    _quiet_tensorflow()
    import anndata
    import tensorflow as tf
    from dca.api import dca

    # dca() seeds TensorFlow and then turns eager execution off; the graph it then builds in has no
    # seed, so two runs with the same random_state differ (up to several counts per entry). Turning
    # eager execution off first makes its tf.random.set_seed(random_state) seed that graph.
    tf.compat.v1.disable_eager_execution()

    genes = counts.sum(0) > 0
    cells = counts.sum(1) > 0
    out = np.zeros(counts.shape, dtype=np.float64)
    if genes.sum() == 0 or cells.sum() < 2:
        return out
    adata = anndata.AnnData(counts[np.ix_(cells, genes)].astype(np.float32))
    # A gene with counts only in empty cells cannot occur; one with counts only in a few cells is kept.
    options = {"ae_type": "zinb-conddisp", "random_state": seed, "threads": threads, **options}
    result = dca(adata, copy=True, **options)
    out[np.ix_(cells, genes)] = np.asarray(result.X, dtype=np.float64)
    return out


def run_deepimpute(counts, *, seed: int = 0, threads: int = 1, output_prefix: str | None = None, **options):
    """DeepImpute with its defaults: zeros replaced by its prediction, observed counts kept.

    Parameters
    ----------
    counts : numpy.ndarray
        Cells x genes raw counts (float64, non-negative integers); DeepImpute refuses matrices whose
        largest value is below 10 (it takes them for log-transformed data).
    seed
        ``seed`` of ``MultiNet`` (NumPy and TensorFlow seeds, dropout).
    threads
        ``ncores`` of ``MultiNet`` (TensorFlow's thread pools).
    output_prefix
        Folder where DeepImpute saves its model between ``fit`` and ``predict`` (a temporary folder
        when ``None``).
    **options
        Keyword arguments of ``MultiNet`` (for example ``max_epochs``) or of ``MultiNet.fit``
        (``minVMR``, ``n_pred``, ``NN_lim``, ``ntop``, ``cell_subset``, ``genes_to_impute``, ``mode``).

    Returns
    -------
    numpy.ndarray
        Float64 matrix of the input's shape on the input's count scale (``expm1`` of DeepImpute's
        ``log1p``-scale prediction at the zeros, the input elsewhere).
    """
    import numpy as np

    _quiet_tensorflow()
    import pandas as pd
    from deepimpute.multinet import MultiNet

    fit_options = {k: options.pop(k) for k in list(options) if k in _DEEPIMPUTE_FIT_OPTIONS}
    data = pd.DataFrame(counts, index=[f"cell{i}" for i in range(counts.shape[0])],
                        columns=[f"gene{j}" for j in range(counts.shape[1])])
    with tempfile.TemporaryDirectory(prefix="deepimpute-") as tmp:
        model = MultiNet(seed=seed, ncores=threads, output_prefix=output_prefix or tmp, verbose=0, **options)
        model.fit(data, **fit_options)
        imputed = model.predict(data)
    return np.asarray(imputed.loc[data.index, data.columns].values, dtype=np.float64)


def main(argv=None) -> int:
    """Command line: see the module's docstring. Returns the exit status."""
    parser = argparse.ArgumentParser(description="Run DeepImpute or DCA on a cells x genes counts .npy file.")
    parser.add_argument("--tool", choices=TOOLS)
    parser.add_argument("--input", help="cells x genes raw counts (.npy)")
    parser.add_argument("--output", help="where the imputed counts go (.npy, float64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--options", default="{}", help="JSON object of the tool's keyword arguments")
    parser.add_argument("--info", help="where the run's JSON summary goes")
    parser.add_argument("--versions", action="store_true", help="print the packages' versions as JSON and exit")
    parser.add_argument("--check", choices=TOOLS, help="exit 0 when TOOL and TensorFlow can be found")
    args = parser.parse_args(argv)

    if args.versions:
        print(json.dumps(package_versions()))
        return 0
    if args.check:
        from importlib.util import find_spec

        return 0 if find_spec(args.check) is not None and find_spec("tensorflow") is not None else 1
    if not (args.tool and args.input and args.output):
        parser.error("--tool, --input and --output are needed")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    options = json.loads(args.options)
    if not isinstance(options, dict):
        parser.error(f"--options must be a JSON object, got {args.options!r}")

    import numpy as np

    counts = np.asarray(np.load(args.input), dtype=np.float64)
    if counts.ndim != 2:
        raise SystemExit(f"error: the input must be a cells x genes matrix, got shape {counts.shape}")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise SystemExit("error: the input must hold finite non-negative counts")
    run = run_dca if args.tool == "dca" else run_deepimpute
    start = time.perf_counter()
    out = run(counts, seed=args.seed, threads=args.threads, **options)
    seconds = time.perf_counter() - start
    if out.shape != counts.shape or not np.isfinite(out).all():
        raise SystemExit(f"error: {args.tool} returned shape {out.shape} (input {counts.shape}) or non-finite values")
    np.save(args.output, out)
    if args.info:
        versions = package_versions()
        info = {"tool": args.tool, "version": versions.get(args.tool), "tensorflow":
                versions.get("tensorflow-cpu", versions.get("tensorflow")), "python": versions["python"],
                "seed": args.seed, "threads": args.threads, "options": options, "method_s": seconds,
                "genes_with_counts": int((counts.sum(0) > 0).sum()), "peak_rss_mb": peak_rss_mb()}
        with open(args.info, "w") as fh:
            json.dump(info, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
