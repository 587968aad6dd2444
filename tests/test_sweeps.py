"""Sweeps, the interferon dose grid and the figure command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.figures import build_figures, experiment_scripts
from sim.sweeps import COURSE_DAYS, course, dose_grid, parameter_sweep, sweep_values

REPO = Path(__file__).resolve().parent.parent


def test_sweep_values_are_even_or_geometric():
    assert np.allclose(sweep_values(0, 1, 5), [0, 0.25, 0.5, 0.75, 1])
    assert np.allclose(sweep_values(1, 100, 3, log=True), [1, 10, 100])


@pytest.mark.parametrize("low, high, steps, log", [(1, 0, 5, False), (0, 1, 1, False), (0, 1, 5, True)])
def test_sweep_values_reject_bad_ranges(low, high, steps, log):
    with pytest.raises(sim.InputError):
        sweep_values(low, high, steps, log)


def test_irf7_sweep_matches_single_runs_and_protection_needs_the_receptor():
    """Each sweep point equals the single run; more Irf7 means later metastasis in a wild-type host (at full
    Irf7 none within follow-up: NaN in the sweep, None in the run), and nothing changes without Ifnar1."""
    values = np.array([0.0, 0.1, 0.2, 1.0])
    sweep = parameter_sweep(["irf7-silenced", "irf7-silenced-ifnar-ko"], "irf7_activity", values, workers=1)
    assert sweep.metastasis_day.shape == (2, 4)
    for k, value in enumerate(values):
        single = sim.run("irf7-silenced", parameters={"irf7_activity": value}).metastasis_day
        if single is None:
            assert math.isnan(sweep.metastasis_day[0, k])
        else:
            assert sweep.metastasis_day[0, k] == pytest.approx(single, abs=1e-9)
    assert np.isfinite(sweep.metastasis_day[0, :3]).all() and np.isnan(sweep.metastasis_day[0, 3])
    wild_type = np.where(np.isnan(sweep.metastasis_day[0]), np.inf, sweep.metastasis_day[0])
    assert np.all(np.diff(wild_type) > 1)                       # more Irf7, later metastasis
    assert np.isfinite(sweep.metastasis_day[1]).all()
    assert np.ptp(sweep.metastasis_day[1]) < 0.01               # flat without Ifnar1
    assert sweep.median_survival is None


def test_sweep_with_cohorts_reports_medians_near_the_typical_mouse():
    """A fifth of full Irf7 (0.2): from about 0.5 up the typical mouse stays metastasis-free, leaving no day to compare."""
    sweep = parameter_sweep(["irf7-silenced"], "irf7_activity", np.array([0.0, 0.2]), cohort_n=60, seed=3, workers=1)
    assert np.isfinite(sweep.metastasis_day).all() and np.isfinite(sweep.median_survival).all()
    assert sweep.median_survival.shape == (1, 2)
    assert np.all(np.abs(sweep.median_survival - sweep.metastasis_day) < 8)
    assert sweep.median_survival[0, 1] > sweep.median_survival[0, 0]


def test_course_covers_four_weeks():
    entry = course(1e5, 3, 1)
    assert entry["count"] == math.ceil(COURSE_DAYS / 3) and entry["every"] == 3 and entry["start"] == 1


def test_dose_grid_early_frequent_dosing_helps_most():
    grid = dose_grid("ifn-dosed", [1e4, 1e6], [1, 7], [1, 15], workers=1)
    days = np.where(np.isnan(grid.metastasis_day), np.inf, grid.metastasis_day)
    assert days.shape == (2, 2, 2)
    assert np.all(days >= grid.untreated - 1e-6)                     # interferon never hastens metastasis
    assert np.all(days[:, 0, :] > days[:, 1, :])                     # daily beats weekly
    assert np.all(days[0] >= days[1])                                # starting on day 1 beats day 15
    assert np.all(days[:, :, 1] >= days[:, :, 0])                    # a larger dose never hurts
    untreated = sim.run(sim.load_scenario("ifn-dosed").with_changes(schedule=[{"event": "resection", "day": 14}]))
    assert grid.untreated == pytest.approx(untreated.metastasis_day, abs=1e-9)


def test_dose_grid_matches_the_shipped_ifn_dosed_course():
    """ifn-dosed gives 1e5 IU every 3 days from day 1, ten doses: the grid's course for that cell is the same run.

    At the defaults the dosed mouse stays metastasis-free (NaN in the grid, None in the run); with weaker CD8+
    killing (cd8_kill_max 0.3, inside its declared range) it metastasizes, and the days must agree.
    """
    grid = dose_grid("ifn-dosed", [1e5], [3], [1], workers=1)
    assert sim.run("ifn-dosed").metastasis_day is None
    assert math.isnan(grid.metastasis_day[0, 0, 0])
    weaker = sim.prepare("ifn-dosed", parameters={"cd8_kill_max": 0.3})
    grid = dose_grid(weaker, [1e5], [3], [1], workers=1)
    day = sim.run(weaker).metastasis_day
    assert day is not None
    assert grid.metastasis_day[0, 0, 0] == pytest.approx(day, abs=1e-6)


@pytest.mark.parametrize("amounts, intervals, starts", [([], [1], [1]), ([1e5], [0], [1]), ([-1.0], [1], [1])])
def test_dose_grid_rejects_bad_lists(amounts, intervals, starts):
    with pytest.raises(sim.InputError):
        dose_grid("ifn-dosed", amounts, intervals, starts, workers=1)


def test_sweep_and_doses_commands(cli, tmp_path):
    outcome = cli("sweep", "irf7-silenced", "--parameter", "irf7_activity", "--from", "0", "--to", "1", "--steps", "3",
                  "--json", "--workers", "1")
    assert outcome.code == 0, outcome.err
    data = json.loads(outcome.out)
    assert data["values"] == [0.0, 0.5, 1.0] and len(data["metastasis_day"]["irf7-silenced"]) == 3
    plot = tmp_path / "grid.png"
    outcome = cli("doses", "--amounts", "1e5", "--intervals", "3,7", "--starts", "1", "--plot", str(plot),
                  "--workers", "1")
    assert outcome.code == 0, outcome.err and plot.stat().st_size > 0
    assert "Without interferon" in outcome.out


@pytest.mark.parametrize("argv, flag", [
    (["sweep", "irf7-silenced", "--parameter", "irf7_activty", "--from", "0", "--to", "1"], "irf7_activity"),
    (["sweep", "irf7-silenced", "--parameter", "irf7_activity", "--from", "1", "--to", "0"], "--from"),
    (["sweep", "irf7-silenced", "--parameter", "irf7_activity", "--from", "0", "--to", "2"], "irf7_activity"),
    (["sweep", "irf7-silenced", "--parameter", "nk_kill", "--from", "0", "--to", "1", "--log"], "--log"),
    (["doses", "--amounts", "1e5,abc"], "--amounts"),
    (["doses", "--intervals", "-1"], "--intervals"),
    (["doses", "not-a-scenario"], "not-a-scenario"),
])
def test_bad_sweep_and_dose_input_is_one_line(cli, argv, flag):
    outcome = cli(*argv)
    assert outcome.code == 2
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tumorsim: error:") and flag in lines[0]
    assert "Traceback" not in outcome.err


def test_figure_command_produces_every_figure_it_lists(tmp_path):
    out = tmp_path / "figs"
    written, seconds = build_figures(out, progress=False)
    stems = {script.stem for script in experiment_scripts()}
    assert {p.name for p in written} == {f"{s}{suffix}" for s in stems for suffix in (".png", ".svg")}
    assert all(p.stat().st_size > 0 for p in written)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)  # no staging left behind
    assert seconds > 0


def test_figure_command_with_a_relative_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sim.figures.experiment_scripts", lambda: [REPO / "experiments" / "line_66cl4.py"])
    written, _ = build_figures(Path("figs"), progress=False)
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["line_66cl4.png", "line_66cl4.svg"]
    assert len(written) == 2


def test_gallery_lists_every_figure():
    gallery = (REPO / "figures" / "README.md").read_text(encoding="utf-8")
    for script in experiment_scripts():
        assert f"{script.stem}.png" in gallery, f"figures/README.md has no entry for {script.stem}"


def test_a_sweep_tells_culled_mice_from_metastasis_free_ones(cli):
    """A fast primary reaches the humane endpoint before surgery on day 14: that point is culled, not free."""
    sweep = parameter_sweep(["irf7-silenced"], "primary_growth_rate", np.array([0.085, 0.2]), workers=1)
    assert sweep.culled.tolist() == [[False, True]]
    single = sim.run("irf7-silenced", parameters={"primary_growth_rate": 0.2})
    assert single.fate == "culled"
    assert sweep.endpoint_day[0, 1] == pytest.approx(single.endpoint_day)
    assert sweep.to_dict()["endpoint_day"]["irf7-silenced"][1] == pytest.approx(single.endpoint_day)
    outcome = cli("sweep", "irf7-silenced", "--parameter", "primary_growth_rate", "--from", "0.085", "--to", "0.2",
                  "--steps", "2", "--workers", "1")
    assert outcome.code == 0, outcome.err
    assert f"culled day {single.endpoint_day:.1f}" in outcome.out and "humane endpoint" in outcome.out
