"""Which parameters decide when bone metastasis appears? Local and global sensitivity.

* ``local_sensitivity``: the normalised sensitivity ``S = (dM/M) / (dp/p)`` of
  the metastasis day M to every parameter p with a non-zero value, by central
  differences of +-1 % (``LOCAL_STEP``) around the scenario's values. S = -2
  means a 1 % rise in p brings metastasis 2 % earlier. All the perturbed runs
  are solved together as one vectorized batch (``sim.batch``) at tight
  tolerances (1e-8), so the differences are not solver noise: measured on
  irf7-restored, the indices move by less than 1e-5 when the tolerances are
  tightened further, and by less than 1 % of their size when the step shrinks
  to 0.1 % (the step's own error). A parameter at its maximum (Irf7 activity
  1, Ifnar1 1) can only go down: it gets a one-sided (backward) difference.
* ``sobol_analysis``: first-order and total Sobol indices
  (``scipy.stats.sobol_indices``, Saltelli 2010 estimators) of the metastasis
  day over the ranges declared next to the parameters in the parameter file
  (``range = [low, high]``, see ``sim.parameters``). Each range is sampled
  log-uniformly when high/low > 10 (a factor-100 range is as uncertain in each
  decade) and uniformly otherwise. The first-order index is the share of the
  variance of M that a parameter explains alone; the total index adds its
  interactions with the others; parameters are ranked by the total index.
  Confidence intervals come from a seeded percentile bootstrap over the base
  samples (no extra model runs), so the same seed gives the same numbers.

Censoring: a run with no metastasis within the follow-up counts as metastasis
on the last day of follow-up (a censored value). Indices are then those of
``min(M, follow-up)``; the results say how many runs were censored.

The model runs are spread over processes as batches of at most ``MAX_CHUNK`` samples, each
one vectorized ``sim.batch.solve_batch`` call, by ``sim.parallel.run_all``;
chunks depend only on the number of samples, so any number of workers gives
the same numbers. For analyses too large for one machine, pass any
``concurrent.futures.Executor``, for example a Dask distributed client's
(Dask is not a dependency of tumorsim; install it where you need it)::

    from dask.distributed import Client
    from sim.scenarios import load_scenario
    from sim.sensitivity import sobol_analysis

    client = Client("tcp://scheduler:8786")   # every worker needs tumorsim installed
    result = sobol_analysis(load_scenario("irf7-restored"), n=2**14, seed=1, executor=client.get_executor())
    print(result.table())

Examples
--------
>>> from sim.sensitivity import local_sensitivity
>>> local = local_sensitivity("irf7-restored", changes={"cd8_kill_max": 0.3}, workers=1)
>>> local.censored
False
>>> local.index("bone_growth_rate") < 0 < local.index("cd8_kill_max")
True
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .analysis import format_table
from .api import prepare
from .batch import solve_batch
from .checks import check_tolerances
from .errors import InputError
from .parallel import Progress, process_pool, run_all
from .scenarios import Scenario
from .version import __version__

LOCAL_STEP = 0.01
"""Relative step of the local analysis: each parameter is changed by +-1 %."""
LOCAL_TOLERANCE = 1e-8
"""Solver rtol and atol of the local analysis: keeps solver noise far below the differences."""
SOBOL_TOLERANCE = 1e-4
"""Solver rtol and atol of the Sobol runs. Measured on 1024 samples of irf7-restored's ranges
against 1e-8 (nine-state model): largest error 0.011 day (the days spread over weeks), and no
run changes between censored and not."""
DEFAULT_N = 512
MAX_BASE_SAMPLES = 2**16
"""Most Sobol base samples: n * (d + 2) runs, about 1.6 million (an hour on 2 cores) at the limit."""
"""Base samples of the Sobol analysis (a power of 2); it runs n * (d + 2) models for d parameters."""
MAX_CHUNK = 1024
"""Most samples per vectorized batch. Larger batches amortise the solver's per-step
overhead; measured on one core at SOBOL_TOLERANCE: 1.6 ms per run in batches of 256,
1.2 ms at 512, 0.8 ms at 1024 and 2048, 1.0 ms at 4096. Each call is split into an even
number of equal batches so two cores share the work evenly."""
LOG_RATIO = 10.0
"""Ranges with high/low above this are sampled log-uniformly."""
CONFIDENCE = 0.95
RESAMPLES = 1000

# ``rng=`` replaced ``random_state=`` in SciPy 1.15; both take a Generator.
CHANGES = {"parameters": "changes (--set)", "initial": "initial", "days": "days"}
"""How errors name the ``changes`` argument (the command line's --set)."""
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.sobol_indices).parameters else "random_state"


def _scenario(scenario: str | Path | Scenario, changes: dict[str, Any] | None) -> Scenario:
    """The scenario with ``changes`` applied, in the mean-field view (a sensitivity is a derivative of the expected
    course: chance would add one mouse's luck to it); it must have a metastasis day (a detection threshold)."""
    prepared = prepare(scenario, parameters=changes, names=CHANGES).mean_field()
    if prepared.model.detection_state is None:
        raise InputError(f"{prepared.name}: model '{prepared.model.name}' has no metastasis day (no detection "
                         "threshold) to analyse; use a scenario of the irf7 model")
    return prepared


def _censored_days(scenario: Scenario, varied: dict[str, np.ndarray], rtol: float, atol: float) -> np.ndarray:
    """Metastasis day of each column of ``varied`` [day]; where there is none, the day the mouse left the
    study (censored): its humane-endpoint day if it was culled, else the end of follow-up."""
    outcome = solve_batch(scenario, varied, rtol=rtol, atol=atol)
    left = np.where(np.isnan(outcome.endpoint_day), scenario.days, outcome.endpoint_day)
    return np.where(np.isnan(outcome.metastasis_day), left, outcome.metastasis_day)


def _read_by_schedule(scenario: Scenario, name: str) -> bool:
    """True when the schedule depends on the parameter (e.g. the dose volume turns IU into IU/mL)."""
    param = scenario.parameters[name]
    other = param.value * 0.5 if param.value else 1.0
    return scenario.with_changes(parameters={name: other}, where="sensitivity").schedule != scenario.schedule


@contextlib.contextmanager
def _pool(workers: int | None, executor: Executor | None) -> Iterator[Executor | None]:
    """The caller's executor, a process pool shared by all the analysis's batches, or None (this process)."""
    count = workers or os.cpu_count() or 1
    if executor is not None or count <= 1:
        yield executor
        return
    with process_pool(count) as pool:
        yield pool


def _short(value: float) -> str:
    """3 significant digits, exponents without padding: 1e6, 2.5e-06 -> 2.5e-6."""
    return f"{value:.3g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def _unit(unit: str) -> str:
    return "" if unit == "1" else f" {unit}"


def short_meaning(meaning: str, width: int = 55) -> str:
    """A parameter's meaning for a table row or a chart label: no asides, at most ``width`` characters.

    >>> short_meaning("growth rate of tumour cells in bone when unopposed (doubling ~1.4 days)")
    'growth rate of tumour cells in bone when unopposed'
    """
    text = re.sub(r"\s*\([^()]*\)(?=$|[\s,;])", "", meaning).split(";")[0].strip()  # asides, not formulas
    if len(text) > width:
        text = text.split(", ")[0]
    return text if len(text) <= width else text[: width - 3].rsplit(" ", 1)[0] + "..."


# --- local ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalEntry:
    """Normalised sensitivity of the metastasis day to one parameter.

    ``index`` is S = (dM/M)/(dp/p) [dimensionless]; ``day_low`` and ``day_high``
    are the metastasis days at the lower and upper values [day] (censored at the
    follow-up); ``difference`` is "central" or "backward"; ``censored`` is True
    when any of the runs behind the index had no metastasis within follow-up.
    """

    name: str
    meaning: str
    unit: str
    value: float
    index: float
    day_low: float
    day_high: float
    difference: str
    censored: bool


@dataclass(frozen=True)
class LocalSensitivity:
    """Local sensitivities of one scenario, strongest first (by |S|).

    ``metastasis_day`` is the unperturbed day [day], the follow-up if censored.
    """

    scenario: str
    description: str
    follow_up: float
    metastasis_day: float
    censored: bool
    step: float
    entries: tuple[LocalEntry, ...]

    def index(self, name: str) -> float:
        """S of one parameter."""
        return next(e.index for e in self.entries if e.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "analysis": "local",
            "scenario": self.scenario,
            "output": "metastasis day, censored at the follow-up",
            "follow_up": self.follow_up,
            "metastasis_day": self.metastasis_day,
            "censored": self.censored,
            "step": self.step,
            "parameters": [{"rank": rank, **vars(e)} for rank, e in enumerate(self.entries, start=1)],
        }

    def table(self, top: int | None = None) -> str:
        rows = [[rank, e.name, short_meaning(e.meaning), e.index, e.day_low, e.day_high,
                 "" if e.difference == "central" else "one-sided (at its maximum)"]
                for rank, e in enumerate(self.entries[:top], start=1)]
        return format_table(("rank", "parameter", "meaning", "S", "day at -1%", "day at +1%", "note"), rows)

    def _effect(self, entry: LocalEntry) -> str:
        days = abs(entry.index) * self.step * self.metastasis_day
        return f"{'delays' if entry.index > 0 else 'brings forward'} metastasis by {abs(entry.index):.1f} % ({days:.1f} days)"

    def sentences(self) -> list[str]:
        """What the ranking says, in plain words."""
        first, second = self.entries[0], self.entries[1]
        lines = [f"{self.scenario}: bone metastasis on day {self.metastasis_day:.1f}"
                 + (f" (none within {self.follow_up:g} days: censored at the follow-up)." if self.censored else ".")]
        lines.append(
            f"S is the % change in the metastasis day per 1 % rise in a parameter. The day is most sensitive to "
            f"{first.name}, the {short_meaning(first.meaning)}: 1 % more {self._effect(first)}; then to "
            f"{second.name}, the {short_meaning(second.meaning)}: 1 % more {self._effect(second)}.")
        helps = [e.name for e in self.entries[:10] if e.index > 0][:3]
        harms = [e.name for e in self.entries[:10] if e.index < 0][:3]
        effects = ([f"raising {', '.join(helps)} delays metastasis (positive S, blue)"] if helps else []) + (
            [f"raising {', '.join(harms)} hastens it (negative S, orange)"] if harms else [])
        if effects:
            lines.append(f"Among the top ten, {' and '.join(effects)}.")
        if self.censored or any(e.censored for e in self.entries):
            lines.append("Some runs had no metastasis within follow-up; their day is counted as the last day of "
                         "follow-up (censored), so those indices understate the true sensitivity.")
        return lines


def local_sensitivity(
    scenario: str | Path | Scenario,
    *,
    changes: dict[str, Any] | None = None,
    step: float = LOCAL_STEP,
    workers: int | None = None,
    executor: Executor | None = None,
    rtol: float = LOCAL_TOLERANCE,
    atol: float = LOCAL_TOLERANCE,
) -> LocalSensitivity:
    """Normalised sensitivity S = (dM/M)/(dp/p) of the metastasis day to every non-zero parameter.

    Parameters
    ----------
    scenario : str, Path or Scenario
        The scenario (default values and schedule) to perturb around.
    changes : mapping, optional
        Parameter values to change first, in each parameter's unit.
    step : float
        Relative change of each parameter (0.01: +-1 %).
    workers : int, optional
        Processes (default: one per core; the batches are few, so 1 is as fast).
    executor : concurrent.futures.Executor, optional
        Run the batches on this executor instead.
    rtol, atol : float
        Solver tolerances.

    Returns
    -------
    LocalSensitivity
        One entry per parameter, sorted by |S|, largest first.
    """
    if isinstance(step, (bool, str)) or not isinstance(step, (int, float)) or not (math.isfinite(step) and 0 < step < 1):
        raise InputError(f"the step must be a number between 0 and 1, not {step!r:.40}")
    rtol, atol = check_tolerances(rtol, atol, ("rtol", "atol"))
    base = _scenario(scenario, changes)
    names = [name for name, p in base.parameters.items() if p.value != 0]
    bounds = {}
    for name in names:
        param = base.parameters[name]
        high = param.value * (1 + step)
        bounds[name] = (param.value * (1 - step), param.value if param.maximum is not None and high > param.maximum else high)
    separate = [name for name in names if _read_by_schedule(base, name)]  # need their own scenario each
    in_batch = [name for name in names if name not in separate]
    # one batch: column 0 the scenario itself, then each parameter's low and high value in turn
    varied = {name: np.full(1 + 2 * len(in_batch), base.parameters[name].value) for name in in_batch}
    for k, name in enumerate(in_batch):
        varied[name][1 + 2 * k: 3 + 2 * k] = bounds[name]
    jobs = [(base, varied, rtol, atol)]
    jobs += [(base.with_changes(parameters={name: value}, where="sensitivity"), {name: np.array([value])}, rtol, atol)
             for name in separate for value in bounds[name]]
    with _pool(workers if len(jobs) > 1 else 1, executor) as pool:
        days = run_all(_censored_days, jobs, workers=1, executor=pool)
    day0 = float(days[0][0])
    if day0 >= base.days:
        raise InputError(f"{base.name}: no bone metastasis within the {base.days:g} days of follow-up, so there is no "
                         "metastasis day to be sensitive; choose a scenario or changes under which bone metastasis "
                         "occurs (e.g. irf7-silenced), or the global (Sobol) analysis over the ranges")
    pairs = {name: days[0][1 + 2 * k: 3 + 2 * k] for k, name in enumerate(in_batch)}
    pairs.update({name: np.concatenate(days[1 + 2 * k: 3 + 2 * k]) for k, name in enumerate(separate)})
    entries = []
    for name in names:
        param = base.parameters[name]
        (low, high), (day_low, day_high) = bounds[name], pairs[name]
        index = (day_high - day_low) / day0 / ((high - low) / param.value)
        censored = day0 >= base.days or max(day_low, day_high) >= base.days
        entries.append(LocalEntry(name, param.meaning, param.unit, param.value, float(index), float(day_low),
                                  float(day_high), "central" if high > param.value else "backward", bool(censored)))
    entries.sort(key=lambda e: (-abs(e.index), e.name))
    return LocalSensitivity(base.name, base.description, base.days, day0, day0 >= base.days, step, tuple(entries))


# --- global -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SobolEstimate:
    """First-order and total Sobol indices of one output with percentile bootstrap intervals.

    ``first``, ``total``: shape (d,); ``first_ci``, ``total_ci``: shape (2, d) (low, high rows).
    """

    first: np.ndarray
    total: np.ndarray
    first_ci: np.ndarray
    total_ci: np.ndarray
    variance: float


def _saltelli(f_A: np.ndarray, f_B: np.ndarray, f_AB: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Saltelli et al. (2010) estimators, as in ``scipy.stats.sobol_indices`` (Table 2 b and f)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.var([f_A, f_B], axis=(0, -1))
        first = np.mean(f_B * (f_AB - f_A), axis=-1) / var
        total = 0.5 * np.mean((f_A - f_AB) ** 2, axis=-1) / var
    return np.nan_to_num(first.T), np.nan_to_num(total.T)  # zero variance: zero indices, as in scipy


def sobol(
    func: Callable[[np.ndarray], np.ndarray],
    dists: Sequence[Any],
    n: int,
    seed: int,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
) -> SobolEstimate:
    """Sobol indices of a scalar ``func`` by ``scipy.stats.sobol_indices``, with a seeded bootstrap.

    Parameters
    ----------
    func : callable
        Takes an array of shape (d, m) (one column per sample) and returns shape (m,).
    dists : sequence of scipy.stats distributions
        One per input, each with a ``ppf``.
    n : int
        Base samples, a power of 2; ``func`` sees n * (d + 2) samples in all.
    seed : int
        Seed of the Sobol sequence's scrambling and of the bootstrap.
    confidence, resamples : float, int
        Level and resamples of the percentile bootstrap intervals.
    """
    captured = {}

    def method(f_A, f_B, f_AB):  # scipy passes the centred outputs here; keep them for the bootstrap
        captured.update(f_A=f_A, f_B=f_B, f_AB=f_AB)
        return _saltelli(f_A, f_B, f_AB)

    seeds = np.random.SeedSequence(seed).spawn(2)
    result = stats.sobol_indices(func=func, n=n, dists=list(dists), method=method,
                                 **{_RNG_KEYWORD: np.random.default_rng(seeds[0])})
    first, total = np.atleast_1d(result.first_order), np.atleast_1d(result.total_order)
    f_A, f_B, f_AB = captured["f_A"], captured["f_B"], captured["f_AB"]
    rng = np.random.default_rng(seeds[1])
    draws = np.empty((resamples, 2, len(first)))
    for r in range(resamples):
        pick = rng.integers(0, n, n)
        draws[r] = [np.ravel(v) for v in _saltelli(f_A[:, pick], f_B[:, pick], f_AB[..., pick])]
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
    return SobolEstimate(first, total, np.array([low[0], high[0]]), np.array([low[1], high[1]]),
                         float(np.var([f_A, f_B])))


def sampling(low: float, high: float) -> str:
    """'log-uniform' when the range spans more than a factor LOG_RATIO (and low > 0), else 'uniform'."""
    return "log-uniform" if low > 0 and high / low > LOG_RATIO else "uniform"


def range_distribution(low: float, high: float):
    """The scipy distribution a declared range is sampled from (see ``sampling``)."""
    return stats.loguniform(low, high) if sampling(low, high) == "log-uniform" else stats.uniform(low, high - low)


@dataclass(frozen=True)
class SobolEntry:
    """Sobol indices of one parameter: share of the variance of the metastasis day [0-1]."""

    name: str
    meaning: str
    unit: str
    value: float
    low: float
    high: float
    sampling: str
    range_source: str
    first_order: float
    first_order_ci: tuple[float, float]
    total_order: float
    total_order_ci: tuple[float, float]


@dataclass(frozen=True)
class SobolAnalysis:
    """Global sensitivity of the metastasis day of one scenario; entries ranked by total index.

    ``censored_fraction`` is the share of runs without metastasis within the
    follow-up, counted at the follow-up; ``mean_day`` and ``sd_day`` describe
    the (censored) metastasis day over all runs [day]. ``samples`` holds every
    run's parameter values and ``metastasis_day`` its (censored) day, for
    looking at how parameters act together.
    """

    scenario: str
    description: str
    follow_up: float
    n: int
    seed: int
    evaluations: int
    censored_fraction: float
    mean_day: float
    sd_day: float
    confidence: float
    entries: tuple[SobolEntry, ...]
    samples: dict[str, np.ndarray] = field(repr=False, compare=False, default_factory=dict)
    metastasis_day: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.empty(0))

    def entry(self, name: str) -> SobolEntry:
        return next(e for e in self.entries if e.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "analysis": "global",
            "scenario": self.scenario,
            "output": "metastasis day, censored at the follow-up",
            "follow_up": self.follow_up,
            "n": self.n,
            "seed": self.seed,
            "evaluations": self.evaluations,
            "censored_fraction": self.censored_fraction,
            "mean_day": self.mean_day,
            "sd_day": self.sd_day,
            "confidence": self.confidence,
            "ranked_by": "total_order",
            "parameters": [{"rank": rank, **{k: list(v) if isinstance(v, tuple) else v for k, v in vars(e).items()}}
                           for rank, e in enumerate(self.entries, start=1)],
        }

    def table(self) -> str:
        def interval(value: float, ci: tuple[float, float]) -> str:
            return f"{value:5.2f} [{ci[0]:5.2f}, {ci[1]:5.2f}]"

        rows = [[rank, e.name, short_meaning(e.meaning), interval(e.total_order, e.total_order_ci),
                 interval(e.first_order, e.first_order_ci), f"{_short(e.low)} to {_short(e.high)}{_unit(e.unit)}",
                 e.sampling]
                for rank, e in enumerate(self.entries, start=1)]
        level = f"{self.confidence:.0%}"
        return format_table(("rank", "parameter", "meaning", f"total [{level} CI]", f"first-order [{level} CI]",
                             "range", "sampled"), rows)

    def sentences(self) -> list[str]:
        """What the ranking says, in plain words."""
        top = self.entries[0]
        lines = [f"{self.scenario}: {self.evaluations} runs ({self.n} base samples, seed {self.seed}); the metastasis "
                 f"day averaged {self.mean_day:.1f} days (SD {self.sd_day:.1f}); {self.censored_fraction:.0%} of runs had "
                 f"no metastasis within {self.follow_up:g} days and count as day {self.follow_up:g} (censored)."]
        lines.append(f"{top.name}, the {short_meaning(top.meaning)}, matters most: alone it explains about "
                     f"{max(top.first_order, 0):.0%} of the spread (variance) of the metastasis day, and "
                     f"{top.total_order:.0%} together with its interactions with other parameters.")
        if len(self.entries) > 1:
            second = self.entries[1]
            lines.append(f"Next comes {second.name}, the {short_meaning(second.meaning)}: "
                         f"{max(second.first_order, 0):.0%} alone, {second.total_order:.0%} with interactions.")
        together = sum(e.total_order for e in self.entries)
        if together > 1.1:
            lines.append(f"The total indices add up to {together:.1f}, not 1: much of the spread comes from parameters "
                         "acting together (each interaction counts in the total of every parameter involved).")
        minor = [e.name for e in self.entries if e.total_order_ci[1] < 0.02]
        if minor:
            verb = "hardly matters" if len(minor) == 1 else "hardly matter"
            lines.append(f"Within {'its range' if len(minor) == 1 else 'their ranges'} {', '.join(minor)} {verb} (total "
                         "index below 0.02 even at the top of its interval): measuring it better would not sharpen "
                         "the prediction.")
        return lines


def _chunk_count(samples: int) -> int:
    """An even number of batches of at most MAX_CHUNK samples; depends on ``samples`` only."""
    return 2 * math.ceil(samples / (2 * MAX_CHUNK))


def ranged_parameters(scenario: Scenario) -> list[str]:
    """Parameters of ``scenario`` with a declared range, in file order."""
    return [name for name, p in scenario.parameters.items() if p.range is not None]


def check_base_samples(n: Any, flag: str = "--n") -> int:
    """``n`` as a power of 2 >= 8 (Sobol points are balanced only then), else InputError."""
    text = str(n).strip()
    value = int(text) if not isinstance(n, bool) and text.isascii() and text.isdigit() else 0
    if value < 8 or value & (value - 1) or value > MAX_BASE_SAMPLES:
        raise InputError(f"{flag} must be a power of 2 from 8 to {MAX_BASE_SAMPLES:,} (e.g. 256, 512, 1024), not {n!r:.40}")
    return value


def sobol_analysis(
    scenario: str | Path | Scenario,
    *,
    changes: dict[str, Any] | None = None,
    n: int = DEFAULT_N,
    seed: int = 0,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    rtol: float = SOBOL_TOLERANCE,
    atol: float = SOBOL_TOLERANCE,
) -> SobolAnalysis:
    """First-order and total Sobol indices of the metastasis day over the declared parameter ranges.

    Parameters
    ----------
    scenario : str, Path or Scenario
        The scenario; parameters with a ``range`` in its parameter file vary, the others keep their values.
    changes : mapping, optional
        Parameter values to change first (a changed parameter's range moves with it).
    n : int
        Base samples, a power of 2; runs n * (d + 2) models for d ranged parameters.
    seed : int
        Seed of the sample and of the bootstrap: the same seed gives the same indices.
    workers : int, optional
        Processes (default: one per core).
    executor : concurrent.futures.Executor, optional
        Run the batches on this executor instead (e.g. ``dask_client.get_executor()``).
    progress : bool
        Report finished batches on stderr.
    confidence, resamples : float, int
        Bootstrap confidence level and number of resamples.
    rtol, atol : float
        Solver tolerances of the batches.
    """
    n = check_base_samples(n, "n (--n)")
    rtol, atol = check_tolerances(rtol, atol, ("rtol", "atol"))
    base = _scenario(scenario, changes)
    names = ranged_parameters(base)
    if not names:
        raise InputError(f"{base.name}: no parameter has a range; add 'range = [low, high]' to some parameters of "
                         "its parameter file")
    for name in names:
        if _read_by_schedule(base, name):
            raise InputError(f"{base.name}: the range of '{name}' cannot be sampled: the schedule depends on it "
                             "(remove its range or the scenario's doses)")
    params = [base.parameters[name] for name in names]
    total = 2 * _chunk_count(n) + _chunk_count(len(names) * n)
    label = f"Sobol analysis of {base.name} ({n * (len(names) + 2)} runs), batches"
    meter = Progress(label, total, stream=sys.stderr) if progress else None  # the stream in use now
    inputs, outputs = [], []

    with _pool(workers, executor) as pool:
        def func(x: np.ndarray) -> np.ndarray:
            jobs = [(base, dict(zip(names, chunk)), rtol, atol)
                    for chunk in np.array_split(x, _chunk_count(x.shape[1]), axis=1)]
            days = np.concatenate(run_all(_censored_days, jobs, workers=1, executor=pool, progress=meter))
            inputs.append(x.copy())
            outputs.append(days)
            return days.copy()  # scipy centres its copy in place

        estimate = sobol(func, [range_distribution(*p.range) for p in params], n, seed, confidence=confidence,
                         resamples=resamples)
    days = np.concatenate(outputs)
    entries = [SobolEntry(p.name, p.meaning, p.unit, p.value, p.range[0], p.range[1], sampling(*p.range), p.range_source,
                          float(estimate.first[i]), (float(estimate.first_ci[0, i]), float(estimate.first_ci[1, i])),
                          float(estimate.total[i]), (float(estimate.total_ci[0, i]), float(estimate.total_ci[1, i])))
               for i, p in enumerate(params)]
    entries.sort(key=lambda e: (-e.total_order, e.name))
    samples = dict(zip(names, np.concatenate(inputs, axis=1)))
    return SobolAnalysis(base.name, base.description, base.days, n, seed, len(days),
                         float(np.mean(days >= base.days)), float(np.mean(days)), float(np.std(days)), confidence,
                         tuple(entries), samples, days)
