"""The three dependency lists of the repository stay in step.

* ``pyproject.toml`` is the checked install path (runtime + every extra: ``test``, ``book``, ``baselines``);
* ``environment.yml`` is the conda environment for users (its pip section lists the same packages);
* ``constraints.txt`` holds the exact versions that were tested, and pins every dependency.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> list[Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = data["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():  # test, book, baselines, ...
        reqs += [Requirement(r) for r in extra]
    return reqs


def _environment_requirements() -> tuple[list[str], list[Requirement]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                if line.startswith("-"):  # "-e ." installs the checkout itself
                    continue
                pip.append(Requirement(line))
        else:
            conda.append(str(dep))
    return conda, pip


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt line is not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = version.strip()
    return pins


def _as_map(reqs: list[Requirement]) -> dict[str, str]:
    out = {}
    for r in reqs:
        name = canonicalize_name(r.name)
        assert name not in out, f"{r.name} listed twice"
        out[name] = str(r.specifier)
    return out


def test_environment_yml_uses_python_311():
    conda, _ = _environment_requirements()
    assert "python=3.11" in conda
    assert "pip" in conda


def test_environment_yml_matches_pyproject():
    py = _as_map(_pyproject_requirements())
    _, pip = _environment_requirements()
    env = _as_map(pip)
    only_py = sorted(set(py) - set(env))
    only_env = sorted(set(env) - set(py))
    assert not only_py and not only_env, (
        f"dependency names differ: only in pyproject.toml {only_py}, only in environment.yml {only_env}"
    )
    differ = {n: (py[n], env[n]) for n in py if py[n] != env[n]}
    assert not differ, f"version ranges differ (pyproject, environment.yml): {differ}"


def test_constraints_pin_torch_cpu_release():
    pins = _constraints()
    assert "torch" in pins, "constraints.txt must pin torch (an unpinned torch pulls a CUDA build)"
    assert Version(pins["torch"]).public == "2.13.0", pins["torch"]


@pytest.mark.parametrize("req", _pyproject_requirements(), ids=lambda r: r.name)
def test_constraints_pin_every_dependency(req: Requirement):
    pins = _constraints()
    name = canonicalize_name(req.name)
    assert name in pins, f"constraints.txt has no pin for {req.name}"
    version = Version(pins[name])
    assert req.specifier.contains(version, prereleases=True), (
        f"constraints.txt pins {req.name}=={version}, outside pyproject's range {req.specifier}"
    )
