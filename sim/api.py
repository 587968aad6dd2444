"""The Python API a learner starts from: run a scenario, compare several.

Every function takes the same changes as the command line: ``days``,
``parameters``, ``initial`` and the treatments ``surgery``, ``dose``,
``dose_start``, ``dose_every``, ``dose_count`` and ``deplete`` (see
``sim.treatments``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from .comparison import Comparison
from .errors import InputError
from .naming import closest
from .result import Result
from .scenarios import ARGUMENTS, Scenario, checked_days, distinct_names, load_scenario
from .solver import DEFAULT_ATOL, DEFAULT_RTOL, solve
from .treatments import Treatment


def prepare(
    scenario: str | Path | Scenario,
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    surgery: float | str | None = None,
    dose: float | str | None = None,
    dose_start: float | None = None,
    dose_every: float | None = None,
    dose_count: int | None = None,
    deplete: Sequence[str] = (),
    names: Mapping[str, str] = ARGUMENTS,
) -> Scenario:
    """Load a scenario (name, file or Scenario) and apply changes to it.

    ``surgery`` [day or "none"], ``dose`` [IU per injection or "none"],
    ``dose_start`` [day], ``dose_every`` [day], ``dose_count`` and ``deplete``
    (["nk:0-60"], ["none"]) replace the scenario's own treatments of that kind.
    Errors name the changes by ``names`` (the command line passes its flags).
    """
    if not isinstance(scenario, (str, Path, Scenario)):
        raise InputError(f"scenario must be a scenario name, a TOML file's path or a Scenario, not {scenario!r:.60}")
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    treatment = Treatment(surgery, dose, dose_start, dose_every, dose_count, deplete)
    if days is None and parameters is None and initial is None and not treatment.given:
        return loaded
    follow_up = None if days is None else checked_days(days, names["days"])
    schedule = treatment.schedule(loaded, follow_up, names) if treatment.given else None
    return loaded.with_changes(parameters=parameters, initial=initial, days=follow_up, schedule=schedule, names=names)


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
    **treatment: Any,
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
        How errors name the changes (the command line passes its flags).
    **treatment
        ``surgery``, ``dose``, ``dose_start``, ``dose_every``, ``dose_count``,
        ``deplete``: see ``prepare``.

    Examples
    --------
    >>> import sim
    >>> restored = sim.run("irf7-restored", days=90)
    >>> silenced = sim.run("irf7-silenced", days=90)
    >>> silenced.fate, restored.fate
    ('metastasis', 'free')
    >>> silenced.metastasis_day < 90 and restored.metastasis_day is None
    True
    >>> sim.run("irf7-silenced", days=90, surgery="none").fate
    'culled'
    """
    prepared = prepare(scenario, days=days, parameters=parameters, initial=initial, names=names,
                       **_treatment(treatment))
    return solve(prepared, rtol=rtol, atol=atol, every=every)


def compare(
    scenarios: Sequence[str | Path | Scenario],
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    names: Mapping[str, str] = ARGUMENTS,
    **treatment: Any,
) -> Comparison:
    """Run several scenarios with the same changes (see ``run``); results in the given order.

    Two arms never share a name: a clash is resolved by the name or path given
    for each, then by numbering.

    >>> import sim
    >>> arms = sim.compare(["irf7-silenced", "irf7-restored"], days=90)
    >>> arms.names, arms["irf7-restored"].fate
    (('irf7-silenced', 'irf7-restored'), 'free')
    """
    if isinstance(scenarios, (str, Path, Scenario)) or not isinstance(scenarios, Sequence) or not scenarios:
        raise InputError(f"scenarios must be a non-empty list of scenario names, files or Scenarios, not {scenarios!r:.60}")
    prepared = [prepare(s, days=days, parameters=parameters, initial=initial, names=names, **_treatment(treatment))
                for s in scenarios]
    labels = [s.name if isinstance(s, Scenario) else str(s) for s in scenarios]
    return Comparison(tuple(solve(s, rtol=rtol, atol=atol) for s in distinct_names(prepared, labels)))


def _treatment(given: Mapping[str, Any]) -> dict[str, Any]:
    """The treatment keywords, with a one-line error for any other."""
    allowed = [f.name for f in fields(Treatment)]
    for key in given:
        if key not in allowed:
            raise InputError(f"unexpected argument '{key}'{closest(key, allowed)}; the treatment arguments are "
                             f"{', '.join(allowed)}")
    return dict(given)
