"""Several runs side by side: the object ``sim.compare`` returns."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import analysis
from .errors import InputError
from .fileio import Output, table_outputs, write_all
from .naming import closest
from .result import Result
from .version import __version__


@dataclass(frozen=True)
class Comparison(Sequence[Result]):
    """The results of ``sim.compare``, in the order given; index by position or by arm name.

    >>> import sim
    >>> arms = sim.compare(["irf7-silenced", "irf7-restored"], days=90)
    >>> print(arms.table())               # doctest: +SKIP
    >>> arms.plot("arms.png")             # doctest: +SKIP
    >>> arms.to_csv("arms.csv")           # doctest: +SKIP
    """

    results: tuple[Result, ...]

    def __post_init__(self) -> None:
        if not self.results:
            raise InputError("a comparison needs at least one result")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.results)

    def __getitem__(self, key):  # type: ignore[override]
        """``arms[0]`` or ``arms["irf7-restored"]`` (a Result), ``arms[1:]`` (a Comparison)."""
        if isinstance(key, str):
            if key not in self.names:
                raise KeyError(f"no arm '{key}'{closest(key, self.names)}; arms: {', '.join(self.names)}")
            return self.results[self.names.index(key)]
        if isinstance(key, slice):
            return Comparison(self.results[key])
        return self.results[key]

    def __len__(self) -> int:
        return len(self.results)

    def __add__(self, other: Comparison) -> Comparison:
        """Two comparisons as one, e.g. ``arms[:2] + more``."""
        if not isinstance(other, Comparison):
            return NotImplemented
        return Comparison(self.results + other.results)

    def __iter__(self) -> Iterator[Result]:
        return iter(self.results)

    def table(self) -> str:
        """The headline numbers side by side, one row per arm (the ``tumorsim compare`` table)."""
        return analysis.compare_table(self.results)

    def rows(self) -> list[dict[str, object]]:
        """One dict per arm: its name, then its headline numbers (``sim.analysis.key_numbers``)."""
        return [{"scenario": r.name, **analysis.key_numbers(r)} for r in self.results]

    def plot(self, path: str | Path | None = None, *, show: bool | None = None, overwrite: bool = False):
        """Bone burden of every arm on one axis (Irf7 model), or each run's panels otherwise; returns the Axes.

        ``path``, ``show`` and ``overwrite`` work as in ``Result.plot``.
        """
        from .display import present
        from .plotting import BURDEN_LEGEND, plot_burden

        if self.results[0].scenario.model.detection_state is None:
            raise InputError(f"Comparison.plot draws the bone burden, which model '{self.results[0].model}' does not "
                             "have; plot each result with result.plot()")
        ax = plot_burden(self.results, **BURDEN_LEGEND)
        present(ax.figure, path, show, overwrite, "Comparison.plot")
        return ax

    def to_csv(self, path: str | Path, overwrite: bool = False) -> None:
        """Write the table, one row per arm with units in the headers, and ``<path>.meta.json`` beside it
        (each arm's parameters, schedule and the version). Written whole or not at all."""
        write_all(self.csv_outputs(path, "path"), overwrite)

    def csv_outputs(self, path: str | Path, flag: str) -> list[Output]:
        """The table's CSV and its ``.meta.json`` as outputs for ``sim.fileio.write_all``."""
        rows = self.rows()
        keys = list(rows[0])
        units = analysis.key_units(self.results[0])
        header = [key if units.get(key) is None else f"{key} [{units[key]}]" for key in keys]
        cells = [["" if row[k] is None else row[k] for k in keys] for row in rows]
        return table_outputs(path, header, cells, {"version": __version__, "arms": [r.to_dict() for r in self.results]},
                             flag)

    def __repr__(self) -> str:
        arms = "; ".join(repr(r)[len("<Result "):-1] for r in self.results)
        return f"<Comparison of {len(self)} arms: {arms}>"

    def _repr_html_(self) -> str:
        """A notebook shows the table."""
        return f"<pre>{html.escape(self.table())}</pre>"
