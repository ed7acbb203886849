"""scanpy-style entry point: ``scmaskgan.pp.impute(adata, ...)``."""

from __future__ import annotations

import logging
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
        ``obs`` column of cell types. ``None``: the count model uses no labels; the other methods
        cluster the cells with Leiden. The labels used are stored in ``obs[f"{key_added}_labels"]``.
    layer
        Layer holding the counts; ``None`` uses ``X``.
    key_added
        Name of the output layer and of the ``uns`` entry with run details.
    copy
        Return an imputed copy instead of writing into ``adata``.
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
        backed="r")``). ``adata`` then only gets ``uns[key_added]``, with ``out_file`` in it.
    overwrite
        Replace an existing ``out_file``, or (without ``out_file``) existing layers named by ``key_added``;
        the layer that holds the input (``layer``) is never replaced.
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
        For a bad parameter or input, a ``key_added`` that would replace ``layer`` (or, without
        ``overwrite``, another existing layer), and, before any training, when ``out_file`` is not given
        and the dense imputed matrix would not fit in the memory available.
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
    if out_file is None:
        _check_key_added(adata, key_added, layer=layer, answers=settings_class.ANSWERS, n_draws=n_draws,
                         overwrite=overwrite)
    if out_file is not None:
        from .io import check_output_path

        out_file = check_output_path(out_file, force=overwrite)  # fail before any work
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
        adata = adata.copy()
    if labels_key is None:
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
        _write_streamed(model, adata, out_file, key=key_added, overwrite=overwrite, extra=uns_extra)
    return adata if copy else None


def _check_key_added(adata, key_added: str, *, layer: str | None, answers: tuple[str, ...], n_draws: int,
                     overwrite: bool) -> None:
    """Refuse, before any work, a ``key_added`` whose layers would replace the input layer (always) or
    another existing layer or draws (unless ``overwrite``)."""
    written = list(answer_layer_names(key_added, answers).values())
    if layer is not None and layer in written:
        raise InputError(f"key_added={key_added!r} would write the imputation over layers[{layer!r}], the counts it "
                         "reads; choose another key_added.")
    existing = [name for name in written if name in adata.layers]
    if n_draws and key_added + "_draws" in adata.obsm:
        existing.append(f"obsm[{key_added + '_draws'!r}]")
    if existing and not overwrite:
        raise InputError(f"key_added={key_added!r} would replace the existing {', '.join(map(repr, existing))} of "
                         "adata.layers; choose another key_added or pass overwrite=True.")


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
    write_output(adata, out_file, force=overwrite, key=key, blocks=blocks, summary=summary)


def run_summary(model, *, version: str, key: str = "scmaskgan") -> dict:
    """Run details for ``uns``: only strings, numbers, lists and dicts (h5ad-serialisable)."""
    history = {col: model.history_[col].tolist() for col in model.history_.columns if col != "best"}
    params = {k: ("None" if v is None else v) for k, v in model.params.items()}
    summary = {
        "version": version,
        "params": params,
        "labels": {k: ("None" if v is None else v) for k, v in model.labels_info_.items()},
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
