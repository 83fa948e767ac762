"""Reading user tables and writing results safely.

Reading: :func:`read_csv` refuses a header that names a column twice (pandas would silently
rename the second ``time`` to ``time.1``); :func:`check_columns` and :func:`numeric_column` turn
a missing, duplicated or non-numeric column into one :class:`~alsstats.errors.InputError` that
names the column and shows at most a few offending values.

Writing: nothing a user has is overwritten silently, no reader sees half a file, and what is
written follows the user's umask. The output's folder must exist, for every command alike: a
mistyped folder is reported, never created.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, example_values

if TYPE_CHECKING:  # numpy and pandas load on first use: the CLI's --help does not wait on them
    import numpy as np
    import pandas as pd

__all__ = [
    "atomic_write_bytes",
    "atomic_write_dir",
    "atomic_write_text",
    "check_columns",
    "numeric_column",
    "read_csv",
    "refuse_overwrite",
]


# ------------------------------------------------------------------------------ reading
def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A CSV of one row per subject, with a header of distinct column names."""
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise InputError(path, "", "no such file" if not file.exists() else "not a file")
    try:
        with file.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
        df = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(path, "", f"not a readable CSV ({first})") from None
    except OSError as exc:
        raise InputError(path, "", f"cannot read ({exc.strerror or exc})") from None
    names = [h.strip() for h in header]
    repeated = sorted({h for h in names if names.count(h) > 1})
    if repeated:
        raise InputError(
            path, repeated[0], f"column name given {names.count(repeated[0])} times in the header"
        )
    return df


def check_columns(df: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    """Raise if a column is absent or its name is not unique in ``df``."""
    names = [str(c) for c in df.columns]
    for col in dict.fromkeys(columns):
        n = names.count(str(col))
        if n == 0:
            shown = ", ".join(names[:12]) + (
                f" and {len(names) - 12} more" if len(names) > 12 else ""
            )
            raise InputError(source, col, f"no such column (columns: {shown})")
        if n > 1:
            raise InputError(source, col, f"{n} columns have this name; names must be unique")


def numeric_column(df: pd.DataFrame, column: str, source: str) -> np.ndarray:
    """A column as floats, or an error naming the column and a few values that are not numbers."""
    import numpy as np
    import pandas as pd

    values = df[column]
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        raise InputError(
            source,
            column,
            f"must be numeric; {int(bad.sum())} of {len(values)} values are not numbers "
            f"({example_values(values[bad])})",
        )
    return np.asarray(converted, dtype=float)


# ------------------------------------------------------------------------------ writing
def _umask() -> int:
    """The process umask: from /proc on Linux (no side effect), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere reading the umask means setting it; put it back at once
    os.umask(mask)
    return mask


def refuse_overwrite(path: str | os.PathLike[str], force: bool, *, folder: bool = False) -> Path:
    """Return ``path`` as a Path after checking it can be written, before any work is done.

    Raises :class:`~alsstats.errors.InputError` if its folder does not exist or cannot be
    written to, if ``path`` is a folder where a file is expected (or a file where a folder is,
    with ``folder=True``), or if ``path`` exists and ``force`` is not set.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a folder" if parent.exists() else "does not exist; create it first"
        raise InputError(path, "", f"the output folder {str(parent) or '.'!r} {problem}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            path, "", f"cannot write in the folder {str(parent)!r} (permission denied)"
        )
    if path.exists() and not force:
        raise InputError(path, "", "already exists; pass --force (force=True) to replace it")
    if path.exists() and path.is_dir() != folder:
        problem = "is a file; give a folder name" if folder else "is a folder; give a file name"
        raise InputError(path, "", problem)
    return path


def _write_error(path: Path, exc: OSError) -> InputError:
    return InputError(path, "", f"cannot write ({exc.strerror or exc})")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets the mode a new file gets from the user's umask (a temporary file is created
    owner-only). An interrupted write (Ctrl-C) leaves no file behind.
    """
    path = refuse_overwrite(path, force)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from None
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, *, force: bool = False) -> Path:
    """Text version of :func:`atomic_write_bytes` (UTF-8, newlines as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"), force=force)


def atomic_write_dir(
    path: str | os.PathLike[str], fill: Callable[[Path], None], *, force: bool = False
) -> Path:
    """Build a folder with ``fill(tmpdir)`` and move it into place in one rename.

    An existing folder is replaced only with ``force``; it is moved aside first and removed
    only after the new one is in place, so a failure leaves the old report intact. The folder
    gets the mode a new folder gets from the user's umask.
    """
    path = refuse_overwrite(path, force, folder=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:
        raise _write_error(path, exc) from None
    old: Path | None = None
    try:
        fill(tmp)
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from None
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return path
