"""Figures return labelled Axes with hazard ratios on a log axis, without warnings."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import load_reference

from alsstats.errors import InputError
from alsstats.interaction import TreatmentInteraction
from alsstats.report import plot_forest, plot_hr_curve


@pytest.fixture(scope="module")
def analysis() -> TreatmentInteraction:
    df, _ = load_reference("sim220_efron")
    centred = TreatmentInteraction("trt * pnfh", "trt", "pnfh", center_at="median")
    return centred.fit(df, "time", "event")


@pytest.mark.parametrize("band", ["pointwise", "simultaneous"])
def test_hr_curve_axes(analysis: TreatmentInteraction, band: str) -> None:
    fig, ax = plt.subplots()
    out = plot_hr_curve(
        analysis,
        ax=ax,
        band=band,
        show_subgroups=True,
        cutoffs=(750, 3700),
        limit_of_quantification=750,
        modifier_label="CSF pNFH (pg/mL)",
    )
    assert out is ax
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "CSF pNFH (pg/mL)" and "Hazard ratio" in ax.get_ylabel()
    # the HR = 1 line is there
    assert any(np.allclose(line.get_ydata(), 1.0) for line in ax.get_lines())
    labels = ax.get_legend_handles_labels()[1]
    assert {"HR = 1", "LOQ (750)", "subgroup HR", "observed values"} <= set(labels)
    fig.canvas.draw()
    plt.close(fig)


def test_hr_curve_flags_unobserved_coefficient() -> None:
    df, _ = load_reference("sim220_efron")
    with pytest.warns(Warning):
        raw = TreatmentInteraction("trt * pnfh", "trt", "pnfh").fit(df, "time", "event")
    ax = plot_hr_curve(raw)
    assert any("not an observed value" in t.get_text() for t in ax.texts)
    plt.close(ax.figure)


def test_forest_axes(analysis: TreatmentInteraction) -> None:
    sub = analysis.subgroups((750, 3700))
    ax = plot_forest(sub)
    assert ax.get_xscale() == "log" and "Hazard ratio" in ax.get_xlabel() and ax.get_ylabel()
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any("not estimable" in t for t in ticks) and any("n=170" in t for t in ticks)
    ax.figure.canvas.draw()
    plt.close(ax.figure)
    with pytest.raises(InputError, match="needs columns"):
        plot_forest(sub.table.drop(columns="hr"))


def test_plot_km_draws_the_kaplan_meier_steps() -> None:
    import matplotlib.pyplot as plt

    from alsstats.report import plot_km

    # hand-worked: arm a, times 3 (death), 5 (death), 5 (censored), 8 (death)
    # S = 1 -> 3/4 at t=3 -> 3/4 * 2/3 = 1/2 at t=5 (3 at risk, 1 death) -> 0 at t=8
    df = pd.DataFrame(
        {"t": [5, 3, 5, 8, 2, 4], "d": [1, 1, 0, 1, 1, 0], "arm": ["a", "a", "a", "a", "b", "b"]}
    )
    ax = plot_km(df, "t", "d", "arm", labels={"a": "IL-2LD", "b": "placebo"})
    step = ax.get_lines()[0]
    np.testing.assert_allclose(step.get_ydata(), [1.0, 0.75, 0.5, 0.0, 0.0], atol=1e-15)
    assert ax.get_ylabel() == "Survival probability"
    assert "days" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "IL-2LD (n = 4)",
        "placebo (n = 2)",
    ]
    plt.close("all")


def test_library_code_never_sets_the_matplotlib_backend() -> None:
    # matplotlib.use() inside the package would switch a notebook or a GUI session to Agg
    # behind the user's back; the report draws on Figure objects instead.
    import ast
    from pathlib import Path

    import alsstats

    root = Path(alsstats.__file__).parent
    calls = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("use", "switch_backend")
            ):
                calls.append(f"{path.relative_to(root)}:{node.lineno}")
    assert calls == []


def test_plot_hr_curve_has_no_default_cutoffs(analysis: TreatmentInteraction) -> None:
    # No trial's numbers in a generic function: cut-offs appear only when asked for.
    import matplotlib.pyplot as plt

    ax = plot_hr_curve(analysis)
    assert "cut-offs" not in ax.get_legend_handles_labels()[1]
    plt.close(ax.figure)
    with pytest.raises(InputError, match="show_subgroups=True needs the cut-offs"):
        plot_hr_curve(analysis, show_subgroups=True)
    ax = plot_hr_curve(analysis, show_subgroups=analysis.subgroups((1000.0, 4000.0)))
    assert "cut-offs" in ax.get_legend_handles_labels()[1]  # taken from the subgroups
    plt.close(ax.figure)
