"""de Pillis, Radunskaya & Wiseman (2005): NK and CD8+ T cells against a tumour.

Cancer Res 65(17):7950-7958, mouse parameters fitted to Diefenbach et al.
(2001, Nature 413:165): RMA lymphoma with or without the NKG2D ligands
Rae1-beta or H60. States in cells, time in days::

    dT/dt = a T (1 - b T) - c N T - D T
    dN/dt = sigma - f N + g T^2 / (h + T^2) N - p N T
    dL/dt = -m L + j (D T)^2 / (k + (D T)^2) L - q L T + r N T

    D = d (L/T)^lambda / (s + (L/T)^lambda)

T: tumour cells, N: NK cells, L: tumour-specific CD8+ T cells. The CD8 kill
D T is ratio-dependent (it saturates in the effector:target ratio L/T).
Written as the paper does, D T is 0/0 at T = 0; here it is evaluated as

    D T = d T L^lambda / (s T^lambda + L^lambda),

the same function for T > 0, which is finite and non-negative everywhere,
at most d T and so zero at T = 0 (and at L = 0). The CD8 recruitment term
uses the same D T. The four fitted ligand variants are presets of
``parameters/depillis2005.toml``.
"""

from __future__ import annotations

import numpy as np

from .base import Model, State, Values

_TINY = 1e-300
#: default tumour challenge [cells]; chosen: the paper's doses could not be checked, and the
#: outcome (nn grows, ll is rejected) is the same from 1e4 to 1e7 cells
CHALLENGE = 1e6


def cd8_kill(T: np.ndarray, L: np.ndarray, p: Values) -> np.ndarray:
    """D T [cells/day]: tumour cells killed by CD8+ T cells, finite and >= 0 for all T, L >= 0."""
    lam = p["lambda"]
    cd8_power = L**lam
    denominator = p["s"] * T**lam + cd8_power
    fraction = np.where(denominator > 0.0, cd8_power / np.maximum(denominator, _TINY), 0.0)
    return p["d"] * T * fraction


def rhs(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """dT/dt, dN/dt, dL/dt [cells/day]; ``y`` = (T, N, L) along axis 0."""
    # Evaluated on the clipped state, so every loss term is zero on its axis.
    T, N, L = np.maximum(y, 0.0)
    DT = cd8_kill(T, L, p)
    return np.array(
        [
            p["a"] * T * (1.0 - p["b"] * T) - p["c"] * N * T - DT,
            p["sigma"] - p["f"] * N + p["g"] * T**2 / (p["h"] + T**2) * N - p["p"] * N * T,
            -p["m"] * L + p["j"] * DT**2 / (p["k"] + DT**2) * L - p["q"] * L * T + p["r"] * N * T,
        ]
    )


def initial_state(p: Values) -> dict[str, float]:
    """A tumour challenge of 1e6 cells into a tumour-free mouse.

    NK cells sit at their tumour-free steady state sigma/f; tumour-specific
    CD8+ T cells start at zero and are primed by NK-tumour encounters (r N T).
    """
    return {"T": CHALLENGE, "N": p["sigma"] / p["f"], "L": 0.0}


MODEL = Model(
    name="depillis2005",
    title="de Pillis, Radunskaya & Wiseman (2005) tumour-NK-CD8 model, mouse (cells, days)",
    states=(
        State("T", "cells", "tumour cells"),
        State("N", "cells", "NK cells"),
        State("L", "cells", "tumour-specific CD8+ T cells"),
    ),
    rhs=rhs,
    initial_state=initial_state,
    log_states=("T",),
    default_days=60.0,
)
