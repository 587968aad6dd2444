"""tumorsim: ODE models of tumour-immune dynamics for teaching.

Replays the mouse experiments of Bidwell et al. 2012 (Nat Med 18:1224): breast
cancer cells that silence Irf7 escape NK and CD8+ T cells and seed bone.

>>> import sim
>>> result = sim.run("irf7-restored", days=90)
>>> print(result.summary())            # doctest: +SKIP
>>> result.plot()                      # doctest: +SKIP
"""

from .api import compare, prepare, run
from .errors import InputError, SolverError
from .exchange import export
from .models import MODELS, get_model
from .result import Result
from .scenarios import Scenario, load_scenario, scenario_names
from .version import __version__

__all__ = [
    "MODELS",
    "InputError",
    "Result",
    "Scenario",
    "SolverError",
    "__version__",
    "compare",
    "export",
    "get_model",
    "load_scenario",
    "prepare",
    "run",
    "scenario_names",
]
