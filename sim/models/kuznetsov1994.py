"""Kuznetsov, Makalkin, Taylor & Perelson (1994): effector cells against an immunogenic tumour.

Bull Math Biol 56:295-321 (BCL1 lymphoma in the spleen of chimeric mice).
Two models, the same equations in two sets of units.

Dimensional (``kuznetsov1994``; cells and days)::

    dE/dt = s + p E T / (g + T) - m E T - d E
    dT/dt = a T (1 - b T) - n E T

E: effector (cytotoxic) cells, T: tumour cells. s is the constant supply of
effectors, p E T/(g + T) their tumour-driven recruitment, m E T their
inactivation by tumour cells and d E their death; a T (1 - b T) is logistic
tumour growth and n E T the kill.

Dimensionless (``kuznetsov1994-dimensionless``)::

    dx/dtau = sigma + rho x y / (eta + y) - mu x y - delta x
    dy/dtau = alpha y (1 - beta y) - x y

with x = E/E0, y = T/T0, tau = n T0 t and E0 = T0 = 1e6 cells, so that
sigma = s/(n E0 T0), rho = p/(n T0), eta = g/T0, mu = m/n, delta = d/(n T0),
alpha = a/(n T0), beta = b T0. One unit of tau is 1/(n T0) = 9.08 days.

The model is bistable: a small tumour settles into a dormant state held by
the effectors, a large one escapes to near its carrying capacity 1/b, and a
saddle between them separates the two basins. Values and sources are in
``parameters/kuznetsov1994.toml`` and ``parameters/kuznetsov1994-dimensionless.toml``.
"""

from __future__ import annotations

import numpy as np

from .base import Model, State, Values

#: dimensional scales of the dimensionless model [cells]
E0 = 1e6
T0 = 1e6
#: initial tumour of the default run [cells]: the tumour of BioModels BIOMD0000000762
INITIAL_TUMOUR = 5e6


def rhs(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """dE/dt and dT/dt [cells/day]; ``y`` = (E, T) along axis 0."""
    # Evaluated on the clipped state: every loss term vanishes on its axis,
    # so the non-negative orthant stays invariant.
    E, T = np.maximum(y, 0.0)
    return np.array(
        [
            p["s"] + p["p"] * E * T / (p["g"] + T) - p["m"] * E * T - p["d"] * E,
            p["a"] * T * (1.0 - p["b"] * T) - p["n"] * E * T,
        ]
    )


def jacobian(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """Analytic d(rhs)/dy, shape (2, 2, ...) (row: equation, column: state)."""
    E, T = np.maximum(y, 0.0)
    g = p["g"]
    return np.array(
        [
            [p["p"] * T / (g + T) - p["m"] * T - p["d"], p["p"] * E * g / (g + T) ** 2 - p["m"] * E],
            [-p["n"] * T, p["a"] * (1.0 - 2.0 * p["b"] * T) - p["n"] * E],
        ]
    )


def initial_state(p: Values) -> dict[str, float]:
    """Effectors at the tumour-free steady state s/d; a tumour of 5e6 cells.

    The tumour is the initial condition of BioModels BIOMD0000000762 (which
    rounds the effectors to 3.2e5 = s/d): small enough to end dormant.
    """
    return {"E": p["s"] / p["d"], "T": INITIAL_TUMOUR}


def rhs_dimensionless(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """dx/dtau and dy/dtau; ``y`` = (x, y) along axis 0."""
    x, tumour = np.maximum(y, 0.0)
    return np.array(
        [
            p["sigma"] + p["rho"] * x * tumour / (p["eta"] + tumour) - p["mu"] * x * tumour - p["delta"] * x,
            p["alpha"] * tumour * (1.0 - p["beta"] * tumour) - x * tumour,
        ]
    )


def jacobian_dimensionless(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """Analytic d(rhs)/dy of the dimensionless model, shape (2, 2, ...)."""
    x, tumour = np.maximum(y, 0.0)
    eta = p["eta"]
    return np.array(
        [
            [
                p["rho"] * tumour / (eta + tumour) - p["mu"] * tumour - p["delta"],
                p["rho"] * x * eta / (eta + tumour) ** 2 - p["mu"] * x,
            ],
            [-tumour, p["alpha"] * (1.0 - 2.0 * p["beta"] * tumour) - x],
        ]
    )


def initial_state_dimensionless(p: Values) -> dict[str, float]:
    """Effectors at the tumour-free steady state sigma/delta; the same 5e6-cell tumour (y = 5)."""
    return {"x": p["sigma"] / p["delta"], "y": INITIAL_TUMOUR / T0}


MODEL = Model(
    name="kuznetsov1994",
    title="Kuznetsov et al. (1994) effector-tumour model, dimensional (cells, days)",
    states=(
        State("E", "cells", "effector (cytotoxic) cells"),
        State("T", "cells", "tumour cells"),
    ),
    rhs=rhs,
    jacobian=jacobian,
    initial_state=initial_state,
    log_states=("T",),
    default_days=1000.0,
)

MODEL_DIMENSIONLESS = Model(
    name="kuznetsov1994-dimensionless",
    title="Kuznetsov et al. (1994) effector-tumour model, dimensionless (x = E/1e6, y = T/1e6, tau = n 1e6 t)",
    states=(
        State("x", "1", "effector cells / 1e6"),
        State("y", "1", "tumour cells / 1e6"),
    ),
    rhs=rhs_dimensionless,
    jacobian=jacobian_dimensionless,
    initial_state=initial_state_dimensionless,
    log_states=("y",),
    time_unit="1",
    default_days=110.0,
)
