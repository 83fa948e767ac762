"""The shipped trials: one folder per trial under ``data/trials/``, loaded without failing.

A folder holds ``reported.yaml`` (and, when the figures allow one, a rebuilt ``cohort.csv``
with its provenance), a ``reported.draft.yml`` (figures that cannot make a loadable summary
yet; listed with the reason), or a ``link.json`` naming files kept elsewhere (MIROCALS stays in
``data/mirocals/``, whose cohort bytes a test pins). The link is JSON so that no YAML file
under ``data/`` is anything but a reported summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AlsstatsError, InputError
from ..paths import data_path
from ..summary import load_reported_summary

__all__ = ["DRAFT", "TrialEntry", "trial_entries"]

# A trial whose figures cannot yet make a loadable summary (e.g. arm sizes not located) keeps
# them in this file, outside the globs that treat every data/**/*.yaml as a summary.
DRAFT = "reported.draft.yml"


@dataclass
class TrialEntry:
    """One trial of the catalogue: where its files are, and its summary or why it did not load.

    Attributes
    ----------
    id : folder name under ``data/trials/``.
    summary_path, cohort_path, provenance_path : files (cohort and provenance may be None).
    summary : the loaded :class:`~alsstats.summary.ReportedSummary`, or None.
    error : the loader's message when the summary does not load, else "".
    """

    id: str
    summary_path: Path
    cohort_path: Path | None = None
    provenance_path: Path | None = None
    summary: Any = None
    error: str = ""

    @property
    def loaded(self) -> bool:
        return self.summary is not None


def _draft_reason(folder: Path) -> str:
    """The reason a draft gives in its header comment (the lines after "A DRAFT")."""
    lines = (folder / DRAFT).read_text().splitlines()
    comment = [ln.lstrip("# ").strip() for ln in lines if ln.startswith("#")]
    start = next((i for i, ln in enumerate(comment) if ln.startswith("A DRAFT")), None)
    if start is None:
        return "a draft, not a loadable summary"
    text = []
    for ln in comment[start:]:
        if not ln:
            break
        text.append(ln)
    return " ".join(text)


def _link(folder: Path) -> dict[str, Path | None]:
    link = folder / "link.json"
    try:
        doc = json.loads(link.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(link, "", f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or "summary" not in doc:
        raise InputError(link, "summary", "a link file names the summary it points to")
    out: dict[str, Path | None] = {}
    for key in ("summary", "cohort", "provenance"):
        out[key] = (folder / doc[key]).resolve() if doc.get(key) else None
    return out


def trial_entries(root: str | Path | None = None) -> list[TrialEntry]:
    """Every trial folder under ``root`` (default: the shipped ``data/trials``), sorted by id.

    A summary that does not load is kept with its error (the catalogue shows it), never dropped.
    """
    root = Path(root) if root is not None else data_path("trials")
    if not root.is_dir():
        raise InputError(root, "", "no such catalogue folder")
    entries = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if (folder / "link.json").is_file():
            files = _link(folder)
        elif (folder / "reported.yaml").is_file():
            files = {
                "summary": folder / "reported.yaml",
                "cohort": folder / "cohort.csv",
                "provenance": folder / "cohort.provenance.json",
            }
        elif (folder / DRAFT).is_file():
            entries.append(TrialEntry(folder.name, folder / DRAFT, error=_draft_reason(folder)))
            continue
        else:
            continue
        found = {k: v if v is not None and v.is_file() else None for k, v in files.items()}
        entry = TrialEntry(
            folder.name, Path(files["summary"]), found["cohort"], found["provenance"]
        )
        try:
            entry.summary = load_reported_summary(entry.summary_path)
        except AlsstatsError as exc:
            entry.error = str(exc)
        entries.append(entry)
    return entries
