"""Arrows one way on the data side: the data loaders and the notebook helpers import each other in one direction.

Read from the source (imports inside functions count), so that a late import cannot close a cycle
``datasets -> analysis -> evaluation -> datasets`` or ``analysis <-> notebook`` again.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scmaskgan"


def _imports(path: Path) -> set[str]:
    """Absolute names of the scmaskgan modules that ``path`` imports, anywhere in the file."""
    package = ["scmaskgan", *path.relative_to(PACKAGE).parent.parts]  # the same for a package's __init__.py
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.update([module, *(f"{module}.{a.name}" for a in node.names)])
    return {n for n in found if n == "scmaskgan" or n.startswith("scmaskgan.")}


def _reaches(imports: set[str], module: str) -> bool:
    return any(n == module or n.startswith(f"{module}.") for n in imports)


@pytest.mark.parametrize("path", sorted((PACKAGE / "datasets").glob("*.py")), ids=lambda p: p.name)
def test_data_loaders_import_no_notebook_helper(path: Path) -> None:
    imports = _imports(path)
    for helper in ("scmaskgan.analysis", "scmaskgan.notebook"):
        assert not _reaches(imports, helper), f"{path.name} imports {helper}"


def test_notebook_does_not_import_analysis() -> None:
    assert not _reaches(_imports(PACKAGE / "notebook.py"), "scmaskgan.analysis")


@pytest.mark.parametrize("leaf", ["sampling.py", "matrices.py"])
def test_shared_helpers_are_leaves(leaf: str) -> None:
    assert _imports(PACKAGE / leaf) <= {"scmaskgan._validation", "scmaskgan._validation.InputError",
                                        "scmaskgan._validation.check_param", "scmaskgan.scaling",
                                        "scmaskgan.scaling.log_normalize"}


def test_relative_imports_are_resolved() -> None:
    # the check above would pass trivially if relative imports were not read
    assert "scmaskgan.sampling" in _imports(PACKAGE / "datasets" / "_batches.py")
    assert "scmaskgan.io.tenx" in _imports(PACKAGE / "datasets" / "_cellbench_10x.py")
