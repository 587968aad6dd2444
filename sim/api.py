"""The Python API a learner starts from: run a scenario, compare several."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InputError
from .result import Result
from .scenarios import ARGUMENTS, Scenario, load_scenario
from .solver import DEFAULT_ATOL, DEFAULT_RTOL, solve


def prepare(
    scenario: str | Path | Scenario,
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    names: Mapping[str, str] = ARGUMENTS,
) -> Scenario:
    """Load a scenario (name, file or Scenario) and apply changes to it.

    Errors name the changes by ``names`` (the command line passes its flags).
    """
    if not isinstance(scenario, (str, Path, Scenario)):
        raise InputError(f"scenario must be a scenario name, a TOML file's path or a Scenario, not {scenario!r:.60}")
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if days is None and parameters is None and initial is None:
        return loaded
    return loaded.with_changes(parameters=parameters, initial=initial, days=days, names=names)


def run(
    scenario: str | Path | Scenario,
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    every: float | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    names: Mapping[str, str] = ARGUMENTS,
) -> Result:
    """Run one scenario.

    Parameters
    ----------
    scenario : str, Path or Scenario
        A shipped scenario name (``tumorsim list``), a scenario TOML file, or a Scenario.
    days : float, optional
        Follow-up [day]; defaults to the scenario's.
    parameters : mapping, optional
        Parameter values to change, ``{"nk_kill": 5e-7}``, in each parameter's unit.
    initial : mapping, optional
        Initial state values to change, ``{"P": 1e6}``, in each state's unit.
    every : float, optional
        Report the time course every ``every`` days instead of at solver steps.
    rtol, atol : float
        Solver tolerances.
    names : mapping, optional
        How errors name ``parameters``, ``initial`` and ``days`` (the command line passes its flags).

    Examples
    --------
    >>> import sim
    >>> restored = sim.run("irf7-restored", days=90)
    >>> silenced = sim.run("irf7-silenced", days=90)
    >>> silenced.fate, restored.fate
    ('metastasis', 'free')
    >>> silenced.metastasis_day < 90 and restored.metastasis_day is None
    True
    """
    prepared = prepare(scenario, days=days, parameters=parameters, initial=initial, names=names)
    return solve(prepared, rtol=rtol, atol=atol, every=every)


def compare(
    scenarios: Sequence[str | Path | Scenario],
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    names: Mapping[str, str] = ARGUMENTS,
) -> list[Result]:
    """Run several scenarios with the same changes; results in the given order."""
    if isinstance(scenarios, (str, Path, Scenario)) or not isinstance(scenarios, Sequence) or not scenarios:
        raise InputError(f"scenarios must be a non-empty list of scenario names, files or Scenarios, not {scenarios!r:.60}")
    return [run(s, days=days, parameters=parameters, rtol=rtol, atol=atol, names=names) for s in scenarios]
