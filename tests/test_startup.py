"""Fast start: 'tumorsim list' and 'show' import nothing heavy; scipy loads only when a run integrates.

Wall-clock start-up time is measured outside pytest (benchmarks/README.md); here the imports are checked,
since they are what makes a start slow.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("scipy", "matplotlib", "numba", "sympy", "pandas", "dask")

PROBE = """
import contextlib, io, json, sys
import sim.cli
with contextlib.redirect_stdout(io.StringIO()) as out:
    for argv in {commands!r}:
        code = sim.cli.main(argv)
        assert code in (0, None), (argv, code)
print(json.dumps({{"loaded": sorted(m for m in {heavy!r} if m in sys.modules), "chars": len(out.getvalue())}}))
"""


def loaded_after(*commands: list[str]) -> dict:
    """Run tumorsim commands in a fresh interpreter; which heavy modules did they import?"""
    code = PROBE.format(commands=list(commands), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("argv", [["list"], ["show", "irf7-restored"], ["show", "ifn-dosed", "--all"]])
def test_list_and_show_import_nothing_heavy(argv):
    probe = loaded_after(argv)
    assert probe["chars"] > 200  # the command did print its listing
    assert probe["loaded"] == []


def test_a_run_loads_scipy_when_it_integrates():
    assert loaded_after(["run", "irf7-silenced", "--json"])["loaded"] == ["scipy"]
