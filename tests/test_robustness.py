"""How sure is the model: the paper's conclusions across parameter uncertainty (sim.robustness, issue 8)."""

from __future__ import annotations

import numpy as np
import pytest
from checks import assert_one_line_error, strict_json

import sim
from sim.errors import InputError
from sim.robustness import (
    CONCLUSIONS_FILE,
    REQUIRED,
    Conclusion,
    DelaySpec,
    DelaySummary,
    Runs,
    check_robustness,
    load_conclusions,
    ranged_parameters,
    varied_parameters,
)

NAN = np.nan


@pytest.fixture(scope="module")
def checked():
    """The paper's conclusions over 512 range samples, seeds 1 and 2 (about 5 s each on 2 cores)."""
    return {seed: check_robustness(n=512, seed=seed) for seed in (1, 2)}


# --- the Done-when of issue 8 ------------------------------------------------------------------------


def test_the_declared_conclusions_are_the_papers_orderings():
    declared = load_conclusions()
    pairs = {(c.earlier, c.later) for c in declared.conclusions}
    assert pairs == {
        ("irf7-silenced", "irf7-restored"), ("irf7-silenced", "ifn-dosed"),
        ("irf7-silenced-ifnar-ko", "irf7-silenced"), ("irf7-restored-ifnar-ko", "irf7-restored"),
        ("ifn-dosed-ifnar-ko", "ifn-dosed"), ("irf7-restored-nk-depleted", "irf7-restored"),
        ("irf7-restored-cd8-depleted", "irf7-restored"), ("66cl4-irf7-knockdown", "66cl4"),
    }
    assert set(declared.arms) == set(sim.scenario_names("irf7"))


@pytest.mark.parametrize("seed", [1, 2])
def test_every_conclusion_holds_at_the_defaults_one_at_a_time_and_over_the_ranges(seed, checked):
    result = checked[seed]
    for check in result.checks:
        name = f"{check.conclusion.earlier} before {check.conclusion.later}"
        assert check.at_defaults, name
        assert check.one_at_a_time >= REQUIRED, (name, check.one_at_a_time, check.failures)
        assert check.over_ranges >= REQUIRED, (name, check.over_ranges)


def test_one_at_a_time_covers_every_non_schedule_non_genotype_parameter(checked):
    result = checked[1]
    params = sim.load_scenario("irf7-silenced").parameters
    expected = {n for n, p in params.items() if p.basis not in ("schedule", "genotype") and p.value != 0}
    assert set(result.varied) == expected
    assert len(expected) >= 35
    assert {"cd8_death", "cd8_memory_death", "host_ifn_production", "bone_growth_rate"} <= expected
    assert not {"ifnar", "irf7_activity", "nk_depletion_rate"} & set(result.varied)


def test_failures_are_named_by_parameter_and_factor(checked):
    for check in checked[1].checks:
        assert len(check.failures) == round((1 - check.one_at_a_time) * 2 * len(checked[1].varied))
        for label in check.failures:
            name, factor = label.rsplit(" x", 1)
            assert name in checked[1].varied and factor in ("0.5", "2")


def test_delays_are_reported_as_ranges_that_bracket_their_median(checked):
    for delay in checked[1].delays:
        low, median, high = delay.quantiles()
        assert 0 < low <= median <= high
        assert 0 <= delay.free_fraction < 1
    sentences = " ".join(checked[1].sentences())
    assert "90 % of samples between" in sentences and "median" in sentences


def test_same_seed_same_numbers_and_another_seed_other_samples(checked):
    again = check_robustness(n=512, seed=1)
    assert again.to_dict() == checked[1].to_dict()
    assert [c.over_ranges for c in checked[2].checks] != [c.over_ranges for c in checked[1].checks]


# --- the rule: ties and missing metastases fail --------------------------------------------------------


def _runs(earlier, later_met, later_leaves):
    return Runs(("a", "b", "c", "d"), {"E": np.array(earlier), "L": np.array(later_met)},
                {"E": np.array(earlier), "L": np.array(later_leaves)})


def test_holds_needs_an_earlier_metastasis_by_more_than_the_tie_tolerance():
    runs = _runs([30.0, 30.0, 30.0, NAN], [30.05, 31.0, NAN, NAN], [30.05, 31.0, 120.0, 120.0])
    holds = runs.holds(Conclusion("E", "L", "claim"), tie_days=0.1)
    # a tie; a clear difference; a later arm free to follow-up; an earlier arm without metastasis
    assert holds.tolist() == [False, True, True, False]


def test_a_later_arm_culled_before_the_earlier_arms_metastasis_does_not_count():
    runs = _runs([30.0, 20.0, NAN, NAN], [NAN, NAN, NAN, NAN], [26.0, 26.0, 26.0, 26.0])
    assert runs.holds(Conclusion("E", "L", "claim"), tie_days=0.1).tolist() == [False, True, False, False]


def test_delay_quantiles_read_censored_runs_as_beyond_follow_up():
    summary = DelaySummary(DelaySpec("L", "E", "days"), np.inf, np.array([5.0, 10.0, np.inf, np.inf, NAN]))
    low, median, high = summary.quantiles()
    assert low == 5.0 and np.isinf(high)
    assert summary.free_fraction == pytest.approx(0.4)


# --- declared parameters -------------------------------------------------------------------------------


def test_genotype_and_schedule_parameters_are_never_varied():
    scenario = sim.load_scenario("irf7-restored")
    for name in (*varied_parameters(scenario), *ranged_parameters(scenario)):
        assert scenario.parameters[name].basis not in ("schedule", "genotype")


def test_ranges_narrowed_by_the_paper_say_so():
    source = sim.load_scenario("irf7-silenced").parameters["cd8_kill_max"].range_source
    assert "Bidwell" in source and "narrowed" in source


# --- the conclusions file ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fragment"), [
    ("title = 'x'\n", "needs at least one [[conclusion]]"),
    ("[[conclusion]]\nearlier = 'a'\nlater = 'b'\n", "'claim' must be text"),
    ("[[conclusion]]\nearlier = 'a'\nlater = 'b'\nclaim = 'c'\nsoon = 1\n", "soon"),
    ("conclusion = 5\n", "[[conclusion]]"),
    ("tie_days = 'x'\n[[conclusion]]\nearlier = 'a'\nlater = 'b'\nclaim = 'c'\n", "tie_days"),
])
def test_bad_conclusion_files_name_the_file_and_key(tmp_path, text, fragment):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_conclusions(path)
    assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_an_unknown_arm_is_a_one_line_error(cli, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("[[conclusion]]\nearlier = 'irf7-silenced'\nlater = 'irf7-restord'\nclaim = 'c'\n", encoding="utf-8")
    assert_one_line_error(cli("robustness", "--conclusions", path, "--n", 8), "irf7-restord", "did you mean")


def test_the_shipped_file_is_the_default():
    assert load_conclusions().source == CONCLUSIONS_FILE


# --- the command ---------------------------------------------------------------------------------------


def test_command_prints_the_table_and_writes_json_and_a_figure(cli, tmp_path):
    plot = tmp_path / "robust.png"
    outcome = cli("robustness", "--n", 32, "--seed", 3, "--plot", plot)
    assert outcome.code == 0, outcome.err
    assert "66cl4-irf7-knockdown" in outcome.out and "over ranges (n=32)" in outcome.out
    assert plot.stat().st_size > 10_000
    report = strict_json(cli("robustness", "--n", 32, "--seed", 3, "--json").out)
    assert report["seed"] == 3 and report["samples_over_ranges"] == 32 and report["version"] == sim.__version__
    assert len(report["conclusions"]) == 8
    assert all(0 <= c["over_ranges_fraction"] <= 1 for c in report["conclusions"])


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--n", "0"], "--n"), (["--n", "x"], "--n"), (["--seed", "-1"], "--seed"),
    (["--set", "nope=1"], "nope"), (["--conclusions", "/no/such.toml"], "/no/such.toml"),
])
def test_bad_flags_get_one_line(cli, flags, fragment):
    assert_one_line_error(cli("robustness", *flags), fragment)


def test_the_summary_says_which_ranges_the_findings_narrowed(checked):
    result = next(iter(checked.values())) if isinstance(checked, dict) else checked
    assert result.narrowed == ("cd8_kill_max",)
    assert "cd8_kill_max was narrowed using the paper's own findings" in result.summary()
    assert result.to_dict()["ranges_narrowed_by_the_findings"] == ["cd8_kill_max"]
