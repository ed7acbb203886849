"""Settings of the count model (``mode="count"``, the default), checked when they are made (no torch)."""

from __future__ import annotations

import dataclasses

from .._validation import InputError
from ..method import TRAINING_CHECKS, Settings

__all__ = ["CountSettings", "LAYER_MEANINGS"]

#: What each layer of the count model holds, in one sentence, by answer and by ``expectation``; the
#: README, the usage and method pages, ``scmaskgan impute --help`` and ``uns[key_added]["layers"]`` say
#: the same.
LAYER_MEANINGS: dict[str, dict[str, str]] = {
    "log": {
        "mean": "at each zero, the count whose log1p CP10k value is the model's expected log1p CP10k value for "
                "that entry given the cell: an average taken on the log scale that clustering, embeddings and "
                "correlations use, mapped back to counts, and so below the expected count; observed values "
                "unchanged",
        "if_detected": "at each zero, the same average taken over the counts above zero only: the level the gene "
                       "would have if detected",
    },
    "counts": {
        "mean": "at each zero, the model's expected count for that entry given the cell: the average to use "
                "where counts are added or averaged over cells (pseudobulk, mean expression per group); observed "
                "values unchanged",
        "if_detected": "at each zero, the expected count given that the gene is detected, E[x | x > 0]",
    },
}
for _meanings in LAYER_MEANINGS.values():
    _meanings["p_detected"] = ("at each zero, the probability that the gene is detected, P(x > 0); 1 where a "
                               "value was observed")


@dataclasses.dataclass
class CountSettings(Settings):
    """The count model's network, training, and the measurement its answers describe.

    Parameters
    ----------
    hidden_dim, latent_dim, noise_dim, dropout
        The network's hidden width, the size of its code, the size of its noise ``z`` (the draws differ
        through it) and its dropout rate in training.
    zero_inflated
        The likelihood: zero-inflated negative binomial (the default), or the plain negative binomial
        with ``False``. Chosen on the count model's own held-out loss: zero inflation had the lower loss
        summed over the benchmark's inputs, by about 0.1% on UMI counts and by 12-21% on read counts.
    thinning
        Share of a cell's molecules the model sees in a training step (molecular cross-validation); the
        rest are what it is scored on.
    hide
        Share of the non-zero entries of what the model sees in a training step that are set to 0
        besides, in ``[0, 0.95]``, so that it also learns from genes with many counts seen at zero. The
        held-out loss that stops training hides nothing. ``None`` (the default): 0 on UMI counts; on
        counts that may be reads, 0 or 0.7, chosen with ``reads_per_molecule``. The value used is in
        ``hide_``.
    architecture
        Encoder: ``"mlp"`` (fully connected) or ``"conv"`` (the paper's blocks on the gene layout:
        convolutions, a residual block, self-attention, the label map).
    gene_order
        Order of the genes in the conv encoder's image: ``"input"``, or ``"correlation"`` (correlated
        genes side by side). Only with ``architecture="conv"``.
    adversarial_weight
        Weight of a GAIN discriminator's adversarial loss relative to the count likelihood; 0 (the
        default) trains no discriminator.
    hint_rate
        Probability that the hint reveals to the discriminator whether an entry is real, in ``[0, 1)``.
    expectation
        The average the main layer (and the value if detected) gives at each zero: ``"log"`` (the
        default), the count whose log1p CP10k value is the expected one, for analyses on log-normalised
        values (clustering, embeddings, correlation; it is below the expected count, most where a gene
        is rarely detected); ``"counts"``, the expected count, for analyses that add or average
        counts over cells (pseudobulk, mean expression per group, totals). :data:`scmaskgan.count.settings.LAYER_MEANINGS` says
        what each layer holds under each.
    depth
        The measurement the answers describe, as a multiple of each cell's library size: 1 (the default)
        asks what a new measurement of the cell, as deep as its own, would show at each zero; 2, one
        twice as deep; ``(1 - f) / f`` asks what the molecules missing from a cell that kept only a share
        ``f`` of them would show. It changes the answers, not the training.
    reads_per_molecule
        Reads per molecule of the counts: the model reads ``max(1, round(c / r))`` molecules where a count
        ``c`` is non-zero, and brings its answers back to each cell's reads. 1 keeps the counts as they
        are. ``None`` (the default) chooses it on the input itself, with ``hide`` where that is ``None``:
        the model is trained at each candidate (``r`` in 1, 4, 16 and 64, ``hide`` in 0 and 0.7) on the
        input with a further 10% of its own non-zero entries hidden, and the candidate whose value if
        detected is nearest to them wins. Scales above 1 are tried only where the median non-zero count
        is at least four times the scale: on UMI counts nothing is chosen and nothing more is trained; on
        read counts training takes up to nine times longer.
    batch_size
        Cells per training batch; ``None`` uses ``min(64, n_cells)``.
    lr
        Adam learning rate.
    max_epochs
        Default epoch limit of training; ``None``: 300 up to about 7,400 cells, then fewer, so that
        training sees at most two million cells (23 epochs at 100,000 cells).
    patience
        Epochs without improvement of the held-out loss before training stops.
    """

    MAX_SEED = 2**64 - 1  # torch's bound; the count model clusters nothing
    CLUSTERS = False  # without labels it conditions on no label
    ANSWERS = ("mean", "if_detected", "p_detected")
    DRAWS = True
    TAKES_NORMALIZED = False  # it learns a count law
    CHECKS = TRAINING_CHECKS | {
        "hidden_dim": (int, {"low": 4, "high": 8192}),
        "latent_dim": (int, {"low": 1, "high": 4096}),
        "noise_dim": (int, {"low": 0, "high": 1024}),
        "dropout": (float, {"low": 0, "high": 1}),
        "zero_inflated": (bool, {}),
        "thinning": (float, {"low": 0, "high": 1, "low_inclusive": False}),
        "hide": (float, {"low": 0, "high": 0.95, "allow_none": True}),
        "architecture": (str, {"choices": ("mlp", "conv")}),
        "gene_order": (str, {"choices": ("input", "correlation")}),
        "adversarial_weight": (float, {"low": 0}),
        "hint_rate": (float, {"low": 0, "high": 1}),
        "expectation": (str, {"choices": ("log", "counts")}),
        "depth": (float, {"low": 0, "low_inclusive": False, "high": 1e6}),
        "reads_per_molecule": (float, {"low": 1, "high": 1e6, "allow_none": True}),
    }

    hidden_dim: int = 256
    latent_dim: int = 64
    noise_dim: int = 16
    dropout: float = 0.1
    zero_inflated: bool = True
    thinning: float = 0.5
    hide: float | None = None
    architecture: str = "mlp"
    gene_order: str = "input"
    adversarial_weight: float = 0.0
    hint_rate: float = 0.9
    expectation: str = "log"
    depth: float = 1.0
    reads_per_molecule: float | None = None
    batch_size: int | None = None
    lr: float = 1e-3
    max_epochs: int | None = None
    patience: int = 20

    def check(self) -> None:
        if self.hint_rate == 1:
            raise InputError("hint_rate must be < 1: a hint that reveals every entry leaves the discriminator "
                             "nothing to judge.")
        if self.gene_order != "input" and self.architecture != "conv":
            raise InputError(f"gene_order={self.gene_order!r} only matters to the conv encoder's image; the MLP "
                             "sees every gene alike. Use architecture='conv' or gene_order='input'.")
        self.depth = float(self.depth)

    def for_input(self, *, normalized: bool) -> "CountSettings":
        """The settings for the input: normalised values are refused (the model learns a count law)."""
        if normalized and not self.TAKES_NORMALIZED:
            raise InputError("mode='count' learns a count model and needs raw counts; use mode='neighbours' "
                             "for normalised input.")
        return self
