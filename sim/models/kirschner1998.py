"""Kirschner & Panetta (1998): effector cells, tumour and interleukin-2.

J Math Biol 37(3):235-252. Effector cells E, tumour cells T and IL-2 IL,
all as densities (cells or IL-2 units per volume, as in the paper), time in days::

    dE/dt  = c T - mu2 E + p1 E IL / (g1 + IL) + s1
    dT/dt  = r2 T (1 - b T) - a E T / (g2 + T)
    dIL/dt = p2 E T / (g3 + T) - mu3 IL + s2

c is the antigenicity of the tumour (how strongly it recruits effectors), s1
an infusion of effector cells (adoptive cellular immunotherapy) and s2 of
IL-2. Without treatment the tumour-free state is unstable: at low c the tumour
grows close to its carrying capacity 1/b, at intermediate c it oscillates
(long quiet periods and recurrences), at high c it sits at a small
equilibrium reached through damped oscillations. Values and sources are in
``parameters/kirschner1998.toml``.
"""

from __future__ import annotations

import numpy as np

from .base import Model, State, Values

#: tumour of the default run [cells]: one cell per unit volume, as in the
#: deterministic runs of Caravagna et al. (2010) with this model
INITIAL_TUMOUR = 1.0


def rhs(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """dE/dt, dT/dt, dIL/dt; ``y`` = (E, T, IL) along axis 0."""
    # Evaluated on the clipped state, so every loss term is zero on its axis.
    E, T, IL = np.maximum(y, 0.0)
    return np.array(
        [
            p["c"] * T - p["mu2"] * E + p["p1"] * E * IL / (p["g1"] + IL) + p["s1"],
            p["r2"] * T * (1.0 - p["b"] * T) - p["a"] * E * T / (p["g2"] + T),
            p["p2"] * E * T / (p["g3"] + T) - p["mu3"] * IL + p["s2"],
        ]
    )


def jacobian(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """Analytic d(rhs)/dy, shape (3, 3, ...) (row: equation, column: state)."""
    E, T, IL = np.maximum(y, 0.0)
    zero = np.zeros_like(E)
    g1, g2, g3 = p["g1"], p["g2"], p["g3"]
    return np.array(
        [
            [p["p1"] * IL / (g1 + IL) - p["mu2"], p["c"] + zero, p["p1"] * E * g1 / (g1 + IL) ** 2],
            [-p["a"] * T / (g2 + T), p["r2"] * (1.0 - 2.0 * p["b"] * T) - p["a"] * E * g2 / (g2 + T) ** 2, zero],
            [p["p2"] * T / (g3 + T), p["p2"] * E * g3 / (g3 + T) ** 2, -p["mu3"] + zero],
        ]
    )


def initial_state(p: Values) -> dict[str, float]:
    """One tumour cell in a host with no tumour-specific effectors and no IL-2 yet.

    Without a tumour the effectors and IL-2 sit at s1/mu2 and s2/mu3 (zero
    without treatment), so treatment starts from its own steady state.
    """
    return {"E": p["s1"] / p["mu2"], "T": INITIAL_TUMOUR, "IL": p["s2"] / p["mu3"]}


MODEL = Model(
    name="kirschner1998",
    title="Kirschner & Panetta (1998) effector-tumour-IL-2 model (densities, days)",
    states=(
        State("E", "cells", "activated effector cells"),
        State("T", "cells", "tumour cells"),
        State("IL", "IL-2 units", "interleukin-2 (IL-2) concentration"),
    ),
    rhs=rhs,
    jacobian=jacobian,
    initial_state=initial_state,
    log_states=("T",),
    default_days=1000.0,
)
