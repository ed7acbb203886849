"""Progress of long work: about ten log lines when not on a terminal, none when disabled."""

from __future__ import annotations

import logging

import numpy as np

from scmaskgan._progress import Progress


def test_progress_logs_the_first_update_and_each_tenth(caplog):
    with caplog.at_level(logging.INFO, logger="scmaskgan"):
        with Progress(1000, desc="work", unit="cell") as p:
            for _ in range(100):
                p.update(10)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("work:")]
    assert lines[0].startswith("work: 10/1,000 cells") and lines[-1].startswith("work: 1,000/1,000 cells")
    assert len(lines) == 11  # the first update, then every 100 cells
    assert p.done == 1000


def test_progress_uses_the_message_given_and_stays_quiet_when_disabled(caplog):
    with caplog.at_level(logging.INFO, logger="scmaskgan"):
        with Progress(3, desc="training", unit="epoch") as p:
            p.update(1, message="epoch 1/3 loss 0.5")
        with Progress(3, desc="silent", unit="epoch", enabled=False) as q:
            for _ in range(3):
                q.update()
    messages = [r.getMessage() for r in caplog.records]
    assert "epoch 1/3 loss 0.5" in messages and not any(m.startswith("silent") for m in messages)
    assert q.done == 3


def test_imputation_reports_its_progress(tiny_counts, caplog):
    from scmaskgan import SCMaskGAN

    model = SCMaskGAN(tiny_counts, labels_key="cell_type", chunk_size=16, mode="neighbours")
    with caplog.at_level(logging.INFO, logger="scmaskgan"):
        blocks = list(model.iter_imputed())
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("scmaskgan imputation:")]
    assert lines and lines[-1].startswith(f"scmaskgan imputation: {tiny_counts.n_obs}/{tiny_counts.n_obs} cells")
    assert np.concatenate([b for _, _, b in blocks]).shape == tiny_counts.shape
