"""The learned count model as one component: the masked generator, its training, its answers and draws.

Training (molecular cross-validation, Batson et al. 2019): every step splits each cell's molecules
at random, ``x_in ~ Binomial(x, thinning)`` and ``x_out = x - x_in``; the generator sees ``x_in``
and is scored by the count likelihood of ``x_out`` at the library size ``l_out`` of ``x_out``
(:func:`scmaskgan.count.network.count_nll`). Every molecule the loss scores was hidden from the
network, zeros of ``x_in`` included, so the network learns what a gene seen as zero is likely to
hold, not the identity. With ``hide > 0`` a random share ``hide`` of the non-zero entries of ``x_in``
is also set to 0 (their molecules are then in neither half): thinning alone rarely empties a gene that
has many counts (read counts above all: the reads of one molecule go together), so without it the
network never sees an abundant gene at zero, which is what a dropout looks like; ``x_out`` is left as
it was, so the law the loss scores is unchanged. The held-out cells' split hides nothing, so their
loss measures the same question whatever ``hide`` is (:mod:`scmaskgan.count.read_counts` chooses it on read
counts). A fixed tenth of the cells (with a fixed split of their molecules) is held out; training stops
when their loss has not improved for ``patience`` epochs, and the best epoch's weights are kept.
Nothing outside the input is used.

Imputation: the generator sees all of a cell's molecules; the count at the cell's own library size
``l`` is NB(``rho * l``, ``theta``) (zero-inflated with ``pi``), and :mod:`scmaskgan.count.answers`
turns it into the three answers per entry: the expected log-normalised value, the value if
detected, and the probability of detection. Draws sample counts from the same distribution with
fresh noise ``z``.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from .._progress import Progress
from .._validation import InputError
from ..cells import CellData
from .network import GENE_ORDERS, CountGenerator, correlation_order, count_nll
from ..nn.weights import load_weights
from ..threads import current_threads

logger = logging.getLogger("scmaskgan")

__all__ = ["CountModel", "CountTrainingConfig", "default_max_epochs"]

#: Steps between two sweeps of :func:`_flush_subnormal` over the weights and Adam's moments.
FLUSH_EVERY = 50
#: Magnitudes below this are set to 0 by the sweep (float32's smallest normal number is about 1.2e-38).
TINY = 1e-30


@torch.no_grad()
def _flush_subnormal(optimizer: torch.optim.Optimizer) -> None:
    """Set to 0 every weight and Adam moment whose magnitude is below :data:`TINY`.

    Subnormal (denormal) floats make CPU arithmetic tens of times slower; Adam's moment estimates
    decay geometrically where a gradient stays near zero and reach them after enough steps (on
    100,000 cells an epoch went from 32 s to 84 s within four epochs). ``torch.set_flush_denormal``
    sets only the calling thread, not the intra-op threads, so the values are cleared instead; a
    value below ``TINY`` changes nothing measurable in the weights' use.
    """
    for group in optimizer.param_groups:
        for param in group["params"]:
            tensors = [param, *(v for v in optimizer.state.get(param, {}).values()
                                if torch.is_tensor(v) and v.is_floating_point() and v.shape == param.shape)]
            for t in tensors:
                t.masked_fill_(t.abs() < TINY, 0.0)

#: Most epochs the count model trains by default, and the least it is allowed by the cell budget.
MAX_EPOCHS, MIN_BUDGET_EPOCHS = 300, 20
#: Cells the count model sees in training by default, at most (epochs x training cells): early stopping ends
#: small data sets' training long before; on large ones (tens of thousands of cells and more) it bounds the
#: time, since every epoch holds that many more cells to learn from.
CELL_BUDGET = 2_000_000


def default_max_epochs(n_cells: int, validation: float = 0.1) -> int:
    """The count model's default epoch limit for ``n_cells`` cells: ``CELL_BUDGET`` cells seen in training
    (a share ``validation`` of the cells is held out), between ``MIN_BUDGET_EPOCHS`` and ``MAX_EPOCHS``;
    300 up to about 7,400 cells, 23 at 100,000."""
    n_train = max(1, int(round(n_cells * (1 - validation))))
    return int(min(MAX_EPOCHS, max(MIN_BUDGET_EPOCHS, -(-CELL_BUDGET // n_train))))


@dataclass
class CountTrainingConfig:
    """Settings of :meth:`CountModel.train`."""

    max_epochs: int = 300
    min_epochs: int = 10
    patience: int = 20
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-5
    validation: float = 0.1  # share of cells held out for early stopping
    progress: bool = True
    #: Weight of the GAIN discriminator's adversarial loss relative to the count likelihood (both summed
    #: over a cell's entries, averaged over cells); 0 trains no discriminator (:mod:`scmaskgan.count.discriminator`).
    adversarial_weight: float = 0.0
    #: Probability that the hint reveals an entry's status to the discriminator (GAIN's hint rate).
    hint_rate: float = 0.9
    #: Width of the discriminator's hidden layers.
    discriminator_hidden: int = 256


class CountModel:
    """Masked generator of one data set, with its training, answers and draws.

    Parameters
    ----------
    data
        The model's cells (raw counts of the genes in use) and their label codes.
    use_labels
        Give the generator each cell's one-hot label.
    hidden_dim, latent_dim, noise_dim, dropout, zero_inflated, architecture
        The generator's sizes and options (:class:`scmaskgan.count.network.CountGenerator`).
    gene_order
        Order of the genes in the conv encoder's image: ``"input"``, or ``"correlation"``
        (:func:`scmaskgan.count.network.correlation_order` of ``data``'s counts; the order is a buffer of
        the generator, saved and loaded with its weights).
    thinning
        Share of a cell's molecules the generator sees in a training step.
    hide
        Share of the non-zero entries of those molecules set to 0 in a training step (not in the
        held-out cells' split).
    seed
        Seed of the initialisation, the splits, the batches and the draws.
    device
        Where the generator trains and runs.

    Attributes
    ----------
    discriminator
        The GAIN discriminator of the last :meth:`train` with ``adversarial_weight > 0``
        (:class:`scmaskgan.count.discriminator.HintDiscriminator`), else ``None``. Answers and draws do not use it;
        it is not saved.
    """

    discriminator: torch.nn.Module | None = None

    def __init__(self, data: CellData, *, use_labels: bool, hidden_dim: int, latent_dim: int, noise_dim: int,
                 dropout: float, zero_inflated: bool, thinning: float, seed: int, device: torch.device,
                 architecture: str = "mlp", gene_order: str = "input", hide: float = 0.0):
        if data.scaler is not None and not data.scaler.log:
            raise InputError("the count model needs raw counts; it cannot learn from normalised values "
                             "(normalized=True). Use mode='default' or 'paper' for normalised input.")
        self.data, self.use_labels, self.thinning, self.hide = data, use_labels, thinning, hide
        self.seed, self.device = seed, device
        if gene_order not in GENE_ORDERS:
            raise InputError(f"gene_order must be one of {GENE_ORDERS}, got {gene_order!r}.")
        if gene_order != "input" and architecture != "conv":
            raise InputError(f"gene_order={gene_order!r} only matters to the conv encoder's image; the MLP sees "
                             "every gene alike. Use architecture='conv' or gene_order='input'.")
        order = correlation_order(data.X) if gene_order == "correlation" else None
        torch.manual_seed(seed)
        self.generator = CountGenerator(data.X.shape[1], data.n_labels if use_labels else 0, hidden_dim=hidden_dim,
                                         latent_dim=latent_dim, noise_dim=noise_dim, dropout=dropout,
                                         zero_inflated=zero_inflated, architecture=architecture, gene_order=order)

    # ---------------------------------------------------------------- helpers
    def _counts(self, rows: np.ndarray) -> torch.Tensor:
        block = self.data.X[rows]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        return torch.as_tensor(np.asarray(block, dtype=np.float32), device=self.device)

    def _onehot(self, rows: np.ndarray) -> torch.Tensor | None:
        if not self.use_labels:
            return None
        codes = torch.as_tensor(self.data.codes[rows], device=self.device, dtype=torch.long)
        return torch.nn.functional.one_hot(codes, self.data.n_labels).float()

    def _loss(self, x_in: torch.Tensor, x_out: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        """Mean over cells of the summed NLL of the hidden molecules ``x_out``."""
        rho, pi_logits = self.generator(x_in, self._onehot(rows))
        mu = rho * x_out.sum(1, keepdim=True)
        return count_nll(x_out, mu, self.generator.theta, pi_logits).sum(1).mean()

    def _split(self, x: torch.Tensor, generator: torch.Generator, *,
               hide: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """``x_in ~ Binomial(x, thinning)`` and ``x_out = x - x_in``; then, with ``hide > 0``, each entry of
        ``x_in`` set to 0 with probability ``hide`` (``x_out`` unchanged; no draw is made with ``hide = 0``)."""
        x_in = torch.binomial(x, torch.full_like(x, self.thinning), generator=generator)
        x_out = x - x_in
        if hide > 0:
            x_in = x_in.masked_fill(torch.rand(x.shape, generator=generator) < hide, 0.0)
        return x_in, x_out

    def _relaxed_draw(self, x_in: torch.Tensor, lib: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        """A draw of the counts at library size ``lib`` given ``x_in``, through which gradients reach the
        generator (rates, ``theta``, ``pi`` and the noise ``z``).

        The count is NB(``rho * lib``, ``theta``) as gamma-Poisson: the rate is a reparameterised gamma
        draw (``torch.distributions.Gamma.rsample``, so its gradient reaches ``rho`` and ``theta``), the
        count a Poisson draw of that rate with a straight-through gradient (forward: the integer count;
        backward: ``d count / d rate = 1``); with zero inflation a structural zero is a Bernoulli draw with
        the same straight-through gradient. The discriminator thus sees integer counts on both sides, as
        a continuous relaxation (the mean ``rho * lib`` or the gamma rate alone) would let it tell
        generated entries from real ones by their non-integer values. Fresh ``z`` per call; the draws use
        torch's global generator (seeded in :meth:`train`).
        """
        rho, pi_logits = self.generator(x_in, self._onehot(rows))
        theta = self.generator.theta
        mu = (rho * lib).clamp_min(1e-8)
        shape = theta.expand_as(mu)
        rate = torch.distributions.Gamma(shape, torch.ones_like(mu)).rsample() * (mu / shape)
        count = rate + (torch.poisson(rate.detach()) - rate).detach()
        if pi_logits is not None:
            p_keep = torch.sigmoid(-pi_logits)
            count = count * (torch.bernoulli(p_keep.detach()) + p_keep - p_keep.detach())
        return count

    def _adversarial_step(self, disc: torch.nn.Module, opt_d: torch.optim.Optimizer, x_in: torch.Tensor,
                          x_out: torch.Tensor, rows: np.ndarray, hint_rate: float,
                          draws: torch.Generator) -> tuple[float, torch.Tensor]:
        """One step of the discriminator on a batch, then the generator's adversarial loss against the updated
        discriminator (:mod:`scmaskgan.count.discriminator`); return ``D``'s loss and the generator's loss (a tensor
        whose gradient reaches the generator only).

        The real cell is ``x_out`` (the held-out molecules, every entry known); a random share
        :data:`~scmaskgan.count.discriminator.GENERATED_SHARE` of its entries, independent of the counts, is replaced by
        ``_relaxed_draw`` given ``x_in`` at ``x_out``'s library size. ``D`` reads
        ``log1p(count / l_out * 1e4)`` of the completed cell and the paper's hint.
        """
        from .discriminator import GENERATED_SHARE, discriminator_loss, generator_adversarial_loss, random_mask, sample_hint

        lib = x_out.sum(1, keepdim=True).clamp_min(1.0)
        mask = random_mask(tuple(x_out.shape), GENERATED_SHARE, draws, device=x_out.device)
        hint, b = sample_hint(mask, hint_rate, draws)
        completed = mask * x_out + (1.0 - mask) * self._relaxed_draw(x_in, lib, rows)
        values = torch.log1p(completed / lib * 1e4)
        loss_d = discriminator_loss(disc(values.detach(), hint), mask, b)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        disc.requires_grad_(False)  # the generator's loss reaches D's input, not its weights
        try:
            loss_g = generator_adversarial_loss(disc(values, hint), mask, b)
        finally:
            disc.requires_grad_(True)
        return loss_d.item(), loss_g

    def n_parameters(self) -> int:
        """Trainable parameters of the generator."""
        return sum(t.numel() for t in self.generator.parameters())

    # ------------------------------------------------------------------ train
    def train(self, config: CountTrainingConfig) -> tuple[list[dict], float]:
        """Train on the input's own molecule splits; return the per-epoch history and the seconds it took.

        Each step scores the generator by the count likelihood of the held-out molecules ``x_out`` given
        ``x_in``. With ``config.adversarial_weight > 0`` a GAIN discriminator with the paper's hint
        (:mod:`scmaskgan.count.discriminator`) is trained alongside: each step it judges completed cells (``x_out``
        with a random half of its entries replaced by relaxed draws of the generator,
        ``_relaxed_draw``), takes one Adam step on its loss, and the generator's loss adds
        ``adversarial_weight`` times ``-log D`` of the unrevealed generated entries. Early stopping and
        the kept epoch stay on the held-out likelihood alone. The discriminator is kept as
        :attr:`discriminator` for inspection; answers and draws do not use it, and it is not saved.

        History columns: ``epoch``, ``loss`` (the likelihood part), ``val_loss``, ``seconds``, ``best``;
        with the discriminator also ``loss_adv`` (the generator's adversarial loss, unweighted) and
        ``loss_d``.
        """
        weight, hint_rate = config.adversarial_weight, config.hint_rate
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not np.isfinite(weight) or weight < 0:
            raise InputError(f"adversarial_weight must be a finite number >= 0, got {weight!r}.")
        if isinstance(hint_rate, bool) or not isinstance(hint_rate, (int, float)) or not 0 <= hint_rate < 1:
            raise InputError(f"hint_rate must be a number in [0, 1) (1 would reveal every entry and leave the "
                             f"discriminator nothing to judge), got {hint_rate!r}.")
        t0 = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        split = torch.Generator().manual_seed(self.seed)
        torch.manual_seed(self.seed)
        n = self.data.n_cells
        order = rng.permutation(np.flatnonzero(self.data.lib > 0))
        n_val = max(1, int(round(config.validation * order.size))) if order.size >= 4 else 0
        val_rows, train_rows = np.sort(order[:n_val]), order[n_val:]
        if train_rows.size < 2:
            raise InputError(f"the count model needs at least 2 cells with counts to train on ({n} cells given).")
        gen = self.generator.to(self.device)
        opt = torch.optim.Adam(gen.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.discriminator = disc = opt_d = draws = None
        if weight > 0:  # nothing of this runs (no draw from any generator) without the discriminator
            from .discriminator import HintDiscriminator

            disc = self.discriminator = HintDiscriminator(self.data.X.shape[1], config.discriminator_hidden)
            disc.to(self.device)
            opt_d = torch.optim.Adam(disc.parameters(), lr=config.lr)
            draws = torch.Generator().manual_seed(self.seed + 1)  # masks and hints
        val = None
        if n_val:
            x_val = self._counts(val_rows)
            val = self._split(x_val.cpu(), split)
            val = (val[0].to(self.device), val[1].to(self.device))
        batch_size = min(config.batch_size, train_rows.size)
        history, best, steps = [], (np.inf, 0, None), 0
        progress = Progress(config.max_epochs, desc="scmaskgan training", unit="epoch", enabled=config.progress)
        try:
            for epoch in range(1, config.max_epochs + 1):
                e0 = time.perf_counter()
                gen.train()
                perm = rng.permutation(train_rows)
                total, batches, total_adv, total_d = 0.0, 0, 0.0, 0.0
                for i in range(0, perm.size, batch_size):
                    rows = perm[i:i + batch_size]
                    if rows.size < 2 and batches:
                        continue  # a last batch of one cell: layer norm and the mean loss need no more, but skip it
                    x_in, x_out = self._split(self._counts(rows).cpu(), split, hide=self.hide)
                    x_in, x_out = x_in.to(self.device), x_out.to(self.device)
                    loss = self._loss(x_in, x_out, rows)
                    objective = loss
                    if disc is not None:
                        loss_d, loss_adv = self._adversarial_step(disc, opt_d, x_in, x_out, rows, hint_rate, draws)
                        objective = loss + weight * loss_adv
                        total_adv, total_d = total_adv + loss_adv.item(), total_d + loss_d
                    opt.zero_grad(set_to_none=True)
                    objective.backward()
                    opt.step()
                    steps += 1
                    if steps % FLUSH_EVERY == 0:
                        for optimizer in (opt, opt_d):
                            if optimizer is not None:
                                _flush_subnormal(optimizer)
                    total, batches = total + loss.item(), batches + 1
                gen.eval()
                with torch.no_grad():
                    val_loss = self._loss(val[0], val[1], val_rows).item() if val is not None else total / batches
                row = {"epoch": epoch, "loss": total / batches, "val_loss": val_loss}
                if disc is not None:
                    row |= {"loss_adv": total_adv / batches, "loss_d": total_d / batches}
                row["seconds"] = time.perf_counter() - e0
                history.append(row)
                progress.update(1, postfix={"loss": f"{row['loss']:.2f}", "val": f"{val_loss:.2f}"},
                                message=f"epoch {epoch}/{config.max_epochs}  loss {row['loss']:.3f}  "
                                        f"held-out {val_loss:.3f}  ({row['seconds']:.1f} s)")
                if val_loss < best[0] - 1e-4 * abs(best[0] if np.isfinite(best[0]) else 1.0):
                    best = (val_loss, epoch, copy.deepcopy(gen.state_dict()))
                if epoch >= config.min_epochs and epoch - best[1] >= config.patience:
                    logger.info("count model: held-out loss has not improved for %d epochs; keeping epoch %d",
                                config.patience, best[1])
                    break
        finally:
            progress.close()
        if best[2] is not None:
            gen.load_state_dict(best[2])
        gen.eval()
        for row in history:
            row["best"] = row["epoch"] == best[1]
        return history, time.perf_counter() - t0

    # ---------------------------------------------------------------- answers
    @torch.no_grad()
    def distribution(self, rows: np.ndarray, *, z: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray | None]:
        """``mu`` (cells x genes, at each cell's own library size), ``theta`` (genes) and ``pi`` (or ``None``)
        of the count of each entry given all of the cell's molecules."""
        self.generator.eval()
        if z is None and self.generator.noise_dim:
            z = torch.zeros(len(rows), self.generator.noise_dim, device=self.device)  # the mean noise
        rho, pi_logits = self.generator(self._counts(rows), self._onehot(rows), z)
        mu = rho.double().cpu().numpy() * self.data.lib[rows][:, None]
        pi = None if pi_logits is None else torch.sigmoid(pi_logits).double().cpu().numpy()
        return mu, self.generator.theta.double().cpu().numpy(), pi

    def answers(self, rows: np.ndarray, *, depth: float = 1.0, expectation: str = "log") -> dict[str, np.ndarray]:
        """The three answers per entry about a new measurement of each cell of ``depth`` times its library
        size ``l``: its count ``c`` is NB(``depth * mu``, ``theta``) (zero-inflated with ``pi``), on the scale
        ``c * 1e4 / (depth * l)``: ``mean``, ``if_detected`` and ``p_detected``. With ``expectation="log"``
        the first two are averages of ``log1p`` of that scale (:func:`scmaskgan.count.answers.count_answers`),
        with ``"counts"`` averages of the scale itself, ``E[c]`` and ``E[c | c > 0]``. The kernel runs with
        the threads of the enclosing :func:`scmaskgan.threads.using_threads` (1 outside one)."""
        from .answers import count_answers

        mu, theta, pi = self.distribution(rows)
        if depth != 1:
            mu *= depth
        lib = self.data.lib[rows] * depth
        # a cell without counts has mu = 0 everywhere; any positive library gives it the answers of nothing
        lib = np.where(lib > 0, lib, 1.0)
        target_sum = self.data.scaler.target_sum
        if expectation == "log":
            mean, if_detected, p_detected = count_answers(mu, theta, lib, pi=pi, target_sum=target_sum,
                                                          n_threads=current_threads() or 1)  # alike for any
            return {"mean": mean, "if_detected": if_detected, "p_detected": p_detected}
        # the counts' own averages have closed forms: E[c] = (1 - pi) mu and P(c > 0) = (1 - pi) (1 - (1 + mu /
        # theta) ** -theta), so the kernel (which averages log1p of the counts) is not needed
        kept = 1.0 if pi is None else 1.0 - pi
        p_detected = kept * -np.expm1(-theta * np.log1p(mu / theta))
        scale = target_sum / lib[:, None]
        mean = kept * mu * scale
        # E[c | c > 0] = E[c] / P(c > 0); as P(c > 0) -> 0 the count if detected tends to 1
        tiny = p_detected < 1e-12
        if_detected = np.where(tiny, scale, mean / np.where(tiny, 1.0, p_detected))
        return {"mean": mean.astype(np.float32), "if_detected": if_detected.astype(np.float32),
                "p_detected": p_detected.astype(np.float32)}

    def sample(self, rows: np.ndarray, rng: np.random.Generator, *, depth: float = 1.0,
               detected: bool = False) -> np.ndarray:
        """One draw of the count of every entry of ``rows`` in a new measurement of ``depth`` times each cell's
        library size (fresh noise ``z``, then the count distribution; with ``detected``, given that the
        count is positive)."""
        from .answers import sample_counts

        z = None
        if self.generator.noise_dim:
            z = torch.as_tensor(rng.standard_normal((len(rows), self.generator.noise_dim)), dtype=torch.float32,
                                device=self.device)
        mu, theta, pi = self.distribution(rows, z=z)
        if depth != 1:
            mu *= depth
        return sample_counts(mu, theta, pi=pi, rng=rng, detected=detected)

    # ---------------------------------------------------------------- weights
    def state_dict(self) -> dict[str, dict]:
        """The generator's weights (tensors only)."""
        return {"masked_generator": self.generator.state_dict()}

    def load(self, path: Path) -> None:
        """Load weights written by :meth:`state_dict` with ``torch.load(weights_only=True)``."""
        load_weights(path, {"masked_generator": self.generator})
        self.generator.to(self.device).eval()
