"""The registry of baseline methods: one :class:`Baseline` per name, and the error of a missing package.

:mod:`scmaskgan.benchmarking.baselines` registers the methods that run in this Python and
:mod:`scmaskgan.benchmarking.peers` those that run in the DeepImpute/DCA environment.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._name_registry import Registry

__all__ = ["BASELINES", "Baseline", "BaselineNotAvailableError"]


class BaselineNotAvailableError(ImportError):
    """A baseline needs an optional package that is not installed."""


@dataclass(frozen=True)
class Baseline:
    """One registered method.

    Attributes
    ----------
    name
        Registry name.
    func
        ``func(counts, *, labels, seed, **options) -> imputed counts``; ``counts`` is a dense
        ``float64`` array that the function may not modify.
    summary
        One line: the method and its settings.
    requires
        Importable module the method needs beyond the core dependencies, or ``None``.
    install
        How to install ``requires``.
    """

    name: str
    func: Callable[..., np.ndarray]
    summary: str
    requires: str | None = None
    install: str = ""

    def is_available(self) -> bool:
        """Whether the optional package in ``requires`` (if any) can be imported."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None

    def check_available(self) -> None:
        """Raise :class:`BaselineNotAvailableError` with install advice when ``requires`` is missing."""
        if not self.is_available():
            raise BaselineNotAvailableError(
                f"baseline {self.name!r} needs the package {self.requires!r}, which is not installed; "
                f"install it with: {self.install}"
            )


#: Registry of the baseline methods, by name (the pattern of ``scmaskgan._name_registry``).
BASELINES: Registry[Baseline] = Registry("baseline", sorted_names=True, factory=Baseline)
