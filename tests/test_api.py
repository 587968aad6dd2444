"""The Python API a learner starts from: sim.run, Result, sim.compare, Scenario.with_changes."""

from __future__ import annotations

import csv
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

import sim

STATES = ("P", "C", "B", "N", "L", "M", "Q", "I", "S")


@pytest.fixture(scope="module")
def restored() -> sim.Result:
    return sim.run("irf7-restored", days=90)


def test_run_returns_a_result(restored):
    assert isinstance(restored, sim.Result)
    assert restored.name == "irf7-restored"
    assert restored.model == "irf7"
    assert restored.days == 90
    assert restored.time[0] == 0 and restored.time[-1] == pytest.approx(90)
    assert np.all(np.diff(restored.time) >= 0)
    assert restored.state_names == STATES
    assert restored.values.shape == (len(STATES), len(restored.time))
    assert restored.version == sim.__version__


def test_named_states(restored):
    burden = restored["B"]
    assert isinstance(burden, np.ndarray)
    assert burden.shape == restored.time.shape
    np.testing.assert_array_equal(burden, restored.values[2])
    with pytest.raises(KeyError, match="unknown state 'X'"):
        restored["X"]


def test_units(restored):
    units = restored.units
    assert list(units) == list(STATES)
    assert units["B"] == "cells"
    assert units["M"] == "cells"
    assert units["Q"] == "1"
    assert units["I"] == "IU/mL"
    assert units["S"] == "1"


def test_final(restored):
    final = restored.final
    assert list(final) == list(STATES)
    assert all(isinstance(v, float) for v in final.values())
    assert final == {name: restored[name][-1] for name in STATES}


def test_summary_mentions_the_metastasis_day():
    """A run with a bone metastasis names its day (to 0.1 day) and the scenario in the summary.

    irf7-restored stays metastasis-free at the defaults, so this uses the NK-depleted arm
    (Irf7 restored too), which metastasizes within the 90 days.
    """
    result = sim.run("irf7-restored-nk-depleted", days=90)
    day = result.metastasis_day
    assert result.fate == "metastasis"
    assert day is not None and 0 < day < 90
    text = result.summary()
    assert f"day {day:.1f}" in text
    assert "irf7-restored-nk-depleted" in text


def test_restored_stays_metastasis_free_and_says_so(restored):
    assert restored.fate == "free"
    assert restored.metastasis_day is None and restored.endpoint_day is None
    assert "No bone metastasis within 90 days" in restored.summary()


def test_summary_says_when_there_is_no_metastasis():
    result = sim.run("66cl4", days=60)
    assert result.metastasis_day is None
    assert "No bone metastasis within 60 days" in result.summary()


def _table_days(table: str) -> list[float]:
    lines = table.splitlines()
    assert lines[0].split()[0] == "day"
    assert set(lines[1].replace(" ", "")) == {"-"}
    return [float(line.split()[0]) for line in lines[2:]]


def test_table_has_a_row_per_week(restored):
    """Days 0, 7, ..., 84 of a 90-day run, then its last day, 90; no row beyond the follow-up."""
    table = restored.table()
    assert _table_days(table) == [7.0 * week for week in range(13)] + [90.0]
    header = table.splitlines()[0]
    for name, unit in restored.units.items():
        assert f"{name} [{unit}]" in header


@pytest.mark.parametrize(
    ("days", "every", "expected"), [(120, 7, 19), (90, 30, 4), (28, 7, 5), (16, 4, 5), (16, 6, 4), (50, 20, 4)]
)
def test_table_rows_stay_within_follow_up_and_end_on_its_last_day(days, every, expected):
    days_listed = _table_days(sim.run("irf7-silenced", days=days).table(every=every))
    assert len(days_listed) == expected
    assert max(days_listed) == days


def test_table_values_follow_the_run(restored):
    rows = restored.table(every=30).splitlines()[2:]
    first = rows[0].split()
    assert float(first[1]) == pytest.approx(restored["P"][0], rel=1e-3)
    assert float(first[4]) == pytest.approx(restored["N"][0], rel=1e-3)


def test_to_csv(restored, tmp_path):
    path = tmp_path / "restored.csv"
    restored.to_csv(path, every=None)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time [day]", *[f"{s} [{restored.units[s]}]".replace("[1]", "[dimensionless]") for s in STATES]]
    data = np.array(rows[1:], dtype=float)
    np.testing.assert_allclose(data[:, 0], restored.time, rtol=1e-15)
    np.testing.assert_allclose(data[:, 1:].T, restored.values, rtol=1e-15)
    meta = json.loads((tmp_path / "restored.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["metastasis_day"] == restored.metastasis_day
    assert meta["fate"] == restored.fate == "free"
    assert meta["endpoint_day"] == restored.endpoint_day
    assert meta["parameters"] == restored.parameters
    with pytest.raises(sim.InputError, match="already exists"):
        restored.to_csv(path)
    restored.to_csv(str(path), overwrite=True)


def test_plot_returns_axes(restored):
    axes = restored.plot(show=False)
    flat = np.ravel(axes)
    assert len(flat) == 4
    assert all(isinstance(ax, Axes) for ax in flat)
    assert flat[0].get_yscale() == "log"
    assert any(line.get_label().endswith("(B)") for line in flat[0].get_lines())
    plt.close("all")


def test_plot_into_given_axes(restored):
    fig, given = plt.subplots(2, 2)
    axes = restored.plot(axes=given)
    assert axes is given
    assert all(ax.has_data() for ax in np.ravel(given))
    plt.close(fig)


def test_plot_saves_to_a_path_in_a_script(restored, tmp_path):
    """result.plot("run.png") writes the figure (a script shows nothing otherwise), never over a file unasked."""
    target = tmp_path / "run.png"
    restored.plot(target)
    assert target.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(sim.InputError, match="overwrite=True"):
        restored.plot(target)
    restored.plot(str(target), overwrite=True)
    with pytest.raises(sim.InputError, match="path must be"):
        restored.plot(5)


def test_repr_is_one_short_line():
    results = sim.compare(["irf7-silenced", "irf7-restored", "kuznetsov1994"][:2], days=60)
    text = repr(results)
    assert len(text) < 400 and "\n" not in text
    assert "'irf7-silenced': bone metastasis on day 34" in text and "no bone metastasis within 60 days" in text
    assert "9 states x" in repr(results[0])
    assert "followed" in repr(sim.run("kuznetsov1994", days=10))


def test_compare_keeps_the_order_given():
    names = ["irf7-restored", "66cl4", "irf7-silenced"]
    results = sim.compare(names, days=60)
    assert [r.name for r in results] == names
    assert all(r.days == 60 for r in results)
    reverse = sim.compare(names[::-1], days=60)
    assert [r.name for r in reverse] == names[::-1]
    assert [r.metastasis_day for r in reverse] == [r.metastasis_day for r in results][::-1]


def test_compare_applies_parameters_to_all():
    results = sim.compare(["irf7-silenced", "ifn-dosed"], parameters={"shedding_rate": 0})
    assert all(r.parameters["shedding_rate"] == 0 and r.metastasis_day is None for r in results)


def test_run_accepts_a_scenario_or_a_path(tmp_path):
    scenario = sim.load_scenario("irf7-silenced")
    by_object = sim.run(scenario, days=40)
    path = tmp_path / "copy.toml"
    path.write_text(scenario.source.read_text(encoding="utf-8"), encoding="utf-8")
    by_path = sim.run(path, days=40)
    assert by_object.metastasis_day == by_path.metastasis_day
    assert by_object.final == by_path.final


def test_api_errors_are_input_errors():
    with pytest.raises(sim.InputError, match="irf7-silenced"):
        sim.run("irf7-silenc")
    with pytest.raises(sim.InputError, match="nk_kill"):
        sim.run("irf7-silenced", parameters={"nk_kil": 1})
    with pytest.raises(sim.InputError):
        sim.run("irf7-silenced", days=0)


def test_with_changes_recomputes_the_initial_state():
    scenario = sim.load_scenario("irf7-silenced")
    supply = scenario.parameters["nk_supply"].value
    doubled = scenario.with_changes(parameters={"nk_supply": 2 * supply})
    assert doubled.initial["N"] == pytest.approx(2 * scenario.initial["N"], rel=1e-12)
    for name in ("P", "C", "B", "L", "M", "Q", "I", "S"):
        assert doubled.initial[name] == scenario.initial[name]
    # the original is untouched
    assert scenario.parameters["nk_supply"].value == supply
    assert sim.load_scenario("irf7-silenced").initial == scenario.initial


def test_with_changes_host_receptor_sets_initial_signalling():
    scenario = sim.load_scenario("irf7-silenced")
    assert scenario.initial["S"] > 0
    knockout = scenario.with_changes(parameters={"ifnar": 0})
    assert knockout.initial["S"] == 0
    assert knockout.initial["I"] == scenario.initial["I"]
    assert knockout.initial["N"] < scenario.initial["N"]
    assert knockout.initial == sim.load_scenario("irf7-silenced-ifnar-ko").initial


def test_with_changes_inoculum_and_explicit_initial_values():
    scenario = sim.load_scenario("irf7-silenced")
    bigger = scenario.with_changes(parameters={"inoculum": 1e6})
    assert bigger.initial["P"] == 1e6
    pinned = scenario.with_changes(initial={"N": 5.0})
    assert pinned.initial["N"] == 5.0
    # a later parameter change keeps a value the user set explicitly
    still_pinned = pinned.with_changes(parameters={"nk_supply": 1.0})
    assert still_pinned.initial["N"] == 5.0
    assert still_pinned.initial["L"] == scenario.initial["L"]
    assert still_pinned.initial["Q"] == scenario.initial["Q"]


def test_with_changes_rebuilds_the_schedule():
    scenario = sim.load_scenario("ifn-dosed")
    volume = scenario.parameters["ifn_volume"].value
    bigger = scenario.with_changes(parameters={"ifn_volume": 2 * volume})
    before = [j.add for j in scenario.schedule.jumps if j.state == "I"]
    after = [j.add for j in bigger.schedule.jumps if j.state == "I"]
    assert len(before) == len(after) == 10
    assert after == pytest.approx([a / 2 for a in before])


def test_with_changes_days():
    scenario = sim.load_scenario("irf7-silenced")
    shorter = scenario.with_changes(days=30)
    assert shorter.days == 30
    assert sim.run(shorter).time[-1] == pytest.approx(30)


def test_parameter_source_shows_set_by_user():
    scenario = sim.load_scenario("irf7-restored")
    changed = scenario.with_changes(parameters={"nk_kill": 5e-7})
    assert "set by user" in changed.parameters["nk_kill"].source
    assert changed.parameters["nk_kill"].value == 5e-7
    assert changed.parameters["nk_kill"].unit == scenario.parameters["nk_kill"].unit
    assert changed.parameters["nk_death"].source == scenario.parameters["nk_death"].source
    assert "set by user" not in changed.parameters["nk_death"].source
    result = sim.run("irf7-restored", days=30, parameters={"cd8_naive": 400})
    assert "set by user" in result.scenario.parameters["cd8_naive"].source
    assert result.parameters["cd8_naive"] == 400


def test_prepare_without_changes_loads_unchanged():
    prepared = sim.prepare("irf7-silenced")
    assert prepared.initial == sim.load_scenario("irf7-silenced").initial
    assert all("set by user" not in p.source for p in prepared.parameters.values())


def test_result_to_dict_is_json_ready(restored):
    data = json.loads(json.dumps(restored.to_dict()))
    assert data["metastasis_day"] == restored.metastasis_day
    assert data["endpoint_day"] == restored.endpoint_day
    assert data["fate"] == restored.fate
    assert data["key_numbers"]["fate"] == restored.fate
    assert data["final"] == restored.final
    assert data["version"] == sim.__version__
    assert math.isfinite(data["key_numbers"]["mean_signalling"])


def test_summary_names_parameters_the_user_changed():
    changed = sim.run("irf7-restored", days=30, parameters={"cd8_kill_max": 0.2}).summary()
    assert "Changes: follow-up 30 days (was 120); cd8_kill_max = 0.2 (was 0.5)." in changed
    assert "Changes:" not in sim.run("irf7-restored").summary()


def test_to_csv_is_daily_by_default_and_solved_not_interpolated(restored, tmp_path):
    path = tmp_path / "daily.csv"
    restored.to_csv(path)
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(data[:, 0], np.arange(restored.days + 1))
    exact = sim.run("irf7-restored", days=restored.days, every=1.0)
    np.testing.assert_allclose(data[:, 1:].T, exact.values, rtol=1e-12)
