"""The ``tumorsim`` command: list, show, run, compare, in-process and as real processes."""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from checks import strict_json

import sim
from sim.scenarios import PARAMETER_DIR, SCENARIO_DIR

STATES = ["P", "C", "B", "N", "L", "M", "Q", "I", "S"]
JSON_KEYS = {"name", "model", "days", "metastasis_day", "endpoint_day", "fate", "final", "parameters", "initial",
             "version"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"




def read_csv(path: Path) -> tuple[list[str], list[list[float]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], [[float(x) for x in row] for row in rows[1:]]


# --- list and show -------------------------------------------------------------


def test_list_shows_every_scenario_and_the_model(cli):
    outcome = cli("list")
    assert outcome.code == 0 and outcome.err == ""
    lines = outcome.out.splitlines()
    names = sim.scenario_names()
    assert len(sim.scenario_names("irf7")) == 10
    flat = " ".join(outcome.out.split())
    for name in names:
        matching = [line for line in lines if line.startswith(f"  {name} ")]
        assert len(matching) == 1, name
        assert f"{name} {' '.join(sim.load_scenario(name).description.split())}" in flat
    assert any(line.split() and line.split()[0] == "irf7" for line in lines)
    assert max(len(line) for line in lines) <= 100


def test_list_groups_scenarios_under_their_model_with_aligned_descriptions(cli):
    lines = cli("list").out.splitlines()
    for model in sim.MODELS:
        names = sim.scenario_names(model)
        if not names:
            continue
        heading = next(i for i, line in enumerate(lines) if line.startswith(f"{model}: "))
        rows = [line for line in lines[heading + 1: heading + 1 + 3 * len(names)]
                if line[2:3] != " " and line.split() and line.split()[0] in names]
        assert [row.split()[0] for row in rows] == names, model
        starts = {len(row) - len(row[2 + len(row.split()[0]):].lstrip()) for row in rows}
        assert len(starts) == 1, f"descriptions of {model} start in one column"


@pytest.mark.parametrize("name", sim.scenario_names())
def test_show_is_compact_and_all_gives_the_whole_table(name, cli):
    short, full = cli("show", name).out, cli("show", name, "--all").out
    assert max(len(line) for line in short.splitlines()) <= 100
    scenario = sim.load_scenario(name)
    assert len(short.splitlines()) < len(full.splitlines())
    for param in scenario.parameters.values():
        row = next(line for line in short.splitlines() if line.split() and line.split()[0] == param.name)
        assert float(row.split()[1]) == pytest.approx(param.value, rel=1e-3) and f" {param.basis} " in row
        assert f"source: {param.source}" in full


@pytest.mark.parametrize("name", ["irf7-silenced", "ifn-dosed", "irf7-restored-cd8-depleted", "66cl4"])
def test_show_lists_every_parameter_with_value_unit_and_source(name, cli):
    outcome = cli("show", name, "--all")
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    scenario = sim.load_scenario(name)
    for param in scenario.parameters.values():
        rows = [i for i, line in enumerate(lines) if line.split() and line.split()[0] == param.name]
        assert len(rows) == 1, param.name
        row = lines[rows[0]]
        assert f" {param.unit} " in f" {row} ", (param.name, param.unit, row)
        assert param.meaning in row
        assert float(row.split()[1]) == pytest.approx(param.value, rel=1e-3)
        assert lines[rows[0] + 1].strip() == f"source: {param.source}"
    for line in scenario.schedule.describe():
        assert line in outcome.out


def test_show_reports_where_a_preset_value_comes_from(cli):
    out = cli("show", "irf7-restored-ifnar-ko", "--all").out
    assert "tumor line 4T1.2-Irf7" in out
    assert "host ifnar1-ko" in out


# --- run --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sim.scenario_names("irf7"))
def test_run_json_has_the_promised_fields(name, cli, runs):
    outcome = cli("run", name, "--json")
    assert outcome.code == 0, outcome.err
    report = strict_json(outcome.out)
    assert set(report) >= JSON_KEYS
    assert report["name"] == name
    assert report["model"] == "irf7"
    assert report["days"] == runs[name].days
    assert report["version"] == sim.__version__
    day = report["metastasis_day"]
    assert day is None or (isinstance(day, float) and 0 <= day <= report["days"])
    assert day == runs[name].metastasis_day
    assert report["fate"] == runs[name].fate
    assert report["fate"] == ("free" if day is None else "metastasis")  # every shipped arm has surgery on day 14
    assert report["endpoint_day"] is None
    assert list(report["final"]) == STATES
    assert all(isinstance(v, float) and math.isfinite(v) for v in report["final"].values())
    assert report["final"]["B"] == pytest.approx(runs[name].final["B"])
    assert set(report["parameters"]) == set(runs[name].scenario.parameters)
    assert set(report["initial"]) == set(STATES)


def test_run_json_null_when_no_metastasis(cli):
    report = strict_json(cli("run", "66cl4", "--json").out)
    assert report["metastasis_day"] is None
    assert report["fate"] == "free"


def test_run_json_is_strict_json_even_when_a_fold_change_is_undefined(cli):
    """No NK supply: the NK peak fold (peak over a zero start) is undefined; JSON has no NaN."""
    outcome = cli("run", "irf7-silenced", "--set", "nk_supply=0", "--json")
    assert outcome.code == 0, outcome.err
    strict_json(outcome.out)


def test_run_prints_a_plain_summary(cli, runs):
    """The text summary gives the outcome in words, the schedule and the scenario's notice.

    irf7-restored is metastasis-free at the defaults (the summary says so); irf7-silenced
    metastasizes, and its summary names the day to 0.1 day.
    """
    outcome = cli("run", "irf7-restored")
    assert outcome.code == 0
    assert f"No bone metastasis within {runs['irf7-restored'].days:g} days" in outcome.out
    assert "surgery" in outcome.out
    assert runs["irf7-restored"].scenario.notice in outcome.out
    silenced = cli("run", "irf7-silenced")
    assert silenced.code == 0
    assert f"Bone metastasis detected on day {runs['irf7-silenced'].metastasis_day:.1f}" in silenced.out
    assert "surgery" in silenced.out
    assert runs["irf7-silenced"].scenario.notice in silenced.out


def test_a_run_without_timed_events_says_so(cli):
    """The Kirschner therapies are infusions, set as parameters: the schedule line must not read as 'no therapy'."""
    outcome = cli("run", "kirschner1998-adoptive-therapy")
    assert outcome.code == 0
    assert "Schedule: no timed events" in outcome.out and "Schedule: none" not in outcome.out


def test_run_csv_writes_time_course_and_sidecar(cli, tmp_path, runs):
    path = tmp_path / "course.csv"
    outcome = cli("run", "irf7-silenced", "--csv", path, "--every", "solver")
    assert outcome.code == 0, outcome.err
    header, rows = read_csv(path)
    assert header == CSV_HEADER
    result = runs["irf7-silenced"]
    assert len(rows) == len(result.time)
    assert f"({len(rows)} rows, every solver step)" in outcome.out
    assert rows[0][0] == 0.0 and rows[-1][0] == pytest.approx(result.days)
    assert rows[-1][3] == pytest.approx(result.final["B"])
    meta = strict_json(Path(f"{path}.meta.json").read_text(encoding="utf-8"))
    assert set(meta) >= JSON_KEYS
    assert meta["name"] == "irf7-silenced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course.csv", "course.csv.meta.json"]  # no temporaries left


CSV_HEADER = ["time [day]", "P [cells]", "C [cells]", "B [cells]", "N [cells]", "L [cells]", "M [cells]",
              "Q [dimensionless]", "I [IU/mL]", "S [dimensionless]"]


def test_run_csv_is_daily_by_default(cli, tmp_path):
    path = tmp_path / "sixteen.csv"
    outcome = cli("run", "irf7-silenced", "--days", "16", "--csv", path)
    assert outcome.code == 0, outcome.err
    header, rows = read_csv(path)
    assert header == CSV_HEADER and "B [cells]" in header and "I [IU/mL]" in header
    assert [r[0] for r in rows] == [float(d) for d in range(17)]
    assert "(17 rows, every 1 days)" in outcome.out
    assert cli("run", "irf7-silenced", "--days", "16", "--every", "4", "--csv", tmp_path / "four.csv").code == 0
    assert [r[0] for r in read_csv(tmp_path / "four.csv")[1]] == [0.0, 4.0, 8.0, 12.0, 16.0]


def test_set_changes_the_run(cli, day_of):
    base = strict_json(cli("run", "irf7-silenced", "--json").out)
    changed = strict_json(cli("run", "irf7-silenced", "--set", "irf7_activity=1", "--set", "nk_kill=6e-7", "--json").out)
    assert changed["parameters"]["irf7_activity"] == 1.0
    assert changed["parameters"]["nk_kill"] == 6e-7
    assert day_of(changed) > day_of(base) + 1
    unchanged = {k: v for k, v in changed["parameters"].items() if k not in ("irf7_activity", "nk_kill")}
    assert unchanged == {k: base["parameters"][k] for k in unchanged}


def test_init_changes_the_run(cli):
    base = strict_json(cli("run", "irf7-silenced", "--json").out)
    changed = strict_json(cli("run", "irf7-silenced", "--init", "B=1000", "--init", "P=1e6", "--json").out)
    assert changed["initial"]["B"] == 1000.0
    assert changed["initial"]["P"] == 1e6
    assert changed["initial"]["N"] == base["initial"]["N"]
    assert changed["metastasis_day"] < base["metastasis_day"] - 1


def test_days_changes_follow_up(cli, runs):
    """A follow-up that ends before the default metastasis day (irf7-silenced, ~day 32) has none."""
    assert runs["irf7-silenced"].metastasis_day > 30
    report = strict_json(cli("run", "irf7-silenced", "--days", "30", "--json").out)
    assert report["days"] == 30.0
    assert report["metastasis_day"] is None
    assert report["fate"] == "free"


def test_run_plot_writes_a_png(cli, tmp_path):
    path = tmp_path / "run.png"
    outcome = cli("run", "ifn-dosed", "--plot", path)
    assert outcome.code == 0, outcome.err
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert str(path) in outcome.out


def test_compare_json_keeps_order(cli, runs):
    outcome = cli("compare", "irf7-restored", "irf7-silenced", "66cl4", "--json")
    assert outcome.code == 0, outcome.err
    report = strict_json(outcome.out)
    assert report["version"] == sim.__version__
    assert [r["name"] for r in report["results"]] == ["irf7-restored", "irf7-silenced", "66cl4"]
    for r in report["results"]:
        assert set(r) >= JSON_KEYS
        assert r["metastasis_day"] == runs[r["name"]].metastasis_day


def test_compare_table_and_plot(cli, tmp_path):
    path = tmp_path / "compare.png"
    outcome = cli("compare", "irf7-silenced", "irf7-restored", "--plot", path)
    assert outcome.code == 0, outcome.err
    assert path.read_bytes().startswith(PNG_MAGIC)
    table = outcome.out.splitlines()
    assert table[0].split()[0] == "scenario"
    assert [line.split()[0] for line in table[2:4]] == ["irf7-silenced", "irf7-restored"]


def test_compare_set_applies_to_every_scenario(cli):
    report = strict_json(cli("compare", "irf7-silenced", "irf7-restored", "--set", "shedding_rate=0", "--json").out)
    assert [r["metastasis_day"] for r in report["results"]] == [None, None]


def test_run_a_users_scenario_file(cli, tmp_path):
    text = (SCENARIO_DIR / "irf7-silenced.toml").read_text(encoding="utf-8")
    text = text.replace('name = "irf7-silenced"', 'name = "my-experiment"').replace("days = 120", "days = 80")
    text += "\n[parameters]\nirf7_activity = 0.5\n"
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    report = strict_json(cli("run", path, "--json").out)
    assert report["name"] == "my-experiment"
    assert report["days"] == 80.0
    assert report["parameters"]["irf7_activity"] == 0.5
    silenced = strict_json(cli("run", "irf7-silenced", "--json").out)
    assert silenced["metastasis_day"] < 80
    assert report["metastasis_day"] is None or report["metastasis_day"] > silenced["metastasis_day"] + 5


def test_run_a_users_scenario_with_its_own_parameter_file(cli, tmp_path):
    params = (PARAMETER_DIR / "irf7.toml").read_text(encoding="utf-8")
    assert "value = 5e-4" in params
    (tmp_path / "my-parameters.toml").write_text(params.replace("value = 5e-4", "value = 1e-3"), encoding="utf-8")
    scenario = 'parameter_file = "my-parameters.toml"\n' + (SCENARIO_DIR / "irf7-silenced.toml").read_text(encoding="utf-8")
    (tmp_path / "mine.toml").write_text(scenario, encoding="utf-8")
    shown = cli("show", tmp_path / "mine.toml")
    assert shown.code == 0, shown.err
    report = strict_json(cli("run", tmp_path / "mine.toml", "--json").out)
    assert report["parameters"]["bone_seeding_fraction"] == 1e-3
    silenced = strict_json(cli("run", "irf7-silenced", "--json").out)
    assert report["metastasis_day"] < silenced["metastasis_day"]


# --- real processes ------------------------------------------------------------------


def _console_script() -> str:
    beside = Path(sys.executable).with_name("tumorsim")
    found = str(beside) if beside.exists() else shutil.which("tumorsim")
    assert found, "the tumorsim console script is not installed (pip install -e '.[test]')"
    return found


def _process(argv, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)


def test_python_dash_m_sim(tmp_path):
    listed = _process([sys.executable, "-m", "sim", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in sim.scenario_names():
        assert name in listed.stdout
    ran = _process([sys.executable, "-m", "sim", "run", "irf7-silenced", "--json"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert set(strict_json(ran.stdout)) >= JSON_KEYS


def test_console_script(tmp_path):
    script = _console_script()
    ran = _process([script, "run", "irf7-restored", "--days", "30", "--every", "1", "--csv", "out.csv", "--json"], tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert strict_json(ran.stdout)["days"] == 30.0
    header, rows = read_csv(tmp_path / "out.csv")
    assert header == CSV_HEADER and len(rows) == 31
    version = _process([script, "--version"], tmp_path)
    assert version.returncode == 0 and sim.__version__ in version.stdout


def test_bad_input_in_a_real_process_has_no_traceback(tmp_path):
    bad = _process([_console_script(), "run", "irf7-silenc"], tmp_path)
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.startswith("tumorsim: error:")
    assert bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
    assert "irf7-silenced" in bad.stderr


def test_show_prints_ranges_and_variability(cli):
    outcome = cli("show", "irf7-restored", "--all")
    assert outcome.code == 0, outcome.err
    scenario = sim.load_scenario("irf7-restored")
    ranged = [p for p in scenario.parameters.values() if p.range is not None]
    assert ranged, "the parameter file declares ranges"
    assert outcome.out.count("range for sensitivity analysis:") == len(ranged)
    for spread in scenario.variability.values():
        assert f"{spread.parameter}: sigma {spread.sigma:g}" in outcome.out


def test_show_uses_the_width_of_the_terminal(cli, monkeypatch):
    meaning = sim.load_scenario("depillis2005-ligand").parameters["c"].meaning
    assert meaning not in cli("show", "depillis2005-ligand").out  # cut to fit 100 columns
    monkeypatch.setenv("COLUMNS", "200")
    assert meaning in cli("show", "depillis2005-ligand").out
