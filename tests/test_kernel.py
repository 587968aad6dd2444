"""The compiled cohort engine (sim.kernel, the fast extra) against the NumPy batch and tight per-mouse solves.

Timing is the benchmark's job (benchmarks/cohort_speed.py); these tests check results only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from checks import require_extra

import sim
from sim import kernel
from sim.cohort import choose_engine, sample_parameters, simulate_cohort
from sim.errors import InputError

IRF7 = sim.scenario_names("irf7")
MICE = 50
DAY = 0.01
"""The issue's accuracy: the two engines, and each against a tight solve, agree to within 0.01 day."""


@pytest.fixture(scope="module")
def fast():
    require_extra("numba", "fast")
    require_extra("sympy", "fast")


def assert_same_days(first: np.ndarray, second: np.ndarray, what: str) -> None:
    """Same mice with and without a day (NaN), and the days within DAY."""
    assert np.array_equal(np.isnan(first), np.isnan(second)), what
    both = ~np.isnan(first)
    assert np.all(np.abs(first[both] - second[both]) <= DAY), (what, np.max(np.abs(first[both] - second[both])))


@pytest.mark.parametrize("name", IRF7)
def test_compiled_and_numpy_engines_agree_on_every_irf7_scenario(fast, name):
    compiled = simulate_cohort(name, MICE, 3, engine="compiled", workers=1)
    batch = simulate_cohort(name, MICE, 3, engine="numpy", workers=1)
    assert_same_days(compiled.metastasis_day, batch.metastasis_day, f"{name}: metastasis day")
    assert_same_days(compiled.endpoint_day, batch.endpoint_day, f"{name}: endpoint day")
    assert list(compiled.fates) == list(batch.fates)


@pytest.mark.parametrize("name", ["irf7-silenced", "irf7-restored", "ifn-dosed"])
def test_compiled_days_match_tight_per_mouse_solves(fast, name):
    cohort = simulate_cohort(name, MICE, 5, engine="compiled", workers=2)
    # every tenth mouse, and a metastasis-free one where there is one, so censoring is compared too
    mice = sorted({*range(0, MICE, 10), *np.flatnonzero(cohort.censored)[:1].tolist()})
    for i in mice:
        single = sim.run(cohort.scenario, parameters={k: float(v[i]) for k, v in cohort.sampled.items()},
                         rtol=1e-10, atol=1e-10)
        for got, want in ((cohort.metastasis_day[i], single.metastasis_day), (cohort.endpoint_day[i], single.endpoint_day)):
            assert np.isnan(got) == (want is None), (name, i, got, want)
            if want is not None:
                assert got == pytest.approx(want, abs=DAY), (name, i)


def test_a_culled_mouse_has_its_endpoint_day_and_no_metastasis_after_it(fast):
    """Without surgery the primary reaches the humane endpoint; the mouse stops there in both engines."""
    scenario = sim.prepare("irf7-silenced", surgery="none")
    compiled = simulate_cohort(scenario, 20, 2, engine="compiled", workers=1)
    batch = simulate_cohort(scenario, 20, 2, engine="numpy", workers=1)
    assert not np.isnan(compiled.endpoint_day).any()
    assert_same_days(compiled.endpoint_day, batch.endpoint_day, "endpoint day")
    assert_same_days(compiled.metastasis_day, batch.metastasis_day, "metastasis day")
    assert np.all(np.isnan(compiled.metastasis_day) | (compiled.metastasis_day <= compiled.endpoint_day))


def test_depletion_windows_and_doses_act_in_the_compiled_engine(fast):
    """Each schedule primitive changes the result, so the kernel cannot be ignoring it."""
    plain = simulate_cohort("irf7-restored", 30, 1, engine="compiled", workers=1)
    depleted = simulate_cohort(sim.prepare("irf7-restored", deplete=["cd8:0-60"]), 30, 1, engine="compiled", workers=1)
    assert np.isnan(depleted.metastasis_day).sum() < np.isnan(plain.metastasis_day).sum()


def test_explicit_and_implicit_methods_agree(fast):
    """The Rosenbrock path (forced for every step) finds the same days as Dormand-Prince."""
    scenario = sim.load_scenario("irf7-restored")
    varied = sample_parameters(scenario, 30, 8)
    explicit = kernel.solve(scenario, varied, method="explicit")
    implicit = kernel.solve(scenario, varied, method="implicit")
    for a, b, what in zip(explicit, implicit, ("metastasis", "endpoint")):
        assert_same_days(a, b, what)


def test_threads_and_chunks_do_not_change_a_mouse(fast):
    """Each mouse is integrated on its own: results are identical however the cohort is split."""
    one = simulate_cohort("ifn-dosed", 300, 4, engine="compiled", workers=1)
    two = simulate_cohort("ifn-dosed", 300, 4, engine="compiled", workers=2)
    assert np.array_equal(one.metastasis_day, two.metastasis_day, equal_nan=True)
    assert np.array_equal(one.endpoint_day, two.endpoint_day, equal_nan=True)


@pytest.mark.parametrize("method", ["auto", "implicit"])
def test_a_mouse_does_not_depend_on_the_mice_beside_it(fast, method):
    """A thread integrates several mice side by side, but each with its own steps: the same mouse gives the same
    days, to the last bit, among other neighbours (the cohort reversed), whichever method its steps use."""
    scenario = sim.load_scenario("ifn-dosed")
    varied = sample_parameters(scenario, 40, 5)
    forward = kernel.solve(scenario, varied, method=method)
    backward = kernel.solve(scenario, {name: values[::-1] for name, values in varied.items()}, method=method)
    for a, b in zip(forward, backward):
        assert np.array_equal(a, b[::-1], equal_nan=True)


def test_the_compiled_rhs_is_the_model_rhs(fast):
    """The generated code evaluates exactly the traced formulas: compare with the NumPy rhs at random states."""
    scenario = sim.load_scenario("irf7-restored")
    module = kernel.compiled("irf7")
    names = list(sim.symbolic.formulas("irf7").parameters)
    values = scenario.parameters.values_dict()
    slot = module.SLOTS - 1
    p = np.full((module.SLOTS, len(names) + 1), np.nan)
    p[slot] = [values[n] for n in names] + [1.0]  # the last column: the chance state moves (1) or is held (0)
    derived = np.full((module.SLOTS, module.N_DERIVED), np.nan)
    module.derive(p, slot, derived)
    rng = np.random.default_rng(0)
    for k in range(20):
        y = np.exp(rng.uniform(-5, 20, len(scenario.model.states)))
        y[-1] = rng.uniform(0, 1)  # signalling S is a fraction
        y[rng.choice(len(y), k % 3)] = 0.0  # a removed primary, no CD8+ cells: the clipped branches
        work = np.full((module.SLOTS, module.WORK_ROWS, len(y)), np.nan)
        work[slot, module.STAGE] = y
        module.rhs(work, slot, module.STAGE, module.K3, p, derived)
        np.testing.assert_allclose(work[slot, module.K3], scenario.model.rhs(0.0, y, values), rtol=1e-10, atol=1e-300)
        work[slot, module.K3] = work[slot, module.CALLS] = np.nan
        assert np.isnan(work).sum() == work.size - len(y)  # it writes only its slot's rate and library-call rows
    held = p.copy()
    held[slot, -1] = 0.0
    module.derive(held, slot, derived)
    module.rhs(work, slot, module.STAGE, module.K3, held, derived)
    rates = scenario.model.rhs(0.0, y, values)
    rates[scenario.model.state_names.index("B")] = 0.0  # a burden counted by chance is held still by the ODE
    np.testing.assert_allclose(work[slot, module.K3], rates, rtol=1e-10, atol=1e-300)


def test_engine_choice(fast, monkeypatch):
    scenario = sim.load_scenario("irf7-silenced")
    assert choose_engine("auto", scenario) == "compiled"
    assert choose_engine("numpy", scenario) == "numpy"
    with pytest.raises(InputError, match="engine must be one of"):
        simulate_cohort(scenario, 5, 1, engine="fortran")
    monkeypatch.setattr(kernel, "available", lambda: False)
    assert choose_engine("auto", scenario) == "numpy"  # the fallback without the extra
    with pytest.raises(InputError, match=r"^engine='compiled' needs numba and sympy: pip install -e '\.\[fast\]'"):
        simulate_cohort(scenario, 5, 1, engine="compiled")


def test_engine_errors_spell_the_choice_as_the_caller_made_it(cli, monkeypatch):
    """Python is told about engine='compiled', the command line about --engine compiled."""
    monkeypatch.setattr(kernel, "available", lambda: False)
    outcome = cli("cohort", "irf7-silenced", "--n", 5, "--engine", "compiled")
    assert outcome.code != 0
    assert "--engine compiled needs numba and sympy" in outcome.err and "engine='" not in outcome.err
    monkeypatch.setattr(kernel, "available", lambda: True)
    monkeypatch.setattr(kernel, "supports", lambda model: False)
    with pytest.raises(InputError, match=r"engine='compiled' does not integrate .* use engine='numpy'$"):
        choose_engine("compiled", sim.load_scenario("irf7-silenced"))


def test_compilation_is_announced_once_and_cached_on_disk(fast, tmp_path):
    """A fresh cache compiles and says so in one line; the next process loads the compiled code silently, and both
    give the same numbers to the last bit (compiled in the running process, 6 of these 400 mice differed by up to
    1e-13 day from the cached code)."""
    code = ("import hashlib; from sim.cohort import simulate_cohort; "
            "c = simulate_cohort('ifn-dosed', 400, 7, engine='compiled', workers=1); "
            "print(hashlib.sha256(c.metastasis_day.tobytes() + c.endpoint_day.tobytes()).hexdigest())")
    env = {"TUMORSIM_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    assert first.stderr.count("\n") == 1 and "compiling" in first.stderr and str(tmp_path) in first.stderr
    assert second.stderr == ""
    assert first.stdout == second.stdout
    assert list(tmp_path.glob("kernel_irf7_*.py")) and list(tmp_path.glob("__pycache__/*.nbi"))


# --- issue 19: the kernel cache never imports code another user could have planted ---------------------------

PLANTED = "import pathlib; pathlib.Path({marker!r}).write_text('planted code ran')\n"
COHORT = "from sim.cohort import simulate_cohort; print(simulate_cohort('irf7-silenced', 20, 1, engine='compiled').n)"


def _plant(folder: Path, marker: Path) -> Path:
    """A kernel file of the right name, with code that leaves ``marker``, marked as compiled."""
    import numba

    name, _ = kernel.kernel_file("irf7", numba.__version__)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(PLANTED.format(marker=str(marker)), encoding="utf-8")
    (folder / name).with_suffix(".compiled").write_text("", encoding="utf-8")
    return folder / name


def _cohort_in_a_process(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", COHORT], capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_a_kernel_planted_in_a_cache_others_can_write_is_never_imported(fast, tmp_path):
    shared, marker = tmp_path / "shared-cache", tmp_path / "marker"
    _plant(shared, marker)
    shared.chmod(0o777)
    done = _cohort_in_a_process({"TUMORSIM_CACHE_DIR": str(shared)})
    assert done.returncode == 0 and done.stdout.strip() == "20", done.stderr
    assert not marker.exists()
    assert f"not using the kernel cache {shared}" in done.stderr and "writable by other users" in done.stderr


def test_a_kernel_file_that_differs_from_its_source_is_never_imported_and_is_healed(fast, tmp_path):
    import numba

    cache, marker = tmp_path / "own-cache", tmp_path / "marker"
    planted = _plant(cache, marker)
    cache.chmod(0o700)
    done = _cohort_in_a_process({"TUMORSIM_CACHE_DIR": str(cache)})
    assert done.returncode == 0 and done.stdout.strip() == "20", done.stderr
    assert not marker.exists()
    assert planted.read_text(encoding="utf-8") == kernel.kernel_file("irf7", numba.__version__)[1]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_kernel_planted_by_another_user_in_the_temporary_fallback_is_never_imported(fast, tmp_path):
    """HOME's cache cannot be made, so the cache falls back to $TMPDIR/tumorsim-cache-<uid>, which another user made."""
    temporary, marker = tmp_path / "tmp", tmp_path / "marker"
    fallback = temporary / f"tumorsim-cache-{os.getuid()}"
    _plant(fallback, marker)
    for path in (fallback, *fallback.iterdir()):
        os.chown(path, 65534, 65534)
    fallback.chmod(0o755)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    done = _cohort_in_a_process({"TMPDIR": str(temporary), "XDG_CACHE_HOME": str(blocked)})
    assert done.returncode == 0 and done.stdout.strip() == "20", done.stderr
    assert not marker.exists()
    assert "belongs to another user" in done.stderr
