"""The Python API a learner starts from: run a scenario, compare several.

Every function takes the same changes as the command line: ``days``,
``parameters``, ``initial`` and the treatments ``surgery``, ``dose``,
``dose_start``, ``dose_every``, ``dose_count`` and ``deplete`` (see
``sim.treatments``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from .checks import check_seed
from .comparison import Comparison
from .errors import InputError
from .naming import closest
from .odds import FateOdds
from .result import FATES, Result
from .scenarios import ARGUMENTS, Scenario, checked_days, distinct_names, load_scenario
from .solver import DEFAULT_ATOL, DEFAULT_RTOL, solve
from .treatments import Treatment

REPLICATES = 200
"""Replicate mice a run with chance solves to estimate how likely each fate is: a fraction near one half is then
known to within about 7 percentage points (95 % interval)."""
MAX_REPLICATES = 100_000


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
    chance: bool | None = None,
    names: Mapping[str, str] = ARGUMENTS,
) -> Scenario:
    """Load a scenario (name, file or Scenario) and apply changes to it.

    ``surgery`` [day or "none"], ``dose`` [IU per injection or "none"],
    ``dose_start`` [day], ``dose_every`` [day], ``dose_count`` and ``deplete``
    (["nk:0-60"], ["none"]) replace the scenario's own treatments of that kind.
    ``chance`` (True or False) switches chance in the bone on or off (``Scenario.chance``).
    Errors name the changes by ``names`` (the command line passes its flags).
    """
    if not isinstance(scenario, (str, Path, Scenario)):
        raise InputError(f"scenario must be a scenario name, a TOML file's path or a Scenario, not {scenario!r:.60}")
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    treatment = Treatment(surgery, dose, dose_start, dose_every, dose_count, deplete)
    if days is None and parameters is None and initial is None and not treatment.given and chance is None:
        return loaded
    follow_up = None if days is None else checked_days(days, names["days"])
    schedule = treatment.schedule(loaded, follow_up, names) if treatment.given else None
    return loaded.with_changes(parameters=parameters, initial=initial, days=follow_up, schedule=schedule, chance=chance,
                               names=names)


def run(
    scenario: str | Path | Scenario,
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    every: float | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    chance: bool | None = None,
    seed: int | None = None,
    replicates: int = REPLICATES,
    names: Mapping[str, str] = ARGUMENTS,
    **treatment: Any,
) -> Result:
    """Run one scenario (one mouse).

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
    chance : bool, optional
        True: a small bone burden is whole cells left to chance (``sim.chance``); False: the mean-field view,
        the ODEs alone. Default: the scenario's own setting.
    seed : int, optional
        Seed of this mouse's chance draws (default 0); only with chance on, where it picks the mouse.
    replicates : int
        With chance on, also solve this many mice with the same parameters and other draws (the run shown is
        the first), to say how likely each fate is: ``Result.odds``. 0 skips them.
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
    prepared = prepare(scenario, days=days, parameters=parameters, initial=initial, chance=chance, names=names,
                       **_treatment(treatment))
    seed = _chance_seed(seed, [prepared], names)
    replicates = check_replicates(replicates, names["replicates"])
    result = solve(prepared, rtol=rtol, atol=atol, every=every, seed=seed)
    if not prepared.chance or not replicates:
        return result
    return replace(result, odds=fate_odds(prepared, replicates, seed))


def _chance_seed(seed: Any, prepared: Sequence[Scenario], names: Mapping[str, str]) -> int:
    """``seed`` checked (default 0); given while no scenario has chance on, an InputError: it would change nothing."""
    if seed is None:
        return 0
    seed = check_seed(seed, names["seed"])
    if not any(s.chance for s in prepared):
        on = "--chance" if names["chance"].startswith("--") else f"{names['chance']}=True"
        raise InputError(f"{names['seed']} picks a mouse's chance draws, but {prepared[0].name} runs in the mean-field "
                         f"view, where every run is the same; add {on} or drop {names['seed']}")
    return seed


def check_replicates(raw: Any, flag: str) -> int:
    """``raw`` as a number of replicates from 0 to MAX_REPLICATES, else InputError naming ``flag``."""
    value = check_seed(raw, flag)  # a whole number >= 0
    if value > MAX_REPLICATES:
        raise InputError(f"{flag} = {value:,} is more than {MAX_REPLICATES:,} (about a minute per 100,000 mice)")
    return value


def fate_odds(scenario: Scenario, n: int, seed: int) -> FateOdds:
    """Fates of ``n`` mice of ``scenario`` that differ only in their chance draws (mouse 0 has the draws of
    ``run(..., seed=seed)``)."""
    from .cohort import simulate_cohort  # cohorts import the solvers' heavier engines: only when asked for

    cohort = simulate_cohort(replace(scenario, variability={}), n, seed)
    return FateOdds({fate: int((cohort.fates == fate).sum()) for fate in FATES}, n, seed)


def compare(
    scenarios: Sequence[str | Path | Scenario],
    *,
    days: float | None = None,
    parameters: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    chance: bool | None = None,
    seed: int | None = None,
    names: Mapping[str, str] = ARGUMENTS,
    **treatment: Any,
) -> Comparison:
    """Run several scenarios with the same changes (see ``run``; with chance, each arm is one mouse of ``seed``);
    results in the given order.

    Two arms never share a name: a clash is resolved by the name or path given
    for each, then by numbering.

    >>> import sim
    >>> arms = sim.compare(["irf7-silenced", "irf7-restored"], days=90)
    >>> arms.names, arms["irf7-restored"].fate
    (('irf7-silenced', 'irf7-restored'), 'free')
    """
    if isinstance(scenarios, (str, Path, Scenario)) or not isinstance(scenarios, Sequence) or not scenarios:
        raise InputError(f"scenarios must be a non-empty list of scenario names, files or Scenarios, not {scenarios!r:.60}")
    prepared = [prepare(s, days=days, parameters=parameters, initial=initial, chance=chance, names=names,
                        **_treatment(treatment)) for s in scenarios]
    seed = _chance_seed(seed, prepared, names)
    labels = [s.name if isinstance(s, Scenario) else str(s) for s in scenarios]
    return Comparison(tuple(solve(s, rtol=rtol, atol=atol, seed=seed) for s in distinct_names(prepared, labels)))


def _treatment(given: Mapping[str, Any]) -> dict[str, Any]:
    """The treatment keywords, with a one-line error for any other."""
    allowed = [f.name for f in fields(Treatment)]
    for key in given:
        if key not in allowed:
            raise InputError(f"unexpected argument '{key}'{closest(key, allowed)}; the treatment arguments are "
                             f"{', '.join(allowed)}")
    return dict(given)
