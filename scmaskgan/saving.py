"""Saving and loading a :class:`scmaskgan.SCMaskGAN`: a folder with its settings, labels, history and weights.

``config.json`` holds the parameters, the genes, the labels' categories and the scaler;
``labels.csv`` each cell's label; ``history.csv`` the training curves; ``weights.pt`` the
networks' tensors (read with ``torch.load(weights_only=True)``: no objects are unpickled).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._validation import InputError
from .modes import MODES, RENAMED_MODES, SHARED_CHECKS
from .scaling import Scaler

__all__ = ["save_model", "load_model"]

_FORMAT = "scmaskgan-model"
_FORMAT_VERSION = 2
#: Format versions this version reads (1: before the methods had their own settings).
_READS = (1, 2)


def save_model(model, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``config.json``, ``history.csv``, ``labels.csv`` and, with a network, ``weights.pt`` (tensors only)
    of ``model`` (:meth:`scmaskgan.SCMaskGAN.save`)."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()) and not overwrite:
        raise FileExistsError(f"{directory} exists and is not empty; pass overwrite=True to replace it.")
    directory.mkdir(parents=True, exist_ok=True)
    state = model.method.state()
    params = dict(model.params) | {k: v for k, v in model.count_settings_.items() if v is not None}  # as chosen
    config = {"format": _FORMAT, "format_version": _FORMAT_VERSION, "params": params,
              "var_names": model.var_names_.tolist(), "genes_used": model.genes_used_.tolist(),
              "categories": [str(c) for c in model.categories_], "labels_info": model.labels_info_,
              "scaler": model.scaler.to_dict(), "batch_size": model.batch_size, "state": state,
              "is_trained": model.is_trained_}
    weights = model.method.state_dict()
    if weights is not None:
        import torch

        torch.save(weights, directory / "weights.pt")
    model.history_.to_csv(directory / "history.csv", index=False)
    pd.DataFrame({"cell": model.obs_names_, "label": np.asarray(model.labels_.astype(str))}).to_csv(
        directory / "labels.csv", index=False)
    (directory / "config.json").write_text(json.dumps(config, indent=1, default=_json_default))
    return directory


def load_model(cls, directory: str | Path, adata, *, device: str = "auto"):
    """A ``cls`` model saved by :func:`save_model`, for ``adata`` (:meth:`scmaskgan.SCMaskGAN.load`)."""
    directory = Path(directory)
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise InputError(f"{directory} holds no config.json; it is not a saved scmaskgan model.")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{config_path} is not valid JSON ({err}); the saved model is corrupt.") from None
    if not isinstance(config, dict) or config.get("format") != _FORMAT:
        raise InputError(f"{config_path} is not a scmaskgan model configuration.")
    if config.get("format_version") not in _READS:
        raise InputError(f"{directory} was saved in format version {config.get('format_version')}; "
                         f"this scmaskgan reads versions {', '.join(map(str, _READS))}.")
    var_names = np.asarray(adata.var_names, dtype=str)
    if var_names.tolist() != config["var_names"]:
        raise InputError(f"the genes of adata ({len(var_names)}) differ from the model's "
                         f"({len(config['var_names'])}) or are in another order.")
    params = _current_params(config) | {"device": device}
    mode = params.get("mode")
    known = set(SHARED_CHECKS) | {"mode"} | (set(MODES[mode].names()) if mode in MODES else set())
    unknown = sorted(set(params) - known)
    if unknown:
        raise InputError(f"{config_path} has unknown parameter(s) {', '.join(map(repr, unknown))}; the model was "
                         "saved by another scmaskgan version or the file was edited.")
    labels_key = params["labels_key"]
    if labels_key is None and config["labels_info"].get("method") != "none":  # automatic labels: the saved ones
        saved = pd.read_csv(directory / "labels.csv", dtype=str).set_index("cell")["label"]
        missing = ~pd.Index(np.asarray(adata.obs_names, dtype=str)).isin(saved.index)
        if missing.any():
            raise InputError(f"{int(missing.sum())} cell(s) of adata have no label in {directory / 'labels.csv'}; "
                             "the model was trained with automatic labels, which exist only for its own cells.")
        adata = adata.copy()
        labels_key = "_scmaskgan_labels"
        adata.obs[labels_key] = pd.Categorical(saved.loc[np.asarray(adata.obs_names, dtype=str)].to_numpy(),
                                               categories=config["categories"])
        params["labels_key"] = labels_key
    model = cls(adata, **params)
    if [str(c) for c in model.categories_] != config["categories"]:
        raise InputError(f"the labels of adata.obs[{labels_key!r}] ({list(model.categories_)}) differ from "
                         f"the model's ({config['categories']}).")
    model.params["labels_key"] = config["params"]["labels_key"]
    model.labels_info_ = config["labels_info"]
    model.scaler = Scaler(**config["scaler"])
    model.data.scaler = model.scaler
    for net in (model.gan, model.count_model):  # the copies a method made of the cells
        if net is not None:
            net.data.scaler = model.scaler
    state = config.get("state")
    if state is None:  # format version 1 kept these at the top
        state = {"tuning": config.get("tuning"), "molecule_choice": config.get("molecule_choice")}
    model.method.restore(state)
    if model.method.state_dict() is not None:
        model.method.load_weights(directory / "weights.pt")
    history = directory / "history.csv"
    if history.is_file():
        model.history_ = pd.read_csv(history)
    model.is_trained_ = bool(config.get("is_trained", True))
    return model


def _current_params(config: dict) -> dict[str, Any]:
    """The saved parameters as this version takes them: a version-1 file named the methods by their earlier
    names and kept every method's settings; the method's own are kept, the rest (defaults) dropped."""
    params = dict(config["params"])
    if config.get("format_version") == 1:
        mode = RENAMED_MODES.get(params.get("mode"), params.get("mode"))
        own = set(MODES[mode].names()) | set(SHARED_CHECKS)
        params = {k: v for k, v in params.items() if k in own} | {"mode": mode}
    return params


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")
