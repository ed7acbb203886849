"""scmaskgan: scMASKGAN imputation of dropouts in single-cell RNA-seq data.

Quick use::

    import scmaskgan
    scmaskgan.pp.impute(adata, labels_key="cell_type")   # adata.layers["scmaskgan"]

Heavy modules (torch, scanpy) load on first use of the attribute that needs them.
"""

from __future__ import annotations

import importlib
import logging

__version__ = "0.1.0"

__all__ = ["SCMaskGAN", "pp", "datasets", "InputError", "set_verbosity", "__version__"]


class _DefaultHandler(logging.StreamHandler):
    """Shows scmaskgan's progress and warnings (stderr) while the application has not configured
    logging; once the root logger has a handler (``logging.basicConfig``, pytest's ``caplog``, a
    server's set-up) it stays silent and the records reach that handler by propagation, once."""

    def emit(self, record: logging.LogRecord) -> None:
        if not logging.getLogger().handlers:
            super().emit(record)


_logger = logging.getLogger("scmaskgan")
if not any(isinstance(h, _DefaultHandler) for h in _logger.handlers):
    _handler = _DefaultHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s scmaskgan %(levelname)s: %(message)s", "%H:%M:%S"))
    _logger.addHandler(_handler)
    _logger.setLevel(logging.INFO)

_LAZY = {"SCMaskGAN": ("scmaskgan.model", "SCMaskGAN"), "InputError": ("scmaskgan._validation", "InputError")}
_SUBMODULES = {"pp", "datasets", "io", "cli", "evaluation", "benchmarking", "count", "neighbours", "paper", "nn",
               "method", "modes", "simulate", "model", "scaling", "labels", "analysis"}


def set_verbosity(level: int | str) -> None:
    """Set the level of the ``scmaskgan`` logger (e.g. ``"WARNING"`` to silence progress lines)."""
    _logger.setLevel(level)


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f"scmaskgan.{name}")
    raise AttributeError(f"module 'scmaskgan' has no attribute {name!r}")
