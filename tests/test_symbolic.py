"""The traced formulas are the right-hand side tumorsim integrates: same numbers at random states."""

from __future__ import annotations

import numpy as np
import pytest
from checks import require_extra

import sim
from sim.models import MODELS


@pytest.mark.parametrize("name", sorted(MODELS))
def test_formulas_evaluate_to_the_numpy_rhs(name):
    sympy = require_extra("sympy", "sbml")
    from sim.symbolic import formulas

    model = MODELS[name]
    traced = formulas(model)
    values = sim.load_scenario(name).parameters.values_dict()
    rates = sympy.lambdify([*traced.states, *traced.parameters.values()], list(traced.rates), modules="math")
    rng = np.random.default_rng(5)
    initial = np.array([sim.load_scenario(name).initial[s] for s in model.state_names])
    for scale in (0.0, 0.5, 1.0, 3.0):
        y = np.abs(initial * scale + rng.lognormal(0, 2, len(initial)) * (initial.max() + 1) * 1e-3)
        y[-1] = min(y[-1], 1.0) if name == "irf7" else y[-1]
        expected = model.rhs(0.0, y, values)
        got = rates(*y, *[values[p] for p in traced.parameters])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    assert set(traced.parameters) <= set(values)
