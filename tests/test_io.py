"""Safe writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from alsstats.errors import InputError
from alsstats.io import atomic_write_dir, atomic_write_text


def test_atomic_write_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    atomic_write_text(target, "first\n")
    with pytest.raises(InputError, match="already exists"):
        atomic_write_text(target, "second\n")
    assert target.read_text() == "first\n"
    atomic_write_text(target, "second\n", force=True)
    assert target.read_text() == "second\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left


def test_atomic_dir_keeps_the_old_folder_when_filling_fails(tmp_path: Path) -> None:
    target = tmp_path / "report"
    atomic_write_dir(target, lambda d: (d / "a.md").write_text("old"))

    def broken(d: Path) -> None:
        (d / "a.md").write_text("new")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write_dir(target, broken, force=True)
    assert (target / "a.md").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]
    atomic_write_dir(target, lambda d: (d / "b.md").write_text("new"), force=True)
    assert sorted(p.name for p in target.iterdir()) == ["b.md"]
    with pytest.raises(InputError):
        atomic_write_dir(target, lambda d: None)
