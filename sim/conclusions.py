"""The conclusions a model must reproduce, as data: orderings, differences, delays and the schedule's uncertainty.

A conclusions file (``sim/data/conclusions/bidwell2012.toml`` for the paper of
this project) declares, in plain TOML:

* ``[[conclusion]]``: an ordering, the ``earlier`` arm metastasises before the ``later`` one;
* ``[[difference]]``: ``arm`` has at least ``at_least`` more of its mice metastasis-free on ``day``
  than ``reference``;
* ``[[delay]]``: ``arm``'s median minus ``reference``'s [day], reported, and with ``at_least`` checked;
* ``[schedule.NAME]``: how uncertain the schedule is (``SCHEDULE_SHIFTS``), each with a range, unit,
  meaning and source.

Any conclusion may say ``by_construction = "why"``: the model's wiring makes it
hold whatever the parameters. ``sim.robustness`` checks them all.

Examples
--------
>>> from sim.conclusions import load_conclusions
>>> declared = load_conclusions()
>>> declared.conclusions[0].claim
'restoring Irf7 in 4T1.2 delays bone metastasis'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .parameters import DATA, checked_number, read_toml, reject_unknown_keys, require_table
from .scenarios import Scenario

CONCLUSIONS_FILE = DATA / "conclusions" / "bidwell2012.toml"

SCHEDULE_SHIFTS = {
    "surgery_shift": "day",
    "dose_start_shift": "day",
    "dose_factor": "1",
    "depletion_start_shift": "day",
    "depletion_stop_shift": "day",
}
"""The schedule's uncertainties a conclusions file may declare, with their units (see ``shifted_schedule``)."""


@dataclass(frozen=True)
class Conclusion:
    """An ordering: the ``earlier`` arm metastasises before the ``later`` arm.

    ``by_construction`` says why the model's wiring makes it hold whatever the
    parameters (empty when it can fail); such a conclusion is not evidence.
    """

    earlier: str
    later: str
    claim: str
    source: str = ""
    by_construction: str = ""

    @property
    def arms(self) -> tuple[str, str]:
        return self.earlier, self.later

    @property
    def label(self) -> str:
        return f"{self.earlier} before {self.later}"


@dataclass(frozen=True)
class _AgainstReference:
    """A conclusion about ``arm`` measured against ``reference``."""

    arm: str
    reference: str

    @property
    def arms(self) -> tuple[str, str]:
        return self.arm, self.reference


@dataclass(frozen=True)
class Difference(_AgainstReference):
    """``arm``'s fraction metastasis-free on ``day`` [day] exceeds ``reference``'s by at least ``at_least``."""

    day: float
    at_least: float
    claim: str
    source: str
    by_construction: str = ""

    @property
    def label(self) -> str:
        return f"{self.arm} free on day {self.day:g}: at least {self.at_least:g} more than {self.reference}"


@dataclass(frozen=True)
class DelaySpec(_AgainstReference):
    """A delay: ``arm``'s median metastasis day minus ``reference``'s [day], reported over the ranges.

    With ``at_least`` [day] it is also a conclusion: the delay is at least that long.
    """

    meaning: str
    at_least: float | None = None
    claim: str = ""
    source: str = ""
    by_construction: str = ""

    @property
    def label(self) -> str:
        return f"{self.arm} median at least {self.at_least:g} days after {self.reference}"


@dataclass(frozen=True)
class ScheduleRange:
    """One declared uncertainty of the schedule: its range, unit, meaning and source."""

    name: str
    low: float
    high: float
    unit: str
    meaning: str
    source: str


@dataclass(frozen=True)
class DeclaredConclusions:
    """A conclusions file: title, ties [day and fraction], conclusions, delays and schedule uncertainty."""

    title: str
    tie_days: float
    tie_fraction: float
    conclusions: tuple[Conclusion, ...]
    differences: tuple[Difference, ...]
    delays: tuple[DelaySpec, ...]
    schedule: tuple[ScheduleRange, ...]
    source: Path

    @property
    def checked(self) -> tuple[Conclusion | Difference | DelaySpec, ...]:
        """Everything that can hold or fail: orderings, differences, and delays with a least length."""
        return (*self.conclusions, *self.differences, *(d for d in self.delays if d.at_least is not None))

    @property
    def arms(self) -> list[str]:
        """Every scenario named, in order of first mention."""
        names = [n for c in (*self.conclusions, *self.differences, *self.delays) for n in c.arms]
        return list(dict.fromkeys(names))


_FILE_KEYS = {"title", "tie_days", "tie_fraction", "conclusion", "difference", "delay", "schedule"}
_CONCLUSION_KEYS = (("earlier", "later", "claim"), ("source", "by_construction"))
_DIFFERENCE_KEYS = (("arm", "reference", "day", "at_least", "claim", "source"), ("by_construction",))
_DELAY_KEYS = (("arm", "reference", "meaning"), ("at_least", "claim", "source", "by_construction"))
_SCHEDULE_KEYS = {"range", "unit", "meaning", "source"}


def load_conclusions(path: str | Path | None = None) -> DeclaredConclusions:
    """Read a conclusions file (default: the paper's, ``CONCLUSIONS_FILE``)."""
    path = Path(path) if path is not None else CONCLUSIONS_FILE
    data = read_toml(path)
    where = str(path)
    reject_unknown_keys(data, _FILE_KEYS, where)
    tie = checked_number(data.get("tie_days", 0.1), f"{where}: 'tie_days'")
    tie_fraction = checked_number(data.get("tie_fraction", 0.0), f"{where}: 'tie_fraction'")
    if tie_fraction >= 1:
        raise InputError(f"{where}: 'tie_fraction' must be a fraction from 0 to below 1, not {tie_fraction:g}")
    conclusions = tuple(_conclusion(e, f"{where}: conclusion {i}")
                        for i, e in enumerate(_entries(data, "conclusion", where), start=1))
    differences = tuple(_difference(e, f"{where}: difference {i}")
                        for i, e in enumerate(_entries(data, "difference", where, required=False), start=1))
    delays = tuple(_delay(e, f"{where}: delay {i}")
                   for i, e in enumerate(_entries(data, "delay", where, required=False), start=1))
    schedule = tuple(_schedule_range(name, entry, f"{where}: schedule.{name}")
                     for name, entry in require_table(data.get("schedule", {}), f"{where}: schedule").items())
    return DeclaredConclusions(str(data.get("title", path.stem)), tie, tie_fraction, conclusions, differences, delays,
                               schedule, path)


def _entries(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> list:
    entries = data.get(key, [])
    if not isinstance(entries, list) or (required and not entries):
        raise InputError(f"{where}: needs at least one [[{key}]] table" if required
                         else f"{where}: '{key}' must be a list of [[{key}]] tables")
    return entries


def _entry(entry: Any, keys: tuple[str, ...], optional: tuple[str, ...], here: str,
           numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The table's keys: ``keys`` required, ``optional`` optional; text, except ``numbers`` (numbers >= 0)."""
    if not isinstance(entry, Mapping):
        raise InputError(f"{here}: must be a table with keys {', '.join(keys)}")
    reject_unknown_keys(entry, set(keys) | set(optional), here)
    missing = [k for k in keys if k not in entry]
    if missing:
        raise InputError(f"{here}: missing key '{missing[0]}'")
    values = {}
    for key in (k for k in (*keys, *optional) if k in entry):
        if key in numbers:
            if isinstance(entry[key], (str, bool)):
                raise InputError(f"{here}: '{key}' must be a number without quotes, not {entry[key]!r:.40}")
            values[key] = checked_number(entry[key], f"{here}: '{key}'")
        elif not isinstance(entry[key], str) or not entry[key].strip():
            raise InputError(f"{here}: '{key}' must be text in quotes")
        else:
            values[key] = entry[key]
    return values


def _two_arms(first: str, second: str, keys: str, here: str) -> None:
    if first == second:
        raise InputError(f"{here}: {keys} name the same arm '{first}'; compare two different arms")


def _conclusion(entry: Any, here: str) -> Conclusion:
    values = _entry(entry, *_CONCLUSION_KEYS, here)
    _two_arms(values["earlier"], values["later"], "'earlier' and 'later'", here)
    return Conclusion(**values)


def _difference(entry: Any, here: str) -> Difference:
    values = _entry(entry, *_DIFFERENCE_KEYS, here, numbers=("day", "at_least"))
    _two_arms(values["arm"], values["reference"], "'arm' and 'reference'", here)
    if values["at_least"] > 1:
        raise InputError(f"{here}: 'at_least' is a difference of fractions, from 0 to 1, not {values['at_least']:g}")
    return Difference(**values)


def _delay(entry: Any, here: str) -> DelaySpec:
    values = _entry(entry, *_DELAY_KEYS, here, numbers=("at_least",))
    _two_arms(values["arm"], values["reference"], "'arm' and 'reference'", here)
    if "at_least" in values and not values.get("claim"):
        raise InputError(f"{here}: a delay with 'at_least' is a conclusion and needs a 'claim'")
    return DelaySpec(**values)


def _schedule_range(name: str, entry: Any, here: str) -> ScheduleRange:
    if name not in SCHEDULE_SHIFTS:
        raise InputError(f"{here}: unknown schedule uncertainty; allowed: {', '.join(SCHEDULE_SHIFTS)}")
    entry = require_table(entry, here)
    reject_unknown_keys(entry, _SCHEDULE_KEYS, here)
    missing = sorted(_SCHEDULE_KEYS - set(entry))
    if missing:
        raise InputError(f"{here}: missing key '{missing[0]}'")
    bounds = entry["range"]
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and np.isfinite(b) for b in bounds)
            or not bounds[0] < bounds[1]):
        raise InputError(f"{here}.range must be two numbers [low, high] with low < high, not {bounds!r:.60}")
    if name == "dose_factor" and bounds[0] <= 0:
        raise InputError(f"{here}.range: a dose factor must be > 0, not {bounds[0]:g}")
    if entry["unit"] != SCHEDULE_SHIFTS[name]:
        raise InputError(f"{here}.unit must be {SCHEDULE_SHIFTS[name]!r}, not {entry['unit']!r:.40}")
    texts = _entry({k: entry[k] for k in ("meaning", "source")}, ("meaning", "source"), (), here)
    return ScheduleRange(name, float(bounds[0]), float(bounds[1]), entry["unit"], **texts)


def shifted_schedule(scenario: Scenario, shifts: Mapping[str, float]) -> Scenario:
    """``scenario`` with its schedule moved by ``shifts`` (names of ``SCHEDULE_SHIFTS``).

    Every resection moves by ``surgery_shift`` [day]; every interferon course starts
    ``dose_start_shift`` [day] later and gives ``dose_factor`` times the dose; every
    depletion window starts ``depletion_start_shift`` and stops ``depletion_stop_shift``
    [day] later. Days are kept within the follow-up (and from day 0).
    """
    if not shifts:
        return scenario
    days = scenario.days
    entries = []
    for entry in scenario.schedule_entries:
        entry = dict(entry)
        event = entry.get("event")
        if event == "resection":
            entry["day"] = _within(entry["day"] + shifts.get("surgery_shift", 0.0), days)
        elif event == "ifn-dose":
            move = shifts.get("dose_start_shift", 0.0)
            if "days" in entry:
                entry["days"] = [_within(d + move, days) for d in entry["days"]]
            else:
                last = entry["start"] + (entry["count"] - 1) * entry["every"]
                entry["start"] = entry["start"] + min(move, days - last)
            entry["amount"] = entry["amount"] * shifts.get("dose_factor", 1.0)
        elif event == "depletion":
            start = _within(entry["start"] + shifts.get("depletion_start_shift", 0.0), days)
            entry["start"], entry["stop"] = start, max(_within(entry["stop"] + shifts.get("depletion_stop_shift", 0.0),
                                                               days), start + 1)
        entries.append(entry)
    return scenario.with_changes(schedule=entries)


def _within(day: float, days: float) -> float:
    return float(min(max(day, 0.0), days))
