"""The learner scripts in experiments/ run end to end and write their figures where they are told."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((REPO / "experiments").glob("*.py"))
FIGURES = REPO / "figures"
COHORT_SCRIPTS = ("cohort_survival", "patient_signature")
QUICK = {**{stem: ["--n", "60", "--seed", "2"] for stem in COHORT_SCRIPTS}, "irf7_sweep": ["--n", "0"],
         "sensitivity": ["--n", "16"]}
"""Extra options that keep the scripts quick in the test (their defaults simulate hundreds of mice)."""


def snapshot(folder: Path) -> set[tuple[str, int, int]]:
    """Name, size and modification time of every file in ``folder`` (empty if it does not exist)."""
    if not folder.is_dir():
        return set()
    return {(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}


def test_the_experiments_are_there():
    assert {p.stem for p in SCRIPTS} >= {"irf7_restoration", "interferon_therapy", "host_immunity", "line_66cl4",
                                         "cohort_survival", "patient_signature"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_docstring_opens_with_the_question_and_what_to_try(script: Path):
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring, f"{script.name} has no module docstring"
    assert docstring.splitlines()[0].endswith("?"), "the first line should be the question the script answers"
    assert "What to try" in docstring
    if script.stem == "patient_signature":
        assert "NOT PATIENT DATA" in docstring


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_prints_a_table_and_saves_png_and_svg(script: Path, tmp_path: Path):
    out, cwd = tmp_path / "out", tmp_path / "cwd"
    out.mkdir()
    cwd.mkdir()
    before = snapshot(FIGURES) | snapshot(REPO / "experiments")

    completed = subprocess.run(
        [sys.executable, str(script), "--out", str(out), *QUICK.get(script.stem, [])],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    underlines = [i for i, line in enumerate(lines) if i > 0 and line.startswith("---") and set(line) <= {"-", " "}]
    assert underlines, f"no table (a header underlined with dashes) in the output:\n{completed.stdout}"
    assert all(lines[i - 1].strip() for i in underlines), "every underline should sit under a header"
    assert any(len(line) > 40 and line.rstrip().endswith(".") for line in lines), "no sentences printed"
    for suffix in (".png", ".svg"):
        figure = out / f"{script.stem}{suffix}"
        assert figure.is_file() and figure.stat().st_size > 0, f"{figure.name} was not written"
    assert sorted(p.name for p in out.iterdir()) == [f"{script.stem}.png", f"{script.stem}.svg"]
    assert lines[-1] == f"Figure saved to {out / script.stem}.png and {out / script.stem}.svg", "say where it wrote"
    assert not any(cwd.iterdir()), "the script wrote into the working folder"
    assert snapshot(FIGURES) | snapshot(REPO / "experiments") == before, "the script wrote into the repository despite --out"
    if script.stem == "patient_signature":  # virtual patients must never pass for real ones
        assert "not patient data" in lines[0].lower()
        assert "NOT PATIENT DATA" in (out / "patient_signature.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize("stem", COHORT_SCRIPTS)
def test_cohort_scripts_reject_bad_sizes_with_a_usage_error(stem: str, tmp_path: Path):
    completed = subprocess.run(
        [sys.executable, str(REPO / "experiments" / f"{stem}.py"), "--out", str(tmp_path), "--n", "0"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert completed.returncode == 2
    assert "--n must be at least 1" in completed.stderr
    assert not any(tmp_path.iterdir()), "nothing should be written after a usage error"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_takes_the_shared_out_option(script: Path):
    """One default for every script (sim.plotting.SCRIPT_OUTPUT), never the gallery folder."""
    text = script.read_text(encoding="utf-8")
    assert "add_out_option(parser)" in text and "save_script_figure(" in text
    assert '"--out"' not in text and "figures\"" not in text


def test_without_out_a_script_writes_to_output_in_the_working_folder_not_the_gallery(tmp_path: Path):
    before = snapshot(FIGURES)
    completed = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "irf7_restoration.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in (tmp_path / "output").iterdir()) == ["irf7_restoration.png", "irf7_restoration.svg"]
    assert completed.stdout.splitlines()[-1] == "Figure saved to output/irf7_restoration.png and output/irf7_restoration.svg"
    assert snapshot(FIGURES) == before, "a learner's run changed the committed gallery"
