"""Phase portraits of two-state models: vector field, nullclines, equilibria,
separatrices and trajectories, computed here and drawn by ``sim.plotting``.

The separatrix between two basins is the stable manifold of a saddle: start a
hair's breadth from the saddle along its stable eigenvector and integrate
backwards in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .equilibria import Equilibrium, find_equilibria, jacobian
from .models import Model


@dataclass(frozen=True)
class Trajectory:
    """A solution from ``path[:, 0]`` [state units], with the equilibrium it ends near."""

    path: np.ndarray
    fate: Equilibrium | None


@dataclass(frozen=True)
class PhasePortrait:
    """Everything a phase-portrait figure shows, in the model's state units.

    ``x_values`` and ``y_values`` are the grid axes; ``velocity`` holds the
    two components of the vector field on that grid, shape (2, ny, nx).
    """

    model: Model
    x_values: np.ndarray
    y_values: np.ndarray
    velocity: np.ndarray
    equilibria: list[Equilibrium]
    separatrices: list[np.ndarray]
    trajectories: list[Trajectory]
    y_log: bool


def phase_portrait(
    model: Model,
    params: dict[str, float],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    starts: list[tuple[float, float]],
    duration: float,
    y_log: bool = True,
    resolution: int = 160,
) -> PhasePortrait:
    """Compute a phase portrait of a two-state model.

    Parameters
    ----------
    x_range, y_range : (low, high)
        Window in the units of the first and second state (``y_range`` spaced
        logarithmically if ``y_log``).
    starts : list of (x, y)
        Initial points of the trajectories to draw.
    duration : float
        How long to follow each trajectory, and the longest backward run for a separatrix.
    """
    if len(model.states) != 2:
        raise ValueError(f"a phase portrait needs a two-state model; {model.name} has {len(model.states)}")
    x_values = np.linspace(*x_range, resolution)
    y_values = np.geomspace(*y_range, resolution) if y_log else np.linspace(*y_range, resolution)
    grid = np.array(np.meshgrid(x_values, y_values))
    velocity = model.rhs(0.0, grid, params)
    equilibria = find_equilibria(model, params)
    box = (x_range, y_range)
    return PhasePortrait(
        model=model,
        x_values=x_values,
        y_values=y_values,
        velocity=velocity,
        equilibria=equilibria,
        separatrices=[path for e in _interior_saddles(equilibria) for path in _stable_manifold(model, params, e, duration, box)],
        trajectories=[_trajectory(model, params, np.array(start, float), duration, equilibria) for start in starts],
        y_log=y_log,
    )


def _interior_saddles(equilibria: list[Equilibrium]) -> list[Equilibrium]:
    """Saddles off the axes: their stable manifolds separate basins inside the orthant."""
    return [e for e in equilibria if e.type == "saddle" and all(v > 0 for v in e.state.values())]


def _trajectory(model: Model, params, start: np.ndarray, duration: float, equilibria: list[Equilibrium]) -> Trajectory:
    solution = solve_ivp(model.rhs, (0.0, duration), start, args=(params,), method="LSODA", rtol=1e-8, atol=1e-8,
                         dense_output=True)
    path = solution.sol(np.linspace(0.0, duration, 4000))
    end = path[:, -1]
    stable = [e for e in equilibria if e.type.startswith("stable")]
    fate = min(stable, key=lambda e: _log_distance(end, np.array(list(e.state.values()))), default=None)
    return Trajectory(path=path, fate=fate)


def _log_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(np.abs(np.log(np.maximum(a, 1e-12)) - np.log(np.maximum(b, 1e-12)))))


def _stable_manifold(model: Model, params, saddle: Equilibrium, duration: float, box) -> list[np.ndarray]:
    """Both branches of the saddle's stable manifold, traced backwards in time inside ``box``."""
    point = np.array(list(saddle.state.values()))
    values, vectors = np.linalg.eig(jacobian(model, point, params))
    direction = np.real(vectors[:, np.argmin(values.real)])
    direction = direction / np.linalg.norm(direction / np.maximum(point, 1.0))  # a relative step of 1
    (x_low, x_high), (y_low, y_high) = box

    def leaves_box(t, y, *args):
        return min(y[0] - x_low * 0.999, x_high * 1.001 - y[0], y[1] - y_low * 0.999, y_high * 1.001 - y[1])

    leaves_box.terminal = True
    branches = []
    for sign in (1.0, -1.0):
        start = point + sign * 1e-6 * direction
        solution = solve_ivp(lambda t, y, p: -model.rhs(t, y, p), (0.0, duration), start, args=(params,),
                             method="LSODA", rtol=1e-9, atol=1e-9, events=leaves_box)
        branches.append(np.column_stack([point, solution.y]))
    return branches
