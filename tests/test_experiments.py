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


def snapshot(folder: Path) -> set[tuple[str, int, int]]:
    """Name, size and modification time of every file in ``folder`` (empty if it does not exist)."""
    if not folder.is_dir():
        return set()
    return {(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}


def test_the_four_experiments_are_there():
    assert {p.stem for p in SCRIPTS} >= {"irf7_restoration", "interferon_therapy", "host_immunity", "line_66cl4"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_docstring_opens_with_the_question_and_what_to_try(script: Path):
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring, f"{script.name} has no module docstring"
    assert docstring.splitlines()[0].endswith("?"), "the first line should be the question the script answers"
    assert "What to try" in docstring


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_prints_a_table_and_saves_png_and_svg(script: Path, tmp_path: Path):
    out, cwd = tmp_path / "out", tmp_path / "cwd"
    out.mkdir()
    cwd.mkdir()
    before = snapshot(FIGURES)

    completed = subprocess.run(
        [sys.executable, str(script), "--out", str(out)],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
    )

    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("scenario") and "metastasis day" in line), None)
    assert header is not None, f"no comparison table in the output:\n{completed.stdout}"
    assert set(lines[header + 1]) <= {"-", " "}, "the table header should be underlined"
    for suffix in (".png", ".svg"):
        figure = out / f"{script.stem}{suffix}"
        assert figure.is_file() and figure.stat().st_size > 0, f"{figure.name} was not written"
    assert sorted(p.name for p in out.iterdir()) == [f"{script.stem}.png", f"{script.stem}.svg"]
    assert not any(cwd.iterdir()), "the script wrote into the working folder"
    assert snapshot(FIGURES) == before, "the script wrote into the repository's figures/ despite --out"
