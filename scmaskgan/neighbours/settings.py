"""Settings of the neighbour fill (``mode="neighbours"``), checked when they are made (no torch)."""

from __future__ import annotations

import dataclasses

from .._validation import InputError
from ..method import Settings

__all__ = ["NeighboursSettings", "NEIGHBOUR_CHECKS"]

#: Type and bounds of each setting of the neighbour fill (the paper's method shares them).
NEIGHBOUR_CHECKS = {
    "k": (int, {"low": 1}),
    "k_sigma": (float, {}),
    "fill": (str, {"choices": ("mean", "poisson"), "allow_none": True}),
    "alpha": (float, {"low": 0, "high": 1}),
    "metric": (str, {"choices": ("observed", "pca")}),
    "tune": (bool, {}),
    "n_trials": (int, {"low": 1}),
    "max_real": (int, {"low": 1}),
    "leiden_resolution": (float, {"low": 0, "low_inclusive": False}),
}


@dataclasses.dataclass
class NeighboursSettings(Settings):
    """How each zero of a cell takes a value from the most similar real cells of its label.

    Parameters
    ----------
    k
        Neighbours averaged (the starting value when ``tune`` is true).
    k_sigma
        Distance threshold ``theta = mu + k_sigma * sigma`` of the label's cell-pool distances.
    fill
        How a zero's value comes from its neighbours: ``"poisson"``, the neighbours' expression
        fractions give the expected count at this cell's own library size, ``lam``, and the fill is
        ``P ** alpha * E`` with ``P = 1 - exp(-lam)`` and ``E`` the mean log-normalised value of a
        Poisson(``lam``) count given that it is non-zero (needs raw counts); or ``"mean"`` of their
        scaled values (the paper; with ``alpha``, ``P ** alpha * E`` with ``P`` the share of neighbours
        expressing the gene and ``E`` their mean expressed value). ``None``: ``"poisson"`` on counts,
        ``"mean"`` on normalised input.
    alpha
        Exponent of the detection probability ``P`` in the fill: 1 is the (posterior) mean, which keeps
        probable true zeros near zero; 0 treats every zero as a dropout.
    metric
        ``"pca"``: Euclidean distance in a 30-component PCA of the scaled values; ``"observed"``:
        root-mean-square distance over the cell's observed genes (the paper).
    tune
        Search ``k`` and ``k_sigma`` with Optuna on hidden observed entries before imputing.
    n_trials
        Optuna trials.
    max_real
        Largest number of real cells per label in the pool.
    leiden_resolution
        Resolution of the automatic clustering when no labels are given.
    """

    CHECKS = NEIGHBOUR_CHECKS

    k: int = 30
    k_sigma: float = 1.0
    fill: str | None = None
    alpha: float = 0.5
    metric: str = "pca"
    tune: bool = False
    n_trials: int = 40
    max_real: int = 5000
    leiden_resolution: float = 1.0

    def for_input(self, *, normalized: bool) -> "NeighboursSettings":
        """The settings for an input of counts or, with ``normalized``, of normalised values: ``fill=None``
        becomes ``"poisson"`` or ``"mean"``; ``"poisson"`` on normalised values is refused."""
        if self.fill == "poisson" and normalized:
            raise InputError("fill='poisson' needs raw counts; use fill='mean' with normalized=True.")
        return dataclasses.replace(self, fill=self.fill or ("mean" if normalized else "poisson"))
