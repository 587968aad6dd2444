"""How sure is the model: the paper's conclusions across parameter uncertainty (sim.robustness, issue 8)."""

from __future__ import annotations

import numpy as np
import pytest
from checks import assert_one_line_error, strict_json

import sim
from sim.conclusions import (
    CONCLUSIONS_FILE,
    Conclusion,
    DelaySpec,
    Difference,
    load_conclusions,
    shifted_schedule,
)
from sim.errors import InputError
from sim.robustness import (
    REQUIRED,
    DelaySummary,
    Worlds,
    check_robustness,
    ranged_parameters,
    varied_parameters,
)

NAN, INF = np.nan, np.inf


@pytest.fixture(scope="module")
def checked():
    """The paper's conclusions on 100-mouse cohorts over 128 samples, seeds 1 and 2 (about 20 s each on 2 cores)."""
    return {seed: check_robustness(n=128, mice=100, seed=seed) for seed in (1, 2)}


# --- the Done-when of issues 8 and 18 -------------------------------------------------------------------


def test_the_declared_orderings_are_the_papers_and_every_arm_is_used():
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
def test_the_papers_orderings_hold_on_cohorts_at_the_defaults_one_at_a_time_and_over_the_ranges(seed, checked):
    result = checked[seed]
    orderings = [c for c in result.checks if isinstance(c.conclusion, Conclusion)]
    assert len(orderings) == 8
    for check in orderings:
        assert check.at_defaults, check.conclusion.label
        assert check.one_at_a_time >= REQUIRED, (check.conclusion.label, check.one_at_a_time, check.failures)
        assert check.over_ranges >= REQUIRED, (check.conclusion.label, check.over_ranges)


def test_the_check_covers_the_schedule_and_the_restored_ranges(checked):
    result = checked[1]
    assert {r.name for r in result.schedule} == {"surgery_shift", "dose_start_shift", "dose_factor",
                                                 "depletion_start_shift", "depletion_stop_shift"}
    assert {"ifn_ec50", "cd8_antigen_half", "nk_ifn_kill_boost", "cd8_kill_max"} <= set(result.ranged)
    params = sim.load_scenario("irf7-silenced").parameters
    assert params["ifn_ec50"].range == (10.0, 100.0)
    assert params["cd8_kill_max"].range == (0.2, 0.8) and params["cd8_kill_max"].narrowed_range == (0.25, 0.6)


def test_the_check_can_fail_the_sizes_of_protection_are_evidence_and_fail_somewhere(checked):
    """The orderings follow from the wiring; the sizes (differences, a least delay) are what can fail."""
    result = checked[1]
    evidence = result.evidence
    assert {type(c.conclusion) for c in evidence} == {Difference, DelaySpec}
    assert all(c.conclusion.by_construction for c in result.checks if not c.evidence)
    assert all(c.at_defaults for c in evidence)
    assert min(c.over_ranges for c in evidence) < REQUIRED  # not a check that passes whatever happens
    text = result.summary()
    assert f"of the {len(evidence)} conclusions that could fail" in text
    assert "Not counted as evidence: 8 conclusions hold by construction" in text


def test_the_narrowed_pass_rate_uses_only_the_samples_inside_the_narrowed_range(checked):
    result = checked[1]
    assert result.narrowed == ("cd8_kill_max",)
    assert 0 < result.inside_narrowed < result.n
    assert result.to_dict()["samples_inside_the_narrowed_ranges"] == result.inside_narrowed
    assert "narrowed (n=" in result.table()


def test_one_at_a_time_covers_every_non_schedule_non_genotype_parameter(checked):
    result = checked[1]
    params = sim.load_scenario("irf7-silenced").parameters
    expected = {n for n, p in params.items() if p.basis not in ("schedule", "genotype") and p.value != 0}
    assert set(result.varied) == expected
    assert len(expected) >= 35
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
        assert 0 <= low <= median <= high
        assert 0 <= delay.free_fraction < 1
    text = " ".join(checked[1].sentences())
    assert "90 % between" in text and "samples in which the irf7-silenced median is reached" in text
    for delay in checked[1].delays:  # every sample counts towards the fraction free, not only the measured ones
        assert delay.free_fraction >= np.mean(np.isinf(delay.values))


def test_same_seed_same_numbers_and_another_seed_other_samples(checked):
    again = check_robustness(n=128, mice=100, seed=1)
    assert again.to_dict() == checked[1].to_dict()
    assert [c.over_ranges for c in checked[2].checks] != [c.over_ranges for c in checked[1].checks]


# --- the rules: medians, fractions, ties -------------------------------------------------------------------


def _worlds(median, free_end, free_60=None):
    """Two arms E and L over four worlds, follow-up 120 days."""
    free = {arm: {120.0: np.array(free_end[arm]), 60.0: np.array((free_60 or free_end)[arm])} for arm in "EL"}
    return Worlds(("a", "b", "c", "d"), {arm: np.array(median[arm]) for arm in "EL"}, free, {"E": 120.0, "L": 120.0})


def test_an_ordering_needs_an_earlier_median_or_fewer_free_mice_beyond_the_ties():
    worlds = _worlds({"E": [30.0, 30.0, 30.0, INF], "L": [30.2, 31.0, INF, INF]},
                     {"E": [0.0, 0.0, 0.0, 0.6], "L": [0.0, 0.0, 0.6, 0.9]})
    holds = worlds.holds(Conclusion("E", "L", "claim"), tie_days=0.5, tie_fraction=0.05)
    # a tie of medians; a clear difference; the later median not reached; neither reached, fewer free
    assert holds.tolist() == [False, True, True, True]
    closer = _worlds({"E": [INF, INF, 40.0, INF], "L": [INF, 30.0, INF, INF]},
                     {"E": [0.6, 0.6, 0.2, NAN], "L": [0.63, 0.0, 0.8, 0.9]})
    # fractions within the tie; the earlier arm not reached but the later one is; clear; not estimated
    assert closer.holds(Conclusion("E", "L", "claim"), 0.5, 0.05).tolist() == [False, False, True, False]


def test_a_difference_compares_fractions_free_on_its_day_and_a_delay_its_medians():
    worlds = _worlds({"E": [30.0, 30.0, INF, 30.0], "L": [33.0, 31.0, 40.0, INF]},
                     {"E": [0.0] * 4, "L": [0.0] * 4}, {"E": [0.1, 0.2, 0.5, 0.0], "L": [0.5, 0.5, 0.6, NAN]})
    difference = Difference("L", "E", 60.0, 0.4, "claim", "source")
    assert worlds.holds(difference, 0.5, 0.05).tolist() == [True, False, False, False]
    delay = DelaySpec("L", "E", "days", at_least=2.0, claim="claim")
    assert worlds.delay(delay).tolist()[:2] == [3.0, 1.0] and np.isnan(worlds.delay(delay)[2])
    assert worlds.holds(delay, 0.5, 0.05).tolist() == [True, False, False, True]


def test_delay_quantiles_read_medians_beyond_follow_up_as_infinite_and_count_every_sample_free():
    """The last sample: both medians beyond follow-up, so no delay, but the arm's mice stayed free."""
    summary = DelaySummary(DelaySpec("L", "E", "days"), INF, np.array([5.0, 10.0, INF, INF, NAN]),
                           np.array([False, False, True, True, True]))
    low, median, high = summary.quantiles()
    assert low == 5.0 and np.isinf(high) and summary.measured == 4
    assert summary.free_fraction == pytest.approx(0.6)


# --- the schedule's uncertainty -----------------------------------------------------------------------------


def test_schedule_shifts_move_surgery_doses_and_depletions():
    dosed = shifted_schedule(sim.load_scenario("ifn-dosed"), {"surgery_shift": -1.5, "dose_start_shift": 2.0,
                                                              "dose_factor": 0.25})
    entries = {e["event"]: e for e in dosed.schedule_entries}
    assert entries["resection"]["day"] == 12.5
    assert entries["ifn-dose"]["start"] == 3.0 and entries["ifn-dose"]["amount"] == 2.5e4
    depleted = shifted_schedule(sim.load_scenario("irf7-restored-nk-depleted"),
                                {"depletion_start_shift": 3.0, "depletion_stop_shift": -20.0})
    window = next(e for e in depleted.schedule_entries if e["event"] == "depletion")
    assert (window["start"], window["stop"]) == (3.0, 40.0)
    assert shifted_schedule(dosed, {}) is dosed


# --- declared parameters -------------------------------------------------------------------------------


def test_genotype_and_schedule_parameters_are_never_varied():
    scenario = sim.load_scenario("irf7-restored")
    for name in (*varied_parameters(scenario), *ranged_parameters(scenario)):
        assert scenario.parameters[name].basis not in ("schedule", "genotype")


def test_ranges_narrowed_by_the_paper_say_so():
    param = sim.load_scenario("irf7-silenced").parameters["cd8_kill_max"]
    assert "Bidwell" in param.narrowed_by and "circular" in param.narrowed_by


# --- the conclusions file ------------------------------------------------------------------------------


ORDERING = "[[conclusion]]\nearlier = 'a'\nlater = 'b'\nclaim = 'c'\n"


@pytest.mark.parametrize(("text", "fragment"), [
    ("title = 'x'\n", "needs at least one [[conclusion]]"),
    ("[[conclusion]]\nearlier = 'a'\nlater = 'b'\n", "missing key 'claim'"),
    ("[[conclusion]]\nearlier = 'a'\nlater = 'b'\nclaim = 5\n", "'claim' must be text"),
    ("[[conclusion]]\nearlier = 'a'\nlater = 'b'\nclaim = 'c'\nsoon = 1\n", "soon"),
    ("conclusion = 5\n", "[[conclusion]]"),
    ("tie_days = 'x'\n[[conclusion]]\nearlier = 'a'\nlater = 'b'\nclaim = 'c'\n", "tie_days"),
    ("tie_fraction = 1.5\n" + ORDERING, "tie_fraction"),
    ("[[conclusion]]\nearlier = 'a'\nlater = 'a'\nclaim = 'c'\n", "conclusion 1: 'earlier' and 'later' name the same arm"),
    (ORDERING + "[[difference]]\narm = 'a'\nreference = 'b'\nday = 60\nat_least = 40\nclaim = 'c'\nsource = 's'\n",
     "difference 1: 'at_least' is a difference of fractions"),
    (ORDERING + "[[difference]]\narm = 'a'\nreference = 'b'\nday = '60'\nat_least = 0.4\nclaim = 'c'\nsource = 's'\n",
     "difference 1: 'day'"),
    (ORDERING + "[[delay]]\narm = 'a'\nreference = 'b'\nmeaning = 'm'\nat_least = 2\n", "needs a 'claim'"),
    (ORDERING + "[schedule.surgery_day]\nrange = [1, 2]\n", "schedule.surgery_day: unknown schedule uncertainty"),
    (ORDERING + "[schedule.dose_factor]\nrange = [0, 2]\nunit = '1'\nmeaning = 'm'\nsource = 's'\n", "must be > 0"),
    (ORDERING + "[schedule.surgery_shift]\nrange = [2, 1]\nunit = 'day'\nmeaning = 'm'\nsource = 's'\n", "low < high"),
    (ORDERING + "[schedule.surgery_shift]\nrange = [-1, 1]\nunit = 'days'\nmeaning = 'm'\nsource = 's'\n",
     "unit must be 'day'"),
    (ORDERING + "[schedule.surgery_shift]\nrange = [-1, 1]\nunit = 'day'\nmeaning = 'm'\n", "missing key 'source'"),
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
    assert_one_line_error(cli("robustness", "--conclusions", path, "--n", 8), str(path), "arm 'irf7-restord'",
                          "did you mean")


def test_a_difference_read_after_the_follow_up_is_a_one_line_error(cli, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(ORDERING.replace("'a'", "'irf7-silenced'").replace("'b'", "'irf7-restored'")
                    + "[[difference]]\narm = 'irf7-restored'\nreference = 'irf7-silenced'\nday = 600\nat_least = 0.4\n"
                      "claim = 'c'\nsource = 's'\n", encoding="utf-8")
    assert_one_line_error(cli("robustness", "--conclusions", path, "--n", 8), str(path), "day 600",
                          "follow-up of 120 days")


def test_the_shipped_file_is_the_default():
    assert load_conclusions().source == CONCLUSIONS_FILE


# --- the command ---------------------------------------------------------------------------------------


def test_command_prints_the_table_and_writes_json_and_a_figure(cli, tmp_path):
    plot = tmp_path / "robust.png"
    outcome = cli("robustness", "--n", 16, "--mice", 20, "--seed", 3, "--plot", plot)
    assert outcome.code == 0, outcome.err
    assert "66cl4-irf7-knockdown" in outcome.out and "over ranges (n=16)" in outcome.out
    assert "a cohort of 20 mice with chance in the bone (seed 3)" in outcome.out
    assert plot.stat().st_size > 10_000
    report = strict_json(cli("robustness", "--n", 16, "--mice", 20, "--seed", 3, "--json").out)
    assert report["seed"] == 3 and report["samples_over_ranges"] == 16 and report["version"] == sim.__version__
    assert report["mice_per_arm_and_world"] == 20 and report["chance"] is True
    assert len(report["conclusions"]) == 14 and set(report["schedule_ranges"]) >= {"surgery_shift", "dose_factor"}
    assert all(0 <= c["over_ranges_fraction"] <= 1 for c in report["conclusions"])


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--n", "0"], "--n"), (["--n", "x"], "--n"), (["--seed", "-1"], "--seed"), (["--mice", "0"], "--mice"),
    (["--mice", "10001"], "--mice"), (["--engine", "fast"], "--engine"),
    (["--set", "nope=1"], "nope"), (["--conclusions", "/no/such.toml"], "/no/such.toml"),
])
def test_bad_flags_get_one_line(cli, flags, fragment):
    assert_one_line_error(cli("robustness", *flags), fragment)


def test_without_the_compiled_engine_the_check_says_in_one_line_what_to_install(tmp_path, monkeypatch, capsys):
    import sim.kernel

    path = tmp_path / "two-arms.toml"
    path.write_text("[[conclusion]]\nearlier = 'irf7-silenced'\nlater = 'irf7-restored'\nclaim = 'c'\n", encoding="utf-8")
    monkeypatch.setattr(sim.kernel, "available", lambda: False)
    result = check_robustness(path, n=1, mice=2, seed=0, workers=1)
    assert result.engine == "numpy"
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and sim.kernel.INSTALL in notice[0]
