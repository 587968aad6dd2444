"""The classic models show their papers' published behaviour (issue 4, item 6).

Kuznetsov et al. 1994, de Pillis et al. 2005 and Kirschner & Panetta 1998.
Expected values are derived here independently of ``sim`` wherever possible:
the equations are written out again from the papers, equilibria are solved
from the nullcline equations with ``scipy.optimize.brentq``, and stability
types come from finite-difference Jacobians of those equations. Rounded
numbers quoted from the papers' results (via the public copies named in
``docs/models.md``) are compared with a tolerance that fits their rounding.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from checks import strict_json
from scipy.optimize import brentq
from scipy.signal import argrelextrema

import sim
from sim.equilibria import find_equilibria
from sim.models import depillis2005, kirschner1998, kuznetsov1994
from sim.parameters import load_parameter_file
from sim.phase import phase_portrait
from sim.scenarios import PARAMETER_DIR

E0 = T0 = 1e6  # Kuznetsov's scales of the dimensionless model [cells]
CLASSIC_MODELS = ("kuznetsov1994", "kuznetsov1994-dimensionless", "depillis2005", "kirschner1998")


def values(name: str, **changes: float) -> dict[str, float]:
    """Parameter values of a model or scenario, with changes."""
    return sim.prepare(name, parameters=changes or None).parameters.values_dict()


def fd_jacobian(f, y: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at ``y`` (relative steps)."""
    J = np.empty((len(y), len(y)))
    for j in range(len(y)):
        h = 1e-6 * max(abs(y[j]), 1.0)
        up, down = y.copy(), y.copy()
        up[j] += h
        down[j] -= h
        J[:, j] = (np.asarray(f(up)) - np.asarray(f(down))) / (2 * h)
    return J


def kind(eigenvalues: np.ndarray) -> str:
    """Stability type of a planar equilibrium, named as the papers do."""
    real = eigenvalues.real
    if np.all(real < 0):
        return "stable focus" if np.any(eigenvalues.imag != 0) else "stable node"
    return "saddle" if np.any(real < 0) else "unstable"


def close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


# --- Kuznetsov et al. 1994 ---------------------------------------------------------------------


def kuznetsov_field(E, T, p):
    """The paper's equations, written out again: dE/dt, dT/dt."""
    return (p["s"] + p["p"] * E * T / (p["g"] + T) - p["m"] * E * T - p["d"] * E,
            p["a"] * T * (1 - p["b"] * T) - p["n"] * E * T)


def scaled(p: dict[str, float]) -> dict[str, float]:
    """Kuznetsov's dimensionless parameters computed from the dimensional ones (E0 = T0 = 1e6 cells)."""
    nT0 = p["n"] * T0
    return {"sigma": p["s"] / (p["n"] * E0 * T0), "rho": p["p"] / nT0, "eta": p["g"] / T0, "mu": p["m"] / p["n"],
            "delta": p["d"] / nT0, "alpha": p["a"] / nT0, "beta": p["b"] * T0}


#: the published equilibria of the dimensionless model with the published (rounded) parameters:
#: (x, y, type); rounded to the digits quoted
PUBLISHED_DIMENSIONLESS = [(0.3155, 0.0, "saddle"), (1.609, 8.19, "stable focus"), (0.7598, 267.8, "saddle"),
                           (0.173, 447.1, "stable node")]


@pytest.fixture(scope="module")
def kuznetsov_expected() -> list[tuple[float, float, str, np.ndarray]]:
    """Equilibria (E, T, type, eigenvalues) from the nullclines, without sim.

    On T = 0, dE/dt = 0 gives E = s/d. Off it, dT/dt = 0 gives E = a (1 - b T) / n; putting that
    into dE/dt = 0 leaves one equation in T, solved with brentq between its sign changes.
    """
    p = values("kuznetsov1994")

    def effectors(T):
        return p["a"] * (1 - p["b"] * T) / p["n"]

    def residual(T):
        return kuznetsov_field(effectors(T), T, p)[0]

    grid = np.geomspace(1.0, (1 - 1e-12) / p["b"], 4001)
    signs = np.sign([residual(T) for T in grid])
    roots = [brentq(residual, lo, hi, xtol=1e-6, rtol=1e-14)
             for lo, hi, s0, s1 in zip(grid[:-1], grid[1:], signs[:-1], signs[1:]) if s0 != s1]
    points = [(p["s"] / p["d"], 0.0)] + [(effectors(T), T) for T in roots]
    expected = []
    for E, T in points:
        eig = np.linalg.eigvals(fd_jacobian(lambda y: kuznetsov_field(y[0], y[1], p), np.array([E, T])))
        expected.append((E, T, kind(eig), np.sort_complex(eig)))
    return expected


def test_kuznetsov_has_the_four_published_equilibria_by_the_nullclines(kuznetsov_expected):
    assert [k for *_, k, _ in kuznetsov_expected] == ["saddle", "stable focus", "saddle", "stable node"]
    for (E, T, _, _), (x, y, _) in zip(kuznetsov_expected, PUBLISHED_DIMENSIONLESS):
        assert close(E / E0, x, 3e-3) and (y == 0 and T == 0 or close(T / T0, y, 3e-3)), (E, T, x, y)


def test_find_equilibria_gives_kuznetsovs_equilibria_and_types(kuznetsov_expected):
    found = find_equilibria(sim.get_model("kuznetsov1994"), values("kuznetsov1994"))
    assert len(found) == len(kuznetsov_expected)
    for e, (E, T, expected_kind, eig) in zip(found, kuznetsov_expected):
        assert close(e.state["E"], E, 1e-6) and (T == 0 and e.state["T"] == 0 or close(e.state["T"], T, 1e-6))
        assert e.type == expected_kind
        assert np.allclose(np.sort_complex(e.eigenvalues), eig, rtol=1e-4, atol=1e-9)


def test_equilibria_command_json_lists_state_eigenvalues_and_type(cli, kuznetsov_expected):
    outcome = cli("equilibria", "kuznetsov1994", "--json")
    assert outcome.code == 0, outcome.err
    found = strict_json(outcome.out)
    assert isinstance(found, list) and len(found) == len(kuznetsov_expected)
    for entry, (E, T, expected_kind, eig) in zip(found, kuznetsov_expected):
        assert set(entry) == {"state", "eigenvalues", "type"}
        assert set(entry["state"]) == {"E", "T"}
        assert close(entry["state"]["E"], E, 1e-6) and math.isclose(entry["state"]["T"], T, rel_tol=1e-6)
        assert entry["type"] == expected_kind
        assert all(set(v) == {"real", "imag"} for v in entry["eigenvalues"])
        got = np.sort_complex([complex(v["real"], v["imag"]) for v in entry["eigenvalues"]])
        assert np.allclose(got, eig, rtol=1e-4, atol=1e-9)


def test_equilibria_command_follows_set(cli):
    """Faster effector death (d = 0.05) lowers the tumour-free effector level to s/d = 2.6e5."""
    found = strict_json(cli("equilibria", "kuznetsov1994", "--set", "d=0.05", "--json").out)
    assert close(found[0]["state"]["E"], 1.3e4 / 0.05, 1e-9) and found[0]["state"]["T"] == 0


def test_kuznetsov_dimensionless_equations_are_the_dimensional_ones_rescaled():
    p = values("kuznetsov1994")
    q = scaled(p)
    rng = np.random.default_rng(4)
    y = np.vstack([rng.uniform(0, 3e6, 50), 10 ** rng.uniform(0, 9, 50)])  # (E, T) in cells
    dimensional = kuznetsov1994.rhs(0.0, y, p)
    dimensionless = kuznetsov1994.rhs_dimensionless(0.0, y / np.array([[E0], [T0]]), q)
    # d(E/E0)/dtau = dE/dt / (E0 n T0) and likewise for T
    assert np.allclose(dimensionless[0] * E0 * p["n"] * T0, dimensional[0], rtol=1e-10, atol=1e-6)
    assert np.allclose(dimensionless[1] * T0 * p["n"] * T0, dimensional[1], rtol=1e-10, atol=1e-6)
    assert np.allclose(dimensional, kuznetsov_field(*y, p), rtol=1e-12, atol=1e-6)


def test_published_dimensionless_parameters_are_the_scaled_dimensional_ones_rounded():
    published, exact = values("kuznetsov1994-dimensionless"), scaled(values("kuznetsov1994"))
    assert set(published) == set(exact)
    for name, value in exact.items():
        assert close(published[name], value, 1e-3), (name, published[name], value)


@pytest.mark.parametrize("inoculum", [1e6, 1e8], ids=["dormancy", "escape"])
def test_dimensional_and_dimensionless_runs_agree_after_scaling(inoculum):
    p = values("kuznetsov1994")
    step = p["n"] * T0  # one day in units of tau
    tight = {"rtol": 1e-10, "atol": 1e-12}
    days = sim.run("kuznetsov1994", initial={"T": inoculum}, days=1000, every=1, **tight)
    exact = sim.run("kuznetsov1994-dimensionless", parameters=scaled(p), initial={"y": inoculum / T0},
                    days=1000 * step, every=step, **tight)
    rounded = sim.run("kuznetsov1994-dimensionless", initial={"y": inoculum / T0}, days=1000 * step, every=step, **tight)
    assert len(exact.time) == len(days.time) == 1001
    assert np.allclose(exact.time / step, days.time, rtol=1e-9)
    assert np.allclose(exact["x"] * E0, days["E"], rtol=1e-6)
    assert np.allclose(exact["y"] * T0, days["T"], rtol=1e-6)
    # the published parameters are rounded to 3-4 digits: the same run within a few per cent
    assert np.allclose(rounded["x"] * E0, days["E"], rtol=0.02)
    assert np.allclose(rounded["y"] * T0, days["T"], rtol=0.02)


def test_dimensionless_equilibria_scale_with_the_dimensional_ones(kuznetsov_expected):
    p = values("kuznetsov1994")
    model = sim.get_model("kuznetsov1994-dimensionless")
    exact = find_equilibria(model, scaled(p))
    assert len(exact) == len(kuznetsov_expected)
    for e, (E, T, expected_kind, eig) in zip(exact, kuznetsov_expected):
        assert close(e.state["x"], E / E0, 1e-6) and math.isclose(e.state["y"], T / T0, rel_tol=1e-6, abs_tol=1e-12)
        assert e.type == expected_kind
        # time runs n T0 = 0.1101 per day faster in tau: eigenvalues scale by 1 / (n T0)
        assert np.allclose(np.sort_complex(e.eigenvalues), eig / (p["n"] * T0), rtol=1e-4, atol=1e-8)
    published = find_equilibria(model, values("kuznetsov1994-dimensionless"))
    assert [(e.type) for e in published] == [k for *_, k in PUBLISHED_DIMENSIONLESS]
    for e, (x, y, _) in zip(published, PUBLISHED_DIMENSIONLESS):
        assert close(e.state["x"], x, 2e-3) and math.isclose(e.state["y"], y, rel_tol=2e-3, abs_tol=1e-12)


@pytest.mark.parametrize("inoculum", [1e4, 1e6, 1e7, 5e7, 6.3e7])
def test_small_inocula_go_dormant(inoculum, kuznetsov_expected):
    _, (E, T, _, _), _, _ = kuznetsov_expected
    result = sim.run("kuznetsov1994", initial={"T": inoculum}, days=1500)
    assert result["E"][0] == pytest.approx(values("kuznetsov1994")["s"] / values("kuznetsov1994")["d"], rel=1e-12)
    assert result.final["T"] == pytest.approx(T, rel=0.05)
    assert result.final["E"] == pytest.approx(E, rel=0.05)
    assert result["T"].max() < kuznetsov_expected[2][1], "a dormant tumour never passes the saddle's size"


@pytest.mark.parametrize("inoculum", [6.5e7, 1e8, 4e8])
def test_large_inocula_escape(inoculum, kuznetsov_expected):
    E, T, _, _ = kuznetsov_expected[3]
    result = sim.run("kuznetsov1994", initial={"T": inoculum}, days=1000)
    assert result.final["T"] == pytest.approx(T, rel=1e-3)
    assert result.final["E"] == pytest.approx(E, rel=1e-3)


def test_separatrix_crosses_the_tumour_free_effector_level_at_the_threshold_inoculum():
    """sim.phase's stable manifold of the saddle meets E = s/d between the last dormant and first escaping inoculum."""
    p = values("kuznetsov1994")
    portrait = phase_portrait(sim.get_model("kuznetsov1994"), p, (0.0, 3e6), (1e4, 3e9), [], duration=1000,
                              resolution=8)
    assert len(portrait.separatrices) == 2
    lower = min(portrait.separatrices, key=lambda path: path[1, -1])
    E, T = lower
    level = p["s"] / p["d"]
    k = np.nonzero(np.diff(np.sign(E - level)))[0][0]
    crossing = np.exp(np.interp(level, sorted(E[k:k + 2]), np.log(T[k:k + 2])[np.argsort(E[k:k + 2])]))
    assert 6.3e7 < crossing < 6.5e7


# --- de Pillis et al. 2005 ---------------------------------------------------------------------

CHALLENGES = [1e4, 1e5, 1e6, 1e7]
"""Challenge doses [cells]: the range over which the scenarios say the published outcome holds."""


def depillis_kill_as_published(T: float, L: float, p) -> float:
    """D T with D = d (L/T)^lambda / (s + (L/T)^lambda), as the paper writes it (T > 0)."""
    ratio = (L / T) ** p["lambda"]
    return p["d"] * ratio / (p["s"] + ratio) * T


def depillis_field(T, N, L, p):
    DT = depillis_kill_as_published(T, L, p)
    return (p["a"] * T * (1 - p["b"] * T) - p["c"] * N * T - DT,
            p["sigma"] - p["f"] * N + p["g"] * T ** 2 / (p["h"] + T ** 2) * N - p["p"] * N * T,
            -p["m"] * L + p["j"] * DT ** 2 / (p["k"] + DT ** 2) * L - p["q"] * L * T + p["r"] * N * T)


@pytest.fixture(scope="module")
def tumour_lines() -> dict[str, dict[str, float]]:
    """Parameter values of the four fitted variants nn, nl, ln, ll."""
    presets = load_parameter_file(PARAMETER_DIR / "depillis2005.toml").tumor_lines
    assert set(presets) == {"nn", "nl", "ln", "ll"}
    return {name: values("depillis2005", **preset.values) for name, preset in presets.items()}


def test_depillis_equations_are_the_published_ones(tumour_lines):
    rng = np.random.default_rng(5)
    for p in tumour_lines.values():
        for _ in range(20):
            T, N, L = 10 ** rng.uniform(0, 9), 10 ** rng.uniform(1, 6), 10 ** rng.uniform(0, 7)
            assert np.allclose(depillis2005.rhs(0.0, np.array([T, N, L]), p), depillis_field(T, N, L, p),
                               rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("line", ["nn", "nl", "ln", "ll"])
def test_depillis_kill_term_is_finite_and_non_negative_as_the_tumour_vanishes(line, tumour_lines):
    p = tumour_lines[line]
    tumours = [0.0, 1e-300, 1e-200, 1e-40, 1.0, 1e6]
    cd8 = [0.0, 1e-300, 1e-100, 1.0, 1e5]
    for T in tumours:
        for L in cd8:
            kill = float(depillis2005.cd8_kill(np.float64(T), np.float64(L), p))
            assert math.isfinite(kill) and 0.0 <= kill <= p["d"] * T, (T, L, kill)
            if T > 0 and L > 0 and math.isfinite((L / T) ** p["lambda"]):
                assert close(kill, depillis_kill_as_published(T, L, p), 1e-9), (T, L)
            rates = depillis2005.rhs(0.0, np.array([T, 3.155e5, L]), p)
            assert np.all(np.isfinite(rates)), (T, L, rates)
            if T == 0:
                assert rates[0] == 0.0, "a tumour-free mouse must stay tumour-free"
    # the same on a batch of subjects, T and L both zero included
    batch = np.array([[0.0, 1e-300, 0.0, 1e3], [3e5, 3e5, 3e5, 3e5], [0.0, 0.0, 1e-300, 1e4]])
    assert np.all(np.isfinite(depillis2005.rhs(0.0, batch, p)))
    # as T -> 0 with CD8+ T cells present, the kill per tumour cell tends to d (saturation), never beyond
    assert float(depillis2005.cd8_kill(np.float64(1e-300), np.float64(1e3), p)) / 1e-300 == pytest.approx(p["d"], rel=1e-9)


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_depillis_ligand_free_tumours_grow(challenge):
    result = sim.run("depillis2005-nonligand", initial={"T": challenge})
    b = result.parameters["b"]
    assert result.final["T"] > 0.9 / b, "parental RMA grows to near its carrying capacity"
    assert result["N"].min() < 1e3, "and inactivates the NK cells on the way"


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_depillis_ligand_transduced_tumours_are_rejected(challenge):
    result = sim.run("depillis2005-ligand", initial={"T": challenge})
    assert result["T"].max() <= challenge * 1.001, "rejected from the start"
    assert result.time[np.argmax(result["T"] < 1)] < 10, "below one cell within ten days"
    assert result.final["T"] < 1e-40
    assert np.all(result["T"] >= 0) and np.all(np.isfinite(result.values))


def test_depillis_tumour_free_state_is_stable_only_with_the_ligand(tumour_lines):
    """Tumour growth a against the kill c sigma/f by resting NK cells (the T-eigenvalue at T = 0, L = 0)."""
    for line, p in tumour_lines.items():
        growth = p["a"] - p["c"] * p["sigma"] / p["f"]
        assert (growth < 0) == line.startswith("l"), (line, growth)


# --- Kirschner & Panetta 1998 --------------------------------------------------------------------


def kirschner_field(E, T, IL, p):
    return (p["c"] * T - p["mu2"] * E + p["p1"] * E * IL / (p["g1"] + IL) + p["s1"],
            p["r2"] * T * (1 - p["b"] * T) - p["a"] * E * T / (p["g2"] + T),
            p["p2"] * E * T / (p["g3"] + T) - p["mu3"] * IL + p["s2"])


def kirschner_reduced(T, p):
    """On the interior equilibria: E from dT/dt = 0, IL from dIL/dt = 0, then the rest of dE/dt = 0 over T.

    Returns (E, IL, c_needed): T is an equilibrium exactly when c = c_needed.
    """
    E = p["r2"] * (1 - p["b"] * T) * (p["g2"] + T) / p["a"]
    IL = (p["p2"] * E * T / (p["g3"] + T) + p["s2"]) / p["mu3"]
    return E, IL, (p["mu2"] * E - p["p1"] * E * IL / (p["g1"] + IL) - p["s1"]) / T


def kirschner_interior(p) -> list[np.ndarray]:
    """Interior equilibria (E, T, IL), by brentq on the reduced equation."""
    grid = np.geomspace(1e-3, (1 - 1e-12) / p["b"], 6001)
    gap = kirschner_reduced(grid, p)[2] - p["c"]
    roots = [brentq(lambda T: kirschner_reduced(T, p)[2] - p["c"], lo, hi, rtol=1e-14)
             for lo, hi, g0, g1 in zip(grid[:-1], grid[1:], gap[:-1], gap[1:]) if np.sign(g0) != np.sign(g1)]
    return [np.array([kirschner_reduced(T, p)[0], T, kirschner_reduced(T, p)[1]]) for T in roots]


def leading_real_part(p, point) -> float:
    J = fd_jacobian(lambda y: kirschner_field(*y, p), point)
    return float(np.max(np.linalg.eigvals(J).real))


def tumour_extrema(result, after: float):
    """Log10 of the local maxima and minima of T after day ``after``, and the days of the maxima."""
    keep = result.time > after
    logT = np.log10(np.maximum(result["T"][keep], 1e-300))
    tops, bottoms = argrelextrema(logT, np.greater)[0], argrelextrema(logT, np.less)[0]
    return logT[tops], logT[bottoms], result.time[keep][tops]


def test_kirschner_equations_are_the_published_ones():
    p = values("kirschner1998", s1=100.0, s2=1e5)
    rng = np.random.default_rng(6)
    y = np.vstack([10 ** rng.uniform(0, 7, 30), 10 ** rng.uniform(0, 9, 30), 10 ** rng.uniform(0, 7, 30)])
    assert np.allclose(kirschner1998.rhs(0.0, y, p), kirschner_field(*y, p), rtol=1e-10, atol=1e-9)


def test_kirschner_saddle_node_and_hopf_points_bound_the_oscillations():
    """c* (large stable state disappears) about 8.6e-5 and the Hopf point about 0.0325, derived without sim."""
    p = values("kirschner1998")
    near_capacity = np.linspace(0.9 / p["b"], (1 - 1e-9) / p["b"], 200001)
    c_star = kirschner_reduced(near_capacity, p)[2].max()
    assert 8.5e-5 < c_star < 8.7e-5
    assert len(kirschner_interior({**p, "c": 0.5 * c_star})) == 3
    assert len(kirschner_interior({**p, "c": 2 * c_star})) == 1

    def growth(c):
        (point,) = kirschner_interior({**p, "c": c})
        return leading_real_part({**p, "c": c}, point)

    hopf = brentq(growth, 0.02, 0.05, xtol=1e-6)
    assert 0.032 < hopf < 0.033
    assert growth(0.025) > 0 > growth(0.05)


@pytest.mark.parametrize("c", [1e-5, 6e-5])
def test_kirschner_escapes_at_low_antigenicity(c):
    p = values("kirschner1998", c=c)
    large = max(kirschner_interior(p), key=lambda y: y[1])
    assert leading_real_part(p, large) < 0, "the state near capacity is stable"
    result = sim.run("kirschner1998", parameters={"c": c}, days=1000)
    assert result.final["T"] == pytest.approx(large[1], rel=1e-3)
    assert result.final["T"] > 0.9 / p["b"]


@pytest.mark.parametrize("c", [0.02, 0.025])
def test_kirschner_oscillates_at_intermediate_antigenicity(c):
    result = sim.run("kirschner1998", parameters={"c": c}, days=3000, every=0.5)
    tops, bottoms, days = tumour_extrema(result, after=1500)
    assert len(tops) >= 5 and len(bottoms) >= 5, "repeated recurrences in the second half of the run"
    assert tops.min() - bottoms.max() > 3, "each recurrence grows more than a thousandfold"
    assert np.ptp(tops[-3:]) < 0.02, "a sustained cycle: the last peaks are equal, not damped"
    if c == 0.025:
        assert 130 < np.mean(np.diff(days)) < 170, "recurrences about every 150 days"


def test_kirschner_rests_in_a_small_dormant_state_at_high_antigenicity():
    p = values("kirschner1998", c=0.05)
    (point,) = kirschner_interior(p)
    result = sim.run("kirschner1998", parameters={"c": 0.05}, days=3000)
    late = result["T"][result.time > 2000]
    assert late.max() / late.min() < 1.01
    assert result.final["T"] == pytest.approx(point[1], rel=1e-3)


def test_kirschner_adoptive_therapy_threshold_is_r2_g2_mu2_over_a():
    """At T = 0 the tumour's growth rate is r2 - a (s1/mu2)/g2: negative once s1 > r2 g2 mu2 / a = 540."""
    p = values("kirschner1998")
    threshold = p["r2"] * p["g2"] * p["mu2"] / p["a"]
    assert threshold == pytest.approx(540)
    for factor, cleared in ((0.8, False), (2.0, True), (10.0, True)):
        result = sim.run("kirschner1998-adoptive-therapy", parameters={"s1": factor * threshold})
        late = result["T"][result.time > 500]
        assert (late.max() < 1e-6) == cleared, (factor, late.max())
    therapy = sim.run("kirschner1998-adoptive-therapy")
    assert therapy.parameters["s1"] == pytest.approx(10 * threshold)
    assert therapy["T"][therapy.time > 30].max() < 1, "cleared within a month and never back"


@pytest.mark.parametrize("s2", [1e7, 5e7])
def test_kirschner_il2_alone_does_not_clear_the_tumour(s2):
    p = values("kirschner1998")
    tolerated = p["mu3"] * p["mu2"] * p["g1"] / (p["p1"] - p["mu2"])  # above this the effectors grow without bound
    assert s2 < tolerated
    result = sim.run("kirschner1998-il2-only", parameters={"s2": s2})
    assert result["T"][result.time > 500].max() > 1e4, "the tumour comes back"


# --- numerics and command line -------------------------------------------------------------------


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], np.array(rows[1:], dtype=float)


def test_run_command_writes_the_csv_of_the_issue(cli, tmp_path):
    out = tmp_path / "out.csv"
    outcome = cli("run", "kuznetsov1994", "--init", "T=2e8", "--set", "d=0.05", "--days", "1000", "--every", "1",
                  "--csv", out)
    assert outcome.code == 0, outcome.err
    header, data = read_csv(out)
    assert header == ["time [day]", "E [cells]", "T [cells]"]
    assert data.shape == (1001, 3)
    assert np.array_equal(data[:, 0], np.arange(1001.0))
    assert data[0, 1] == pytest.approx(1.3e4 / 0.05) and data[0, 2] == pytest.approx(2e8), "E starts at s/d of --set"
    api = sim.run("kuznetsov1994", initial={"T": 2e8}, parameters={"d": 0.05}, days=1000, every=1)
    assert np.allclose(data[:, 1:], api.values.T, rtol=1e-9)
    assert (tmp_path / "out.csv.meta.json").is_file()


@pytest.mark.parametrize("model", sorted(sim.MODELS))
def test_run_every_day_to_csv_works_for_every_model(model, cli, tmp_path):
    default, tight = tmp_path / "default.csv", tmp_path / "tight.csv"
    assert cli("run", model, "--every", "1", "--csv", default).code == 0
    assert cli("run", model, "--every", "1", "--csv", tight, "--rtol", "1e-9", "--atol", "1e-9").code == 0
    header, data = read_csv(default)
    _, tight_data = read_csv(tight)
    days = sim.get_model(model).default_days
    ended = sim.run(model).endpoint_day  # the irf7 model without surgery reaches the humane endpoint
    assert [h.split(" [")[0] for h in header] == ["time", *sim.get_model(model).state_names]
    assert all(h.endswith("]") for h in header), "every header carries its unit"
    assert data.shape == (math.floor(days if ended is None else ended) + 1, len(header))
    assert np.all(np.isfinite(data)) and np.all(data >= 0)
    # --rtol/--atol reach the solver, and the default run is already converged to well under 1 %
    # (the Kirschner oscillation, whose troughs of a few cells amplify errors, is the worst at ~0.1 %)
    assert strict_json((tmp_path / "tight.csv.meta.json").read_text())["solver"]["rtol"] == 1e-9
    assert not np.array_equal(data, tight_data)
    assert np.all(np.abs(data - tight_data) <= 1e-2 * np.maximum(np.abs(tight_data), 1.0))


@pytest.mark.parametrize("name", ["depillis2005-ligand", "kirschner1998-adoptive-therapy"])
def test_a_tumour_driven_below_1e_40_cells_stays_positive_and_is_tracked(name):
    default = sim.run(name, every=0.5)
    tight = sim.run(name, every=0.5, rtol=1e-10, atol=1e-12)
    assert default["T"].min() < 1e-40
    assert np.all(default["T"] >= 0) and np.all(np.isfinite(default.values))
    tracked = (default["T"] > 1e-290) & (tight["T"] > 1e-290)  # clear of double-precision underflow
    assert np.any(tracked & (default["T"] < 1e-40)), "the comparison reaches the deep range"
    log_default, log_tight = np.log10(default["T"][tracked]), np.log10(tight["T"][tracked])
    assert np.all(np.abs(log_default - log_tight) <= 1e-3 * np.maximum(1.0, np.abs(log_tight)))


#: every shipped scenario of the classic models and what it must show
SCENARIO_OUTCOMES = {
    "kuznetsov1994-dormancy": lambda r: r.final["T"] == pytest.approx(8.186e6, rel=0.05),
    "kuznetsov1994-dimensionless-dormancy": lambda r: r.final["y"] == pytest.approx(8.19, rel=0.05),
    "kuznetsov1994-escape": lambda r: r.final["T"] == pytest.approx(4.470e8, rel=1e-3),
    "depillis2005-nonligand": lambda r: r.final["T"] > 9e8,
    "depillis2005-ligand": lambda r: r.final["T"] < 1e-40,
    "kirschner1998-low-antigenicity": lambda r: r.final["T"] > 9e8,
    "kirschner1998-oscillation": lambda r: len(tumour_extrema(r, after=r.days / 2)[0]) >= 2,
    "kirschner1998-adoptive-therapy": lambda r: r.final["T"] < 1e-40,
    "kirschner1998-il2-only": lambda r: r["T"][r.time > r.days / 2].max() > 1e4,
}


def test_every_classic_scenario_has_an_expected_outcome():
    shipped = {name for model in CLASSIC_MODELS for name in sim.scenario_names(model)}
    assert shipped == set(SCENARIO_OUTCOMES)


@pytest.mark.parametrize("name", sorted(SCENARIO_OUTCOMES))
def test_every_classic_scenario_runs_and_shows_its_outcome(name):
    result = sim.run(name, every=0.5)
    assert result.time[-1] == pytest.approx(result.days)
    assert np.all(np.isfinite(result.values)) and np.all(result.values >= 0)
    assert result.summary()
    assert SCENARIO_OUTCOMES[name](result)
