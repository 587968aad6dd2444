"""Virtual cohorts: many mice of one scenario, differing in named parameters.

Each varied parameter gets its own random stream, derived from the cohort's
seed and the parameter's name, so the same seed gives the same mice and
declaring a new spread does not change the draws of the others. The mice are
solved by one of two engines: the compiled per-mouse kernel (``sim.kernel``,
with the ``fast`` extra: each mouse its own steps, on threads) or the NumPy
batch (``sim.batch``: chunks of mice as one vectorized LSODA system, on
processes). Both give the same days to within 0.01 day. Chunks can run on any
``concurrent.futures`` executor.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import chance, kernel
from .batch import BATCH_ATOL, BATCH_RTOL, solve_batch
from .checks import check_seed, check_size, check_tolerances
from .errors import InputError
from .fileio import Output, table_outputs, write_all
from .parallel import check_workers, run_all
from .result import FATES
from .scenarios import Scenario
from .survival import SurvivalCurve, kaplan_meier, logrank_p
from .version import __version__

MAX_CHUNK = 5000
"""Most mice solved together in one system: enough to amortise the solver's
per-step overhead, few enough to keep memory to a few tens of MB."""
MIN_CHUNK = 1000
MAX_MICE = 2_000_000
"""Most mice one cohort may have: about 10 minutes per arm on 2 cores and a few hundred MB. For
more, run several cohorts with different seeds (each arm's mice are independent draws)."""


def check_mice(n: Any, flag: str = "--n") -> int:
    """``n`` as a cohort size from 1 to MAX_MICE, else InputError naming ``flag``."""
    return check_size(n, flag, MAX_MICE, ", the most mice one cohort may have (about 10 minutes on 2 cores); run "
                                         "several cohorts with different seeds instead")


def default_chunk(n: int) -> int:
    """Mice per system: halves of small cohorts (so both cores work), at most MAX_CHUNK.

    Depends on n only, so the same cohort gives the same numbers on any machine.
    """
    return min(MAX_CHUNK, max(MIN_CHUNK, math.ceil(n / 2)))


def parameter_stream(seed: int, group: str, name: str) -> np.random.Generator:
    """The random stream of one parameter in one group of mice: fixed by the seed and both names.

    Each arm (``group``, the scenario's name) gets its own mice, as in an
    experiment, so arms are independent samples for the log-rank test.
    """
    key = (zlib.crc32(group.encode()), zlib.crc32(name.encode()))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def sample_parameters(scenario: Scenario, n: int, seed: int) -> dict[str, np.ndarray]:
    """Per-mouse values of the scenario's varied parameters (log-normal around its values).

    Returns
    -------
    dict of str to ndarray, shape (n,)
        Values in each parameter's unit, capped at the parameter's maximum.
    """
    sampled = {}
    for name, spread in sorted(scenario.variability.items()):
        param = scenario.parameters[name]
        values = param.value * np.exp(spread.sigma * parameter_stream(seed, scenario.name, name).standard_normal(n))
        sampled[name] = values if param.maximum is None else np.minimum(values, param.maximum)
    return sampled


@dataclass(frozen=True)
class Cohort:
    """Metastasis days of a virtual cohort, with the draws that produced them.

    Attributes
    ----------
    scenario : Scenario
        The arm every mouse belongs to.
    seed : int
        Seed of the draws.
    sampled : dict of str to ndarray
        Each mouse's value of each varied parameter.
    metastasis_day : ndarray
        Each mouse's metastasis day [day]; NaN if none was detected (the mouse
        was culled first, or stayed metastasis-free to the end of follow-up).
    endpoint_day : ndarray
        Day each mouse's primary tumour reached the humane endpoint and it was
        culled [day]; NaN if never (surgery removed it in time).
    """

    scenario: Scenario
    seed: int
    sampled: dict[str, np.ndarray]
    metastasis_day: np.ndarray
    endpoint_day: np.ndarray
    version: str = field(default=__version__)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def n(self) -> int:
        return len(self.metastasis_day)

    @property
    def days(self) -> float:
        return self.scenario.days

    @property
    def censored(self) -> np.ndarray:
        """True for mice without a detected metastasis (culled first, or free at the end)."""
        return np.isnan(self.metastasis_day)

    @property
    def culled(self) -> np.ndarray:
        """True for mice culled at the humane endpoint before any metastasis was detected."""
        return self.censored & ~np.isnan(self.endpoint_day)

    @property
    def fates(self) -> np.ndarray:
        """Each mouse's fate: "metastasis", "culled" or "free" (see ``sim.result.FATES``)."""
        return np.where(~self.censored, FATES[0], np.where(self.culled, FATES[1], FATES[2]))

    @property
    def censor_day(self) -> np.ndarray:
        """Where each mouse without metastasis leaves the study [day]: its endpoint day if culled, else follow-up."""
        return np.where(self.culled, self.endpoint_day, self.days)

    def survival(self, confidence: float = 0.95) -> SurvivalCurve:
        """Kaplan-Meier curve of metastasis-free survival; culled mice are censored on their endpoint day."""
        return kaplan_meier(self.metastasis_day, self.censor_day, confidence)

    def logrank_p(self, other: Cohort) -> float | None:
        """Two-sided log-rank p-value of this cohort's metastasis-free survival against ``other``'s."""
        return logrank_p(self.metastasis_day, other.metastasis_day, self.days, self.censor_day, other.censor_day)

    def summary(self, at_days: tuple[float, ...] = (30.0, 60.0, 90.0)) -> dict[str, Any]:
        """Headline numbers: median with its 95 % interval and fractions metastasis-free (at the end of follow-up
        and on each of ``at_days`` [day], with their 95 % bands; Kaplan-Meier estimates, rounded to 12 decimals to
        drop float noise), and whether chance was on."""
        curve = self.survival()
        low, high = curve.median_interval
        return {
            "name": self.name,
            "n": self.n,
            "seed": self.seed,
            "days": self.days,
            "median_days": curve.median,
            "median_ci": [low, high],
            "metastasis_free_fraction": round(float(curve.at(self.days)), 12) if curve.known_at(self.days) else None,
            "fates": {fate: int((self.fates == fate).sum()) for fate in FATES},
            "metastasis_free_at": {f"{d:g}": round(float(curve.at(d)), 12) if d <= self.days and curve.known_at(d) else None
                                   for d in at_days},
            "metastasis_free_ci_at": {f"{d:g}": [round(v, 12) for v in curve.interval_at(d)]
                                      if d <= self.days and curve.known_at(d) else None for d in at_days},
            "variability": {k: v.sigma for k, v in self.scenario.variability.items()},
            "chance": self.scenario.chance,
            "version": self.version,
        }

    def columns(self) -> dict[str, np.ndarray]:
        """The per-mouse table: mouse index, each sampled parameter (in its unit), fate, metastasis and endpoint
        days [day] (NaN: never) and censored (1 for culled and free mice)."""
        return {"mouse": np.arange(self.n), **self.sampled, "fate": self.fates, "metastasis_day": self.metastasis_day,
                "endpoint_day": self.endpoint_day, "censored": np.isnan(self.metastasis_day).astype(int)}

    def to_dataframe(self):
        """The per-mouse table (``columns``) as a pandas DataFrame; ``attrs`` hold the seed, units and version."""
        from .frames import dataframe

        units = {name: self.scenario.parameters[name].unit for name in self.sampled}
        return dataframe(self.columns(), {"scenario": self.name, "seed": self.seed, "version": self.version,
                                          "units": {**units, "metastasis_day": "day", "endpoint_day": "day"}})

    def to_csv(self, path: str | Path, overwrite: bool = False) -> None:
        """One row per mouse; see ``cohorts_to_csv``."""
        cohorts_to_csv([self], path, overwrite)


def cohorts_to_csv(cohorts: list[Cohort], path: str | Path, overwrite: bool = False) -> None:
    """Write ``cohort_csv_outputs`` (the CSV and its ``.meta.json``), both or neither."""
    write_all(cohort_csv_outputs(cohorts, path, "path"), overwrite)


def cohort_csv_outputs(cohorts: list[Cohort], path: str | Path, flag: str) -> list[Output]:
    """One row per virtual mouse: scenario, index, sampled parameters, fate, metastasis and endpoint days, censored flag.

    ``fate`` is metastasis, culled (humane endpoint before any metastasis was
    detected) or free (at the end of follow-up). The metastasis day is empty
    unless the fate is metastasis, the endpoint day unless the primary reached
    the endpoint; censored = 1 for culled and free mice. Each cohort's summary, seed, parameters and the
    version go in ``<path>.meta.json``. Both files are written whole or not at all.
    """
    names = sorted({k for c in cohorts for k in c.sampled})

    def rows() -> Iterator[list]:
        for cohort in cohorts:
            table = cohort.columns()
            values = [table.get(k, np.full(cohort.n, cohort.scenario.parameters[k].value)) for k in names]
            for i in range(cohort.n):
                yield [cohort.name, i, *(repr(float(v[i])) for v in values), table["fate"][i],
                       _day_cell(table["metastasis_day"][i]), _day_cell(table["endpoint_day"][i]), int(table["censored"][i])]

    meta = [{**c.summary(), "parameters": c.scenario.parameters.values_dict(), "scenario_file": str(c.scenario.source)}
            for c in cohorts]
    header = ["scenario", "mouse", *names, "fate", "metastasis_day", "endpoint_day", "censored"]
    return table_outputs(path, header, rows(), {"version": __version__, "cohorts": meta}, flag)


def _day_cell(day: float) -> str:
    return "" if np.isnan(day) else repr(float(day))


ENGINES = ("auto", "compiled", "numpy")
"""How a cohort is integrated: "compiled" (``sim.kernel``, needs the fast extra), "numpy" (``sim.batch``), or
"auto": compiled when numba and sympy are installed and the model is supported, else numpy."""


def choose_engine(engine: str, scenario: Scenario, option: str = "engine") -> str:
    """The engine that ``engine`` ("auto", "compiled" or "numpy") means for ``scenario`` on this machine.

    Errors spell the choice as ``option`` does: the Python argument ``engine='compiled'``, or the flag
    ``--engine compiled`` when ``option`` is "--engine".
    """
    def spelled(value: str) -> str:
        return f"{option} {value}" if option.startswith("--") else f"{option}={value!r}"

    if engine not in ENGINES:
        raise InputError(f"{option} must be one of {', '.join(ENGINES)}, not {engine!r:.40}")
    if engine == "numpy":
        return engine
    if engine == "compiled":
        if not kernel.available():
            raise InputError(f"{spelled('compiled')} needs numba and sympy: {kernel.INSTALL}")
        if not kernel.supports(scenario.model):
            raise InputError(f"{spelled('compiled')} does not integrate model '{scenario.model.name}'; use "
                             f"{spelled('numpy')}")
        return engine
    return "compiled" if kernel.available() and kernel.supports(scenario.model) else "numpy"


def _solve_chunk(scenario: Scenario, chunk: dict[str, np.ndarray], rtol: float, atol: float,
                 engine: str = "numpy", threads: int = 1, keys: np.ndarray | None = None) -> np.ndarray:
    """Metastasis and endpoint days, shape (2, mice), of one chunk of mice [day]; ``keys``: their chance keys."""
    if engine == "compiled":
        days = kernel.solve(scenario, chunk, rtol=rtol, atol=atol, threads=threads, keys=keys)
        return np.stack(days)
    outcome = solve_batch(scenario, chunk, rtol=rtol, atol=atol, keys=keys)
    return np.stack([outcome.metastasis_day, outcome.endpoint_day])


def simulate_cohort(
    scenario: str | Path | Scenario,
    n: int,
    seed: int,
    *,
    extra: dict[str, np.ndarray] | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    engine: str = "auto",
) -> Cohort:
    """Draw ``n`` mice of ``scenario`` with ``seed`` and solve them.

    Parameters
    ----------
    scenario : Scenario
        The arm; its ``variability`` says which parameters differ between mice.
    n, seed : int
        Cohort size and seed.
    extra : dict of str to ndarray, optional
        Further per-mouse parameter values (length ``n``), e.g. a patient's Irf7 activity.
    chunk_size : int, optional
        Mice per chunk (default: ``default_chunk(n)``): one job of an executor, and for the numpy engine one
        vectorized system. The compiled engine without an executor solves all mice on threads, unchunked
        (each mouse is integrated on its own, so chunking never changes its days).
    workers : int, optional
        Processes (numpy engine) or threads (compiled engine) solving at once (default: one per core).
    executor : concurrent.futures.Executor, optional
        Run chunks on this executor instead (for example a Dask distributed
        client's ``get_executor()``); ``workers`` is then ignored.
    rtol, atol : float, optional
        Tolerances (atol in each state's unit); default: the engine's own
        (``sim.kernel.KERNEL_RTOL``, ``sim.batch.BATCH_RTOL``).
    engine : str
        "auto" (default: compiled if the fast extra is installed, else numpy), "compiled" or "numpy"; see ``ENGINES``.
        The engines agree to within 0.01 day.
    """
    from .api import prepare  # the API imports nothing of cohorts; importing it here keeps it that way

    n, seed = check_mice(n, "n"), check_seed(seed, "seed")
    scenario = prepare(scenario)
    if not isinstance(engine, str):
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r:.40}")
    workers = check_workers(workers, "workers")
    if chunk_size is not None:
        chunk_size = check_size(chunk_size, "chunk_size")
    if scenario.model.detection_state is None:
        raise InputError(f"{scenario.name}: model '{scenario.model.name}' has no metastasis readout, so a cohort has no "
                         "survival to compare; cohorts need a scenario of the irf7 model")
    unknown = sorted(set(extra or {}) - set(scenario.parameters))
    if unknown:
        raise InputError(f"extra: unknown parameter '{unknown[0]}' of model '{scenario.model.name}'")
    for name, values in (extra or {}).items():
        values = np.asarray(values, float)
        if values.shape != (n,) or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise InputError(f"extra: '{name}' must be {n} finite values >= 0, one per mouse")
    sampled = {**sample_parameters(scenario, n, seed), **(extra or {})}
    if not sampled:  # nothing varies: every mouse is the same, but still solved as a batch
        sampled = {"inoculum": np.full(n, scenario.parameters["inoculum"].value)}
    engine = choose_engine(engine, scenario)
    defaults = (kernel.KERNEL_RTOL, kernel.KERNEL_ATOL) if engine == "compiled" else (BATCH_RTOL, BATCH_ATOL)
    rtol, atol = check_tolerances(defaults[0] if rtol is None else rtol, defaults[1] if atol is None else atol,
                                  ("rtol", "atol"))
    # each mouse's chance draws follow from the seed, the arm and its index alone, however the mice are split
    keys = chance.mouse_keys(seed, scenario.name, np.arange(n)) if scenario.chance else None
    if engine == "compiled" and executor is None:  # mice are independent: threads over all of them, no chunks
        days = _solve_chunk(scenario, sampled, rtol, atol, engine, workers or os.cpu_count() or 1, keys)
        return Cohort(scenario=scenario, seed=seed, sampled=sampled, metastasis_day=days[0], endpoint_day=days[1])
    size = chunk_size or default_chunk(n)
    starts = range(0, n, size)
    chunks = [{k: v[s:s + size] for k, v in sampled.items()} for s in starts]
    jobs = [(scenario, c, rtol, atol, engine, 1, None if keys is None else keys[s:s + size]) for s, c in zip(starts, chunks)]
    days = np.concatenate(run_all(_solve_chunk, jobs, workers=workers, executor=executor), axis=1)
    return Cohort(scenario=scenario, seed=seed, sampled=sampled, metastasis_day=days[0], endpoint_day=days[1])
