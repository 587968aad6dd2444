"""The same figure saved twice gives the same bytes, so two gallery builds are byte-identical."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sim.plotting import house_style, save_figure, save_figure_set

DRAW = """
import sys
import matplotlib.pyplot as plt
import numpy as np
from sim.plotting import house_style, save_figure

def figure():
    with house_style():
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        days = np.linspace(0, 60, 61)
        ax.plot(days, np.exp(days / 10), label="burden")       # lines need clip paths: ids in the SVG
        ax.fill_between(days, 1, np.exp(days / 20), hatch="//", alpha=0.3)  # hatch patterns: more ids
        ax.imshow(np.arange(12).reshape(3, 4), extent=(0, 20, 1, 5), aspect="auto")  # an embedded image
        ax.set_yscale("log")
        ax.legend()
    return fig

if __name__ == "__main__":
    save_figure(figure(), sys.argv[1:])
"""


@pytest.fixture(scope="module")
def draw(tmp_path_factory) -> Path:
    script = tmp_path_factory.mktemp("draw") / "draw.py"
    script.write_text(DRAW, encoding="utf-8")
    return script


def load_figure(script: Path):
    namespace: dict = {}
    exec(compile(script.read_text(encoding="utf-8"), str(script), "exec"), namespace)  # the same drawing, in-process
    return namespace["figure"]()


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_saving_the_same_figure_twice_gives_identical_bytes(draw: Path, tmp_path: Path, suffix: str):
    first, second = tmp_path / f"first{suffix}", tmp_path / f"second{suffix}"
    save_figure(load_figure(draw), [first])
    save_figure(load_figure(draw), [second])
    assert first.read_bytes() == second.read_bytes()


def test_another_process_gives_the_same_bytes(draw: Path, tmp_path: Path):
    """Another interpreter (another hash seed, another random SVG salt) writes the same files."""
    here = [tmp_path / "here.png", tmp_path / "here.svg"]
    save_figure(load_figure(draw), here)
    there = [tmp_path / "there.png", tmp_path / "there.svg"]
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, str(draw), *map(str, there)], check=True, env=env, timeout=120)
    for mine, theirs in zip(here, there):
        assert mine.read_bytes() == theirs.read_bytes(), mine.suffix


def test_the_check_can_fail_without_the_house_settings(draw: Path, tmp_path: Path):
    """Plain matplotlib writes a date and random ids into an SVG: the byte comparison above would notice."""
    paths = [tmp_path / "a.svg", tmp_path / "b.svg"]
    for path in paths:
        figure = load_figure(draw)
        figure.savefig(path)
        plt.close(figure)
    assert paths[0].read_bytes() != paths[1].read_bytes()


def test_save_figure_set_writes_png_and_svg_and_returns_both(tmp_path: Path):
    with house_style():
        figure, ax = plt.subplots()
        ax.plot(np.arange(3))
    paths = save_figure_set(figure, tmp_path / "new", "demo")
    assert paths == [tmp_path / "new" / "demo.png", tmp_path / "new" / "demo.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in paths[1].read_bytes()
