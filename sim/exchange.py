"""Model exchange: a scenario as SBML Level 3 Version 2 or Antimony, for COPASI, tellurium or libroadrunner.

The rate rules are the formulas of ``sim.symbolic``, traced from the very
right-hand side tumorsim integrates; nothing here restates an equation. The
file holds the scenario's parameter values (with meaning, source and basis in
each parameter's notes), its initial state, its schedule as events
(resection, interferon doses, antibody depletion windows), units, and, where
the model has them, the metastasis detection and the humane endpoint as
events that set flags (``metastasis_detected``, ``metastasis_day``,
``culled``, ``endpoint_day``). An SBML simulation does not stop at the
humane endpoint as tumorsim does: read ``culled`` and ``endpoint_day``.

States are SBML parameters with rate rules (each keeps its own unit, such as
IU/mL), so no compartment volume enters the equations.

Needs python-libsbml and sympy, and antimony for Antimony
(``pip install -e '.[sbml]'``).
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import Iterable
from pathlib import Path

from .errors import InputError
from .fileio import Output, write_all
from .scenarios import Scenario, load_scenario
from .symbolic import formulas, safe_name
from .version import __version__

FORMATS = ("sbml", "antimony")
FLAGS_OF_EVENTS = {"detection": ("metastasis_detected", "metastasis_day"), "endpoint": ("culled", "endpoint_day")}
"""Parameters the detection and endpoint events set: a 0/1 flag and the day it was set [day]."""


def _module(name: str, package: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        raise InputError(f"exporting needs {package}: pip install -e '.[sbml]'") from None


def sbml(scenario: str | Path | Scenario) -> str:
    """The scenario as an SBML Level 3 Version 2 document (text), validated by libsbml."""
    libsbml = _module("libsbml", "python-libsbml")
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    document = _Writer(libsbml, scenario).document()
    text = libsbml.writeSBMLToString(document)
    errors = _errors(libsbml, libsbml.readSBMLFromString(text))
    if errors:
        raise InputError(f"{scenario.name}: the SBML export is invalid ({errors[0]}); please report this")
    return text


def antimony(scenario: str | Path | Scenario) -> str:
    """The scenario in Antimony, converted from the SBML by the antimony library."""
    converter = _module("antimony", "antimony")
    converter.clearPreviousLoads()
    if converter.loadSBMLString(sbml(scenario)) < 0:
        raise InputError(f"antimony could not read the SBML export: {converter.getLastError()}")
    return converter.getAntimonyString(converter.getMainModuleName())


def export(scenario: str | Path | Scenario, format: str = "sbml", path: str | Path | None = None,
           overwrite: bool = False) -> str:
    """The scenario as SBML or Antimony text; also written to ``path`` if given (whole or not at all).

    >>> import sim
    >>> text = sim.export("irf7-restored", "sbml")        # doctest: +SKIP
    >>> sim.export("ifn-dosed", "antimony", "ifn-dosed.ant")  # doctest: +SKIP
    """
    if format not in FORMATS:
        raise InputError(f"format must be one of {', '.join(FORMATS)}, not {format!r:.40}")
    text = sbml(scenario) if format == "sbml" else antimony(scenario)
    if path is not None:
        write_all([Output(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"), "path")], overwrite)
    return text


def _errors(libsbml, document) -> list[str]:
    """Messages of the errors (not warnings) libsbml finds in ``document``, reading and consistency checks."""
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)  # literal numbers carry no units
    document.checkConsistency()
    log = document.getErrorLog()
    return [log.getError(i).getMessage().strip() for i in range(log.getNumErrors())
            if log.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]


class _Writer:
    """Builds one scenario's SBML document with libsbml."""

    def __init__(self, libsbml, scenario: Scenario):
        self.sbml = libsbml
        self.scenario = scenario
        self.model_def = scenario.model
        self.traced = formulas(scenario.model)
        self.units: dict[str, str] = {}

    def document(self):
        libsbml, scenario = self.sbml, self.scenario
        document = libsbml.SBMLDocument(3, 2)
        model = document.createModel()
        model.setId(_sid(f"tumorsim_{scenario.name}"))
        model.setName(scenario.name)
        model.setNotes(_notes([
            f"{scenario.name}: {scenario.description}",
            f"Mirrors: {scenario.mirrors}" if scenario.mirrors else "",
            f"Model: {self.model_def.name} ({self.model_def.title}); follow-up {scenario.days:g} {self.model_def.time_unit}",
            *(f"Changed from the scenario as written: {change}" for change in scenario.changes),
            f"Exported by tumorsim {__version__}. The rate rules are traced from tumorsim's own right-hand side.",
            "The humane endpoint does not stop an SBML simulation: it sets culled = 1 and endpoint_day.",
        ]), True)
        time_unit = self._unit(model, "day" if self.model_def.time_unit == "day" else "1")
        model.setTimeUnits(time_unit)
        self._parameters(model)
        self._states(model)
        self._schedule(model)
        self._flags(model)
        return document

    # --- units ------------------------------------------------------------------------------------

    def _unit(self, model, text: str) -> str:
        """The id of a unit definition for a tumorsim unit string such as '1/(cell*day)' (made on first use)."""
        if text == "1":
            return "dimensionless"
        if text in self.units:
            return self.units[text]
        unit_id = _sid("u_" + text.replace("/", "_per_").replace("*", "_").replace("^", "").replace(" ", "_"))
        definition = model.createUnitDefinition()
        definition.setId(unit_id)
        definition.setName(text)
        factors = _unit_factors(text)
        for kind, (exponent, multiplier) in factors.items():
            unit = definition.createUnit()
            unit.setKind(getattr(self.sbml, f"UNIT_KIND_{kind.upper()}"))
            unit.setExponent(exponent)
            unit.setScale(0)
            unit.setMultiplier(multiplier)
        if not factors:  # IU, IL-2 units: counts of activity, dimensionless for SBML
            unit = definition.createUnit()
            unit.setKind(self.sbml.UNIT_KIND_DIMENSIONLESS)
            unit.setExponent(1)
            unit.setScale(0)
            unit.setMultiplier(1)
        self.units[text] = unit_id
        return unit_id

    # --- parameters and states ---------------------------------------------------------------------

    def _parameters(self, model) -> None:
        varied = {w.parameter for w in self.scenario.schedule.windows}
        for name, param in self.scenario.parameters.items():
            element = model.createParameter()
            element.setId(safe_name(name))
            element.setName(name)
            element.setValue(param.value)
            element.setConstant(name not in varied)
            element.setUnits(self._unit(model, param.unit))
            element.setNotes(_notes([param.meaning, f"Source: {param.source}", f"Basis: {param.basis}"]), True)
        for window in self.scenario.schedule.windows:  # a window open at day 0 holds from the start
            if window.start <= 0 < window.stop:
                model.getParameter(safe_name(window.parameter)).setValue(window.value)

    def _states(self, model) -> None:
        initial = dict(self.scenario.initial)
        for jump in self.scenario.schedule.jumps:  # a jump on day 0 acts before anything else
            if jump.day == 0:
                initial[jump.state] = initial[jump.state] * jump.scale + jump.add
        for state, symbol, rate in zip(self.model_def.states, self.traced.states, self.traced.rates):
            element = model.createParameter()
            element.setId(str(symbol))
            element.setName(state.meaning)
            element.setValue(initial[state.name])
            element.setConstant(False)
            element.setUnits(self._unit(model, state.unit))
            element.setNotes(_notes([f"State {state.name}: {state.meaning} [{state.unit}]"]), True)
            rule = model.createRateRule()
            rule.setVariable(str(symbol))
            rule.setMath(self._math(_infix(rate)))

    def _math(self, formula: str):
        ast = self.sbml.parseL3Formula(formula)
        if ast is None:
            raise InputError(f"libsbml could not parse a formula of model {self.model_def.name}: "
                             f"{self.sbml.getLastParseL3Error()}")
        return ast

    # --- events ------------------------------------------------------------------------------------

    def _event(self, model, event_id: str, trigger: str, assignments: Iterable[tuple[str, str]], name: str = "") -> None:
        event = model.createEvent()
        event.setId(_sid(event_id))
        if name:
            event.setName(name)
        event.setUseValuesFromTriggerTime(True)
        condition = event.createTrigger()
        condition.setInitialValue(False)
        condition.setPersistent(True)
        condition.setMath(self._math(trigger))
        for variable, formula in assignments:
            assignment = event.createEventAssignment()
            assignment.setVariable(variable)
            assignment.setMath(self._math(formula))

    def _schedule(self, model) -> None:
        base = self.scenario.parameters.values_dict()
        for k, jump in enumerate(self.scenario.schedule.jumps, start=1):
            if jump.day == 0:
                continue
            change = (f"{jump.state} + {_number(jump.add)}" if jump.scale == 1 else
                      f"{jump.state} * {_number(jump.scale)}" if jump.add == 0 else
                      f"{jump.state} * {_number(jump.scale)} + {_number(jump.add)}")
            self._event(model, f"event_{k}_day_{jump.day:g}", f"time >= {_number(jump.day)}", [(jump.state, change)],
                        jump.label)
        for k, window in enumerate(self.scenario.schedule.windows, start=1):
            parameter = safe_name(window.parameter)
            edges = [(window.stop, _number(base[window.parameter]), "ends")]
            if window.start > 0:
                edges.insert(0, (window.start, _number(window.value), "starts"))
            for day, value, what in edges:
                self._event(model, f"window_{k}_{what}_day_{day:g}", f"time >= {_number(day)}", [(parameter, value)],
                            f"{window.label}: {what}")

    def _flags(self, model) -> None:
        for kind, state, threshold in (("detection", self.model_def.detection_state, self.model_def.detection_parameter),
                                       ("endpoint", self.model_def.endpoint_state, self.model_def.endpoint_parameter)):
            if state is None:
                continue
            flag, day = FLAGS_OF_EVENTS[kind]
            for name, unit, meaning in ((flag, "1", f"1 once {state} has reached {threshold}, else 0"),
                                        (day, self.model_def.time_unit, f"day {state} first reached {threshold}")):
                element = model.createParameter()
                element.setId(name)
                element.setValue(0.0)
                element.setConstant(False)
                element.setUnits(self._unit(model, unit))
                element.setNotes(_notes([meaning]), True)
            self._event(model, f"{kind}_event", f"{state} >= {safe_name(threshold)} && {flag} < 0.5",
                        [(flag, "1"), (day, "time")])


# --- formulas as SBML L3 infix -------------------------------------------------------------------


def _infix(expression) -> str:
    """A sympy expression in libsbml's L3 infix syntax (max as piecewise, log as ln)."""
    sympy = importlib.import_module("sympy")
    if expression.is_Symbol:
        return str(expression)
    if expression.is_Number:
        return _number(float(expression))
    if isinstance(expression, sympy.Piecewise):
        pieces = []
        for value, condition in expression.args:
            pieces += [_infix(value)] if condition is sympy.true else [_infix(value), _infix(condition)]
        return f"piecewise({', '.join(pieces)})"
    args = [_infix(a) for a in expression.args]
    if expression.is_Add:
        return "(" + " + ".join(args) + ")"
    if expression.is_Mul:
        return "(" + " * ".join(args) + ")"
    if expression.is_Pow:
        base, exponent = expression.args
        if exponent == -1:
            return f"(1 / {args[0]})"
        return f"pow({args[0]}, {args[1]})"
    if isinstance(expression, sympy.Max):
        return _fold("piecewise({a}, {a} > {b}, {b})", args)
    if isinstance(expression, sympy.Min):
        return _fold("piecewise({a}, {a} < {b}, {b})", args)
    if isinstance(expression, sympy.log):
        return f"ln({args[0]})"
    relations = {sympy.StrictGreaterThan: ">", sympy.StrictLessThan: "<", sympy.GreaterThan: ">=",
                 sympy.LessThan: "<=", sympy.Eq: "==", sympy.Ne: "!="}
    for kind, operator in relations.items():
        if isinstance(expression, kind):
            return f"({args[0]} {operator} {args[1]})"
    raise InputError(f"cannot write {type(expression).__name__} in SBML; please report this")


def _fold(template: str, args: list[str]) -> str:
    text = args[0]
    for other in args[1:]:
        text = template.format(a=text, b=other)
    return text


def _number(value: float) -> str:
    text = repr(float(value))
    return text if "e" in text or "." in text or "inf" in text or "nan" in text else text + ".0"


def _sid(text: str) -> str:
    """An SBML identifier: letters, digits and underscores, not starting with a digit."""
    cleaned = re.sub(r"\W", "_", text)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _notes(lines: Iterable[str]) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


_BASE_UNITS = {"cell": ("item", 1.0), "cells": ("item", 1.0), "day": ("second", 86400.0), "mL": ("litre", 1e-3)}
_ACTIVITY_UNITS = ("IU", "IL-2 units")


def _unit_factors(text: str) -> dict[str, tuple[int, float]]:
    """SBML unit kinds of a tumorsim unit string: kind -> (exponent, multiplier). Activity units are dimensionless."""
    factors: dict[str, tuple[int, float]] = {}
    for token, exponent in _unit_tokens(text):
        if token in _ACTIVITY_UNITS or token == "1":
            continue
        if token not in _BASE_UNITS:
            raise InputError(f"unit '{text}': no SBML unit for '{token}'; please report this")
        kind, multiplier = _BASE_UNITS[token]
        previous = factors.get(kind, (0, multiplier))[0]
        factors[kind] = (previous + exponent, multiplier)
    return {kind: value for kind, value in factors.items() if value[0] != 0}


def _unit_tokens(text: str) -> list[tuple[str, int]]:
    """'IU/(mL*day*cell)' -> [('IU', 1), ('mL', -1), ('day', -1), ('cell', -1)]; '(cells/day)^2' doubles exponents."""
    tokens = re.findall(r"IL-2 units|[A-Za-z]+|\d+|[*/()^]", text)
    position = 0

    def product(sign: int) -> list[tuple[str, int]]:
        nonlocal position
        found, current = [], sign
        while position < len(tokens) and tokens[position] != ")":
            token = tokens[position]
            position += 1
            if token in "*/":
                current = sign if token == "*" else -sign
                continue
            if token == "(":
                group = product(current)
                position += 1  # ")"
            else:
                group = [(token, current)]
            if position < len(tokens) and tokens[position] == "^":
                power = int(tokens[position + 1])
                position += 2
                group = [(name, exponent * power) for name, exponent in group]
            found += group
        return found

    return product(1)

