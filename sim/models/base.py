"""What a model is: named states with units, a right-hand side, an initial state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

Values = Mapping[str, "float | np.ndarray"]


@dataclass(frozen=True)
class State:
    """One state variable: its short name, unit, plain meaning and largest sensible value (in its unit)."""

    name: str
    unit: str
    meaning: str
    maximum: float = float("inf")


@dataclass(frozen=True)
class Model:
    """An ODE model over a batch of subjects.

    ``rhs(t, y, p)`` takes ``y`` with the states along the first axis (any
    batch shape after it) and ``p`` a mapping of parameter name to value
    (scalars or arrays broadcasting against the batch); it returns dy/dt of
    the same shape. It must keep the non-negative orthant invariant: every
    loss term of a state is proportional to that state.

    ``initial_state(p)`` returns the default initial value of every state,
    derived from the parameters (for example a tumour-free host's immune
    steady state), so that changing a parameter changes the start consistently.

    ``jacobian(t, y, p)``, when given, is the analytic Jacobian; the batch
    solver passes it to LSODA in banded form instead of differencing.
    """

    name: str
    title: str
    states: tuple[State, ...]
    rhs: Callable[[float, np.ndarray, Values], np.ndarray]
    initial_state: Callable[[Values], dict[str, float]]
    #: analytic d(rhs)/dy, shape (n_states, n_states, ...); None: finite differences
    jacobian: Callable[[float, np.ndarray, Values], np.ndarray] | None = None
    #: state whose upward crossing of the parameter ``detection_parameter``
    #: marks the event reported as the "metastasis day" (None: no such event)
    detection_state: str | None = None
    detection_parameter: str | None = None
    #: state whose upward crossing of ``endpoint_parameter`` ends the run as a
    #: humane endpoint (the animal is culled; None: the model has no endpoint)
    endpoint_state: str | None = None
    endpoint_parameter: str | None = None
    #: names that schedule events of this model act on
    resection_state: str | None = None
    dose_state: str | None = None
    dose_volume_parameter: str | None = None
    depletion_parameters: Mapping[str, str] = field(default_factory=dict)
    #: state that chance moves while it is small (whole cells; see ``sim.chance``), and what moves it:
    #: ``colony_rates(t, y, p)`` returns its arrivals [cells/time] and its birth and death rates per cell [1/time],
    #: the terms of its own equation; the parameter ``chance_limit`` [cells] says where the ODE takes over
    chance_state: str | None = None
    colony_rates: Callable[[float, np.ndarray, Values], tuple] | None = None
    #: states the solver integrates as logarithms (tumour states of the form dT/dt = T g(...))
    log_states: tuple[str, ...] = ()
    #: unit of time ("day"; "1" for a dimensionless model) and default follow-up in it
    time_unit: str = "day"
    default_days: float = 120.0

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    def state(self, name: str) -> State:
        return {s.name: s for s in self.states}[name]
