"""The command line tried as a new user would: every mistake is one line on stderr, never a
traceback, and a non-zero exit (2 for a bad option or input, 130 for Ctrl-C).

One table (``CASES``): each row builds its files (and, for the file-system cases, its
patches) in a temporary folder and gives the argv, the exit code and a phrase the one line must
contain. Then: Ctrl-C as a real SIGINT to a subprocess, files written with the user's umask,
and a missing output folder reported alike by every command that writes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import REFERENCE

from alsstats.cli import main

SIM = REFERENCE / "sim220_efron.csv"
SUMMARY = str(Path(__file__).parents[1] / "data" / "mirocals" / "reported.yaml")
KM_DATA = Path(__file__).parent / "data" / "km"
HR = ["--time", "time", "--event", "event", "--formula", "trt * pnfh"]
HR += ["--treatment", "trt", "--modifier", "pnfh"]


def _csv(folder: Path, name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> str:
    path = folder / name
    change(pd.read_csv(SIM)).to_csv(path, index=False)
    return str(path)


def _text_treatment(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(trt=[f"arm-{i}" for i in range(len(df))])  # 220 distinct labels


def _text_modifier(df: pd.DataFrame) -> pd.DataFrame:
    df = df.astype({"pnfh": object})
    df.loc[[3, 7, 11, 20, 42], "pnfh"] = ["high", "low", ">5000", "<LOQ", "??"]
    return df


def _inf_time(df: pd.DataFrame) -> pd.DataFrame:
    df.loc[5, "time"] = float("inf")
    return df


def _km_args(out: Path) -> list[str]:
    return [
        "km",
        "--arm", "placebo", str(KM_DATA / "leukemia_rx0_curve.csv"),
        str(KM_DATA / "leukemia_rx0_at_risk.csv"),
        "--arm", "active", str(KM_DATA / "leukemia_rx1_curve.csv"),
        str(KM_DATA / "leukemia_rx1_at_risk.csv"),
        "-o", str(out),
    ]  # fmt: skip


def _duplicated_header(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    path = tmp / "dup.csv"
    text = SIM.read_text().splitlines()
    text[0] = text[0].replace("trt", "pnfh")  # two columns called pnfh
    path.write_text("\n".join(text) + "\n")
    return ["hr-curve", str(path), *HR]


def _directory_as_output(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    (tmp / "cohort.csv").mkdir()
    return ["rebuild", SUMMARY, "--out", str(tmp / "cohort.csv"), "--force"]


def _read_only_folder(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    folder = tmp / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: make the file system refuse as it would
        mp.setattr("alsstats.io.os.access", lambda *a, **k: False)
    return _km_args(folder / "ipd.csv")


def _interrupted_write(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    def interrupt(fd: int) -> None:
        raise KeyboardInterrupt

    mp.setattr("alsstats.io.os.fsync", interrupt)  # Ctrl-C in the middle of writing
    return _km_args(tmp / "ipd.csv")


def _interrupted_work(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    mp.setattr("alsstats.reconstruct.rebuild_cohort", interrupt)  # Ctrl-C during the search
    return ["rebuild", SUMMARY, "--out", str(tmp / "cohort.csv")]


def _internal_error(tmp: Path, mp: pytest.MonkeyPatch) -> list[str]:
    def bug(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("float division by zero")

    mp.setattr("alsstats.reconstruct.rebuild_cohort", bug)  # a bug still gives one line
    return ["rebuild", SUMMARY, "--out", str(tmp / "cohort.csv")]


def _argv(*args: str) -> Callable[[Path, pytest.MonkeyPatch], list[str]]:
    return lambda tmp, mp: [a.replace("{SIM}", str(SIM)) for a in args]


def _hr(change: Callable[[pd.DataFrame], pd.DataFrame], *extra: str):
    return lambda tmp, mp: ["hr-curve", _csv(tmp, "data.csv", change), *HR, *extra]


# id, argv builder, exit code, phrase the one line must contain
CASES = [
    ("level 95", _argv("hr-curve", "{SIM}", *HR, "--level", "95"), 2, "write 0.95 or 95%"),
    ("level 1.5", _argv("hr-curve", "{SIM}", *HR, "--level", "1.5"), 2, "not a confidence level"),
    ("level text", _argv("hr-curve", "{SIM}", *HR, "--level", "high"), 2, "is not a number"),
    ("loq -5", _argv("hr-curve", "{SIM}", *HR, "--loq", "-5"), 2, "-5 is not a positive"),
    ("loq nan", _argv("hr-curve", "{SIM}", *HR, "--loq", "nan"), 2, "not a finite number"),
    ("engine", _argv("hr-curve", "{SIM}", *HR, "--engine", "R"), 2, "invalid choice: 'R'"),
    (
        "bad formula",
        _argv("hr-curve", "{SIM}", *HR[:4], "--formula", "trt * (pnfh", *HR[6:]),
        2,
        "cannot parse 'trt * (pnfh'",
    ),
    ("missing option", _argv("hr-curve", "{SIM}", "--time", "time"), 2, "are required"),
    (
        "max-seconds -1",
        _argv("rebuild", SUMMARY, "--out", "x.csv", "--max-seconds", "-1"),
        2,
        "--max-seconds: -1 is not a positive number",
    ),
    ("replicates 0", _argv("design", "--replicates", "0"), 2, "0 is not a positive whole"),
    ("size-for 80", _argv("design", "--size-for", "80"), 2, "80 is not a proportion"),
    ("text treatment", _hr(_text_treatment), 2, "'arm-0', 'arm-1', 'arm-2' and 217 others"),
    ("text modifier", _hr(_text_modifier), 2, "pnfh: must be numeric; 5 of 220"),
    ("inf time", _hr(_inf_time), 2, "time: 1 non-finite time(s) (inf)"),
    ("duplicated column", _duplicated_header, 2, "pnfh: column name given 2 times"),
    (
        "missing column",
        _argv("hr-curve", "{SIM}", *HR[:8], "--modifier", "nfl"),
        2,
        "nfl: no such column",
    ),
    ("directory as output", _directory_as_output, 2, "is a folder; give a file name"),
    ("read-only folder", _read_only_folder, 2, "permission denied"),
    ("ctrl-c while writing", _interrupted_write, 130, "interrupted (no partial file left)"),
    ("ctrl-c while working", _interrupted_work, 130, "interrupted (no partial file left)"),
    ("internal error", _internal_error, 1, "internal error: ZeroDivisionError"),
]


@pytest.mark.parametrize(
    ("build", "code", "phrase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_invocation_is_one_line(
    build: Callable[[Path, pytest.MonkeyPatch], list[str]],
    code: int,
    phrase: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    argv = build(work, monkeypatch)
    before = {p.name for p in work.rglob("*")}
    assert main(argv) == code
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err  # exactly one line
    assert "Traceback" not in err and "\x1b" not in err  # no traceback, no colour codes
    assert phrase in err, err
    assert err.startswith("alsstats"), err
    assert len(err) < 400, err  # an error about a column shows a few values, not all
    if code == 130:  # Ctrl-C: no file, not even a temporary one
        assert {p.name for p in work.rglob("*")} == before


def test_ctrl_c_on_a_running_command(tmp_path: Path) -> None:
    # A real SIGINT to `alsstats reproduce` once it has started its work: exit 130, one line,
    # no report folder and no temporary one.
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1] / "src"),
        "PYTHONUNBUFFERED": "1",
    }
    out = tmp_path / "report"
    cmd = [sys.executable, "-m", "alsstats", "reproduce", "--out", str(out)]
    # The child gets SIGINT's default disposition even when pytest runs as a background job
    # (a non-interactive shell starts those with SIGINT ignored, and Python keeps it so).
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # printed when the work starts
    assert first.startswith("alsstats reproduce: checking figures"), first
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert lines[-1] == "alsstats reproduce: interrupted (no partial file left)", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_output_follows_the_umask(umask: int, tmp_path: Path) -> None:
    out = tmp_path / "ipd.csv"
    old = os.umask(umask)
    try:
        assert main(_km_args(out)) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_missing_output_folder_is_reported_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same refusal from each command that writes, before any work; nothing is created.
    missing = tmp_path / "no such folder"
    commands = [
        ["rebuild", SUMMARY, "--out", str(missing / "cohort.csv")],
        _km_args(missing / "ipd.csv"),
        ["reproduce", "--out", str(missing / "report")],
    ]
    for argv in commands:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"the output folder '{missing}' does not exist; create it first" in err, err
        assert not missing.exists()
