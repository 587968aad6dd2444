"""The Irf7–interferon–NK/CD8 bone-metastasis model (equations only).

States (cells unless noted): primary tumour P, circulating tumour cells C,
bone metastatic burden B, NK cells N, tumour-specific CD8+ T cells L,
type I interferon I [IU/mL] and host interferon signalling S [0–1].

    dP/dt = a_P P ln(K_P / P)                                     (Gompertz)
    dC/dt = eps P - (delta_C + k_NC (1 + beta S) N) C
    dB/dt = theta delta_C C + g_B B (1 - B/K_B)
            - k_N (1 + beta S) N B - d L^lam B / (s B^lam + L^lam)
    dN/dt = sigma_N (1 + alpha S) - f_N N - u_N N
    dL/dt = sigma_L - m_L L + j S A/(h_A + A) L (1 - L/K_L) - u_L L,  A = P + B
    dI/dt = sigma_I + pi R A - k_I I
    dS/dt = k_on H h(I) (1 - S) - k_off S,   h(I) = I / (EC50 + I)

R is the tumour's Irf7 activity and H the host's Ifnar1 (1 wild type, 0
knockout); u_N and u_L are antibody depletion rates set by the schedule.
The CD8 kill is de Pillis et al. (2005)'s ratio-dependent term D B with
D = d (L/B)^lam / (s + (L/B)^lam), rewritten so that it stays finite as B -> 0.
See docs/model.md for the reasoning and parameters/irf7.toml for the values.
"""

from __future__ import annotations

import numpy as np

from .base import Model, State, Values

_TINY = 1e-300


def rhs(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """dy/dt of the Irf7 model; ``y`` has shape (7, ...) in the order of STATES."""
    # Solver trial points can dip just below zero; evaluating on the clipped
    # state keeps every loss term zero there, so the orthant stays invariant.
    P, C, B, N, L, I, S = np.maximum(y, 0.0)
    nk_boost = 1.0 + p["nk_ifn_kill_boost"] * S
    antigen = P + B

    growth_primary = p["primary_growth_rate"] * P * (np.log(p["primary_capacity"]) - np.log(np.maximum(P, _TINY)))
    ctc_loss = (p["ctc_clearance"] + p["nk_ctc_kill"] * nk_boost * N) * C
    seeding = p["bone_seeding_fraction"] * p["ctc_clearance"] * C
    bone_growth = p["bone_growth_rate"] * B * (1.0 - B / p["bone_capacity"])
    nk_kill = p["nk_kill"] * nk_boost * N * B
    # d B L^lam / (s B^lam + L^lam), divided through by L^lam: one power instead of two;
    # it is 0 when B = 0 and tends to 0 as L -> 0 (B/L overflowing to inf gives exactly 0).
    with np.errstate(over="ignore", divide="ignore"):
        tumour_per_cd8 = B / np.maximum(L, _TINY)
        cd8_kill = p["cd8_kill_max"] * B / (p["cd8_kill_steepness"] * tumour_per_cd8 ** p["cd8_kill_exponent"] + 1.0)
    cd8_expansion = (
        p["cd8_expansion"] * S * antigen / (p["cd8_antigen_half"] + antigen) * L * (1.0 - L / p["cd8_capacity"])
    )
    receptor_drive = p["signal_on"] * p["ifnar"] * I / (p["ifn_ec50"] + I)

    return np.array(
        [
            growth_primary,
            p["shedding_rate"] * P - ctc_loss,
            seeding + bone_growth - nk_kill - cd8_kill,
            p["nk_supply"] * (1.0 + p["nk_ifn_supply_boost"] * S) - (p["nk_death"] + p["nk_depletion_rate"]) * N,
            p["cd8_supply"] + cd8_expansion - (p["cd8_death"] + p["cd8_depletion_rate"]) * L,
            p["basal_ifn_production"] + p["tumor_ifn_production"] * p["irf7_activity"] * antigen
            - p["ifn_clearance"] * I,
            receptor_drive * (1.0 - S) - p["signal_off"] * S,
        ]
    )


def jacobian(t: float, y: np.ndarray, p: Values) -> np.ndarray:
    """Analytic Jacobian d(dy/dt)/dy of ``rhs``, shape (7, 7, ...) (row: equation, column: state)."""
    P, C, B, N, L, I, S = np.maximum(y, 0.0)
    zero = np.zeros_like(P)
    J = np.zeros((7, 7) + np.shape(P))
    nk_boost = 1.0 + p["nk_ifn_kill_boost"] * S
    antigen = P + B
    iP, iC, iB, iN, iL, iI, iS = range(7)

    J[iP, iP] = np.where(
        P > 0, p["primary_growth_rate"] * (np.log(p["primary_capacity"]) - np.log(np.maximum(P, _TINY)) - 1.0), zero
    )

    ctc_kill_per_nk = p["nk_ctc_kill"] * C
    J[iC, iP] = p["shedding_rate"]
    J[iC, iC] = -(p["ctc_clearance"] + p["nk_ctc_kill"] * nk_boost * N)
    J[iC, iN] = -ctc_kill_per_nk * nk_boost
    J[iC, iS] = -ctc_kill_per_nk * p["nk_ifn_kill_boost"] * N

    lam, steep = p["cd8_kill_exponent"], p["cd8_kill_steepness"]
    cd8_power, bone_power = L**lam, B**lam
    denominator = np.maximum(steep * bone_power + cd8_power, _TINY)
    kill_max = p["cd8_kill_max"]
    J[iB, iC] = p["bone_seeding_fraction"] * p["ctc_clearance"]
    J[iB, iB] = (
        p["bone_growth_rate"] * (1.0 - 2.0 * B / p["bone_capacity"])
        - p["nk_kill"] * nk_boost * N
        - kill_max * cd8_power * (denominator - steep * lam * bone_power) / denominator**2
    )
    J[iB, iN] = -p["nk_kill"] * nk_boost * B
    J[iB, iL] = -np.where(
        L > 0, kill_max * B * lam * cd8_power / np.maximum(L, _TINY) * steep * bone_power / denominator**2, zero
    )
    J[iB, iS] = -p["nk_kill"] * p["nk_ifn_kill_boost"] * N * B

    J[iN, iN] = -(p["nk_death"] + p["nk_depletion_rate"])
    J[iN, iS] = p["nk_supply"] * p["nk_ifn_supply_boost"]

    stimulation = antigen / (p["cd8_antigen_half"] + antigen)
    room = 1.0 - L / p["cd8_capacity"]
    antigen_slope = p["cd8_expansion"] * S * p["cd8_antigen_half"] / (p["cd8_antigen_half"] + antigen) ** 2 * L * room
    J[iL, iP] = antigen_slope
    J[iL, iB] = antigen_slope
    J[iL, iL] = p["cd8_expansion"] * S * stimulation * (1.0 - 2.0 * L / p["cd8_capacity"]) - (
        p["cd8_death"] + p["cd8_depletion_rate"]
    )
    J[iL, iS] = p["cd8_expansion"] * stimulation * L * room

    J[iI, iP] = p["tumor_ifn_production"] * p["irf7_activity"]
    J[iI, iB] = p["tumor_ifn_production"] * p["irf7_activity"]
    J[iI, iI] = -p["ifn_clearance"]

    J[iS, iI] = p["signal_on"] * p["ifnar"] * p["ifn_ec50"] / (p["ifn_ec50"] + I) ** 2 * (1.0 - S)
    J[iS, iS] = -p["signal_on"] * p["ifnar"] * I / (p["ifn_ec50"] + I) - p["signal_off"]
    return J


def initial_state(p: Values) -> dict[str, float]:
    """Tumour cells just injected into a tumour-free host at immune steady state.

    The immune states start where they sit without a tumour, so a wild-type
    host carries a little basal interferon signalling and an Ifnar1-/- host none.
    Works on scalars or, for a batch of mice, on arrays of parameter values.
    """
    ifn = p["basal_ifn_production"] / p["ifn_clearance"]
    drive = p["signal_on"] * p["ifnar"] * ifn / (p["ifn_ec50"] + ifn)
    signalling = drive / (drive + p["signal_off"])
    return {
        "P": p["inoculum"],
        "C": 0.0,
        "B": 0.0,
        "N": p["nk_supply"] * (1.0 + p["nk_ifn_supply_boost"] * signalling) / (p["nk_death"] + p["nk_depletion_rate"]),
        "L": p["cd8_supply"] / (p["cd8_death"] + p["cd8_depletion_rate"]),
        "I": ifn,
        "S": signalling,
    }


STATES = (
    State("P", "cells", "primary tumour"),
    State("C", "cells", "circulating tumour cells"),
    State("B", "cells", "bone metastatic burden"),
    State("N", "cells", "NK cells"),
    State("L", "cells", "tumour-specific CD8+ T cells"),
    State("I", "IU/mL", "type I interferon (tumour-made plus dosed)"),
    State("S", "1", "interferon signalling in host immune cells (0-1)"),
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
    resection_state="P",
    dose_state="I",
    dose_volume_parameter="ifn_volume",
    depletion_parameters={"nk": "nk_depletion_rate", "cd8": "cd8_depletion_rate"},
)
