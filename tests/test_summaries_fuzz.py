"""Property test: a randomly damaged MIROCALS file either loads or raises SummaryError.

Nothing else may escape (no KeyError, TypeError, AttributeError, ... from inside), and a file
that loads must also go through every consistency check without an exception.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alsstats import SummaryError, data_path
from alsstats.checks import check_summary
from alsstats.summary import ReportedSummary, parse_reported_summary, summary_from_dict

TEXT = data_path("mirocals", "reported.yaml").read_text()
BASE = yaml.safe_load(TEXT)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # same examples on every run: CI stays reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every location in the document, as a tuple of keys / indexes."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


PATHS = _paths(BASE)[1:]


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


NUMBER_PATHS = [
    p
    for p in PATHS
    if isinstance(_get(BASE, p), int | float) and not isinstance(_get(BASE, p), bool)
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["il2ld", "placebo", "all", "medwire2025", "reported", "superseded", 0, 1])
)
VALUES = (
    SCALARS
    | st.lists(SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=6), SCALARS, max_size=3)
)


@st.composite
def damaged_documents(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent, key = _get(doc, path[:-1]), path[-1]
            parent[key]
        except (KeyError, IndexError, TypeError):
            continue
        actions = ["delete", "replace", "retype", "unknown_key", "swap", "truncate"]
        action = draw(st.sampled_from(actions))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(VALUES)
        elif action == "retype":
            value = parent[key]
            parent[key] = draw(st.sampled_from([str(value), [value], {"value": value}, None]))
        elif action == "truncate" and isinstance(parent[key], str):
            parent[key] = parent[key][: draw(st.integers(0, len(parent[key])))]
        elif action == "unknown_key" and isinstance(parent[key], dict):
            parent[key][draw(st.text(min_size=1, max_size=8))] = draw(SCALARS)
        elif action == "swap":
            a, b = draw(st.sampled_from(NUMBER_PATHS)), draw(st.sampled_from(NUMBER_PATHS))
            try:
                pa, pb = _get(doc, a[:-1]), _get(doc, b[:-1])
                pa[a[-1]], pb[b[-1]] = pb[b[-1]], pa[a[-1]]
            except (KeyError, IndexError, TypeError):
                continue
    return doc


def _outcome(load) -> None:
    try:
        summary = load()
    except SummaryError as exc:
        assert exc.problem and str(exc)
        return
    assert isinstance(summary, ReportedSummary)
    report = check_summary(summary)  # a valid file must also survive every check
    report.to_text()
    report.to_json()
    summary.figures()


@FUZZ
@given(damaged_documents())
def test_damaged_document_loads_or_raises_summary_error(doc: Any) -> None:
    _outcome(lambda: summary_from_dict(doc, "reported.yaml"))


@settings(FUZZ, max_examples=40)  # each one parses the YAML text: slower
@given(
    cut=st.integers(0, len(TEXT)),
    junk=st.binary(max_size=12),
    mode=st.sampled_from(["truncate", "insert", "overwrite"]),
)
def test_damaged_text_loads_or_raises_summary_error(cut: int, junk: bytes, mode: str) -> None:
    raw = TEXT.encode()
    if mode == "truncate":
        raw = raw[:cut]
    elif mode == "insert":
        raw = raw[:cut] + junk + raw[cut:]
    else:
        raw = raw[:cut] + junk + raw[cut + len(junk) :]
    _outcome(lambda: parse_reported_summary(raw, "reported.yaml"))


GENERIC = yaml.safe_load(
    (Path(__file__).parent / "data" / "summaries" / "generic_two_arm.yaml").read_text()
)
EDGE_NUMBERS = st.sampled_from(
    [0, 1, 2, 0.5, 0.001, 0.999, 1e-9, 1e9, 41, 45, 60, 90, 105, 110, 150, 300]
) | st.floats(0, 400, allow_nan=False)


def _number_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    return [p for p in _paths(node, prefix) if type(_get(node, p)) in (int, float)]


@settings(FUZZ, max_examples=150)
@given(base=st.sampled_from([BASE, GENERIC]), data=st.data())
def test_checks_survive_edge_numbers(base: dict, data: st.DataObject) -> None:
    # Valid but extreme figures (zero deaths, everyone dead, CI of zero width, huge arms)
    # found division-by-zero and overflow bugs in the checks: each must give a row, not raise.
    doc = copy.deepcopy(base)
    paths = _number_paths(doc)
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths))
        _get(doc, path[:-1])[path[-1]] = data.draw(EDGE_NUMBERS)
    _outcome(lambda: summary_from_dict(doc, "reported.yaml"))
