"""The qualitative results of Bidwell et al. 2012, pinned as assertions on the shipped scenarios.

Days are compared with None (no metastasis detected in follow-up) read as infinity.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sim

BASELINE = Path(__file__).with_name("baseline.json")
TEN = {
    "irf7-silenced", "irf7-restored", "ifn-dosed", "irf7-silenced-ifnar-ko", "irf7-restored-ifnar-ko",
    "ifn-dosed-ifnar-ko", "irf7-restored-nk-depleted", "irf7-restored-cd8-depleted", "66cl4", "66cl4-irf7-knockdown",
}


def test_the_ten_scenarios_of_the_paper_are_shipped():
    assert set(sim.scenario_names("irf7")) == TEN


def test_baseline_arm_metastasizes_within_follow_up(runs):
    silenced = runs["irf7-silenced"]
    assert silenced.metastasis_day is not None
    assert 0 < silenced.metastasis_day < silenced.days


@pytest.mark.parametrize("protected", ["irf7-restored", "ifn-dosed"])
def test_irf7_silenced_metastasizes_before_protected_arms(protected, runs, day_of):
    assert day_of(runs["irf7-silenced"]) < day_of(runs[protected])


@pytest.mark.parametrize("protected", ["irf7-restored", "ifn-dosed"])
def test_protection_is_substantial(protected, runs, day_of):
    """Restoring Irf7 or dosing interferon delays metastasis by at least a week, not a rounding error."""
    assert day_of(runs[protected]) - day_of(runs["irf7-silenced"]) > 7


@pytest.mark.parametrize("knockout", ["irf7-restored-ifnar-ko", "ifn-dosed-ifnar-ko"])
def test_protection_is_lost_without_host_ifnar1(knockout, runs, day_of):
    silenced = day_of(runs["irf7-silenced"])
    day = day_of(runs[knockout])
    assert abs(day - silenced) <= 0.10 * silenced
    # and far earlier than the same arm in a wild-type host
    wild_type = knockout.removesuffix("-ifnar-ko")
    assert day < day_of(runs[wild_type])


@pytest.mark.parametrize("depleted", ["irf7-restored-nk-depleted", "irf7-restored-cd8-depleted"])
def test_each_depletion_arm_metastasizes_before_irf7_restored(depleted, runs, day_of):
    assert day_of(runs[depleted]) < day_of(runs["irf7-restored"])


def test_66cl4_knockdown_metastasizes_before_66cl4(runs, day_of):
    knockdown = runs["66cl4-irf7-knockdown"]
    assert knockdown.metastasis_day is not None
    assert knockdown.metastasis_day < knockdown.days
    assert day_of(knockdown) < day_of(runs["66cl4"])


def test_ifnar_loss_never_delays_irf7_silenced(runs, day_of):
    assert day_of(runs["irf7-silenced-ifnar-ko"]) <= day_of(runs["irf7-silenced"])


def test_more_irf7_activity_never_brings_metastasis_earlier(cli, day_of):
    activities = np.linspace(0.0, 1.0, 11)
    days = []
    for activity in activities:
        outcome = cli("run", "irf7-silenced", "--set", f"irf7_activity={activity:g}", "--json")
        assert outcome.code == 0, outcome.err
        report = json.loads(outcome.out)
        assert report["parameters"]["irf7_activity"] == pytest.approx(activity)
        days.append(day_of(report))
    earlier = [(a, b, d1, d2) for a, b, d1, d2 in zip(activities, activities[1:], days, days[1:]) if d2 < d1]
    assert not earlier, f"higher irf7_activity gave an earlier metastasis: {earlier}"
    assert days[-1] > days[0]  # and the grid spans a real effect


def test_baseline_file_lists_every_scenario():
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(baseline) == set(sim.scenario_names("irf7")), "run tests/make_baseline.py after adding or removing a scenario"


@pytest.mark.parametrize("name", sim.scenario_names("irf7"))
def test_metastasis_days_match_the_seeded_baseline(name, runs):
    """A moved day fails here; if the change is intended, rerun tests/make_baseline.py (see its docstring)."""
    expected = json.loads(BASELINE.read_text(encoding="utf-8"))[name]
    day = runs[name].metastasis_day
    if expected is None:
        assert day is None, f"{name} now metastasizes on day {day}; baseline: none"
    else:
        assert day is not None, f"{name} no longer metastasizes; baseline: day {expected}"
        assert abs(day - expected) < 0.05
