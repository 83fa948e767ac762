"""The notebooks are part of the test suite: each runs top to bottom in a fresh kernel.

A notebook fails on an error, on any warning (turned into an error by a setup cell that is
not saved) and on anything written to stderr. Committed notebooks carry no outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

SETUP = """\
import warnings
warnings.simplefilter("error")
# ipykernel's own shutdown handler warns; that is the kernel's business, not the notebook's
warnings.filterwarnings("ignore", module=r"ipykernel\\.")
import matplotlib
matplotlib.use("Agg")
"""


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs or execution counts"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes_without_error_or_warning(path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(SETUP))
    env_cwd = str(path.parent)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugger notice
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": env_cwd}}
    ).execute()
    stderr = [
        "".join(out.get("text", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    assert not any(s.strip() for s in stderr), f"{path.name} wrote to stderr:\n" + "\n".join(stderr)


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"
