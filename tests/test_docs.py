"""The documentation site builds with warnings as errors and holds every public name.

The fast build renders the notebooks without executing them (``ALSSTATS_DOCS_EXECUTE=0``);
the full build, which executes them, is ``python -m sphinx -W --keep-going -b html docs
docs/_build/html`` (a separate CI step: it takes minutes). The build runs in a subprocess so
that Sphinx's own deprecation warnings are not turned into errors by pytest's filter.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytest.importorskip("sphinx", reason="the docs extra is not installed")
pytest.importorskip("myst_nb", reason="the docs extra is not installed")
pytest.importorskip("numpydoc", reason="the docs extra is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if not (DOCS / "conf.py").is_file():
        pytest.skip("docs/ is not shipped with an installed package")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "ALSSTATS_DOCS_EXECUTE": "0", "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    return out / "html"


def test_every_public_name_has_its_api_entry(site: Path) -> None:
    packages = sorted(p.parent.name for p in (ROOT / "src" / "alsstats").glob("*/__init__.py"))
    assert {"summary", "survival", "report", "reconstruct"} <= set(packages)
    for name in packages:
        page = (site / "_generated" / "api" / f"{name}.html").read_text(encoding="utf-8")
        module = importlib.import_module(f"alsstats.{name}")
        missing = []
        for public in module.__all__:
            obj = getattr(module, public)
            # constants have no docstring of their own; functions and classes must be there
            if callable(obj) and f'id="alsstats.{name}.{public}"' not in page:
                missing.append(public)
        assert not missing, (name, missing)


def test_site_pages(site: Path) -> None:
    landing = (site / "index.html").read_text(encoding="utf-8")
    assert "Reanalyse ALS trials" in landing
    catalogue = (site / "_generated" / "catalogue.html").read_text(encoding="utf-8")
    assert "MIROCALS" in catalogue
    validation = (site / "_generated" / "validation.html").read_text(encoding="utf-8")
    assert "sim220_efron" in validation and "survival::coxph" in validation
    assert (site / "summary-format.html").is_file()
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    for nb in notebooks:
        assert (site / "_generated" / "notebooks" / f"{nb}.html").is_file(), nb
