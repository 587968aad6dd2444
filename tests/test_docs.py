"""Keep docs/model.md in step with the code.

The model description holds tables that repeat what the code knows: the
parameters (value, unit, basis), the states and their units, the tumour-line
and host presets, the scenarios and the metastasis day each scenario gives.
These tests parse those tables out of the Markdown and compare them with the
package, so a change of a parameter, a state or a model result fails here
until the document is updated too.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import pytest

import sim
from sim.parameters import DATA, load_parameter_file

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
PARAMETER_FILE = DATA / "parameters" / "irf7.toml"

PARAMETER_HEADER = "| parameter | value | unit | basis | meaning | source |"
SYMBOL_HEADER = "| symbol | parameter |"
STATE_HEADER = "| state | unit | meaning |"
PRESET_HEADER = "| preset | kind | parameters changed | description | source |"
SCENARIO_HEADER = "| scenario | tumour line | host | treatment | what it mirrors |"
RESULT_HEADER = "| scenario | metastasis day | reading |"

_SEPARATOR = re.compile(r"\|(\s*:?-+:?\s*\|)+")
_CELL_BREAK = re.compile(r"(?<!\\)\|")
_ASSIGNMENT = re.compile(r"`\s*(\w+)\s*=\s*([^`]+?)\s*`")


def _normalise(line: str) -> str:
    return " ".join(line.split())


def _split_row(line: str) -> list[str]:
    text = line.strip()
    assert text.startswith("|") and text.endswith("|"), f"not a table row: {line!r}"
    return [cell.strip().replace("\\|", "|") for cell in _CELL_BREAK.split(text[1:-1])]


def _plain(cell: str) -> str:
    """A cell's text without the backticks that wrap code-like entries."""
    if len(cell) >= 2 and cell.startswith("`") and cell.endswith("`"):
        return cell[1:-1].strip()
    return cell


@cache
def _doc_lines() -> tuple[str, ...]:
    assert DOC.exists(), f"{DOC} is missing"
    return tuple(DOC.read_text(encoding="utf-8").splitlines())


def table(header: str) -> list[dict[str, str]]:
    """Rows (column name -> raw cell text) of the one table of docs/model.md headed ``header``."""
    lines = _doc_lines()
    starts = [i for i, line in enumerate(lines) if _normalise(line) == header]
    assert len(starts) == 1, f"docs/model.md must hold exactly one table headed {header!r}, found {len(starts)}"
    start = starts[0]
    columns = _split_row(lines[start])
    assert start + 1 < len(lines) and _SEPARATOR.fullmatch(lines[start + 1].strip()), f"{header!r}: no separator row"
    rows = []
    for number, line in enumerate(lines[start + 2 :], start=start + 3):
        if not line.strip().startswith("|"):
            break
        cells = _split_row(line)
        assert len(cells) == len(columns), f"docs/model.md line {number}: {len(cells)} cells, expected {len(columns)}"
        rows.append(dict(zip(columns, cells)))
    assert rows, f"table {header!r} has no rows"
    return rows


def _unique_keys(rows: list[dict[str, str]], column: str) -> list[str]:
    keys = [_plain(row[column]) for row in rows]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"rows listed twice in column {column!r}: {duplicates}"
    return keys


@cache
def _parameter_file():
    return load_parameter_file(PARAMETER_FILE)


@cache
def _metastasis_day(name: str) -> float | None:
    return sim.run(name).metastasis_day


# --- parameters -----------------------------------------------------------------


def test_parameter_table_lists_every_parameter_in_file_order():
    documented = _unique_keys(table(PARAMETER_HEADER), "parameter")
    expected = list(_parameter_file().parameters)
    missing = [n for n in expected if n not in documented]
    extra = [n for n in documented if n not in expected]
    assert not missing and not extra, f"parameter table out of date: missing {missing}, not in the code {extra}"
    assert documented == expected, "parameter table rows must follow the order of irf7.toml"


def test_parameter_table_values_units_and_basis_match_the_file():
    parameters = _parameter_file().parameters
    problems = []
    for row in table(PARAMETER_HEADER):
        name = _plain(row["parameter"])
        if name not in parameters:
            continue  # reported by the test above
        param = parameters[name]
        text = _plain(row["value"])
        try:
            value = float(text)
        except ValueError:
            problems.append(f"{name}: value {text!r} is not a Python float")
        else:
            if not math.isclose(value, param.value, rel_tol=1e-9, abs_tol=0.0):
                problems.append(f"{name}: value {text} in the doc, {param.value!r} in the code")
        if _plain(row["unit"]) != param.unit:
            problems.append(f"{name}: unit {_plain(row['unit'])!r} in the doc, {param.unit!r} in the code")
        if _plain(row["basis"]) != param.basis:
            problems.append(f"{name}: basis {_plain(row['basis'])!r} in the doc, {param.basis!r} in the code")
        if not row["meaning"] or not row["source"]:
            problems.append(f"{name}: meaning and source must not be empty")
    assert not problems, "docs/model.md parameter table disagrees with irf7.toml:\n" + "\n".join(problems)


def test_symbol_table_maps_every_parameter_once():
    rows = table(SYMBOL_HEADER)
    documented = _unique_keys(rows, "parameter")
    _unique_keys(rows, "symbol")
    assert set(documented) == set(_parameter_file().parameters), (
        "the symbol table must name each parameter exactly once: "
        f"missing {sorted(set(_parameter_file().parameters) - set(documented))}, "
        f"unknown {sorted(set(documented) - set(_parameter_file().parameters))}"
    )


def test_preset_table_matches_tumour_lines_and_hosts():
    loaded = _parameter_file()
    presets = {name: ("tumour line", p) for name, p in loaded.tumor_lines.items()}
    presets.update({name: ("host", p) for name, p in loaded.hosts.items()})
    rows = table(PRESET_HEADER)
    documented = _unique_keys(rows, "preset")
    assert set(documented) == set(presets), f"preset table lists {sorted(documented)}, the file has {sorted(presets)}"
    for row in rows:
        name = _plain(row["preset"])
        kind, preset = presets[name]
        assert row["kind"] == kind, f"preset {name}: kind {row['kind']!r}, expected {kind!r}"
        changed = {key: float(value) for key, value in _ASSIGNMENT.findall(row["parameters changed"])}
        if not changed:
            assert row["parameters changed"] == "none", f"preset {name}: write `name = value` pairs or 'none'"
        expected = {key: float(value) for key, value in preset.values.items()}
        assert changed.keys() == expected.keys(), f"preset {name}: doc changes {sorted(changed)}, file {sorted(expected)}"
        for key, value in expected.items():
            assert math.isclose(changed[key], value, rel_tol=1e-9), f"preset {name}: {key} = {changed[key]}, file {value}"


# --- states ---------------------------------------------------------------------


def test_state_table_gives_every_state_with_its_unit():
    model = sim.get_model("irf7")
    rows = table(STATE_HEADER)
    documented = dict(zip(_unique_keys(rows, "state"), (_plain(r["unit"]) for r in rows)))
    for state in model.states:
        assert state.name in documented, f"state {state.name} is missing from the states table"
        assert documented[state.name] == state.unit, (
            f"state {state.name}: unit {documented[state.name]!r} in the doc, {state.unit!r} in the code"
        )
    extra = set(documented) - set(model.state_names)
    assert not extra, f"states table lists states the model does not have: {sorted(extra)}"


# --- scenarios and results ------------------------------------------------------


def test_scenario_table_matches_the_shipped_scenarios():
    rows = table(SCENARIO_HEADER)
    documented = _unique_keys(rows, "scenario")
    assert sorted(documented) == sim.scenario_names("irf7"), "scenario table must list every shipped scenario"
    for row in rows:
        scenario = sim.load_scenario(_plain(row["scenario"]))
        assert _plain(row["tumour line"]) == scenario.tumor_line, f"{scenario.name}: tumour line"
        assert _plain(row["host"]) == scenario.host, f"{scenario.name}: host"


def test_result_table_lists_every_shipped_scenario():
    documented = _unique_keys(table(RESULT_HEADER), "scenario")
    assert sorted(documented) == sim.scenario_names("irf7"), "metastasis-day table must list every shipped scenario"


@pytest.mark.parametrize("row", table(RESULT_HEADER), ids=lambda row: _plain(row["scenario"]))
def test_metastasis_day_in_doc_matches_the_model(row):
    name = _plain(row["scenario"])
    printed = row["metastasis day"]
    day = _metastasis_day(name)
    never = re.fullmatch(r"none by day (\d+(?:\.\d+)?)", printed)
    if never:
        assert day is None, f"{name}: the doc says no metastasis, the model gives day {day:.4f}; update docs/model.md"
        assert float(never.group(1)) == sim.load_scenario(name).days, f"{name}: follow-up in the doc differs"
        return
    assert re.fullmatch(r"\d+(\.\d+)?", printed), f"{name}: {printed!r} is neither a day nor 'none by day N'"
    assert day is not None, f"{name}: the doc says day {printed}, the model finds no metastasis; update docs/model.md"
    decimals = len(printed.partition(".")[2])
    assert f"{day:.{decimals}f}" == printed, f"{name}: doc says day {printed}, the model gives {day:.4f}; update docs/model.md"
