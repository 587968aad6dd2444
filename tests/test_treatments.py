"""Treatment flags, the comparison object, the notebook-facing API and every command's help."""

from __future__ import annotations

import csv
import re
import shlex
import warnings

import matplotlib
import pytest
from checks import assert_one_line_error, strict_json

import sim
import sim.comparison
from sim.cli import build_parser
from sim.treatments import DEFAULT_COURSE, DEFAULT_DEPLETION_RATE

# --- treatments ---------------------------------------------------------------------------------


def _kinds(result: sim.Result) -> dict[str, list]:
    schedule, model = result.scenario.schedule, result.scenario.model
    return {"surgery": [j.day for j in schedule.jumps if j.state == model.resection_state],
            "doses": [(j.day, j.add) for j in schedule.jumps if j.state == model.dose_state],
            "windows": [(w.parameter, w.start, w.stop, w.value) for w in schedule.windows]}


def test_surgery_moves_or_removes_the_resection():
    assert _kinds(sim.run("irf7-silenced", surgery=10))["surgery"] == [10.0]
    never = sim.run("irf7-silenced", surgery="none")
    assert _kinds(never)["surgery"] == [] and never.fate == "culled"  # the humane endpoint, as without surgery


def test_dose_flags_change_only_what_they_name():
    shipped = _kinds(sim.run("ifn-dosed"))
    bigger = _kinds(sim.run("ifn-dosed", dose=1e6))
    assert [d for d, _ in bigger["doses"]] == [d for d, _ in shipped["doses"]]
    assert [a for _, a in bigger["doses"]] == pytest.approx([10 * a for _, a in shipped["doses"]])
    later = _kinds(sim.run("ifn-dosed", dose_start=15, dose_count=3, dose_every=2))
    assert [d for d, _ in later["doses"]] == [15.0, 17.0, 19.0]
    assert _kinds(sim.run("ifn-dosed", dose="none"))["doses"] == []
    assert later["surgery"] == shipped["surgery"] == [14.0]


def test_a_new_course_uses_the_shipped_ifn_dosed_timing():
    shipped = next(e for e in sim.load_scenario("ifn-dosed").schedule_entries if e["event"] == "ifn-dose")
    assert {k: shipped[k] for k in DEFAULT_COURSE} == DEFAULT_COURSE
    dosed = sim.run("irf7-silenced", dose=shipped["amount"])
    assert _kinds(dosed)["doses"] == _kinds(sim.run("ifn-dosed"))["doses"]
    assert dosed.metastasis_day == sim.run("ifn-dosed").metastasis_day


def test_deplete_adds_replaces_and_removes_windows():
    shipped = sim.load_scenario("irf7-restored-nk-depleted")
    entry = next(e for e in shipped.schedule_entries if e["event"] == "depletion")
    assert entry["rate"] == DEFAULT_DEPLETION_RATE
    added = sim.run("irf7-restored", deplete=["nk:0-60"])
    assert added.metastasis_day == sim.run("irf7-restored-nk-depleted").metastasis_day
    moved = _kinds(sim.run("irf7-restored-nk-depleted", deplete=["nk:10-20", "cd8:0-5"]))["windows"]
    assert sorted(moved) == [("cd8_depletion_rate", 0.0, 5.0, 2.0), ("nk_depletion_rate", 10.0, 20.0, 2.0)]
    assert _kinds(sim.run("irf7-restored-nk-depleted", deplete=["none"]))["windows"] == []


@pytest.mark.parametrize(("changes", "fragments"), [
    ({"surgery": "tomorrow"}, ["surgery", "tomorrow"]),
    ({"surgery": 500}, ["surgery", "follow-up"]),
    ({"dose": -1}, ["dose", "> 0"]),
    ({"dose_count": 2.5}, ["dose_count", "whole"]),
    ({"dose_every": 0}, ["dose_every", "> 0"]),
    ({"dose": "none", "dose_start": 3}, ["dose none", "dose_start"]),
    ({"dose_start": 3}, ["no interferon course", "dose"]),
    ({"dose": 1e5, "dose_count": 100}, ["dose", "after the follow-up"]),
    ({"deplete": ["b-cells:0-5"]}, ["deplete", "nk, cd8"]),
    ({"deplete": ["nk:5-1"]}, ["deplete", "STOP"]),
    ({"deplete": ["nk:0-10", "nk:5-20"]}, ["deplete", "overlap"]),
    ({"deplete": "nk:0-10"}, ["deplete", "list"]),
    ({"dosage": 3}, ["dosage", "dose"]),
])
def test_bad_treatments_name_the_python_argument(changes, fragments):
    with pytest.raises(sim.InputError) as caught:
        sim.run("irf7-silenced", **changes)
    message = str(caught.value)
    assert "\n" not in message and "--" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(("argv", "fragments"), [
    (["--surgery", "later"], ["--surgery", "later"]),
    (["--dose-count", "0"], ["--dose-count"]),
    (["--deplete", "nk"], ["--deplete", "START-STOP"]),
    (["--dose-start", "2"], ["--dose", "no interferon course"]),
])
def test_bad_treatment_flags_are_one_line_errors(argv, fragments, cli):
    assert_one_line_error(cli("run", "irf7-silenced", *argv), *fragments)


def test_treatment_flags_reach_run_and_compare(cli):
    ran = strict_json(cli("run", "irf7-silenced", "--surgery", "none", "--json").out)
    assert ran["fate"] == "culled" and not any("surgery" in line for line in ran["schedule"])
    compared = strict_json(cli("compare", "irf7-silenced", "irf7-restored", "--surgery", "7", "--json").out)
    for arm in compared["results"]:
        assert any(line.startswith("day 7: surgery") for line in arm["schedule"])


def test_classic_models_refuse_treatments_by_name():
    with pytest.raises(sim.InputError, match="surgery: model 'kuznetsov1994' has no surgery"):
        sim.run("kuznetsov1994-escape", surgery=3)


# --- compare ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def arms():
    return sim.compare(["irf7-silenced", "irf7-restored"], days=60)


def test_compare_returns_a_comparison_with_table_plot_and_csv(arms, tmp_path):
    assert len(arms) == 2 and arms[0].name == "irf7-silenced" and arms["irf7-restored"].fate == "free"
    assert [r.name for r in arms] == list(arms.names)
    assert arms.table().splitlines()[2].startswith("irf7-silenced")
    assert len(repr(arms)) < 300 and "irf7-restored" in repr(arms)
    with pytest.raises(KeyError, match="did you mean 'irf7-restored'"):
        arms["irf7-restord"]
    arms.to_csv(tmp_path / "arms.csv")
    with open(tmp_path / "arms.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["scenario"] for row in rows] == ["irf7-silenced", "irf7-restored"]
    assert float(rows[0]["metastasis_day [day]"]) == pytest.approx(arms[0].metastasis_day)
    assert rows[1]["metastasis_day [day]"] == ""
    assert strict_json((tmp_path / "arms.csv.meta.json").read_text())["arms"][1]["name"] == "irf7-restored"
    ax = arms.plot(tmp_path / "arms.png")
    assert (tmp_path / "arms.png").stat().st_size > 10_000 and ax.get_ylabel().endswith("(cells)")


def test_compare_cli_writes_csv_and_takes_init(cli, tmp_path):
    outcome = cli("compare", "irf7-silenced", "irf7-restored", "--init", "P=2e5", "--csv", tmp_path / "t.csv")
    assert outcome.code == 0, outcome.err
    assert "initial P = 200000 (was 100000)" in outcome.out and (tmp_path / "t.csv").is_file()


def test_two_files_with_one_name_get_distinct_labels(cli, tmp_path):
    text = (sim.scenarios.SCENARIO_DIR / "ifn-dosed.toml").read_text()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.toml").write_text(text)
    first, second = str(tmp_path / "a" / "same.toml"), str(tmp_path / "b" / "same.toml")
    rows = cli("compare", first, second, "--days", "30").out.splitlines()
    assert rows[2].startswith(first) and rows[3].startswith(second)
    cohort = strict_json(cli("cohort", first, second, "--n", "10", "--days", "30", "--json").out)
    assert [c["name"] for c in cohort["cohorts"]] == [first, second]


# --- notebooks and scripts -----------------------------------------------------------------------


def test_result_repr_is_short_and_the_html_repr_holds_the_summary(arms):
    result = arms[0]
    assert len(repr(result)) < 200
    page = result._repr_html_()
    assert "<table>" in page and "metastasis_day" in page and result.scenario.description in page


def test_plot_in_a_script_saves_with_a_path_warns_without_one(arms, tmp_path):
    assert matplotlib.get_backend().lower() == "agg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        arms[0].plot(tmp_path / "run.png")
        arms[0].plot(show=False)
    assert (tmp_path / "run.png").is_file()
    with pytest.warns(UserWarning, match="path='figure.png'"):
        arms[0].plot()
    with pytest.raises(sim.InputError, match="show=True needs a window"):
        arms[0].plot(show=True)


def test_the_html_repr_of_a_comparison_is_its_table(arms):
    assert arms.table().splitlines()[0] in arms._repr_html_()


# --- help ---------------------------------------------------------------------------------------


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_has_a_description_and_examples_that_parse(name):
    sub = _subcommands()[name]
    assert sub.description and sub.epilog and sub.epilog.startswith("examples:")
    examples = [line.split("#")[0].strip() for line in sub.epilog.splitlines()[1:]]
    assert examples
    for example in examples:
        words = shlex.split(example)
        assert words[:2] == ["tumorsim", name]
        build_parser().parse_args(words[1:])  # raises on an unknown flag or a missing argument


def test_the_help_examples_of_run_and_compare_run(cli, tmp_path):
    for name in ("run", "compare"):
        for example in _subcommands()[name].epilog.splitlines()[1:]:
            words = shlex.split(example.split("#")[0])[1:]
            words = [str(tmp_path / w) if w.endswith((".csv", ".png")) else w for w in words]
            if any(w.endswith(".toml") for w in words):
                continue
            outcome = cli(*words)
            assert outcome.code == 0, (example, outcome.err)
            assert not re.search(r"\bnan\b|Traceback", outcome.out)


def test_slices_of_a_comparison_are_comparisons_that_add_up(arms):
    tail = arms[1:]
    assert isinstance(tail, sim.comparison.Comparison) and tail.names == ("irf7-restored",)
    assert (arms[:1] + tail).names == arms.names


def test_cli_errors_name_flags_not_python_arguments(cli, monkeypatch):
    import sim.kernel

    monkeypatch.setattr(sim.kernel, "available", lambda: False)
    assert_one_line_error(cli("cohort", "irf7-silenced", "--n", "5", "--engine", "compiled"),
                          "--engine compiled needs numba")
    outcome = cli("run", "irf7-silenced", "--dose", "1e5", "--dose-every", "none")
    assert_one_line_error(outcome, "--dose-every must be a number > 0, not 'none'")
