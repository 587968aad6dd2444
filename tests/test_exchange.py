"""SBML and Antimony export: valid for libsbml, and libroadrunner reproduces tumorsim's course.

Tolerances of the round trip: tumorsim at rtol 1e-12 (LSODA), libroadrunner's
CVODE at rtol = atol = 1e-11; the courses must agree to 1e-4 relative (states
floored at 1 unit) every half day, except at the instants of scheduled jumps,
where "the value on day 14" is ambiguous (before or after the surgery). The
measured worst case is about 1e-5 (de Pillis ligand run).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from checks import assert_one_line_error, require_extra

import sim
from sim.solver import solve

SCENARIOS = sim.scenario_names() + sorted(sim.MODELS)


def _roadrunner_course(text: str, states, days: float, points: int):
    roadrunner = require_extra("roadrunner", "sbml")
    runner = roadrunner.RoadRunner(text)
    runner.integrator.relative_tolerance = 1e-11
    runner.integrator.absolute_tolerance = 1e-11
    runner.integrator.setValue("maximum_num_steps", 200_000)
    runner.timeCourseSelections = ["time", *states]
    course = np.asarray(runner.simulate(0, days, points))
    return runner, course


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_exports_valid_sbml_that_libroadrunner_reproduces(name):
    libsbml = require_extra("libsbml", "sbml")
    from sim.exchange import sbml

    scenario = sim.load_scenario(name)
    text = sbml(scenario)
    document = libsbml.readSBMLFromString(text)
    document.checkConsistency()
    log = document.getErrorLog()
    errors = [log.getError(i).getMessage() for i in range(log.getNumErrors())
              if log.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert errors == [] and (document.getLevel(), document.getVersion()) == (3, 2)

    reference = solve(scenario, rtol=1e-12, atol=1e-10, every=0.5)
    runner, course = _roadrunner_course(text, scenario.model.state_names, reference.time[-1], len(reference.time))
    np.testing.assert_allclose(course[:, 0], reference.time, atol=1e-9)
    event_days = [j.day for j in scenario.schedule.jumps]
    compared = ~np.isin(reference.time, event_days)
    error = np.abs(course[:, 1:] - reference.values.T) / np.maximum(np.abs(reference.values.T), 1.0)
    assert error[compared].max() <= 1e-4, (name, float(error[compared].max()))
    if scenario.model.detection_state is not None:  # the flags say what tumorsim says
        if reference.endpoint_day is not None:  # tumorsim stops there; SBML sets a flag and goes on
            runner.simulate(reference.time[-1], reference.endpoint_day + 1e-3, 2)
        assert bool(runner["metastasis_detected"]) == (reference.metastasis_day is not None)
        if reference.metastasis_day is not None:
            assert runner["metastasis_day"] == pytest.approx(reference.metastasis_day, abs=1e-3)
        assert bool(runner["culled"]) == (reference.endpoint_day is not None)
        if reference.endpoint_day is not None:
            assert runner["endpoint_day"] == pytest.approx(reference.endpoint_day, abs=1e-3)


def test_the_export_carries_values_units_notes_and_the_schedule():
    libsbml = require_extra("libsbml", "sbml")
    from sim.exchange import sbml

    scenario = sim.load_scenario("irf7-restored-nk-depleted")
    model = libsbml.readSBMLFromString(sbml(scenario)).getModel()
    kill = model.getParameter("nk_kill")
    assert kill.getValue() == scenario.parameters["nk_kill"].value and kill.getConstant()
    assert scenario.parameters["nk_kill"].source[:40] in kill.getNotesString()
    assert model.getUnitDefinition(kill.getUnits()).getName() == scenario.parameters["nk_kill"].unit
    assert model.getTimeUnits() == "u_day"
    depletion = model.getParameter("nk_depletion_rate")
    assert not depletion.getConstant() and depletion.getValue() == 2.0  # the window opens on day 0
    names = [model.getEvent(i).getName() for i in range(model.getNumEvents())]
    assert any("surgery" in n for n in names) and any("ends" in n for n in names)
    assert {model.getRule(i).getVariable() for i in range(model.getNumRules())} == set(scenario.model.state_names)
    assert model.getParameter("P").getValue() == scenario.initial["P"]


def test_a_changed_scenario_exports_its_changes(cli, tmp_path):
    libsbml = require_extra("libsbml", "sbml")
    out = tmp_path / "half.xml"
    outcome = cli("export", "irf7-silenced", "--set", "irf7_activity=0.5", "--out", out)
    assert outcome.code == 0, outcome.err
    model = libsbml.readSBMLFromFile(str(out)).getModel()
    assert model.getParameter("irf7_activity").getValue() == 0.5
    assert "irf7_activity = 0.5 (was 0)" in model.getNotesString()
    assert_one_line_error(cli("export", "irf7-silenced", "--out", out), "--out", "--force")


@pytest.mark.parametrize("name", SCENARIOS)
def test_antimony_output_loads_in_antimony(name):
    antimony = require_extra("antimony", "sbml")
    from sim.exchange import antimony as to_antimony

    text = to_antimony(name)
    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(text) >= 0, antimony.getLastError()
    assert ("at time >= " in text) == bool(sim.load_scenario(name).schedule.breakpoints(1e9)[1:-1])
    for state in sim.load_scenario(name).model.state_names:
        assert f"{state}' = " in text


def test_export_function_writes_whole_files_and_checks_the_format(tmp_path):
    require_extra("libsbml", "sbml")
    path = tmp_path / "restored.xml"
    text = sim.export("irf7-restored", "sbml", path)
    assert path.read_text(encoding="utf-8") == text
    with pytest.raises(sim.InputError, match="already exists"):
        sim.export("irf7-restored", "sbml", path)
    with pytest.raises(sim.InputError, match="format must be one of sbml, antimony"):
        sim.export("irf7-restored", "cellml")


def test_without_the_extra_export_says_what_to_install(monkeypatch):
    import sim.exchange

    def missing(name):
        raise ImportError(name)

    monkeypatch.setattr(sim.exchange.importlib, "import_module", missing)
    with pytest.raises(sim.InputError, match=r"pip install -e '\.\[sbml\]'"):
        sim.exchange.sbml("irf7-restored")


def test_a_result_and_a_cohort_become_dataframes():
    require_extra("pandas", "sbml")
    from sim.cohort import simulate_cohort

    result = sim.run("irf7-silenced", days=40, every=1.0)
    frame = result.to_dataframe()
    assert list(frame.columns) == ["time", *result.state_names] and len(frame) == 41
    np.testing.assert_array_equal(frame["B"].to_numpy(), result["B"])
    assert frame.attrs["units"]["I"] == "IU/mL" and frame.attrs["scenario"] == "irf7-silenced"
    cohort = simulate_cohort("irf7-silenced", 30, 2, workers=1)
    mice = cohort.to_dataframe()
    assert len(mice) == 30 and mice.attrs["seed"] == 2
    np.testing.assert_array_equal(mice["metastasis_day"].to_numpy(), cohort.metastasis_day)
    assert set(mice["fate"]) <= set(sim.result.FATES)


def test_without_pandas_a_dataframe_says_what_to_install(monkeypatch):
    import sim.frames

    monkeypatch.setattr(sim.frames.importlib, "import_module", lambda name: (_ for _ in ()).throw(ImportError(name)))
    with pytest.raises(sim.InputError, match="pip install pandas"):
        sim.run("irf7-silenced", days=20).to_dataframe()


def test_license_and_citation_match_the_package():
    root = Path(__file__).resolve().parent.parent
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = { text = "MIT" }' in pyproject and (root / "LICENSE").read_text().startswith("MIT License")
    citation = (root / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{sim.__version__}"' in citation and "license: MIT" in citation
    for cited in ("10.1038/nm.2830", "Kuznetsov", "Kirschner", "de Pillis"):
        assert cited in citation
