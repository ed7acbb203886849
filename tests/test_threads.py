"""CPU threads of the package's own work (``n_threads``, ``scmaskgan impute --threads``): used inside
training, imputation and draws, restored afterwards, checked at once, recorded, saved; and what repeats."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from scmaskgan import SCMaskGAN, cli, pp
from scmaskgan._validation import InputError
from scmaskgan.count import model as count_model
from scmaskgan.threads import current_threads, using_threads

from conftest import COUNT_MODEL_FAST

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def torch_threads():
    """Restores torch's thread count after the test, whatever the test set."""
    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def _pools() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_using_threads_sets_every_pool_and_restores_them(torch_threads):
    torch.set_num_threads(3)
    pools = _pools()
    with using_threads(1):
        assert torch.get_num_threads() == 1 and set(_pools()) <= {1} and current_threads() == 1
        with using_threads(None):  # the libraries' settings as they are
            assert torch.get_num_threads() == 1 and current_threads() is None
        assert current_threads() == 1
    assert torch.get_num_threads() == 3 and _pools() == pools and current_threads() is None
    with pytest.raises(RuntimeError), using_threads(2):  # restored after an error too
        assert torch.get_num_threads() == 2
        raise RuntimeError("stop")
    assert torch.get_num_threads() == 3 and _pools() == pools


@pytest.mark.parametrize("caller, n_threads", [(2, 1), (1, 2), (3, None)])
def test_training_imputation_and_draws_use_n_threads_and_restore_the_callers(tiny_counts, monkeypatch, torch_threads,
                                                                             caller, n_threads):
    seen = {"loss": set(), "distribution": set(), "answers": set()}
    loss, distribution = count_model.CountModel._loss, count_model.CountModel.distribution

    def spy_loss(self, *args, **kwargs):
        seen["loss"].add(torch.get_num_threads())
        return loss(self, *args, **kwargs)

    def spy_distribution(self, *args, **kwargs):
        seen["distribution"].add(torch.get_num_threads())
        seen["answers"].add(current_threads())
        return distribution(self, *args, **kwargs)

    monkeypatch.setattr(count_model.CountModel, "_loss", spy_loss)
    monkeypatch.setattr(count_model.CountModel, "distribution", spy_distribution)
    torch.set_num_threads(caller)
    model = SCMaskGAN(tiny_counts, seed=0, n_threads=n_threads, **COUNT_MODEL_FAST)
    assert model.n_threads == n_threads and torch.get_num_threads() == caller
    model.train()
    assert seen["loss"] == {n_threads or caller} and torch.get_num_threads() == caller
    blocks = model.iter_answers(block_size=25)
    next(blocks)
    assert torch.get_num_threads() == caller  # the caller's setting while it holds a block
    list(blocks)
    model.sample(2)
    assert seen["distribution"] == {n_threads or caller} and seen["answers"] == {n_threads}
    assert torch.get_num_threads() == caller


@pytest.mark.parametrize("n_threads", [1, 2])
def test_the_same_seed_and_threads_repeat_exactly(tiny_counts, n_threads, torch_threads):
    runs = []
    for caller in (1, 2):  # the caller's own setting does not matter
        torch.set_num_threads(caller)
        model = SCMaskGAN(tiny_counts, seed=3, n_threads=n_threads, **COUNT_MODEL_FAST).train()
        weights = [t.detach().clone() for t in model.count_model.generator.state_dict().values()]
        answers = {k: v.copy() for _, _, block in model.iter_answers() for k, v in block.items()}
        runs.append((weights, answers, model.sample(2, seed=1), model.history_["val_loss"].to_numpy()))
    (w1, a1, d1, h1), (w2, a2, d2, h2) = runs
    assert all(torch.equal(x, y) for x, y in zip(w1, w2))
    assert all(np.array_equal(a1[k], a2[k]) for k in a1)
    assert np.array_equal(d1, d2) and np.array_equal(h1, h2)


@pytest.mark.parametrize("bad", [0, -1, "2", 1.5, True])
def test_bad_n_threads_refused_before_reading_the_data(tiny_counts, monkeypatch, bad):
    def no_reading(*args, **kwargs):
        raise AssertionError("the data were read")

    monkeypatch.setattr("scmaskgan.model.read_cells", no_reading)
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="n_threads must be"):
        SCMaskGAN(tiny_counts, n_threads=bad)
    with pytest.raises(InputError, match="n_threads must be"):
        pp.impute(tiny_counts.copy(), n_threads=bad)
    assert time.perf_counter() - t0 < 0.5


def test_cli_threads_option(tiny_counts, tmp_path, capsys, monkeypatch):
    src, out = tmp_path / "in.h5ad", tmp_path / "out.h5ad"
    tiny_counts.write_h5ad(src)
    assert cli.main(["impute", str(src), "-o", str(out), "--threads", "0"]) == 2
    assert "argument --threads: expected an integer >= 1, got 0" in capsys.readouterr().err
    assert not out.exists()
    given = []
    monkeypatch.setattr(pp, "impute", lambda adata, **kwargs: given.append(kwargs["n_threads"]))
    assert cli.main(["impute", str(src), "-o", str(out), "-q"]) == 0
    assert cli.main(["impute", str(src), "-o", str(tmp_path / "out2.h5ad"), "--threads", "2", "-q"]) == 0
    assert given == [1, 2]  # 1 by default


def test_cli_help_shows_threads():
    proc = subprocess.run([sys.executable, "-m", "scmaskgan", "impute", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and "--threads N" in proc.stdout


def test_n_threads_recorded_saved_and_loaded(tiny_counts, tmp_path):
    adata = tiny_counts.copy()
    pp.impute(adata, seed=0, n_threads=2, **COUNT_MODEL_FAST)
    assert adata.uns["scmaskgan"]["params"]["n_threads"] == 2
    pp.impute(adata, seed=0, n_threads=None, key_added="other", **COUNT_MODEL_FAST)
    assert adata.uns["other"]["params"]["n_threads"] == "None"

    model = SCMaskGAN(tiny_counts, seed=0, n_threads=2, **COUNT_MODEL_FAST).train()
    folder = model.save(tmp_path / "model")
    assert SCMaskGAN.load(folder, tiny_counts).n_threads == 2
    config = json.loads((folder / "config.json").read_text())
    del config["params"]["n_threads"]  # saved before the parameter existed
    (folder / "config.json").write_text(json.dumps(config))
    old = SCMaskGAN.load(folder, tiny_counts)
    assert old.n_threads == 1
    np.testing.assert_array_equal(old.impute(), model.impute())


def test_the_benchmarks_scmaskgan_run_keeps_its_process_thread_limit(monkeypatch):
    from scmaskgan.benchmarking import baselines

    given = {}

    def fake(adata, **kwargs):
        given.update(kwargs)
        adata.layers["scmaskgan"] = adata.X.copy()

    monkeypatch.setattr(pp, "impute", fake)
    baselines.run("scmaskgan", np.ones((4, 3)))
    assert given["n_threads"] is None


def test_threads_benchmark_script_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "threads.py"), "--cells", "80", "--genes", "40",
                           "--epochs", "1", "--repeats", "1", "--threads", "1,2", "--busy", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"\|\s+threads\s+\|\s+median\s+\|\s+min\s+\|\s+max", proc.stdout)
    assert "beside one busy process" in proc.stdout
    assert (tmp_path / "threads.csv").is_file()
