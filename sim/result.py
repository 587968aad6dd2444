"""The result of one run: time course with named states and units, and its provenance."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import analysis
from .errors import InputError, UnknownName
from .fileio import Output, table_outputs, write_all
from .naming import closest
from .version import __version__

if TYPE_CHECKING:

    from .odds import FateOdds
    from .scenarios import Scenario


FATES = ("metastasis", "culled", "free")
"""How a mouse leaves a study: bone metastasis detected; culled at the humane
endpoint before any was detected; or metastasis-free at the end of follow-up."""


def fate(metastasis_day: float | None, endpoint_day: float | None) -> str:
    """The fate (one of FATES) of a mouse with these event days [day] (None: never)."""
    if metastasis_day is not None and (endpoint_day is None or metastasis_day <= endpoint_day):
        return "metastasis"
    return "free" if endpoint_day is None else "culled"


def time_grid(days: float, every: float) -> np.ndarray:
    """Days 0, every, 2*every, ... up to and including ``days`` when it falls on the grid [day]."""
    return every * np.arange(int(np.floor(days / every + 1e-9)) + 1)


@dataclass(frozen=True)
class Result:
    """Time course of one scenario, with the parameters that produced it.

    Attributes
    ----------
    scenario : Scenario
        The scenario as solved (parameters, initial state, schedule).
    time : ndarray, shape (n,)
        Days since tumour cells were injected [day]. At a scheduled jump the
        same day appears twice: just before and just after.
    values : ndarray, shape (n_states, n)
        State values, each in its own unit (see ``units``).
    metastasis_day : float or None
        First day the bone burden crossed the detection threshold [day].
    endpoint_day : float or None
        Day the primary tumour reached the humane endpoint and the mouse was
        culled [day]; the time course ends there. None if never reached.
    solver : dict
        Method, tolerances and effort of the integration (with chance on, also ``chance`` and the ``seed``).
    odds : FateOdds or None
        With chance on: the fates of replicate mice with the same parameters and other draws (this run is the
        first), so how likely each fate is; None otherwise.

    Examples
    --------
    >>> import sim
    >>> result = sim.run("irf7-silenced", days=60)
    >>> result.metastasis_day < 60
    True
    >>> result.units["B"]
    'cells'
    """

    scenario: Scenario
    time: np.ndarray
    values: np.ndarray
    metastasis_day: float | None
    solver: dict[str, Any]
    endpoint_day: float | None = None
    odds: FateOdds | None = None
    version: str = field(default=__version__)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def model(self) -> str:
        return self.scenario.model.name

    @property
    def days(self) -> float:
        return self.scenario.days

    @property
    def fate(self) -> str | None:
        """How the mouse left the study: "metastasis", "culled" (humane endpoint first) or "free".

        None for models without a metastasis readout.
        """
        return fate(self.metastasis_day, self.endpoint_day) if self.scenario.model.detection_state else None

    @property
    def time_unit(self) -> str:
        return self.scenario.model.time_unit

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.scenario.model.state_names

    @property
    def units(self) -> dict[str, str]:
        return {s.name: s.unit for s in self.scenario.model.states}

    @property
    def parameters(self) -> dict[str, float]:
        return self.scenario.parameters.values_dict()

    @property
    def events(self) -> list[str]:
        """The schedule in plain lines; events after a cull are marked as never given."""
        return self.scenario.schedule.describe(self.endpoint_day)

    def __getitem__(self, state: str) -> np.ndarray:
        """Time course of one state, in its unit."""
        try:
            return self.values[self.state_names.index(state)]
        except ValueError:
            raise UnknownName(f"unknown state '{state}'{closest(state, self.state_names)}; states: "
                              f"{', '.join(self.state_names)}") from None

    @property
    def final(self) -> dict[str, float]:
        """State values at the end of the run (follow-up, or the humane endpoint)."""
        return {name: float(v) for name, v in zip(self.state_names, self.values[:, -1])}

    def summary(self) -> str:
        """A few plain sentences: metastasis day, burden, immune state, what to notice."""
        return analysis.describe(self)

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable summary (JSON-ready): numbers, parameters, provenance."""
        return {
            "name": self.name,
            "model": self.model,
            "days": self.days,
            "metastasis_day": self.metastasis_day,
            "endpoint_day": self.endpoint_day,
            "fate": self.fate,
            "final": self.final,
            "units": self.units,
            "key_numbers": analysis.key_numbers(self),
            "schedule": self.events,
            "parameters": self.parameters,
            "initial": dict(self.scenario.initial),
            "scenario_file": str(self.scenario.source),
            "changes": list(self.scenario.changes),
            "solver": self.solver,
            "odds": None if self.odds is None else self.odds.to_dict(),
            "version": self.version,
        }

    def table(self, every: float = 7.0) -> str:
        """Text table of the time course, one row every ``every`` days (interpolated), and the last day."""
        if not every > 0:
            raise InputError(f"table: 'every' must be a number > 0, not {every!r}")
        days = time_grid(float(self.time[-1]), every)
        if days[-1] < self.time[-1]:
            days = np.append(days, self.time[-1])
        columns = [np.interp(days, self.time, self[name]) for name in self.state_names]
        header = ["day"] + [f"{s.name} [{s.unit}]" for s in self.scenario.model.states]
        rows = [[float(d)] + [float(c[i]) for c in columns] for i, d in enumerate(days)]
        return analysis.format_table(header, rows)

    def to_csv(self, path: str | Path, overwrite: bool = False, every: float | None = 1.0) -> None:
        """Write the time course to ``path``: a ``time`` column, then one per state, each header with its unit.

        ``every`` [day] spaces the rows (default daily; the run is solved again on
        that grid, so the values are the solver's, not interpolated); ``None``
        keeps this result's own time points. The run's parameters, initial state
        and version go beside it in ``<path>.meta.json``. Both files are written
        whole or not at all; existing files are kept unless ``overwrite`` is true.
        """
        table = self if every is None else self.on_grid(every)
        write_all(table.csv_outputs(path, "path"), overwrite)

    def on_grid(self, every: float) -> Result:
        """The same run, reported every ``every`` days [day] (solved again with the same tolerances)."""
        from .solver import solve

        return solve(self.scenario, rtol=self.solver["rtol"], atol=self.solver["atol"], every=every,
                     method=self.solver["method"], seed=self.solver.get("seed", 0))

    def to_dataframe(self):
        """The time course as a pandas DataFrame: a ``time`` column [day], then one per state.

        ``frame.attrs`` holds the units, the scenario, the changes and the
        version. Needs pandas (an optional import).
        """
        from .frames import dataframe

        return dataframe({"time": self.time, **{name: self[name] for name in self.state_names}},
                         {"units": {"time": self.time_unit, **self.units}, "scenario": self.name,
                          "changes": list(self.scenario.changes), "fate": self.fate, "version": self.version})

    def column_names(self) -> tuple[str, ...]:
        """CSV headers: ``time [day]``, then each state with its unit, e.g. ``B [cells]``."""
        def unit(text: str) -> str:
            return "dimensionless" if text == "1" else text

        return (f"time [{unit(self.time_unit)}]", *(f"{s.name} [{unit(s.unit)}]" for s in self.scenario.model.states))

    def csv_outputs(self, path: str | Path, flag: str) -> list[Output]:
        """The CSV and its ``.meta.json`` as outputs for ``sim.fileio.write_all`` (``flag`` names them in errors)."""
        return table_outputs(path, self.column_names(), np.column_stack([self.time, self.values.T]).tolist(),
                             self.to_dict(), flag)

    def plot(self, path: str | Path | None = None, *, show: bool | None = None, axes: np.ndarray | None = None,
             overwrite: bool = False) -> np.ndarray:
        """Plot tumour, immune and interferon panels; returns the array of Axes.

        In a notebook the figure appears by itself. In a script give ``path``
        (``.png``, ``.svg`` or ``.pdf``) to save it, written whole or not at all
        (an existing file is replaced only with ``overwrite=True``); without a
        path a script opens a window. ``show=False`` only draws, for you to
        change the figure first; drawing into your own ``axes`` implies it.
        """
        from .display import present
        from .plotting import plot_result

        drawn = plot_result(self, axes)
        present(np.ravel(drawn)[0].figure, path, False if axes is not None and show is None else show, overwrite,
                "Result.plot")
        return drawn

    def __repr__(self) -> str:
        """One line: which run, what happened, how big the time course is (``repr`` of the arrays is huge)."""
        from .analysis import when_text

        what = when_text(self) if self.scenario.model.detection_state else f"{self.days:g} {self.time_unit} followed"
        return (f"<Result {self.name!r}: {what}; {len(self.state_names)} states x {len(self.time)} time points "
                f"(model {self.model})>")

    def _repr_html_(self) -> str:
        """A notebook shows a result as its summary: what happened, then the headline numbers."""
        from .analysis import key_numbers

        rows = "".join(f"<tr><td>{html.escape(key)}</td><td>{html.escape(_cell(value))}</td></tr>"
                       for key, value in key_numbers(self).items())
        summary = html.escape(self.summary()).replace("\n", "<br>")
        return (f"<div><p><b>{html.escape(repr(self))}</b></p><p>{summary}</p>"
                f"<table><tr><th>number</th><th>value</th></tr>{rows}</table></div>")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
