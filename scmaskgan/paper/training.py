"""Adversarial training loop of scMASKGAN (separate from the networks and the user API).

Objective: the conditional GAN of the paper (equations 3 and 5), applied per
pixel: the discriminator returns one logit per pixel, and both losses are
binary cross-entropies averaged over the gene pixels only (the padding mask
removes the padding pixels from every loss). The generator uses the
non-saturating form ``-log D(G(z|y)|y)`` of equation 3.

Convergence: after each epoch the generator draws, with fixed noise, as many
profiles per label as a fixed evaluation sample of real cells holds, and
``M`` = mean over labels of the mean absolute difference of per-gene means and
standard deviations between generated and real cells (on the [0, 1] scale).
Training stops when ``M`` has not improved by ``tol`` for ``patience`` epochs
and the best epoch's weights are restored (the in-memory checkpoint; also
written to ``checkpoint_dir`` when given).

Data parallel: inside a ``torch.distributed`` process group (:mod:`scmaskgan.nn.distributed`)
every rank draws the same batch
order and takes every ``world``-th cell of each batch, so a step still sees one batch of
``batch_size`` cells (gradients averaged across ranks) and an epoch has as many steps as in
one process, each rank doing ``1 / world`` of the work. The generator is wrapped in
``DistributedDataParallel``; the discriminator's gradients are averaged by hand (it runs two
forward passes per step, on real and on generated cells, as in one process). Rank 0's
convergence measure decides for all ranks.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .._progress import Progress
from ..cells import CellData
from ..nn.layout import ImageLayout

logger = logging.getLogger("scmaskgan")

__all__ = ["TrainingConfig", "train_gan", "convergence_measure"]


@dataclass
class TrainingConfig:
    max_epochs: int = 200
    min_epochs: int = 20
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    patience: int = 20
    tol: float = 1e-3
    eval_cells: int = 512
    checkpoint_dir: str | None = None
    progress: bool = True
    mixed_precision: bool = False  # bfloat16 autocast of the forward passes (no loss scaling needed)


def convergence_measure(real: torch.Tensor, fake: torch.Tensor, codes: torch.Tensor, n_labels: int) -> float:
    """Mean over labels (weighted by cells) of ``|mean_r - mean_f| + |sd_r - sd_f|`` averaged over genes."""
    total, weight = 0.0, 0
    for label in range(n_labels):
        sel = codes == label
        n = int(sel.sum())
        if n < 2:
            continue
        r, f = real[sel], fake[sel]
        diff = (r.mean(0) - f.mean(0)).abs().mean() + (r.std(0) - f.std(0)).abs().mean()
        total += float(diff) * n
        weight += n
    return total / max(weight, 1)


def train_gan(generator: torch.nn.Module, discriminator: torch.nn.Module, data: CellData, layout: ImageLayout,
              config: TrainingConfig, *, device: torch.device, seed: int = 0) -> list[dict]:
    """Train G and D adversarially; return the per-epoch history (list of dicts).

    The generator and discriminator are left holding the weights of the epoch
    with the best convergence measure.
    """
    from ..nn import distributed

    world, rank = (distributed.world_size(), distributed.rank()) if distributed.is_distributed() else (1, 0)
    rng = np.random.default_rng(seed)  # the same batch order on every rank; each takes its share
    torch.manual_seed(seed + rank)  # noise differs between ranks
    generator.to(device).train()
    discriminator.to(device).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
    net_g = generator
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        net_g = DDP(generator, device_ids=ids)
        # The discriminator sees real and generated cells in two forward passes, as in one process
        # (one pass over both would change what its batch norm sees); its gradients are averaged
        # across ranks by hand before each step, from weights made equal on every rank here.
        for t in discriminator.state_dict().values():
            torch.distributed.broadcast(t, src=0)
    pad = layout.padding_mask(device)
    n_gene_pixels = float(layout.n_genes)
    eye = torch.eye(data.n_labels, device=device)

    def masked_bce(logits: torch.Tensor, target: float) -> torch.Tensor:
        logits = logits.float()
        loss = F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target), reduction="none")
        return (loss * pad).sum() / (n_gene_pixels * logits.shape[0])

    # Fixed evaluation sample and noise for the convergence measure.
    eval_rows = np.sort(rng.choice(data.n_cells, size=min(config.eval_cells, data.n_cells), replace=False))
    eval_real = torch.from_numpy(data.values(eval_rows)).to(device)
    eval_codes = torch.from_numpy(data.codes[eval_rows]).to(device)
    eval_noise = torch.randn(len(eval_rows), generator.latent_dim, generator=torch.Generator().manual_seed(seed + 1)).to(device)

    history: list[dict] = []
    best = (np.inf, 0, None)
    ckpt_dir = Path(config.checkpoint_dir) if config.checkpoint_dir else None
    if ckpt_dir:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(config.max_epochs, desc="scmaskgan training", unit="epoch",
                        enabled=config.progress and rank == 0)

    def amp():  # bfloat16 autocast of forward passes when mixed precision is on (a no-op otherwise)
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.mixed_precision)

    try:
        for epoch in range(1, config.max_epochs + 1):
            t0 = time.perf_counter()
            sums = np.zeros(2)
            n_batches = 0
            for rows in data.batches(config.batch_size, rng, min_size=2 * world):
                if world > 1:  # each rank takes its share of the batch; DDP averages the gradients
                    rows = rows[rank::world] if len(rows) >= world else rows[[rank % len(rows)]]
                real = layout.to_images(torch.from_numpy(data.values(rows))).to(device)
                onehot = eye[torch.from_numpy(data.codes[rows]).to(device)]
                z = torch.randn(len(rows), generator.latent_dim, device=device)
                with amp():
                    fake = net_g(z, onehot) * pad
                # Discriminator: real -> 1, generated -> 0, on gene pixels only.
                opt_d.zero_grad(set_to_none=True)
                with amp():
                    loss_d = masked_bce(discriminator(real, onehot), 1.0) + masked_bce(discriminator(fake.detach(), onehot), 0.0)
                loss_d.backward()
                if world > 1:
                    for param in discriminator.parameters():
                        if param.grad is not None:
                            torch.distributed.all_reduce(param.grad)
                            param.grad /= world
                opt_d.step()
                # Generator: non-saturating -log D(G(z|y)|y).
                opt_g.zero_grad(set_to_none=True)
                with amp():
                    loss_g = masked_bce(discriminator(fake, onehot), 1.0)
                loss_g.backward()
                opt_g.step()
                sums += (loss_d.item(), loss_g.item())
                n_batches += 1
            sums /= n_batches
            generator.eval()
            with torch.no_grad():
                gen = layout.to_vectors(generator(eval_noise, eye[eval_codes]))
            generator.train()
            measure = convergence_measure(eval_real, gen, eval_codes, data.n_labels)
            if world > 1:  # mean losses over ranks; rank 0's measure decides for all
                stats = torch.tensor([sums[0], sums[1], measure], dtype=torch.float64, device=device)
                losses = stats[:2].clone()
                torch.distributed.all_reduce(losses)
                torch.distributed.broadcast(stats, src=0)
                sums, measure = (losses / world).cpu().numpy(), float(stats[2])
            row = {"epoch": epoch, "loss_d": float(sums[0]), "loss_g": float(sums[1]),
                   "convergence": measure, "seconds": time.perf_counter() - t0}
            history.append(row)
            progress.update(1, postfix={"loss_d": f"{row['loss_d']:.3f}", "loss_g": f"{row['loss_g']:.3f}",
                                        "M": f"{row['convergence']:.4f}"},
                            message=f"epoch {epoch}/{config.max_epochs}  loss_d {row['loss_d']:.4f}  "
                                    f"loss_g {row['loss_g']:.4f}  convergence {row['convergence']:.5f}  "
                                    f"({row['seconds']:.1f} s)")
            if measure < best[0] - config.tol:
                best = (measure, epoch, (copy.deepcopy(generator.state_dict()), copy.deepcopy(discriminator.state_dict())))
                if ckpt_dir and rank == 0:
                    torch.save({"generator": best[2][0], "discriminator": best[2][1], "epoch": epoch},
                               ckpt_dir / "best.pt")
            if epoch >= config.min_epochs and epoch - best[1] >= config.patience:
                logger.info("converged: no improvement of the convergence measure for %d epochs; "
                            "keeping epoch %d (M = %.5f)", config.patience, best[1], best[0])
                break
    finally:
        progress.close()
    if best[2] is not None:
        generator.load_state_dict(best[2][0])
        discriminator.load_state_dict(best[2][1])
    generator.eval()
    discriminator.eval()
    for row in history:
        row["best"] = row["epoch"] == best[1]
    return history
