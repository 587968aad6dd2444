"""Every sentence a learner script prints is true for the run that was made, also after the lesson plan's changes.

Each test loads a script from experiments/ as a module, changes its settings the way a learner would
(CHANGES, a constant, --n), runs its main() with warnings as errors, and checks the printed claims
against the numbers printed beside them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.plotting import plot_dose_grid
from sim.sweeps import DoseGrid

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"

pytestmark = pytest.mark.filterwarnings("error")  # a RuntimeWarning or a plotting warning fails the test


def run_script(stem: str, capsys, tmp_path: Path, *args: str, **settings) -> str:
    """Run experiments/<stem>.py with its module-level ``settings`` replaced; returns what it printed."""
    spec = importlib.util.spec_from_file_location(f"experiment_{stem}", EXPERIMENTS / f"{stem}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name, value in settings.items():
        assert hasattr(script, name), f"{stem}.py has no setting {name}"
        setattr(script, name, value)
    argv = sys.argv
    sys.argv = [f"{stem}.py", "--out", str(tmp_path), *args]
    try:
        script.main()
    finally:
        sys.argv = argv
    printed = capsys.readouterr().out
    assert not re.search(r"\bnan\b|\binf\b", printed, re.IGNORECASE), printed
    return printed


def bullets(printed: str) -> list[str]:
    """The 'What to notice' items, each joined into one line."""
    return [" ".join(item.split()) for item in re.split(r"\n  \* ", printed.split("What to notice:")[-1])[1:]]


def p_values(sentence: str) -> list[float]:
    return [float(p) for p in re.findall(r"p = ([0-9.e+-]+[0-9])", sentence)]


def test_dose_timing_when_the_untreated_mouse_stays_free_claims_no_delay(capsys, tmp_path):
    printed = run_script("dose_timing", capsys, tmp_path, CHANGES={"ifn_clearance": 1.7})  # lesson step 9's old change
    assert "no delay to measure" in printed
    assert "day of bone metastasis" in printed and "delay of bone metastasis (days)" not in printed
    assert not re.search(r"[+-]\d+\s*$", printed, re.MULTILINE), "a delay was printed without a reference day"
    assert "buys" not in printed and "prevent detectable metastasis" not in printed


def test_dose_timing_sentences_match_the_table(capsys, tmp_path):
    printed = run_script("dose_timing", capsys, tmp_path, CHANGES={"ifn_clearance": 8})
    delay = {}
    for start, interval, amount, cell in re.findall(r"^(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$", printed, re.MULTILINE):
        delay[int(start), int(interval), float(amount)] = np.inf if cell.startswith("no metastasis") else float(cell)
    late = [v for (start, _, _), v in delay.items() if start == 15]
    prevented = re.search(r"(\d+) of the (\d+) courses starting on day 15", printed)
    assert prevented and int(prevented[1]) == sum(np.isinf(late)) > 0 and int(prevented[2]) == len(late)
    for item in bullets(printed):
        if "dosing every 3 days instead of every 7" in item:
            often, weekly = delay[1, 3, 1e4], delay[1, 7, 1e4]
            assert ("makes no difference" in item.split(";")[0]) == (often == weekly)


@pytest.mark.parametrize("untreated", [32.1, np.nan])
def test_dose_grid_figure_labels_courses_without_metastasis_in_plain_words(untreated):
    days = np.array([[[np.nan, 40.0], [35.0, 33.0]]])
    grid = DoseGrid("ifn-dosed", np.array([1e4, 1e5]), np.array([1.0, 7.0]), np.array([1.0]), days, None, untreated,
                    120.0)
    axes = plot_dose_grid(grid)
    figure = np.ravel(axes)[0].figure
    cells = [t.get_text() for t in np.ravel(axes)[0].texts]
    title = figure._suptitle.get_text()
    assert "nan" not in title and "free" in cells and "none" not in cells
    if np.isnan(untreated):
        assert cells == ["free", "day 40", "day 35", "day 33"] and "no delay to measure" in title
    else:
        assert cells == ["free", "+8", "+3", "+1"] and "metastasis on day 32" in title
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_cohort_survival_small_groups_claim_no_difference_that_the_test_does_not_support(capsys, tmp_path):
    printed = run_script("cohort_survival", capsys, tmp_path, "--n", "10", "--seed", "3")
    items = bullets(printed)
    assert any("by chance" in item or "does not differ significantly" in item for item in items), printed
    for item in items:
        if "sooner than" in item or "keep mice metastasis-free longer" in item:
            assert all(p < 0.05 for p in p_values(item)) or "p < 1e-16" in item, item
        if "can arise by chance" in item or "does not differ significantly" in item:
            assert p_values(item) and all(p >= 0.05 for p in p_values(item)), item
    assert "e-fold" not in printed and "days sooner per doubling of bone seeding" in printed
    table = printed.split("How spread out")[1].split("What to notice")[0]
    assert not re.search(r"\bnone\b", table), "'none' in a column of days"
    assert ("-: fewer than 5 mice" in table) == bool(re.search(r"\s-\s*$", table, re.MULTILINE))


def test_irf7_restoration_without_memory_cells_plots_without_warnings(capsys, tmp_path):
    printed = run_script("irf7_restoration", capsys, tmp_path, CHANGES={"cd8_memory_formation": 0})
    assert "0 memory cells were left" in printed
    assert (tmp_path / "irf7_restoration.png").stat().st_size > 0


def test_ligand_experiment_explains_with_the_changed_parameters(capsys, tmp_path):
    printed = run_script("ligand_experiment", capsys, tmp_path, CHANGES={"r": 0, "sigma": 6.5e3})
    assert "prime no CD8+ T cells" in printed and "encounters (r N T) prime CD8+" not in printed
    resting = float(re.search(r"resting NK cells \(([0-9.e+]+)\)", printed)[1])
    assert resting == pytest.approx(6.5e3 / 0.0412, rel=1e-2)  # sigma / f of de Pillis et al. 2005
    kill, growth = (float(x) for x in re.search(r"c N = ([0-9.]+) per day,\n(?:more|less) than the tumour's growth "
                                               r"rate a = ([0-9.]+)", printed).groups())
    assert ("shrinks from the start" in printed) == (kill > growth)


def effector_rows(printed: str) -> dict[str, tuple[float, float, float | None, float | None]]:
    """interferon_therapy's effector table: arm -> (peak, day of peak, effectors at detection, detection day)."""
    rows = {}
    for arm, peak, peak_day, rest in re.findall(r"^(no interferon|\d+ doses, days \S+)\s+([0-9.e+-]+) \(day ([0-9.]+)\)\s+(.+)$",
                                                printed, re.MULTILINE):
        detected = re.fullmatch(r"([0-9.e+-]+) \(day ([0-9.]+)\)", rest.strip())
        rows[arm] = (float(peak), float(peak_day), *(map(float, detected.groups()) if detected else (None, None)))
    return rows


@pytest.mark.parametrize("first_late_dose", [15, 30])
def test_interferon_therapy_explains_only_what_its_numbers_show(first_late_dose, capsys, tmp_path):
    """Lesson step 8: the effector peaks are the ones `tumorsim run` reports, and each 'why' sentence holds."""
    import sim

    printed = run_script("interferon_therapy", capsys, tmp_path, FIRST_LATE_DOSE=first_late_dose)
    assert ("Changes in effect: FIRST_LATE_DOSE = 30 (as shipped: 15)." in printed) == (first_late_dose == 30)
    rows = effector_rows(printed)
    untreated, early, late = (rows[arm] for arm in ("no interferon", "10 doses, days 1-28",
                                                    f"10 doses, days {first_late_dose}-{first_late_dose + 27}"))
    runs = {"no interferon": sim.run("irf7-silenced"), "early": sim.run("ifn-dosed"),
            "late": sim.run("ifn-dosed", dose_start=first_late_dose)}
    for (peak, _, _, detected), run in zip((untreated, early, late), runs.values()):
        assert f"{peak:.3g}" == f"{run['L'].max():.3g}"  # the same peak as `tumorsim run` prints
        assert detected == (None if run.metastasis_day is None else pytest.approx(run.metastasis_day, abs=0.05))
    delay = float(re.search(r"late doses delayed it by ([0-9.]+) days", printed)[1])
    assert delay == pytest.approx(late[3] - untreated[3], abs=0.11)
    assert "Why timing matters" in printed  # the early course keeps the mouse free, the late one does not
    why = " ".join(printed.split("Why timing matters:")[1].split("Figure saved")[0].split())
    early_days, late_days = (int(n) for n in re.search(r"on (\d+) of the 10 early dose days and on (\d+) of", why).groups())
    assert ("found less antigen" in why) == (late_days < early_days)
    assert ("expanded fewer effector" in why) == (late[0] < early[0])
    assert ("rose higher" in why) == (late[0] >= early[0])
    later = re.search(r"their peak came ([0-9.]+) days later", why)
    assert later and float(later[1]) == pytest.approx(late[1] - late[3], abs=0.11) and late[1] > late[3]
    net, unopposed = (float(x) for x in re.search(r"net ([0-9.]+) per day .* unopposed: ([0-9.]+)\)", why).groups())
    assert 0 < net < unopposed  # killing slowed the bone's growth but did not stop it
    bone = re.search(r"bone already held ([0-9.e+]+) cells \(([0-9.]+) % of", why)
    threshold = runs["late"].parameters["detection_threshold"]
    assert float(bone[2]) == pytest.approx(100 * float(bone[1]) / threshold, rel=0.05)  # printed to 2 significant digits


def test_interferon_therapy_claims_no_reason_when_timing_makes_no_difference(capsys, tmp_path):
    printed = run_script("interferon_therapy", capsys, tmp_path, CHANGES={"ifn_clearance": 1.7})
    assert "Changes in effect: ifn_clearance = 1.7 (without the change: 16.6)." in printed
    assert "Why" not in printed and "neither course's mouse had a detectable metastasis" in printed


@pytest.mark.parametrize(("stem", "settings", "line"), [
    ("irf7_sweep", {"CHANGES": {"cd8_kill_max": 0.2}}, "Changes in effect: cd8_kill_max = 0.2 (without the change: 0.5)."),
    ("irf7_restoration", {"CHANGES": {"cd8_kill_max": 0.5}}, None),  # the shipped value: no change in effect
    ("irf7_restoration", {}, None),
])
def test_scripts_name_the_changes_in_effect(stem, settings, line, capsys, tmp_path):
    """Lesson step 6: a learner who edits CHANGES sees it named in the output; a script as shipped says nothing."""
    printed = run_script(stem, capsys, tmp_path, *(["--n", "0"] if stem == "irf7_sweep" else []), **settings)
    changes = [row for row in printed.splitlines() if row.startswith("Changes in effect")]
    assert changes == ([line] if line else [])


def test_host_immunity_names_each_arms_own_antibody_course(capsys, tmp_path):
    """Lesson step 7: a copied scenario with a shorter antibody course, added to the script's arms."""
    source = EXPERIMENTS.parent / "sim" / "data" / "scenarios" / "irf7-restored-cd8-depleted.toml"
    short = tmp_path / "short.toml"
    short.write_text(re.sub(r"(?m)^stop = .*$", "stop = 20",
                            re.sub(r'(?m)^name = .*$', 'name = "cd8-depleted-to-day-20"', source.read_text())))
    printed = run_script("host_immunity", capsys, tmp_path, IRF7_ARMS=["irf7-silenced", "irf7-restored", str(short)])
    assert "Antibody courses: cd8-depleted-to-day-20 days 0-20." in printed
    assert "60" not in printed.split("Antibody courses")[1].split("\n")[0]
    assert "(grey band: the antibody course of cd8-depleted-to-day-20, days 0-20)" in (tmp_path / "host_immunity.svg").read_text()


@pytest.mark.parametrize(("stem", "args"), [("patient_signature", ["--n", "60", "--seed", "2"]), ("irf7_restoration", [])])
def test_scripts_end_quietly_when_the_reader_closes_the_pipe(stem, args, tmp_path):
    """`python experiments/patient_signature.py | head -14`: no BrokenPipeError traceback, status 141 or 0."""
    import os
    import subprocess

    reader = subprocess.Popen([sys.executable, str(EXPERIMENTS / f"{stem}.py"), "--out", str(tmp_path), *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                              env={**os.environ, "MPLBACKEND": "Agg"})
    reader.stdout.close()  # the reader goes away before the script has printed anything
    _, stderr = reader.communicate(timeout=300)
    assert reader.returncode in (0, 141), stderr.decode()
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr.decode()
