"""Sphinx configuration of the alsstats documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (notebooks executed;
set ``ALSSTATS_DOCS_EXECUTE=0`` to render them without running). Pages generated at build time
(the API reference, the trial catalogue, the validation page, copies of the notebooks) are
written to ``docs/_generated/`` by the local extension ``_ext/alsstats_pages.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE / "_ext"))

import alsstats  # noqa: E402

project = "alsstats"
author = "alsstats developers"
copyright = "alsstats developers"
release = version = alsstats.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "alsstats_pages",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "validation/*.txt", "**.ipynb_checkpoints", "jupyter_execute"]
root_doc = "index"

# MyST: README-style Markdown; headings get anchors so in-page links resolve
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# Notebooks run at every build so their outputs cannot go stale; a failing cell fails the build
EXECUTE = os.environ.get("ALSSTATS_DOCS_EXECUTE", "1") != "0"
nb_execution_mode = "force" if EXECUTE else "off"
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# API reference: docstrings are numpydoc; signatures with type hints; members in __all__ order
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc sections carry the types; keeps signatures readable
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

html_theme = "pydata_sphinx_theme"
html_title = f"alsstats {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path = ["_static"]
html_css_files = ["alsstats.css"]
# the section navigation only where there is a section to navigate (the API, the notebooks)
html_sidebars = {
    "index": [],
    "summary-format": [],
    "_generated/catalogue": [],
    "_generated/validation": [],
    "_generated/summary-schema": [],
}
html_show_sourcelink = False
html_last_updated_fmt = None
nitpicky = False
