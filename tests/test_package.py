"""The package as a user meets it: version, CLI entry, shipped data inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import alsstats
from alsstats.cli import main
from alsstats.errors import InputError

ROOT = Path(__file__).parents[1]


def test_version_and_data_accessor() -> None:
    assert alsstats.__version__.count(".") == 2
    assert alsstats.data_path("mirocals", "reported.yaml").is_file()
    with pytest.raises(InputError, match="no such shipped data file"):
        alsstats.data_path("mirocals", "nope.yaml")


def test_public_names_are_exported() -> None:
    for name in alsstats.__all__:
        assert hasattr(alsstats, name), name


def test_cli_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert alsstats.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "reproduce" in capsys.readouterr().out


def test_wheel_ships_the_data(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("alsstats-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "alsstats/data/mirocals/reported.yaml" in names
    assert "alsstats/py.typed" in names


def test_cli_help_loads_no_numerical_library() -> None:
    # `alsstats --help` and a bad option answer at once: the subcommands import their work
    # (pandas, scipy, numba, matplotlib) only when they run
    code = (
        "import sys; from alsstats.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('pandas', 'scipy', 'numba', 'matplotlib', 'lifelines') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
