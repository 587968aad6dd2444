"""Bad input: exit code 2, one line on stderr naming what is wrong and what is allowed, no traceback,
and no output file written or overwritten."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from checks import assert_one_line_error

from sim.scenarios import PARAMETER_DIR, SCENARIO_DIR

BASE = (SCENARIO_DIR / "irf7-silenced.toml").read_text(encoding="utf-8")
DEPLETED = (SCENARIO_DIR / "irf7-restored-nk-depleted.toml").read_text(encoding="utf-8")




FLAG_CASES = [
    # unknown names, with the closest suggested
    (["run", "irf7-silenc"], ["unknown scenario", "'irf7-silenced'"]),
    (["show", "irf7-restord"], ["unknown scenario", "'irf7-restored'"]),
    (["compare", "irf7-silenced", "ifn-dose"], ["unknown scenario", "'ifn-dosed'"]),
    (["run", "no-such-thing"], ["unknown scenario", "no-such-thing", "tumorsim list"]),
    (["run", "irf7-silenced", "--set", "nk_kil=1"], ["--set", "unknown parameter", "'nk_kill'"]),
    (["run", "irf7-silenced", "--set", "irf7_activty=1"], ["--set", "'irf7_activity'"]),
    (["compare", "irf7-silenced", "66cl4", "--set", "shedding=0"], ["--set", "'shedding_rate'"]),
    (["run", "irf7-silenced", "--init", "X=1"], ["--init", "unknown state 'X'", "P, C, B, N, L, M, Q, I, S"]),
    (["run", "irf7-silenced", "--init", "nk=1"], ["--init", "unknown state 'nk'"]),
    # values that make no sense
    (["run", "irf7-silenced", "--set", "nk_kill=abc"], ["--set", "nk_kill", "abc", "a number >= 0"]),
    (["run", "irf7-silenced", "--set", "nk_kill=-1"], ["--set", "nk_kill", "-1"]),
    (["run", "irf7-silenced", "--set", "nk_kill=nan"], ["--set", "nk_kill", "nan"]),
    (["run", "irf7-silenced", "--set", "nk_kill=inf"], ["--set", "nk_kill", "inf"]),
    (["run", "irf7-silenced", "--set", "nk_kill=-inf"], ["--set", "nk_kill"]),
    (["run", "irf7-silenced", "--set", "nk_kill=1e400"], ["--set", "nk_kill"]),
    (["run", "irf7-silenced", "--set", "primary_capacity=0"], ["primary_capacity", "> 0"]),
    (["run", "irf7-silenced", "--set", "endpoint_burden=0"], ["endpoint_burden", "> 0"]),
    (["run", "irf7-silenced", "--set", "irf7_activity=2"], ["irf7_activity", "<= 1"]),
    (["run", "irf7-silenced", "--set", "ifnar=1.5"], ["ifnar", "<= 1"]),
    (["run", "irf7-silenced", "--set", "bone_seeding_fraction=3"], ["bone_seeding_fraction", "<= 1"]),
    (["run", "irf7-silenced", "--init", "P=abc"], ["--init", "P", "abc"]),
    (["run", "irf7-silenced", "--init", "P=-1"], ["--init", "P", "-1"]),
    (["run", "irf7-silenced", "--init", "M=-1"], ["--init", "M", "-1"]),
    (["run", "irf7-silenced", "--init", "B=nan"], ["--init", "B", "nan"]),
    (["run", "irf7-silenced", "--init", "N=inf"], ["--init", "N", "inf"]),
    (["run", "irf7-silenced", "--days", "0"], ["--days", "> 0"]),
    (["run", "irf7-silenced", "--days", "-1"], ["--days", "> 0"]),
    (["run", "irf7-silenced", "--days", "abc"], ["--days", "abc", "> 0"]),
    (["run", "irf7-silenced", "--days", "nan"], ["--days"]),
    (["run", "irf7-silenced", "--days", "inf"], ["--days"]),
    (["compare", "irf7-silenced", "66cl4", "--days", "0"], ["--days", "> 0"]),
    (["run", "irf7-silenced", "--every", "1"], ["--every", "--csv"]),
    (["run", "irf7-silenced", "--csv", "x.csv", "--every", "0"], ["--every", "> 0"]),
    (["run", "irf7-silenced", "--csv", "x.csv", "--every", "-2"], ["--every", "> 0"]),
    (["run", "irf7-silenced", "--csv", "x.csv", "--every", "abc"], ["--every", "abc", "> 0"]),
    (["run", "irf7-silenced", "--csv", "x.csv", "--every", "500"], ["--every", "follow-up"]),
    (["run", "irf7-silenced", "--rtol", "2"], ["--rtol", "between 0 and 1"]),
    (["run", "irf7-silenced", "--rtol", "0"], ["--rtol", "between 0 and 1"]),
    (["run", "irf7-silenced", "--rtol", "-0.1"], ["--rtol", "between 0 and 1"]),
    (["run", "irf7-silenced", "--rtol", "nan"], ["--rtol"]),
    (["compare", "irf7-silenced", "66cl4", "--rtol", "5"], ["--rtol", "between 0 and 1"]),
    (["run", "irf7-silenced", "--atol", "0"], ["--atol", "> 0"]),
    (["run", "irf7-silenced", "--atol", "-1"], ["--atol", "> 0"]),
    # malformed assignments and usage
    (["run", "irf7-silenced", "--set", "nk_kill"], ["--set", "NAME=VALUE", "nk_kill"]),
    (["run", "irf7-silenced", "--set", "=1"], ["--set", "NAME=VALUE"]),
    (["run", "irf7-silenced", "--set", "nk_kill="], ["--set", "NAME=VALUE"]),
    (["run", "irf7-silenced", "--init", "P"], ["--init", "NAME=VALUE"]),
    (["run", "irf7-silenced", "--bogus"], ["--bogus"]),
    (["run"], ["scenario"]),
    (["fly"], ["fly"]),
    ([], ["command"]),
]


@pytest.mark.parametrize(("argv", "fragments"), FLAG_CASES, ids=[" ".join(a) or "(none)" for a, _ in FLAG_CASES])
def test_bad_flags(argv, fragments, cli):
    assert_one_line_error(cli(*argv), *fragments)


def _append(extra: str):
    return lambda text: text + "\n" + extra + "\n"


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new)

    return edit


FILE_CASES = {
    "malformed-toml": (lambda text: 'name = "x"\ndays = \n', ["malformed TOML"]),
    "unclosed-table": (lambda text: "[parameters\n" + text, ["malformed TOML"]),
    "unknown-top-level-key": (lambda text: 'colour = "red"\n' + text, ["unknown key 'colour'"]),
    "misspelt-top-level-key": (lambda text: "dayz = 30\n" + text, ["unknown key 'dayz'", "'days'"]),
    "unknown-parameter": (_append("[parameters]\nnk_kil = 1e-7"), ["unknown parameter 'nk_kil'", "'nk_kill'"]),
    "negative-parameter": (_append("[parameters]\nnk_kill = -1e-7"), ["nk_kill", "a number >= 0"]),
    "text-parameter": (_append('[parameters]\nnk_kill = "fast"'), ["nk_kill", "fast"]),
    "parameter-above-maximum": (_append("[parameters]\nirf7_activity = 2"), ["irf7_activity", "<= 1"]),
    "parameters-not-a-table": (lambda text: "parameters = 3\n" + text, ["'parameters'"]),
    "unknown-initial-state": (_append("[initial]\nX = 1"), ["unknown state 'X'"]),
    "negative-initial-state": (_append("[initial]\nP = -5"), ["initial P"]),
    "negative-days": (_replace("days = 120", "days = -5"), ["'days'"]),
    "zero-days": (_replace("days = 120", "days = 0"), ["'days'", "> 0"]),
    "text-days": (_replace("days = 120", 'days = "long"'), ["'days'"]),
    "unknown-tumor-line": (_replace('tumor_line = "4T1.2"', 'tumor_line = "4T1"'), ["tumor_line '4T1'", "4T1.2-Irf7"]),
    "unknown-host": (_replace('host = "wild-type"', 'host = "nude"'), ["host 'nude'", "wild-type", "ifnar1-ko"]),
    "unknown-model": (lambda text: 'model = "lotka"\n' + text.replace('model = "irf7"\n', ""), ["unknown model 'lotka'"]),
    "unknown-event": (_replace('event = "resection"', 'event = "surgery"'), ["schedule entry 1", "'surgery'", "resection"]),
    "missing-event": (_replace('event = "resection"', ""), ["schedule entry 1", "'event'"]),
    "missing-day": (_replace("day = 14", "when = 14"), ["schedule entry 1", "when"]),
    "missing-key-day": (lambda text: re.sub(r"(?m)^day = 14.*$", "", text), ["schedule entry 1", "missing key 'day'"]),
    "unknown-entry-key": (_replace("day = 14", "day = 14\ncolour = 1"), ["schedule entry 1", "unknown key 'colour'"]),
    "negative-day": (_replace("day = 14", "day = -3"), ["schedule entry 1", "'day'"]),
    "fraction-above-one": (_replace("day = 14", "day = 14\nfraction = 2"), ["schedule entry 1", "'fraction'"]),
    "dose-missing-amount": (_append('[[schedule]]\nevent = "ifn-dose"\ndays = [3]'), ["schedule entry 2", "'amount'"]),
    "dose-missing-every": (
        _append('[[schedule]]\nevent = "ifn-dose"\namount = 1e5\nstart = 1\ncount = 3'), ["schedule entry 2", "'every'"]
    ),
    "dose-fractional-count": (
        _append('[[schedule]]\nevent = "ifn-dose"\namount = 1e5\nstart = 1\nevery = 2\ncount = 2.5'),
        ["schedule entry 2", "'count'"],
    ),
    "dose-empty-days": (_append('[[schedule]]\nevent = "ifn-dose"\namount = 1e5\ndays = []'), ["schedule entry 2", "'days'"]),
    "depletion-missing-stop": (
        _append('[[schedule]]\nevent = "depletion"\ncells = "nk"\nstart = 0\nrate = 2'), ["schedule entry 2", "'stop'"]
    ),
    "depletion-unknown-cells": (
        _append('[[schedule]]\nevent = "depletion"\ncells = "b"\nstart = 0\nstop = 9\nrate = 2'),
        ["schedule entry 2", "'cells'", "nk"],
    ),
    "depletion-stop-before-start": (
        _append('[[schedule]]\nevent = "depletion"\ncells = "nk"\nstart = 9\nstop = 3\nrate = 2'), ["schedule entry 2", "'stop'"]
    ),
    "schedule-not-a-list": (lambda text: 'schedule = "resection"\n' + text.split("[[schedule]]")[0], ["'schedule'"]),
    # values of the wrong type where a name (text) or a table is expected
    "schedule-entry-not-a-table": (lambda text: "schedule = [14]\n" + text.split("[[schedule]]")[0], ["schedule"]),
    "tumor-line-not-text": (_replace('tumor_line = "4T1.2"', "tumor_line = 4"), ["tumor_line"]),
    "event-not-text": (_replace('event = "resection"', 'event = ["resection"]'), ["schedule entry 1", "event"]),
    "cells-not-text": (
        _append('[[schedule]]\nevent = "depletion"\ncells = ["nk"]\nstart = 0\nstop = 9\nrate = 2'), ["schedule entry 2", "cells"]
    ),
}


@pytest.mark.parametrize("case", FILE_CASES)
def test_bad_scenario_files_name_the_file(case, cli, tmp_path):
    edit, fragments = FILE_CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(edit(BASE), encoding="utf-8")
    assert_one_line_error(cli("run", path), str(path), *fragments)


def test_bad_scenario_file_in_show_and_compare(cli, tmp_path):
    path = tmp_path / "typo.toml"
    path.write_text('colour = "red"\n' + BASE, encoding="utf-8")
    assert_one_line_error(cli("show", path), str(path), "colour")
    assert_one_line_error(cli("compare", "irf7-silenced", path), str(path), "colour")


def test_missing_scenario_file(cli, tmp_path):
    path = tmp_path / "nowhere.toml"
    assert_one_line_error(cli("run", path), str(path), "no such file")


def test_scenario_path_that_is_a_folder(cli, tmp_path):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert_one_line_error(cli("run", folder), str(folder))


def _with_parameter_file(tmp_path: Path, parameters: str) -> Path:
    (tmp_path / "my-parameters.toml").write_text(parameters, encoding="utf-8")
    path = tmp_path / "mine.toml"
    path.write_text('parameter_file = "my-parameters.toml"\n' + BASE, encoding="utf-8")
    return path


def test_missing_parameter_file(cli, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('parameter_file = "gone.toml"\n' + BASE, encoding="utf-8")
    assert_one_line_error(cli("run", path), "gone.toml", "no such file")


def test_bad_value_in_a_users_parameter_file(cli, tmp_path):
    text = (PARAMETER_DIR / "irf7.toml").read_text(encoding="utf-8").replace("value = 3.23e-7", "value = -3.23e-7")
    path = _with_parameter_file(tmp_path, text)
    assert_one_line_error(cli("run", path), "my-parameters.toml", "nk_kill")


def test_unknown_key_in_a_users_parameter_file(cli, tmp_path):
    text = (PARAMETER_DIR / "irf7.toml").read_text(encoding="utf-8")
    text = text.replace('basis = "literature"', 'basis = "literature"\nunits = "x"', 1)
    path = _with_parameter_file(tmp_path, text)
    assert_one_line_error(cli("run", path), "my-parameters.toml", "unknown key 'units'")


def test_users_parameter_file_missing_a_parameter(cli, tmp_path):
    """A copied parameter file with one parameter renamed: say which one is missing, don't crash."""
    text = (PARAMETER_DIR / "irf7.toml").read_text(encoding="utf-8").replace("[parameters.nk_kill]", "[parameters.nk_kil]")
    path = _with_parameter_file(tmp_path, text)
    assert_one_line_error(cli("run", path), "my-parameters.toml", "nk_kill")


# --- output files ------------------------------------------------------------------


def test_csv_refuses_to_overwrite_without_force(cli, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("my precious data\n", encoding="utf-8")
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", path), str(path), "--force")
    assert path.read_text(encoding="utf-8") == "my precious data\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv"]


def test_csv_refuses_to_overwrite_an_existing_sidecar(cli, tmp_path):
    path = tmp_path / "run.csv"
    sidecar = tmp_path / "run.csv.meta.json"
    sidecar.write_text("{}\n", encoding="utf-8")
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", path), "run.csv.meta.json", "--force")
    assert sidecar.read_text(encoding="utf-8") == "{}\n"
    assert not path.exists()


def test_csv_force_replaces(cli, tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("old\n", encoding="utf-8")
    Path(f"{path}.meta.json").write_text("old\n", encoding="utf-8")
    outcome = cli("run", "irf7-silenced", "--csv", path, "--force")
    assert outcome.code == 0, outcome.err
    assert path.read_text(encoding="utf-8").startswith(
        "time [day],P [cells],C [cells],B [cells],N [cells],L [cells],M [cells],Q [dimensionless],I [IU/mL],"
        "S [dimensionless]\n")
    assert Path(f"{path}.meta.json").read_text(encoding="utf-8").startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.csv", "mine.csv.meta.json"]


def test_csv_into_a_missing_folder(cli, tmp_path):
    path = tmp_path / "no-such-folder" / "run.csv"
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", path), "--csv", "no-such-folder")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".txt", ".jpeg", ""])
def test_plot_with_a_bad_suffix_writes_nothing(suffix, cli, tmp_path):
    path = tmp_path / f"figure{suffix}"
    assert_one_line_error(cli("run", "irf7-silenced", "--plot", path), "--plot", ".png")
    assert list(tmp_path.iterdir()) == []


def test_compare_plot_with_a_bad_suffix_writes_nothing(cli, tmp_path):
    path = tmp_path / "figure.gif"
    assert_one_line_error(cli("compare", "irf7-silenced", "irf7-restored", "--plot", path), "--plot", ".png")
    assert list(tmp_path.iterdir()) == []


def test_bad_plot_suffix_also_stops_the_csv(cli, tmp_path):
    """A command that fails writes nothing: the CSV is not left behind when --plot is refused."""
    outcome = cli("run", "irf7-silenced", "--csv", tmp_path / "run.csv", "--plot", tmp_path / "run.txt")
    assert_one_line_error(outcome, "--plot")
    assert list(tmp_path.iterdir()) == []


def test_plot_refuses_to_overwrite_without_force(cli, tmp_path):
    path = tmp_path / "figure.png"
    path.write_bytes(b"not a real png")
    assert_one_line_error(cli("run", "irf7-silenced", "--plot", path), str(path), "--force")
    assert path.read_bytes() == b"not a real png"
    outcome = cli("run", "irf7-silenced", "--plot", path, "--force")
    assert outcome.code == 0, outcome.err
    assert path.read_bytes().startswith(b"\x89PNG")
