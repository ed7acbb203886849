"""The methods by name: what ``mode`` takes, each method's settings class, and the earlier names.

A leaf of the package (no torch) that the model, ``pp.impute``, saving and the command line read.
"""

from __future__ import annotations

import warnings
from typing import Any

from ._validation import InputError, check_param
from .count.settings import CountSettings
from .method import Settings
from .neighbours.settings import NeighboursSettings
from .paper.settings import PaperSettings

__all__ = ["MODES", "DEFAULT_MODE", "RENAMED_MODES", "SHARED_CHECKS", "GUIDE", "resolve_mode", "make_settings",
           "method_table"]

#: The methods by the name ``mode`` takes, and their settings classes.
MODES: dict[str, type[Settings]] = {"count": CountSettings, "neighbours": NeighboursSettings, "paper": PaperSettings}

#: The method that users get when they name none.
DEFAULT_MODE = "count"

#: Earlier names of the methods, accepted for one release with a warning that names the new one.
RENAMED_MODES = {"masked": "count", "default": "neighbours"}

#: How each parameter that every method shares (:class:`scmaskgan.SCMaskGAN`'s own) is checked at construction,
#: as (type, bounds and choices).
SHARED_CHECKS: dict[str, tuple[Any, dict[str, Any]]] = {
    "labels_key": (str, {"allow_none": True}),
    "layer": (str, {"allow_none": True}),
    "normalized": (bool, {}),
    "chunk_size": (int, {"low": 1}),
    "seed": (int, {"low": 0, "high": 2**64 - 1}),  # torch's bound; a method that clusters takes 32 bits
    "device": (str, {"choices": ("auto", "cpu", "cuda")}),
    "progress": (bool, {}),
    "n_threads": (int, {"low": 1, "allow_none": True}),  # None: the libraries' own settings
}


def resolve_mode(mode: str | None, stacklevel: int = 3) -> str:
    """The method's name for ``mode``: ``None`` is the default (:data:`DEFAULT_MODE`); an earlier name
    (:data:`RENAMED_MODES`) gives its new one with a ``FutureWarning``; any other name is refused."""
    if mode is None:
        return DEFAULT_MODE
    if mode in RENAMED_MODES:
        new = RENAMED_MODES[mode]
        warnings.warn(f"mode={mode!r} is now called mode={new!r}; the old name will be removed in the next "
                      "release.", FutureWarning, stacklevel=stacklevel)
        return new
    return check_param("mode", mode, str, choices=(*MODES, *RENAMED_MODES))


def _owners(name: str) -> list[str]:
    """The methods that have a setting called ``name``."""
    return [mode for mode, settings in MODES.items() if name in settings.names()]


def make_settings(mode: str, given: dict[str, Any]) -> Settings:
    """``mode``'s settings from the keyword arguments ``given``, each checked; a setting of another method
    (or of none) is refused with a message that names the method it belongs to."""
    settings_class = MODES[mode]
    for name in given:
        if name in settings_class.names():
            continue
        owners = _owners(name)
        if not owners:
            raise InputError(f"{name!r} is not a parameter of SCMaskGAN (mode={mode!r} takes "
                             f"{', '.join(settings_class.names())}).")
        where = " and ".join(f"mode={o!r}" for o in owners)
        raise InputError(f"{name} is a setting of {where}, not of mode={mode!r}; leave it out or use "
                         f"mode={owners[0]!r}.")
    return settings_class(**given)


#: One row per method, with its name, what it answers, its cost, the data it is for and when to pick it.
#: Costs on a 2-core CPU, end to end, 1 thread at 274 cells x 2,000 genes (``scmaskgan benchmark`` on
#: sc_celseq2), 2 threads at 100,000 x 2,000 (``benchmarks/scale.py``).
GUIDE: tuple[tuple[str, str, str, str, str], ...] = (
    ("count", "average value at each zero (log scale, or the expected count), value if detected, P(detected); draws",
     "12-15 s, 0.55 GB; 100,000 cells (2 threads): 11-15 min, 1.9 GB",
     "raw counts (UMI; read counts too)",
     "the default: most accurate on held-out values, invents no clusters"),
    ("neighbours", "one filled value per zero",
     "3 s, 0.5 GB; 100,000 cells (2 threads): 37 s, 1.2 GB",
     "counts or normalised values",
     "no training; normalised input; a quick first look"),
    ("paper", "one filled value per zero",
     "72 s, 0.7 GB; 100,000 cells (2 threads): 59 min, 1.2 GB",
     "counts or normalised values",
     "to reproduce the paper's method (its generated cells do not help)"),
)


def method_table(markdown: bool = False) -> str:
    """:data:`GUIDE` as a table: markdown (README, book) or plain text (the command line's help)."""
    header = ("mode", "answers", "cost (274 cells; 100,000 cells)", "data", "pick it for")
    if markdown:
        rows = [header, ("---",) * len(header), *((f"`{r[0]}`", *r[1:]) for r in GUIDE)]
        return "\n".join("| " + " | ".join(row) + " |" for row in rows)
    lines = ["methods (--mode):"]
    for mode, answers, cost, data, pick in GUIDE:
        lines += [f"  {mode:<11}{answers}", f"  {'':<11}cost: {cost}", f"  {'':<11}data: {data}",
                  f"  {'':<11}pick it for: {pick}"]
    return "\n".join(lines)
