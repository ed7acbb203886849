"""The built book renders in a real browser: pages, figures, no errors, and math.

It checks the book that ``make book`` (or ``make book SMOKE=1``, as ``.ci/run`` does before the
tests) built into ``_build/html``, with headless Chromium. When the book or Chromium is missing the
tests are skipped, except under CI (``CI`` set), where that is a failure. Screenshots are kept in
``_build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
EXECUTED = ROOT / "book" / "_executed"
ON_CI = bool(os.environ.get("CI"))

PAGES = {
    "intro": ("book/intro.html", "scmaskgan"),
    "method": ("book/method.html", "The method"),
    "measurements": ("book/measurements.html", "Measurements"),
    "quickstart": ("book/_executed/quickstart.html", "Quickstart"),
    "usage": ("book/usage.html", "Use it on your data"),
    "gene_correlation": ("book/_executed/gene_correlation.html", "Gene-gene correlation"),
    "trajectory": ("book/_executed/trajectory.html", "Trajectory"),
    "go_enrichment": ("book/_executed/go_enrichment.html", "GO enrichment"),
    "batch_integration": ("book/_executed/batch_integration.html", "Batch integration"),
    "marker_genes": ("book/_executed/marker_genes.html", "Marker genes"),
    "hvg_cell_types": ("book/_executed/hvg_cell_types.html", "Highly variable genes"),
    "simulation": ("book/_executed/simulation.html", "Simulation with known truth"),
    "benchmark": ("book/_executed/benchmark.html", "Benchmark"),
    "cost_analysis": ("book/_executed/cost_analysis.html", "Cost"),
    "api": ("book/api.html", "API reference"),
}
NOTEBOOK_PAGES = [key for key, (rel, _) in PAGES.items() if "/_executed/" in rel]


def _missing(reason: str):
    if ON_CI:
        pytest.fail(f"{reason} (CI is set: .ci/run builds the smoke book and installs chromium first)")
    pytest.skip(reason)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    _missing("no Chromium found (Debian: apt-get install chromium)")


def _page(key: str) -> Path:
    rel, _ = PAGES[key]
    path = HTML / rel
    if not path.exists():
        _missing(f"the book is not built ({path.relative_to(ROOT)} is missing): run `make book SMOKE=1`")
    return path


def _run_chromium(page: Path, *extra: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-quic", "--no-first-run", f"--user-data-dir={profile}",
            "--virtual-time-budget=3000", "--window-size=1200,2000", *extra, page.as_uri(),
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _dump_dom(page: Path) -> str:
    proc = _run_chromium(page, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<html" in proc.stdout.lower(), proc.stderr[-2000:]
    return proc.stdout


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs).get("src") or "")


def _content_images(html: str) -> list[str]:
    parser = _Images()
    parser.feed(html)
    # the theme's own images (logo) are not the notebook's figures
    return [s for s in parser.srcs if "_static" not in s]


@pytest.fixture(scope="module")
def doms() -> dict[str, str]:
    return {key: _dump_dom(_page(key)) for key in PAGES}


@pytest.mark.parametrize("key", list(PAGES))
def test_page_renders_with_its_title(doms, key):
    _, title = PAGES[key]
    dom = doms[key]
    assert f"<title>" in dom
    head_title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.lower() in head_title.lower(), head_title
    assert "<h1" in dom


def test_method_page_math_is_rendered_by_local_mathjax(doms):
    dom = doms["method"]
    assert "mjx-container" in dom, "MathJax did not typeset the equations"
    assert dom.count("<mjx-container") >= 5
    # MathJax is served by the book itself, not by a CDN
    assert "mathjax/es5/tex-mml-chtml.js" in dom
    assert "cdn.jsdelivr.net/npm/mathjax" not in dom
    assert (HTML / "mathjax" / "es5" / "tex-mml-chtml.js").is_file()


@pytest.mark.parametrize("key", NOTEBOOK_PAGES)
def test_notebook_pages_have_their_figures(doms, key):
    page = _page(key)
    srcs = _content_images(doms[key])
    assert len(srcs) >= 2, f"expected at least two figures on {key}, found images {srcs}"
    for src in srcs:
        assert src and not src.startswith(("http://", "https://")), src
        target = (page.parent / unquote(urlsplit(src).path)).resolve()
        assert target.is_file(), f"figure {src} -> {target} is missing"
        assert target.stat().st_size > 1000, f"figure {target} is nearly empty"


@pytest.mark.parametrize("key", list(PAGES))
def test_no_error_output(doms, key):
    dom = doms[key]
    assert "Traceback" not in dom
    assert "output stderr" not in dom and "output traceback" not in dom
    assert "An Exception was encountered" not in dom  # papermill's error cell


def test_executed_quickstart_outputs_exist():
    if not (EXECUTED / "quickstart.ipynb").exists():
        _missing("book/_executed/quickstart.ipynb is missing: run `make book SMOKE=1`")
    outputs = EXECUTED / "quickstart_outputs"
    for name in ("metrics.json", "umap_before_after.png", "training_curves.png"):
        assert (outputs / name).is_file(), f"{outputs / name} is missing"
    metrics = json.loads((outputs / "metrics.json").read_text())  # strict JSON (no NaN)
    assert metrics["dataset"] and metrics["holdout"]["scmaskgan"]["rmse"] >= 0
    # the figures are embedded in the executed notebook too (an Agg backend would drop them)
    nb = json.loads((EXECUTED / "quickstart.ipynb").read_text())
    pngs = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2, "the executed quickstart has fewer than 2 embedded figures"


def test_api_page_documents_the_public_api(doms):
    dom = doms["api"]
    for name in ("scmaskgan.pp.impute", "scmaskgan.SCMaskGAN", "scmaskgan.SCMaskGAN.train",
                 "scmaskgan.SCMaskGAN.impute", "scmaskgan.SCMaskGAN.iter_answers", "scmaskgan.SCMaskGAN.sample",
                 "scmaskgan.datasets.load", "scmaskgan.evaluation.protocols.score_hidden",
                 "scmaskgan.benchmarking.data.prepare", "scmaskgan.neighbours.imputer.NeighbourFill",
                 "scmaskgan.paper.gan.ConditionalGAN",
                 "scmaskgan.evaluation.metrics.js_distance", "scmaskgan.evaluation.metrics.zscore_summary", "scmaskgan.benchmarking.baselines.run",
                 "scmaskgan.benchmarking.benchmark.run_benchmark", "scmaskgan.simulate.simulate", "scmaskgan.cli.main"):
        assert f'id="{name}"' in dom, f"{name} is not documented on the API page"


def test_api_page_lists_every_command_line_option():
    """The command line section of book/api.md is written by hand: it must name every option."""
    import argparse

    from scmaskgan.cli import build_parser

    text = (ROOT / "book" / "api.md").read_text()
    subcommands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in subcommands.choices.items():
        assert f"scmaskgan {name}" in text, f"the subcommand {name!r} is not on the API page"
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in text, f"option {option} of `scmaskgan {name}` is not on the API page"


@pytest.mark.parametrize("key", ["method", "quickstart", "benchmark", "cost_analysis", "api"])
def test_screenshot(key):
    page = _page(key)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{key}.png"
    if shot.exists():
        shot.unlink()
    proc = _run_chromium(page, f"--screenshot={shot}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 20_000, "the screenshot is missing or blank"
    with shot.open("rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_build_folds_the_parameters_that_papermill_injects(tmp_path):
    """The executed copies show papermill's injected-parameters cell folded, like the notebook's own."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["injected-parameters"]}, "source": "smoke = True",
                     "outputs": [], "execution_count": 1},
                    {"cell_type": "code", "metadata": {"tags": []}, "source": "x = 1", "outputs": [],
                     "execution_count": 2}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    build.hide_injected_parameters(path)
    cells = json.loads(path.read_text())["cells"]
    assert cells[0]["metadata"]["tags"] == ["injected-parameters", "hide-input"]
    assert cells[1]["metadata"]["tags"] == []
