"""Change a scenario's treatment without writing TOML: surgery day, interferon course, antibody depletion.

These are the ``--surgery``, ``--dose``/``--dose-start``/``--dose-every``/
``--dose-count`` and ``--deplete`` options of ``tumorsim run`` and ``compare``
(and the matching keyword arguments of ``sim.run``). Each one replaces the
scenario's own entries of that kind with new ``[[schedule]]`` entries; the
rest of the schedule is kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .scenarios import ARGUMENTS, Scenario

DEFAULT_COURSE = {"start": 1.0, "every": 3.0, "count": 10}
"""A new interferon course, when the scenario has none: the shipped ``ifn-dosed`` course (days 1 to 28)."""

DEFAULT_DEPLETION_RATE = 2.0
"""Antibody depletion rate [1/day] of a new window: the shipped depletion scenarios' (~98 % gone in two days)."""

@dataclass(frozen=True)
class Treatment:
    """Treatment changes; None (or an empty ``deplete``) keeps the scenario's own.

    Attributes
    ----------
    surgery : float, "none" or None
        Day of the one resection [day]; "none" removes surgery.
    dose : float, "none" or None
        Interferon per injection [IU]; "none" (or 0) removes the course.
    dose_start, dose_every : float or None
        Day of the first dose [day] and days between doses [day].
    dose_count : int or None
        Number of doses.
    deplete : sequence of str
        Antibody windows "nk:START-STOP" or "cd8:START-STOP" [day]; "none" removes every depletion.
    """

    surgery: float | str | None = None
    dose: float | str | None = None
    dose_start: float | None = None
    dose_every: float | None = None
    dose_count: int | None = None
    deplete: Sequence[str] = ()

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.surgery, self.dose, self.dose_start, self.dose_every,
                                           self.dose_count)) or bool(self.deplete)

    def schedule(self, scenario: Scenario, days: float | None = None,
                 names: Mapping[str, str] = ARGUMENTS) -> list[dict[str, Any]]:
        """``scenario``'s ``[[schedule]]`` entries with these treatments in place.

        ``days`` [day] is the follow-up the run will have (default the scenario's):
        no treatment may fall after it. Errors name the treatments by ``names``.
        """
        follow_up = scenario.days if days is None else days
        if isinstance(self.deplete, str):
            raise InputError(f"{names['deplete']} must be a list such as ['nk:0-60'], not {self.deplete!r:.60}")
        entries = [dict(entry) for entry in scenario.schedule_entries]
        if self.surgery is not None:
            entries = _with_surgery(entries, scenario, follow_up, self.surgery, names["surgery"])
        if any(v is not None for v in (self.dose, self.dose_start, self.dose_every, self.dose_count)):
            entries = self._with_course(entries, scenario, follow_up, names)
        if self.deplete:
            entries = _with_depletions(entries, scenario, follow_up, self.deplete, names["deplete"])
        return entries

    def _with_course(self, entries: list[dict[str, Any]], scenario: Scenario, days: float,
                     names: Mapping[str, str]) -> list[dict[str, Any]]:
        courses = [e for e in entries if e.get("event") == "ifn-dose"]
        kept = [e for e in entries if e.get("event") != "ifn-dose"]
        timing = {key: None if value is None else _timing(key, value, names[f"dose_{key}"])
                  for key, value in (("start", self.dose_start), ("every", self.dose_every), ("count", self.dose_count))}
        if _is_none(self.dose):
            given = [names[f"dose_{key}"] for key, value in timing.items() if value is not None]
            if given:
                raise InputError(f"{names['dose']} none removes the interferon course; drop {', '.join(given)}")
            return kept
        _require_event(scenario, scenario.model.dose_state, names["dose"], "interferon doses")
        if self.dose is None and not courses:
            raise InputError(f"{scenario.name} has no interferon course to change; give {names['dose']} AMOUNT (IU per "
                             "injection) as well")
        template = courses[0] if courses else {"event": "ifn-dose"}
        amount = template.get("amount") if self.dose is None else _number(self.dose, names["dose"], minimum=0,
                                                                            strict=True)
        if "days" in template and all(value is None for value in timing.values()):
            course = {"event": "ifn-dose", "amount": amount, "days": template["days"]}
        else:
            course = {"event": "ifn-dose", "amount": amount}
            for key, value in timing.items():
                default = template.get(key, DEFAULT_COURSE[key])
                course[key] = default if value is None else value
        last = max(course["days"]) if "days" in course else course["start"] + (course["count"] - 1) * course["every"]
        if last > days:
            raise InputError(f"{names['dose']}: the last dose would fall on day {last:g}, after the follow-up of "
                             f"{days:g} days; give fewer doses, an earlier start or more days")
        return kept + [course]


def _is_none(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower() == "none"


def _number(raw: object, flag: str, minimum: float = 0.0, strict: bool = False, none: bool = True) -> float:
    """``raw`` as a finite number >= ``minimum`` (> it if ``strict``); ``none``: the flag also takes 'none'."""
    allowed = f"a number {'>' if strict else '>='} {minimum:g}" + (" or 'none'" if none else "")
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{flag} must be {allowed}, not {raw!r:.40}") from None
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        raise InputError(f"{flag} must be {allowed}, not {raw!r:.40}")
    return value


def _timing(key: str, raw: object, flag: str) -> float | int:
    if key == "count":
        value = _number(raw, flag, minimum=0, strict=True, none=False)
        if value != int(value):
            raise InputError(f"{flag} must be a whole number of doses >= 1, not {raw!r:.40}")
        return int(value)
    return _number(raw, flag, minimum=0.0, strict=key == "every", none=False)


def _require_event(scenario: Scenario, target: str | None, flag: str, what: str) -> None:
    if target is None:
        raise InputError(f"{flag}: model '{scenario.model.name}' has no {what}")


def _with_surgery(entries: list[dict[str, Any]], scenario: Scenario, days: float, surgery: float | str,
                  flag: str) -> list[dict[str, Any]]:
    _require_event(scenario, scenario.model.resection_state, flag, "surgery")
    kept = [e for e in entries if e.get("event") != "resection"]
    if _is_none(surgery):
        return kept
    day = _number(surgery, flag)
    if day > days:
        raise InputError(f"{flag} day {day:g} is after the follow-up of {days:g} days; give an earlier day, "
                         "more days, or 'none'")
    return kept + [{"event": "resection", "day": day}]


def _with_depletions(entries: list[dict[str, Any]], scenario: Scenario, days: float, windows: Sequence[str],
                     flag: str) -> list[dict[str, Any]]:
    """Replace the scenario's depletions of the cells named in ``windows`` ("none": remove all depletions)."""
    if any(_is_none(w) for w in windows):
        if len(windows) > 1:
            raise InputError(f"{flag} none removes every depletion; give it alone")
        return [e for e in entries if e.get("event") != "depletion"]
    _require_event(scenario, next(iter(scenario.model.depletion_parameters), None), flag, "antibody depletion")
    new = [_depletion(window, scenario, days, flag) for window in windows]
    for k, first in enumerate(new):
        for second in new[k + 1:]:
            if first["cells"] == second["cells"] and first["start"] < second["stop"] and second["start"] < first["stop"]:
                raise InputError(f"{flag}: the {first['cells']} windows {windows[k]} and {windows[new.index(second)]} "
                                 "overlap; merge them into one")
    named = {w["cells"] for w in new}
    old = [e for e in entries if e.get("event") == "depletion" and e.get("cells") in named]
    rates = {e["cells"]: e.get("rate", DEFAULT_DEPLETION_RATE) for e in old}
    for window in new:
        window["rate"] = rates.get(window["cells"], DEFAULT_DEPLETION_RATE)
    return [e for e in entries if e not in old] + new


def _depletion(window: str, scenario: Scenario, days: float, flag: str) -> dict[str, Any]:
    """One "CELLS:START-STOP" window as a ``[[schedule]]`` entry (its rate is filled in by the caller)."""
    allowed = scenario.model.depletion_parameters
    usage = f"{flag} takes CELLS:START-STOP with CELLS one of {', '.join(allowed)} (e.g. nk:0-60), or 'none'"
    cells, sep, span = str(window).partition(":")
    start, dash, stop = span.partition("-")
    if not sep or not dash or cells.strip().lower() not in allowed:
        raise InputError(f"{usage}, not {window!r:.40}")
    first, last = _number(start, flag, none=False), _number(stop, flag, none=False)
    if last <= first:
        raise InputError(f"{usage}; STOP must come after START, not {window!r:.40}")
    if first >= days:
        raise InputError(f"{flag} {window}: starts after the follow-up of {days:g} days")
    return {"event": "depletion", "cells": cells.strip().lower(), "start": first, "stop": last}
