"""Sphinx extension: pages generated from the repository at build time, into docs/_generated/.

- ``api/``: one page per subpackage of ``alsstats`` (its public face, ``__all__``), found by
  listing ``src/alsstats/*/__init__.py``, plus one for the loose modules;
- ``notebooks/``: copies of ``notebooks/*.ipynb`` (MyST-NB executes them) and their index;
- ``catalogue.md``: every ``data/**/reported.yaml``, loaded with the package's own reader;
- ``summary-schema.md``: the JSON Schema of the summary format when the repository has one;
- ``validation.md``: R parity computed now from ``tests/data/reference/``; the Kaplan-Meier
  (Guyot) and rebuild round trips from the committed outputs of their scripts in
  ``docs/validation/`` (too slow to run at every build).

Files are rewritten only when their text changes, so incremental builds stay incremental.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
ROOT = HERE.parent
OUT = HERE / "_generated"
LOOSE = ("errors", "io", "paths", "palette", "version")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _first_line(module: object) -> str:
    doc = (getattr(module, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""


# ------------------------------------------------------------------------------ API


def api_pages() -> None:
    import importlib

    names = sorted(p.parent.name for p in (ROOT / "src" / "alsstats").glob("*/__init__.py"))
    rows = []
    for name in names:
        module = importlib.import_module(f"alsstats.{name}")
        line = _first_line(module)
        rows.append(f"| [`alsstats.{name}`]({name}.md) | {line} |")
        _write(
            OUT / "api" / f"{name}.md",
            f"# `alsstats.{name}`\n\n"
            "```{eval-rst}\n"
            f".. automodule:: alsstats.{name}\n"
            "   :members:\n"
            "```\n",
        )
    loose = "".join(
        f"## `alsstats.{m}`\n\n```{{eval-rst}}\n.. automodule:: alsstats.{m}\n   :members:\n```\n\n"
        for m in LOOSE
    )
    _write(OUT / "api" / "loose.md", "# Loose modules\n\n" + loose)
    rows.append("| [loose modules](loose.md) | errors, io, paths, palette, version |")
    toc = "\n".join([*names, "loose"])
    _write(
        OUT / "api" / "index.md",
        "# API reference\n\n"
        "One page per subpackage: its public face (the names in its `__all__`), from the "
        "docstrings. Private modules (`_x.py`) are not part of the API.\n\n"
        "| subpackage | what it holds |\n| --- | --- |\n" + "\n".join(rows) + "\n\n"
        "```{toctree}\n:hidden:\n\n" + toc + "\n```\n",
    )


# ------------------------------------------------------------------------------ notebooks


def notebook_pages() -> None:
    target = OUT / "notebooks"
    target.mkdir(parents=True, exist_ok=True)
    books = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for nb in books:
        dest = target / nb.name
        if not dest.exists() or dest.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, dest)
    for stale in target.glob("*.ipynb"):
        if not (ROOT / "notebooks" / stale.name).exists():
            stale.unlink()
    toc = "\n".join(nb.stem for nb in books)
    _write(
        target / "index.md",
        "# Notebooks\n\n"
        "The teaching notebooks of `notebooks/`, executed when this site was built (so their "
        "outputs are those of this version of the package).\n\n"
        "```{toctree}\n:maxdepth: 1\n\n" + toc + "\n```\n",
    )


# ------------------------------------------------------------------------------ catalogue


def _cell(value: object) -> str:
    return str(value).replace("|", "/").replace("\n", " ")


def catalogue_page() -> None:
    from alsstats.summary import load_reported_summary

    files = sorted((ROOT / "data").glob("**/reported.yaml"))
    rows, sections = [], []
    for path in files:
        s = load_reported_summary(path)
        rel = path.relative_to(ROOT).as_posix()
        trial = s.trial
        endpoint = (trial.get("endpoint") or {}).get("name", "")
        unit = (trial.get("endpoint") or {}).get("time_unit", "")
        arms = "; ".join(f"{a.label or a.id} ({a.n.value})" for a in s.arms)
        hrs = [h for h in s.hazard_ratios if h.status != "superseded"]
        bms = ", ".join(b.label or b.id for b in s.biomarkers if b.value is None) or "none"
        rows.append(
            f"| [{_cell(s.name)}](#{_anchor(s.name)}) | {_cell(trial.get('phase', ''))} "
            f"| {_cell(arms)} | {_cell(endpoint)} | {len(hrs)} | {_cell(bms)} |"
        )
        figures = s.figures()
        src = "\n".join(f"- **{k}**: {_cell(v.citation)}" for k, v in s.sources.items())
        assumptions = "\n".join(
            f"| {_cell(a.id)} | {_cell(a.reason or '')} |" for a in s.assumptions
        )
        sections.append(
            f"## {s.name}\n\n{_cell(trial.get('title', ''))}\n\n"
            f"File `{rel}`: {len(figures)} reported numbers, {len(s.hazard_ratios)} hazard "
            f"ratios, {len(s.assumptions)} assumptions; endpoint {endpoint} ({unit}).\n\n"
            f"Sources:\n\n{src}\n\n"
            + (
                "| assumption | why |\n| --- | --- |\n" + assumptions + "\n"
                if s.assumptions
                else "No assumptions.\n"
            )
        )
    head = (
        "# Catalogue of shipped trials\n\n"
        "Generated at build time from every `data/**/reported.yaml` in the repository, read "
        "with `alsstats.load_reported_summary` (a file that does not load fails the build). "
        f"{len(files)} trial(s).\n\n"
        "| trial | phase | arms (n) | endpoint | hazard ratios | biomarkers |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
    )
    _write(OUT / "catalogue.md", head + "\n".join(rows) + "\n\n" + "\n".join(sections))


def _anchor(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


# ------------------------------------------------------------------------------ schema


def schema_page() -> None:
    found = sorted(
        [*(ROOT / "docs").glob("*.schema.json"), *(ROOT / "src" / "alsstats").glob("**/*.json")]
    )
    found = [p for p in found if "schema" in p.name]
    if found:
        blocks = "\n".join(
            f"## `{p.relative_to(ROOT).as_posix()}`\n\n"
            f"```{{literalinclude}} {Path('..', '..', p.relative_to(ROOT)).as_posix()}\n"
            ":language: json\n```\n"
            for p in found
        )
        text = "# JSON Schema of the summary format\n\n" + blocks
    else:
        text = (
            "# JSON Schema of the summary format\n\n"
            "This version ships no JSON Schema file; the format is defined by "
            "[the format page](../summary-format) and enforced by `alsstats.summary`'s reader, "
            "which names the file, the field and the problem of any malformed summary.\n"
        )
    _write(OUT / "summary-schema.md", text)


# ------------------------------------------------------------------------------ validation


def _r_parity_rows() -> list[str]:
    import numpy as np
    import pandas as pd

    from alsstats.survival import CoxModel

    rows = []
    for path in sorted((ROOT / "tests" / "data" / "reference").glob("*.json")):
        ref = json.loads(path.read_text())
        df = pd.read_csv(path.with_suffix(".csv"))
        lhs, rhs = ref["formula"].split("~")
        time_col, event_col = (s.strip() for s in lhs.strip()[len("Surv(") : -1].split(","))
        for engine in ("lifelines", "fast"):
            m = CoxModel(rhs, ties=ref["ties"], engine=engine).fit(df, time_col, event_col)
            rel = lambda a, b: float(  # noqa: E731
                np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(np.abs(b), 1e-300))
            )
            rows.append(
                f"| {path.stem} | {engine} | {ref['n']} | {ref['nevent']} | {ref['ties']} "
                f"| {rel(m.params_, ref['coef']):.0e} | {rel(m.standard_errors_, ref['se']):.0e} "
                f"| {rel([m.log_likelihood_], [ref['loglik']]):.0e} |"
            )
    return rows


def _committed(name: str, command: str) -> str:
    path = HERE / "validation" / f"{name}.txt"
    if not path.exists():
        return f"Not recorded in this version: run `{command}`.\n"
    return f"```{{literalinclude}} ../validation/{name}.txt\n:language: text\n```\n"


def validation_page() -> None:
    parity = "\n".join(_r_parity_rows())
    text = (
        "# Validation\n\n"
        "How far the package's numbers are from independent ones. The first table is computed "
        "when this site is built; the others are the committed outputs of the validation "
        "scripts (they take minutes), each headed by the command and the commit that produced "
        "it. Refresh them with the commands shown and commit the files in `docs/validation/`.\n\n"
        "## Cox fits against R's `survival::coxph`\n\n"
        "Largest relative difference from R 4.2.2 / survival 3.5.3 (convergence 1e-12) over "
        "coefficients, standard errors and the log partial likelihood, for both engines "
        "(`lifelines` adapter and the package's numba engine `fast`). The tests hold these to "
        "1e-6 (`tests/test_cox.py`). Cases: `tests/data/reference/README.md`.\n\n"
        "| case | engine | n | events | ties | coef | SE | log-likelihood |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + parity + "\n\n"
        "## Kaplan-Meier reconstruction (Guyot) on real trials\n\n"
        "Patient data rebuilt from what a paper prints (a digitised curve and numbers at risk) "
        "for data sets shipped with lifelines, compared with the true data. Script: "
        "`validation/km_validation.py`.\n\n"
        + _committed("km_validation", "python validation/km_validation.py")
        + "\n## Rebuild round trips\n\n"
        "A family of simulated trials (n 60 to 1,000; allocation 1:1, 2:1, 3:2; 0 to 4 "
        "modifier groups with random subsets reported; continuous and binary modifiers; linear "
        "and log scale; interaction or none; days and months; ties; age and sex), each printed "
        "as a paper would and rebuilt from the print alone. The truth meets every printed "
        "figure, so every miss is the search's. Each rebuild is capped by its process's CPU "
        "time, so the outcomes do not depend on machine load. Script: "
        "`validation/round_trip.py`.\n\n"
        + _committed("round_trip", "python validation/round_trip.py 200 --jobs 2")
        + "\nThe search was studied on that family's misses, and on those of a second family "
        "(seed 2027):\n\n"
        + _committed(
            "round_trip_seed2027", "python validation/round_trip.py 200 --jobs 2 --seed 2027"
        )
        + "\nThe same script on a family the search was not studied on (seed 2028):\n\n"
        + _committed(
            "round_trip_seed2028", "python validation/round_trip.py 200 --jobs 2 --seed 2028"
        )
        + "\n## MIROCALS bias study\n\n"
        "Trials simulated from the MIROCALS calibration with a known HR curve, reported as the "
        "paper reports, rebuilt and refitted: share of feasible rebuilds, bias and coverage "
        "against the truth (an older run; its header names the commit).\n\n"
        + _committed(
            "round_trip_mirocals_bias", "python validation/round_trip.py --mirocals-bias 20"
        )
    )
    _write(OUT / "validation.md", text)


# ------------------------------------------------------------------------------ Sphinx


def generate(app=None) -> None:
    api_pages()
    notebook_pages()
    catalogue_page()
    schema_page()
    validation_page()


def setup(app):
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
