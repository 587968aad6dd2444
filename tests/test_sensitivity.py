"""Sensitivity analyses: local normalised sensitivities, Sobol indices, parameter ranges and the command."""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from checks import assert_one_line_error, strict_json
from scipy import stats

import sim
from sim.api import prepare
from sim.parameters import ParameterSet, load_parameter_file
from sim.scenarios import PARAMETER_DIR, SCENARIO_DIR
from sim.sensitivity import (
    DEFAULT_N,
    check_base_samples,
    local_sensitivity,
    ranged_parameters,
    sampling,
    short_meaning,
    sobol,
    sobol_analysis,
)

PARAMETERS = (PARAMETER_DIR / "irf7.toml").read_text(encoding="utf-8")
TINY = 16
"""Base samples of the quick Sobol runs: 16 x (23 + 2) = 400 model runs."""
WEAKER_CD8 = {"cd8_kill_max": 0.3}
"""irf7-restored stays metastasis-free at the defaults, which leaves no metastasis day to differentiate (every
index would be a censored 0). With CD8+ killing at 0.3 per day, inside its declared range [0.25, 0.6], it
metastasizes near day 45 with Irf7, interferon signalling, NK and CD8+ responses all still at work, so the
local analyses perturb around that."""
RANGED_COUNT = (24, 28)
"""How many irf7 parameters declare a range (26 when written): a sanity bracket, not an exact count."""


@pytest.fixture(scope="module")
def restored():
    """Local sensitivity of irf7-restored with ``WEAKER_CD8`` (see there)."""
    return local_sensitivity("irf7-restored", changes=WEAKER_CD8, workers=1)


@pytest.fixture(scope="module")
def tiny_sobol():
    return sobol_analysis("irf7-restored", n=TINY, seed=4, workers=1)


# --- local ----------------------------------------------------------------------------------------


def test_local_covers_every_nonzero_parameter_strongest_first(restored):
    scenario = prepare("irf7-restored", parameters=WEAKER_CD8)
    assert {e.name for e in restored.entries} == {n for n, p in scenario.parameters.items() if p.value != 0}
    sizes = [abs(e.index) for e in restored.entries]
    assert sizes == sorted(sizes, reverse=True)
    assert all(math.isfinite(e.index) for e in restored.entries)
    assert restored.metastasis_day == pytest.approx(sim.run("irf7-restored", parameters=WEAKER_CD8).metastasis_day,
                                                    abs=0.01)
    assert not restored.censored


@pytest.mark.parametrize("name, sign", [
    ("bone_growth_rate", -1),        # faster growth in bone: earlier metastasis
    ("bone_seeding_fraction", -1),   # more cells settling in bone: earlier
    ("cd8_kill_max", +1),            # stronger CD8 killing: later (Irf7 restored, CD8 cells primed)
    ("nk_kill", +1),                 # stronger NK killing: later
    ("detection_threshold", +1),     # a larger burden to detect takes longer to reach
])
def test_local_sensitivities_have_the_obvious_signs(restored, name, sign):
    assert np.sign(restored.index(name)) == sign


def test_local_agrees_with_one_sided_differences_of_single_runs(restored):
    """An independent path: per-mouse solve_ivp at tight tolerances, forward differences of 0.1 %."""
    base = sim.run("irf7-restored", parameters=WEAKER_CD8, rtol=1e-10, atol=1e-10).metastasis_day
    for entry in restored.entries[:4]:
        moved = sim.run("irf7-restored", parameters={**WEAKER_CD8, entry.name: entry.value * 1.001}, rtol=1e-10,
                        atol=1e-10)
        forward = (moved.metastasis_day - base) / base / 0.001
        assert forward == pytest.approx(entry.index, rel=0.03), entry.name


def test_parameters_at_their_maximum_get_a_one_sided_difference(restored):
    for name in ("irf7_activity", "ifnar"):  # both 1.0 = their maximum in irf7-restored
        entry = next(e for e in restored.entries if e.name == name)
        assert entry.difference == "backward" and entry.index > 0
    assert next(e for e in restored.entries if e.name == "cd8_kill_max").difference == "central"


def test_parameters_read_by_the_schedule_are_solved_in_their_own_scenario():
    """The dose volume turns IU into IU/mL in the schedule: a per-mouse array could not reach it.

    ifn-dosed is metastasis-free at the defaults; with ``WEAKER_CD8`` it metastasizes (near day 48), so the
    volume's effect on the day can be measured.
    """
    local = local_sensitivity("ifn-dosed", changes=WEAKER_CD8, workers=1)
    assert not local.censored
    entry = next(e for e in local.entries if e.name == "ifn_volume")
    larger = sim.run("ifn-dosed", parameters={**WEAKER_CD8, "ifn_volume": entry.value * 1.01}, rtol=1e-9,
                     atol=1e-9).metastasis_day
    assert entry.index < 0                                     # a larger volume dilutes each dose
    assert entry.day_high == pytest.approx(larger, abs=1e-3)


def test_no_metastasis_in_follow_up_is_a_clear_error_not_a_table_of_zeros(cli):
    with pytest.raises(sim.InputError, match="66cl4: no bone metastasis within the 120 days"):
        local_sensitivity("66cl4", workers=1)  # never reaches bone within follow-up
    assert_one_line_error(cli("sensitivity", "irf7-restored"), "irf7-restored", "no bone metastasis", "irf7-silenced")


def test_local_changes_and_workers_do_not_change_the_numbers(restored):
    two = local_sensitivity("irf7-restored", changes=WEAKER_CD8, workers=2)
    assert two == restored
    changed = local_sensitivity("irf7-restored", changes={"cd8_kill_max": 0.25}, workers=1)
    assert changed.metastasis_day < restored.metastasis_day


def test_local_sentences_name_the_top_parameters(restored):
    text = " ".join(restored.sentences())
    assert restored.entries[0].name in text and restored.entries[1].name in text


# --- Sobol on known functions -----------------------------------------------------------------------


def test_sobol_wrapper_recovers_the_indices_of_an_additive_function():
    """f = x0 + 2 x1 + 0 x2 with x ~ U(0, 1): variances 1/12, 4/12, 0, so S = 0.2, 0.8, 0 and no interactions."""
    estimate = sobol(lambda x: x[0] + 2 * x[1] + 0 * x[2], [stats.uniform()] * 3, n=1024, seed=0)
    assert estimate.first == pytest.approx([0.2, 0.8, 0.0], abs=0.03)
    assert estimate.total == pytest.approx([0.2, 0.8, 0.0], abs=0.03)
    for k in range(3):  # the intervals cover the true values
        assert estimate.first_ci[0, k] - 0.01 <= [0.2, 0.8, 0.0][k] <= estimate.first_ci[1, k] + 0.01


def test_sobol_wrapper_separates_alone_from_together():
    """f = x0 x1 with x ~ U(-1, 1): neither acts alone (first-order 0), all the variance is interaction (total 1)."""
    estimate = sobol(lambda x: x[0] * x[1], [stats.uniform(-1, 2)] * 2, n=1024, seed=1)
    assert estimate.first == pytest.approx([0, 0], abs=0.05)
    assert estimate.total == pytest.approx([1, 1], abs=0.05)


def test_sobol_wrapper_is_seeded():
    def f(x):
        return x[0] + x[1] ** 2

    a, b = (sobol(f, [stats.uniform()] * 2, n=64, seed=7) for _ in range(2))
    c = sobol(f, [stats.uniform()] * 2, n=64, seed=8)
    assert np.array_equal(a.first, b.first) and np.array_equal(a.total_ci, b.total_ci)
    assert not np.array_equal(a.first, c.first)


def test_sampling_is_log_uniform_only_for_wide_positive_ranges():
    assert sampling(1e-6, 1e-4) == "log-uniform"
    assert sampling(0.2, 0.8) == "uniform"
    assert sampling(10, 100) == "uniform"        # exactly a factor 10: uniform
    assert sampling(0.0, 5.0) == "uniform"       # zero cannot be sampled on a log scale


@pytest.mark.parametrize("raw", [8, "512", 1024])
def test_base_samples_accept_powers_of_two(raw):
    assert check_base_samples(raw) == int(raw)


@pytest.mark.parametrize("raw", [0, 4, 100, "abc", -8, True, "1e3"])
def test_base_samples_reject_others(raw):
    with pytest.raises(sim.InputError, match="power of 2"):
        check_base_samples(raw)


# --- Sobol on the model -------------------------------------------------------------------------------


def test_sobol_indices_are_finite_and_first_order_within_total(tiny_sobol):
    names = ranged_parameters(prepare("irf7-restored"))
    assert RANGED_COUNT[0] <= len(names) <= RANGED_COUNT[1]
    assert {e.name for e in tiny_sobol.entries} == set(names)
    assert tiny_sobol.evaluations == TINY * (len(names) + 2) == len(tiny_sobol.metastasis_day)
    for e in tiny_sobol.entries:
        values = [e.first_order, e.total_order, *e.first_order_ci, *e.total_order_ci]
        assert all(math.isfinite(v) for v in values), e.name
        assert e.total_order >= 0
        assert e.total_order_ci[0] <= e.total_order <= e.total_order_ci[1] + 1e-12
        # first-order <= total, within the noise: at 16 base samples the bootstrap bands of indices below 0.01 are
        # themselves noise, so they may miss each other by that much
        assert e.first_order_ci[0] <= e.total_order_ci[1] + 0.01, e.name
    totals = [e.total_order for e in tiny_sobol.entries]
    assert totals == sorted(totals, reverse=True)
    assert 0 < tiny_sobol.censored_fraction < 1   # over the ranges some mice metastasize and some stay free
    assert np.all(tiny_sobol.metastasis_day <= tiny_sobol.follow_up)


def test_sobol_samples_stay_in_their_ranges(tiny_sobol):
    for e in tiny_sobol.entries:
        values = tiny_sobol.samples[e.name]
        assert values.min() >= e.low and values.max() <= e.high, e.name


def test_sobol_is_reproducible_and_independent_of_workers_and_executor(tiny_sobol):
    again = sobol_analysis("irf7-restored", n=TINY, seed=4, workers=2)
    assert again.to_dict() == tiny_sobol.to_dict()
    with ThreadPoolExecutor(max_workers=2) as pool:
        custom = sobol_analysis("irf7-restored", n=TINY, seed=4, executor=pool)
    assert custom.to_dict() == tiny_sobol.to_dict()
    other = sobol_analysis("irf7-restored", n=TINY, seed=5, workers=1)
    assert other.to_dict() != tiny_sobol.to_dict()


def test_a_larger_sobol_run_ranks_bone_growth_and_cd8_killing_first():
    """Over the declared ranges of irf7-restored, bone growth and CD8+ killing matter most (nearly tied), NK killing
    of bone cells is among the top five, and NK killing of circulating cells matters far less than CD8+ killing.

    (A 4096-sample run gives total indices 0.34, 0.33 and 0.20 for cd8_kill_max, bone_growth_rate and nk_kill,
    0.038 for nk_ctc_kill, with cd8_kill_max sampled over its full range 0.2-0.8 per day.) With 26 ranged
    parameters the estimates are noisy, so this uses 512 base samples.
    """
    analysis = sobol_analysis("irf7-restored", n=512, seed=1)
    names = [e.name for e in analysis.entries]
    assert set(names[:2]) == {"bone_growth_rate", "cd8_kill_max"}
    assert "nk_kill" in names[:5]
    assert analysis.entry("nk_ctc_kill").total_order < analysis.entry("cd8_kill_max").total_order / 5


def test_sobol_refuses_ranges_the_schedule_depends_on():
    scenario = prepare("ifn-dosed")
    volume = scenario.parameters["ifn_volume"]
    params = ParameterSet({**scenario.parameters, "ifn_volume": dataclasses.replace(volume, range=(2.0, 8.0))})
    with pytest.raises(sim.InputError, match="ifn_volume.*schedule"):
        sobol_analysis(dataclasses.replace(scenario, parameters=params), n=8, workers=1)


def test_sobol_needs_ranges_and_a_metastasis_day():
    with pytest.raises(sim.InputError, match="no metastasis day"):
        sobol_analysis("kuznetsov1994-escape", n=8, workers=1)
    with pytest.raises(sim.InputError, match="no metastasis day"):
        local_sensitivity("kuznetsov1994-escape", workers=1)


# --- ranges in the parameter file ------------------------------------------------------------------------


def test_shipped_ranges_bracket_their_values_and_say_why():
    parameters = load_parameter_file(PARAMETER_DIR / "irf7.toml").parameters
    ranged = [p for p in parameters.values() if p.range is not None]
    assert RANGED_COUNT[0] <= len(ranged) <= RANGED_COUNT[1]
    for p in ranged:
        low, high = p.range
        assert 0 <= low <= p.value <= high and low < high, p.name
        assert p.maximum is None or high <= p.maximum
        assert len(p.range_source) > 20, f"{p.name}: say where the range comes from"


def test_a_changed_value_moves_its_range():
    line = prepare("66cl4")  # the tumour line halves bone seeding (2.5e-4 instead of 5e-4)
    assert line.parameters["bone_seeding_fraction"].range == pytest.approx((2.5e-5, 2.5e-3))
    changed = prepare("irf7-restored", parameters={"cd8_kill_max": 0.6, "nk_kill": 0})  # 1.2 x the default 0.5
    assert changed.parameters["cd8_kill_max"].range == pytest.approx((0.24, 0.96))
    assert changed.parameters["cd8_kill_max"].narrowed_range == pytest.approx((0.3, 0.72))  # moves with it
    assert changed.parameters["nk_kill"].range is None       # switched off: nothing left to vary
    assert "nk_kill" not in ranged_parameters(changed)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    assert PARAMETERS.count(old) == 1, f"{old!r} should occur exactly once in irf7.toml"
    path = tmp_path / "my-parameters.toml"
    path.write_text(PARAMETERS.replace(old, new, 1), encoding="utf-8")
    return path


CD8_KILL_RANGE = "range = [0.2, 0.8]"
"""cd8_kill_max's declared range (value 0.5) as written in the shipped parameter file."""
RANGE_CASES = {
    "value-outside": (CD8_KILL_RANGE, "range = [0.55, 0.6]", ["cd8_kill_max.range", "low <= value <= high"]),
    "reversed": (CD8_KILL_RANGE, "range = [0.6, 0.25]", ["cd8_kill_max.range", "low <= value <= high"]),
    "collapsed": (CD8_KILL_RANGE, "range = [0.5, 0.5]", ["cd8_kill_max.range", "low < high"]),
    "negative": (CD8_KILL_RANGE, "range = [-0.25, 0.6]", ["cd8_kill_max.range low", ">= 0"]),
    "not-a-number": (CD8_KILL_RANGE, 'range = ["low", 0.6]', ["cd8_kill_max.range low", "'low'"]),
    "one-number": (CD8_KILL_RANGE, "range = 0.6", ["cd8_kill_max.range", "two numbers"]),
    "three-numbers": (CD8_KILL_RANGE, "range = [0.25, 0.5, 0.6]", ["cd8_kill_max.range", "two numbers"]),
    "above-maximum": ("range = [5e-5, 5e-3]", "range = [5e-5, 2.0]", ["bone_seeding_fraction.range high", "<= 1"]),
    # cd8_antigen_half is declared positive
    "zero-for-positive": ("range = [1e5, 1e8]", "range = [0.0, 1e8]", ["cd8_antigen_half.range low", "> 0"]),
    "narrowed-outside": ("narrowed_range = [0.25, 0.6]", "narrowed_range = [0.25, 0.9]",
                         ["cd8_kill_max.narrowed_range", "inside range [0.2, 0.8]"]),
    "narrowed-reversed": ("narrowed_range = [0.25, 0.6]", "narrowed_range = [0.6, 0.25]",
                          ["cd8_kill_max.narrowed_range", "low <= value <= high"]),
    "narrowed-without-reason": ("narrowed_range = [0.25, 0.6]", "",
                                ["cd8_kill_max", "'narrowed_by' without a 'narrowed_range"]),
    "source-alone": (CD8_KILL_RANGE + "\n", "", ["cd8_kill_max", "'range_source' without"]),
}


@pytest.mark.parametrize("case", RANGE_CASES, ids=list(RANGE_CASES))
def test_bad_ranges_name_the_file_and_key(tmp_path, case):
    old, new, fragments = RANGE_CASES[case]
    path = _broken(tmp_path, old, new)
    with pytest.raises(sim.InputError) as error:
        load_parameter_file(path)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_bad_range_reaches_the_command_as_one_line(cli, tmp_path):
    parameters = _broken(tmp_path, CD8_KILL_RANGE, "range = [0.6, 0.25]")
    scenario = tmp_path / "mine.toml"
    base = (SCENARIO_DIR / "irf7-restored.toml").read_text(encoding="utf-8")
    scenario.write_text(f'parameter_file = "{parameters.name}"\n' + base, encoding="utf-8")
    assert_one_line_error(cli("sensitivity", scenario, "--global", "--n", "8"), str(parameters), "cd8_kill_max.range")


# --- the command --------------------------------------------------------------------------------------------


def test_command_local_json(cli):
    outcome = cli("sensitivity", "irf7-restored", "--set", "cd8_kill_max=0.3", "--json")  # WEAKER_CD8
    assert outcome.code == 0, outcome.err
    data = strict_json(outcome.out)
    assert data["analysis"] == "local" and data["scenario"] == "irf7-restored" and data["step"] == 0.01
    assert data["censored"] is False
    assert {"version", "follow_up", "metastasis_day", "censored", "output", "parameters"} <= set(data)
    first = data["parameters"][0]
    assert {"rank", "name", "meaning", "unit", "value", "index", "day_low", "day_high", "difference",
            "censored"} <= set(first)
    assert [p["rank"] for p in data["parameters"]] == list(range(1, len(data["parameters"]) + 1))
    assert first["name"] == "bone_growth_rate" and first["index"] < 0


def test_command_global_json_text_and_plot(cli, tmp_path):
    outcome = cli("sensitivity", "irf7-restored", "--global", "--n", "8", "--seed", "2", "--workers", "1", "--json")
    assert outcome.code == 0, outcome.err
    data = strict_json(outcome.out)
    assert data["analysis"] == "global" and data["n"] == 8 and data["seed"] == 2 and data["ranked_by"] == "total_order"
    assert {"evaluations", "censored_fraction", "mean_day", "sd_day", "confidence", "follow_up"} <= set(data)
    entry = data["parameters"][0]
    assert {"rank", "name", "meaning", "unit", "low", "high", "sampling", "range_source", "first_order",
            "first_order_ci", "total_order", "total_order_ci"} <= set(entry)

    plot = tmp_path / "sobol.png"
    text = cli("sensitivity", "irf7-restored", "--global", "--n", "8", "--workers", "1", "--plot", plot)
    assert text.code == 0 and plot.stat().st_size > 0
    lines = text.out.splitlines()
    assert lines[0].split()[:3] == ["rank", "parameter", "meaning"] and set(lines[1]) <= {"-", " "}
    assert any("matters most" in line for line in lines)
    assert_one_line_error(cli("sensitivity", "irf7-restored", "--global", "--n", "8", "--plot", plot), "--plot", "exists")


def test_command_reports_progress_on_stderr(cli):
    ranged = len(ranged_parameters(prepare("irf7-restored")))
    assert RANGED_COUNT[0] <= ranged <= RANGED_COUNT[1]
    runs = 8 * (ranged + 2)  # n (d + 2): 224 with the 26 ranged parameters when written
    outcome = cli("sensitivity", "irf7-restored", "--global", "--n", "8", "--workers", "1", "--json")
    assert f"Sobol analysis of irf7-restored ({runs} runs)" in outcome.err and "done" in outcome.err
    assert outcome.out.startswith("{")


def test_command_local_text_and_tornado(cli, tmp_path):
    plot = tmp_path / "tornado.svg"
    outcome = cli("sensitivity", "irf7-restored", "--set", "cd8_kill_max=0.3", "--plot", plot)
    assert outcome.code == 0, outcome.err
    assert "most sensitive to" in outcome.out and plot.stat().st_size > 0


@pytest.mark.parametrize("argv, fragments", [
    (["irf7-restord"], ["unknown scenario", "'irf7-restored'"]),
    (["irf7-restored", "--n", "16"], ["--n and --seed", "--global"]),
    (["irf7-restored", "--global", "--n", "100"], ["--n", "power of 2"]),
    (["irf7-restored", "--global", "--seed", "-1"], ["--seed"]),
    (["irf7-restored", "--set", "nk_kil=1"], ["--set", "'nk_kill'"]),
    (["irf7-restored", "--set", "nk_kill=-1"], ["--set", "nk_kill"]),
    (["irf7-restored", "--workers", "0"], ["--workers"]),
    (["kuznetsov1994-escape"], ["no metastasis day"]),
])
def test_command_bad_input_is_one_line(cli, argv, fragments):
    assert_one_line_error(cli("sensitivity", *argv), *fragments)


def test_help_states_the_default_sample_size(cli, capsys):
    from sim.cli import build_parser

    text = build_parser()._subparsers._group_actions[0].choices["sensitivity"].format_help()
    assert f"default {DEFAULT_N}" in text


# --- figures -------------------------------------------------------------------------------------------------


def test_charts_label_every_bar_with_its_meaning_and_name(restored, tiny_sobol):
    from sim.plotting import plot_sobol, plot_tornado

    ax = plot_tornado(restored, top=10)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 10 and labels[0].endswith("bone_growth_rate")    # strongest at the top
    assert short_meaning(restored.entries[0].meaning) in labels[0]
    assert "dimensionless" in ax.get_xlabel()
    ax = plot_sobol(tiny_sobol)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].endswith(tiny_sobol.entries[0].name) and len(labels) == len(tiny_sobol.entries)
    assert "variance" in ax.get_xlabel()
