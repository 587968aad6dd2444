"""Every sentence printed about a run is true for that run.

A scenario's hand-written note is shown only for the scenario as shipped; any
change (a parameter, the follow-up, an initial state, a treatment, an edited
copy) is named instead, and the sentences that remain are computed from the
numbers beside them. Each shipped scenario is perturbed several ways here and
its summary checked against the run's own numbers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import sim
from sim import analysis
from sim.scenarios import scenario_names

IRF7 = scenario_names("irf7")
CLASSIC = [name for name in scenario_names() if name not in IRF7]

IRF7_CHANGES = [
    {"parameters": {"cd8_kill_max": 0.3}},
    {"parameters": {"irf7_activity": 0.3}},
    {"parameters": {"shedding_rate": 0.032}},
    {"days": 365},
    {"surgery": "none"},
    {"initial": {"N": 0.0}},
    {"deplete": ["nk:0-60"]},
    {"dose": 1e6, "dose_start": 15},
]


def _checked_irf7(result: sim.Result) -> None:
    """Each sentence of an Irf7 summary against the run's numbers."""
    text = result.summary()
    numbers = analysis.key_numbers(result)
    detected = re.search(r"Bone metastasis detected on day ([\d.]+)", text)
    culled = re.search(r"Culled on day ([\d.]+)", text)
    free = "No bone metastasis within" in text
    assert [bool(detected), bool(culled), free].count(True) == 1, text
    if detected:
        assert result.fate == "metastasis" and float(detected.group(1)) == pytest.approx(result.metastasis_day, abs=0.051)
    if culled:
        assert result.fate == "culled" and float(culled.group(1)) == pytest.approx(result.endpoint_day, abs=0.051)
    if free:
        assert result.fate == "free" and result.time[-1] == pytest.approx(result.days)
    endpoint = re.search(r"reached the humane endpoint \([-\d.e+]+ cells\) on day ([\d.]+) \((.*?)\)", text)
    assert bool(endpoint) == (result.fate == "metastasis" and result.endpoint_day is not None), text
    if endpoint:
        assert float(endpoint.group(1)) == pytest.approx(result.endpoint_day, abs=0.051)
        assert ("never operated on" in endpoint.group(2)) == (numbers["surgery_day"] is None)
    nk = numbers["nk_fold_before_surgery"]
    rose = re.search(r"NK cells rose to ([\d.]+)x", text)
    if nk is None:
        assert "NK cells were absent at the start" in text
    elif nk < 1.005:
        assert "NK cells never rose" in text
    else:
        assert rose and float(rose.group(1)) == pytest.approx(nk, rel=5e-3)
    reached = re.search(r"CD8\+ T cells reached ([-\d.e+]+) effector cells", text)
    surgery_day = numbers["surgery_day"]
    before = result["L"][result.time <= (surgery_day if surgery_day is not None else result.time[-1])].max()
    assert reached and float(reached.group(1)) == pytest.approx(before, rel=5e-3, abs=1e-9)
    later = re.search(r"effector CD8\+ T cells peaked at ([-\d.e+]+) on day (\d+)( \(after the bone metastasis)?", text)
    peak_day = result.time[int(np.argmax(result["L"]))]
    assert bool(later) == (surgery_day is not None and peak_day > surgery_day)
    if later:
        assert float(later.group(1)) == pytest.approx(result["L"].max(), rel=5e-3)
        assert int(later.group(2)) == round(peak_day)
        assert bool(later.group(3)) == (result.metastasis_day is not None and peak_day > result.metastasis_day)
    memory = re.search(r"(\d+) days after surgery ([-\d.e+]+) memory cells remained", text)
    assert bool(memory) == (numbers["cd8_memory_after_surgery"] is not None)
    surgery = re.search(r"Before surgery on day ([\d.]+)", text)
    assert bool(surgery) == (numbers["surgery_day"] is not None)
    assert not re.search(r"\bnan\b|\bNone\b", text), text


@pytest.mark.parametrize("name", IRF7)
def test_shipped_irf7_runs_show_their_note_and_true_sentences(name):
    result = sim.run(name)
    text = result.summary()
    assert result.scenario.as_shipped and not result.scenario.changes
    assert text.splitlines()[0] == f"{name}: {result.scenario.description}"
    assert f"What to notice: {result.scenario.notice}" in text
    _checked_irf7(result)


@pytest.mark.parametrize("name", IRF7)
@pytest.mark.parametrize("change", IRF7_CHANGES, ids=lambda c: "-".join(c))
def test_a_changed_irf7_run_names_the_change_drops_the_note_and_says_only_what_happened(name, change):
    result = sim.run(name, **change)
    text = result.summary()
    scenario = result.scenario
    if not scenario.changes:  # e.g. surgery="none" on a scenario without surgery: the run is the shipped one
        assert scenario.as_shipped and scenario.notice in text
        return
    assert scenario.notice not in text
    assert "note is not shown" in text
    assert text.splitlines()[0] == f"{name}: the shipped scenario '{name}', changed for this run."
    changes = next(line for line in text.splitlines() if line.startswith("Changes: "))
    for key in change.get("parameters", {}):
        assert key in changes
    if "days" in change:
        assert "follow-up 365 days" in changes
    _checked_irf7(result)


@pytest.mark.parametrize("name", CLASSIC)
@pytest.mark.parametrize("factor", [1.0, 0.5, 2.0])
def test_classic_summaries_state_the_numbers_of_the_run(name, factor):
    shipped = sim.load_scenario(name)
    first = next(iter(shipped.parameters))
    changes = {} if factor == 1.0 else {"parameters": {first: shipped.parameters[first].value * factor}}
    result = sim.run(name, **changes)
    text = result.summary()
    assert (shipped.notice in text) == (factor == 1.0 and bool(shipped.notice))
    for state in result.scenario.model.states:
        series = result[state.name]
        claim = re.search(rf"\({state.name}\) went from (\S+) to (\S+?)(?: [^(]+)? \(lowest (\S+), highest ([^)\s]+)\)", text)
        assert claim, text
        for said, actual in zip(claim.groups(), (series[0], series[-1], series.min(), series.max())):
            assert float(said) == pytest.approx(actual, rel=1e-3, abs=1e-300)


def test_the_notes_hold_for_the_shipped_runs_they_describe():
    """Spot checks of hand-written notes against their shipped runs."""
    assert sim.run("66cl4").fate == "free"  # "no metastasis is detected in follow-up"
    assert "no metastasis" in sim.load_scenario("66cl4").notice
    restored = sim.run("irf7-restored")
    assert restored.fate == "free" and analysis.key_numbers(restored)["cd8_memory_after_surgery"] > 0


def test_an_edited_copy_is_named_after_its_file_and_reports_the_edits(tmp_path):
    shipped = (sim.scenarios.SCENARIO_DIR / "ifn-dosed.toml").read_text()
    copy = tmp_path / "my.toml"
    copy.write_text(shipped.replace("amount = 1e5", "amount = 1e6"))
    result = sim.run(copy)
    assert result.name == "my"
    text = result.summary()
    assert "a changed copy of the shipped scenario 'ifn-dosed'" in text
    assert "1e+06 IU" in text and result.scenario.notice not in text
    same = tmp_path / "same.toml"
    same.write_text(shipped)
    assert sim.run(same).scenario.as_shipped  # an unedited copy is the shipped run: its note holds


def test_a_users_own_scenario_keeps_its_name_and_no_note_is_vouched_for(tmp_path):
    own = tmp_path / "mine.toml"
    own.write_text('name = "late-surgery"\nnotice = "my own note"\ntumor_line = "4T1.2"\nhost = "wild-type"\n'
                   'days = 60\n[[schedule]]\nevent = "resection"\nday = 20\n')
    result = sim.run(own)
    assert result.name == "late-surgery" and not result.scenario.as_shipped
    assert "my own note" not in result.summary()


def test_no_two_arms_share_a_label(tmp_path):
    copy = tmp_path / "ifn-dosed.toml"
    copy.write_text((sim.scenarios.SCENARIO_DIR / "ifn-dosed.toml").read_text())
    arms = sim.compare([str(copy), "ifn-dosed", "ifn-dosed"], days=40)
    assert len(set(arms.names)) == 3
    assert arms.names[0] == str(copy) and arms.names[1:] == ("ifn-dosed (1)", "ifn-dosed (2)")


def test_changed_runs_plot_titles_do_not_present_the_shipped_description(tmp_path):
    result = sim.run("ifn-dosed", dose="none")
    axes = result.plot(show=False)
    title = np.ravel(axes)[0].figure._suptitle.get_text()
    assert title.startswith("ifn-dosed, changed: treatment removed: interferon dose")
    assert result.scenario.description not in " ".join(title.split())
    described = sim.run(result.scenario.with_changes(description="4T1.2 without interferon"))
    assert np.ravel(described.plot(show=False))[0].figure._suptitle.get_text().startswith(
        "ifn-dosed: 4T1.2 without interferon")


def test_dose_grid_and_sweep_tables_say_free_or_culled_never_nan(cli):
    doses = cli("doses", "irf7-restored", "--amounts", "1e5", "--intervals", "3", "--starts", "1")
    assert doses.code == 0, doses.err
    assert "Without interferon: no bone metastasis within 120 days." in doses.out
    assert doses.out.splitlines()[2].split()[-1] == "free" and not re.search(r"\bnan\b|\bnone\b", doses.out)
    sweep = cli("sweep", "irf7-silenced", "--parameter", "primary_growth_rate", "--from", "0.05", "--to", "0.3",
                "--steps", "2")
    rows = sweep.out.splitlines()
    early, fast = sim.run("irf7-silenced", parameters={"primary_growth_rate": 0.05}), sim.run(
        "irf7-silenced", parameters={"primary_growth_rate": 0.3})
    assert float(rows[2].split()[-1]) == pytest.approx(early.metastasis_day, abs=0.01)
    assert fast.fate == "culled" and rows[3].endswith(f"culled day {fast.endpoint_day:.1f}")
    assert "'culled day D'" in sweep.out and "'free'" not in sweep.out


def test_tables_end_on_the_last_day_of_the_run_and_equilibria_name_changes(cli):
    run = sim.run("irf7-silenced", days=90)
    assert run.table(every=7).splitlines()[-1].split()[0] == "90"
    culled = sim.run("irf7-silenced", surgery="none")
    assert float(culled.table(every=7).splitlines()[-1].split()[0]) == pytest.approx(culled.endpoint_day, abs=0.01)
    out = cli("equilibria", "kuznetsov1994", "--set", "d=0.05").out
    assert out.splitlines()[1].startswith("With d = 0.05 (was ")
    assert not cli("equilibria", "kuznetsov1994").out.splitlines()[1].startswith("With")


def test_the_mdsc_clause_keeps_its_capitals_after_the_whole_run_peak():
    text = sim.run("irf7-restored", parameters={"cd8_kill_max": 0.25}).summary()
    assert "(after the bone metastasis was detected); MDSCs rose to" in text
