"""scanpy-style entry point: ``scmaskgan.pp.impute(adata, ...)``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._validation import InputError, check_param
from .count.settings import LAYER_MEANINGS
from .modes import MODES, resolve_mode

logger = logging.getLogger("scmaskgan")

__all__ = ["impute"]


def impute(adata, *, labels_key: str | None = None, layer: str | None = None, key_added: str = "scmaskgan",
           copy: bool = False, normalized: bool = False, max_epochs: int | None = None, seed: int = 0,
           device: str = "auto", out_file: str | None = None, overwrite: bool = False,
           uns_extra: dict | None = None, n_draws: int = 0, **model_kwargs: Any):
    """Impute dropouts and store the result in ``adata``.

    The default method, the count model (``mode="count"``), trains on the input's own molecules and
    writes three answers per zero (see Returns); ``mode="neighbours"`` fills each zero from the most
    similar real cells of the same label with a Poisson model at the cell's own depth (no training);
    ``mode="paper"`` trains the conditional GAN and imputes from its candidates as the paper does.

    Parameters
    ----------
    adata
        AnnData, cells x genes, with raw counts in ``X`` (or in ``layers[layer]``).
    labels_key
        ``obs`` column of cell types. ``None``: the count model uses no labels (and writes no labels
        column; ``uns[key_added]["labels"]["used"]`` is false); the other methods cluster the cells with
        Leiden and store the clusters in ``obs[f"{key_added}_labels"]``.
    layer
        Layer holding the counts; ``None`` uses ``X``.
    key_added
        Name of the output layer and of the ``uns`` entry with run details. A name whose layers would replace
        a layer of another run recorded in ``uns`` (``"scmaskgan_if_detected"`` beside a count-model run
        ``"scmaskgan"``) is refused, even with ``overwrite``.
    copy
        Return an imputed copy instead of writing into ``adata`` (a backed ``adata``: a copy in memory; its
        file is left as it is).
    normalized
        Accept already-normalised (non-integer) input.
    max_epochs
        Training epoch limit of the count model and the paper's GAN; ``None`` picks one from the data size
        (the neighbour fill trains nothing and refuses it).
    seed
        Seed of the whole run. Two runs with the same seed and the same ``n_threads`` (a parameter of
        :class:`scmaskgan.SCMaskGAN`, default 1) on the same machine and library versions are identical;
        a different ``n_threads`` can change the last digits of the arithmetic and, through training,
        the model; the default ``n_threads=1`` is the same everywhere.
    device
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    out_file
        Write the result to this ``.h5ad`` (or ``.csv``, ``.tsv``, optionally gzipped) file block by
        block instead of into ``adata.layers``: the dense imputed matrix is never held in
        memory (for data larger than memory; open it with ``anndata.read_h5ad(out_file,
        backed="r")``). A table holds one layer: each layer beyond ``key_added`` goes to a table named
        with its suffix (``x.csv``, ``x_if_detected.csv``, ``x_p_detected.csv``), each checked before any
        work. ``adata`` then only gets ``uns[key_added]``, with ``out_file`` and ``out_files`` (the file of
        each layer) in it.
    overwrite
        Replace existing output files, existing layers named by ``key_added`` and (a method that clusters,
        without ``labels_key``) ``obs[key_added + "_labels"]``. An earlier run under ``key_added`` is
        replaced whole: its layers, draws and labels column that this run does not write are removed (and
        logged), so that what ``adata`` holds under ``key_added`` describes one run. The layer that holds
        the input (``layer``) is never replaced.
    uns_extra
        Further entries for ``uns[key_added]`` (the command line records its arguments here).
    n_draws
        The count model only: also draw this many completed matrices from it
        (:meth:`scmaskgan.SCMaskGAN.sample`), stored in ``obsm[key_added + "_draws"]`` as cells x
        draws x genes counts, for multiple imputation (held in memory: not with ``out_file``).
    **model_kwargs
        ``mode`` and further parameters of :class:`scmaskgan.SCMaskGAN`: the method's settings, and the
        shared ones such as ``n_threads`` (CPU threads of training, imputation and draws, restored
        afterwards; default 1; ``None``: the libraries' own settings) and ``chunk_size``.

    Returns
    -------
    AnnData or None
        The imputed copy when ``copy`` is true, else ``None``. Writes
        ``layers[key_added]`` (dense, the input's scale, observed values
        unchanged; unless ``out_file`` is given) and ``uns[key_added]`` (parameters,
        training history, tuning, timings, labels used). With the count model,
        ``layers[key_added]`` holds at each zero the average its ``expectation`` setting names
        (:data:`scmaskgan.count.settings.LAYER_MEANINGS`: by default the count whose log1p CP10k value is
        the expected one), and
        ``layers[key_added + "_if_detected"]`` (the value if detected) and
        ``layers[key_added + "_p_detected"]`` (the probability of detection) are written too;
        ``uns[key_added]["layers"]`` says what each holds.

    Raises
    ------
    InputError
        Before any training: for a bad parameter or input, a ``key_added`` that would replace ``layer`` or a
        layer of another run recorded in ``uns`` (or, without ``overwrite``, another existing layer, draws or
        labels column), and when ``out_file`` is not given and the dense imputed matrix would not fit in the
        memory available.
    OutputExistsError
        Before any training, when a file of ``out_file`` exists and ``overwrite`` is false.
    """
    from . import __version__

    check_param("key_added", key_added, str)
    if not key_added:
        raise InputError("key_added must be a non-empty string.")
    check_param("copy", copy, bool)
    check_param("overwrite", overwrite, bool)
    check_param("n_draws", n_draws, int, low=0)
    if n_draws and out_file is not None:
        raise InputError("n_draws needs the draws in memory and cannot be written with out_file; "
                         "use SCMaskGAN(adata, mode='count').train().sample(n_draws) on blocks of cells instead.")
    mode = resolve_mode(model_kwargs.pop("mode", None), stacklevel=3)
    settings_class = MODES[mode]
    if n_draws and not settings_class.DRAWS:
        raise InputError(f"n_draws needs the count model (mode='count'); mode={mode!r} has no draws.")
    if max_epochs is not None:
        model_kwargs["max_epochs"] = max_epochs
    writes_labels = labels_key is None and settings_class.CLUSTERS  # the clusters go to obs; no labels, no column
    _check_key_added(adata, key_added, layer=layer, answers=settings_class.ANSWERS, n_draws=n_draws,
                     overwrite=overwrite, labels=writes_labels)
    names = answer_layer_names(key_added, settings_class.ANSWERS)
    if out_file is not None:
        from pathlib import Path

        from .io import check_output_files

        # fail before any work: every file the output takes (a table output takes one per layer)
        out_files = check_output_files(out_file, key=key_added, layers=list(names.values()), force=overwrite)
        out_file = Path(out_file)
    from ._validation import TO_DISK_ADVICE, check_dense_output
    from .model import SCMaskGAN

    model = SCMaskGAN(adata, mode=mode, labels_key=labels_key, layer=layer, normalized=normalized, seed=seed,
                      device=device, **model_kwargs)
    n_layers = len(settings_class.ANSWERS) + n_draws
    if out_file is None:  # before training: a result that cannot fit in memory fails now, not after it
        check_dense_output(model.n_cells, model.n_genes, model.output_dtype_, n_matrices=n_layers,
                           what="the imputed layers" + (" and draws" if n_draws else ""),
                           advice=("Lower n_draws (draws are held in memory; out_file cannot hold them). Without "
                                   "draws: " if n_draws else "")
                           + TO_DISK_ADVICE)
    model.train()  # only a method with networks trains
    if model.uses_generator:
        from .nn import distributed

        if not distributed.is_main():
            return None  # under torchrun every process trains; the main one imputes and writes
    if copy:
        from .io import memory_copy

        adata = memory_copy(adata) if getattr(adata, "isbacked", False) else adata.copy()
    if overwrite:
        in_adata = () if out_file is not None else (*names.values(), *([key_added + "_draws"] if n_draws else []))
        _remove_earlier_run(adata, key_added, written=tuple(names.values()), keep=in_adata, input_layer=layer,
                            labels=writes_labels)
    if writes_labels:
        adata.obs[f"{key_added}_labels"] = model.labels_
    if out_file is None:
        import time

        t0 = time.perf_counter()
        for name, values in _answer_layers(model, key_added).items():
            adata.layers[name] = values
        model.timings_["impute_s"] = time.perf_counter() - t0
        if n_draws:
            t0 = time.perf_counter()
            adata.obsm[key_added + "_draws"] = np.moveaxis(model.sample(n_draws), 0, 1)  # cells x draws x genes
            model.timings_["sample_s"] = time.perf_counter() - t0
        adata.uns[key_added] = run_summary(model, version=__version__, key=key_added) | (uns_extra or {})
    else:
        files = {name: str(path) for name, path in out_files.items()}
        _write_streamed(model, adata, out_file, key=key_added, overwrite=overwrite,
                        extra={"out_files": files} | (uns_extra or {}))
    return adata if copy else None


def _check_key_added(adata, key_added: str, *, layer: str | None, answers: tuple[str, ...], n_draws: int,
                     overwrite: bool, labels: bool = False) -> None:
    """Refuse, before any work, a ``key_added`` whose layers would replace the input layer or a layer of
    another run recorded in ``uns`` (always), or another existing layer, draws, ``uns`` entry or (``labels``:
    the run writes its clusters) labels column (unless ``overwrite``)."""
    written = list(answer_layer_names(key_added, answers).values())
    if layer is not None and layer in written:
        raise InputError(f"key_added={key_added!r} would write the imputation over layers[{layer!r}], the counts it "
                         "reads; choose another key_added.")
    for run, owned in _recorded_runs(adata).items():
        taken = [name for name in written if name in owned and name in adata.layers]
        if run != key_added and taken:
            raise InputError(f"key_added={key_added!r} would write layers[{taken[0]!r}], which belongs to the run "
                             f"recorded in uns[{run!r}]; choose another key_added, or key_added={run!r} with "
                             "overwrite=True to replace that run.")
    if overwrite:
        return
    existing = [name for name in written if name in adata.layers]
    if n_draws and key_added + "_draws" in adata.obsm:
        existing.append(f"obsm[{key_added + '_draws'!r}]")
    if existing:
        raise InputError(f"key_added={key_added!r} would replace the existing {', '.join(map(repr, existing))} of "
                         "adata.layers (an earlier run?); choose another key_added (command line: --key-added NAME) "
                         "or pass overwrite=True (--force) to replace them.")
    if key_added in adata.uns:  # a run whose layers went to a file, or the user's own entry
        raise InputError(f"key_added={key_added!r} would replace the existing adata.uns[{key_added!r}]; choose another "
                         "key_added (command line: --key-added NAME) or pass overwrite=True (--force) to replace it.")
    column = f"{key_added}_labels"
    if labels and column in adata.obs:
        raise InputError(f"key_added={key_added!r} would replace the existing column adata.obs[{column!r}] with the "
                         "clusters; choose another key_added, give labels_key, or pass overwrite=True.")


def _recorded_runs(adata) -> dict[str, list[str]]:
    """The runs recorded in ``adata.uns`` (by :func:`impute`) and the layers each wrote: those named in its
    ``"layers"`` entry (the count model), else the one named by its key."""
    runs = {}
    for key, record in adata.uns.items():
        if isinstance(record, Mapping) and "version" in record and isinstance(record.get("params"), Mapping):
            layers = record.get("layers")
            runs[key] = list(layers) if isinstance(layers, Mapping) else [key]
    return runs


def _wrote_labels(record: Mapping) -> bool:
    """Whether the run recorded in ``record`` wrote ``obs[key + "_labels"]`` (its clusters; a run recorded before
    ``"used"`` was kept wrote a column unless its labels came from ``obs``)."""
    labels = record.get("labels")
    if not isinstance(labels, Mapping):
        return False
    method = labels.get("method")
    return method not in ("obs", "none") if "used" in labels else method != "obs"


def _remove_earlier_run(adata, key: str, *, written: tuple[str, ...], keep: tuple[str, ...],
                        input_layer: str | None, labels: bool) -> None:
    """Before a run with ``overwrite`` writes under ``key``, remove what an earlier run wrote under it and this one
    does not rewrite in ``adata`` (layers, draws, labels column, its ``uns`` entry), and the layers named
    ``written`` that this run writes elsewhere (``keep``: what it writes in ``adata``), so that what ``adata``
    holds under ``key`` describes one run; logs what went."""
    record = adata.uns.get(key)
    runs = _recorded_runs(adata)
    earlier = runs.get(key, [])
    candidates = [*earlier, *(name for name in written if name not in earlier)]
    stale = [name for name in candidates if name in adata.layers and name not in keep and name != input_layer]
    removed = [repr(name) for name in stale]
    for name in stale:
        del adata.layers[name]
    draws = key + "_draws"
    if draws in adata.obsm and draws not in keep:
        del adata.obsm[draws]
        removed.append(f"obsm[{draws!r}]")
    column = f"{key}_labels"
    if key in runs and _wrote_labels(record) and not labels and column in adata.obs:
        del adata.obs[column]
        removed.append(f"obs[{column!r}]")
    adata.uns.pop(key, None)  # replaced by this run's
    if removed:
        listed = removed[0] if len(removed) == 1 else ", ".join(removed[:-1]) + " and " + removed[-1]
        logger.info("overwrite=True: removed %s of the earlier run under key_added=%r, which this run does not "
                    "write into adata", listed, key)


#: The suffix of ``key_added`` that names each answer's layer, and what it holds with the count model's default
#: ``expectation`` (:data:`scmaskgan.count.settings.LAYER_MEANINGS`; the other methods give ``mean`` only).
ANSWER_LAYERS = {name: (suffix, LAYER_MEANINGS["log"][name])
                 for name, suffix in (("mean", ""), ("if_detected", "_if_detected"), ("p_detected", "_p_detected"))}


def answer_layer_names(key_added: str, answers: tuple[str, ...] = tuple(ANSWER_LAYERS)) -> dict[str, str]:
    """Layer name of each of ``answers``: ``key_added`` (the main one), ``key_added + "_if_detected"``, ..."""
    return {name: key_added + ANSWER_LAYERS[name][0] for name in answers}


def _answer_layers(model, key_added: str) -> dict[str, np.ndarray]:
    names = answer_layer_names(key_added, model.answers_)
    out = {names[name]: np.empty((model.n_cells, model.n_genes), dtype=model.output_dtype_) for name in names}
    for start, stop, blocks in model.iter_answers():
        for name, block in blocks.items():
            out[names[name]][start:stop] = block
    return out


def _write_streamed(model, adata, out_file, *, key: str, overwrite: bool, extra: dict | None = None) -> None:
    """Impute block by block straight into ``out_file``; ``adata.uns[key]`` gets the run summary."""
    import time

    from . import __version__
    from .io import write_output

    t0 = time.perf_counter()

    def summary() -> dict:
        model.timings_["impute_s"] = time.perf_counter() - t0
        adata.uns[key] = run_summary(model, version=__version__, key=key) | {"out_file": str(out_file)} | (extra or {})
        return adata.uns[key]

    names = answer_layer_names(key, model.answers_)
    blocks = ((start, stop, {names[n]: b for n, b in answers.items()}) for start, stop, answers in model.iter_answers())
    write_output(adata, out_file, force=overwrite, key=key, blocks=blocks, summary=summary,
                 layers=list(names.values()))


def run_summary(model, *, version: str, key: str = "scmaskgan") -> dict:
    """Run details for ``uns``: only strings, numbers, lists and dicts (h5ad-serialisable)."""
    history = {col: model.history_[col].tolist() for col in model.history_.columns if col != "best"}
    params = {k: ("None" if v is None else v) for k, v in model.params.items()}
    summary = {
        "version": version,
        "params": params,
        "labels": {k: ("None" if v is None else v) for k, v in model.labels_info_.items()}
        | {"used": model.labels_info_.get("method") != "none"},  # the count model without labels uses none
        "categories": [str(c) for c in model.categories_],
        "history": history,
        "best_epoch": _best_epoch(model.history_),
        "trained": bool(model.is_trained_),
        "timings": {k: float(v) for k, v in model.timings_.items()},
        "device": str(model.device),
        "n_parameters": model.n_parameters(),
        "n_empty_cells": int(model.empty_cells_.size),
        "n_genes_not_modelled": int(model.n_genes - model.genes_used_.size),
        "image_side": int(model.layout.side),
    } | model.method.summary()
    if model.outliers_ is not None and len(model.outliers_):  # entries capped for the method, values as given
        summary["outliers"] = model.outliers_.summary(model.obs_names_, model.var_names_)
    if model.settings.DRAWS:  # what each layer means
        depth = model.params["depth"]
        measurement = ("a new measurement of the cell as deep as its own" if depth == 1 else
                       f"a new measurement of the cell of {depth:g} times its library size")
        meanings = LAYER_MEANINGS[model.params["expectation"]]
        summary["layers"] = {name: f"{meanings[answer]} (in {measurement}: depth = {depth:g})"
                             for answer, name in answer_layer_names(key, model.answers_).items()}
    return summary


def _best_epoch(history) -> int:
    """Epoch whose weights were kept (-1 when nothing was trained)."""
    if not len(history):
        return -1
    best = history["best"].astype(bool)
    return int(history.loc[best, "epoch"].iloc[0]) if best.any() else int(history["epoch"].max())
