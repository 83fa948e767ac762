"""The JSON Schema shipped with the package describes every shipped summary (versions 1, 2)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from alsstats.summary import SCHEMA_PATH

ROOT = Path(__file__).parents[1]
SHIPPED = sorted(
    [*(ROOT / "data").glob("**/*.yaml"), *(ROOT / "tests" / "data" / "summaries").glob("*.yaml")]
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_ships_inside_the_package() -> None:
    assert SCHEMA_PATH.parent.name == "summary" and SCHEMA_PATH.is_file()


@pytest.mark.parametrize("path", SHIPPED, ids=[p.relative_to(ROOT).as_posix() for p in SHIPPED])
def test_shipped_summary_validates(path: Path, validator) -> None:
    doc = yaml.safe_load(path.read_text())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message) for e in errors[:3]]


def test_versions_are_both_covered() -> None:
    versions = {yaml.safe_load(p.read_text())["format_version"] for p in SHIPPED}
    assert versions == {1, 2}


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["hazard_ratios"][0].update(valeu=1), ["hazard_ratios", 0]),
        (lambda d: d["hazard_ratios"][0].update(p="<<0.1"), ["hazard_ratios", 0, "p"]),
        (lambda d: d["hazard_ratios"][0].update(test="t-test"), ["hazard_ratios", 0, "test"]),
        (lambda d: d["survival"][0].update(proportion=1.5), ["survival", 0, "proportion"]),
        (lambda d: d.update(format_version=1), []),  # version-2 sections in a version-1 file
    ],
)
def test_schema_rejects_what_the_loader_rejects(change, where, validator) -> None:
    doc = copy.deepcopy(
        yaml.safe_load((ROOT / "tests" / "data" / "summaries" / "three_arm_v2.yaml").read_text())
    )
    change(doc)
    errors = list(validator.iter_errors(doc))
    assert errors and any(list(e.absolute_path)[: len(where)] == where for e in errors)
