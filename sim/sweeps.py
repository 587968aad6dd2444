"""Sweeps: metastasis day (and cohort survival) across a grid of choices.

* ``parameter_sweep``: one parameter from low to high, for several scenarios
  (e.g. tumour Irf7 activity from silenced to restored, in wild-type and
  Ifnar1-/- hosts).
* ``dose_grid``: interferon dose x interval x start day, each a four-week
  course replacing the scenario's own doses.

Every grid point is an independent run, spread over processes (or any
``concurrent.futures`` executor) by ``sim.parallel.run_all``.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .api import prepare
from .cohort import MAX_MICE, simulate_cohort
from .errors import InputError
from .parallel import Progress, run_all
from .scenarios import Scenario
from .solver import solve

MAX_SWEEP_POINTS = 2_000
"""Most runs one sweep or dose grid may make (about 5-15 minutes on 2 cores)."""
COURSE_DAYS = 28.0
"""Length of an interferon course in the dose grid [day]: doses every
``interval`` days from ``start`` for four weeks."""


def _outcome(scenario: Scenario, cohort_n: int, seed: int) -> tuple[float, float | None, float]:
    """Metastasis day of the scenario's expected course (mean-field view; NaN if none), with a cohort (with chance,
    if the scenario has it) its median metastasis-free survival, and the humane-endpoint day (NaN if never reached)."""
    result = solve(scenario.mean_field())
    median = simulate_cohort(scenario, cohort_n, seed, workers=1).survival().median if cohort_n else None
    return _nan(result.metastasis_day), median, _nan(result.endpoint_day)


def _check_points(points: int, cohort_n: int, what: str) -> None:
    """Refuse, before any work, a grid of more than MAX_SWEEP_POINTS runs or more than MAX_MICE mice in all."""
    if points > MAX_SWEEP_POINTS:
        raise InputError(f"the {what} would make {points:,} runs; at most {MAX_SWEEP_POINTS:,} (use fewer values)")
    if cohort_n and points * cohort_n > MAX_MICE:
        raise InputError(f"the {what} would simulate {points * cohort_n:,} mice ({points:,} points x --n {cohort_n:,}); "
                         f"at most {MAX_MICE:,} (use a smaller --n or fewer values)")


def _nan(day: float | None) -> float:
    return math.nan if day is None else day


@dataclass(frozen=True)
class Sweep:
    """Outcomes of a sweep over one parameter.

    Attributes
    ----------
    parameter, unit : str
        The swept parameter and its unit.
    values : ndarray, shape (k,)
        The values tried.
    scenarios : list of str
        Scenario names, one row each.
    metastasis_day : ndarray, shape (len(scenarios), k)
        Day of bone metastasis [day]; NaN if none (culled first, or none within follow-up).
    median_survival : ndarray or None
        Cohort median metastasis-free survival [day] (NaN if not reached), when cohorts were run.
    follow_up : float
        Follow-up of the runs [day].
    endpoint_day : ndarray or None, shape (len(scenarios), k)
        Day the primary reached the humane endpoint [day]; NaN if never.
    """

    parameter: str
    unit: str
    values: np.ndarray
    scenarios: list[str]
    metastasis_day: np.ndarray
    median_survival: np.ndarray | None
    follow_up: float
    endpoint_day: np.ndarray | None = None

    @property
    def culled(self) -> np.ndarray:
        """True where the mouse was culled at the humane endpoint before any metastasis was detected."""
        if self.endpoint_day is None:
            return np.zeros(self.metastasis_day.shape, bool)
        return np.isnan(self.metastasis_day) & ~np.isnan(self.endpoint_day)

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "unit": self.unit,
            "values": self.values.tolist(),
            "follow_up": self.follow_up,
            "metastasis_day": {s: _nulls(row) for s, row in zip(self.scenarios, self.metastasis_day)},
            "endpoint_day": None if self.endpoint_day is None else {
                s: _nulls(row) for s, row in zip(self.scenarios, self.endpoint_day)},
            "median_survival": None if self.median_survival is None else {
                s: _nulls(row) for s, row in zip(self.scenarios, self.median_survival)},
        }


def _nulls(row: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in row]


def sweep_values(low: float, high: float, steps: int, log: bool = False) -> np.ndarray:
    """``steps`` values from ``low`` to ``high``, evenly or (``log``) geometrically spaced."""
    if steps > MAX_SWEEP_POINTS:
        raise InputError(f"a sweep may have at most {MAX_SWEEP_POINTS:,} steps, not {steps:,}")
    if steps < 2 or not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise InputError(f"sweep range must have low < high and at least 2 steps, not {low:g} to {high:g} in {steps}")
    if log and low <= 0:
        raise InputError(f"a log-spaced sweep needs low > 0, not {low:g}")
    return np.geomspace(low, high, steps) if log else np.linspace(low, high, steps)


def parameter_sweep(
    scenarios: list[str | Scenario],
    parameter: str,
    values: np.ndarray,
    *,
    cohort_n: int = 0,
    seed: int = 0,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> Sweep:
    """Metastasis day of each scenario at each value of ``parameter`` (and cohort medians if ``cohort_n``)."""
    prepared = [prepare(s) for s in scenarios]
    _check_points(len(prepared) * len(values), cohort_n, "sweep")
    variants = [s.with_changes(parameters={parameter: float(v)}, where=f"sweep of {parameter}")
                for s in prepared for v in values]
    outcomes = run_all(_outcome, [(v, cohort_n, seed) for v in variants], workers=workers, executor=executor,
                       progress=Progress(f"sweep of {parameter}", len(variants)) if progress else None)
    shape = (len(prepared), len(values))
    days = np.array([o[0] for o in outcomes]).reshape(shape)
    medians = np.array([np.nan if o[1] is None else o[1] for o in outcomes]).reshape(shape) if cohort_n else None
    endpoints = np.array([o[2] for o in outcomes]).reshape(shape)
    return Sweep(parameter, prepared[0].parameters[parameter].unit, np.asarray(values, float), [s.name for s in prepared],
                 days, medians, prepared[0].days, endpoints)


@dataclass(frozen=True)
class DoseGrid:
    """Metastasis day for every interferon dose x interval x start day.

    ``metastasis_day`` and ``median_survival`` have shape (starts, intervals, amounts) [day],
    NaN where no metastasis (or no median) within follow-up; ``endpoint_day`` [day]
    of the same shape is when the primary reached the humane endpoint (NaN: never);
    ``untreated`` and ``untreated_endpoint`` are the scenario without interferon.
    """

    scenario: str
    amounts: np.ndarray
    intervals: np.ndarray
    starts: np.ndarray
    metastasis_day: np.ndarray
    median_survival: np.ndarray | None
    untreated: float
    follow_up: float
    endpoint_day: np.ndarray | None = None
    untreated_endpoint: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "course_days": COURSE_DAYS,
            "amounts_IU": self.amounts.tolist(),
            "intervals_days": self.intervals.tolist(),
            "starts_day": self.starts.tolist(),
            "untreated_metastasis_day": None if np.isnan(self.untreated) else self.untreated,
            "follow_up": self.follow_up,
            "metastasis_day": [[_nulls(row) for row in block] for block in self.metastasis_day],
            "endpoint_day": None if self.endpoint_day is None else [
                [_nulls(row) for row in block] for block in self.endpoint_day],
            "untreated_endpoint_day": None if np.isnan(self.untreated_endpoint) else self.untreated_endpoint,
            "median_survival": None if self.median_survival is None else [
                [_nulls(row) for row in block] for block in self.median_survival],
        }


def course(amount: float, interval: float, start: float) -> dict[str, Any]:
    """A four-week interferon course as a ``[[schedule]]`` entry."""
    return {"event": "ifn-dose", "amount": amount, "start": start, "every": interval,
            "count": max(1, math.ceil(COURSE_DAYS / interval - 1e-9))}


def dose_grid(
    scenario: str | Scenario,
    amounts: list[float],
    intervals: list[float],
    starts: list[float],
    *,
    cohort_n: int = 0,
    seed: int = 0,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> DoseGrid:
    """Run ``scenario`` with every course of ``amounts`` [IU] every ``intervals`` [day] from ``starts`` [day]."""
    base = prepare(scenario)
    for name, values in (("amounts", amounts), ("intervals", intervals), ("starts", starts)):
        if not values or any(not math.isfinite(v) or v < 0 for v in values):
            raise InputError(f"dose grid: {name} must be a non-empty list of numbers >= 0")
    if any(v == 0 for v in intervals):
        raise InputError("dose grid: intervals must be > 0 days")
    kept = [e for e in base.schedule_entries if e.get("event") != "ifn-dose"]
    untreated = base.with_changes(schedule=kept)
    _check_points(len(starts) * len(intervals) * len(amounts), cohort_n, "dose grid")
    variants = [base.with_changes(schedule=[*kept, course(a, i, s)]) for s in starts for i in intervals for a in amounts]
    outcomes = run_all(_outcome, [(v, cohort_n, seed) for v in [untreated, *variants]], workers=workers,
                       executor=executor, progress=Progress("dose grid", len(variants) + 1) if progress else None)
    shape = (len(starts), len(intervals), len(amounts))
    days = np.array([o[0] for o in outcomes[1:]]).reshape(shape)
    medians = np.array([np.nan if o[1] is None else o[1] for o in outcomes[1:]]).reshape(shape) if cohort_n else None
    endpoints = np.array([o[2] for o in outcomes[1:]]).reshape(shape)
    return DoseGrid(base.name, np.asarray(amounts, float), np.asarray(intervals, float), np.asarray(starts, float),
                    days, medians, outcomes[0][0], base.days, endpoints, outcomes[0][2])


@dataclass(frozen=True)
class SurgeryTiming:
    """What happens to each arm when the primary tumour is removed on different days, or never.

    Attributes
    ----------
    scenarios : list of str
        Scenario names, one row each; their own resection is replaced.
    resection_days : ndarray, shape (k,)
        Day of surgery [day]; NaN means no surgery.
    fate : ndarray of str, shape (len(scenarios), k)
        "metastasis", "culled" (humane endpoint first) or "free" (at the end of follow-up).
    metastasis_day, endpoint_day : ndarray, shape (len(scenarios), k)
        Days [day] of the typical mouse; NaN where it did not happen.
    free_fraction : ndarray or None
        Fraction of a cohort still in the study and metastasis-free on day ``window``
        (neither metastasis nor humane endpoint before it), when cohorts were run.
    window, follow_up : float
        Day at which ``free_fraction`` is read, and follow-up of the runs [day].
    """

    scenarios: list[str]
    resection_days: np.ndarray
    fate: np.ndarray
    metastasis_day: np.ndarray
    endpoint_day: np.ndarray
    free_fraction: np.ndarray | None
    window: float
    follow_up: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "resection_days": _nulls(self.resection_days),
            "follow_up": self.follow_up,
            "window": self.window,
            "arms": {s: {"fate": list(self.fate[i]), "metastasis_day": _nulls(self.metastasis_day[i]),
                         "endpoint_day": _nulls(self.endpoint_day[i]),
                         "free_fraction_at_window": None if self.free_fraction is None else _nulls(self.free_fraction[i])}
                     for i, s in enumerate(self.scenarios)},
        }


def with_resection(scenario: Scenario, day: float | None) -> Scenario:
    """``scenario`` with its surgery moved to ``day`` (None: never operated on); other events kept."""
    kept = [e for e in scenario.schedule_entries if e.get("event") != "resection"]
    surgery = [] if day is None else [{"event": "resection", "day": float(day)}]
    label = "no surgery" if day is None else f"surgery on day {day:g}"
    return scenario.with_changes(schedule=kept + surgery, description=f"{scenario.description} ({label})")


def _surgery_outcome(scenario: Scenario, cohort_n: int, seed: int, window: float) -> tuple:
    result = solve(scenario.mean_field())
    free = None
    if cohort_n:
        cohort = simulate_cohort(scenario, cohort_n, seed, workers=1)
        with np.errstate(invalid="ignore"):
            left = (cohort.metastasis_day <= window) | (cohort.endpoint_day <= window)  # NaN compares False
        free = float(np.mean(~left))
    return (result.fate, math.nan if result.metastasis_day is None else result.metastasis_day,
            math.nan if result.endpoint_day is None else result.endpoint_day, free)


def surgery_timing(
    scenarios: list[str | Scenario],
    resection_days: list[float | None],
    *,
    cohort_n: int = 0,
    seed: int = 0,
    window: float = 60.0,
    workers: int | None = None,
    executor: Executor | None = None,
) -> SurgeryTiming:
    """Fate of each scenario's typical mouse (and, with ``cohort_n``, its cohort) for each surgery day.

    ``None`` in ``resection_days`` means the primary tumour is never removed.
    """
    prepared = [prepare(s) for s in scenarios]
    variants = [with_resection(s, day) for s in prepared for day in resection_days]
    outcomes = run_all(_surgery_outcome, [(v, cohort_n, seed, window) for v in variants], workers=workers,
                       executor=executor)
    shape = (len(prepared), len(resection_days))
    column = [np.array([o[k] for o in outcomes]).reshape(shape) for k in range(4)]
    return SurgeryTiming([s.name for s in prepared], np.array([math.nan if d is None else d for d in resection_days]),
                         column[0], column[1].astype(float), column[2].astype(float),
                         column[3].astype(float) if cohort_n else None, window, prepared[0].days)
