"""One accessor for the data files shipped with alsstats."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import InputError

__all__ = ["data_path"]


def _data_root() -> Path:
    # Installed wheel: data/ is force-included as alsstats/data. Editable install or source
    # checkout: it is the repository's data/ folder, two levels above this file.
    packaged = Path(str(resources.files("alsstats"))) / "data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data"


def data_path(*parts: str) -> Path:
    """Path of a shipped data file, e.g. ``data_path("mirocals", "reported.yaml")``.

    Examples
    --------
    >>> data_path("mirocals", "reported.yaml").name
    'reported.yaml'
    """
    path = _data_root().joinpath(*parts)
    if not path.exists():
        raise InputError(path, "", "no such shipped data file")
    return path
