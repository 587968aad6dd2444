"""Save or show a figure the way the caller's surroundings expect: a notebook, a script, or a window."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .errors import InputError
from .fileio import write_all

_NOTEBOOK_BACKENDS = ("inline", "ipympl", "widget", "nbagg")
"""Backends that draw a figure in the notebook by themselves once the cell ends."""


def present(figure: Figure, path: str | Path | None, show: bool | None, overwrite: bool, what: str) -> None:
    """Save ``figure`` to ``path`` (if given) and show it when ``show`` asks or the surroundings call for it.

    ``show=None`` means: in a notebook the figure appears by itself; a script
    that gives ``path`` saves it and closes it; a script without ``path`` opens
    a window, or, with a file-only backend (Agg), warns how to save it.
    ``show=False`` only draws (to add to the figure before saving it yourself).
    ``what`` names the method in messages, e.g. "Result.plot".
    """
    if path is not None:
        if not isinstance(path, (str, Path)):
            raise InputError(f"{what}: path must be a file name ending in .png, .svg or .pdf, not {path!r:.60}")
        from .plotting import figure_outputs

        write_all(figure_outputs(figure, [path], "path"), overwrite)
    if show is False or _in_notebook():
        return
    if path is not None and not show:
        plt.close(figure)  # saved by a script: free it, and keep a later plt.show() from opening it
        return
    if not _has_window():
        if show:
            raise InputError(f"{what}: show=True needs a window, but matplotlib's backend "
                             f"'{matplotlib.get_backend()}' draws only to files; give path='figure.png' instead")
        warnings.warn(f"{what}: nothing shown or saved (matplotlib backend '{matplotlib.get_backend()}' has no "
                      "window); give path='figure.png' to save the figure, or show=False to draw only", UserWarning,
                      stacklevel=3)
        return
    plt.show()


def _in_notebook() -> bool:
    backend = matplotlib.get_backend().lower()
    return any(name in backend for name in _NOTEBOOK_BACKENDS)


def _has_window() -> bool:
    backend = matplotlib.get_backend().lower()
    return backend not in ("agg", "pdf", "ps", "svg", "pgf", "cairo", "template")

