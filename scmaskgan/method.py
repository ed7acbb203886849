"""What every imputation method of :class:`scmaskgan.SCMaskGAN` is: its settings and its interface.

The package holds three methods, each in its own folder:

* ``"count"`` (:mod:`scmaskgan.count`, the default): the learned count model;
* ``"neighbours"`` (:mod:`scmaskgan.neighbours`): the neighbour fill, no training;
* ``"paper"`` (:mod:`scmaskgan.paper`): the paper's conditional GAN and its candidates.

Each method has one typed settings object (a subclass of :class:`Settings`, checked field by field when
it is made, so that a bad value fails in milliseconds) and one implementation of :class:`Method`, which
:class:`scmaskgan.SCMaskGAN` delegates to. The settings modules import no torch.

A leaf of the package: it imports only the validation helpers.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ._validation import check_param

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["Settings", "Method", "TRAINING_CHECKS"]

#: Type and bounds of the training settings that the count model and the paper's GAN both have.
TRAINING_CHECKS: dict[str, tuple[Any, dict[str, Any]]] = {
    "batch_size": (int, {"low": 2, "allow_none": True}),
    "lr": (float, {"low": 0, "high": 1, "low_inclusive": False}),
    "max_epochs": (int, {"low": 1, "allow_none": True}),
    "patience": (int, {"low": 1}),
}


@dataclasses.dataclass
class Settings:
    """Base of each method's settings: a dataclass whose fields are checked when it is made.

    Subclasses declare their fields with defaults and, in ``CHECKS``, the type and bounds of each
    (keyword arguments of ``scmaskgan._validation.check_param``).
    """

    CHECKS: ClassVar[dict[str, tuple[Any, dict[str, Any]]]] = {}
    #: The answers the method gives per entry, the main one (``"mean"``) first.
    ANSWERS: ClassVar[tuple[str, ...]] = ("mean",)
    #: Whether the method draws completed matrices.
    DRAWS: ClassVar[bool] = False
    #: Whether the method clusters the cells when no labels are given (and so has ``leiden_resolution``).
    CLUSTERS: ClassVar[bool] = True
    #: Whether the method also takes normalised (non-integer) values, with ``normalized=True``.
    TAKES_NORMALIZED: ClassVar[bool] = True
    #: Largest seed the method accepts (numpy's RandomState, used for PCA and clustering, takes 32 bits).
    MAX_SEED: ClassVar[int] = 2**32 - 1

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            kind, bounds = self.CHECKS[field.name]
            value = check_param(field.name, getattr(self, field.name), kind, **bounds)
            setattr(self, field.name, float(value) if kind is float and value is not None else value)
        self.check()

    def check(self) -> None:
        """Checks that involve more than one field (none by default)."""

    def for_input(self, *, normalized: bool) -> "Settings":
        """The settings as they apply to an input of counts or, with ``normalized``, of normalised values
        (a setting that needs counts is refused or resolved here, before the data are read)."""
        return self

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The settings' names."""
        return tuple(field.name for field in dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict."""
        return dataclasses.asdict(self)


class Method(abc.ABC):
    """The interface of one imputation method, as :class:`scmaskgan.SCMaskGAN` uses it.

    A method is built on the model's input (:class:`scmaskgan.cells.ModelInput`) and its settings (whose
    class says which answers it gives, ``ANSWERS``, and whether it draws, ``DRAWS``); it trains (or not),
    and answers block by block. Answers are dense cells x genes arrays on the input's scale over all of the
    input's genes; the caller restores the observed values (paper, equation 6).
    """

    #: The method's name, as ``mode`` takes it.
    NAME: ClassVar[str] = ""

    #: The training history, one row per epoch (empty for a method that does not train).
    history_: "pd.DataFrame"

    @property
    @abc.abstractmethod
    def needs_training(self) -> bool:
        """Whether the method must be trained before it answers."""

    @abc.abstractmethod
    def train(self, max_epochs: int | None, *, accelerator: str | None = None,
              checkpoint_dir: str | Path | None = None) -> "pd.DataFrame":
        """Train; return this run's per-epoch history (empty where there is nothing to train)."""

    @abc.abstractmethod
    def answers(self, block_size: int, **options: Any) -> Iterator[tuple[int, int, dict[str, "np.ndarray"]]]:
        """Yield ``(start, stop, answers)`` for consecutive row blocks: each of ``ANSWERS`` as a dense
        ``stop - start`` x genes array on the input's scale, observed values not yet restored."""

    def sample(self, n_draws: int, *, seed: int, **options: Any) -> "np.ndarray":
        """``n_draws`` completed matrices (draws x cells x genes), observed values not yet restored; only a
        method whose settings' ``DRAWS`` is true implements it."""
        raise NotImplementedError

    @abc.abstractmethod
    def summary(self) -> dict[str, Any]:
        """What the method did, for ``uns`` (strings, numbers, lists and dicts only)."""

    def n_parameters(self) -> dict[str, int]:
        """Trainable parameter counts of the method's networks (0 without networks)."""
        return {"generator": 0, "discriminator": 0}

    @property
    def device(self) -> str:
        """Where the method's networks live (``"cpu"`` without networks)."""
        return "cpu"

    def state(self) -> dict[str, Any]:
        """What :meth:`restore` needs besides the settings and the weights (JSON-serialisable)."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` gave."""

    def state_dict(self) -> dict[str, dict] | None:
        """The networks' weights (tensors only), or ``None`` without networks."""
        return None

    def load_weights(self, path: Path) -> None:
        """Load weights written from :meth:`state_dict`."""
