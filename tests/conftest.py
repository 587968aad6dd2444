"""Shared fixtures: a headless matplotlib, the default run of every scenario, a CLI runner."""

from __future__ import annotations

import os
from dataclasses import dataclass

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["COLUMNS"] = "100"  # list and show fit the terminal; tests read them at a fixed width

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from checks import never  # noqa: E402

import sim  # noqa: E402
from sim.cli import main  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def runs() -> dict[str, sim.Result]:
    """The default run of every shipped scenario, solved once per test session."""
    return {name: sim.run(name) for name in sim.scenario_names("irf7")}


@pytest.fixture(scope="session")
def day_of():
    """Function: metastasis day of a result or a CLI JSON dict, None read as infinity."""

    def day(result) -> float:
        value = result["metastasis_day"] if isinstance(result, dict) else result.metastasis_day
        return never(value)

    return day


@dataclass
class CliOutcome:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    """Run ``tumorsim`` in-process through ``sim.cli.main``; returns code, stdout, stderr."""

    def run(*argv: object) -> CliOutcome:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliOutcome(code, captured.out, captured.err)

    return run
