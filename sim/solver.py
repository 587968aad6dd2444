"""Solve a scenario: integrate between discontinuities, find the metastasis day.

The schedule's jump days and window edges split follow-up into segments.
Each segment is one call of ``scipy.integrate.solve_ivp``; at each boundary
the jumps are applied and the integration restarts, so no step straddles a
discontinuity. The metastasis day is the first upward crossing of the
detection threshold, found by solve_ivp's event root-finding on the dense
(interpolated) solution of the step where it happens. The humane endpoint
(the primary tumour reaching the endpoint burden) is found the same way and
ends the run: the mouse is culled that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import chance
from .checks import check_tolerances
from .errors import InputError, SolverError
from .result import Result, time_grid
from .scenarios import Scenario

DEFAULT_METHOD = "LSODA"
"""LSODA switches between a non-stiff Adams and a stiff BDF method as needed:
interferon and circulating cells relax in hours while tumours grow over days."""
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-6
NEGATIVE_SLACK = 1e3
"""Clipped negative excursions larger than NEGATIVE_SLACK * atol are a solver failure."""
MAX_EVALUATIONS = 500_000
"""Right-hand-side evaluations one run may take: the shipped scenarios need 1e3-1e4, 1e5 at rtol 1e-10.
An input that drives the equations to extreme values would otherwise run for hours."""
MAX_GRID_POINTS = 1_000_000
"""Time points a run reports with ``every`` (8 bytes x states each)."""


def solve(
    scenario: Scenario,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    every: float | None = None,
    method: str = DEFAULT_METHOD,
    seed: int = 0,
) -> Result:
    """Integrate ``scenario`` over its follow-up.

    Parameters
    ----------
    scenario : Scenario
        What to solve.
    rtol, atol : float
        Relative and absolute tolerances (atol in each state's unit).
    every : float, optional
        Report the time course on a regular grid of this spacing [day];
        by default every solver step is reported.
    method : str
        A ``solve_ivp`` method.
    seed : int
        Seed of the mouse's chance draws (used when ``scenario.chance`` is on).

    Returns
    -------
    Result
    """
    rtol, atol = _check_options(rtol, atol, every, scenario.days)
    try:
        return _solve(scenario, rtol, atol, every, method, seed)
    except _OverBudget as exc:
        raise InputError(f"{scenario.name}: stopped: {exc}; an initial state or parameter is probably extreme "
                         "(check the changed initial states and parameters, or loosen the tolerances rtol/atol)") from None


def _solve(scenario: Scenario, rtol: float, atol: float, every: float | None, method: str, seed: int) -> Result:
    model = scenario.model
    names = model.state_names
    base = scenario.parameters.values_dict()
    y = np.array([scenario.initial[n] for n in names], dtype=float)
    crossing = _threshold_event(model.state_names, model.detection_state, base.get(model.detection_parameter))
    endpoint = _threshold_event(model.state_names, model.endpoint_state, base.get(model.endpoint_parameter))
    if endpoint is not None:
        endpoint.terminal = True
    detection_day = 0.0 if crossing is not None and crossing(0.0, y) >= 0 else None
    endpoint_day = 0.0 if endpoint is not None and endpoint(0.0, y) >= 0 else None
    events = [e for e in (crossing, endpoint) if e is not None]
    grid = None if every is None else time_grid(scenario.days, every)
    # one mouse is a batch of one: its states are the stacked states, its key the first of the seed's keys
    bone = chance.Bones.start(scenario, base, y[:, None], chance.mouse_keys(seed, scenario.name, np.zeros(1)))

    times, values, worst_negative, evaluations, restarts = [], [], 0.0, 0, 0
    budget = budgeted(model.rhs)  # one budget for the whole run, over all its segments
    cuts = scenario.schedule.breakpoints(scenario.days)
    for start, stop in zip(cuts[:-1], cuts[1:]):
        if endpoint_day is not None:
            break
        for jump in scenario.schedule.jumps_at(start):
            i = names.index(jump.state)
            y[i] = y[i] * jump.scale + jump.add
        params = scenario.schedule.parameters_at(start, base)
        begin = start
        while begin < stop and endpoint_day is None:  # a chance update that changes the bone burden restarts here
            coords = Coordinates(np.array([name in model.log_states for name in names]) & (y > 0))
            sol = solve_ivp(
                coords.wrap(bone.holding(budget)), (begin, stop), coords.to_solver(y), method=method, rtol=rtol,
                atol=atol, args=(params,), events=[coords.wrap_event(e) for e in events] or None,
                dense_output=grid is not None or bone.counting,
            )
            if not sol.success:
                raise SolverError(f"{scenario.name}: solver failed on days {begin:g}-{stop:g}: {sol.message}")
            evaluations += sol.nfev
            end = float(sol.t[-1])
            changed = bone.first_change(lambda t, sol=sol, coords=coords: coords.to_states(sol.sol(t)), begin, end,
                                        params)
            if changed is not None:
                end, _, y_end = changed
                restarts += 1
            found = {e: [t for t in ts if t <= end] for e, ts in zip(events, sol.t_events or [])}
            if detection_day is None and found.get(crossing):
                detection_day = float(found[crossing][0])
            if found.get(endpoint):
                endpoint_day = end = float(found[endpoint][0])
            kept = sol.t <= end
            worst_negative = min(worst_negative, float(sol.y[~coords.log][:, kept].min(initial=0.0)))
            if grid is None:
                times.append(sol.t[kept])
                values.append(coords.to_states(sol.y[:, kept]))
                if changed is not None:  # the state just before the chance update, then the run goes on from after it
                    times.append(np.array([end]))
                    values.append(coords.to_states(sol.sol(end))[:, None])
            else:
                last = end == cuts[-1] or end == endpoint_day  # the run's end: include a grid day falling on it
                inside = grid[(grid >= begin) & ((grid < end) | (last & (grid <= end)))]
                times.append(inside)
                values.append(coords.to_states(sol.sol(inside)) if inside.size else np.empty((len(names), 0)))
            y = y_end if changed is not None else coords.to_states(sol.y[:, -1])
            begin = end

    if worst_negative < -NEGATIVE_SLACK * atol:
        raise SolverError(f"{scenario.name}: a state went negative ({worst_negative:.3g}); tighten the tolerances (rtol/atol)")
    solver = {"method": method, "rtol": rtol, "atol": atol, "rhs_evaluations": evaluations, "segments": len(cuts) - 1}
    if scenario.chance:
        solver.update(chance=True, seed=seed, chance_restarts=restarts)
    return Result(
        scenario=scenario,
        time=np.concatenate(times),
        values=np.maximum(np.concatenate(values, axis=1), 0.0),
        metastasis_day=detection_day,
        endpoint_day=endpoint_day,
        solver=solver,
    )


def solve_ivp(*args, **kwargs):
    """``scipy.integrate.solve_ivp``, imported when a run first integrates: 'tumorsim list' starts without scipy."""
    from scipy.integrate import solve_ivp as scipy_solve_ivp

    return scipy_solve_ivp(*args, **kwargs)


@dataclass(frozen=True)
class Coordinates:
    """Which states the solver integrates as logarithms (``log`` mask over the states).

    A tumour whose equation is growth minus kill, dT/dt = T g(...), becomes
    d(ln T)/dt = g(...) in log coordinates: it can shrink to 1e-40 cells and
    grow back exactly, and it can never turn negative. Models name such
    states in ``Model.log_states``; a state that is zero stays linear.
    """

    log: np.ndarray

    def to_solver(self, y: np.ndarray) -> np.ndarray:
        u = np.array(y, dtype=float)
        u[self.log] = np.log(u[self.log])
        return u

    def to_states(self, u: np.ndarray) -> np.ndarray:
        y = np.array(u, dtype=float)
        y[self.log] = np.exp(np.minimum(y[self.log], 700.0))  # exp of < -745 underflows to 0 cells
        return y

    def wrap(self, rhs):
        if not self.log.any():
            return rhs

        def in_log(t, u, *args):
            # Below ~1e-300 exp(u) underflows; the per-capita rate of dT/dt = T g(...) is g
            # whatever T, so evaluating at the floor keeps the log-rate exact down there too.
            y = self.to_states(u)
            y[self.log] = np.maximum(y[self.log], 1e-300)
            dy = rhs(t, y, *args)
            dy[self.log] = dy[self.log] / y[self.log]
            return dy

        return in_log

    def wrap_event(self, event):
        if event is None or not self.log.any():
            return event

        def in_log(t, u, *args):
            return event(t, self.to_states(u), *args)

        in_log.direction = event.direction
        in_log.terminal = getattr(event, "terminal", False)
        return in_log


def _threshold_event(names, state, threshold):
    """An upward-crossing event of ``state`` through ``threshold`` (None if the model has no such state)."""
    if state is None:
        return None
    index = names.index(state)

    def crossing(t, y, *args):
        return y[index] - threshold

    crossing.direction = 1.0
    return crossing


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if np.isfinite(value) else None


def _check_options(rtol: float, atol: float, every: float | None, days: float) -> tuple[float, float]:
    rtol, atol = check_tolerances(rtol, atol)
    if every is not None:
        step = _number(every)
        if step is None or not 0 < step <= days:
            raise InputError(f"every (--every) must be a number > 0 and at most the follow-up ({days:g} days), "
                             f"not {every!r:.40}")
        if days / step > MAX_GRID_POINTS:
            raise InputError(f"every (--every) = {step:g} would report {days / step:,.0f} time points; at most "
                             f"{MAX_GRID_POINTS:,} (use a larger step, or the default solver steps)")
    return rtol, atol


class _OverBudget(Exception):
    """The right-hand side was evaluated more often than MAX_EVALUATIONS, or returned a non-finite value."""


def budgeted(rhs, limit: int = MAX_EVALUATIONS):
    """``rhs`` that raises _OverBudget after ``limit`` calls in all, or at once if it returns inf or NaN."""
    calls = 0

    def counted(t, y, *args):
        nonlocal calls
        calls += 1
        if calls > limit:
            raise _OverBudget(f"more than {limit:,} evaluations of the equations")
        with np.errstate(all="ignore"):  # overflow is caught just below, as one error instead of warnings
            dy = rhs(t, y, *args)
        if not np.all(np.isfinite(dy)):
            raise _OverBudget(f"the equations overflowed near day {t:.4g}")
        return dy

    return counted
