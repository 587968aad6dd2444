"""Assertions and parsers shared by the test modules (importable: pytest puts tests/ on the path)."""

from __future__ import annotations

import importlib
import json
import math
import os

import pytest


def strict_json(text: str):
    """Parse JSON as RFC 8259 has it: NaN and Infinity are not JSON."""

    def reject(constant):
        raise ValueError(f"not valid JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def assert_one_line_error(outcome, *fragments: str) -> None:
    """A CLI outcome is exit 2, nothing on stdout, one 'tumorsim: error:' line naming each fragment."""
    assert outcome.code == 2, (outcome.code, outcome.err)
    assert outcome.out == ""
    assert "Traceback" not in outcome.err
    assert outcome.err.startswith("tumorsim: error:"), outcome.err
    assert outcome.err.endswith("\n") and outcome.err.count("\n") == 1, f"not one line: {outcome.err!r}"
    for fragment in fragments:
        assert fragment in outcome.err, f"{fragment!r} not in {outcome.err!r}"


def never(day: float | None) -> float:
    """A metastasis day or median with None (none within follow-up) read as never."""
    return math.inf if day is None else day


def require_extra(module: str, extra: str):
    """Import ``module`` for a test of the optional extra ``extra``.

    Without it the test is skipped, so a machine without the extra still runs
    the rest; CI sets TUMORSIM_REQUIRE_EXTRAS=1 and installs every extra, and
    there a missing module fails the test instead of hiding it.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("TUMORSIM_REQUIRE_EXTRAS"):
            pytest.fail(f"{module} is missing, but CI installs every extra: pip install -e '.[{extra}]'")
        pytest.skip(f"needs the '{extra}' extra: pip install -e '.[{extra}]'")
