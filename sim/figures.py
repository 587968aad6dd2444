"""Regenerate the complete figure set: every learner script in ``experiments/``.

Each script draws its own figure with the package's house style; this module
runs them all (two at a time on two cores), each into a staging folder, and
writes the PNG and SVG files into the output folder through ``sim.fileio``
only when every script has succeeded: all of them or none, never over an
existing file unless asked (``overwrite``, ``--force``), and never into a
folder that bears a figure's name. A failed or refused build leaves the
previous figures byte for byte as they were.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import InputError
from .fileio import Output, check_targets, write_all
from .parallel import Progress, run_all

SUFFIXES = (".png", ".svg")
"""The files each script writes: its figure as PNG and SVG."""

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def experiment_scripts(folder: Path = EXPERIMENTS) -> list[Path]:
    """The learner scripts; they ship with the source, not with an installed wheel."""
    scripts = sorted(folder.glob("*.py")) if folder.is_dir() else []
    if not scripts:
        raise InputError(f"no experiment scripts in {folder}: 'tumorsim figures' runs from a source checkout "
                         "(git clone, then pip install -e .)")
    return scripts


def _run_script(script: Path, out: Path) -> list[Path]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    completed = subprocess.run([sys.executable, str(script), "--out", str(out)], capture_output=True, text=True,
                               env=env, cwd=out)
    if completed.returncode != 0:
        last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise InputError(f"experiments/{script.name} failed: {last}")
    return sorted(out.glob(f"{script.stem}.*"))


def build_figures(out: Path, workers: int = 2, progress: bool = True, overwrite: bool = False) -> tuple[list[Path], float]:
    """Run every experiment script into ``out``; returns the files written and the seconds taken.

    Existing figures are replaced only with ``overwrite``; the targets are checked before any script runs.
    """
    out = Path(out).resolve()  # the scripts run in their own folders: relative paths would land there
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} is a file, not a folder")
    scripts = experiment_scripts()
    if out.is_dir():
        check_targets([(out / f"{script.stem}{suffix}", "--out") for script in scripts for suffix in SUFFIXES],
                      overwrite)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".staging-") as staging:
        folders = [Path(staging) / script.stem for script in scripts]
        for folder in folders:
            folder.mkdir()
        with ThreadPoolExecutor(max_workers=workers) as pool:  # threads: each job waits on its own process
            made = run_all(_run_script, list(zip(scripts, folders)), executor=pool,
                           progress=Progress("figures", len(scripts)) if progress else None)
        outputs = [Output(out / file.name, functools.partial(shutil.copyfile, str(file)), "--out")
                   for files in made for file in files]
        write_all(outputs, overwrite)
    return [output.path for output in outputs], time.perf_counter() - started
