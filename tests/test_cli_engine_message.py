"""Commands that fit Cox models announce the once-per-machine compile of the engine."""

from __future__ import annotations

import alsstats.survival as survival
from alsstats.cli import prepare_engine


def test_message_when_the_kernel_is_not_compiled(monkeypatch, capsys):
    monkeypatch.setattr(survival, "kernel_compiled", lambda: False)
    prepare_engine()
    err = capsys.readouterr().err
    assert "compiling the Cox engine (once per machine)" in err
    assert "compiled in" in err


def test_silent_when_the_kernel_is_cached(monkeypatch, capsys):
    monkeypatch.setattr(survival, "kernel_compiled", lambda: True)
    prepare_engine()
    assert capsys.readouterr().err == ""
