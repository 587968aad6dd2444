"""Invariants of the Irf7 model that hold for any parameter values, not just the shipped ones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import sim
import sim.solver
from sim.models.irf7 import MODEL

NAMES = MODEL.state_names
IDX = {name: i for i, name in enumerate(NAMES)}
IFNAR_KO = ("irf7-silenced-ifnar-ko", "irf7-restored-ifnar-ko", "ifn-dosed-ifnar-ko")
DEFAULTS = sim.load_scenario("irf7-silenced").parameters


def random_parameters(rng: np.random.Generator, depletion: bool = True) -> dict[str, float]:
    """Default values scattered over ~3 decades; some zeros where zero is allowed."""
    p = {}
    for name, param in DEFAULTS.items():
        if param.maximum is not None:
            value = rng.uniform(0.0, param.maximum)
        elif param.value > 0:
            value = param.value * 10 ** rng.uniform(-1.5, 1.5)
        else:  # schedule parameters (depletion rates): zero by default
            value = rng.uniform(0.0, 5.0) if depletion else 0.0
        if not param.positive and rng.random() < 0.1:
            value = 0.0
        p[name] = float(value)
    return p


def random_state(rng: np.random.Generator) -> np.ndarray:
    y = 10 ** rng.uniform(-3.0, 10.0, size=len(NAMES))
    y[IDX["I"]] = 10 ** rng.uniform(-3.0, 6.0)
    y[IDX["Q"]] = 10 ** rng.uniform(-1.0, 2.0)
    y[IDX["S"]] = rng.uniform(0.0, 1.0)
    return y


def state(**values: float) -> np.ndarray:
    """A state vector with the named values and zero elsewhere."""
    y = np.zeros(len(NAMES))
    for name, value in values.items():
        y[IDX[name]] = value
    return y


def test_rhs_keeps_the_non_negative_orthant():
    """At a state with a zero component, that component's derivative is never negative."""
    rng = np.random.default_rng(20120812)
    checked = 0
    for _ in range(1500):
        p = random_parameters(rng)
        y = random_state(rng)
        zero = rng.random(len(NAMES)) < 0.4
        zero[rng.integers(len(NAMES))] = True
        y[zero] = 0.0
        dy = MODEL.rhs(0.0, y, p)
        assert dy.shape == y.shape
        assert np.all(np.isfinite(dy)), (p, y, dy)
        bad = [NAMES[i] for i in np.flatnonzero(zero) if dy[i] < 0]
        assert not bad, f"d{bad}/dt < 0 at zero: y={y}, dy={dy}, p={p}"
        checked += int(zero.sum())
    assert checked > 1500


def test_rhs_at_the_origin_only_grows():
    """Everything zero: nothing can be lost, supplies can only add."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        dy = MODEL.rhs(0.0, np.zeros(len(NAMES)), random_parameters(rng))
        assert np.all(dy >= 0)


def test_signalling_stays_at_most_one():
    """S is a fraction: at S = 1 it can only fall."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        y = random_state(rng)
        y[IDX["S"]] = 1.0
        assert MODEL.rhs(0.0, y, random_parameters(rng))[IDX["S"]] <= 0


@pytest.fixture
def raw_minimum(monkeypatch):
    """Record, per state, the smallest value solve_ivp produced before the solver clips it."""
    minima: list[np.ndarray] = []

    def recording_solve_ivp(*args, **kwargs):
        solution = solve_ivp(*args, **kwargs)
        minima.append(solution.y.min(axis=1))
        return solution

    monkeypatch.setattr(sim.solver, "solve_ivp", recording_solve_ivp)

    def minimum() -> np.ndarray:
        assert minima, "solve_ivp was never called"
        low = np.min(minima, axis=0)
        minima.clear()
        return low

    return minimum


@pytest.mark.parametrize("name", sim.scenario_names("irf7"))
def test_scenario_states_never_go_negative(name, raw_minimum, runs):
    # the reported time course
    result = runs[name]
    assert np.all(np.isfinite(result.values))
    assert np.all(result.values >= 0)
    # the raw solution: no dip below zero beyond the solver's absolute tolerance
    rerun = sim.run(name)
    low = raw_minimum()
    atol = rerun.solver["atol"]
    assert np.all(low >= -atol), dict(zip(NAMES, low))


@pytest.mark.parametrize("name", IFNAR_KO)
def test_no_interferon_signalling_in_ifnar_knockout_hosts(name, runs):
    result = runs[name]
    assert result.parameters["ifnar"] == 0
    assert result.scenario.initial["S"] == 0
    assert np.max(result["S"]) <= 1e-12
    # also between solver steps, on a fine grid
    fine = sim.run(name, every=0.05)
    assert np.max(fine["S"]) <= 1e-12


@pytest.mark.parametrize("name", ["ifn-dosed-ifnar-ko", "irf7-restored-ifnar-ko"])
def test_ifnar_knockout_hosts_see_interferon_but_do_not_respond(name, runs):
    """The knockout is not trivially silent: interferon does rise above its half-effective level."""
    result = runs[name]
    assert np.max(result["I"]) > 2 * result.parameters["ifn_ec50"]
    wild_type = runs[name.removesuffix("-ifnar-ko")]
    assert np.max(wild_type["S"]) > 0.5


def test_ifn_doses_spike_interferon_in_ifnar_knockout(runs):
    result = runs["ifn-dosed-ifnar-ko"]
    dose = 1e5 / result.parameters["ifn_volume"]  # IU per dose / mL
    assert np.max(result["I"]) > 0.9 * dose
    assert np.max(result["S"]) <= 1e-12


@pytest.mark.parametrize("name", sim.scenario_names("irf7"))
@pytest.mark.parametrize("cut", ["shedding_rate", "bone_seeding_fraction"])
def test_no_metastasis_without_dissemination(name, cut):
    result = sim.run(name, parameters={cut: 0})
    assert np.max(result["B"]) <= 1e-12
    assert result.metastasis_day is None
    if cut == "shedding_rate":
        assert np.max(result["C"]) <= 1e-12


def _tumour_free(p) -> np.ndarray:
    start = MODEL.initial_state(p)
    assert start["C"] == 0 and start["B"] == 0
    y = np.array([start[n] for n in NAMES], dtype=float)
    y[IDX["P"]] = 0.0
    return y


def _assert_at_rest(y, dy, p):
    assert np.all(dy[:3] == 0), dy  # no tumour, nothing to grow or shed
    for name in ("N", "L", "M", "Q", "I", "S"):
        i = IDX[name]
        if y[i] == 0:
            assert dy[i] == 0, (name, dy[i], p)
        else:
            assert abs(dy[i]) <= 1e-9 * y[i], (name, y[i], dy[i], p)


@pytest.mark.parametrize("name", sim.scenario_names("irf7"))
def test_initial_state_is_the_tumour_free_steady_state(name):
    scenario = sim.load_scenario(name)
    p = scenario.parameters.values_dict()
    assert scenario.initial["P"] == p["inoculum"]
    y = _tumour_free(p)
    _assert_at_rest(y, MODEL.rhs(0.0, y, p), p)


def test_initial_state_is_steady_for_random_parameters():
    rng = np.random.default_rng(42)
    for _ in range(300):
        p = random_parameters(rng, depletion=False)
        y = _tumour_free(p)
        assert np.all(y >= 0) and np.all(np.isfinite(y))
        assert y[IDX["S"]] <= 1
        _assert_at_rest(y, MODEL.rhs(0.0, y, p), p)


@pytest.mark.parametrize(
    ("B", "L"), [(0.0, 0.0), (0.0, 1e3), (1e5, 0.0), (1e-300, 1e-300), (1e-300, 0.0), (0.0, 1e-300), (5e-324, 5e-324)]
)
def test_cd8_kill_stays_finite_without_tumour_or_t_cells(B, L):
    p = DEFAULTS.values_dict()
    y = state(P=1e6, C=50.0, B=B, N=3e5, L=L, Q=1.0, I=1.0, S=0.1)
    with np.errstate(divide="raise", invalid="raise"):
        dy = MODEL.rhs(0.0, y, p)
    assert np.all(np.isfinite(dy))
    seeding = p["bone_seeding_fraction"] * p["ctc_clearance"] * y[IDX["C"]]
    if B == 0:
        assert dy[IDX["B"]] == pytest.approx(seeding, rel=1e-12)
    elif B < 1e-200:
        # a vanishing bone burden gains and loses vanishingly little besides seeding
        assert abs(dy[IDX["B"]] - seeding) <= 1e-12 * seeding
    if L == 0:
        # without T cells the CD8 kill term is exactly zero
        no_cd8 = MODEL.rhs(0.0, y, {**p, "cd8_kill_max": 0.0})
        assert dy[IDX["B"]] == no_cd8[IDX["B"]]


def test_cd8_kill_is_bounded_by_its_maximum():
    """Kill per tumour cell never exceeds cd8_kill_max, however many T cells there are."""
    p = DEFAULTS.values_dict()
    p.update(nk_kill=0.0, bone_growth_rate=0.0, bone_seeding_fraction=0.0)
    for B in (1e-6, 1.0, 1e6):
        for L in (0.0, 1.0, 1e6, 1e12):
            y = state(B=B, L=L, M=L, Q=1.0)
            kill_per_cell = -MODEL.rhs(0.0, y, p)[IDX["B"]] / B
            assert 0.0 <= kill_per_cell <= p["cd8_kill_max"] * (1 + 1e-12)


@pytest.mark.parametrize("shape", [(1,), (25,), (3, 4)])
def test_rhs_batched_equals_single_calls(shape):
    rng = np.random.default_rng(3)
    p = random_parameters(rng)
    batch = np.stack([random_state(rng) for _ in range(int(np.prod(shape)))], axis=1)
    batch[IDX["B"], ::3] = 0.0  # some zero bone burdens and T cell counts in the batch
    batch[IDX["L"], ::5] = 0.0
    together = MODEL.rhs(0.0, batch.reshape((len(NAMES), *shape)), p)
    assert together.shape == (len(NAMES), *shape)
    single = np.stack([MODEL.rhs(0.0, batch[:, j], p) for j in range(batch.shape[1])], axis=1)
    np.testing.assert_allclose(together.reshape(len(NAMES), -1), single, rtol=1e-13, atol=0)


def test_rhs_batched_over_parameters():
    """Per-subject parameter arrays broadcast against the batch."""
    rng = np.random.default_rng(5)
    n = 12
    p = random_parameters(rng)
    activity = rng.uniform(0, 1, n)
    ifnar = (rng.random(n) < 0.5).astype(float)
    batch = np.stack([random_state(rng) for _ in range(n)], axis=1)
    together = MODEL.rhs(0.0, batch, {**p, "irf7_activity": activity, "ifnar": ifnar})
    for j in range(n):
        single = MODEL.rhs(0.0, batch[:, j], {**p, "irf7_activity": activity[j], "ifnar": ifnar[j]})
        np.testing.assert_allclose(together[:, j], single, rtol=1e-13, atol=0)


def _jacobian_mismatches(jacobian, rhs, y, p) -> list[tuple[str, str, float, float]]:
    """Entries of ``jacobian`` that no central difference of ``rhs`` reproduces to 0.1 %.

    Each column is differenced with several steps; an entry passes if, for some
    step, it agrees within 0.1 % plus that step's rounding noise.
    """
    J = jacobian(0.0, y, p)
    eps = np.finfo(float).eps
    best = np.full(J.shape, np.inf)
    for j in range(len(y)):
        for relative_step in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
            h = relative_step * y[j]
            up, down = y.copy(), y.copy()
            up[j] += h
            down[j] -= h
            f_up, f_down = rhs(0.0, up, p), rhs(0.0, down, p)
            numeric = (f_up - f_down) / (2 * h)
            noise = 1e3 * eps * (np.abs(f_up) + np.abs(f_down)) / (2 * h)
            excess = np.abs(J[:, j] - numeric) - (1e-3 * np.abs(J[:, j]) + noise)
            best[:, j] = np.minimum(best[:, j], excess)
    return [(NAMES[i], NAMES[j], J[i, j], best[i, j]) for i, j in zip(*np.nonzero(best > 0))]


def test_analytic_jacobian_matches_finite_differences():
    """The Jacobian handed to the solver is the derivative of rhs, at interior points."""
    if MODEL.jacobian is None:
        return  # finite differences are used; nothing to check
    rng = np.random.default_rng(2012)
    for _ in range(100):
        p = random_parameters(rng)
        y = random_state(rng)
        y[IDX["S"]] = rng.uniform(0.05, 0.95)
        assert MODEL.jacobian(0.0, y, p).shape == (len(NAMES), len(NAMES))
        bad = _jacobian_mismatches(MODEL.jacobian, MODEL.rhs, y, p)
        assert not bad, f"d(rhs)/dy wrong at y={y}: {bad}"


def test_jacobian_check_catches_a_wrong_entry():
    """The check above is sharp enough to see a 1 % error in one entry."""
    p = DEFAULTS.values_dict()
    y = state(P=1e8, C=1e3, B=1e5, N=3e5, L=1e4, M=1e3, Q=2.0, I=20.0, S=0.5)

    def off_by_one_percent(t, y, p):
        J = MODEL.jacobian(t, y, p) if MODEL.jacobian is not None else np.zeros((len(NAMES), len(NAMES)))
        J[IDX["B"], IDX["N"]] *= 1.01
        return J

    if MODEL.jacobian is not None:
        assert not _jacobian_mismatches(MODEL.jacobian, MODEL.rhs, y, p)
        assert ("B", "N") in [(i, j) for i, j, *_ in _jacobian_mismatches(off_by_one_percent, MODEL.rhs, y, p)]


def test_analytic_jacobian_is_batched():
    if MODEL.jacobian is None:
        return
    rng = np.random.default_rng(9)
    p = random_parameters(rng)
    batch = np.stack([random_state(rng) for _ in range(6)], axis=1)
    together = MODEL.jacobian(0.0, batch, p)
    assert together.shape == (len(NAMES), len(NAMES), 6)
    for j in range(6):
        np.testing.assert_allclose(together[..., j], MODEL.jacobian(0.0, batch[:, j], p), rtol=1e-13, atol=0)
