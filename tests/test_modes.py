"""The methods by name (scmaskgan.modes): the default, the earlier names, each method's settings checked at
construction, another method's settings refused by name, and the methods' table in README, intro and usage pages and --help."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from scmaskgan import InputError, SCMaskGAN
from scmaskgan.count.settings import CountSettings
from scmaskgan.modes import DEFAULT_MODE, GUIDE, MODES, RENAMED_MODES, make_settings, method_table, resolve_mode
from scmaskgan.neighbours.settings import NeighboursSettings
from scmaskgan.paper.settings import PaperSettings

REPO = Path(__file__).resolve().parents[1]


def test_the_count_model_is_the_default():
    assert DEFAULT_MODE == "count" and resolve_mode(None) == "count"
    assert MODES == {"count": CountSettings, "neighbours": NeighboursSettings, "paper": PaperSettings}


@pytest.mark.parametrize("old, new", sorted(RENAMED_MODES.items()))
def test_earlier_names_warn_and_name_the_new_one(old, new):
    with pytest.warns(FutureWarning, match=f"mode='{old}' is now called mode='{new}'"):
        assert resolve_mode(old) == new


def test_unknown_mode_is_refused():
    with pytest.raises(InputError, match="mode must be one of"):
        resolve_mode("best")


@pytest.mark.parametrize("mode, given, owner", [
    ("neighbours", {"hidden_dim": 8}, "mode='count'"),
    ("neighbours", {"max_epochs": 3}, "mode='count' and mode='paper'"),
    ("count", {"k": 5}, "mode='neighbours' and mode='paper'"),
    ("count", {"n_candidates": 64}, "mode='paper'"),
    ("paper", {"depth": 2.0}, "mode='count'"),
])
def test_a_setting_of_another_method_names_its_method(mode, given, owner):
    name = next(iter(given))
    with pytest.raises(InputError, match=f"{name} is a setting of {owner}, not of mode='{mode}'"):
        make_settings(mode, given)


def test_settings_are_checked_before_the_data_are_read():
    """A bad setting fails in milliseconds, before the data are even looked at (here there are none)."""
    t0 = time.perf_counter()
    for mode, bad in (("count", {"hidden_dim": 2}), ("neighbours", {"k": 0}), ("paper", {"tau": 2.0})):
        with pytest.raises(InputError):
            SCMaskGAN(None, mode=mode, **bad)
    with pytest.raises(InputError, match="needs raw counts"):
        SCMaskGAN(None, normalized=True)  # the count model learns a count law
    assert time.perf_counter() - t0 < 1.0


def test_settings_defaults_and_shared_training_settings():
    count, paper, neighbours = CountSettings(), PaperSettings(), NeighboursSettings()
    assert (count.lr, paper.lr) == (1e-3, 2e-4)
    assert (neighbours.k, neighbours.fill, paper.k, paper.fill, paper.pool) == (30, None, 10, "mean", "generated")
    assert neighbours.for_input(normalized=False).fill == "poisson"
    assert neighbours.for_input(normalized=True).fill == "mean"
    with pytest.raises(InputError, match="fill='poisson' needs raw counts"):
        NeighboursSettings(fill="poisson").for_input(normalized=True)
    with pytest.raises(InputError, match="must not exceed n_candidates"):
        PaperSettings(k=10, n_candidates=5)
    assert PaperSettings(k=10, n_candidates=5, pool="real").k == 10  # no candidates drawn: no bound


def test_the_methods_table_is_in_readme_usage_and_help():
    table = method_table(markdown=True)
    assert [row[0] for row in GUIDE] == list(MODES)
    for page in ("README.md", "book/usage.md", "book/intro.md"):
        assert table in (REPO / page).read_text(), page
    out = subprocess.run([sys.executable, "-m", "scmaskgan", "impute", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert method_table() in out


def test_a_model_saved_before_the_methods_had_their_own_settings_still_loads(tiny_counts, tmp_path):
    """Format version 1 named the methods by their earlier names and kept every method's settings."""
    import json

    import numpy as np

    model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="neighbours", progress=False)
    folder = model.save(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["format_version"] = 1
    config["params"] |= {"mode": "default", "hidden_dim": 256, "n_candidates": 512, "pool": "real"}
    config["tuning"] = config.pop("state")["tuning"]
    (folder / "config.json").write_text(json.dumps(config))
    loaded = SCMaskGAN.load(folder, tiny_counts, device="cpu")
    assert loaded.mode == "neighbours" and "hidden_dim" not in loaded.params
    np.testing.assert_array_equal(loaded.impute(), model.impute())


def test_each_mode_has_its_implementation():
    from scmaskgan.method import Method
    from scmaskgan.model import _IMPLEMENTATIONS, _implementation

    assert set(_IMPLEMENTATIONS) == set(MODES)
    for mode in MODES:
        cls = _implementation(mode)
        assert issubclass(cls, Method) and cls.NAME == mode


def test_iter_answers_gives_each_methods_answers(tiny_counts):
    model = SCMaskGAN(tiny_counts, labels_key="cell_type", mode="neighbours", progress=False)
    assert model.answers_ == ("mean",)
    _, _, answers = next(model.iter_answers(block_size=model.n_cells))
    import numpy as np

    np.testing.assert_array_equal(answers["mean"], model.impute())
    with pytest.raises(InputError, match="depth is a setting of mode='count', not of mode='neighbours'"):
        next(model.iter_answers(depth=2.0))
