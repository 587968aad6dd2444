"""The models' equations as formulas: the right-hand side that tumorsim integrates, traced with sympy.

Each model's ``rhs`` is written once, with NumPy. Tracing calls that very
function with symbols for the states and parameters, and with a stand-in for
the few NumPy functions it uses (``maximum``, ``log``, ``where``, ``array``,
``errstate``), so the formulas cannot drift from what the solver integrates.
The SBML and Antimony export (``sim.export``) and the compiled cohort kernel
are built from these formulas.

Needs sympy (``pip install -e '.[sbml]'``).
"""

from __future__ import annotations

import contextlib
import importlib
import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .errors import InputError
from .models import Model, get_model


def _sympy():
    try:
        return importlib.import_module("sympy")
    except ImportError:
        raise InputError("the model's formulas need sympy: pip install -e '.[sbml]'") from None


class _NumpyStandIn:
    """The NumPy functions a model's rhs uses, acting on sympy expressions."""

    def __init__(self, sympy):
        self._sympy = sympy

    def maximum(self, a, b):
        if isinstance(a, (list, tuple)):
            return [self.maximum(x, b) for x in a]
        return self._sympy.Max(a, b)

    def log(self, x):
        return self._sympy.log(x)

    def where(self, condition, if_true, if_false):
        return self._sympy.Piecewise((if_true, condition), (if_false, True))

    def array(self, values):
        return list(values)

    def errstate(self, **_):
        return contextlib.nullcontext()


@dataclass(frozen=True)
class Formulas:
    """dy/dt of a model as sympy expressions in its state and parameter symbols.

    Attributes
    ----------
    model : str
        The model's name.
    states : tuple of sympy.Symbol
        One per state, named as the state (``P``, ``B``, ...), in the model's order.
    parameters : dict of str to sympy.Symbol
        One per parameter the equations read, by name.
    rates : tuple of sympy.Expr
        d(state)/dt [state unit per time unit], in the order of ``states``.
    """

    model: str
    states: tuple
    parameters: dict
    rates: tuple


def formulas(model: Model | str) -> Formulas:
    """Trace ``model.rhs`` (a Model or a model's name) into formulas; traced once per model."""
    return _traced(model if isinstance(model, str) else model.name)


@cache
def _traced(name: str) -> Formulas:
    model = get_model(name)
    states, parameters, rates = _trace(model, model.rhs)
    return Formulas(model.name, states, parameters, rates)


def colony_formulas(model: Model | str) -> tuple:
    """``model.colony_rates`` as sympy expressions in the symbols of ``formulas(model)``: arrivals, birth and
    death per cell of the chance state (see ``Model.colony_rates``)."""
    return _traced_colony(model if isinstance(model, str) else model.name)


@cache
def _traced_colony(name: str) -> tuple:
    model = get_model(name)
    if model.colony_rates is None:
        raise InputError(f"model '{name}' has no chance state")
    return _trace(model, model.colony_rates)[2]


def _trace(model: Model, function: Callable) -> tuple[tuple, dict, tuple]:
    """Call ``function(t, y, p)`` of ``model``'s module on symbols: (state symbols, parameter symbols read, results)."""
    sympy = _sympy()
    states = tuple(sympy.Symbol(name, real=True) for name in model.state_names)
    parameters: dict[str, object] = {}

    class Symbols(dict):
        """The parameter mapping: a symbol for every name the equations ask for."""

        def __missing__(self, name):
            symbol = parameters[name] = sympy.Symbol(safe_name(name), real=True)
            return symbol

    traced = _rebound(function, _NumpyStandIn(sympy))
    results = tuple(sympy.sympify(r) for r in traced(sympy.Symbol("time", real=True), list(states), Symbols()))
    return states, parameters, results


RESERVED = frozenset({"lambda", "pi", "time", "avogadro", "e", "exponentiale", "true", "false", "inf", "infinity",
                      "nan", "notanumber"})
"""Parameter names that mean something else in a formula (Python's lambda, SBML's constants)."""


def safe_name(name: str) -> str:
    """The symbol (and SBML id) of a parameter: its name, with '_' appended if the name is reserved."""
    return f"{name}_" if name in RESERVED else name


def _rebound(function: Callable, numpy_stand_in: object) -> Callable:
    """``function`` and the helpers it calls from its own module, with ``np`` replaced by the stand-in."""
    module = function.__module__
    namespace = dict(function.__globals__)
    namespace["np"] = numpy_stand_in
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module:
            namespace[name] = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__,
                                                 value.__closure__)
    return types.FunctionType(function.__code__, namespace, function.__name__, function.__defaults__,
                              function.__closure__)
