"""Treatment schedules: what is done to the mouse, and when.

A scenario lists events in plain words (resection, interferon doses, antibody
depletion). They are turned into two primitives the solver understands:

* a ``Jump``: an instantaneous change of one state on a given day
  (surgery removes the primary tumour; a bolus adds interferon);
* a ``Window``: a parameter held at a value from ``start`` up to ``stop``
  (an antibody depletes NK or CD8 cells while it is given).

Every jump day and window edge is a discontinuity, so the solver stops and
restarts exactly there instead of stepping across it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .models import Model
from .parameters import checked_number, reject_unknown_keys

MAX_EVENTS = 2_000
"""Most jumps and windows one schedule may hold: the solver restarts at each (a dose a day for years)."""

EVENT_KEYS = {
    "resection": {"event", "day", "fraction"},
    "ifn-dose": {"event", "amount", "days", "start", "every", "count"},
    "depletion": {"event", "cells", "start", "stop", "rate"},
}


@dataclass(frozen=True)
class Jump:
    """On ``day`` [day], ``state`` becomes ``state * scale + add``."""

    day: float
    state: str
    scale: float
    add: float
    label: str


@dataclass(frozen=True)
class Window:
    """From ``start`` to ``stop`` [day], ``parameter`` is held at ``value``."""

    start: float
    stop: float
    parameter: str
    value: float
    label: str

    def active(self, t: float) -> bool:
        return self.start <= t < self.stop


@dataclass(frozen=True)
class Schedule:
    """All the jumps and windows of one scenario."""

    jumps: tuple[Jump, ...] = ()
    windows: tuple[Window, ...] = ()

    def breakpoints(self, days: float) -> list[float]:
        """Sorted restart times in [0, days], both ends included."""
        times = {0.0, float(days)}
        times.update(j.day for j in self.jumps)
        for w in self.windows:
            times.update((w.start, w.stop))
        return sorted(t for t in times if 0.0 <= t <= days)

    def parameters_at(self, t: float, base: Mapping[str, float]) -> dict[str, float]:
        """Parameter values in force from time ``t`` on (windows applied)."""
        values = dict(base)
        for w in self.windows:
            if w.active(t):
                values[w.parameter] = w.value
        return values

    def jumps_at(self, t: float) -> list[Jump]:
        return [j for j in self.jumps if j.day == t]

    def describe(self, culled_on: float | None = None) -> list[str]:
        """One plain line per jump or window, in time order.

        Events on or after ``culled_on`` [day] (the humane endpoint ended the run) are marked as never given.
        """
        lines = [(j.day, f"day {j.day:g}: {j.label}") for j in self.jumps]
        lines += [(w.start, f"days {w.start:g}-{w.stop:g}: {w.label}") for w in self.windows]
        return [text + (f" (never given: the mouse was culled on day {culled_on:.1f})"
                        if culled_on is not None and day >= culled_on else "")
                for day, text in sorted(lines)]

    def brief(self) -> list[str]:
        """One phrase per kind of event, in order of first use: 'interferon dose of 1e+05 IU on days 1-28,
        every 3 days (10 doses)'."""
        by_label: dict[str, list[float]] = {}
        for jump in self.jumps:
            by_label.setdefault(jump.label, []).append(jump.day)
        phrases = [(days[0], f"{label} on {_days_text(days)}") for label, days in by_label.items()]
        phrases += [(w.start, f"{w.label} on days {w.start:g}-{w.stop:g}") for w in self.windows]
        return [text for _, text in sorted(phrases)]


def _days_text(days: Sequence[float]) -> str:
    """'day 14', 'days 1-28, every 3 days (10 doses)' or 'days 1, 2, 9'."""
    if len(days) == 1:
        return f"day {days[0]:g}"
    steps = {round(b - a, 9) for a, b in zip(days[:-1], days[1:])}
    if len(steps) == 1:
        return f"days {days[0]:g}-{days[-1]:g}, every {steps.pop():g} days ({len(days)} doses)"
    return "days " + ", ".join(f"{d:g}" for d in days)


def build_schedule(entries: Sequence[Mapping[str, Any]], model: Model, parameters: Mapping[str, float], where: str,
                   days: float = float("inf")) -> Schedule:
    """Turn a scenario's ``[[schedule]]`` entries into a ``Schedule``.

    ``parameters`` are the scenario's resolved values (the dose volume is read
    from them); ``where`` names the scenario file for error messages; an event
    after the follow-up of ``days`` [day], and overlapping depletion windows of
    the same cells, are errors (neither could ever act as written).
    """
    jumps: list[Jump] = []
    windows: list[Window] = []
    if len(entries) > MAX_EVENTS:
        raise InputError(f"{where}: at most {MAX_EVENTS:,} [[schedule]] entries, not {len(entries):,}")
    for index, entry in enumerate(entries, start=1):
        here = f"{where}: schedule entry {index}"
        if not isinstance(entry, Mapping):
            raise InputError(f"{here}: must be a [[schedule]] table, not {entry!r:.60}")
        kind = entry.get("event")
        if not isinstance(kind, str) or kind not in EVENT_KEYS:
            raise InputError(f"{here}: 'event' must be one of {', '.join(EVENT_KEYS)}, not {kind!r}")
        reject_unknown_keys(entry, EVENT_KEYS[kind], here)
        if kind == "resection":
            jumps.append(_resection(entry, model, here))
        elif kind == "ifn-dose":
            jumps.extend(_doses(entry, model, parameters, here))
        else:
            windows.append(_depletion(entry, model, here))
        late = [j.day for j in jumps if j.day > days] + [w.start for w in windows if w.start >= days]
        if late:
            raise InputError(f"{here}: day {late[0]:g} is after the follow-up of {days:g} days, so the event would "
                             "never happen; give a longer follow-up or an earlier day")
    if len(jumps) + len(windows) > MAX_EVENTS:
        raise InputError(f"{where}: the schedule holds {len(jumps) + len(windows):,} events; at most {MAX_EVENTS:,}")
    _reject_overlaps(windows, where)
    return Schedule(tuple(sorted(jumps, key=lambda j: j.day)), tuple(windows))


def _reject_overlaps(windows: Sequence[Window], where: str) -> None:
    """Two windows holding the same parameter at once: which one acts would be arbitrary."""
    for k, first in enumerate(windows):
        for second in windows[k + 1:]:
            if first.parameter == second.parameter and first.start < second.stop and second.start < first.stop:
                raise InputError(f"{where}: depletion windows days {first.start:g}-{first.stop:g} and "
                                 f"{second.start:g}-{second.stop:g} overlap ({first.label}); merge them into one")


def _required(entry: Mapping[str, Any], key: str, here: str) -> float:
    if key not in entry:
        raise InputError(f"{here}: missing key '{key}'")
    return _unquoted_number(entry[key], f"{here}: '{key}'")


def _unquoted_number(raw: Any, what: str) -> float:
    """A number of a schedule entry: written without quotes (``day = 14``, not ``day = "14"``), finite, >= 0."""
    if isinstance(raw, str):
        raise InputError(f"{what} must be a number without quotes, not {raw!r:.40}")
    return checked_number(raw, what)


def _model_target(target: str | None, kind: str, model: Model, here: str) -> str:
    if target is None:
        raise InputError(f"{here}: model '{model.name}' has no '{kind}' event")
    return target


def _resection(entry: Mapping[str, Any], model: Model, here: str) -> Jump:
    state = _model_target(model.resection_state, "resection", model, here)
    fraction = checked_number(entry.get("fraction", 1.0), f"{here}: 'fraction'")
    if fraction > 1:
        raise InputError(f"{here}: 'fraction' (of the primary tumour removed) must be between 0 and 1, not {fraction:g}")
    day = _required(entry, "day", here)
    return Jump(day, state, 1.0 - fraction, 0.0, f"surgery removes {fraction:.0%} of the primary tumour")


def _dose_days(entry: Mapping[str, Any], here: str) -> list[float]:
    if "days" in entry:
        if any(k in entry for k in ("start", "every", "count")):
            raise InputError(f"{here}: give either 'days' or 'start'/'every'/'count', not both")
        if not isinstance(entry["days"], list) or not entry["days"]:
            raise InputError(f"{here}: 'days' must be a non-empty list of days")
        if len(entry["days"]) > MAX_EVENTS:
            raise InputError(f"{here}: 'days' may list at most {MAX_EVENTS:,} doses, not {len(entry['days']):,}")
        return [_unquoted_number(d, f"{here}: 'days'") for d in entry["days"]]
    start, every, count = (_required(entry, k, here) for k in ("start", "every", "count"))
    if count != int(count) or count < 1 or every == 0:
        raise InputError(f"{here}: 'count' must be a whole number >= 1 and 'every' > 0")
    if count > MAX_EVENTS:
        raise InputError(f"{here}: 'count' must be at most {MAX_EVENTS:,} doses, not {count:g}")
    return [start + i * every for i in range(int(count))]


def _doses(entry: Mapping[str, Any], model: Model, parameters: Mapping[str, float], here: str) -> list[Jump]:
    state = _model_target(model.dose_state, "ifn-dose", model, here)
    amount = _required(entry, "amount", here)
    concentration = amount / parameters[model.dose_volume_parameter]
    label = f"interferon dose of {amount:g} IU"
    return [Jump(day, state, 1.0, concentration, label) for day in _dose_days(entry, here)]


def _depletion(entry: Mapping[str, Any], model: Model, here: str) -> Window:
    if not model.depletion_parameters:
        _model_target(None, "depletion", model, here)
    cells = entry.get("cells")
    if not isinstance(cells, str) or cells not in model.depletion_parameters:
        raise InputError(f"{here}: 'cells' must be one of {', '.join(model.depletion_parameters)}, not {cells!r}")
    start, stop, rate = (_required(entry, k, here) for k in ("start", "stop", "rate"))
    if stop <= start:
        raise InputError(f"{here}: 'stop' ({stop:g}) must come after 'start' ({start:g})")
    label = f"anti-{cells.upper()} antibody depletes {cells.upper()} cells at {rate:g} per day"
    return Window(start, stop, model.depletion_parameters[cells], rate, label)
