"""The lesson notebooks in notebooks/: paired with reviewable .py sources, run headless in time, sliders that redraw.

Each notebook is executed once (nbclient, the venv's python3 kernel) and the
executed copy is shared by the tests that read it. Two notebooks get one more
cell at the end that calls a slider's drawing function directly and prints
what it drew, so the test can check the figure against its own run of the model.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from checks import require_extra

import sim
from sim.cohort import simulate_cohort

REPO = Path(__file__).resolve().parent.parent
FOLDER = REPO / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))
STEMS = [p.stem for p in NOTEBOOKS]
TIME_LIMIT = 120.0
"""Seconds the cells of each notebook may take headless (the two minutes of issue 11); kernel start and stop: a minute more."""
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
GLOSSARY = REPO / "docs" / "glossary.md"


def load_sliders():
    """notebooks/_sliders.py as a fresh module (it is not a package: notebooks import it from their folder)."""
    spec = importlib.util.spec_from_file_location("_sliders", FOLDER / "_sliders.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


HINT = load_sliders().HINT

IRF7_CHECK = """
import json
out = {}
for activity in (0.0, 1.0):
    left, right = draw_irf7(activity)
    line = next(l for l in left.lines if l.get_label().startswith(f"Irf7 activity {activity:.2f}"))
    out[f"{activity:g}"] = {"label": line.get_label(), "title": left.get_title(loc="left"),
                            "time": list(map(float, line.get_xdata())), "burden": list(map(float, line.get_ydata()))}
    plt.close("all")
print("CHECK" + json.dumps(out))
"""
COHORT_CHECK = """
import json, time
started = time.perf_counter()
ax = draw_cohorts(200, 3)
seconds = time.perf_counter() - started
print("CHECK" + json.dumps({"seconds": seconds, "title": ax.get_title(loc="left"),
                            "labels": ax.get_legend_handles_labels()[1]}))
"""
CHECKS = {"02_irf7_and_interferon": IRF7_CHECK, "04_cohorts_and_survival": COHORT_CHECK}


def cell_seconds(cell) -> float:
    """Wall time of one executed code cell [s], from the timestamps nbclient records in its metadata."""
    timing = cell.metadata["execution"]
    start, end = (datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                  for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


@functools.cache
def executed(stem: str, without_widgets: bool = False):
    """Run notebook ``stem`` headless; returns the executed notebook and its wall time [s], kernel start included.

    ``without_widgets`` makes ipywidgets unimportable in the kernel first, as on a machine without the extra.
    """
    nbformat = require_extra("nbformat", "notebook")
    nbclient = require_extra("nbclient", "notebook")
    notebook = nbformat.read(FOLDER / f"{stem}.ipynb", as_version=4)
    if without_widgets:
        notebook.cells.insert(0, nbformat.v4.new_code_cell("import sys\nsys.modules['ipywidgets'] = None"))
    if stem in CHECKS and not without_widgets:
        notebook.cells.append(nbformat.v4.new_code_cell(CHECKS[stem]))
    client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=int(TIME_LIMIT),
                                     resources={"metadata": {"path": str(FOLDER)}})
    started = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{stem} failed headless:\n{str(error)[-3000:]}")
    return notebook, time.perf_counter() - started


def streams(notebook) -> str:
    return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream")


def slider_cells(notebook) -> list:
    return [c for c in notebook.cells if c.cell_type == "code" and re.search(r"^sliders\(", c.source, re.M)]


def check_output(notebook) -> dict:
    printed = [line for line in streams(notebook).splitlines() if line.startswith("CHECK")]
    assert len(printed) == 1, "the appended check cell printed nothing"
    return json.loads(printed[0][len("CHECK"):])


# --- the notebooks as files -------------------------------------------------------------------------


def test_one_notebook_per_part_numbered_in_order():
    assert len(NOTEBOOKS) >= 5
    assert [int(stem[:2]) for stem in STEMS] == list(range(1, len(STEMS) + 1))
    for stem in STEMS:
        assert (FOLDER / f"{stem}.py").is_file(), f"{stem}.ipynb has no .py pair"
    assert sorted(p.stem for p in FOLDER.glob("[0-9][0-9]_*.py")) == STEMS, "a .py source without its .ipynb"


@pytest.mark.parametrize("stem", STEMS)
def test_pair_in_step(stem):
    """The .ipynb and its percent-format .py have the same cells; edit one, then `jupytext --sync` both."""
    jupytext = require_extra("jupytext", "notebook")
    notebook, source = jupytext.read(FOLDER / f"{stem}.ipynb"), jupytext.read(FOLDER / f"{stem}.py")
    assert [(c.cell_type, c.source) for c in notebook.cells] == [(c.cell_type, c.source) for c in source.cells], (
        f"{stem}.ipynb and {stem}.py differ: run `jupytext --sync notebooks/{stem}.py`")
    assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("stem", STEMS)
def test_committed_without_outputs(stem):
    """Outputs stay out of the repository: diffs show the lesson, not images."""
    raw = json.loads((FOLDER / f"{stem}.ipynb").read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{stem}: clear the outputs"


def glossary_slugs() -> set[str]:
    """GitHub's anchors of the glossary's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{2,3} (.+)$", GLOSSARY.read_text(encoding="utf-8"), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("stem", STEMS)
def test_terms_link_to_the_glossary(stem):
    text = (FOLDER / f"{stem}.py").read_text(encoding="utf-8")
    anchors = re.findall(r"\]\(\.\./docs/glossary\.md#([^)]+)\)", text)
    assert len(anchors) >= 3, f"{stem}: link each technical term's first use to ../docs/glossary.md#term"
    if not GLOSSARY.is_file():
        pytest.skip("docs/glossary.md is not there yet")
    missing = sorted(set(anchors) - glossary_slugs())
    assert not missing, f"{stem} links to glossary entries that do not exist: {missing}"


@pytest.mark.parametrize("stem", STEMS)
def test_each_notebook_has_sliders_and_predict_prompts(stem):
    jupytext = require_extra("jupytext", "notebook")
    notebook = jupytext.read(FOLDER / f"{stem}.py")
    assert slider_cells(notebook), f"{stem} has no sliders(...) cell"
    assert sum("Predict first" in c.source for c in notebook.cells if c.cell_type == "markdown") >= 2


# --- the helper -------------------------------------------------------------------------------------


def test_sliders_without_ipywidgets_draw_once_at_the_start_and_hint_once(monkeypatch, capsys):
    module = load_sliders()
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    calls = []
    for _ in range(2):
        module.sliders(lambda dose, days: calls.append((dose, days)),
                       dose=module.Slider(1e5, 1e3, 1e7, log=True), days=module.Slider((0, 60), 0, 120))
    assert calls == [(1e5, (0, 60))] * 2
    assert capsys.readouterr().out == HINT + "\n"
    assert "pip install -e '.[notebook]'" in HINT


def test_each_kind_of_slider_reports_only_when_let_go():
    ipywidgets = require_extra("ipywidgets", "notebook")
    module = load_sliders()
    made = {kind: module.widget(ipywidgets, control) for kind, control in [
        ("FloatLogSlider", module.Slider(1e5, 1e3, 1e7, step=0.25, log=True)),
        ("IntRangeSlider", module.Slider((0, 60), 0, 120)),
        ("IntSlider", module.Slider(3, 1, 7)),
        ("FloatSlider", module.Slider(0.3, 0.0, 1.0, step=0.05))]}
    for kind, widget in made.items():
        assert type(widget).__name__ == kind
        assert widget.continuous_update is False
    assert (made["FloatLogSlider"].min, made["FloatLogSlider"].max, made["FloatLogSlider"].value) == (3, 7, 1e5)
    assert made["IntRangeSlider"].value == (0, 60)


def test_moving_a_slider_redraws_with_the_new_value(monkeypatch):
    ipywidgets = require_extra("ipywidgets", "notebook")
    display = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(display, "display", shown.append)
    module = load_sliders()
    calls = []
    module.sliders(lambda irf7: calls.append(irf7), irf7=module.Slider(0.3, 0.0, 1.0, step=0.05))
    (box,) = shown
    slider = box.children[0]
    assert isinstance(slider, ipywidgets.FloatSlider) and isinstance(box.children[-1], ipywidgets.Output)
    slider.value = 0.8
    assert calls == [0.3, 0.8]


# --- executed headless ------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_runs_headless_without_error_in_time(stem):
    notebook, seconds = executed(stem)
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    running = sum(cell_seconds(c) for c in cells)
    print(f"{stem}: {seconds:.1f} s with kernel start and stop, {running:.1f} s running its cells")
    slowest = ", ".join(f"{cell_seconds(c):.0f} s: {c.source.splitlines()[0][:50]}"
                        for c in sorted(cells, key=cell_seconds)[-3:])
    assert running < TIME_LIMIT, f"{stem}'s cells took {running:.0f} s headless (slowest: {slowest}); limit {TIME_LIMIT:.0f} s"
    assert seconds < TIME_LIMIT + 60, f"{stem} took {seconds:.0f} s with the kernel's start (cells: {running:.0f} s)"
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert HINT not in streams(notebook), "ipywidgets is installed, yet the notebook fell back to static figures"
    for cell in slider_cells(notebook):
        assert any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs), f"no slider shown by:\n{cell.source[:200]}"


def test_without_ipywidgets_a_notebook_runs_with_static_figures_and_one_hint():
    notebook, _ = executed("03_the_host", without_widgets=True)
    assert streams(notebook).count(HINT) == 1
    for cell in slider_cells(notebook):
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no static figure from:\n{cell.source[:200]}"
        assert not any(WIDGET_VIEW in o.get("data", {}) for o in cell.outputs)


def test_the_irf7_slider_draws_the_run_it_names():
    drawn = check_output(executed("02_irf7_and_interferon")[0])
    for activity, expected in (("0", "metastasis day"), ("1", "no metastasis")):
        run = sim.run("irf7-silenced", parameters={"irf7_activity": float(activity)})
        line = drawn[activity]
        assert f"{float(activity):.2f}" in line["title"]
        assert expected in line["label"], line["label"]
        assert np.allclose(line["time"], run.time)
        assert np.allclose(line["burden"], np.where(run["B"] > 0, run["B"], np.nan), equal_nan=True, rtol=1e-9)


def test_the_cohort_slider_draws_the_chosen_mice_quickly():
    drawn = check_output(executed("04_cohorts_and_survival")[0])
    print(f"draw_cohorts(200 mice per group, 4 groups): {drawn['seconds']:.2f} s")
    assert drawn["seconds"] < 5.0  # a limit, not a benchmark: about 0.2 s on the project's 2-core machine
    assert "200 mice per group, seed 3" in drawn["title"]
    reference = simulate_cohort("irf7-silenced", n=200, seed=3, workers=1)
    restored = simulate_cohort("irf7-restored", n=200, seed=3, workers=1)
    label = next(label for label in drawn["labels"] if label.startswith("irf7-restored"))
    assert f"p = {restored.logrank_p(reference):.2g}" in label
    median = reference.survival().median
    assert any(label.startswith("irf7-silenced (") and f"median {median:.0f} d" in label for label in drawn["labels"])
