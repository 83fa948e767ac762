"""The result of the consistency checks: one :class:`CheckResult` per check, a :class:`CheckReport`.

A report renders itself as a DataFrame (:attr:`CheckReport.summary`), deterministic JSON, a
fixed-width text table and HTML for notebooks.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["VERDICTS", "CheckReport", "CheckResult"]

VERDICTS = ("pass", "fail", "not checkable")


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CheckResult:
    """One check: which figures, what was observed, what they imply, the verdict and why."""

    check: str
    inputs: tuple[str, ...]
    observed: str
    expected: str
    verdict: str
    explanation: str
    observed_range: tuple[float, float] | None = None
    expected_range: tuple[float, float] | None = None
    test: str | None = None  # the test assumed behind a p value, when the check reads one
    precision: str | None = None  # how the printed figures were read ("0.8 as [0.75, 0.85)")


class CheckReport:
    """The result of :func:`check_summary`: a table with one row per check.

    Attributes
    ----------
    results : list of CheckResult
    summary : pandas.DataFrame
        Columns check, inputs (comma-separated figure ids), observed, expected, verdict,
        explanation, test (the test assumed behind a p value) and precision (how each printed
        figure was read).
    passed : bool
        True when no check failed.
    """

    columns = (
        "check", "inputs", "observed", "expected", "verdict", "explanation", "test", "precision",
    )  # fmt: skip

    def __init__(self, results: list[CheckResult], path: str = "", sha256: str = "") -> None:
        self.results = list(results)
        self.path = path
        self.sha256 = sha256

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)

    @property
    def passed(self) -> bool:
        return not any(r.verdict == "fail" for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.verdict == "fail"]

    def __getitem__(self, column: str) -> pd.Series:
        return self.summary[column]

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame (same as :attr:`summary`)."""
        return self.summary

    @property
    def summary(self) -> pd.DataFrame:
        rows = [{**asdict(r), "inputs": ", ".join(r.inputs)} for r in self.results]
        return pd.DataFrame(rows, columns=list(self.columns))

    def to_json(self) -> str:
        """The rows as JSON (also numeric observed/expected ranges, the test and precision
        assumed), deterministic."""
        rows = [{**asdict(r), "inputs": list(r.inputs)} for r in self.results]
        out = {"file": self.path, "sha256": self.sha256, "passed": self.passed, "checks": rows}
        return json.dumps(out, indent=2)

    def to_text(self) -> str:
        """A fixed-width table; each row's explanation on the line below it."""
        head = ("verdict", "check", "inputs", "observed", "expected")
        cells = [(r.verdict, r.check, ", ".join(r.inputs), r.observed, r.expected) for r in self]
        widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]
        line = "  ".join("{:<%d}" % w for w in widths)  # noqa: UP031 - a width template
        out = [line.format(*(h.upper() for h in head)).rstrip(), "-" * (sum(widths) + 8)]
        for r, c in zip(self.results, cells, strict=True):
            out += [line.format(*c).rstrip(), f"    {r.explanation}"]
        n_fail = len(self.failures)
        verdict = "all checks passed" if self.passed else f"{n_fail} check(s) FAILED"
        out.append(f"{len(self)} checks on {self.path}: {verdict}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<CheckReport {self.path}: {len(self)} checks, {len(self.failures)} failed>"

    def _repr_html_(self) -> str:
        status = "passed" if self.passed else f"{len(self.failures)} failed"
        return f"<p>Checks of {html.escape(self.path)}: {status}</p>" + self.summary.to_html(
            index=False
        )


def _row(
    check, inputs, obs, exp, ok, explanation, obs_r=None, exp_r=None, test=None, precision=None
) -> CheckResult:
    verdict = {True: "pass", False: "fail", None: "not checkable"}[ok]
    return CheckResult(
        check, tuple(inputs), obs, exp, verdict, explanation, obs_r, exp_r, test, precision
    )
