"""Safe writes: nothing a user has is overwritten silently, and no reader sees half a file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import InputError

__all__ = ["atomic_write_bytes", "atomic_write_dir", "atomic_write_text", "refuse_overwrite"]


def refuse_overwrite(path: str | os.PathLike[str], force: bool) -> Path:
    """Return ``path`` as a Path, or raise if it exists and ``force`` is not set."""
    path = Path(path)
    if path.exists() and not force:
        raise InputError(path, "", "already exists; pass --force (force=True) to replace it")
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = refuse_overwrite(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
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
    only after the new one is in place, so a failure leaves the old report intact.
    """
    path = refuse_overwrite(path, force)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    old: Path | None = None
    try:
        fill(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / path.name)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.replace(old / path.name, path)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return path
