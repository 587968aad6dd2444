"""Equilibria of a model and their stability, found numerically.

Every equilibrium lies on a face of the non-negative orthant: some states
zero, the others positive. For each face, the positive states are solved in
log coordinates, where the equations become per-capita rates,
``F_i(y) / y_i = 0``, well scaled whether a state counts 1 or 1e9 cells.
Many starting points spread log-uniformly over ``SEARCH_RANGE`` feed a
Newton-type solver (MINPACK's hybrid method); solutions that also zero the
full vector field are kept once each. The Jacobian's eigenvalues give the
type: a node or focus, stable or unstable, or a saddle.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import root
from scipy.stats import qmc

from .errors import InputError
from .models import MODELS, Model

SEARCH_RANGE = (1e-6, 1e12)
"""Starting values are drawn between these, log-uniformly, in each state's unit."""
STARTS_PER_FACE = 512
_SOBOL_RNG = "rng" in qmc.Sobol.__init__.__code__.co_varnames  # keyword renamed in SciPy 1.15
TOLERANCE = 1e-9
MAX_STATES = 4
"""Largest model searched: every face of the orthant (2^n of them) gets its own starts, so the search
is for the classic models of two to three states; a nine-state model would take minutes."""
"""A point is an equilibrium when every per-capita rate (or, for a zero
state, its rate relative to the largest term) is below this."""


@dataclass(frozen=True)
class Equilibrium:
    """One equilibrium: the state, the Jacobian's eigenvalues and the resulting type."""

    state: dict[str, float]
    eigenvalues: np.ndarray
    type: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "eigenvalues": [{"real": float(v.real), "imag": float(v.imag)} for v in self.eigenvalues],
            "type": self.type,
        }


def jacobian(model: Model, y: np.ndarray, params: dict[str, float]) -> np.ndarray:
    """The model's Jacobian at ``y``: analytic if the model has one, else central differences."""
    if model.jacobian is not None:
        return np.asarray(model.jacobian(0.0, y, params), float)
    J = np.empty((len(y), len(y)))
    for j in range(len(y)):
        step = 1e-6 * max(abs(y[j]), 1e-6)
        up, down = y.copy(), y.copy()
        up[j] += step
        down[j] = max(down[j] - step, 0.0)
        J[:, j] = (model.rhs(0.0, up, params) - model.rhs(0.0, down, params)) / (up[j] - down[j])
    return J


def classify(eigenvalues: np.ndarray, tolerance: float = 1e-9) -> str:
    """Name an equilibrium from its eigenvalues (tolerance relative to the largest)."""
    scale = max(np.max(np.abs(eigenvalues)), 1e-300)
    real = eigenvalues.real / scale
    rotating = bool(np.any(np.abs(eigenvalues.imag) / scale > tolerance))
    if np.any(np.abs(real) <= tolerance):
        return "non-hyperbolic (centre or degenerate)"
    if np.all(real < 0):
        return "stable focus" if rotating else "stable node"
    if np.all(real > 0):
        return "unstable focus" if rotating else "unstable node"
    return "saddle-focus" if rotating else "saddle"


def _residual(model: Model, y: np.ndarray, params: dict[str, float]) -> float:
    rates = model.rhs(0.0, y, params)
    return float(np.max(np.abs(rates) / np.maximum(np.abs(y), 1.0)))


def find_equilibria(model: Model, params: dict[str, float], seed: int = 0) -> list[Equilibrium]:
    """All equilibria of ``model`` with ``params`` in the non-negative orthant, tumour-free first.

    Parameters
    ----------
    model : Model
    params : dict
        Parameter values, in their units.
    seed : int
        Seed of the starting points (the search is deterministic for a given seed).
    """
    n = len(model.states)
    if n > MAX_STATES:
        small = [name for name, m in MODELS.items() if len(m.states) <= MAX_STATES]
        raise InputError(f"equilibria: model '{model.name}' has {n} states; the search covers every face of the "
                         f"state space and is meant for models of at most {MAX_STATES} states: {', '.join(small)}")
    low, high = np.log(SEARCH_RANGE)
    found: list[np.ndarray] = []
    for zero in itertools.chain.from_iterable(itertools.combinations(range(n), k) for k in range(n)):
        free = [i for i in range(n) if i not in zero]
        # a scrambled Sobol sequence covers the log-space box more evenly than independent draws
        sobol = qmc.Sobol(len(free), scramble=True, rng=np.random.default_rng(seed)) if _SOBOL_RNG else (
            qmc.Sobol(len(free), scramble=True, seed=seed))
        for start in low + (high - low) * sobol.random(STARTS_PER_FACE):
            candidate = _solve_face(model, params, free, start)
            if candidate is not None and not any(_same(candidate, other) for other in found):
                found.append(candidate)
    origin = np.zeros(n)
    if _residual(model, origin, params) < TOLERANCE:
        found.append(origin)
    found.sort(key=lambda y: tuple(y[::-1]))
    result = []
    for y in found:
        eigenvalues = np.linalg.eigvals(jacobian(model, y, params))
        eigenvalues = eigenvalues[np.lexsort((eigenvalues.imag, eigenvalues.real))]
        result.append(Equilibrium(dict(zip(model.state_names, map(float, y))), eigenvalues, classify(eigenvalues)))
    return result


def _solve_face(model: Model, params: dict[str, float], free: list[int], log_start: np.ndarray) -> np.ndarray | None:
    n = len(model.states)

    def state(log_values: np.ndarray) -> np.ndarray:
        y = np.zeros(n)
        y[free] = np.exp(np.clip(log_values, -700, 700))
        return y

    def per_capita(log_values: np.ndarray) -> np.ndarray:
        y = state(log_values)
        return model.rhs(0.0, y, params)[free] / y[free]

    with np.errstate(all="ignore"):
        solution = root(per_capita, log_start, method="hybr")
    if not solution.success or not np.all(np.isfinite(solution.x)):
        return None
    y = state(solution.x)
    if np.any(y[free] < 1e-100):  # really a point of a lower face, where this state is exactly zero
        return None
    return y if np.all(np.isfinite(y)) and _residual(model, y, params) < TOLERANCE else None


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-6 * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-3)))
