"""Safe writes."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from alsstats.errors import InputError
from alsstats.io import (
    atomic_write_dir,
    atomic_write_text,
    check_columns,
    numeric_column,
    read_csv,
    refuse_overwrite,
)


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


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_writes_follow_the_umask(umask: int, tmp_path: Path) -> None:
    # A temporary file is owner-only (0600) and a temporary folder 0700; what lands in place
    # must have the mode a plain open()/mkdir would give under the user's umask.
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "a.csv", "x\n")
        atomic_write_dir(tmp_path / "rep", lambda d: (d / "i.html").write_text("<p/>"))
        (tmp_path / "plain.csv").write_text("x\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "a.csv").stat().st_mode == (tmp_path / "plain.csv").stat().st_mode
    assert (tmp_path / "rep").stat().st_mode & 0o777 == 0o777 & ~umask


def test_output_folder_rules(tmp_path: Path) -> None:
    # One rule for every writer: the folder must exist (never created), a file is not a
    # folder and a folder not a file, even with force.
    with pytest.raises(InputError, match=r"the output folder .*nope' does not exist"):
        atomic_write_text(tmp_path / "nope" / "a.csv", "x")
    with pytest.raises(InputError, match="does not exist"):
        atomic_write_dir(tmp_path / "nope" / "rep", lambda d: None)
    assert not (tmp_path / "nope").exists()
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputError, match="dir: is a folder; give a file name"):
        atomic_write_text(tmp_path / "dir", "x", force=True)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(InputError, match="file: is a file; give a folder name"):
        atomic_write_dir(tmp_path / "file", lambda d: None, force=True)
    assert (tmp_path / "file").read_text() == "mine"
    with pytest.raises(InputError, match=r"the output folder .*file' is not a folder"):
        refuse_overwrite(tmp_path / "file" / "a.csv", force=True)


def test_write_failure_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a full disk or a read-only folder gives: one InputError naming the file.
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("alsstats.io.tempfile.mkstemp", refuse)
    with pytest.raises(InputError, match=r"a.csv: cannot write \(Permission denied\)"):
        atomic_write_text(tmp_path / "a.csv", "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    with pytest.raises(InputError, match="permission denied"):
        atomic_write_text(folder / "a.csv", "x")


def test_read_csv_refuses_a_repeated_header(tmp_path: Path) -> None:
    # pandas would rename the second "time" to "time.1" and fit the wrong column silently.
    path = tmp_path / "d.csv"
    path.write_text("time,event,time\n1,1,2\n2,0,3\n")
    with pytest.raises(InputError, match=r"d\.csv: time: column name given 2 times"):
        read_csv(path)
    path.write_text("time,event\n1,1\n")
    assert list(read_csv(path).columns) == ["time", "event"]
    with pytest.raises(InputError, match="no such file"):
        read_csv(tmp_path / "none.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="not a readable CSV"):
        read_csv(tmp_path / "empty.csv")


def test_numeric_column_shows_a_few_values() -> None:
    df = pd.DataFrame({"x": [f"v{i}" for i in range(50)] + ["1.5", None]})
    with pytest.raises(InputError, match=r"^d: x: must be numeric; 50 of 52 values are not numbers "
                       r"\('v0', 'v1', 'v2' and 47 others\)$"):  # fmt: skip
        numeric_column(df, "x", "d")
    with pytest.raises(InputError, match=r"no such column \(columns: x\)"):
        check_columns(df, ["y"], "d")
