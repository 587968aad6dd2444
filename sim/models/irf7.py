"""The Irf7-interferon-NK/CD8 bone-metastasis model (equations only).

States (cells unless noted): primary tumour P, circulating tumour cells C,
bone metastatic burden B, NK cells N, effector CD8+ T cells L, memory CD8+
T cells M, myeloid-derived suppressor cells Q [fold of a tumour-free mouse],
type I interferon I [IU/mL] and host interferon signalling S [0-1].

    dP/dt = a_P P ln(K_P / P)                                     (Gompertz)
    dC/dt = eps P - (delta_C + k_NC z (1 + beta S) N) C
    dB/dt = theta delta_C C + g_B B (1 - B/K_B)
            - k_N z (1 + beta S) N B - z d T^lam B / (s B^lam + T^lam),   T = L + M
    dN/dt = sigma_N (1 + alpha S) - (f_N + u_N) N
    dL/dt = z j S A/(h_A + A) (n_0 + L) (1 - (L + M)/K_L) - (m_L + phi + u_L) L,   A = P + B
    dM/dt = phi L - (m_M + u_L) M
    dQ/dt = k_Q (1 + q A/(h_Q + A) - Q),   z = (1 + kappa) / (1 + kappa Q)
    dI/dt = sigma_I + pi_H A/(h_H + A) + pi_T R A - k_I I
    dS/dt = k_on H h(I) (1 - S) - k_off S,   h(I) = I / (EC50 + I)

R is the tumour's Irf7 activity and H the host's Ifnar1 (1 wild type, 0
knockout); u_N and u_L are antibody depletion rates set by the schedule.
Naive precursors n_0 are recruited and expand only with antigen and
interferon signalling; effectors contract fast and a fraction becomes
long-lived memory, which still kills (effector-memory cells). A large tumour
burden expands MDSCs, which blunt NK and CD8 function by the factor z (1 in
a tumour-free mouse) and fade over weeks once surgery removes most of the
burden. The host
senses tumour cells (pi_H, for example DNA sensed by cGAS-STING in dendritic
cells) whatever the tumour's Irf7. The CD8 kill is de Pillis et al. (2005)'s
ratio-dependent term D B with D = d (T/B)^lam / (s + (T/B)^lam), rewritten so
that it stays finite as B -> 0.
See docs/model.md for the reasoning and parameters/irf7.toml for the values.
"""

from __future__ import annotations

import numpy as np

from .base import Model, State, Values

_TINY = 1e-300


def _saturation(x, half):
    """x / (half + x) and its derivative in x."""
    return x / (half + x), half / (half + x) ** 2


def _alive(cells):
    """How much of its growth a population has: 1 from one cell up, 0 below half a cell (gone: it cannot regrow).

    Between half a cell and one the switch is a smooth step (3u^2 - 2u^3 of u = 2 cells - 1), and its slope is
    continuous, because a step the vectorized solver must cross in every mouse at its own time slows it fifty-fold
    (measured); no count of whole cells falls inside.
    """
    u = np.where(cells >= 1.0, 1.0, np.where(cells > 0.5, 2.0 * cells - 1.0, 0.0))
    return u * u * (3.0 - 2.0 * u)


def _alive_slope(cells):
    """d(_alive)/d(cells) [1/cell]."""
    u = np.where(cells >= 1.0, 1.0, np.where(cells > 0.5, 2.0 * cells - 1.0, 0.0))
    return 12.0 * u * (1.0 - u)


def _ifn_help(S, p):
    """Share of the full CD8 expansion rate that interferon signalling ``S`` allows [1]: some priming is left
    without it (``cd8_priming_without_ifn``), the rest needs it as the 'third signal'."""
    floor = p["cd8_priming_without_ifn"]
    return floor + (1.0 - floor) * S


def _bone_rates(C, B, N, L, M, Q, S, p):
    """What acts on bone tumour cells: arrivals [cells/day] and, per cell, growth, NK and CD8 killing [1/day].

    The CD8 kill per cell is de Pillis' d T^lam / (s B^lam + T^lam), divided through by T^lam: one power
    instead of two. Both counts are floored at 1e-300 cells, so the ratio and its derivatives stay finite
    when either is zero (an empty bone is held at exactly 0 cells while chance decides): without CD8 cells
    the ratio is huge and the kill 0 for any B of at least ~1e-250 cells; at B = T = 0 it is d / (s + 1),
    which ``colony_rates`` makes 0 (no killers) and ``rhs`` multiplies by B = 0.
    """
    suppression = (1.0 + p["mdsc_suppression"]) / (1.0 + p["mdsc_suppression"] * Q)
    arrivals = p["bone_seeding_fraction"] * p["ctc_clearance"] * C
    growth = p["bone_growth_rate"] * (1.0 - B / p["bone_capacity"])
    nk_kill = p["nk_kill"] * suppression * (1.0 + p["nk_ifn_kill_boost"] * S) * N
    with np.errstate(over="ignore"):
        tumour_per_cd8 = np.maximum(B, _TINY) / np.maximum(L + M, _TINY)
    cd8_kill = (suppression * p["cd8_kill_max"]) / (p["cd8_kill_steepness"] * tumour_per_cd8 ** p["cd8_kill_exponent"] + 1.0)
    return arrivals, growth, nk_kill, cd8_kill


def colony_rates(t: float, y: np.ndarray, p: Values) -> tuple:
    """Bone arrivals [cells/day], and growth and death per bone tumour cell [1/day], at state ``y`` (as ``rhs``)."""
    P, C, B, N, L, M, Q, I, S = np.maximum(y, 0.0)
    arrivals, growth, nk_kill, cd8_kill = _bone_rates(C, B, N, L, M, Q, S, p)
    return arrivals, growth, nk_kill + np.where(L + M > 0.0, cd8_kill, 0.0)


def rhs(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """dy/dt of the Irf7 model; ``y`` has shape (9, ...) in the order of STATES."""
    # Solver trial points can dip just below zero; evaluating on the clipped
    # state keeps every loss term zero there, so the orthant stays invariant.
    P, C, B, N, L, M, Q, I, S = np.maximum(y, 0.0)
    suppression = (1.0 + p["mdsc_suppression"]) / (1.0 + p["mdsc_suppression"] * Q)
    antigen = P + B
    cytotoxic = L + M

    growth_primary = _alive(P) * p["primary_growth_rate"] * P * (
        np.log(p["primary_capacity"]) - np.log(np.maximum(P, _TINY)))
    nk_boost = suppression * (1.0 + p["nk_ifn_kill_boost"] * S)
    ctc_loss = (p["ctc_clearance"] + p["nk_ctc_kill"] * nk_boost * N) * C
    arrivals, bone_growth, nk_kill, cd8_kill = _bone_rates(C, B, N, L, M, Q, S, p)
    priming = suppression * p["cd8_expansion"] * _ifn_help(S, p) * _saturation(antigen, p["cd8_antigen_half"])[0]
    # no room left once effector plus memory cells fill the capacity (never a loss term)
    cd8_expansion = priming * (p["cd8_naive"] + L) * np.maximum(1.0 - cytotoxic / p["cd8_capacity"], 0.0)
    host_sensing = p["host_ifn_production"] * _saturation(antigen, p["host_sensing_half"])[0]
    receptor_drive = p["signal_on"] * p["ifnar"] * I / (p["ifn_ec50"] + I)

    return np.array(
        [
            growth_primary,
            p["shedding_rate"] * P - ctc_loss,
            arrivals + (_alive(B) * bone_growth - nk_kill - cd8_kill) * B,
            p["nk_supply"] * (1.0 + p["nk_ifn_supply_boost"] * S) - (p["nk_death"] + p["nk_depletion_rate"]) * N,
            cd8_expansion - (p["cd8_death"] + p["cd8_memory_formation"] + p["cd8_depletion_rate"]) * L,
            p["cd8_memory_formation"] * L - (p["cd8_memory_death"] + p["cd8_depletion_rate"]) * M,
            p["mdsc_turnover"] * (1.0 + p["mdsc_expansion"] * _saturation(antigen, p["mdsc_half"])[0] - Q),
            p["basal_ifn_production"] + host_sensing + p["tumor_ifn_production"] * p["irf7_activity"] * antigen
            - p["ifn_clearance"] * I,
            receptor_drive * (1.0 - S) - p["signal_off"] * S,
        ]
    )


def jacobian(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """Analytic Jacobian d(dy/dt)/dy of ``rhs``, shape (9, 9, ...) (row: equation, column: state)."""
    P, C, B, N, L, M, Q, I, S = np.maximum(y, 0.0)
    zero = np.zeros_like(P)
    J = np.zeros((9, 9) + np.shape(P))
    iP, iC, iB, iN, iL, iM, iQ, iI, iS = range(9)
    kappa = p["mdsc_suppression"]
    suppression = (1.0 + kappa) / (1.0 + kappa * Q)
    suppression_slope = -kappa * suppression / (1.0 + kappa * Q)  # d(suppression)/dQ
    ifn_boost = 1.0 + p["nk_ifn_kill_boost"] * S
    nk_boost = suppression * ifn_boost
    antigen = P + B
    cytotoxic = L + M

    log_room = np.log(p["primary_capacity"]) - np.log(np.maximum(P, _TINY))
    J[iP, iP] = p["primary_growth_rate"] * (_alive(P) * (log_room - 1.0) + _alive_slope(P) * P * log_room)

    ctc_kill_per_nk = p["nk_ctc_kill"] * C
    J[iC, iP] = p["shedding_rate"]
    J[iC, iC] = -(p["ctc_clearance"] + p["nk_ctc_kill"] * nk_boost * N)
    J[iC, iN] = -ctc_kill_per_nk * nk_boost
    J[iC, iQ] = -ctc_kill_per_nk * suppression_slope * ifn_boost * N
    J[iC, iS] = -ctc_kill_per_nk * suppression * p["nk_ifn_kill_boost"] * N

    lam, steep = p["cd8_kill_exponent"], p["cd8_kill_steepness"]
    cd8_power, bone_power = cytotoxic**lam, B**lam
    denominator = np.maximum(steep * bone_power + cd8_power, _TINY)
    kill_max = p["cd8_kill_max"]
    unsuppressed_cd8_kill = kill_max * B * cd8_power / denominator
    kill_per_cd8 = -suppression * np.where(
        cytotoxic > 0,
        kill_max * B * lam * cd8_power / np.maximum(cytotoxic, _TINY) * steep * bone_power / denominator**2,
        zero,
    )
    bone_nk_kill = p["nk_kill"] * N * B
    J[iB, iC] = p["bone_seeding_fraction"] * p["ctc_clearance"]
    J[iB, iB] = (
        p["bone_growth_rate"] * (_alive(B) * (1.0 - 2.0 * B / p["bone_capacity"])
                                 + _alive_slope(B) * B * (1.0 - B / p["bone_capacity"]))
        - p["nk_kill"] * nk_boost * N
        - suppression * kill_max * cd8_power * (denominator - steep * lam * bone_power) / denominator**2
    )
    J[iB, iN] = -p["nk_kill"] * nk_boost * B
    J[iB, iL] = kill_per_cd8
    J[iB, iM] = kill_per_cd8
    J[iB, iQ] = -suppression_slope * (ifn_boost * bone_nk_kill + unsuppressed_cd8_kill)
    J[iB, iS] = -suppression * p["nk_ifn_kill_boost"] * bone_nk_kill

    J[iN, iN] = -(p["nk_death"] + p["nk_depletion_rate"]) + zero
    J[iN, iS] = p["nk_supply"] * p["nk_ifn_supply_boost"] + zero

    stimulation, stimulation_slope = _saturation(antigen, p["cd8_antigen_half"])
    expanding = p["cd8_naive"] + L
    room = np.maximum(1.0 - cytotoxic / p["cd8_capacity"], 0.0)
    crowding = np.where(room > 0, expanding / p["cd8_capacity"], 0.0)  # -d(expanding * room)/dL from the room
    rate = p["cd8_expansion"]
    helped = rate * _ifn_help(S, p)
    J[iL, iP] = suppression * helped * stimulation_slope * expanding * room
    J[iL, iB] = J[iL, iP]
    J[iL, iL] = suppression * helped * stimulation * (room - crowding) - (
        p["cd8_death"] + p["cd8_memory_formation"] + p["cd8_depletion_rate"]
    )
    J[iL, iM] = -suppression * helped * stimulation * crowding
    J[iL, iQ] = suppression_slope * helped * stimulation * expanding * room
    J[iL, iS] = suppression * rate * (1.0 - p["cd8_priming_without_ifn"]) * stimulation * expanding * room

    J[iM, iL] = p["cd8_memory_formation"] + zero
    J[iM, iM] = -(p["cd8_memory_death"] + p["cd8_depletion_rate"]) + zero

    J[iQ, iP] = p["mdsc_turnover"] * p["mdsc_expansion"] * _saturation(antigen, p["mdsc_half"])[1]
    J[iQ, iB] = J[iQ, iP]
    J[iQ, iQ] = -p["mdsc_turnover"] + zero

    sensing_slope = p["host_ifn_production"] * _saturation(antigen, p["host_sensing_half"])[1]
    J[iI, iP] = sensing_slope + p["tumor_ifn_production"] * p["irf7_activity"]
    J[iI, iB] = J[iI, iP]
    J[iI, iI] = -p["ifn_clearance"] + zero

    J[iS, iI] = p["signal_on"] * p["ifnar"] * p["ifn_ec50"] / (p["ifn_ec50"] + I) ** 2 * (1.0 - S)
    J[iS, iS] = -p["signal_on"] * p["ifnar"] * I / (p["ifn_ec50"] + I) - p["signal_off"]
    return J


def initial_state(p: Values) -> dict[str, float]:
    """Tumour cells just injected into a tumour-free host at immune steady state.

    The immune states start where they sit without a tumour: no tumour-specific
    effector or memory cells yet, MDSCs at their normal level, and the tonic interferon signalling of a
    wild-type host (none in an Ifnar1-/- host). Works on scalars or, for a
    batch of mice, on arrays of parameter values.
    """
    ifn = p["basal_ifn_production"] / p["ifn_clearance"]
    drive = p["signal_on"] * p["ifnar"] * ifn / (p["ifn_ec50"] + ifn)
    signalling = drive / (drive + p["signal_off"])
    return {
        "P": p["inoculum"],
        "C": 0.0,
        "B": 0.0,
        "N": p["nk_supply"] * (1.0 + p["nk_ifn_supply_boost"] * signalling) / (p["nk_death"] + p["nk_depletion_rate"]),
        "L": 0.0,
        "M": 0.0,
        "Q": 1.0,
        "I": ifn,
        "S": signalling,
    }


_MOUSE_CELLS = 1e12
"""More cells than a 20 g mouse holds (about 2e10): a starting value above it is a typo, not biology."""

STATES = (
    State("P", "cells", "primary tumour", _MOUSE_CELLS),
    State("C", "cells", "circulating tumour cells", _MOUSE_CELLS),
    State("B", "cells", "bone metastatic burden", _MOUSE_CELLS),
    State("N", "cells", "NK cells", _MOUSE_CELLS),
    State("L", "cells", "tumour-specific effector CD8+ T cells", _MOUSE_CELLS),
    State("M", "cells", "tumour-specific memory CD8+ T cells", _MOUSE_CELLS),
    State("Q", "1", "myeloid-derived suppressor cells, fold of a tumour-free mouse", 1e3),
    State("I", "IU/mL", "type I interferon (host-made, tumour-made and dosed)", 1e9),
    State("S", "1", "interferon signalling in host immune cells (0-1)", 1.0),
)

MODEL = Model(
    name="irf7",
    title="Irf7-interferon-NK/CD8 model of spontaneous bone metastasis (tumorsim)",
    states=STATES,
    rhs=rhs,
    jacobian=jacobian,
    initial_state=initial_state,
    detection_state="B",
    detection_parameter="detection_threshold",
    endpoint_state="P",
    endpoint_parameter="endpoint_burden",
    resection_state="P",
    dose_state="I",
    dose_volume_parameter="ifn_volume",
    depletion_parameters={"nk": "nk_depletion_rate", "cd8": "cd8_depletion_rate"},
    chance_state="B",
    colony_rates=colony_rates,
)
